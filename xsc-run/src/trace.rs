//! `--trace`: one line per ring operation in strace's style,
//! `TID name(args) = result`, written when the operation completes (before
//! it, with ` = ?`, for operations that do not return). Thread-context
//! operations are traced the same way. Each line is one `write`, so lines
//! from threads and forked children never interleave.

use crate::memory;
use crate::thread::KernelThread;
use std::fmt::Write as _;
use std::sync::atomic::{AtomicBool, AtomicI32, AtomicU64, Ordering};
use xsc_abi::SubmissionEntry;

/// Where the trace goes.
pub static TRACE: Sink = Sink::new();
/// Tracing or auditing is on: the one check the `wait` fast path makes
/// (crate::entry::wait_fast), so that it costs a single predictable branch
/// when both are off.
static OBSERVED: AtomicBool = AtomicBool::new(false);
/// Where runner diagnostics go: a private copy of the stderr the runner
/// started with, so the program redirecting its fd 2 does not hide them.
static DIAG_FD: AtomicI32 = AtomicI32::new(2);
/// What `DIAG_FD` refers to, checked before every diagnostic: the program
/// may close the runner's copy and open a file of its own under the same
/// number, which must never receive the runner's reports.
static DIAG_ID: FileId = FileId::new();

const HIGH_FD: i32 = 500;

/// The identity of an open file (device, inode and, for a device file,
/// the device it stands for), read with `fstat`: a descriptor number the
/// program reused for a file of its own no longer matches it. Written once
/// by the thread that opens the descriptor, before any reader runs.
pub struct FileId([AtomicU64; 3]);

impl FileId {
    pub const fn new() -> FileId {
        FileId([AtomicU64::new(0), AtomicU64::new(0), AtomicU64::new(0)])
    }

    /// What `fd` refers to now; `None` if it is not open.
    fn read(fd: i32) -> Option<[u64; 3]> {
        // SAFETY: stat is plain old data, all-zero valid.
        let mut st: libc::stat = unsafe { std::mem::zeroed() };
        // SAFETY: fstat writes only into `st`, which outlives the call; it
        // is async-signal-safe (diagnostics are written from the signal
        // entry).
        let r = unsafe { libc::fstat(fd, &mut st) };
        (r == 0).then_some([st.st_dev, st.st_ino, st.st_rdev])
    }

    /// Records what `fd` refers to.
    fn record(&self, fd: i32) {
        if let Some(id) = FileId::read(fd) {
            for (slot, v) in self.0.iter().zip(id) {
                slot.store(v, Ordering::Relaxed);
            }
        }
    }

    /// Is `fd` still open on the file [`FileId::record`] saw?
    fn matches(&self, fd: i32) -> bool {
        FileId::read(fd).is_some_and(|id| {
            self.0
                .iter()
                .zip(id)
                .all(|(slot, v)| slot.load(Ordering::Relaxed) == v)
        })
    }
}

impl Default for FileId {
    fn default() -> FileId {
        FileId::new()
    }
}

pub fn dup_high(fd: i32) -> std::io::Result<i32> {
    // SAFETY: duplicating a descriptor we were given.
    let r = unsafe { libc::fcntl(fd, libc::F_DUPFD_CLOEXEC, HIGH_FD) };
    if r < 0 {
        Err(std::io::Error::last_os_error())
    } else {
        Ok(r)
    }
}

/// A descriptor that lines are written to (the trace, the audit): kept at
/// a high number, close-on-exec, out of the way of the program's own, and
/// handed on to an exec'd XSC program. Each line is one `write`, so lines
/// from threads and forked children never interleave.
/// Before each line it checks that the descriptor still refers to the
/// file it was opened on ([`FileId`]): a line is dropped rather than
/// written into a file of the program's that reused the number.
pub struct Sink(AtomicI32, FileId);

impl Sink {
    pub const fn new() -> Sink {
        Sink(AtomicI32::new(-1), FileId::new())
    }

