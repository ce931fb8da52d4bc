//! `cargo xtask setup`: make sure the machine has what the project needs,
//! then build and install the XSC toolchain. Idempotent: installs only
//! what is missing (apt-get, as root), rebuilds the sysroots only when an
//! input changed, and says what it did.

use crate::cmd::{self, Result};
use std::path::Path;
use std::process::Command;

/// (command or file that must exist, Debian package that provides it)
const NEEDS: &[(&str, &str)] = &[
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
    // aarch64: the cross compiler for the libc fork, and qemu to run tools.
    ("aarch64-linux-gnu-gcc", "gcc-aarch64-linux-gnu"),
    (
        "/usr/aarch64-linux-gnu/include/stdio.h",
        "libc6-dev-arm64-cross",
    ),
    ("qemu-aarch64-static", "qemu-user-static"),
];

fn have(what: &str) -> bool {
    if what.starts_with('/') {
        return Path::new(what).exists();
    }
    Command::new("sh")
        .args(["-c", &format!("command -v {what} >/dev/null 2>&1")])
        .status()
        .is_ok_and(|s| s.success())
}

fn is_root() -> bool {
    // SAFETY: geteuid has no preconditions.
    unsafe { libc::geteuid() == 0 }
}

/// Installs the Debian packages providing anything missing.
pub fn ensure_packages(needs: &[(&str, &str)]) -> Result {
    let mut missing: Vec<&str> = needs
        .iter()
        .filter(|(w, _)| !have(w))
        .map(|(_, p)| *p)
        .collect();
    missing.sort_unstable();
    missing.dedup();
    if missing.is_empty() {
        eprintln!("xtask: all needed packages are installed");
        return Ok(());
    }
    if !is_root() {
        return Err(format!(
            "missing packages {missing:?}; install them with: sudo apt-get update && sudo apt-get install -y {}",
            missing.join(" ")
        ));
    }
    eprintln!("xtask: installing {}", missing.join(" "));
    cmd::run(Command::new("apt-get").args(["update", "-q"]))?;
    cmd::run(
        Command::new("apt-get")
            .args(["install", "-y", "-q", "--no-install-recommends"])
            .args(&missing)
            .env("DEBIAN_FRONTEND", "noninteractive"),
    )?;
    eprintln!("xtask: installed {}", missing.join(" "));
    Ok(())
}

/// Checks the host can run XSC programs under xsc-run.
fn check_host() -> Result {
    if std::env::consts::ARCH != "x86_64" {
        return Err("xsc-run needs an x86_64 Linux host".into());
    }
    let cpuinfo = std::fs::read_to_string("/proc/cpuinfo").unwrap_or_default();
    if !cpuinfo.contains("fsgsbase") {
        return Err(
            "this CPU does not report FSGSBASE, which xsc-run needs (see docs/ABI.md §9)".into(),
        );
    }
    Ok(())
}

/// The release builds of the tools the toolchain installs.
pub fn build_tools() -> Result<std::path::PathBuf> {
    cmd::run(cmd::cargo().args([
        "build",
        "--release",
        "-p",
        "xsc-run",
        "-p",
        "linker-wrapper",
        "-p",
        "xsc-elfcheck",
        "-p",
        "std-xsc",
    ]))?;
    Ok(cmd::root().join("target/release"))
}

pub fn run() -> Result {
    check_host()?;
    ensure_packages(NEEDS)?;
    let tools = build_tools()?;
    let home = std_xsc::xsc_home();
    for line in std_xsc::toolchain::install(&home, &cmd::root(), &tools)? {
        eprintln!("xtask: {line}");
    }
    for arch in std_xsc::Arch::ALL {
        let built = std_xsc::build::build(arch, &home, false)?;
        for line in &built.log {
            eprintln!("xtask: sysroot {arch}: {line}");
        }
        eprintln!(
            "xtask: sysroot {arch}: {} {}",
            if built.rebuilt {
                "built"
            } else {
                "up to date in"
            },
            built.sysroot.dir.display()
        );
    }
    eprintln!(
        "xtask: setup complete: `cargo +xsc build --target x86_64-unknown-linux-xsc` is ready"
    );
    Ok(())
}
