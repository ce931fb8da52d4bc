//! Building a sysroot.

use crate::{musl_source, rt_staticlib, verify, Arch, Sysroot};
use std::hash::{DefaultHasher, Hash, Hasher};
use std::path::{Path, PathBuf};
use std::process::Command;

/// Runs a command; fails with its name and output if it fails.
pub fn run(c: &mut Command) -> Result<(), String> {
    let out = c
        .output()
        .map_err(|e| format!("cannot start {:?}: {e}", c.get_program()))?;
    if out.status.success() {
        Ok(())
    } else {
        let tail = |b: &[u8]| {
            let s = String::from_utf8_lossy(b);
            let lines: Vec<&str> = s.lines().collect();
            lines[lines.len().saturating_sub(30)..].join("\n")
        };
        Err(format!(
            "{:?} {:?} failed ({}):\n{}\n{}",
            c.get_program(),
            c.get_args().collect::<Vec<_>>(),
            out.status,
            tail(&out.stdout),
            tail(&out.stderr)
        ))
    }
}

/// What a build did.
#[derive(Debug)]
pub struct Built {
    pub sysroot: Sysroot,
    /// False when the cached sysroot was up to date.
    pub rebuilt: bool,
    pub log: Vec<String>,
}

/// The patches that apply to `arch`, in order: names mentioning an
/// architecture apply to it alone, the others to every architecture.
pub fn patches_for(arch: Arch, repo: &Path) -> Result<Vec<PathBuf>, String> {
    let mut v = patch_files(&repo.join("std-xsc/musl/patches"))?;
    v.retain(|p| {
        let name = p
            .file_name()
            .unwrap_or_default()
            .to_string_lossy()
            .into_owned();
        let for_some = Arch::ALL
            .iter()
            .any(|a| name.contains(&format!("-{}-", a.name())));
        !for_some || name.contains(&format!("-{}-", arch.name()))
    });
    Ok(v)
}

/// The `.patch` files in `dir`, sorted by name (the order they apply in).
pub fn patch_files(dir: &Path) -> Result<Vec<PathBuf>, String> {
    let mut v: Vec<PathBuf> = std::fs::read_dir(dir)
        .map_err(|e| format!("cannot read {}: {e}", dir.display()))?
        .filter_map(|e| e.ok().map(|e| e.path()))
        .filter(|p| p.extension().is_some_and(|x| x == "patch"))
        .collect();
    v.sort();
    Ok(v)
}

fn hash_tree(h: &mut DefaultHasher, dir: &Path) {
    let mut entries: Vec<PathBuf> = std::fs::read_dir(dir)
        .map(|rd| rd.filter_map(|e| e.ok().map(|e| e.path())).collect())
        .unwrap_or_default();
    entries.sort();
    for p in entries {
        if p.is_dir() {
            hash_tree(h, &p);
        } else if let Ok(bytes) = std::fs::read(&p) {
            p.hash(h);
            bytes.hash(h);
        }
    }
}

fn tool_version(cmd: &str) -> String {
    Command::new(cmd)
        .arg("--version")
        .output()
        .map(|o| String::from_utf8_lossy(&o.stdout).into_owned())
        .unwrap_or_default()
}

/// A fingerprint of every input of the sysroot.
pub fn fingerprint(arch: Arch, repo: &Path) -> Result<String, String> {
    let mut h = DefaultHasher::new();
    musl_source::MUSL_VERSION.hash(&mut h);
    for p in patches_for(arch, repo)? {
        std::fs::read(&p).map_err(|e| e.to_string())?.hash(&mut h);
    }
    for dir in [
        "xsc-rt/src",
        "xsc-abi/src",
        "elf-notes/src",
        "std-xsc/unwind",
    ] {
        hash_tree(&mut h, &repo.join(dir));
    }
    // The recipe itself, and what xsc-rt's C library is built from.
    for file in [
        "std-xsc/src/build.rs",
        "std-xsc/src/rt_staticlib.rs",
        "std-xsc/src/musl_source.rs",
        "std-xsc/src/arch.rs",
        "xsc-rt/Cargo.toml",
        "xsc-abi/Cargo.toml",
        "Cargo.lock",
    ] {
        std::fs::read(repo.join(file))
            .unwrap_or_default()
            .hash(&mut h);
    }
    tool_version(arch.cc()).hash(&mut h);
    tool_version(rt_staticlib::DEBIAN_RUSTC).hash(&mut h);
    env!("CARGO_PKG_VERSION").hash(&mut h);
    Ok(format!("{:016x}", h.finish()))
}

