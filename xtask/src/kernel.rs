//! `cargo xtask kernel`: Linux with the XSC ABI (kernel/README.md).
//!
//! Debian's Linux 6.1 source (`linux-source-6.1`), XSC's own files from
//! `kernel/src` copied into the tree at the same paths (`xsc/`, the arch's
//! `xsc.c`, the headers), the hooks in `kernel/patches` applied in order,
//! `make tinyconfig` plus `kernel/config.fragment`, `bzImage`. The result
//! is kept under `$XSC_HOME/kernel/<fingerprint>/bzImage` (with its
//! `System.map`), the fingerprint
//! covering the source tarball, the sources, the hooks and the fragment: a
//! second run with nothing changed builds nothing. The plain kernel is
//! also copied to `$XSC_HOME/kernel/x86_64/bzImage`, the one the kernel
//! runner `xsc-vm` boots.
//!
//! `--debug` builds the debug kernel: `kernel/config.debug.fragment` on
//! top (KASAN, UBSAN, KFENCE, lockdep, lockup and hung-task detection,
//! WARN and BUG with symbols), cached beside the other under its own
//! fingerprint.

use crate::cmd::{self, Result};
use std::hash::{DefaultHasher, Hash, Hasher};
use std::path::{Path, PathBuf};
use std::process::Command;

/// Debian's package of the kernel source.
pub const SOURCE_TARBALL: &str = "/usr/src/linux-source-6.1.tar.xz";

fn kernel_dir() -> PathBuf {
    cmd::root().join("kernel")
}

/// Which kernel: the one the suite runs on, or the same with the
/// kernel's own checkers on.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Flavour {
    Plain,
    Debug,
}

impl Flavour {
    pub fn from_debug(debug: bool) -> Flavour {
        if debug {
            Flavour::Debug
        } else {
            Flavour::Plain
        }
    }

    /// The configuration fragments merged over `make tinyconfig`, in order.
    fn fragments(self) -> Vec<PathBuf> {
        let mut f = vec![kernel_dir().join("config.fragment")];
        if self == Flavour::Debug {
            f.push(kernel_dir().join("config.debug.fragment"));
        }
        f
    }

    /// What the kernel command line adds: a WARN ends a debug run.
    pub fn boot_args(self) -> &'static str {
        match self {
            Flavour::Plain => "",
            Flavour::Debug => " panic_on_warn=1",
        }
    }

    fn cache_name(self, fingerprint: &str) -> String {
        match self {
            Flavour::Plain => fingerprint.to_string(),
            Flavour::Debug => format!("{fingerprint}-debug"),
        }
    }
}

fn patches() -> Result<Vec<PathBuf>> {
    std_xsc::build::patch_files(&kernel_dir().join("patches"))
}

/// XSC's own kernel files (`kernel/src`), as paths relative to it (the
/// same paths in the kernel tree), sorted.
fn sources() -> Result<Vec<PathBuf>> {
    fn walk(root: &Path, dir: &Path, out: &mut Vec<PathBuf>) -> Result {
        let entries = std::fs::read_dir(dir).map_err(|e| format!("{}: {e}", dir.display()))?;
        for e in entries {
            let path = e.map_err(|e| e.to_string())?.path();
            if path.is_dir() {
                walk(root, &path, out)?;
            } else {
                out.push(
                    path.strip_prefix(root)
                        .map_err(|e| e.to_string())?
                        .to_path_buf(),
                );
            }
        }
        Ok(())
    }
    let root = kernel_dir().join("src");
    let mut out = Vec::new();
    walk(&root, &root, &mut out)?;
    out.sort();
    Ok(out)
}

/// What the build depends on: the tarball (its size and modification
/// time: Debian replaces it on an update), the sources (their paths and
/// text), the hooks and the fragment.
fn fingerprint(flavour: Flavour) -> Result<String> {
    let mut h = DefaultHasher::new();
    let meta = std::fs::metadata(SOURCE_TARBALL).map_err(|e| {
        format!("{SOURCE_TARBALL}: {e} (the Debian package linux-source-6.1; `cargo xtask setup` installs it)")
    })?;
    meta.len().hash(&mut h);
    meta.modified().ok().hash(&mut h);
    for rel in sources()? {
        rel.hash(&mut h);
        let p = kernel_dir().join("src").join(&rel);
        std::fs::read(&p)
            .map_err(|e| format!("{}: {e}", p.display()))?
            .hash(&mut h);
    }
    for p in patches()? {
        std::fs::read(&p)
            .map_err(|e| format!("{}: {e}", p.display()))?
            .hash(&mut h);
    }
    for f in flavour.fragments() {
        std::fs::read(&f)
            .map_err(|e| format!("{}: {e}", f.display()))?
            .hash(&mut h);
    }
    Ok(format!("{:016x}", h.finish()))
}