    /// Writes to `fd` from now on (moved to a high number; a descriptor
    /// above 2 is closed once copied).
    pub fn open(&self, fd: i32) -> std::io::Result<()> {
        let high = dup_high(fd)?;
        if fd > 2 {
            // SAFETY: our own descriptor, replaced by its high copy.
            unsafe { libc::close(fd) };
        }
        self.1.record(high);
        self.0.store(high, Ordering::Relaxed);
        OBSERVED.store(true, Ordering::Relaxed);
        Ok(())
    }

    pub fn fd(&self) -> Option<i32> {
        let fd = self.0.load(Ordering::Relaxed);
        (fd >= 0).then_some(fd)
    }

    pub fn enabled(&self) -> bool {
        self.0.load(Ordering::Relaxed) >= 0
    }

    pub fn write(&self, line: &[u8]) {
        if let Some(fd) = self.fd().filter(|&fd| self.1.matches(fd)) {
            write_all(fd, line);
        }
    }

    /// Keeps the descriptor open across an exec of an XSC child.
    pub fn prepare_exec(&self) -> Option<i32> {
        let fd = self.fd()?;
        // SAFETY: clearing FD_CLOEXEC on our own descriptor.
        unsafe { libc::fcntl(fd, libc::F_SETFD, 0) };
        Some(fd)
    }

    pub fn exec_failed(kept: Option<i32>) {
        if let Some(fd) = kept {
            // SAFETY: restoring FD_CLOEXEC on our own descriptor.
            unsafe { libc::fcntl(fd, libc::F_SETFD, libc::FD_CLOEXEC) };
        }
    }
}

/// Sets up the trace (if `fd` is given) and the diagnostics channel.
pub fn init(fd: Option<i32>) -> std::io::Result<()> {
    if let Ok(d) = dup_high(2) {
        DIAG_ID.record(d);
        DIAG_FD.store(d, Ordering::Relaxed);
    }
    if let Some(fd) = fd {
        TRACE.open(fd)?;
    }
    Ok(())
}

/// Is the trace or the audit on?
#[inline]
pub fn observed() -> bool {
    OBSERVED.load(Ordering::Relaxed)
}

pub fn enabled() -> bool {
    TRACE.enabled()
}

pub fn trace_fd() -> Option<i32> {
    TRACE.fd()
}

fn write_all(fd: i32, mut b: &[u8]) {
    while !b.is_empty() {
        // SAFETY: writing our own buffer.
        let n = unsafe { libc::write(fd, b.as_ptr() as *const libc::c_void, b.len()) };
        if n <= 0 {
            return;
        }
        b = &b[n as usize..];
    }
}

/// Writes a runner diagnostic (no allocation, async-signal-safe). It goes
/// to the runner's own copy of the standard error it started with, if
/// that descriptor still refers to the same file ([`FileId`]); if the
/// program closed it (a program that closes every descriptor above 2,
/// say), or closed it and opened a file of its own under the same number,
/// the diagnostic goes to the program's current fd 2, its standard error,
/// rather than nowhere or into that file.
pub fn diagnostic(msg: &[u8]) {
    let fd = DIAG_FD.load(Ordering::Relaxed);
    let ours = fd == 2 || DIAG_ID.matches(fd);
    write_all(if ours { fd } else { 2 }, msg);
}

/// A note for the trace, if there is one (written as a diagnostic, where
/// the trace's own lines go).
pub fn diagnostic_if_traced(msg: &[u8]) {
    if TRACE.enabled() {
        TRACE.write(msg);
    }
}

fn emit(line: String) {
    TRACE.write(line.as_bytes());
}

/// Lines are written unbuffered; nothing to flush. Kept as the one place
/// to call before the process ends or execs.
pub fn flush() {}

/// Keeps the trace and audit descriptors open across an exec of an XSC
/// child.
pub fn prepare_exec() -> [Option<i32>; 2] {
    [TRACE.prepare_exec(), crate::audit::AUDIT.prepare_exec()]
}

