//! Running commands, and where things are.

use std::path::{Path, PathBuf};
use std::process::Command;

pub type Result<T = ()> = std::result::Result<T, String>;

/// The repository root (the workspace holding xtask).
pub fn root() -> PathBuf {
    Path::new(env!("CARGO_MANIFEST_DIR"))
        .parent()
        .expect("xtask lives in the repository")
        .to_path_buf()
}

/// The cargo running xtask, at the repository root, without variables
/// that would move its output elsewhere (builds here find their outputs
/// under target/).
pub fn cargo() -> Command {
    let mut c = Command::new(std::env::var("CARGO").unwrap_or_else(|_| "cargo".into()));
    c.current_dir(root())
        .env_remove("CARGO_TARGET_DIR")
        .env_remove("CARGO_BUILD_TARGET");
    c
}

/// Runs `c`, echoing it, and fails with a message naming it if it fails.
pub fn run(c: &mut Command) -> Result {
    eprintln!("xtask: running {}", describe(c));
    let status = c
        .status()
        .map_err(|e| format!("cannot start {}: {e}", describe(c)))?;
    if status.success() {
        Ok(())
    } else {
        Err(format!("{} failed ({status})", describe(c)))
    }
}

pub fn describe(c: &Command) -> String {
    let mut s = c.get_program().to_string_lossy().into_owned();
    for a in c.get_args() {
        s.push(' ');
        s.push_str(&a.to_string_lossy());
    }
    s
}

/// Builds the no_std samples; returns their output directory.
pub fn build_samples(release: bool) -> Result<PathBuf> {
    let mut c = cargo();
    c.args([
        "build",
        "--manifest-path",
        "samples/Cargo.toml",
        "--target-dir",
        "samples/target",
    ]);
    if release {
        c.arg("--release");
    }
    run(&mut c)?;
    Ok(root()
        .join("samples/target")
        .join(if release { "release" } else { "debug" }))
}