/// Copies the Linux UAPI headers (`<linux/...>`, `<asm/...>`,
/// `<asm-generic/...>`) into the sysroot, as a musl toolchain installs
/// them beside its libc (musl ships none): programs that include
/// `<linux/seccomp.h>` or `<linux/io_uring.h>` build with `xsc-cc` as they
/// do natively. They come from the host's `linux-libc-dev`.
fn install_uapi_headers(arch: Arch, sysroot: &Sysroot) -> Result<(), String> {
    let (base, asm) = arch.uapi_headers();
    let dest = sysroot.include();
    for (from, name) in [
        (format!("{base}/linux"), "linux"),
        (format!("{base}/asm-generic"), "asm-generic"),
        (asm.to_string(), "asm"),
    ] {
        if !Path::new(&from).is_dir() {
            return Err(format!(
                "{from} is missing: install the Linux UAPI headers (package {})",
                match arch {
                    Arch::X86_64 => "linux-libc-dev",
                    Arch::Aarch64 => "linux-libc-dev-arm64-cross",
                }
            ));
        }
        let to = dest.join(name);
        let _ = std::fs::remove_dir_all(&to);
        run(Command::new("cp").arg("-rL").arg(&from).arg(&to))?;
    }
    Ok(())
}

/// `libunwind.a`, the unwinder Rust's std links on musl targets: gcc's
/// `libgcc_eh` merged (`ld -r`) with an object holding strong references
/// to the pthread functions it calls through weak ones, so that they are
/// linked in. It finds unwind tables through the fork's `_dl_find_object`.
fn build_unwind(arch: Arch, repo: &Path, sysroot: &Sysroot, work: &Path) -> Result<(), String> {
    let eh = Command::new(arch.cc())
        .arg("-print-file-name=libgcc_eh.a")
        .output()
        .map_err(|e| e.to_string())?;
    let eh = PathBuf::from(String::from_utf8_lossy(&eh.stdout).trim());
    let needs = work.join("unwind-needs.o");
    run(Command::new(arch.cc())
        .args(["-c", "-O2", "-fPIC", "-nostdinc", "-isystem"])
        .arg(sysroot.include())
        .arg(repo.join("std-xsc/unwind/unwind-needs.c"))
        .arg("-o")
        .arg(&needs))?;
    let merged = work.join("unwind.o");
    let prefix = arch.binutils_prefix();
    run(Command::new(format!("{prefix}ld"))
        .args(["-r", "-o"])
        .arg(&merged)
        .arg(&needs)
        .arg("--whole-archive")
        .arg(&eh))?;
    let lib = sysroot.lib().join("libunwind.a");
    let _ = std::fs::remove_file(&lib);
    run(Command::new(format!("{prefix}ar"))
        .arg("rcs")
        .arg(&lib)
        .arg(&merged))
}

/// Configures, builds and installs the musl source tree in `work` for
/// `arch`, static only: configured for `prefix`, installed under `destdir`
/// (musl's `DESTDIR`: the files land in `destdir` + `prefix`, while
/// `musl-gcc`'s specs name `prefix`).
pub(crate) fn make_musl(
    work: &Path,
    arch: Arch,
    prefix: &Path,
    destdir: &Path,
    configure: &[&str],
) -> Result<(), String> {
    let tools = arch.binutils_prefix();
    let ar = format!("AR={tools}ar");
    let ranlib = format!("RANLIB={tools}ranlib");
    run(Command::new("./configure")
        .current_dir(work)
        .arg(format!("--prefix={}", prefix.display()))
        .args([
            "--disable-shared",
            &format!("--target={}-linux-musl", arch.name()),
        ])
        .args(configure)
        .arg(format!("CC={}", arch.cc()))
        .arg(format!("CROSS_COMPILE={tools}"))
        .args([&ar, &ranlib]))?;
    let jobs = std::thread::available_parallelism()
        .map(|n| n.get())
        .unwrap_or(1)
        .to_string();
    run(Command::new("make")
        .current_dir(work)
        .args(["-j", &jobs, &ar, &ranlib]))?;
    run(Command::new("make")
        .current_dir(work)
        .args(["install", &ar, &ranlib])
        .arg(format!("DESTDIR={}", destdir.display())))
}

/// Replaces `to` with `from` by two renames, so `to` is never half
/// written: at worst, for an instant, it is missing.
pub(crate) fn swap_in(from: &Path, to: &Path) -> Result<(), String> {
    let old = to.with_extension("old");
    let _ = std::fs::remove_dir_all(&old);
    if to.exists() {
        std::fs::rename(to, &old)
            .map_err(|e| format!("cannot move {} aside: {e}", to.display()))?;
    }
    std::fs::create_dir_all(to.parent().unwrap_or(Path::new("/"))).map_err(|e| e.to_string())?;
    std::fs::rename(from, to)
        .map_err(|e| format!("cannot move {} into place: {e}", from.display()))?;
    let _ = std::fs::remove_dir_all(&old);
    Ok(())
}