pub fn exec_failed(kept: [Option<i32>; 2]) {
    kept.into_iter().for_each(Sink::exec_failed);
}

/// An operation that completed (the trace line, and the audit's result
/// record).
pub fn after(kt: &KernelThread, sqe: &SubmissionEntry, result: i64) {
    if enabled() {
        emit(format_line(kt, sqe, Some(result), ""));
    }
    crate::audit::result(kt, sqe, Some(result), None);
}

/// An operation that does not return (exit, exit_group, execve), before it
/// runs.
pub fn noreturn(kt: &KernelThread, sqe: &SubmissionEntry) {
    if enabled() {
        emit(format_line(kt, sqe, None, ""));
    }
    crate::audit::noreturn(kt, sqe);
}

/// Why the kernel refused to execute an entry, from its completion flags.
fn rejection_reason(flags: u32) -> &'static str {
    use xsc_abi::ring_entry::*;
    match flags {
        CQE_F_UNKNOWN_OP => "unknown opcode",
        CQE_F_MALFORMED => "malformed entry: undefined flag bits",
        CQE_F_WRONG_CONTEXT => "thread-context operation submitted on the ring",
        _ => "rejected",
    }
}

/// An entry the kernel refused to execute.
pub fn rejected(kt: &KernelThread, sqe: &SubmissionEntry, result: i64, flags: u32) {
    let why = rejection_reason(flags);
    if enabled() {
        emit(format_line(
            kt,
            sqe,
            Some(result),
            &format!(" [xsc: {why}]"),
        ));
    }
    crate::audit::result(kt, sqe, Some(result), Some(why));
}

/// The submission ring's indices were invalid.
pub fn ring_error(kt: &KernelThread, head: u32, tail: u32, entries: u32) {
    let msg = format!(
        "xsc-run: thread {}: submission ring error: tail {tail} is {} entries past head {head} (ring holds {entries}); pending entries dropped\n",
        kt.tid.load(Ordering::Relaxed),
        tail.wrapping_sub(head)
    );
    diagnostic(msg.as_bytes());
    if enabled() {
        emit(format!(
            "{} --- ring error: head {head} tail {tail} ---\n",
            kt.tid.load(Ordering::Relaxed)
        ));
    }
    crate::audit::ring_error(kt, head, tail);
}

/// How to show each argument: d signed, u unsigned, x hex, f fd, s path
/// string, b input buffer (length = next argument), B output buffer
/// (length = result), o open flags, m octal mode, p mmap protection,
/// M mmap flags, S signal, A string array.
fn arg_spec(nr: u32) -> &'static str {
    // By name, so that both architectures' numbers find their spec
    // (aarch64 has the `*at` calls only; its `newfstatat` is `fstatat`).
    let Some(name) = crate::arch::Sysno::new(nr as usize).map(|s| s.name()) else {
        return "xxxxxx";
    };
    match name {
        "read" => "fBu",
        "write" => "fbu",
        "open" => "som",
        "close" => "f",
        "stat" | "lstat" => "sx",
        "fstat" => "fx",
        "poll" => "xud",
        "lseek" => "fdd",
        "mmap" => "xupMfd",
        "mprotect" => "xup",
        "munmap" => "xu",
        "brk" => "x",
        "rt_sigaction" => "Sxxu",
        "rt_sigprocmask" => "dxxu",
        "ioctl" => "fxx",
        "pread64" => "fBud",
        "pwrite64" => "fbud",
        "readv" | "writev" => "fxd",
        "access" => "sd",
        "pipe" => "x",
        "sched_yield" | "getpid" | "fork" | "vfork" | "getuid" | "getgid" | "geteuid"
        | "getegid" | "getppid" | "gettid" => "",
        "dup" => "f",
        "alarm" => "u",
        "setitimer" => "dxx",
        "dup2" => "ff",
        "nanosleep" => "xx",
        "socket" => "ddd",
        "connect" | "bind" => "fxu",
        "accept" => "fxx",
        "sendto" => "fbudxu",
        "recvfrom" => "fBudxx",
        "listen" => "fd",
        "clone" => "xxxxx",
        "execve" => "sAA",
        "exit" | "exit_group" => "d",
        "wait4" => "dxdx",
        "kill" => "dS",
        "uname" => "x",
        "fcntl" => "fdx",
        "getcwd" => "xu",
        "chdir" | "rmdir" | "unlink" => "s",
        "rename" | "symlink" => "ss",
        "mkdir" | "chmod" => "sm",
        "readlink" => "sxu",
        "gettimeofday" => "xx",
        "arch_prctl" => "xx",
        "tkill" => "dS",
        "futex" => "xddxxd",
        "set_tid_address" => "x",
        "clock_gettime" | "clock_getres" => "dx",
        "clock_nanosleep" => "ddxx",
        "tgkill" => "ddS",
        "openat" => "fsom",
        "mkdirat" => "fsm",
        "newfstatat" | "fstatat" => "fsxd",
        "unlinkat" => "fsd",
        "pipe2" => "xd",
        "prlimit64" => "ddxx",
        "getrandom" => "xud",
        "statx" => "fsdxx",
        _ => "xxxxxx",
    }
}

