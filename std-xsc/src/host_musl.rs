//! The C library `xsc-run` itself is linked with: plain musl, from the
//! same Debian source as the fork, with only two of the fork's patches
//! (static binaries get `_dl_find_object`, which gcc 12's unwinder needs;
//! joined threads' stacks are kept for new threads, as xsc-run joins its
//! runner threads) and the patches in `std-xsc/musl/host-patches/`
//! (pthread_create keeps every signal blocked in a thread created by one
//! that blocks them all, as xsc-run's kernel code needs; `musl-gcc
//! -static-pie` links a static-pie, as xsc-run is one; malloc never takes
//! the host's program break, which Linux puts near where xsc-run loads
//! the XSC program; a thread may point the kernel's clear-child-tid
//! address elsewhere before it ends, pthread_exit then releasing the
//! thread list lock itself), installed as
//! an ordinary musl toolchain (`bin/musl-gcc`, `lib/`) under
//! `$XSC_HOME/host/<arch>/musl`, with gcc's `libgcc_eh.a` beside it as
//! the `libunwind.a` Rust's std links on musl targets.
//!
//! Why not glibc: xsc-run starts at every run and every `exec` of an XSC
//! program, and a static glibc binary probes the CPU's caches with CPUID
//! at start-up (`init_cacheinfo`), which on a virtual machine traps to the
//! hypervisor at every instruction: 0.4 ms of a 0.9 ms start here. musl
//! asks the CPU nothing.

use crate::build::{make_musl, patch_files, run, swap_in};
use crate::{musl_source, Arch};
use std::hash::{DefaultHasher, Hash, Hasher};
use std::path::{Path, PathBuf};
use std::process::Command;

/// The fork's patches that plain musl gets too (see the module comment).
const FORK_PATCHES: [&str; 2] = [
    "0007-dl_find_object-for-static-binaries.patch",
    "0018-joined-threads-stacks-cached.patch",
];

/// Where the host musl of `arch` is installed.
pub fn prefix(home: &Path, arch: Arch) -> PathBuf {
    home.join("host").join(arch.name()).join("musl")
}

/// Rust's name of the musl target of `arch`.
pub fn rust_target(arch: Arch) -> String {
    format!("{}-unknown-linux-musl", arch.name())
}

/// The flags that make rustc link xsc-run as a static-pie with this musl
/// rather than with the self-contained objects rustup would ship: the
/// `musl-gcc` wrapper as the linker (see [`linker`]; host patch 0002
/// teaches its specs `-static-pie`). A static-pie has no interpreter, so
/// Linux maps it where it maps an ELF interpreter, at a random address
/// in the mmap area (under qemu's user mode, where qemu chooses): never
/// at 0x400000, where a non-PIE XSC program must sit, nor near
/// `ELF_ET_DYN_BASE`, where xsc-run loads a static-pie one
/// (docs/xsc-run.md section 6). rustc links a static-pie by itself for
/// x86_64's musl target; its aarch64 musl target has no static-pie
/// support (no `static-position-independent-executables` in its spec), so
/// rustc asks for a static link of the position-independent code, and
/// `-static-pie` is added for musl-gcc, which then links a static-pie.
pub fn rustflags(home: &Path, arch: Arch) -> String {
    let lib = prefix(home, arch).join("lib");
    let static_pie = match arch {
        Arch::X86_64 => "",
        Arch::Aarch64 => " -C link-arg=-static-pie",
    };
    format!(
        "-C link-self-contained=no -C target-feature=+crt-static -C relocation-model=pie{static_pie} -L {}",
        lib.display()
    )
}

/// The C compiler and linker for the musl target.
pub fn linker(home: &Path, arch: Arch) -> PathBuf {
    prefix(home, arch).join("bin/musl-gcc")
}

fn stamp_file(dir: &Path) -> PathBuf {
    dir.join(".xsc-stamp")
}

/// The patches applied to plain musl, in order.
fn patches(repo: &Path) -> Result<Vec<PathBuf>, String> {
    let fork = repo.join("std-xsc/musl/patches");
    let mut all: Vec<PathBuf> = FORK_PATCHES.iter().map(|p| fork.join(p)).collect();
    all.extend(patch_files(&repo.join("std-xsc/musl/host-patches"))?);
    Ok(all)
}

