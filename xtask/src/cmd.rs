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

/// Fetches Debian's source of `package` into `work` (emptied first) with
/// `apt-get source --download-only`; returns its upstream tarball.
pub fn debian_orig_tarball(package: &str, work: &Path) -> Result<PathBuf> {
    let _ = std::fs::remove_dir_all(work);
    std::fs::create_dir_all(work).map_err(|e| format!("{}: {e}", work.display()))?;
    run(Command::new("apt-get")
        .args(["source", "--download-only", package])
        .current_dir(work))
    .map_err(|e| {
        format!("{e}: Debian's {package} source is needed (deb-src lines in the apt sources)")
    })?;
    let prefix = format!("{package}_");
    std::fs::read_dir(work)
        .map_err(|e| e.to_string())?
        .flatten()
        .map(|e| e.path())
        .find(|p| {
            p.file_name().and_then(|n| n.to_str()).is_some_and(|n| {
                n.starts_with(&prefix) && n.contains(".orig.tar") && !n.ends_with(".asc")
            })
        })
        .ok_or_else(|| format!("apt-get source {package} gave no .orig tarball"))
}
