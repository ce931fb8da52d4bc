//! Where things live.

use crate::Arch;
use std::path::{Path, PathBuf};

/// `$XSC_HOME`, or `~/.xsc`: the per-user home of the XSC toolchain (the
/// sysroots, the tools, the rustup toolchain and the target specs).
pub fn xsc_home() -> PathBuf {
    if let Some(h) = std::env::var_os("XSC_HOME").filter(|h| !h.is_empty()) {
        return PathBuf::from(h);
    }
    let home = std::env::var_os("HOME")
        .map(PathBuf::from)
        .unwrap_or_else(|| PathBuf::from("/root"));
    home.join(".xsc")
}

/// The repository this build tool belongs to (patches, xsc-rt sources).
pub fn repo_root() -> PathBuf {
    Path::new(env!("CARGO_MANIFEST_DIR"))
        .parent()
        .expect("std-xsc is in the repository")
        .to_path_buf()
}

/// A built sysroot for one architecture.
#[derive(Clone, Debug)]
pub struct Sysroot {
    pub arch: Arch,
    pub dir: PathBuf,
}

impl Sysroot {
    pub fn new(home: &Path, arch: Arch) -> Sysroot {
        Sysroot {
            arch,
            dir: home.join("sysroot").join(arch.name()),
        }
    }
    pub fn lib(&self) -> PathBuf {
        self.dir.join("lib")
    }
    pub fn include(&self) -> PathBuf {
        self.dir.join("include")
    }
    pub fn libc(&self) -> PathBuf {
        self.lib().join("libc.a")
    }
    pub fn stamp(&self) -> PathBuf {
        self.dir.join(".xsc-stamp")
    }
    pub fn note_object(&self) -> PathBuf {
        self.lib().join("xsc_note.o")
    }
    /// Is there a complete sysroot here (any stamp)?
    pub fn is_built(&self) -> bool {
        self.stamp().is_file() && self.libc().is_file()
    }
}
