//! `cargo xtask setup`: make sure the machine has what the project needs.
//! Idempotent: installs only what is missing (apt-get, as root) and says
//! what it did.

use crate::cmd::Result;
use std::process::Command;

/// (command that must exist, Debian package that provides it)
const TOOLS: &[(&str, &str)] = &[
    ("cc", "gcc"),
    ("readelf", "binutils"),
    ("objdump", "binutils"),
];

fn have(cmd: &str) -> bool {
    Command::new("sh")
        .args(["-c", &format!("command -v {cmd} >/dev/null 2>&1")])
        .status()
        .is_ok_and(|s| s.success())
}

fn is_root() -> bool {
    // SAFETY: geteuid has no preconditions.
    unsafe { libc::geteuid() == 0 }
}

/// Installs the Debian packages providing any missing command.
pub fn ensure_tools(tools: &[(&str, &str)]) -> Result {
    let mut missing: Vec<&str> = tools
        .iter()
        .filter(|(c, _)| !have(c))
        .map(|(_, p)| *p)
        .collect();
    missing.sort_unstable();
    missing.dedup();
    if missing.is_empty() {
        return Ok(());
    }
    if !is_root() {
        return Err(format!(
            "missing packages {missing:?}; install them with: sudo apt-get install -y {}",
            missing.join(" ")
        ));
    }
    eprintln!("xtask: installing {}", missing.join(" "));
    crate::cmd::run(Command::new("apt-get").arg("update").arg("-q"))?;
    crate::cmd::run(
        Command::new("apt-get")
            .args(["install", "-y", "-q", "--no-install-recommends"])
            .args(&missing)
            .env("DEBIAN_FRONTEND", "noninteractive"),
    )
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

pub fn run() -> Result {
    check_host()?;
    ensure_tools(TOOLS)?;
    eprintln!("xtask: setup complete: host can run XSC programs; build tools present");
    Ok(())
}
