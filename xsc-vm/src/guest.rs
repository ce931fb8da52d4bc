//! What goes into the VM: the check that the program can run on the XSC
//! kernel, the guest's `/init` (compiled once with `xsc-cc`), the
//! program's environment and the initramfs that carries them (the files
//! `init.c` reads).

use crate::cpio::Archive;
use crate::{Failure, Options};
use object::read::elf::{FileHeader, ProgramHeader};
use std::ffi::OsString;
use std::hash::{DefaultHasher, Hash, Hasher};
use std::os::unix::ffi::OsStrExt;
use std::path::Path;
use std::process::Command;

/// The guest's /init.
const INIT_C: &str = include_str!("init.c");

/// Why `data` cannot run on this (x86_64) XSC kernel, if it cannot.
pub fn check_program(data: &[u8]) -> Result<(), String> {
    use object::elf;
    let h = elf::FileHeader64::<object::Endianness>::parse(data)
        .map_err(|_| "not a 64-bit ELF executable".to_string())?;
    let endian = h.endian().map_err(|e| e.to_string())?;
    match h.e_machine(endian) {
        elf::EM_X86_64 => {}
        elf::EM_AARCH64 => {
            return Err(
                "it is an aarch64 program, and the XSC kernel exists for x86_64 only so far (run it under xsc-run)"
                    .into(),
            )
        }
        m => return Err(format!("its machine ({m}) is not x86_64")),
    }
    let phdrs = h
        .program_headers(endian, data)
        .map_err(|e| format!("malformed ELF: {e}"))?;
    if phdrs.iter().any(|p| p.p_type(endian) == elf::PT_INTERP) {
        return Err("it is dynamically linked; the VM holds static programs only".into());
    }
    elf_notes::read::check_note(data).map_err(|e| match e {
        elf_notes::NoteError::Missing => {
            "it is not an XSC program (no XSC_ABI note): build it for x86_64-unknown-linux-xsc (`cargo xsc build`, `xsc-cc`)".to_string()
        }
        e => e.to_string(),
    })?;
    Ok(())
}

/// The guest's /init, compiled with `xsc-cc` into `$XSC_HOME/kernel/runner`
/// the first time this version of it is needed.
pub fn init_binary() -> Result<Vec<u8>, Failure> {
    let home = std_xsc::xsc_home();
    let mut h = DefaultHasher::new();
    INIT_C.hash(&mut h);
    let dir = home.join("kernel/runner");
    let bin = dir.join(format!("init-{:016x}", h.finish()));
    if !bin.is_file() {
        let cc = home.join("bin/xsc-cc");
        if !cc.is_file() {
            return Err(Failure::new(
                125,
                format!("{} is missing: `cargo xsc setup` installs it", cc.display()),
            ));
        }
        std::fs::create_dir_all(&dir)
            .map_err(|e| Failure::new(125, format!("{}: {e}", dir.display())))?;
        let tmp = dir.join(format!("init-{}.tmp", std::process::id()));
        let src = tmp.with_extension("c");
        std::fs::write(&src, INIT_C)
            .map_err(|e| Failure::new(125, format!("{}: {e}", src.display())))?;
        let out = Command::new(&cc)
            .args(["-O2", "-Wall", "-o"])
            .arg(&tmp)
            .arg(&src)
            .output()
            .map_err(|e| Failure::new(125, format!("cannot run {}: {e}", cc.display())))?;
        let _ = std::fs::remove_file(&src);
        if !out.status.success() {
            let _ = std::fs::remove_file(&tmp);
            return Err(Failure::new(
                125,
                format!(
                    "compiling the guest's /init with xsc-cc failed:\n{}",
                    String::from_utf8_lossy(&out.stderr)
                ),
            ));
        }
        std::fs::rename(&tmp, &bin)
            .map_err(|e| Failure::new(125, format!("{}: {e}", bin.display())))?;
    }
    std::fs::read(&bin).map_err(|e| Failure::new(125, format!("{}: {e}", bin.display())))
}

/// The program's environment: the runner's own (or none, with
/// `--env-clear`), `PWD` set to the working directory, then each `--env`
/// (`NAME=VALUE`, or `NAME` for the runner's value of it).
pub fn environment(opts: &Options, cwd: &Path) -> Result<Vec<OsString>, Failure> {
    let mut vars: Vec<(OsString, OsString)> = if opts.env_clear {
        Vec::new()
    } else {
        std::env::vars_os().collect()
    };
    let mut set = |name: OsString, value: OsString| {
        vars.retain(|(n, _)| *n != name);
        vars.push((name, value));
    };
    if !opts.env_clear {
        set("PWD".into(), cwd.as_os_str().to_owned());
    }
    for e in &opts.env {
        match e.split_once('=') {
            Some(("", _)) => return Err(Failure::new(125, format!("--env {e}: no name"))),
            Some((n, v)) => set(n.into(), v.into()),
            None => {
                if let Some(v) = std::env::var_os(e) {
                    set(e.into(), v)
                }
            }
        }
    }
    Ok(vars
        .into_iter()
        .map(|(n, v)| {
            let mut s = n;
            s.push("=");
            s.push(v);
            s
        })
        .collect())
}

/// What the guest runs.
pub struct Guest<'a> {
    pub init: &'a [u8],
    pub program: &'a [u8],
    pub prog_path: &'a Path,
    pub argv: &'a [String],
    pub env: &'a [OsString],
    pub cwd: &'a Path,
    pub poll_us: u32,
}

fn nul_joined<I: IntoIterator<Item = Vec<u8>>>(items: I) -> Vec<u8> {
    let mut out = Vec::new();
    for mut s in items {
        out.append(&mut s);
        out.push(0);
    }
    out
}

/// The initramfs, as bytes.
pub fn initramfs(g: &Guest) -> Result<Vec<u8>, Failure> {
    let path_str = |p: &Path| -> Result<String, Failure> {
        p.to_str().map(String::from).ok_or_else(|| {
            Failure::new(
                125,
                format!("{}: the VM needs paths that are UTF-8", p.display()),
            )
        })
    };
    let prog = path_str(g.prog_path)?;
    let cwd = path_str(g.cwd)?;
    if cwd == "/" {
        return Err(Failure::new(
            125,
            "the working directory is /, which the VM cannot share: run from a project's directory",
        ));
    }
    let mut a = Archive::default();
    for d in ["/dev", "/proc", "/sys", "/tmp", "/xsc-vm"] {
        a.dir(d);
    }
    a.char_device("/dev/console", 5, 1);
    a.file("/init", 0o755, g.init);
    a.file(&prog, 0o755, g.program);
    a.file(
        "/xsc-vm/argv",
        0o644,
        &nul_joined(g.argv.iter().map(|s| s.as_bytes().to_vec())),
    );
    a.file(
        "/xsc-vm/env",
        0o644,
        &nul_joined(g.env.iter().map(|s| s.as_bytes().to_vec())),
    );
    a.file("/xsc-vm/cwd", 0o644, cwd.as_bytes());
    a.file("/xsc-vm/prog", 0o644, prog.as_bytes());
    if g.poll_us > 0 {
        a.file("/xsc-vm/poll_us", 0o644, g.poll_us.to_string().as_bytes());
    }
    Ok(a.finish())
}
