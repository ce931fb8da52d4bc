//! xsc-rt as a C library (`libxsc_rt.a`), for the libc fork and C programs.
//!
//! Built with link-time optimisation into one object (xsc-rt, xsc-abi and
//! the parts of `core` they use), then every symbol but the `xsc_*` C ABI is
//! made local, so the library cannot clash with the Rust program it is
//! linked into (which has its own `core`). `compiler_builtins` members are
//! dropped: the program or libgcc provides those routines.

use crate::build::run;
use crate::Arch;
use std::path::Path;
use std::process::Command;

/// Debian's rustc and cargo (rustc-web, cargo-web), which come with the
/// library source needed to build `core` for any target.
pub const DEBIAN_RUSTC: &str = "/usr/bin/rustc";
pub const DEBIAN_CARGO: &str = "/usr/bin/cargo";

pub fn build(arch: Arch, repo: &Path, build_dir: &Path, out: &Path) -> Result<(), String> {
    let target = arch.rust_target();
    run(Command::new(DEBIAN_CARGO)
        .current_dir(repo)
        .env("RUSTC", DEBIAN_RUSTC)
        .env("RUSTC_BOOTSTRAP", "1")
        .env("CARGO_PROFILE_RELEASE_LTO", "fat")
        .env("CARGO_PROFILE_RELEASE_CODEGEN_UNITS", "1")
        .env("CARGO_PROFILE_RELEASE_PANIC", "abort")
        .env_remove("RUSTFLAGS")
        .args([
            "rustc",
            "-Zbuild-std=core,compiler_builtins",
            "--release",
            "-p",
            "xsc-rt",
        ])
        .args([
            "--features",
            "c-abi,panic-handler",
            "--crate-type",
            "staticlib",
            "--target",
            target,
        ])
        .arg("--target-dir")
        .arg(build_dir))?;
    let built = build_dir.join(target).join("release/libxsc_rt.a");
    std::fs::copy(&built, out).map_err(|e| format!("cannot copy {}: {e}", built.display()))?;
    let prefix = arch.binutils_prefix();
    let members = Command::new(format!("{prefix}ar"))
        .arg("t")
        .arg(out)
        .output()
        .map_err(|e| format!("cannot run {prefix}ar: {e}"))?;
    let drop: Vec<String> = String::from_utf8_lossy(&members.stdout)
        .lines()
        .filter(|m| m.contains("compiler_builtins"))
        .map(str::to_string)
        .collect();
    for chunk in drop.chunks(200) {
        run(Command::new(format!("{prefix}ar"))
            .arg("d")
            .arg(out)
            .args(chunk))?;
    }
    run(Command::new(format!("{prefix}objcopy"))
        .args(["--wildcard", "--keep-global-symbol=xsc_*"])
        .arg(out))?;
    Ok(())
}
