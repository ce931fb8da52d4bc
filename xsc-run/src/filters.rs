//! The seccomp filters that judge the program's calls, as the kernel side
//! knows them.
//!
//! The host kernel enforces every filter on the calls it sees (each call is
//! made by the program thread, ABI §6.6). Two things it cannot do: tell
//! the runner which action it took (for `--audit`), and judge the
//! operations the runner carries out itself, whose host calls are not the
//! program's (a clone, an execve, `brk`...). So the runner keeps its own
//! copy of each filter (the container profile it installed, every filter
//! the program installs, those handed on by the runner that exec'd it) and
//! runs them with the entry's `seccomp_data`, with Linux's precedence of
//! actions: for the audit's `action` field, and to enforce them on those
//! operations ([`enforce`]).
//!
//! Filters are kept as the kernel keeps them: a list from the newest to the
//! oldest, shared by every thread that inherited it. A published filter is
//! never changed or freed (a signal handler may read a list while the
//! interrupted code of the same thread installs a filter; the kernel's
//! instruction limit keeps the total small). `TSYNC` gives every thread the
//! caller's list; here that list is published with its install number, and
//! a thread whose own list is older adopts it when it next looks.

use std::sync::atomic::{AtomicPtr, AtomicU64, AtomicUsize, Ordering};

/// One installed filter.
pub struct Filter {
    /// The classic-BPF program; empty for strict mode.
    pub prog: Vec<libc::sock_filter>,
    pub origin: Origin,
    /// Install number, increasing in the process.
    pub seq: u64,
    pub prev: *const Filter,
}

// SAFETY: a published Filter is immutable and never freed; `prev` points
// at another such Filter.
unsafe impl Sync for Filter {}
// SAFETY: as above.
unsafe impl Send for Filter {}

#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Origin {
    /// `--seccomp-profile`.
    Profile,
    /// A filter the program installed.
    Program,
    /// `SECCOMP_MODE_STRICT`.
    Strict,
}

impl Origin {
    pub fn name(self) -> &'static str {
        match self {
            Origin::Profile => "profile",
            Origin::Program => "program",
            Origin::Strict => "strict",
        }
    }
    fn code(self) -> u8 {
        self as u8
    }
    fn from_code(c: u8) -> Option<Origin> {
        [Origin::Profile, Origin::Program, Origin::Strict]
            .into_iter()
            .find(|o| o.code() == c)
    }
}

static INSTALLS: AtomicU64 = AtomicU64::new(0);
/// The list the last `TSYNC` install gave every thread.
static SYNCED: AtomicPtr<Filter> = AtomicPtr::new(std::ptr::null_mut());

/// A thread's list: its newest filter (null: none). (`repr(C)`: part of
/// the KernelThread the assembly is handed.)
#[derive(Default)]
#[repr(C)]
pub struct ThreadFilters {
    /// A `*const Filter`, as an address (the struct stays FFI-safe).
    head: AtomicUsize,
}

fn seq_of(f: *const Filter) -> u64 {
    // SAFETY: published filters are never freed.
    unsafe { f.as_ref() }.map_or(0, |f| f.seq)
}

impl ThreadFilters {
    /// The thread's current list (after any `TSYNC` that reached it).
    pub fn head(&self) -> *const Filter {
        let own = self.head.load(Ordering::Acquire) as *const Filter;
        let synced = SYNCED.load(Ordering::Acquire) as *const Filter;
        if seq_of(synced) > seq_of(own) {
            self.head.store(synced as usize, Ordering::Release);
            synced
        } else {
            own
        }
    }

    /// Is the thread in strict mode (`SECCOMP_MODE_STRICT`)? Then the host
    /// kills it for any call but read, write, exit and rt_sigreturn,
    /// including the kernel side's own.
    pub fn strict(&self) -> bool {
        let mut f = self.head();
        // SAFETY: published filters are never freed.
        while let Some(filter) = unsafe { f.as_ref() } {
            if filter.origin == Origin::Strict {
                return true;
            }
            f = filter.prev;
        }
        false
    }

