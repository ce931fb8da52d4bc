//! Setting a machine up for the XSC targets (used by `cargo xsc setup` and
//! `cargo xtask setup`): Debian packages, the tools, the `xsc` toolchain and
//! the sysroots. Idempotent; every step says what it did.

use crate::{build, host_musl, openssl, rt_staticlib, rust_sysroot, toolchain, xsc_home, Arch};
use std::path::{Path, PathBuf};
use std::process::Command;

/// (command or file that must exist, Debian package that provides it)
pub const PACKAGES: &[(&str, &str)] = &[
    ("cc", "gcc"),
    ("make", "make"),
    ("patch", "patch"),
    ("readelf", "binutils"),
    ("objdump", "binutils"),
    ("dpkg-source", "dpkg-dev"),
    // Debian's rustc/cargo 1.96 with Rust's library source (build-std).
    ("/usr/bin/rustc", "rustc-web"),
    ("/usr/bin/cargo", "cargo-web"),
    ("/usr/lib/rustlib/src/rust/library/std", "rust-web-src"),
    ("/usr/bin/cargo-clippy", "rust-web-clippy"),
    // The seccomp tests compare with programs linking the host's libseccomp.
    ("/usr/include/seccomp.h", "libseccomp-dev"),
    // aarch64: the cross compiler for the libc fork, and qemu for tools.
    ("aarch64-linux-gnu-gcc", "gcc-aarch64-linux-gnu"),
    (
        "/usr/aarch64-linux-gnu/include/stdio.h",
        "libc6-dev-arm64-cross",
    ),
    ("qemu-aarch64-static", "qemu-user-static"),
    // Native builds inside crates: the `cmake` crate and OpenSSL's build.
    ("cmake", "cmake"),
    ("perl", "perl"),
    // The debugging test runs an XSC program under gdb.
    ("gdb", "gdb"),
    // The XSC kernel (cargo xtask kernel) and its VM test (vm-test).
    ("/usr/src/linux-source-6.1.tar.xz", "linux-source-6.1"),
    ("flex", "flex"),
    ("bison", "bison"),
    ("bc", "bc"),
    ("/usr/include/libelf.h", "libelf-dev"),
    ("cpio", "cpio"),
    ("qemu-system-x86_64", "qemu-system-x86"),
    // The VM's shell and tools (a static binary).
    ("/bin/busybox", "busybox-static"),
];

/// The crates whose binaries make up the installed tools.
pub const TOOL_PACKAGES: &[&str] = &[
    "xsc-run",
    "linker-wrapper",
    "xsc-elfcheck",
    "std-xsc",
    "cargo-xsc",
    "xsc-vm",
];

/// Is this command on PATH (or, for an absolute path, this file present)?
pub(crate) fn have(what: &str) -> bool {
    if what.starts_with('/') {
        return Path::new(what).exists();
    }
    Command::new("sh")
        .args(["-c", &format!("command -v {what} >/dev/null 2>&1")])
        .status()
        .is_ok_and(|s| s.success())
}

/// Are we root? (The effective uid is the third field of `Uid:` in
/// /proc/self/status.)
pub(crate) fn is_root() -> bool {
    std::fs::read_to_string("/proc/self/status")
        .ok()
        .and_then(|s| {
            s.lines()
                .find(|l| l.starts_with("Uid:"))
                .map(|l| l.split_whitespace().nth(2) == Some("0"))
        })
        .unwrap_or(false)
}

/// Installs the Debian packages providing anything missing (as root);
/// otherwise says exactly what to install.
pub fn ensure_packages(say: &mut dyn FnMut(String)) -> Result<(), String> {
    let mut missing: Vec<&str> = PACKAGES
        .iter()
        .filter(|(w, _)| !have(w))
        .map(|(_, p)| *p)
        .collect();
    missing.sort_unstable();
    missing.dedup();
    if missing.is_empty() {
        say("all needed Debian packages are installed".into());
        return Ok(());
    }
    if !is_root() {
        return Err(format!(
            "missing packages: {0}; install them with: sudo apt-get update && sudo apt-get install -y {0}",
            missing.join(" ")
        ));
    }
    say(format!("installing {}", missing.join(" ")));
    build::run(Command::new("apt-get").args(["update", "-q"]))?;
    build::run(
        Command::new("apt-get")
            .args(["install", "-y", "-q", "--no-install-recommends"])
            .args(&missing)
            .env("DEBIAN_FRONTEND", "noninteractive"),
    )?;
    say(format!("installed {}", missing.join(" ")));
    Ok(())
}