/// The options the fragments set (`CONFIG_X=y`).
fn wanted_options(flavour: Flavour) -> Result<Vec<String>> {
    let mut wanted = Vec::new();
    for f in flavour.fragments() {
        let text = std::fs::read_to_string(&f).map_err(|e| format!("{}: {e}", f.display()))?;
        wanted.extend(
            text.lines()
                .map(str::trim)
                .filter(|l| l.starts_with("CONFIG_"))
                .map(String::from),
        );
    }
    Ok(wanted)
}

/// Builds the kernel unless the cache has it; returns the bzImage.
pub fn build(flavour: Flavour) -> Result<PathBuf> {
    let home = std_xsc::xsc_home();
    let fp = fingerprint(flavour)?;
    let cached = home
        .join("kernel")
        .join(flavour.cache_name(&fp))
        .join("bzImage");
    if cached.is_file() {
        eprintln!("xtask: kernel up to date: {}", cached.display());
        install(flavour, &cached)?;
        return Ok(cached);
    }
    let work = home.join("build/kernel");
    let _ = std::fs::remove_dir_all(&work);
    std::fs::create_dir_all(&work).map_err(|e| format!("{}: {e}", work.display()))?;
    cmd::run(
        Command::new("tar")
            .args(["xf", SOURCE_TARBALL, "-C"])
            .arg(&work),
    )?;
    let src = work.join("linux-source-6.1");
    for rel in sources()? {
        let to = src.join(&rel);
        if let Some(dir) = to.parent() {
            std::fs::create_dir_all(dir).map_err(|e| format!("{}: {e}", dir.display()))?;
        }
        std::fs::copy(kernel_dir().join("src").join(&rel), &to)
            .map_err(|e| format!("kernel/src/{}: {e}", rel.display()))?;
    }
    for p in patches()? {
        cmd::run(
            Command::new("patch")
                .args(["-p1", "-s", "-i"])
                .arg(&p)
                .current_dir(&src),
        )
        .map_err(|e| format!("{} does not apply: {e}", p.display()))?;
    }
    let make =
        |args: &[&str]| -> Result { cmd::run(Command::new("make").args(args).current_dir(&src)) };
    make(&["-s", "tinyconfig"])?;
    cmd::run(
        Command::new("scripts/kconfig/merge_config.sh")
            .args(["-m", ".config"])
            .args(flavour.fragments())
            .current_dir(&src),
    )?;
    make(&["-s", "olddefconfig"])?;
    let config = std::fs::read_to_string(src.join(".config")).map_err(|e| e.to_string())?;
    for want in wanted_options(flavour)? {
        if !config.lines().any(|l| l.trim() == want) {
            return Err(format!(
                "{want} (kernel/config*.fragment) did not stick (a dependency is missing from the fragment)"
            ));
        }
    }
    let jobs = std::thread::available_parallelism().map_or(2, |n| n.get());
    make(&[&format!("-j{jobs}"), "-s", "bzImage"])?;
    let dir = cached.parent().unwrap_or(Path::new("."));
    std::fs::create_dir_all(dir).map_err(|e| e.to_string())?;
    // The symbols, for the count plugin's profile (docs/kernel-cost.md).
    std::fs::copy(src.join("System.map"), dir.join("System.map")).map_err(|e| e.to_string())?;
    let tmp = dir.join("bzImage.tmp");
    std::fs::copy(src.join("arch/x86/boot/bzImage"), &tmp).map_err(|e| e.to_string())?;
    std::fs::rename(&tmp, &cached).map_err(|e| e.to_string())?;
    let _ = std::fs::remove_dir_all(&work);
    eprintln!("xtask: built the XSC kernel: {}", cached.display());
    install(flavour, &cached)?;
    Ok(cached)
}

/// Where the kernel runner (`xsc-vm`) finds the kernel: the plain kernel
/// last built from this repository.
pub fn installed_image() -> PathBuf {
    std_xsc::xsc_home().join("kernel/x86_64/bzImage")
}

/// Makes `image` the kernel `xsc-vm` boots (a plain kernel only).
fn install(flavour: Flavour, image: &Path) -> Result {
    if flavour != Flavour::Plain {
        return Ok(());
    }
    let to = installed_image();
    if std::fs::read(&to).ok() == std::fs::read(image).ok() {
        return Ok(());
    }
    let dir = to.parent().unwrap_or(Path::new("."));
    std::fs::create_dir_all(dir).map_err(|e| format!("{}: {e}", dir.display()))?;
    let tmp = dir.join("bzImage.tmp");
    std::fs::copy(image, &tmp).map_err(|e| format!("{}: {e}", tmp.display()))?;
    std::fs::rename(&tmp, &to).map_err(|e| format!("{}: {e}", to.display()))?;
    eprintln!(
        "xtask: xsc-vm boots {} (a copy of {})",
        to.display(),
        image.display()
    );
    Ok(())
}

pub fn run(debug: bool) -> Result {
    build(Flavour::from_debug(debug)).map(|_| ())
}
