//! The `xsc` toolchain's Rust sysroot (`$XSC_HOME/toolchain`), laid out as
//! a rustup toolchain's:
//!
//! - `lib/rustlib/<host>`: the host's std (Debian's), linked, for build
//!   scripts and proc macros;
//! - `lib/rustlib/src/rust/library`: Rust's library source (Debian's
//!   `rust-web-src`) with our patches (`std-xsc/rust/patches`), for std
//!   and for anyone who still builds std with `-Zbuild-std`;
//! - `lib/rustlib/<xsc target>/lib`: std for each XSC target, prebuilt once
//!   per machine from that source and optimised as rustup's is, so a
//!   project builds for an XSC target without `-Zbuild-std`.
//!
//! The toolchain's `rustc` and `rustdoc` run Debian's with `--sysroot`
//! pointing here. Each part is cached: a stamp records a hash of its
//! inputs.

use crate::build::run;
use crate::{repo_root, Arch};
use std::hash::{DefaultHasher, Hash, Hasher};
use std::path::{Path, PathBuf};
use std::process::Command;

/// Debian's compilers, which the toolchain's wrappers run.
pub const DEBIAN_RUSTC: &str = "/usr/bin/rustc";
pub const DEBIAN_RUSTDOC: &str = "/usr/bin/rustdoc";
pub const DEBIAN_CARGO: &str = "/usr/bin/cargo";
pub const DEBIAN_CARGO_CLIPPY: &str = "/usr/bin/cargo-clippy";
pub const DEBIAN_CLIPPY_DRIVER: &str = "/usr/bin/clippy-driver";
/// Debian's sysroot (`rustc --print sysroot` is `/usr`).
pub const DEBIAN_RUSTLIB: &str = "/usr/lib/rustlib";

/// The crates a rustup target ships for a std target.
const STD_CRATES: &str = "std,panic_abort,panic_unwind,proc_macro,test";
/// The name of the empty crate whose build makes cargo build std.
const CARRIER: &str = "xsc_std_carrier";
/// The stamp file in a directory this module fills.
const STAMP: &str = ".xsc-stamp";

/// `lib/rustlib` of the toolchain at `toolchain`.
pub fn rustlib(toolchain: &Path) -> PathBuf {
    toolchain.join("lib/rustlib")
}

/// The patched library source in the toolchain.
pub fn library_source(toolchain: &Path) -> PathBuf {
    rustlib(toolchain).join("src/rust/library")
}

/// Where the prebuilt std of `arch` lives.
pub fn std_dir(toolchain: &Path, arch: Arch) -> PathBuf {
    rustlib(toolchain).join(arch.xsc_target()).join("lib")
}

/// Is a prebuilt std installed for `arch`?
pub fn has_std(toolchain: &Path, arch: Arch) -> bool {
    std_dir(toolchain, arch).join(STAMP).is_file()
}

/// Where std's source paths are remapped to, as in the host's std (Debian
/// built it from `/usr/src/rustc-<version>`), so panic messages and
/// backtraces name the same files on both.
pub fn remap_flag(toolchain: &Path) -> Result<String, String> {
    Ok(format!(
        "--remap-path-prefix={}={}",
        rustlib(toolchain).join("src/rust").display(),
        debian_source_path()?
    ))
}

fn debian_source_path() -> Result<String, String> {
    let out = Command::new(DEBIAN_RUSTC)
        .arg("--version")
        .output()
        .map_err(|e| format!("cannot run {DEBIAN_RUSTC}: {e}"))?;
    let v = String::from_utf8_lossy(&out.stdout);
    let ver = v
        .split_whitespace()
        .nth(1)
        .ok_or_else(|| format!("{DEBIAN_RUSTC} --version printed {v:?}"))?;
    Ok(format!("/usr/src/rustc-{ver}"))
}

fn patches(repo: &Path) -> Result<Vec<PathBuf>, String> {
    crate::build::patch_files(&repo.join("std-xsc/rust/patches"))
}

fn stamped(dir: &Path, key: &str) -> bool {
    std::fs::read_to_string(dir.join(STAMP)).is_ok_and(|s| s.trim() == key)
}

fn debian_version(tool: &str) -> String {
    Command::new(tool)
        .arg("-vV")
        .output()
        .map(|o| String::from_utf8_lossy(&o.stdout).into_owned())
        .unwrap_or_default()
}