/// Checks the host can run XSC programs under xsc-run.
pub fn check_host() -> Result<(), String> {
    if std::env::consts::ARCH != "x86_64" {
        return Err("xsc-run needs an x86_64 Linux host".into());
    }
    let cpuinfo = std::fs::read_to_string("/proc/cpuinfo").unwrap_or_default();
    if !cpuinfo.contains("fsgsbase") {
        return Err(
            "this CPU does not report FSGSBASE, which xsc-run needs (see docs/xsc-run.md)".into(),
        );
    }
    Ok(())
}

/// Release builds of the tools, with the machine's own cargo (stable),
/// and xsc-run linked statically with plain musl (see [`build_xsc_run`]).
pub fn build_tools(
    repo: &Path,
    home: &Path,
    say: &mut dyn FnMut(String),
) -> Result<PathBuf, String> {
    let mut c = Command::new("cargo");
    c.current_dir(repo).args(["build", "--release"]);
    for p in TOOL_PACKAGES {
        c.args(["-p", p]);
    }
    toolchain::clean_env(&mut c);
    let status = c.status().map_err(|e| format!("cannot run cargo: {e}"))?;
    if !status.success() {
        return Err("building the XSC tools failed (see cargo's messages above)".into());
    }
    for arch in Arch::ALL {
        build_xsc_run(repo, home, arch, say)?;
    }
    Ok(repo.join("target/release"))
}

/// xsc-run starts at every run and every exec of an XSC program, so it is
/// linked statically (no dynamic loader) with plain musl
/// ([`host_musl`]), whose start-up asks the CPU nothing: a static glibc
/// binary's start probes the caches with CPUID, which traps to the
/// hypervisor on a virtual machine (a C hello under xsc-run: 0.95 ms of CPU
/// linked with glibc, 0.20 ms with musl; the same hello native, glibc:
/// 0.55 ms). Rust's std for the musl target is built from Debian's
/// library source by Debian's cargo (`-Zbuild-std`, kept in the target
/// folder), as rustup has no musl std here. `--target` keeps the flags off
/// build scripts and proc macros.
///
/// The aarch64 runner is built the same way with the cross compiler; it
/// runs under qemu's user mode on this host (crate xsc-run, `foreign`).
fn build_xsc_run(
    repo: &Path,
    home: &Path,
    arch: Arch,
    say: &mut dyn FnMut(String),
) -> Result<(), String> {
    let (musl, rebuilt) = host_musl::ensure(home, repo, arch)?;
    let target = host_musl::rust_target(arch);
    if rebuilt {
        say(format!(
            "built plain musl for the {arch} xsc-run into {}",
            musl.display()
        ));
        // Cargo does not see a new libc.a: have it link xsc-run again.
        let mut c = Command::new(rt_staticlib::DEBIAN_CARGO);
        toolchain::clean_env(&mut c);
        c.current_dir(repo)
            .args(["clean", "--release", "-p", "xsc-run", "--target", &target])
            .env("RUSTC", rt_staticlib::DEBIAN_RUSTC);
        build::run(&mut c)?;
    }
    let var = |what: &str| {
        format!(
            "CARGO_TARGET_{}_{what}",
            target.to_uppercase().replace('-', "_")
        )
    };
    let mut c = Command::new(rt_staticlib::DEBIAN_CARGO);
    toolchain::clean_env(&mut c);
    c.current_dir(repo)
        .args(["build", "--release", "-p", "xsc-run", "--target", &target])
        .arg("-Zbuild-std=std,panic_abort")
        .env("RUSTC", rt_staticlib::DEBIAN_RUSTC)
        .env("RUSTC_BOOTSTRAP", "1")
        .env(var("LINKER"), host_musl::linker(home, arch))
        .env(var("RUSTFLAGS"), host_musl::rustflags(home, arch))
        .env(
            format!("CC_{}", target.replace('-', "_")),
            host_musl::linker(home, arch),
        );
    let status = c.status().map_err(|e| format!("cannot run cargo: {e}"))?;
    if !status.success() {
        return Err("building xsc-run with musl failed (see cargo's messages above)".into());
    }
    Ok(())
}