    /// A new thread starts with its creator's list.
    pub fn inherit(&self, from: &ThreadFilters) {
        self.head.store(from.head() as usize, Ordering::Release);
    }

    /// Adds a filter the host kernel accepted.
    pub fn push(&self, prog: Vec<libc::sock_filter>, origin: Origin, tsync: bool) {
        let f = Box::into_raw(Box::new(Filter {
            prog,
            origin,
            seq: INSTALLS.fetch_add(1, Ordering::SeqCst) + 1,
            prev: self.head(),
        }));
        self.head.store(f as usize, Ordering::Release);
        if tsync {
            SYNCED.store(f, Ordering::Release);
        }
    }
}

/// The action the filters take for one call.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct Verdict {
    /// The filter's return value (action and data).
    pub ret: u32,
    /// Which filter decided (None: no filter, the call is allowed).
    pub by: Option<Origin>,
}

impl Verdict {
    pub const NONE: Verdict = Verdict {
        ret: libc::SECCOMP_RET_ALLOW,
        by: None,
    };

    /// The action's name, as `SECCOMP_RET_*` without the prefix.
    pub fn action(&self) -> &'static str {
        match self.ret & libc::SECCOMP_RET_ACTION_FULL {
            libc::SECCOMP_RET_KILL_PROCESS => "kill_process",
            libc::SECCOMP_RET_KILL_THREAD => "kill_thread",
            libc::SECCOMP_RET_TRAP => "trap",
            libc::SECCOMP_RET_ERRNO => "errno",
            libc::SECCOMP_RET_USER_NOTIF => "user_notif",
            libc::SECCOMP_RET_TRACE => "trace",
            libc::SECCOMP_RET_LOG => "log",
            libc::SECCOMP_RET_ALLOW => "allow",
            // Linux treats an unknown action as KILL_PROCESS.
            _ => "kill_process",
        }
    }

    /// `SECCOMP_RET_DATA`: the errno of ERRNO, the value of TRAP and TRACE.
    pub fn data(&self) -> Option<u32> {
        matches!(
            self.ret & libc::SECCOMP_RET_ACTION_FULL,
            libc::SECCOMP_RET_ERRNO | libc::SECCOMP_RET_TRAP | libc::SECCOMP_RET_TRACE
        )
        .then_some(self.ret & libc::SECCOMP_RET_DATA)
    }
}

/// Strict mode: read, write, exit and rt_sigreturn; anything else kills
/// the thread (Linux's `__secure_computing_strict`).
fn strict(nr: u32) -> u32 {
    use crate::arch::Sysno;
    let allowed = [Sysno::read, Sysno::write, Sysno::exit, Sysno::rt_sigreturn];
    if allowed.iter().any(|s| *s as u32 == nr) {
        libc::SECCOMP_RET_ALLOW
    } else {
        libc::SECCOMP_RET_KILL_THREAD
    }
}

/// Runs every filter of the list starting at `head` over the call, newest
/// first, and keeps the action that takes precedence (Linux's
/// `seccomp_run_filters`: the lowest action value as a signed number; among
/// equal ones, the newest filter's).
pub fn judge(head: *const Filter, nr: u32, ip: u64, args: [u64; 6]) -> Verdict {
    let mut best = Verdict::NONE;
    let mut first = true;
    let mut f = head;
    // SAFETY: published filters are never freed.
    while let Some(filter) = unsafe { f.as_ref() } {
        let ret = match filter.origin {
            Origin::Strict => strict(nr),
            _ => crate::bpf::run(&filter.prog, nr, crate::arch::AUDIT_ARCH, ip, args),
        };
        let rank = |r: u32| (r & libc::SECCOMP_RET_ACTION_FULL) as i32;
        if first || rank(ret) < rank(best.ret) {
            best = Verdict {
                ret,
                by: Some(filter.origin),
            };
            first = false;
        }
        f = filter.prev;
    }
    best
}