fn quote(out: &mut String, bytes: &[u8], limit: usize) {
    out.push('"');
    for &b in bytes.iter().take(limit) {
        match b {
            b'\n' => out.push_str("\\n"),
            b'\t' => out.push_str("\\t"),
            b'\r' => out.push_str("\\r"),
            b'"' => out.push_str("\\\""),
            b'\\' => out.push_str("\\\\"),
            0x20..=0x7e => out.push(b as char),
            _ => {
                let _ = write!(out, "\\x{b:02x}");
            }
        }
    }
    out.push('"');
    if bytes.len() > limit {
        out.push_str("...");
    }
}

fn flag_names(out: &mut String, mut v: u64, names: &[(u64, &str)], zero: &str) {
    let mut first = true;
    let mut sep = |out: &mut String| {
        if !first {
            out.push('|');
        }
        first = false;
    };
    if v == 0 {
        out.push_str(zero);
        return;
    }
    for &(bit, name) in names {
        if bit != 0 && v & bit == bit {
            sep(out);
            out.push_str(name);
            v &= !bit;
        }
    }
    if v != 0 {
        sep(out);
        let _ = write!(out, "{v:#x}");
    }
}

fn signal_name(sig: i32) -> Option<&'static str> {
    const NAMES: [&str; 32] = [
        "0",
        "SIGHUP",
        "SIGINT",
        "SIGQUIT",
        "SIGILL",
        "SIGTRAP",
        "SIGABRT",
        "SIGBUS",
        "SIGFPE",
        "SIGKILL",
        "SIGUSR1",
        "SIGSEGV",
        "SIGUSR2",
        "SIGPIPE",
        "SIGALRM",
        "SIGTERM",
        "SIGSTKFLT",
        "SIGCHLD",
        "SIGCONT",
        "SIGSTOP",
        "SIGTSTP",
        "SIGTTIN",
        "SIGTTOU",
        "SIGURG",
        "SIGXCPU",
        "SIGXFSZ",
        "SIGVTALRM",
        "SIGPROF",
        "SIGWINCH",
        "SIGIO",
        "SIGPWR",
        "SIGSYS",
    ];
    NAMES.get(sig as usize).copied().filter(|_| sig > 0)
}

const STR_LIMIT: usize = 32;