/// The host the tools run on (check_host); the other architecture's
/// xsc-run runs under qemu.
const HOST_ARCH: Arch = Arch::X86_64;

/// Where [`build_tools`] left `tool`: the musl build for xsc-run, the
/// ordinary release build for the others.
pub fn built_tool(tools_dir: &Path, tool: &str) -> PathBuf {
    if tool == "xsc-run" {
        return built_runner(tools_dir, HOST_ARCH);
    }
    tools_dir.join(tool)
}

/// Where [`build_tools`] left the xsc-run of `arch`.
pub fn built_runner(tools_dir: &Path, arch: Arch) -> PathBuf {
    let target = tools_dir.parent().unwrap_or(tools_dir);
    target
        .join(host_musl::rust_target(arch))
        .join("release")
        .join("xsc-run")
}

/// `cargo-xsc` goes where cargo finds subcommands (`$CARGO_HOME/bin`).
fn install_cargo_subcommand(tools_dir: &Path, say: &mut dyn FnMut(String)) -> Result<(), String> {
    let cargo_home = toolchain::cargo_home().ok_or("neither CARGO_HOME nor HOME is set")?;
    let bin = cargo_home.join("bin");
    std::fs::create_dir_all(&bin).map_err(|e| e.to_string())?;
    let to = bin.join("cargo-xsc");
    let _ = std::fs::remove_file(&to);
    std::fs::copy(tools_dir.join("cargo-xsc"), &to)
        .map_err(|e| format!("cannot install {}: {e}", to.display()))?;
    say(format!(
        "installed cargo-xsc into {} (`cargo xsc ...`)",
        bin.display()
    ));
    Ok(())
}

/// Says what building `what` did: its log, then built or up to date.
fn report(say: &mut dyn FnMut(String), what: &str, log: &[String], rebuilt: bool, dir: &Path) {
    for line in log {
        say(format!("{what}: {line}"));
    }
    let done = if rebuilt {
        "built into"
    } else {
        "up to date in"
    };
    say(format!("{what}: {done} {}", dir.display()));
}

/// Everything: host check, packages, tools, toolchain, sysroots, OpenSSL
/// and std.
pub fn setup_all(say: &mut dyn FnMut(String)) -> Result<(), String> {
    check_host()?;
    let home = xsc_home();
    // One setup at a time: two would remove each other's build trees.
    std::fs::create_dir_all(&home).map_err(|e| format!("cannot create {}: {e}", home.display()))?;
    let lock_path = home.join(".setup.lock");
    let lock = std::fs::File::create(&lock_path)
        .map_err(|e| format!("cannot create {}: {e}", lock_path.display()))?;
    if lock.try_lock().is_err() {
        say(format!(
            "another setup is running ({} is locked); waiting for it",
            lock_path.display()
        ));
        lock.lock()
            .map_err(|e| format!("cannot lock {}: {e}", lock_path.display()))?;
    }
    ensure_packages(say)?;
    // Only the native side of the aarch64 tests needs it: without it they
    // fail with a message saying so, and everything else works.
    if let Err(e) = crate::binfmt::ensure_aarch64(say) {
        say(format!(
            "warning: aarch64 executables will not run directly here: {e}"
        ));
    }
    let repo = crate::repo_root();
    let tools = build_tools(&repo, &home, say)?;
    for line in toolchain::install(&home, &repo, &tools)? {
        say(line);
    }
    install_cargo_subcommand(&tools, say)?;
    for arch in Arch::ALL {
        let built = build::build(arch, &home, false)?;
        let what = format!("sysroot {arch}");
        report(say, &what, &built.log, built.rebuilt, &built.sysroot.dir);
    }
    for arch in Arch::ALL {
        let built = openssl::build(&home, arch)?;
        let what = format!("openssl {arch}");
        report(say, &what, &built.log, built.rebuilt, &built.dir);
    }
    for arch in Arch::ALL {
        let built = rust_sysroot::build_std(&home, arch, false)?;
        let what = format!("std for {}", arch.xsc_target());
        report(say, &what, &[], built.rebuilt, &built.dir);
    }
    say("ready: `cargo xsc build` or `cargo +xsc build --target x86_64-unknown-linux-xsc` in any cargo project".into());
    Ok(())
}