/// Builds (or finds up to date) the sysroot for `arch` under `home`.
pub fn build(arch: Arch, home: &Path, force: bool) -> Result<Built, String> {
    let repo = crate::repo_root();
    let sysroot = Sysroot::new(home, arch);
    let stamp = fingerprint(arch, &repo)?;
    if !force
        && sysroot.is_built()
        && std::fs::read_to_string(sysroot.stamp()).is_ok_and(|s| s.trim() == stamp)
    {
        return Ok(Built {
            sysroot,
            rebuilt: false,
            log: vec![],
        });
    }
    let mut log = Vec::new();
    for tool in [
        arch.cc(),
        rt_staticlib::DEBIAN_CARGO,
        rt_staticlib::DEBIAN_RUSTC,
    ] {
        if Command::new(tool).arg("--version").output().is_err() {
            return Err(format!(
                "{tool} is missing: install {} (cargo xtask setup does it)",
                if tool.starts_with("/usr/bin/") {
                    "rustc-web cargo-web rust-web-src".to_string()
                } else {
                    arch.compiler_packages().join(" ")
                }
            ));
        }
    }
    let src = musl_source::ensure(home, &mut log)?;
    let work = home.join("build").join(format!("musl-{}", arch.name()));
    let _ = std::fs::remove_dir_all(&work);
    std::fs::create_dir_all(work.parent().unwrap()).map_err(|e| e.to_string())?;
    run(Command::new("cp").arg("-a").arg(&src).arg(&work))?;
    for p in patches_for(arch, &repo)? {
        run(Command::new("patch")
            .args(["-p1", "-s", "-i"])
            .arg(&p)
            .current_dir(&work))
        .map_err(|e| format!("patch {} does not apply: {e}", p.display()))?;
        log.push(format!(
            "applied {}",
            p.file_name().unwrap_or_default().to_string_lossy()
        ));
    }
    // Everything is installed into a staging copy first and swapped in by
    // rename at the end, so a build that fails, or one running meanwhile
    // against the old sysroot, never sees a half-built one. musl's
    // `DESTDIR` keeps the configured prefix (the one `musl-gcc.specs`
    // names) while the files land under the staging root.
    let stage_root = home
        .join("build")
        .join(format!("sysroot-{}.stage", arch.name()));
    let _ = std::fs::remove_dir_all(&stage_root);
    let staged = Sysroot {
        arch,
        dir: stage_root.join(sysroot.dir.strip_prefix("/").unwrap_or(&sysroot.dir)),
    };
    // musl's previous allocator, still shipped and selectable, with a
    // per-thread cache added by patch 0016. mallocng's one global lock and
    // eager munmap cost hundreds of ring entries and futex waits where
    // this costs a few (`cargo xtask bench`'s allocation rows, 2 threads x
    // 2M allocations: mallocng 22.7 s, oldmalloc 2.5 s, with the cache
    // 1.2 s, glibc natively 1.1 s).
    make_musl(
        &work,
        arch,
        &sysroot.dir,
        &stage_root,
        &["--with-malloc=oldmalloc"],
    )?;
    log.push(format!(
        "built and installed the musl fork into {}",
        sysroot.dir.display()
    ));
    install_uapi_headers(arch, &staged)?;
    log.push("installed the Linux UAPI headers (linux/, asm/, asm-generic/)".into());

    rt_staticlib::build(
        arch,
        &repo,
        &home.join("build").join("xsc-rt"),
        &staged.lib().join("libxsc_rt.a"),
    )?;
    log.push("built xsc-rt's C ABI as libxsc_rt.a".into());

    build_unwind(arch, &repo, &staged, &work)?;
    log.push("built libunwind.a from gcc's libgcc_eh".into());

    let note = elf_notes::note_object(
        arch.note_arch(),
        elf_notes::XscAbiNoteDesc {
            abi_version: xsc_abi::ABI_VERSION,
            features: 0,
        },
    )
    .map_err(|e| format!("cannot write the note object: {e}"))?;
    std::fs::write(staged.note_object(), note).map_err(|e| e.to_string())?;

    for lib in [staged.libc(), staged.lib().join("libxsc_rt.a")] {
        let sites = verify::forbidden_instructions(arch, &lib)?;
        if !sites.is_empty() {
            let list: Vec<String> = sites
                .iter()
                .map(|s| format!("  {} in {}: {}", s.member, s.function, s.line))
                .collect();
            return Err(format!(
                "{} contains system-call instructions:\n{}",
                lib.display(),
                list.join("\n")
            ));
        }
        log.push(format!(
            "verified: no system-call instruction in {}",
            lib.display()
        ));
    }
    std::fs::write(staged.stamp(), stamp).map_err(|e| e.to_string())?;
    swap_in(&staged.dir, &sysroot.dir)?;
    let _ = std::fs::remove_dir_all(&stage_root);
    Ok(Built {
        sysroot,
        rebuilt: true,
        log,
    })
}
