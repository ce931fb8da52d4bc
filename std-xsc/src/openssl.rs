//! OpenSSL for the XSC targets, built once per machine from Debian's source
//! package (as the musl fork is) into `$XSC_HOME/native/<arch>/openssl`:
//! `include/openssl/`, `lib/libssl.a`, `lib/libcrypto.a`, `lib/pkgconfig/`.
//!
//! Why: `openssl-sys` with the `vendored` feature builds OpenSSL through
//! `openssl-src`, whose table of targets cannot know the XSC ones ("don't
//! know how to configure OpenSSL for x86_64-unknown-linux-xsc"). The `xsc`
//! toolchain's cargo instead points `openssl-sys` at this build through the
//! variables it reads for one target (`<TARGET>_OPENSSL_DIR`,
//! `<TARGET>_OPENSSL_STATIC`, `<TARGET>_OPENSSL_NO_VENDOR`), so crates
//! using `openssl` (vendored or not) build unchanged and link a static
//! OpenSSL, as a vendored build would. Host builds are not affected.

use crate::build::run;
use crate::{musl_source, verify, Arch};
use std::hash::{DefaultHasher, Hash, Hasher};
use std::path::{Path, PathBuf};
use std::process::Command;

const STAMP: &str = ".xsc-stamp";

/// The OpenSSL prefix for `arch`.
pub fn dir(home: &Path, arch: Arch) -> PathBuf {
    home.join("native").join(arch.name()).join("openssl")
}

/// The pristine source tree (`$XSC_HOME/src/openssl-<version>`), fetched
/// with `apt-get source openssl` if there is none.
fn source(home: &Path, log: &mut Vec<String>) -> Result<PathBuf, String> {
    let src = home.join("src");
    let existing = |src: &Path| -> Option<PathBuf> {
        std::fs::read_dir(src)
            .ok()?
            .filter_map(|e| e.ok().map(|e| e.path()))
            .filter(|p| {
                p.file_name()
                    .is_some_and(|n| n.to_string_lossy().starts_with("openssl-"))
                    && p.join("VERSION.dat").is_file()
            })
            .max()
    };
    if let Some(d) = existing(&src) {
        return Ok(d);
    }
    musl_source::ensure_apt_source("openssl", None, log)?;
    let work = src.join("apt-get-source-openssl");
    let _ = std::fs::remove_dir_all(&work);
    std::fs::create_dir_all(&work).map_err(|e| format!("cannot create {}: {e}", work.display()))?;
    run(Command::new("apt-get")
        .args(["source", "-q", "openssl"])
        .current_dir(&work))?;
    let unpacked = existing(&work).ok_or_else(|| {
        format!(
            "apt-get source openssl left no source tree in {}",
            work.display()
        )
    })?;
    let dest = src.join(unpacked.file_name().unwrap_or_default());
    let _ = std::fs::remove_dir_all(&dest);
    std::fs::rename(&unpacked, &dest)
        .map_err(|e| format!("cannot move OpenSSL's source into place: {e}"))?;
    let _ = std::fs::remove_dir_all(&work);
    log.push(format!(
        "fetched OpenSSL with apt-get source into {}",
        dest.display()
    ));
    Ok(dest)
}

/// OpenSSL's own name for the configuration of `arch` on Linux.
fn configuration(arch: Arch) -> &'static str {
    match arch {
        Arch::X86_64 => "linux-x86_64",
        Arch::Aarch64 => "linux-aarch64",
    }
}

fn key(source: &Path, arch: Arch) -> String {
    let mut h = DefaultHasher::new();
    source.file_name().hash(&mut h);
    std::fs::read(source.join("VERSION.dat"))
        .unwrap_or_default()
        .hash(&mut h);
    arch.name().hash(&mut h);
    Command::new(arch.cc())
        .arg("--version")
        .output()
        .map(|o| o.stdout)
        .unwrap_or_default()
        .hash(&mut h);
    include_str!("openssl.rs").hash(&mut h);
    format!("{:016x}", h.finish())
}

/// What [`build`] did.
pub struct Built {
    pub dir: PathBuf,
    pub rebuilt: bool,
    pub log: Vec<String>,
}

/// Builds OpenSSL for `arch` with the XSC C compiler unless the cached
/// build is up to date; refuses a build whose libraries hold a
/// system-call instruction.
pub fn build(home: &Path, arch: Arch) -> Result<Built, String> {
    let mut log = Vec::new();
    let src = source(home, &mut log)?;
    let cc = home.join("bin").join(match arch {
        Arch::X86_64 => "xsc-cc",
        Arch::Aarch64 => "aarch64-xsc-cc",
    });
    let prefix = dir(home, arch);
    let key = key(&src, arch);
    if std::fs::read_to_string(prefix.join(STAMP)).is_ok_and(|s| s.trim() == key) {
        return Ok(Built {
            dir: prefix,
            rebuilt: false,
            log,
        });
    }
    let work = home.join("build").join(format!("openssl-{}", arch.name()));
    let _ = std::fs::remove_dir_all(&work);
    let _ = std::fs::remove_dir_all(&prefix);
    std::fs::create_dir_all(&work).map_err(|e| e.to_string())?;
    let binutils = arch.binutils_prefix();
    let jobs = std::thread::available_parallelism().map_or(2, |n| n.get());
    // Out of tree, as OpenSSL 3 supports. no-shared: static libraries, as a
    // vendored build makes; no-async: musl has no makecontext; no-asm:
    // OpenSSL's perlasm keeps its tables (AES, Whirlpool, ...) in .text,
    // where the verifier decodes them as code (far returns, `int n`) and
    // must refuse the link, so the C implementations are used; the rest
    // (tests, dynamic engines) is not a library; `build_libs` skips the
    // command-line tool.
    run(Command::new(src.join("Configure"))
        .current_dir(&work)
        .args([
            configuration(arch),
            "no-shared",
            "no-async",
            "no-asm",
            "no-tests",
            "no-dso",
            "no-engine",
        ])
        .arg(format!("--prefix={}", prefix.display()))
        .arg("--libdir=lib")
        // Where Debian's OpenSSL finds its configuration and certificates.
        .arg("--openssldir=/usr/lib/ssl")
        .env("CC", &cc)
        .env("AR", format!("{binutils}ar"))
        .env("RANLIB", format!("{binutils}ranlib")))
    .map_err(|e| format!("configuring OpenSSL for {}: {e}", arch.xsc_target()))?;
    run(Command::new("make")
        .current_dir(&work)
        .arg(format!("-j{jobs}"))
        .arg("build_libs"))
    .map_err(|e| format!("building OpenSSL for {}: {e}", arch.xsc_target()))?;
    run(Command::new("make").current_dir(&work).arg("install_dev"))
        .map_err(|e| format!("installing OpenSSL for {}: {e}", arch.xsc_target()))?;
    for lib in ["libcrypto.a", "libssl.a"] {
        let path = prefix.join("lib").join(lib);
        let sites = verify::forbidden_instructions(arch, &path)?;
        if !sites.is_empty() {
            let _ = std::fs::remove_dir_all(&prefix);
            return Err(format!(
                "OpenSSL's {lib} for {} holds system-call instructions: {sites:?}",
                arch.xsc_target()
            ));
        }
        log.push(format!(
            "verified: no system-call instruction in {}",
            path.display()
        ));
    }
    std::fs::write(prefix.join(STAMP), &key).map_err(|e| e.to_string())?;
    let _ = std::fs::remove_dir_all(&work);
    Ok(Built {
        dir: prefix,
        rebuilt: true,
        log,
    })
}