fn source_key(repo: &Path) -> Result<String, String> {
    let mut h = DefaultHasher::new();
    debian_version(DEBIAN_RUSTC).hash(&mut h);
    for p in patches(repo)? {
        std::fs::read(&p).map_err(|e| e.to_string())?.hash(&mut h);
    }
    Ok(format!("{:016x}", h.finish()))
}

/// Copies Debian's library source into the toolchain and applies our
/// patches; returns whether it had to (false: up to date).
pub fn prepare_source(toolchain: &Path) -> Result<bool, String> {
    let repo = repo_root();
    let from = Path::new(crate::toolchain::LIBRARY_SOURCE);
    if !from.join("std").is_dir() {
        return Err(format!(
            "Rust's library source is missing ({}); install it with: sudo apt-get install rust-web-src",
            from.display()
        ));
    }
    let key = source_key(&repo)?;
    let src = rustlib(toolchain).join("src/rust");
    let dest = src.join("library");
    if stamped(&src, &key) && dest.join("std").is_dir() {
        return Ok(false);
    }
    if src.exists() {
        std::fs::remove_dir_all(&src)
            .map_err(|e| format!("cannot remove {}: {e}", src.display()))?;
    }
    std::fs::create_dir_all(&src).map_err(|e| e.to_string())?;
    // A real copy: patch(1) must never write through to Debian's files.
    run(Command::new("cp").arg("-R").arg(from).arg(&dest))?;
    for p in patches(&repo)? {
        run(Command::new("patch")
            .args(["-p1", "--quiet", "--forward", "-d"])
            .arg(&dest)
            .arg("-i")
            .arg(&p))
        .map_err(|e| format!("applying {} to Rust's library failed: {e}", p.display()))?;
    }
    std::fs::write(src.join(STAMP), &key).map_err(|e| e.to_string())?;
    Ok(true)
}

/// What the prebuilt std of `arch` depends on.
fn std_key(toolchain: &Path, arch: Arch, home: &Path) -> Result<String, String> {
    let mut h = DefaultHasher::new();
    source_key(&repo_root())?.hash(&mut h);
    debian_version(DEBIAN_CARGO).hash(&mut h);
    let spec = spec_path(home, arch);
    std::fs::read(&spec)
        .map_err(|e| format!("cannot read {}: {e}", spec.display()))?
        .hash(&mut h);
    std_rustflags(toolchain)?.hash(&mut h);
    STD_CRATES.hash(&mut h);
    // The recipe: this file.
    include_str!("rust_sysroot.rs").hash(&mut h);
    PROFILE.hash(&mut h);
    Ok(format!("{:016x}", h.finish()))
}

fn spec_path(home: &Path, arch: Arch) -> PathBuf {
    home.join("target-specs")
        .join(format!("{}.json", arch.xsc_target()))
}

/// How std is compiled: as rustup's (release, line tables for backtraces,
/// no debug assertions).
const PROFILE: &[(&str, &str)] = &[
    ("CARGO_PROFILE_RELEASE_OPT_LEVEL", "3"),
    ("CARGO_PROFILE_RELEASE_DEBUG", "line-tables-only"),
    ("CARGO_PROFILE_RELEASE_DEBUG_ASSERTIONS", "false"),
    ("CARGO_PROFILE_RELEASE_OVERFLOW_CHECKS", "false"),
    ("CARGO_PROFILE_RELEASE_CODEGEN_UNITS", "1"),
];

/// `-Cembed-bitcode=yes`, as rustup's std has it: a program built with LTO
/// needs the bitcode of every crate it links, std's included (cargo's own
/// `-C embed-bitcode=no` for std comes first on the command line; the later
/// flag wins).
fn std_rustflags(toolchain: &Path) -> Result<String, String> {
    Ok(format!(
        "-Zforce-unstable-if-unmarked -Cembed-bitcode=yes {}",
        remap_flag(toolchain)?
    ))
}

/// What [`build_std`] did.
pub struct BuiltStd {
    pub dir: PathBuf,
    pub rebuilt: bool,
}

