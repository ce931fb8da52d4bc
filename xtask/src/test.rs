//! `cargo xtask test`: every check and test the project has.

use crate::cmd::{self, Result};
use std::path::Path;
use std::process::Command;

/// What a run from a clean clone writes into the repository's target
/// folders, with a margin: measured 8.2 GB at its peak on 2026-11-26
/// (the main workspace 3.1 GB, the ecosystem samples 3.1 GB, the std
/// samples 1.5 GB), besides `$XSC_HOME` and the kernel build (about 2 GB
/// while it runs).
const DISK_NEEDED: u64 = 12 << 30;

/// Free bytes for an unprivileged writer on the file system holding `path`.
fn free_bytes(path: &Path) -> Option<u64> {
    use std::os::unix::ffi::OsStrExt;
    let c = std::ffi::CString::new(path.as_os_str().as_bytes()).ok()?;
    // SAFETY: an all-zero statvfs is a valid value to be overwritten.
    let mut st: libc::statvfs = unsafe { std::mem::zeroed() };
    // SAFETY: `c` is a NUL-terminated path, `st` a statvfs to fill.
    if unsafe { libc::statvfs(c.as_ptr(), &mut st) } != 0 {
        return None;
    }
    Some(st.f_bavail as u64 * st.f_frsize as u64)
}

/// Says so at the start when the disk looks too small for the run (the
/// run goes on: warm target folders need much less), and adds the free
/// space to a failure's message when the disk is nearly full.
fn disk_check() {
    if let Some(free) = free_bytes(&cmd::root()) {
        if free < DISK_NEEDED {
            eprintln!(
                "xtask: warning: {:.1} GB free on the disk of {}; a test run from a clean clone writes about {:.0} GB. If a step fails with 'No space left on device', free space (`cargo clean` in the workspaces, old $XSC_HOME/build) and run again.",
                free as f64 / 1e9,
                cmd::root().display(),
                DISK_NEEDED as f64 / 1e9
            );
        }
    }
}

fn with_disk_note(e: String) -> String {
    match free_bytes(&cmd::root()) {
        Some(free) if free < (1 << 30) => format!(
            "{e}\n(only {:.2} GB are left on the disk: the run probably ran out of space; free some and run again)",
            free as f64 / 1e9
        ),
        _ => e,
    }
}

/// `cargo +stable` (through rustup) at the repository root: the std and
/// ecosystem samples name the `xsc` toolchain in their rust-toolchain.toml,
/// which has no rustfmt or clippy.
fn stable_cargo() -> Command {
    let mut c = Command::new("cargo");
    c.current_dir(cmd::root()).arg("+stable");
    std_xsc::toolchain::clean_env(&mut c);
    c
}

pub fn run() -> Result {
    disk_check();
    checks().map_err(with_disk_note)
}

fn checks() -> Result {
    crate::setup::run()?;
    for manifest in [
        "Cargo.toml",
        "samples/Cargo.toml",
        "samples/std/Cargo.toml",
        "samples/ecosystem/Cargo.toml",
        "samples/bench/Cargo.toml",
    ] {
        cmd::run(stable_cargo().args([
            "fmt",
            "--all",
            "--manifest-path",
            manifest,
            "--",
            "--check",
        ]))?;
    }
    for manifest in ["Cargo.toml", "samples/Cargo.toml"] {
        cmd::run(stable_cargo().args([
            "clippy",
            "--workspace",
            "--all-targets",
            "--manifest-path",
            manifest,
            "--",
            "-D",
            "warnings",
        ]))?;
    }
    // The import circles of xsc-run and std-xsc may only shrink.
    crate::imports::check()?;
    // Unit tests and the end-to-end tests (which build the samples, std for
    // the XSC targets included, and run them under xsc-run).
    cmd::run(stable_cargo().args(["test", "--workspace"]))?;
    // The XSC kernel (kernel/): built, booted under qemu, the VM suite.
    crate::vm::suite(crate::kernel::Flavour::Plain, None)?;
    // The kernel runner (xsc-vm) and `cargo xsc run|test --kernel`.
    crate::runner::check()?;
    // strace of XSC programs on the kernel, against their native builds.
    crate::strace::check()?;
    // The debug kernel (KASAN, lockdep, ...): a short fuzzing round through
    // the rings (`cargo xtask fuzz` is the long campaign).
    crate::fuzz::campaign(crate::fuzz::SHORT_SECONDS, crate::fuzz::seed())?;
    eprintln!("xtask: all tests passed");
    Ok(())
}