/// What the thread gets for an operation the runner carries out itself,
/// where the host never sees the call as the program made it (a thread or
/// process clone, execve, the emulated `brk`, `rt_sigaction`, ...; the
/// host's filters judge the runner's own calls for it instead). The filters
/// the runner knows judge it here first, with the entry's own
/// `seccomp_data`, and their action is carried out as Linux does: `None`
/// to go on (ALLOW, LOG), or the result the entry gets instead (ERRNO,
/// TRACE without a tracer: ENOSYS; TRAP: SIGSYS with the seccomp siginfo,
/// the call returning its number). KILL_PROCESS and KILL_THREAD end the
/// process by SIGSYS (a multi-threaded program loses all its threads, not
/// only the caller; strict mode kills by SIGKILL, as on Linux). USER_NOTIF
/// cannot reach a supervisor from here: the
/// operation goes on, and the host judges the runner's calls.
pub fn enforce(filters: &ThreadFilters, tid: i32, nr: u32, args: [u64; 6]) -> Option<i64> {
    let head = filters.head();
    if head.is_null() {
        return None;
    }
    let ip = crate::arch::xsc_kernel_syscall6_ret as *const () as u64;
    let v = judge(head, nr, ip, args);
    let data = (v.ret & libc::SECCOMP_RET_DATA) as i64;
    match v.ret & libc::SECCOMP_RET_ACTION_FULL {
        libc::SECCOMP_RET_ALLOW | libc::SECCOMP_RET_LOG | libc::SECCOMP_RET_USER_NOTIF => None,
        libc::SECCOMP_RET_ERRNO => Some(-data.min(4095)),
        libc::SECCOMP_RET_TRACE => Some(-(libc::ENOSYS as i64)),
        libc::SECCOMP_RET_TRAP => {
            trap(tid, nr, ip, data as i32);
            Some(nr as i64)
        }
        // Strict mode kills with SIGKILL.
        _ if v.by == Some(Origin::Strict) => crate::signals::die_by_signal(libc::SIGKILL),
        _ => crate::signals::die_by_signal(libc::SIGSYS),
    }
}

/// Queues the SIGSYS of a TRAP action for the calling thread, with the
/// siginfo Linux gives it (SYS_SECCOMP, the call's number, arch and
/// address, the filter's data in `si_errno`).
fn trap(tid: i32, nr: u32, ip: u64, data: i32) {
    // SAFETY: an all-zero siginfo_t is valid.
    let mut info: libc::siginfo_t = unsafe { std::mem::zeroed() };
    info.si_signo = libc::SIGSYS;
    info.si_errno = data;
    info.si_code = crate::signals::SYS_SECCOMP;
    // The `_sigsys` fields (after signo, errno, code and padding).
    let raw = &mut info as *mut libc::siginfo_t as *mut u8;
    // SAFETY: offsets inside siginfo_t (128 bytes), as linux/signal.h lays
    // out `_sigsys`: call address at 16, syscall at 24, arch at 28.
    unsafe {
        (raw.add(16) as *mut u64).write_unaligned(ip);
        (raw.add(24) as *mut i32).write_unaligned(nr as i32);
        (raw.add(28) as *mut u32).write_unaligned(crate::arch::AUDIT_ARCH);
    }
    crate::sys::raw_syscall(
        libc::SYS_rt_tgsigqueueinfo as u32,
        [
            crate::sys::getpid() as u64,
            tid as u64,
            libc::SIGSYS as u64,
            &info as *const libc::siginfo_t as u64,
            0,
            0,
        ],
    );
}

