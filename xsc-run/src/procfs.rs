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
//!
//! The program's own io_uring instances: their `IORING_OP_OPENAT`,
//! `OPENAT2` and `STATX` requests naming the executable link get the
//! program's path too, and their `OPENAT` of `cmdline` or `environ` a
//! memfd's, written into the request when the program submits it with
//! `io_uring_enter` (see [`uring_enter`]).

use crate::memory;
use std::ffi::CString;
use std::sync::atomic::{AtomicI32, Ordering};
use std::sync::{Mutex, OnceLock};

static PROGRAM: OnceLock<CString> = OnceLock::new();
/// `[start, end)` of the program's argument and environment strings.
type Strings = ((u64, u64), (u64, u64));
static STRINGS: OnceLock<Strings> = OnceLock::new();

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

/// An io_uring instance of the program's whose submission ring xsc-run
/// can read: set up without `IORING_SETUP_SQPOLL` (a kernel thread would
/// consume its requests with no call to see) or `IORING_SETUP_NO_MMAP`
/// (its rings in the program's own memory).
struct Uring {
    fd: i32,
    flags: u32,
    entries: u32,
    /// `struct io_sqring_offsets`: head, tail, ring_mask, ring_entries,
    /// flags, dropped, array.
    off: [u32; 7],
    /// Where the program mapped the submission ring and the request array
    /// (0 until it has).
    sq_ring: u64,
    sqes: u64,
}

static URINGS: Mutex<Vec<Uring>> = Mutex::new(Vec::new());
/// The descriptors of [`URINGS`], for the entry fast path (no lock, no
/// TLS); -1 where free.
static URING_FDS: [AtomicI32; 16] = [const { AtomicI32::new(-1) }; 16];

const IORING_SETUP_SQPOLL: u32 = 1 << 1;
const IORING_SETUP_SQE128: u32 = 1 << 10;
const IORING_SETUP_NO_MMAP: u32 = 1 << 14;
const IORING_SETUP_NO_SQARRAY: u32 = 1 << 16;
const IORING_OFF_SQ_RING: u64 = 0;
const IORING_OFF_SQES: u64 = 0x1000_0000;
const IORING_ENTER_REGISTERED_RING: u64 = 1 << 4;
const IORING_OP_OPENAT: u8 = 18;
const IORING_OP_STATX: u8 = 21;
const IORING_OP_OPENAT2: u8 = 28;

/// Is `fd` one of the program's io_uring instances xsc-run follows? No
/// lock, no TLS: the entry fast path asks.
pub fn is_uring_fd(fd: u64) -> bool {
    let fd = fd as i32;
    fd >= 0 && URING_FDS.iter().any(|f| f.load(Ordering::Relaxed) == fd)
}

/// `io_uring_setup` made descriptor `fd` with the parameters at `params`
/// (`struct io_uring_params`, filled in by the host): followed from now
/// on, unless its rings cannot be read (see [`Uring`]) or 16 are followed.
pub fn uring_setup(fd: i32, params: u64) {
    let Ok(p) = memory::read_bytes(params, 120) else {
        return;
    };
    let word = |i: usize| u32::from_le_bytes(p[i..i + 4].try_into().unwrap_or([0; 4]));
    let flags = word(8);
    let mut urings = URINGS.lock().unwrap_or_else(|e| e.into_inner());
    urings.retain(|u| u.fd != fd);
    for f in &URING_FDS {
        let _ = f.compare_exchange(fd, -1, Ordering::Relaxed, Ordering::Relaxed);
    }
    if flags & (IORING_SETUP_SQPOLL | IORING_SETUP_NO_MMAP) != 0 {
        return;
    }
    let Some(free) = URING_FDS.iter().find(|f| f.load(Ordering::Relaxed) == -1) else {
        return;
    };
    urings.push(Uring {
        fd,
        flags,
        entries: word(0),
        off: std::array::from_fn(|i| word(40 + 4 * i)),
        sq_ring: 0,
        sqes: 0,
    });
    free.store(fd, Ordering::Relaxed);
}

/// The program mapped `offset` of io_uring descriptor `fd` at `at` (an
/// `mmap` result).
pub fn uring_mmap(fd: i32, offset: u64, at: i64) {
    if at < 0 {
        return;
    }
    let mut urings = URINGS.lock().unwrap_or_else(|e| e.into_inner());
    if let Some(u) = urings.iter_mut().find(|u| u.fd == fd) {
        match offset {
            IORING_OFF_SQ_RING => u.sq_ring = at as u64,
            IORING_OFF_SQES => u.sqes = at as u64,
            _ => {}
        }
    }
}

