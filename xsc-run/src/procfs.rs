//! /proc describes the program, not the kernel that runs it.
//!
//! Under a real XSC kernel the program is the process. Here the process is
//! xsc-run, so calls naming these /proc files are rewritten:
//! - `/proc/self/exe` (or `/proc/<own pid>/exe`, `/proc/thread-self/exe`):
//!   `open`/`openat`/`openat2`, `stat`/`newfstatat`/`statx`,
//!   `access`/`faccessat`/`faccessat2` get the program's path in place of
//!   the link, `readlink`/`readlinkat` return it (backtraces read the
//!   program's symbols this way; `std::env::current_exe` names it);
//! - `/proc/self/cmdline` and `/proc/self/environ` opened: a memfd holding
//!   the program's argument or environment strings, read from its initial
//!   stack as Linux reads them.
//!
//! Every call is made by the program thread itself, so `/proc/thread-self`
//! already names it and needs no rewriting.

use crate::memory;
use std::ffi::CString;
use std::sync::OnceLock;

static PROGRAM: OnceLock<CString> = OnceLock::new();
/// `[start, end)` of the program's argument and environment strings.
static STRINGS: OnceLock<((u64, u64), (u64, u64))> = OnceLock::new();

/// Records the program's absolute path.
pub fn set_program(path: CString) {
    let _ = PROGRAM.set(path);
}

pub fn program() -> Option<&'static CString> {
    PROGRAM.get()
}

/// Does `path` name this process's executable link: `exe` of `/proc/self`,
/// `/proc/thread-self`, `/proc/<pid>` or `/proc/<tid>` of one of our
/// threads, or `/proc/<self|pid>/task/<tid>`, spelled with any extra `/`,
/// `.` or `..` components?
pub fn names_own_exe(path: &[u8]) -> bool {
    let path = normalize(path);
    let parts: Vec<&[u8]> = path.split(|&b| b == b'/').skip(1).collect();
    match parts.as_slice() {
        [b"proc", who, b"exe"] => is_own(who, true),
        [b"proc", who, b"task", tid, b"exe"] => {
            is_own(who, false) && parse_id(tid).is_some_and(is_own_thread)
        }
        _ => false,
    }
}

/// `self`, our pid, `thread-self` (if `threads`) or one of our thread ids
/// (if `threads`), as the second component of a /proc path.
fn is_own(who: &[u8], threads: bool) -> bool {
    match who {
        b"self" => true,
        b"thread-self" => threads,
        _ => parse_id(who)
            .is_some_and(|id| id == crate::sys::getpid() || (threads && is_own_thread(id))),
    }
}

fn parse_id(s: &[u8]) -> Option<i32> {
    std::str::from_utf8(s)
        .ok()?
        .parse::<i32>()
        .ok()
        .filter(|&id| id > 0)
}

/// Is `tid` a thread of this process? (Signal 0 sends nothing.)
fn is_own_thread(tid: i32) -> bool {
    crate::sys::tgkill(tid, 0) == 0
}

/// Could an absolute path starting with these 5 bytes lead into `/proc`?
/// (`/proc...`, or a spelling with an extra `/` or a `.` component.) A
/// path shorter than 5 bytes cannot name anything under /proc; one that
/// cannot be read is the call's own EFAULT.
pub fn may_name_proc(head: &[u8; 5]) -> bool {
    head[0] == b'/' && (head[1] == b'/' || head[1] == b'.' || &head[1..] == b"proc")
}

/// The path with empty and `.` components removed and `..` applied
/// lexically (every directory involved, `/proc/<id>` and `task/<id>`, is a
/// real directory, so this is what the kernel resolves too). Only absolute
/// paths are normalised.
fn normalize(path: &[u8]) -> Vec<u8> {
    if !path.starts_with(b"/") {
        return path.to_vec();
    }
    let mut parts: Vec<&[u8]> = Vec::new();
    for c in path.split(|&b| b == b'/') {
        match c {
            b"" | b"." => {}
            b".." => {
                parts.pop();
            }
            c => parts.push(c),
        }
    }
    let mut out = Vec::with_capacity(path.len());
    for c in parts {
        out.push(b'/');
        out.extend_from_slice(c);
    }
    if out.is_empty() {
        out.push(b'/');
    }
    out
}