/// Builds std for `arch` into the toolchain's sysroot unless it is up to
/// date: cargo's `-Zbuild-std` on an empty crate, in release, then the
/// resulting rlibs copied into `lib/rustlib/<target>/lib`.
pub fn build_std(home: &Path, arch: Arch, force: bool) -> Result<BuiltStd, String> {
    let toolchain = home.join("toolchain");
    prepare_source(&toolchain)?;
    let dir = std_dir(&toolchain, arch);
    let key = std_key(&toolchain, arch, home)?;
    if !force && stamped(&dir, &key) {
        return Ok(BuiltStd {
            dir,
            rebuilt: false,
        });
    }
    let work = home.join("build").join(format!("std-{}", arch.name()));
    std::fs::create_dir_all(work.join("src")).map_err(|e| e.to_string())?;
    std::fs::write(
        work.join("Cargo.toml"),
        format!(
            "[package]\nname = \"{CARRIER}\"\nversion = \"0.0.0\"\nedition = \"2021\"\n\n[lib]\npath = \"src/lib.rs\"\n\n[workspace]\n"
        ),
    )
    .map_err(|e| e.to_string())?;
    std::fs::write(work.join("src/lib.rs"), "#![no_std]\n").map_err(|e| e.to_string())?;
    // As Rust's own build does (bootstrap's rustc shim), panic_abort is
    // compiled with panic=abort and everything else unwinds; a program
    // built with panic=abort then links this std as with rustup's.
    let wrapper = work.join("rustc-wrapper");
    std::fs::write(
        &wrapper,
        "#!/bin/sh\nrustc=\"$1\"; shift\ncase \" $* \" in\n  *\" --crate-name panic_abort \"*) exec \"$rustc\" \"$@\" -C panic=abort ;;\nesac\nexec \"$rustc\" \"$@\"\n",
    )
    .map_err(|e| e.to_string())?;
    crate::toolchain::make_executable(&wrapper)?;
    let target_dir = work.join("target");
    let mut c = Command::new(DEBIAN_CARGO);
    crate::toolchain::clean_env(&mut c);
    c.current_dir(&work)
        .args(["build", "--release", "--quiet"])
        .arg(format!("-Zbuild-std={STD_CRATES}"))
        .arg("-Zjson-target-spec")
        .arg("--target")
        .arg(spec_path(home, arch))
        .env("RUSTC", toolchain.join("bin/rustc"))
        .env("RUSTC_WRAPPER", &wrapper)
        .env("RUSTC_BOOTSTRAP", "1")
        .env("CARGO_TARGET_DIR", &target_dir)
        .env("RUSTFLAGS", std_rustflags(&toolchain)?)
        // The target spec names xsc-ld as the linker; nothing links here,
        // but build scripts of std's dependencies look for a C compiler.
        .env("PATH", path_with(&home.join("bin")));
    for (k, v) in PROFILE {
        c.env(k, v);
    }
    run(&mut c).map_err(|e| format!("building std for {}: {e}", arch.xsc_target()))?;
    let deps = target_dir.join(arch.xsc_target()).join("release/deps");
    let rlibs: Vec<PathBuf> = std::fs::read_dir(&deps)
        .map_err(|e| format!("cannot read {}: {e}", deps.display()))?
        .filter_map(|e| e.ok().map(|e| e.path()))
        .filter(|p| {
            let name = p.file_name().unwrap_or_default().to_string_lossy();
            name.ends_with(".rlib") && !name.starts_with(&format!("lib{CARRIER}"))
        })
        .collect();
    if !rlibs.iter().any(|p| {
        p.file_name()
            .is_some_and(|n| n.to_string_lossy().starts_with("libstd-"))
    }) {
        return Err(format!("building std left no libstd in {}", deps.display()));
    }
    // Only this build's rlibs (two candidates for one crate would make
    // rustc refuse to choose), put in place whole: filled beside the old
    // directory, then swapped in by renaming, so builds running meanwhile
    // see the old std or the new one, never a half-copied one.
    let fresh = dir.with_extension("new");
    if fresh.exists() {
        std::fs::remove_dir_all(&fresh)
            .map_err(|e| format!("cannot clear {}: {e}", fresh.display()))?;
    }
    std::fs::create_dir_all(&fresh).map_err(|e| e.to_string())?;
    for p in &rlibs {
        let to = fresh.join(p.file_name().unwrap_or_default());
        std::fs::copy(p, &to).map_err(|e| format!("cannot copy {}: {e}", p.display()))?;
    }
    std::fs::write(fresh.join(STAMP), &key).map_err(|e| e.to_string())?;
    crate::build::swap_in(&fresh, &dir)?;
    // The intermediate build is 200+ MB; the sysroot keeps what it needs.
    let _ = std::fs::remove_dir_all(&target_dir);
    Ok(BuiltStd { dir, rebuilt: true })
}

fn path_with(dir: &Path) -> String {
    match std::env::var("PATH") {
        Ok(p) if !p.is_empty() => format!("{}:{p}", dir.display()),
        _ => dir.display().to_string(),
    }
}
