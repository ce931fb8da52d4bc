//! `cargo xtask test`: every check and test the project has.

use crate::cmd::{self, Result};
use std::process::Command;

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
    // Unit tests and the end-to-end tests (which build the samples, std for
    // the XSC targets included, and run them under xsc-run).
    cmd::run(stable_cargo().args(["test", "--workspace"]))?;
    // The XSC kernel (kernel/): built, booted under qemu, the VM suite.
    crate::vm::suite()?;
    eprintln!("xtask: all tests passed");
    Ok(())
}