/// The argument index holding the path for the calls we rewrite (const
/// and TLS-free: the fast path's tables use it). aarch64 has only the
/// `*at` calls, and calls `newfstatat` `fstatat`.
pub const fn path_arg(opcode: u32) -> Option<usize> {
    use crate::arch::Sysno;
    let Some(call) = Sysno::new(opcode as usize) else {
        return None;
    };
    match call {
        #[cfg(target_arch = "x86_64")]
        Sysno::open | Sysno::stat | Sysno::access | Sysno::readlink => Some(0),
        #[cfg(target_arch = "x86_64")]
        Sysno::newfstatat => Some(1),
        #[cfg(target_arch = "aarch64")]
        Sysno::fstatat => Some(1),
        Sysno::openat
        | Sysno::readlinkat
        | Sysno::faccessat
        | Sysno::statx
        | Sysno::openat2
        | Sysno::faccessat2 => Some(1),
        _ => None,
    }
}

fn call(opcode: u32) -> Option<crate::arch::Sysno> {
    crate::arch::Sysno::new(opcode as usize)
}

pub fn is_open(opcode: u32) -> bool {
    use crate::arch::Sysno;
    #[cfg(target_arch = "x86_64")]
    if call(opcode) == Some(Sysno::open) {
        return true;
    }
    matches!(call(opcode), Some(Sysno::openat | Sysno::openat2))
}

fn is_openat2(opcode: u32) -> bool {
    call(opcode) == Some(crate::arch::Sysno::openat2)
}

fn is_readlink(opcode: u32) -> bool {
    use crate::arch::Sysno;
    #[cfg(target_arch = "x86_64")]
    if call(opcode) == Some(Sysno::readlink) {
        return true;
    }
    call(opcode) == Some(Sysno::readlinkat)
}

/// What to do with a call that names one of these /proc files.
pub enum Rewrite {
    /// Make the call with the path argument at `index` replaced by `path`
    /// (which must outlive the call).
    Path { index: usize, path: CString },
    /// The call's result, computed here.
    Result(i64),
}

/// `/proc/self/X`, `/proc/<own pid>/X` → `Some(X)`.
fn own_proc_entry(path: &[u8]) -> Option<&[u8]> {
    let rest = path.strip_prefix(b"/proc/")?;
    let (who, entry) = match rest.iter().position(|&b| b == b'/') {
        Some(i) => (&rest[..i], &rest[i + 1..]),
        None => return None,
    };
    let own = who == b"self"
        || std::str::from_utf8(who)
            .ok()
            .and_then(|s| s.parse::<i32>().ok())
            .is_some_and(|pid| pid == crate::sys::getpid());
    own.then_some(entry)
}

/// A memfd holding `[start, end)` of our own memory, opened as the
/// program asked (`O_CLOEXEC` honoured).
fn memfd_with(range: (u64, u64), flags: u64) -> i64 {
    let len = (range.1 - range.0) as usize;
    // SAFETY: the range is the program's initial-stack strings, mapped for
    // the process's life; the memfd is a fresh descriptor we write to and
    // hand over.
    unsafe {
        let cloexec = if flags & libc::O_CLOEXEC as u64 != 0 {
            libc::MFD_CLOEXEC
        } else {
            0
        };
        let fd = libc::memfd_create(c"proc".as_ptr(), cloexec);
        if fd < 0 {
            return -(std::io::Error::last_os_error()
                .raw_os_error()
                .unwrap_or(libc::ENOMEM) as i64);
        }
        let bytes = std::slice::from_raw_parts(range.0 as *const u8, len);
        let mut done = 0;
        while done < len {
            let n = libc::write(
                fd,
                bytes[done..].as_ptr() as *const libc::c_void,
                len - done,
            );
            if n <= 0 {
                libc::close(fd);
                return -(libc::EIO as i64);
            }
            done += n as usize;
        }
        libc::lseek(fd, 0, libc::SEEK_SET);
        fd as i64
    }
}

/// Rewrites the call if it names one of the /proc files above.
pub fn rewrite(opcode: u32, a: [u64; 6]) -> Option<Rewrite> {
    let i = path_arg(opcode)?;
    // Cheap first look: only paths under /proc matter.
    let mut head = [0u8; 5];
    if memory::read_into(a[i], &mut head).is_err() || !may_name_proc(&head) {
        return None;
    }
    let path = normalize(&memory::read_cstring(a[i], 4096).ok()?);
    if !path.starts_with(b"/proc/") {
        return None;
    }
    if names_own_exe(&path) {
        return exe(opcode, a, i);
    }
    let (args, env) = *STRINGS.get()?;
    // open(path, flags, mode) / openat(dirfd, path, flags, mode)
    let flags = a[i + 1];
    match own_proc_entry(&path) {
        Some(b"cmdline") if is_open(opcode) && !is_openat2(opcode) => {
            Some(Rewrite::Result(memfd_with(args, flags)))
        }
        Some(b"environ") if is_open(opcode) && !is_openat2(opcode) => {
            Some(Rewrite::Result(memfd_with(env, flags)))
        }
        _ => None,
    }
}

