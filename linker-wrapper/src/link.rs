//! Linking against the XSC sysroot.

use std::ffi::{OsStr, OsString};
use std::fmt;
use std::path::{Path, PathBuf};
use std::process::Command;
use std_xsc::{xsc_home, Arch, Sysroot};

/// Why a compile or link failed; `code` is the exit status to end with.
#[derive(Debug)]
pub struct LinkError {
    pub message: String,
    pub code: i32,
}

impl fmt::Display for LinkError {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(&self.message)
    }
}

fn fail(message: impl Into<String>) -> LinkError {
    LinkError {
        message: message.into(),
        code: 1,
    }
}

/// The C compiler and sysroot of one XSC target.
pub struct Driver {
    pub tool: &'static str,
    pub arch: Arch,
    pub sysroot: Sysroot,
}

fn arch_named(name: &str) -> Option<Arch> {
    Arch::ALL.into_iter().find(|a| a.name() == name)
}

impl Driver {
    /// Picks the architecture from `--xsc-arch=NAME` (which the target specs
    /// pass, and which is removed from `args`), else from a `NAME-` prefix of
    /// the program name (`aarch64-xsc-cc`), else `XSC_ARCH`, else x86_64.
    pub fn new(tool: &'static str, args: &mut Vec<OsString>) -> Result<Driver, LinkError> {
        let mut arch = None;
        let mut bad = None;
        args.retain(
            |a| match a.to_str().and_then(|s| s.strip_prefix("--xsc-arch=")) {
                Some(name) => {
                    arch = arch_named(name);
                    if arch.is_none() {
                        bad = Some(name.to_string());
                    }
                    false
                }
                None => true,
            },
        );
        if let Some(name) = bad {
            return Err(fail(format!(
                "{tool}: unknown XSC architecture `{name}` (x86_64 or aarch64)"
            )));
        }
        let from_argv0 = std::env::args()
            .next()
            .and_then(|p| {
                Path::new(&p)
                    .file_name()
                    .map(|f| f.to_string_lossy().into_owned())
            })
            .and_then(|f| f.split_once('-').and_then(|(a, _)| arch_named(a)));
        let arch = arch
            .or(from_argv0)
            .or_else(|| std::env::var("XSC_ARCH").ok().and_then(|a| arch_named(&a)))
            .unwrap_or(Arch::X86_64);
        let sysroot = Sysroot::new(&xsc_home(), arch);
        if !sysroot.is_built() {
            return Err(fail(format!(
                "{tool}: the XSC sysroot for {arch} is not built ({} is missing): run `cargo xsc setup` (or `cargo xtask setup` in the toolchain's repository)",
                sysroot.libc().display()
            )));
        }
        Ok(Driver {
            tool,
            arch,
            sysroot,
        })
    }

    fn cc_file(&self, name: &str) -> Result<PathBuf, LinkError> {
        let out = Command::new(self.arch.cc())
            .arg(format!("-print-file-name={name}"))
            .output()
            .map_err(|e| fail(format!("{}: cannot run {}: {e}", self.tool, self.arch.cc())))?;
        let p = PathBuf::from(String::from_utf8_lossy(&out.stdout).trim());
        if p.is_absolute() {
            Ok(p)
        } else {
            Err(fail(format!(
                "{}: {} has no {name}",
                self.tool,
                self.arch.cc()
            )))
        }
    }

    /// Flags that make the C compiler see the fork's headers, not the host's.
    pub fn compile_flags(&self) -> Result<Vec<OsString>, LinkError> {
        Ok(vec![
            "-nostdinc".into(),
            "-isystem".into(),
            self.sysroot.include().into(),
            "-isystem".into(),
            self.cc_file("include")?.into(),
        ])
    }

    /// Compiles only (no link step): the C compiler with the fork's headers.
    pub fn compile(&self, args: &[OsString]) -> Result<(), LinkError> {
        let mut c = Command::new(self.arch.cc());
        c.args(self.compile_flags()?).args(args);
        run_status(self.tool, &mut c)
    }

