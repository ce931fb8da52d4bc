//! Setting a machine up for the XSC targets (used by `cargo xsc setup` and
//! `cargo xtask setup`): Debian packages, the tools, the `xsc` toolchain and
//! the sysroots. Idempotent; every step says what it did.

use crate::{build, openssl, rust_sysroot, toolchain, xsc_home, Arch};
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
];

/// The crates whose binaries make up the installed tools.
pub const TOOL_PACKAGES: &[&str] = &[
    "xsc-run",
    "linker-wrapper",
    "xsc-elfcheck",
    "std-xsc",
    "cargo-xsc",
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

/// Release builds of the tools, with the machine's own cargo (stable).
pub fn build_tools(repo: &Path) -> Result<PathBuf, String> {
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
    // xsc-run starts at every run and every exec of an XSC program: linked
    // statically (static-pie glibc) it starts without the dynamic loader
    // and libgcc_s's set-up, about 0.3 ms less per exec (fork + exec +
    // wait: 1.7x -> 1.4x native). `--target` keeps the flag off build
    // scripts and proc macros, which cannot be static.
    let mut c = Command::new("cargo");
    c.current_dir(repo)
        .args([
            "build",
            "--release",
            "-p",
            "xsc-run",
            "--target",
            HOST_TRIPLE,
        ])
        .env(
            "CARGO_TARGET_X86_64_UNKNOWN_LINUX_GNU_RUSTFLAGS",
            "-C target-feature=+crt-static",
        );
    toolchain::clean_env(&mut c);
    let status = c.status().map_err(|e| format!("cannot run cargo: {e}"))?;
    if !status.success() {
        return Err("building the static xsc-run failed (see cargo's messages above)".into());
    }
    Ok(repo.join("target/release"))
}

/// The host the tools run on (xsc-run is x86_64-only, check_host).
const HOST_TRIPLE: &str = "x86_64-unknown-linux-gnu";

/// Where [`build_tools`] left `tool`: the static build for xsc-run, the
/// ordinary release build for the others.
pub fn built_tool(tools_dir: &Path, tool: &str) -> PathBuf {
    if tool == "xsc-run" {
        if let Some(target) = tools_dir.parent() {
            return target.join(HOST_TRIPLE).join("release").join(tool);
        }
    }
    tools_dir.join(tool)
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
    let repo = crate::repo_root();
    let tools = build_tools(&repo)?;
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