/// `io_uring_enter(fd, to_submit, min_complete, flags, ...)`: before the
/// host takes the requests, each pending `OPENAT`, `OPENAT2` or `STATX`
/// whose path names the executable link gets the program's path in its
/// place (`addr`), as the system calls do, and an `OPENAT` of
/// /proc/self/cmdline or environ the path of a memfd holding the strings
/// ([`strings_path`]). The new pointers are to paths xsc-run keeps for
/// the process's life, so a request left pending stays valid; the host
/// copies the path as it takes the request. A ring
/// whose memory no longer looks like it (unmapped, or the descriptor
/// reused) is left alone. Not seen: a registered ring descriptor
/// (`IORING_ENTER_REGISTERED_RING`), rings of [`Uring`]'s exceptions.
pub fn uring_enter(a: [u64; 6]) {
    let (fd, to_submit, flags) = (a[0] as i32, a[1] as u32, a[3]);
    if to_submit == 0 || flags & IORING_ENTER_REGISTERED_RING != 0 {
        return;
    }
    let Some(program) = PROGRAM.get() else {
        return;
    };
    let urings = URINGS.lock().unwrap_or_else(|e| e.into_inner());
    let Some(u) = urings.iter().find(|u| u.fd == fd) else {
        return;
    };
    if u.sq_ring == 0 || u.sqes == 0 || !u.entries.is_power_of_two() {
        return;
    }
    let read = |off: u32| memory::read_struct::<u32>(u.sq_ring + off as u64).ok();
    let [head, tail, mask, entries, _, _, array] = u.off;
    if read(entries) != Some(u.entries) || read(mask) != Some(u.entries - 1) {
        return;
    }
    let (Some(head), Some(tail)) = (read(head), read(tail)) else {
        return;
    };
    let sqe_size = if u.flags & IORING_SETUP_SQE128 != 0 {
        128
    } else {
        64
    };
    let pending = tail.wrapping_sub(head).min(u.entries).min(to_submit);
    for i in 0..pending {
        let pos = head.wrapping_add(i) & (u.entries - 1);
        let index = if u.flags & IORING_SETUP_NO_SQARRAY != 0 {
            Some(pos)
        } else {
            read(array + 4 * pos)
        };
        let Some(index) = index.filter(|&x| x < u.entries) else {
            continue;
        };
        let sqe = u.sqes + index as u64 * sqe_size;
        let Ok(opcode) = memory::read_struct::<u8>(sqe) else {
            continue;
        };
        if !matches!(
            opcode,
            IORING_OP_OPENAT | IORING_OP_OPENAT2 | IORING_OP_STATX
        ) {
            continue;
        }
        let Ok(path) = memory::read_struct::<u64>(sqe + 16) else {
            continue;
        };
        let Ok(name) = memory::read_cstring(path, 4096) else {
            continue;
        };
        let name = normalize(&name);
        let instead = if name.starts_with(b"/") && names_own_exe(&name) {
            Some(program.as_ptr())
        } else if opcode == IORING_OP_OPENAT {
            match own_proc_entry(&name) {
                Some(b"cmdline") => strings_path(&CMDLINE_FD, |s| s.0),
                Some(b"environ") => strings_path(&ENVIRON_FD, |s| s.1),
                _ => None,
            }
        } else {
            None
        };
        if let Some(p) = instead {
            let _ = memory::write_struct(sqe + 16, &(p as u64));
        }
    }
}

/// `/proc/self/fd/N` of a memfd holding the program's argument
/// (`CMDLINE_FD`) or environment (`ENVIRON_FD`) strings, for io_uring's
/// `OPENAT` of /proc/self/cmdline or environ: opening it opens the memfd
/// anew, as [`rewrite`]'s memfd answers the system call. The host may
/// open it after `io_uring_enter` has returned (in its workers), so the
/// memfd stays open for the process's life (close-on-exec, at descriptor
/// 501 or above where the limit allows), refilled at each use, and the
/// path is kept too.
static CMDLINE_FD: OnceLock<(i32, CString)> = OnceLock::new();
static ENVIRON_FD: OnceLock<(i32, CString)> = OnceLock::new();

fn strings_path(
    cell: &'static OnceLock<(i32, CString)>,
    which: fn(Strings) -> (u64, u64),
) -> Option<*const libc::c_char> {
    let range = which(*STRINGS.get()?);
    let (fd, path) = cell.get_or_init(|| {
        let fd = memfd_with(range, libc::O_CLOEXEC as u64) as i32;
        if fd < 0 {
            return (-1, CString::default());
        }
        // SAFETY: fcntl on the descriptor just made, ours.
        let high = unsafe { libc::fcntl(fd, libc::F_DUPFD_CLOEXEC, 501) };
        let fd = if high >= 0 {
            // SAFETY: the low copy, ours, no longer needed.
            unsafe { libc::close(fd) };
            high
        } else {
            fd
        };
        let path = CString::new(format!("/proc/self/fd/{fd}")).unwrap_or_default();
        (fd, path)
    });
    if *fd < 0 {
        return None;
    }
    // The strings as they are now (a program may rewrite its arguments).
    let len = range.1.saturating_sub(range.0) as usize;
    // SAFETY: the program's initial-stack strings, mapped for the
    // process's life; written into our own memfd.
    let ok = unsafe {
        let bytes = std::slice::from_raw_parts(range.0 as *const u8, len);
        libc::ftruncate(*fd, 0) == 0
            && libc::pwrite(*fd, bytes.as_ptr() as *const libc::c_void, len, 0) == len as isize
    };
    ok.then(|| path.as_ptr())
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