    /// Links `args` (gcc-style) into a static XSC executable and verifies
    /// it. With `c_sources`, C files among `args` are compiled as well.
    pub fn link(&self, args: &[OsString], c_sources: bool) -> Result<(), LinkError> {
        let has = |flag: &str| args.iter().any(|a| a == flag);
        if has("-shared") {
            return Err(fail(format!(
                "{}: XSC binaries are static executables; shared objects (-shared) are not supported",
                self.tool
            )));
        }
        let out = args
            .iter()
            .position(|a| a == "-o")
            .and_then(|i| args.get(i + 1))
            .map(PathBuf::from)
            .unwrap_or_else(|| PathBuf::from("a.out"));
        // Static-pie unless asked for a plain static executable (`-static`,
        // or `-no-pie`, which must get crt1.o: rcrt1.o's start code
        // relocates a PIE and faults in one without a dynamic section).
        let pie = (!has("-static") && !has("-no-pie")) || has("-static-pie");
        let lib = self.sysroot.lib();
        let (crt1, crtbegin, crtend) = if pie {
            ("rcrt1.o", "crtbeginS.o", "crtendS.o")
        } else {
            ("crt1.o", "crtbegin.o", "crtend.o")
        };
        let map = with_suffix(&out, ".xsc-ld.map");
        let mut c = Command::new(self.arch.cc());
        if c_sources {
            c.args(self.compile_flags()?);
        }
        c.args(["-nostdlib", "-nostartfiles"]);
        if !has("-static-pie") && !has("-static") {
            c.arg(if pie { "-static-pie" } else { "-static" });
        }
        c.arg(lib.join(crt1))
            .arg(lib.join("crti.o"))
            .arg(self.cc_file(crtbegin)?);
        c.arg("-L").arg(&lib);
        c.args(args);
        // libgcc in the group: on aarch64 its outline atomics
        // (lse-init.o) call back into libc (`__getauxval`).
        c.args(["-Wl,-Bstatic", "-Wl,--start-group", "-lc", "-lxsc_rt"]);
        c.arg(self.cc_file("libgcc.a")?);
        c.arg("-Wl,--end-group");
        c.arg(self.sysroot.note_object());
        c.arg(self.cc_file(crtend)?).arg(lib.join("crtn.o"));
        // separate-code: read-only data gets its own non-executable
        // segment, so no constant can look like a system-call instruction
        // in executable memory (the default on x86_64, not on aarch64).
        c.args([
            "-Wl,-z,noexecstack",
            "-Wl,-z,separate-code",
            "-Wl,--no-dynamic-linker",
        ]);
        c.arg(concat_os("-Wl,-Map=", map.as_os_str()));
        let linked = run_status(self.tool, &mut c);
        if let Err(e) = linked {
            let _ = std::fs::remove_file(&map);
            return Err(e);
        }
        let linked = crate::blame::linked_crates(args);
        let verified = crate::verify::verify(self.tool, &out, Some(&map), &linked);
        let _ = std::fs::remove_file(&map);
        if let Err(message) = verified {
            // Leave no half-made binary behind.
            let _ = std::fs::remove_file(&out);
            return Err(fail(message));
        }
        Ok(())
    }
}

fn with_suffix(p: &Path, suffix: &str) -> PathBuf {
    let mut s = p.as_os_str().to_owned();
    s.push(suffix);
    PathBuf::from(s)
}

fn concat_os(a: &str, b: &OsStr) -> OsString {
    let mut s = OsString::from(a);
    s.push(b);
    s
}

fn run_status(tool: &str, c: &mut Command) -> Result<(), LinkError> {
    let status = c
        .status()
        .map_err(|e| fail(format!("{tool}: cannot run {:?}: {e}", c.get_program())))?;
    if status.success() {
        Ok(())
    } else {
        Err(LinkError {
            message: String::new(), // the compiler has said what went wrong
            code: status.code().unwrap_or(1),
        })
    }
}
