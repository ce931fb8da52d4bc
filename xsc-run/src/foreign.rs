//! Programs the host cannot start by itself, run through qemu's user mode
//! as binfmt_misc would run them (docs/xsc-run.md, "aarch64").
//!
//! - An x86_64 xsc-run given an aarch64 XSC binary hands the whole command
//!   line to the aarch64 build of xsc-run, installed beside it
//!   (`<bin>/../libexec/aarch64/xsc-run`), started by `qemu-aarch64-static`
//!   (or `qemu-aarch64`) from `PATH`, with `--emulator` naming the
//!   emulator.
//! - A runner started that way starts what its program execs through the
//!   same emulator: an XSC binary with itself again, a plain binary of its
//!   machine as `qemu -0 ARGV0 PATH ARGS`. The host runs anything else
//!   (scripts, its own binaries) natively.

use std::ffi::OsString;
use std::os::unix::ffi::{OsStrExt, OsStringExt};
use std::path::PathBuf;

/// A machine this host runs under an emulator: its `e_machine`, its name
/// (the runner's folder under `libexec`), the emulators to look for.
struct Foreign {
    machine: u16,
    name: &'static str,
    emulators: &'static [&'static str],
    package: &'static str,
}

const FOREIGN: &[Foreign] = &[Foreign {
    machine: object::elf::EM_AARCH64,
    name: "aarch64",
    emulators: &["qemu-aarch64-static", "qemu-aarch64"],
    package: "qemu-user-static",
}];

fn foreign(machine: u16) -> Option<&'static Foreign> {
    FOREIGN
        .iter()
        .find(|f| f.machine == machine && f.machine != crate::arch::EM_MACHINE)
}

/// Whether binaries of `machine` run here through an emulator.
pub fn runs(machine: u16) -> bool {
    foreign(machine).is_some()
}

/// Where the runner of `name` is installed: `libexec/<name>/xsc-run` beside
/// this runner's `bin`, or under `$XSC_HOME` (default `~/.xsc`, as the
/// toolchain installer has it) for a runner started from elsewhere (a
/// build folder).
fn runner(name: &str) -> Vec<PathBuf> {
    let rel = PathBuf::from("libexec").join(name).join("xsc-run");
    let mut places = Vec::new();
    if let Some(home) = std::env::current_exe()
        .ok()
        .and_then(|e| Some(e.parent()?.parent()?.to_path_buf()))
    {
        places.push(home.join(&rel));
    }
    let home = std::env::var_os("XSC_HOME")
        .map(PathBuf::from)
        .or_else(|| std::env::var_os("HOME").map(|h| PathBuf::from(h).join(".xsc")));
    if let Some(home) = home {
        places.push(home.join(&rel));
    }
    places
}

fn on_path(name: &str) -> Option<PathBuf> {
    let path = std::env::var_os("PATH")?;
    std::env::split_paths(&path)
        .map(|d| d.join(name))
        .find(|p| std::fs::metadata(p).is_ok_and(|m| m.is_file()))
}

/// Starts `argv` (this runner's whole command line) with the runner of
/// `machine` under its emulator. Returns only on failure, with what is
/// missing and how to get it.
pub fn exec(machine: u16, argv: &[OsString]) -> String {
    let Some(f) = foreign(machine) else {
        return format!("no runner for machine {machine}");
    };
    let places = runner(f.name);
    let Some(runner) = places.iter().find(|p| p.is_file()) else {
        return format!(
            "{} XSC binaries run with the {} build of xsc-run, which is not installed (looked for {}): run `cargo xsc setup`",
            f.name,
            f.name,
            places
                .iter()
                .map(|p| p.display().to_string())
                .collect::<Vec<_>>()
                .join(", ")
        );
    };
    let Some(emulator) = f.emulators.iter().find_map(|e| on_path(e)) else {
        return format!(
            "{} XSC binaries run under qemu's user mode here, and neither {} is on PATH: install the Debian package {}",
            f.name,
            f.emulators.join(" nor "),
            f.package
        );
    };
    let mut args: Vec<OsString> = vec![emulator.clone().into(), runner.clone().into()];
    let mut opt = OsString::from("--emulator=");
    opt.push(&emulator);
    args.push(opt);
    args.extend(argv.iter().skip(1).cloned());
    let e = exec_args(emulator.as_os_str().as_bytes(), args);
    format!("cannot start {}: {e}", emulator.display())
}

fn exec_args(exe: &[u8], args: Vec<OsString>) -> std::io::Error {
    use std::ffi::CString;
    let Ok(exe) = CString::new(exe) else {
        return std::io::ErrorKind::InvalidInput.into();
    };
    let Ok(args) = args
        .into_iter()
        .map(|a| CString::new(a.into_vec()))
        .collect::<Result<Vec<_>, _>>()
    else {
        return std::io::ErrorKind::InvalidInput.into();
    };
    let mut ptrs: Vec<*const libc::c_char> = args.iter().map(|a| a.as_ptr()).collect();
    ptrs.push(std::ptr::null());
    // SAFETY: NUL-terminated strings and a NULL-terminated array that live
    // across the call; the environment is the process's own.
    unsafe { libc::execv(exe.as_ptr(), ptrs.as_ptr()) };
    std::io::Error::last_os_error()
}

/// Opens this runner's own executable for [`runner_path`] (close-on-exec,
/// at a high number, out of the program's way).
pub fn open_own_executable() -> std::io::Result<i32> {
    use std::os::fd::AsRawFd;
    let own = std::fs::read_link("/proc/self/exe")?;
    let file = std::fs::File::open(own)?;
    // The file's own descriptor closes when `file` is dropped.
    crate::trace::dup_high(file.as_raw_fd())
}

/// The path the emulator starts this runner from again: its open
/// descriptor (config `runner_fd`), made inheritable by [`prepare_exec`].
pub fn runner_path(fd: i32) -> Vec<u8> {
    format!("/proc/self/fd/{fd}").into_bytes()
}

/// Lets the runner's descriptor through the coming execve (or, with
/// `inherit` false, closes it on exec again after a failed one).
pub fn prepare_exec(fd: i32, inherit: bool) {
    let flags = if inherit { 0 } else { libc::FD_CLOEXEC };
    // SAFETY: changes only the descriptor's close-on-exec flag.
    unsafe { libc::fcntl(fd, libc::F_SETFD, flags) };
}

/// The host's execve of a plain binary of this runner's machine at `path`
/// with `argv`, started through `emulator`.
pub fn under_emulator(emulator: &[u8], path: &[u8], argv: Vec<Vec<u8>>) -> (Vec<u8>, Vec<Vec<u8>>) {
    let argv0 = argv.first().cloned().unwrap_or_else(|| path.to_vec());
    let mut args = vec![emulator.to_vec(), b"-0".to_vec(), argv0, path.to_vec()];
    args.extend(argv.into_iter().skip(1));
    (emulator.to_vec(), args)
}