fn format_arg(out: &mut String, kind: u8, a: &[u64; 6], i: usize, result: Option<i64>) {
    let v = a[i];
    match kind {
        b'd' => {
            let _ = write!(out, "{}", v as i64);
        }
        b'u' => {
            let _ = write!(out, "{v}");
        }
        b'f' if v as i32 == libc::AT_FDCWD => out.push_str("AT_FDCWD"),
        b'f' => {
            let _ = write!(out, "{}", v as i32);
        }
        b's' => match memory::read_cstring(v, 4096) {
            Ok(s) => quote(out, &s, 4096),
            Err(_) => {
                let _ = write!(out, "{v:#x}");
            }
        },
        b'b' => {
            let len = a.get(i + 1).copied().unwrap_or(0) as usize;
            let shown = memory::read_prefix(v, len.min(STR_LIMIT));
            quote(out, &shown, STR_LIMIT);
            if len > STR_LIMIT && shown.len() == STR_LIMIT {
                out.push_str("...");
            }
        }
        b'B' => match result {
            Some(n) if n >= 0 => {
                let shown = memory::read_prefix(v, (n as usize).min(STR_LIMIT));
                quote(out, &shown, STR_LIMIT);
                if n as usize > STR_LIMIT {
                    out.push_str("...");
                }
            }
            _ => {
                let _ = write!(out, "{v:#x}");
            }
        },
        b'o' => {
            let acc = match v & 3 {
                0 => "O_RDONLY",
                1 => "O_WRONLY",
                2 => "O_RDWR",
                _ => "O_ACCMODE",
            };
            out.push_str(acc);
            if v & !3 != 0 {
                out.push('|');
                flag_names(
                    out,
                    v & !3,
                    &[
                        (0o100, "O_CREAT"),
                        (0o200, "O_EXCL"),
                        (0o1000, "O_TRUNC"),
                        (0o2000, "O_APPEND"),
                        (0o4000, "O_NONBLOCK"),
                        (0o100000, "O_LARGEFILE"),
                        (0o200000, "O_DIRECTORY"),
                        (0o400000, "O_NOFOLLOW"),
                        (0o2000000, "O_CLOEXEC"),
                        (0o10000000, "O_PATH"),
                    ],
                    "",
                );
            }
        }
        b'm' if v == 0 => out.push('0'),
        b'm' => {
            let _ = write!(out, "0{v:o}");
        }
        b'p' => flag_names(
            out,
            v,
            &[(1, "PROT_READ"), (2, "PROT_WRITE"), (4, "PROT_EXEC")],
            "PROT_NONE",
        ),
        b'M' => flag_names(
            out,
            v,
            &[
                (0x01, "MAP_SHARED"),
                (0x02, "MAP_PRIVATE"),
                (0x10, "MAP_FIXED"),
                (0x20, "MAP_ANONYMOUS"),
                (0x100, "MAP_GROWSDOWN"),
                (0x4000, "MAP_NORESERVE"),
                (0x8000, "MAP_POPULATE"),
                (0x20000, "MAP_STACK"),
                (0x100000, "MAP_FIXED_NOREPLACE"),
            ],
            "0",
        ),
        b'S' => match signal_name(v as i32) {
            Some(n) => out.push_str(n),
            None => {
                let _ = write!(out, "{}", v as i32);
            }
        },
        b'A' => match memory::read_string_array(v) {
            Ok(items) => {
                out.push('[');
                for (n, s) in items.iter().enumerate() {
                    if n > 0 {
                        out.push_str(", ");
                    }
                    quote(out, s, STR_LIMIT);
                }
                out.push(']');
            }
            Err(_) => {
                let _ = write!(out, "{v:#x}");
            }
        },
        _ => {
            let _ = write!(out, "{v:#x}");
        }
    }
}

/// The error a raw result stands for, if it is one.
pub fn errno_of(r: i64) -> Option<syscalls::Errno> {
    (-4095..0)
        .contains(&r)
        .then(|| syscalls::Errno::new(-r as i32))
}

/// The strace-style text for a result.
pub fn format_result(nr: u32, r: i64) -> String {
    if let Some(e) = errno_of(r) {
        match e.name_and_description() {
            Some((name, desc)) => format!("-1 {name} ({desc})"),
            None => format!("-1 errno {}", -r),
        }
    } else if crate::arch::Sysno::new(nr as usize)
        .is_some_and(|s| matches!(s.name(), "mmap" | "brk" | "mremap"))
    {
        format!("{r:#x}")
    } else {
        format!("{r}")
    }
}

