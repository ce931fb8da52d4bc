//! Support for the toolchain's end-to-end tests (std-xsc's and
//! cargo-xsc's): running a command that must succeed.

use std::process::{Command, Output};

/// Bytes as text, for messages and comparisons.
pub fn text(b: &[u8]) -> String {
    String::from_utf8_lossy(b).into_owned()
}

/// Runs `c`; panics with its stdout and stderr if it cannot start or fails.
pub fn run_ok(c: &mut Command) -> Output {
    let out = c
        .output()
        .unwrap_or_else(|e| panic!("cannot run {c:?}: {e}"));
    assert!(
        out.status.success(),
        "{c:?} failed:\n{}\n{}",
        text(&out.stdout),
        text(&out.stderr)
    );
    out
}

/// Builds the no_std samples (`samples/`: on xsc-rt alone, linked by
/// their own flags, samples/link-static-pie.rs) for a plain Linux target of
/// `arch`; returns their output folder. For tests (xsc-run's end-to-end
/// tests, the verifier's sample checks).
///
/// x86_64, the host: with the cargo running the tests. aarch64: with
/// Debian's cargo and rustc (1.96, what the `xsc` toolchain is made of)
/// and `-Zbuild-std=core` from their library source, for
/// aarch64-unknown-linux-gnu, linked by aarch64-linux-gnu-gcc, as setup
/// builds xsc-rt's C library for aarch64 (crate::rt_staticlib): rustup
/// has no aarch64 target installed here, and the XSC target would link
/// through xsc-ld, which adds the libc and its start files that these
/// programs replace (and refuses raw-syscall at link time).
pub fn build_no_std_samples(arch: crate::Arch) -> Result<std::path::PathBuf, String> {
    use crate::{rt_staticlib, toolchain, Arch};
    let root = crate::repo_root();
    let mut c = match arch {
        Arch::X86_64 => Command::new(std::env::var("CARGO").unwrap_or_else(|_| "cargo".into())),
        Arch::Aarch64 => Command::new(rt_staticlib::DEBIAN_CARGO),
    };
    c.current_dir(&root)
        // An explicit target directory: a CARGO_TARGET_DIR from outside
        // must not move the samples elsewhere.
        .args([
            "build",
            "--manifest-path",
            "samples/Cargo.toml",
            "--target-dir",
            "samples/target",
        ])
        .env_remove("RUSTFLAGS");
    let dir = match arch {
        Arch::X86_64 => root.join("samples/target/debug"),
        Arch::Aarch64 => {
            let target = arch.rust_target();
            toolchain::clean_env(&mut c)
                .args(["--target", target, "-Zbuild-std=core"])
                .env("RUSTC", rt_staticlib::DEBIAN_RUSTC)
                .env("RUSTC_BOOTSTRAP", "1")
                .env(
                    format!(
                        "CARGO_TARGET_{}_LINKER",
                        target.to_uppercase().replace('-', "_")
                    ),
                    arch.cc(),
                );
            root.join("samples/target").join(target).join("debug")
        }
    };
    let out = c
        .output()
        .map_err(|e| format!("cannot run {c:?} (`cargo xtask setup` installs it): {e}"))?;
    if !out.status.success() {
        return Err(String::from_utf8_lossy(&out.stderr).into_owned());
    }
    Ok(dir)
}
