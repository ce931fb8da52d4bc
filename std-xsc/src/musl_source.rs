//! musl's source, from Debian's source package (`apt-get source musl`).
//! Only the pristine tree is kept (under `$XSC_HOME/src`); nothing of it is
//! ever committed to this repository.

use crate::build::run;
use crate::setup::{have, is_root};
use std::path::{Path, PathBuf};
use std::process::Command;

pub const MUSL_VERSION: &str = "1.2.3";
const DEB_VERSION: &str = "1.2.3-1";
const DEB_SRC_LIST: &str = "/etc/apt/sources.list.d/xsc-deb-src.sources";

/// Makes `apt-get source` possible: a deb-src entry for bookworm and
/// `dpkg-source`. As root, adds what is missing; otherwise says what to do.
/// `package` is a source package that must then be available, in
/// `version` if one is given.
pub(crate) fn ensure_apt_source(
    package: &str,
    version: Option<&str>,
    log: &mut Vec<String>,
) -> Result<(), String> {
    let has_src = Command::new("apt-cache")
        .args(["showsrc", package])
        .output()
        .is_ok_and(|o| {
            let out = String::from_utf8_lossy(&o.stdout);
            o.status.success()
                && match version {
                    Some(v) => out.contains(&format!("Version: {v}")),
                    None => out.contains("Version: "),
                }
        });
    if !has_src || !have("dpkg-source") {
        if !is_root() {
            return Err(format!(
                "the source package {package} {} is not available: add a deb-src entry for Debian bookworm (as root, `cargo xsc setup` writes {DEB_SRC_LIST}) and install dpkg-dev, then run again",
                version.unwrap_or("")
            ));
        }
        if !has_src {
            std::fs::write(
                DEB_SRC_LIST,
                "Types: deb-src\nURIs: http://deb.debian.org/debian\nSuites: bookworm\nComponents: main\nSigned-By: /usr/share/keyrings/debian-archive-keyring.gpg\n",
            )
            .map_err(|e| format!("cannot write {DEB_SRC_LIST}: {e}"))?;
            log.push(format!(
                "added a deb-src entry for bookworm ({DEB_SRC_LIST})"
            ));
            run(Command::new("apt-get").args(["update", "-q"]))?;
        }
        if !have("dpkg-source") {
            run(Command::new("apt-get")
                .args(["install", "-y", "-q", "--no-install-recommends", "dpkg-dev"])
                .env("DEBIAN_FRONTEND", "noninteractive"))?;
            log.push("installed dpkg-dev (for dpkg-source)".into());
        }
    }
    Ok(())
}

/// The pristine musl source tree, fetched if needed.
pub fn ensure(home: &Path, log: &mut Vec<String>) -> Result<PathBuf, String> {
    let dir = home.join("src").join(format!("musl-{MUSL_VERSION}"));
    if std::fs::read_to_string(dir.join("VERSION")).is_ok_and(|v| v.trim() == MUSL_VERSION) {
        return Ok(dir);
    }
    ensure_apt_source("musl", Some(DEB_VERSION), log)?;
    let work = home.join("src").join("apt-get-source");
    let _ = std::fs::remove_dir_all(&work);
    std::fs::create_dir_all(&work).map_err(|e| format!("cannot create {}: {e}", work.display()))?;
    run(Command::new("apt-get")
        .args(["source", "-q", &format!("musl={DEB_VERSION}")])
        .current_dir(&work))?;
    let unpacked = work.join(format!("musl-{MUSL_VERSION}"));
    let version = std::fs::read_to_string(unpacked.join("VERSION")).unwrap_or_default();
    if version.trim() != MUSL_VERSION {
        return Err(format!(
            "apt-get source musl did not give musl {MUSL_VERSION} (found {:?} in {})",
            version.trim(),
            unpacked.display()
        ));
    }
    // Debian's packaging is not part of the libc.
    let _ = std::fs::remove_dir_all(unpacked.join("debian"));
    let _ = std::fs::remove_dir_all(&dir);
    std::fs::rename(&unpacked, &dir)
        .map_err(|e| format!("cannot move the source into place: {e}"))?;
    let _ = std::fs::remove_dir_all(&work);
    log.push(format!(
        "fetched musl {MUSL_VERSION} with apt-get source into {}",
        dir.display()
    ));
    Ok(dir)
}