/// An operation as people read it: its name and each argument as text.
/// The one decoder behind both `--trace` and `--audit`.
pub struct Decoded {
    /// The system call's name, or `syscall_0xNNN` for an unknown opcode.
    pub name: std::borrow::Cow<'static, str>,
    /// The arguments the call takes, decoded (strings read from the
    /// program, flags by name, fds, signals...).
    pub args: Vec<String>,
}

/// The name of an opcode, if the `syscalls` crate knows it.
pub fn name_of(opcode: u32) -> Option<&'static str> {
    crate::arch::Sysno::new(opcode as usize).map(|s| s.name())
}

/// Decodes `sqe`; `result` (when known) gives the length of output
/// buffers.
pub fn decode(sqe: &SubmissionEntry, result: Option<i64>) -> Decoded {
    let name = match name_of(sqe.opcode) {
        Some(n) => n.into(),
        None => format!("syscall_{:#x}", sqe.opcode).into(),
    };
    let spec = if crate::ops::is_known(sqe.opcode) {
        arg_spec(sqe.opcode)
    } else {
        "xxxxxx"
    };
    let args = spec
        .bytes()
        .enumerate()
        .map(|(i, kind)| {
            let mut out = String::new();
            format_arg(&mut out, kind, &sqe.args, i, result);
            out
        })
        .collect();
    Decoded { name, args }
}

fn format_line(
    kt: &KernelThread,
    sqe: &SubmissionEntry,
    result: Option<i64>,
    suffix: &str,
) -> String {
    let tid = kt.tid.load(Ordering::Relaxed);
    let d = decode(sqe, result);
    let mut out = String::with_capacity(96);
    let _ = write!(out, "{tid} {}({}) = ", d.name, d.args.join(", "));
    match result {
        Some(r) => out.push_str(&format_result(sqe.opcode, r)),
        None => out.push('?'),
    }
    out.push_str(suffix);
    out.push('\n');
    out
}

#[cfg(test)]
mod tests {
    use super::*;

    fn kt() -> *mut KernelThread {
        let kt = KernelThread::new(0).unwrap();
        // SAFETY: fresh state.
        unsafe { (*kt).set_tid(42) };
        kt
    }

    #[test]
    fn write_line_looks_like_strace() {
        let k = kt();
        let msg = b"hello\n";
        let sqe = SubmissionEntry::new(1, [1, msg.as_ptr() as u64, 6, 0, 0, 0], 0);
        // SAFETY: k is live until freed below.
        let line = format_line(unsafe { &*k }, &sqe, Some(6), "");
        assert_eq!(line, "42 write(1, \"hello\\n\", 6) = 6\n");
        let path = b"/nonexistent\0";
        let sqe = SubmissionEntry::new(
            257,
            [(-100i64) as u64, path.as_ptr() as u64, 0o2000000, 0, 0, 0],
            0,
        );
        // SAFETY: as above.
        let line = format_line(unsafe { &*k }, &sqe, Some(-2), "");
        assert_eq!(
            line,
            "42 openat(AT_FDCWD, \"/nonexistent\", O_RDONLY|O_CLOEXEC, 0) = -1 ENOENT (No such file or directory)\n"
        );
        let sqe = SubmissionEntry::new(999, [1, 2, 3, 4, 5, 6], 0);
        // SAFETY: as above.
        let line = format_line(unsafe { &*k }, &sqe, Some(-38), "");
        assert!(
            line.starts_with("42 syscall_0x3e7(0x1, 0x2, 0x3, 0x4, 0x5, 0x6) = -1 ENOSYS"),
            "{line}"
        );
        // SAFETY: unused from here on.
        unsafe { KernelThread::free(k) };
    }
}