/// The rewrites for the process's executable.
fn exe(opcode: u32, a: [u64; 6], i: usize) -> Option<Rewrite> {
    let program = PROGRAM.get()?;
    if is_readlink(opcode) {
        // readlink(path, buf, size) / readlinkat(dirfd, path, buf, size):
        // the link's target, truncated to the buffer, no NUL. The size is
        // an int; Linux refuses one <= 0.
        let (buf, size) = (a[i + 1], a[i + 2] as i32);
        if size <= 0 {
            return Some(Rewrite::Result(-(libc::EINVAL as i64)));
        }
        let size = size as usize;
        let bytes = program.as_bytes();
        let n = bytes.len().min(size);
        return Some(match memory::write_bytes(buf, &bytes[..n]) {
            Ok(()) => Rewrite::Result(n as i64),
            Err(e) => Rewrite::Result(-(e as i64)),
        });
    }
    Some(Rewrite::Path {
        index: i,
        path: program.clone(),
    })
}

/// Makes /proc describe the program rather than the runner, as far as the
/// host lets a process change that: the main thread's name (`comm`, what
/// Linux takes from the exec'd file's name) and, with CAP_SYS_RESOURCE,
/// the ranges /proc/self/cmdline, environ and auxv read (the program's
/// argument and environment strings and auxiliary vector). Without the
/// capability those still show the runner's.
pub fn describe_program(stack: &crate::initial_stack::InitialStack, path: &[u8]) {
    let _ = STRINGS.set((stack.args, stack.env));
    const PR_SET_MM: i32 = 35;
    const PR_SET_MM_ARG_START: u64 = 8;
    const PR_SET_MM_ARG_END: u64 = 9;
    const PR_SET_MM_ENV_START: u64 = 10;
    const PR_SET_MM_ENV_END: u64 = 11;
    const PR_SET_MM_AUXV: u64 = 12;
    let base = path.rsplit(|&b| b == b'/').next().unwrap_or(path);
    let mut comm = [0u8; 16];
    let n = base.len().min(15);
    comm[..n].copy_from_slice(&base[..n]);
    // SAFETY: a NUL-terminated name of at most 16 bytes; the PR_SET_MM
    // ranges lie in the program's initial stack, which stays mapped.
    unsafe {
        libc::prctl(libc::PR_SET_NAME, comm.as_ptr());
        // Start before end each time, so every intermediate state is a
        // valid layout (start <= end) for the kernel's checks.
        for (opt, v) in [
            (PR_SET_MM_ARG_START, stack.args.0),
            (PR_SET_MM_ARG_END, stack.args.1),
            (PR_SET_MM_ENV_START, stack.env.0),
            (PR_SET_MM_ENV_END, stack.env.1),
        ] {
            libc::prctl(PR_SET_MM, opt, v, 0, 0);
        }
        libc::prctl(PR_SET_MM, PR_SET_MM_AUXV, stack.auxv.0, stack.auxv.1, 0);
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn recognises_the_names_of_the_own_executable() {
        assert!(names_own_exe(b"/proc/self/exe"));
        assert!(names_own_exe(b"/proc/thread-self/exe"));
        assert!(names_own_exe(
            format!("/proc/{}/exe", std::process::id()).as_bytes()
        ));
        assert!(!names_own_exe(b"/proc/1/exe") || std::process::id() == 1);
        assert!(!names_own_exe(b"/proc/self/exe2"));
        assert!(!names_own_exe(b"/proc/self/maps"));
        // Other spellings of the same link.
        assert!(names_own_exe(b"/proc/self//exe"));
        assert!(names_own_exe(b"/proc/./self/exe"));
        assert!(names_own_exe(b"//proc/self/../self/exe"));
        let tid = crate::sys::gettid();
        assert!(names_own_exe(
            format!("/proc/self/task/{tid}/exe").as_bytes()
        ));
        assert!(names_own_exe(format!("/proc/{tid}/exe").as_bytes()));
        assert!(!names_own_exe(b"/proc/self/task/1/exe") || std::process::id() == 1);
        assert!(
            !names_own_exe(b"proc/self/exe"),
            "relative: not resolved here"
        );
    }
}