/// Records a filter (or strict mode) the program installed through
/// `seccomp` or `prctl`, once the host kernel accepted it (`result >= 0`).
/// `args` are the call's.
pub fn note_install(filters: &ThreadFilters, nr: u32, args: [u64; 6], result: i64) {
    use crate::arch::Sysno;
    const SECCOMP_MODE_STRICT: u64 = 1;
    const SECCOMP_MODE_FILTER: u64 = 2;
    if result < 0 {
        return;
    }
    let (mode, flags, prog) = if nr == Sysno::seccomp as u32 {
        match args[0] {
            a if a == libc::SECCOMP_SET_MODE_STRICT as u64 => (SECCOMP_MODE_STRICT, 0, 0),
            a if a == libc::SECCOMP_SET_MODE_FILTER as u64 => {
                (SECCOMP_MODE_FILTER, args[1], args[2])
            }
            _ => return,
        }
    } else if nr == Sysno::prctl as u32 && args[0] == libc::PR_SET_SECCOMP as u64 {
        (args[1], 0, args[2])
    } else {
        return;
    };
    match mode {
        SECCOMP_MODE_STRICT => filters.push(Vec::new(), Origin::Strict, false),
        // A listener fd is returned: the install succeeded.
        SECCOMP_MODE_FILTER => {
            let Ok(fprog) = crate::memory::read_struct::<FProg>(prog) else {
                return;
            };
            let size = fprog.len as usize * std::mem::size_of::<libc::sock_filter>();
            let Ok(bytes) = crate::memory::read_bytes(fprog.filter, size) else {
                return;
            };
            let tsync = flags & libc::SECCOMP_FILTER_FLAG_TSYNC != 0;
            // With TSYNC (without TSYNC_ESRCH), a positive result is the
            // thread that could not be synchronised: nothing installed.
            const TSYNC_ESRCH: u64 = 1 << 4;
            if tsync && flags & TSYNC_ESRCH == 0 && result > 0 {
                return;
            }
            filters.push(decode_prog(&bytes), Origin::Program, tsync);
        }
        _ => {}
    }
}

/// `struct sock_fprog` as the program laid it out.
#[derive(Clone, Copy, Default)]
#[repr(C)]
struct FProg {
    len: u16,
    filter: u64,
}

fn decode_prog(bytes: &[u8]) -> Vec<libc::sock_filter> {
    bytes
        .chunks_exact(8)
        .map(|c| libc::sock_filter {
            code: u16::from_ne_bytes([c[0], c[1]]),
            jt: c[2],
            jf: c[3],
            k: u32::from_ne_bytes([c[4], c[5], c[6], c[7]]),
        })
        .collect()
}

/// The option that hands the thread's filters (which the host keeps across
/// exec) to the runner of an exec'd XSC program, in a memfd, and the memfd
/// (to drop if the exec fails). None without filters.
pub fn exec_option(filters: &ThreadFilters) -> Option<(Vec<u8>, std::os::fd::OwnedFd)> {
    use std::os::fd::{AsRawFd, FromRawFd};
    let bytes = serialize(filters.head());
    if bytes.is_empty() {
        return None;
    }
    // SAFETY: a NUL-terminated name; flags 0 (the descriptor must survive
    // the exec).
    let fd = unsafe { libc::memfd_create(c"xsc-run-seccomp-filters".as_ptr(), 0) };
    if fd < 0 {
        return None;
    }
    // SAFETY: a descriptor just created and owned by nothing else.
    let owned = unsafe { std::os::fd::OwnedFd::from_raw_fd(fd) };
    // SAFETY: our buffer, our descriptor.
    let n = unsafe { libc::write(fd, bytes.as_ptr() as *const libc::c_void, bytes.len()) };
    (n == bytes.len() as isize).then(|| {
        (
            format!("--seccomp-filters-fd={}", owned.as_raw_fd()).into_bytes(),
            owned,
        )
    })
}

/// In an exec'd runner: the filters the exec'ing one handed on
/// ([`exec_option`]), for the main thread.
pub fn adopt(filters: &ThreadFilters, fd: i32) -> Result<(), String> {
    use std::io::{Read, Seek};
    use std::os::fd::FromRawFd;
    // SAFETY: the descriptor was made for us by the runner that exec'd
    // this one and is used by nothing else; the File owns and closes it.
    let mut f = unsafe { std::fs::File::from_raw_fd(fd) };
    let mut bytes = Vec::new();
    f.rewind()
        .and_then(|_| f.read_to_end(&mut bytes))
        .map_err(|e| format!("cannot read the inherited seccomp filters: {e}"))?;
    deserialize(filters, &bytes)
}

