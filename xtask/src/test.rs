//! `cargo xtask test`: every check and test the project has.

use crate::cmd::{self, cargo, Result};

pub fn run() -> Result {
    crate::setup::run()?;
    // Formatting and lints, for the workspace and the samples' workspace.
    cmd::run(cargo().args(["fmt", "--all", "--", "--check"]))?;
    cmd::run(cargo().args([
        "fmt",
        "--all",
        "--manifest-path",
        "samples/Cargo.toml",
        "--",
        "--check",
    ]))?;
    // samples/std names the `xsc` toolchain, which has no rustfmt: format
    // with the machine's own.
    cmd::run(cargo().args([
        "+stable",
        "fmt",
        "--all",
        "--manifest-path",
        "samples/std/Cargo.toml",
        "--",
        "--check",
    ]))?;
    cmd::run(cargo().args([
        "+stable",
        "fmt",
        "--all",
        "--manifest-path",
        "samples/ecosystem/Cargo.toml",
        "--",
        "--check",
    ]))?;
    cmd::run(cargo().args([
        "clippy",
        "--workspace",
        "--all-targets",
        "--",
        "-D",
        "warnings",
    ]))?;
    cmd::run(cargo().args([
        "clippy",
        "--manifest-path",
        "samples/Cargo.toml",
        "--all-targets",
        "--",
        "-D",
        "warnings",
    ]))?;
    // Unit tests and the end-to-end tests (which build the samples and run
    // them under xsc-run).
    cmd::run(cargo().args(["test", "--workspace"]))?;
    eprintln!("xtask: all tests passed");
    Ok(())
}