fn fingerprint(arch: Arch, repo: &Path) -> Result<String, String> {
    let mut h = DefaultHasher::new();
    musl_source::MUSL_VERSION.hash(&mut h);
    for patch in patches(repo)? {
        std::fs::read(&patch)
            .map_err(|e| format!("cannot read {}: {e}", patch.display()))?
            .hash(&mut h);
    }
    include_str!("host_musl.rs").hash(&mut h);
    arch.name().hash(&mut h);
    Ok(format!("{:016x}", h.finish()))
}

/// Builds (or finds up to date) the host musl of `arch`; returns its
/// prefix and whether it was rebuilt.
pub fn ensure(home: &Path, repo: &Path, arch: Arch) -> Result<(PathBuf, bool), String> {
    let dir = prefix(home, arch);
    let stamp = fingerprint(arch, repo)?;
    if std::fs::read_to_string(stamp_file(&dir)).is_ok_and(|s| s.trim() == stamp)
        && linker(home, arch).is_file()
    {
        return Ok((dir, false));
    }
    let mut log = Vec::new();
    let src = musl_source::ensure(home, &mut log)?;
    let work = home
        .join("build")
        .join(format!("host-musl-{}", arch.name()));
    let _ = std::fs::remove_dir_all(&work);
    std::fs::create_dir_all(home.join("build")).map_err(|e| e.to_string())?;
    run(Command::new("cp").arg("-a").arg(&src).arg(&work))?;
    for patch in patches(repo)? {
        run(Command::new("patch")
            .args(["-p1", "-s", "-i"])
            .arg(&patch)
            .current_dir(&work))
        .map_err(|e| format!("patch {} does not apply: {e}", patch.display()))?;
    }
    // Installed into a staging root and swapped in by rename, as the
    // sysroot is (build::build).
    let stage = home
        .join("build")
        .join(format!("host-musl-{}.stage", arch.name()));
    let _ = std::fs::remove_dir_all(&stage);
    make_musl(&work, arch, &dir, &stage, &[])?;
    let staged = stage.join(dir.strip_prefix("/").unwrap_or(&dir));
    let eh = Command::new(arch.cc())
        .arg("-print-file-name=libgcc_eh.a")
        .output()
        .map_err(|e| format!("cannot run {}: {e}", arch.cc()))?;
    let eh = PathBuf::from(String::from_utf8_lossy(&eh.stdout).trim());
    std::fs::copy(&eh, staged.join("lib/libunwind.a"))
        .map_err(|e| format!("cannot copy {}: {e}", eh.display()))?;
    std::fs::write(stamp_file(&staged), &stamp).map_err(|e| e.to_string())?;
    swap_in(&staged, &dir)?;
    let _ = std::fs::remove_dir_all(&stage);
    let _ = std::fs::remove_dir_all(&work);
    Ok((dir, true))
}

/// What a cargo build of ordinary ("native") programs for the musl target
/// of `arch` needs, with Rust's std built from the toolchain's library
/// source (`-Zbuild-std`, which the caller passes): the variables to set.
/// The differential tests build the aarch64 oracle this way, linked
/// statically with this musl, and run it under qemu. std's source paths
/// are remapped as in the XSC targets' std, so panics name the same files.
pub fn native_cargo_env(home: &Path, arch: Arch) -> Result<Vec<(String, String)>, String> {
    let target = rust_target(arch);
    let var = |what: &str| {
        format!(
            "CARGO_TARGET_{}_{what}",
            target.to_uppercase().replace('-', "_")
        )
    };
    let remap = crate::rust_sysroot::remap_flag(&home.join("toolchain"))?;
    Ok(vec![
        (var("LINKER"), linker(home, arch).display().to_string()),
        (
            var("RUSTFLAGS"),
            format!(
                "-C link-self-contained=no -C target-feature=+crt-static -L {} {remap}",
                prefix(home, arch).join("lib").display(),
            ),
        ),
        (
            format!("CC_{}", target.replace('-', "_")),
            linker(home, arch).display().to_string(),
        ),
        (
            format!("AR_{}", target.replace('-', "_")),
            arch.ar().to_string(),
        ),
    ])
}