/// The list as bytes, oldest filter first (to hand to an exec'd runner):
/// per filter, its origin, its length in instructions (u32) and the
/// instructions.
pub fn serialize(head: *const Filter) -> Vec<u8> {
    let mut chain = Vec::new();
    let mut f = head;
    // SAFETY: published filters are never freed.
    while let Some(filter) = unsafe { f.as_ref() } {
        chain.push(filter);
        f = filter.prev;
    }
    let mut out = Vec::new();
    for filter in chain.iter().rev() {
        out.push(filter.origin.code());
        out.extend_from_slice(&(filter.prog.len() as u32).to_ne_bytes());
        for i in &filter.prog {
            out.extend_from_slice(&i.code.to_ne_bytes());
            out.extend_from_slice(&[i.jt, i.jf]);
            out.extend_from_slice(&i.k.to_ne_bytes());
        }
    }
    out
}

/// Rebuilds a list written by [`serialize`] onto `filters`.
pub fn deserialize(filters: &ThreadFilters, mut bytes: &[u8]) -> Result<(), String> {
    while !bytes.is_empty() {
        let bad = || "malformed filter list".to_string();
        let origin = Origin::from_code(bytes[0]).ok_or_else(bad)?;
        let len = u32::from_ne_bytes(bytes.get(1..5).ok_or_else(bad)?.try_into().unwrap());
        let end = 5 + len as usize * 8;
        let prog = bytes.get(5..end).ok_or_else(bad)?;
        filters.push(decode_prog(prog), origin, false);
        bytes = &bytes[end..];
    }
    Ok(())
}

#[cfg(test)]
mod tests {
    use super::*;
    use libc::*;

    fn ret(k: u32) -> Vec<sock_filter> {
        vec![sock_filter {
            code: (BPF_RET | BPF_K) as u16,
            jt: 0,
            jf: 0,
            k,
        }]
    }

    /// One test: `TSYNC` publishes to every list in the process, so the
    /// steps must not run alongside each other.
    #[test]
    fn precedence_strict_mode_tsync_and_serialization() {
        let t = ThreadFilters::default();
        assert_eq!(judge(t.head(), 39, 0, [0; 6]), Verdict::NONE);
        t.push(ret(SECCOMP_RET_ERRNO | 1), Origin::Profile, false);
        t.push(ret(SECCOMP_RET_ALLOW), Origin::Program, false);
        let v = judge(t.head(), 39, 0, [0; 6]);
        assert_eq!(
            (v.action(), v.data(), v.by),
            ("errno", Some(1), Some(Origin::Profile))
        );
        t.push(ret(SECCOMP_RET_ERRNO | 13), Origin::Program, false);
        let v = judge(t.head(), 39, 0, [0; 6]);
        assert_eq!((v.data(), v.by), (Some(13), Some(Origin::Program)));
        t.push(ret(SECCOMP_RET_KILL_PROCESS), Origin::Program, false);
        assert_eq!(judge(t.head(), 39, 0, [0; 6]).action(), "kill_process");
        // Strict mode.
        let s = ThreadFilters::default();
        s.push(Vec::new(), Origin::Strict, false);
        assert_eq!(judge(s.head(), 1, 0, [0; 6]).action(), "allow");
        assert_eq!(judge(s.head(), 39, 0, [0; 6]).action(), "kill_thread");

        let a = ThreadFilters::default();
        let b = ThreadFilters::default();
        b.inherit(&a);
        a.push(ret(SECCOMP_RET_LOG), Origin::Program, true);
        assert_eq!(judge(b.head(), 0, 0, [0; 6]).action(), "log");
        b.push(ret(SECCOMP_RET_TRAP | 7), Origin::Program, false);
        let c = ThreadFilters::default();
        deserialize(&c, &serialize(b.head())).unwrap();
        let v = judge(c.head(), 0, 0, [0; 6]);
        assert_eq!((v.action(), v.data()), ("trap", Some(7)));
        assert!(deserialize(&c, &[9]).is_err());
    }
}
