//! Operation categories, and which operations run in the submitting thread's
//! own context.
//!
//! An opcode is the architecture's Linux system-call number. Most operations
//! act on process-wide state (files, sockets, memory, time) and go on the
//! submission ring, whoever then consumes them (ABI §5.1). The
//! *thread-context* operations touch state that belongs to the calling
//! thread itself (signal mask, alternate signal stack, thread pointer,
//! thread id, credentials, CPU affinity, its own existence) and never go
//! on the ring: the user side makes them through the entry table's
//! `thread_call`, which runs them in the calling thread. The list is part of
//! the ABI: both sides use [`is_thread_context`].

/// The architectures the ABI is defined for.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Arch {
    X86_64,
    Aarch64,
}

impl Arch {
    /// The architecture this crate was compiled for, if XSC defines it.
    pub const fn current() -> Option<Arch> {
        if cfg!(target_arch = "x86_64") {
            Some(Arch::X86_64)
        } else if cfg!(target_arch = "aarch64") {
            Some(Arch::Aarch64)
        } else {
            None
        }
    }
}

/// What an operation works on; kernels dispatch and account by category.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Category {
    Fs,
    Net,
    Time,
    Sync,
    Memory,
    Signal,
    Process,
    Misc,
}

impl Category {
    pub const fn name(self) -> &'static str {
        match self {
            Category::Fs => "fs",
            Category::Net => "net",
            Category::Time => "time",
            Category::Sync => "sync",
            Category::Memory => "memory",
            Category::Signal => "signal",
            Category::Process => "process",
            Category::Misc => "misc",
        }
    }
}

/// x86_64 system-call numbers the ABI names.
pub mod x86_64 {
    /// `clone`'s argument order here: `clone(flags, stack, parent_tid,
    /// child_tid, tls)` (ABI §7.3): the index of `child_tid` and of `tls`.
    pub const CLONE_CHILD_TID_ARG: usize = 3;
    pub const CLONE_TLS_ARG: usize = 4;
    pub const READ: u32 = 0;
    pub const WRITE: u32 = 1;
    pub const CLOSE: u32 = 3;
    pub const MMAP: u32 = 9;
    pub const MPROTECT: u32 = 10;
    pub const MUNMAP: u32 = 11;
    pub const BRK: u32 = 12;
    pub const RT_SIGACTION: u32 = 13;
    pub const RT_SIGPROCMASK: u32 = 14;
    pub const RT_SIGRETURN: u32 = 15;
    pub const SCHED_YIELD: u32 = 24;
    pub const GETPID: u32 = 39;
    pub const CLONE: u32 = 56;
    pub const FORK: u32 = 57;
    pub const VFORK: u32 = 58;
    pub const EXECVE: u32 = 59;
    pub const EXIT: u32 = 60;
    pub const KILL: u32 = 62;
    pub const SETUID: u32 = 105;
    pub const SETGID: u32 = 106;
    pub const GETTIMEOFDAY: u32 = 96;
    pub const GETPPID: u32 = 110;
    pub const SETREUID: u32 = 113;
    pub const SETREGID: u32 = 114;
    pub const SETGROUPS: u32 = 116;
    pub const SETRESUID: u32 = 117;
    pub const SETRESGID: u32 = 119;
    pub const SETFSUID: u32 = 122;
    pub const SETFSGID: u32 = 123;
    pub const CAPSET: u32 = 126;
    pub const RT_SIGPENDING: u32 = 127;
    pub const RT_SIGTIMEDWAIT: u32 = 128;
    pub const RT_SIGSUSPEND: u32 = 130;
    pub const SIGALTSTACK: u32 = 131;
    pub const PERSONALITY: u32 = 135;
    pub const PRCTL: u32 = 157;
    pub const ARCH_PRCTL: u32 = 158;
    pub const GETTID: u32 = 186;
    pub const TIME: u32 = 201;
    pub const FUTEX: u32 = 202;
    pub const SCHED_SETAFFINITY: u32 = 203;
    pub const SCHED_GETAFFINITY: u32 = 204;
    pub const SET_TID_ADDRESS: u32 = 218;
    pub const CLOCK_GETTIME: u32 = 228;
    pub const EXIT_GROUP: u32 = 231;
    pub const TGKILL: u32 = 234;
    pub const PSELECT6: u32 = 270;
    pub const PPOLL: u32 = 271;
    pub const UNSHARE: u32 = 272;
    pub const OPENAT: u32 = 257;
    pub const SET_ROBUST_LIST: u32 = 273;
    pub const GET_ROBUST_LIST: u32 = 274;
    pub const EPOLL_PWAIT: u32 = 281;
    pub const GETCPU: u32 = 309;
    pub const SECCOMP: u32 = 317;
    pub const EXECVEAT: u32 = 322;
    pub const RSEQ: u32 = 334;
    pub const CLONE3: u32 = 435;
    pub const EPOLL_PWAIT2: u32 = 441;

    /// The thread-context operations of x86_64, sorted.
    pub const THREAD_CONTEXT: &[u32] = &[
        RT_SIGPROCMASK,
        RT_SIGRETURN,
        SCHED_YIELD,
        CLONE,
        FORK,
        VFORK,
        EXECVE,
        EXIT,
        SETUID,
        SETGID,
        SETREUID,
        SETREGID,
        SETGROUPS,
        SETRESUID,
        SETRESGID,
        SETFSUID,
        SETFSGID,
        CAPSET,
        RT_SIGPENDING,
        RT_SIGTIMEDWAIT,
        RT_SIGSUSPEND,
        SIGALTSTACK,
        PERSONALITY,
        PRCTL,
        ARCH_PRCTL,
        GETTID,
        SCHED_SETAFFINITY,
        SCHED_GETAFFINITY,
        SET_TID_ADDRESS,
        PSELECT6,
        PPOLL,
        UNSHARE,
        SET_ROBUST_LIST,
        GET_ROBUST_LIST,
        EPOLL_PWAIT,
        GETCPU,
        SECCOMP,
        EXECVEAT,
        RSEQ,
        CLONE3,
        EPOLL_PWAIT2,
    ];

    /// The operations a poller may take (ABI §5.1, §6.4): they never
    /// block and do not depend on the calling thread (see
    /// [`super::depends_on_caller`]). Four of them only with some
    /// arguments, checked by [`super::poller_takes`]: `clock_gettime` and
    /// `clock_getres` not on a CPU clock, `mmap` anonymous, `fcntl` not a
    /// lock wait. Sorted; the kernel's `xsc_poller_takes` is pinned against
    /// this list (`xsc-abi/tests/kernel_header.rs`).
    pub const POLLER_TAKES: &[u32] = &[
        5,   // fstat
        8,   // lseek
        9,   // mmap (anonymous)
        10,  // mprotect
        11,  // munmap
        12,  // brk
        25,  // mremap
        28,  // madvise
        32,  // dup
        39,  // getpid
        63,  // uname
        72,  // fcntl (not F_SETLKW, F_OFD_SETLKW)
        79,  // getcwd
        95,  // umask
        96,  // gettimeofday
        97,  // getrlimit
        102, // getuid
        104, // getgid
        107, // geteuid
        108, // getegid
        110, // getppid
        111, // getpgrp
        115, // getgroups
        118, // getresuid
        120, // getresgid
        121, // getpgid
        124, // getsid
        201, // time
        228, // clock_gettime (not a CPU clock)
        229, // clock_getres (not a CPU clock)
    ];
}

/// Does a poller take this entry (ABI §5.1, §6.4)? An opcode of
/// [`x86_64::POLLER_TAKES`], with the argument conditions listed there.
/// aarch64 has no poller list yet: false there.
pub fn poller_takes(arch: Arch, opcode: u32, args: [u64; 6]) -> bool {
    use syscalls::x86_64::Sysno as X;
    const MAP_ANONYMOUS: u64 = 0x20;
    const F_SETLKW: u64 = 7;
    const F_OFD_SETLKW: u64 = 38;
    const CLOCK_THREAD_CPUTIME_ID: u64 = 3;
    if arch != Arch::X86_64 || x86_64::POLLER_TAKES.binary_search(&opcode).is_err() {
        return false;
    }
    match X::new(opcode as usize) {
        Some(X::clock_gettime | X::clock_getres) => {
            // Negative ids name CPU clocks.
            args[0] as i32 >= 0 && args[0] != CLOCK_THREAD_CPUTIME_ID
        }
        Some(X::mmap) => args[3] & MAP_ANONYMOUS != 0,
        Some(X::fcntl) => args[1] != F_SETLKW && args[1] != F_OFD_SETLKW,
        _ => true,
    }
}

/// aarch64 (asm-generic) system-call numbers the ABI names.
pub mod aarch64 {
    /// `clone`'s argument order here: `clone(flags, stack, parent_tid, tls,
    /// child_tid)` (ABI §7.3): the index of `child_tid` and of `tls`.
    pub const CLONE_CHILD_TID_ARG: usize = 4;
    pub const CLONE_TLS_ARG: usize = 3;
    pub const EPOLL_PWAIT: u32 = 22;
    pub const OPENAT: u32 = 56;
    pub const CLOSE: u32 = 57;
    pub const READ: u32 = 63;
    pub const WRITE: u32 = 64;
    pub const CLOCK_GETTIME: u32 = 113;
    pub const KILL: u32 = 129;
    pub const GETTIMEOFDAY: u32 = 169;
    pub const GETPID: u32 = 172;
    pub const GETPPID: u32 = 173;
    pub const BRK: u32 = 214;
    pub const MUNMAP: u32 = 215;
    pub const MMAP: u32 = 222;
    pub const MPROTECT: u32 = 226;
    pub const PSELECT6: u32 = 72;
    pub const PPOLL: u32 = 73;
    pub const CAPSET: u32 = 91;
    pub const PERSONALITY: u32 = 92;
    pub const EXIT: u32 = 93;
    pub const EXIT_GROUP: u32 = 94;
    pub const SET_TID_ADDRESS: u32 = 96;
    pub const UNSHARE: u32 = 97;
    pub const FUTEX: u32 = 98;
    pub const SET_ROBUST_LIST: u32 = 99;
    pub const GET_ROBUST_LIST: u32 = 100;
    pub const SCHED_SETAFFINITY: u32 = 122;
    pub const SCHED_GETAFFINITY: u32 = 123;
    pub const SCHED_YIELD: u32 = 124;
    pub const SIGALTSTACK: u32 = 132;
    pub const RT_SIGSUSPEND: u32 = 133;
    pub const RT_SIGACTION: u32 = 134;
    pub const RT_SIGPROCMASK: u32 = 135;
    pub const RT_SIGPENDING: u32 = 136;
    pub const RT_SIGTIMEDWAIT: u32 = 137;
    pub const RT_SIGRETURN: u32 = 139;
    pub const SETREGID: u32 = 143;
    pub const SETGID: u32 = 144;
    pub const SETREUID: u32 = 145;
    pub const SETUID: u32 = 146;
    pub const SETRESUID: u32 = 147;
    pub const SETRESGID: u32 = 149;
    pub const SETFSUID: u32 = 151;
    pub const SETFSGID: u32 = 152;
    pub const SETGROUPS: u32 = 159;
    pub const PRCTL: u32 = 167;
    pub const GETCPU: u32 = 168;
    pub const GETTID: u32 = 178;
    pub const CLONE: u32 = 220;
    pub const EXECVE: u32 = 221;
    pub const SECCOMP: u32 = 277;
    pub const EXECVEAT: u32 = 281;
    pub const RSEQ: u32 = 293;
    pub const CLONE3: u32 = 435;
    pub const EPOLL_PWAIT2: u32 = 441;

    /// The thread-context operations of aarch64, sorted.
    pub const THREAD_CONTEXT: &[u32] = &[
        EPOLL_PWAIT,
        PSELECT6,
        PPOLL,
        CAPSET,
        PERSONALITY,
        EXIT,
        SET_TID_ADDRESS,
        UNSHARE,
        SET_ROBUST_LIST,
        GET_ROBUST_LIST,
        SCHED_SETAFFINITY,
        SCHED_GETAFFINITY,
        SCHED_YIELD,
        SIGALTSTACK,
        RT_SIGSUSPEND,
        RT_SIGPROCMASK,
        RT_SIGPENDING,
        RT_SIGTIMEDWAIT,
        RT_SIGRETURN,
        SETREGID,
        SETGID,
        SETREUID,
        SETUID,
        SETRESUID,
        SETRESGID,
        SETFSUID,
        SETFSGID,
        SETGROUPS,
        PRCTL,
        GETCPU,
        GETTID,
        CLONE,
        EXECVE,
        SECCOMP,
        EXECVEAT,
        RSEQ,
        CLONE3,
        EPOLL_PWAIT2,
    ];
}

/// Does `opcode` run in the submitting thread's own context (through the
/// entry table's `thread_call`) rather than on the ring?
/// The entry-table time functions (ABI v2, §5.8): the operations a runtime
/// serves without a ring round trip, like Linux's vDSO.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum TimeFunction {
    ClockGettime,
    Gettimeofday,
    Time,
    Getcpu,
}

/// Which entry-table time function serves `opcode`, if any. (aarch64 has no
/// `time` system call.)
pub fn time_function(arch: Arch, opcode: u32) -> Option<TimeFunction> {
    match (arch, opcode) {
        (Arch::X86_64, x86_64::CLOCK_GETTIME) | (Arch::Aarch64, aarch64::CLOCK_GETTIME) => {
            Some(TimeFunction::ClockGettime)
        }
        (Arch::X86_64, x86_64::GETTIMEOFDAY) | (Arch::Aarch64, aarch64::GETTIMEOFDAY) => {
            Some(TimeFunction::Gettimeofday)
        }
        (Arch::X86_64, x86_64::TIME) => Some(TimeFunction::Time),
        (Arch::X86_64, x86_64::GETCPU) | (Arch::Aarch64, aarch64::GETCPU) => {
            Some(TimeFunction::Getcpu)
        }
        _ => None,
    }
}

/// Is `opcode` a thread-context operation of `arch`? (Both sides ask this
/// for every call: one bit test in a table built at compile time from the
/// lists above.)
#[inline]
pub fn is_thread_context(arch: Arch, opcode: u32) -> bool {
    let map = match arch {
        Arch::X86_64 => &X86_64_THREAD_CONTEXT_MAP,
        Arch::Aarch64 => &AARCH64_THREAD_CONTEXT_MAP,
    };
    let i = opcode as usize;
    i < OPCODE_MAP_BITS && map[i / 64] & (1 << (i % 64)) != 0
}

/// Opcodes covered by the bitmaps (every Linux system-call number of both
/// architectures is below this today; a test checks the lists fit).
const OPCODE_MAP_BITS: usize = 512;

const fn opcode_map(list: &[u32]) -> [u64; OPCODE_MAP_BITS / 64] {
    let mut map = [0u64; OPCODE_MAP_BITS / 64];
    let mut i = 0;
    while i < list.len() {
        let n = list[i] as usize;
        assert!(n < OPCODE_MAP_BITS, "opcode outside the map");
        map[n / 64] |= 1 << (n % 64);
        i += 1;
    }
    map
}

static X86_64_THREAD_CONTEXT_MAP: [u64; OPCODE_MAP_BITS / 64] = opcode_map(x86_64::THREAD_CONTEXT);
static AARCH64_THREAD_CONTEXT_MAP: [u64; OPCODE_MAP_BITS / 64] =
    opcode_map(aarch64::THREAD_CONTEXT);

/// Is this ring operation about the task that makes it, so that only the
/// submitting thread itself may execute it (ABI §5.1: a poller leaves it to
/// inline consumption)? Beyond the thread-context operations (which never
/// reach the ring) and the credentials every call is checked with (which a
/// poller must take over anyway), these act on or report "the calling
/// thread" (x86_64 numbers; `args` are the entry's):
///
/// - always: `set_mempolicy`, `get_mempolicy` (the thread's policy),
///   `setns`, `landlock_restrict_self`, `ptrace` with `PTRACE_TRACEME`,
///   `set_thread_area`, `get_thread_area`;
/// - by argument: `getrusage(RUSAGE_THREAD)`; `sched_setscheduler`,
///   `sched_getscheduler`, `sched_setparam`, `sched_getparam`,
///   `sched_setattr`, `sched_getattr` with pid 0; `setpriority` and
///   `getpriority` with `PRIO_PROCESS` and who 0; `ioprio_set` and
///   `ioprio_get` with `IOPRIO_WHO_PROCESS` and who 0;
///   `perf_event_open` with pid 0; `timer_create` on
///   `CLOCK_THREAD_CPUTIME_ID` or with `SIGEV_THREAD_ID`;
///   `clock_gettime`, `clock_getres`, `clock_nanosleep` on
///   `CLOCK_THREAD_CPUTIME_ID`; `futex` priority-inheritance operations
///   (the owner is the caller); `keyctl` naming the thread keyring.
///
/// (`read` of a signalfd reports the reader's own pending signals too; it
/// cannot be told from its arguments, and a poller leaves `read` to inline
/// consumption anyway, since it can block.) aarch64 is not classified yet:
/// `None` there.
pub fn depends_on_caller(arch: Arch, opcode: u32, args: [u64; 6]) -> Option<bool> {
    use syscalls::x86_64::Sysno as X;
    if arch != Arch::X86_64 {
        return None;
    }
    const RUSAGE_THREAD: u64 = 1;
    const PRIO_PROCESS: u64 = 0;
    const IOPRIO_WHO_PROCESS: u64 = 1;
    const PTRACE_TRACEME: u64 = 0;
    const CLOCK_THREAD_CPUTIME_ID: u64 = 3;
    // The futex command without FUTEX_PRIVATE_FLAG and FUTEX_CLOCK_REALTIME.
    const FUTEX_CMD_MASK: u64 = !(128 | 256);
    // FUTEX_LOCK_PI, UNLOCK_PI, TRYLOCK_PI, WAIT_REQUEUE_PI, CMP_REQUEUE_PI,
    // LOCK_PI2 (linux/futex.h).
    const FUTEX_PI_OPS: [u64; 6] = [6, 7, 8, 11, 12, 13];
    const KEY_SPEC_THREAD_KEYRING: i32 = -1;
    let Some(op) = X::new(opcode as usize) else {
        return Some(false);
    };
    let [a0, a1, a2, _, _, _] = args;
    Some(match op {
        X::set_mempolicy
        | X::get_mempolicy
        | X::setns
        | X::landlock_restrict_self
        | X::set_thread_area
        | X::get_thread_area => true,
        X::ptrace => a0 == PTRACE_TRACEME,
        X::getrusage => a0 == RUSAGE_THREAD,
        X::sched_setscheduler
        | X::sched_getscheduler
        | X::sched_setparam
        | X::sched_getparam
        | X::sched_setattr
        | X::sched_getattr => a0 == 0,
        X::getpriority | X::setpriority => a0 == PRIO_PROCESS && a1 == 0,
        X::ioprio_set | X::ioprio_get => a0 == IOPRIO_WHO_PROCESS && a1 == 0,
        X::perf_event_open => a1 == 0,
        // The sigevent (a1) may ask for SIGEV_THREAD_ID, and the program's
        // memory is not read here: any sigevent counts.
        X::timer_create => a0 == CLOCK_THREAD_CPUTIME_ID || a1 != 0,
        X::clock_gettime | X::clock_getres | X::clock_nanosleep => a0 == CLOCK_THREAD_CPUTIME_ID,
        X::futex => FUTEX_PI_OPS.contains(&(a1 & FUTEX_CMD_MASK)),
        X::keyctl => a1 as i32 == KEY_SPEC_THREAD_KEYRING || a2 as i32 == KEY_SPEC_THREAD_KEYRING,
        _ => false,
    })
}

/// The category of an opcode of `arch` (for accounting and tracing; it does
/// not change where an operation runs).
pub fn category(arch: Arch, opcode: u32) -> Category {
    match arch {
        Arch::X86_64 => category_x86_64(opcode),
        Arch::Aarch64 => category_aarch64(opcode),
    }
}

fn category_x86_64(nr: u32) -> Category {
    use Category::*;
    match nr {
        // read..lseek, pread/pwrite/readv/writev/access/pipe, dup*, fcntl..fchown etc.
        0..=8 | 16..=22 | 32 | 33 | 40 | 72..=95 | 132..=133 | 137..=138 | 161..=162 => Fs,
        165..=166 | 187..=199 | 206..=210 | 217 | 221 | 235 | 253..=269 | 275..=280 => Fs,
        282..=286 | 290..=294 | 300..=301 | 303..=306 | 316 | 319 | 326..=333 => Fs,
        23 | 213 | 232 | 233 | 270 | 271 | 281 | 441 => Fs,
        41..=55 | 288 | 299 | 307 => Net,
        35..=38 | 96 | 201 | 222..=230 | 287 => Time,
        202 | 240..=245 | 273 | 274 | 324 | 449..=456 => Sync,
        9..=12 | 25..=31 | 149..=152 | 216 | 237..=239 | 325 => Memory,
        13..=15 | 34 | 62 | 127..=131 | 200 | 234 | 289 | 297 | 424 => Signal,
        24 | 39 | 56..=61 | 63 | 97..=126 | 134..=136 | 139..=148 | 157 | 158 | 186 => Process,
        203..=205 | 218 | 231 | 247 | 272 | 302 | 309 | 317 | 318 | 322 | 334 | 435 | 434 => {
            Process
        }
        _ => Misc,
    }
}

fn category_aarch64(nr: u32) -> Category {
    use Category::*;
    match nr {
        5..=84 | 276 | 291 | 441 => Fs,
        198..=212 | 242 | 243 | 269 => Net,
        101..=115 | 169..=171 => Time,
        98..=100 => Sync,
        214..=216 | 222..=240 | 283 | 284 | 288..=290 => Memory,
        128..=139 => Signal,
        85..=97 | 116..=127 | 140..=168 | 172..=179 | 220 | 221 | 260 | 261 | 277 | 278 => Process,
        281 | 293 | 435 | 434 => Process,
        _ => Misc,
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn thread_context_lists_are_sorted_and_unique() {
        for list in [x86_64::THREAD_CONTEXT, aarch64::THREAD_CONTEXT] {
            assert!(list.windows(2).all(|w| w[0] < w[1]), "{list:?}");
        }
    }

    #[test]
    fn per_thread_state_runs_in_thread_context() {
        for nr in [
            x86_64::RT_SIGPROCMASK,
            x86_64::ARCH_PRCTL,
            x86_64::GETTID,
            x86_64::EXIT,
            x86_64::CLONE,
            x86_64::EXECVE,
            x86_64::FORK,
            x86_64::RT_SIGRETURN,
        ] {
            assert!(is_thread_context(Arch::X86_64, nr), "{nr}");
        }
        for nr in [x86_64::WRITE, x86_64::GETPID, x86_64::FUTEX, x86_64::MMAP] {
            assert!(!is_thread_context(Arch::X86_64, nr), "{nr}");
        }
        assert!(is_thread_context(Arch::Aarch64, aarch64::CLONE));
        assert!(!is_thread_context(Arch::Aarch64, aarch64::FUTEX));
    }

    #[test]
    fn the_bitmaps_say_what_the_lists_say() {
        for (arch, list) in [
            (Arch::X86_64, x86_64::THREAD_CONTEXT),
            (Arch::Aarch64, aarch64::THREAD_CONTEXT),
        ] {
            for op in 0..2048u32 {
                assert_eq!(is_thread_context(arch, op), list.contains(&op), "{op}");
            }
            assert!(!is_thread_context(arch, u32::MAX));
        }
    }

    #[test]
    fn operations_about_the_calling_task_are_classified_by_their_arguments() {
        use syscalls::x86_64::Sysno as X;
        let d = |s: X, a: [u64; 6]| depends_on_caller(Arch::X86_64, s as u32, a).unwrap();
        let z = [0u64; 6];
        assert!(d(X::set_mempolicy, z) && d(X::setns, z) && d(X::landlock_restrict_self, z));
        assert!(d(X::getrusage, [1, 0, 0, 0, 0, 0]));
        assert!(!d(X::getrusage, z), "RUSAGE_SELF is the process's");
        assert!(d(X::sched_setscheduler, z));
        assert!(!d(X::sched_setscheduler, [42, 0, 0, 0, 0, 0]));
        assert!(d(X::setpriority, [0, 0, 5, 0, 0, 0]));
        assert!(!d(X::setpriority, [1, 0, 5, 0, 0, 0]), "PRIO_PGRP");
        assert!(d(X::ioprio_set, [1, 0, 0, 0, 0, 0]));
        assert!(d(X::perf_event_open, [0x1000, 0, 0, 0, 0, 0]));
        assert!(!d(X::perf_event_open, [0x1000, 77, 0, 0, 0, 0]));
        assert!(d(X::ptrace, z), "PTRACE_TRACEME");
        assert!(!d(X::ptrace, [16, 77, 0, 0, 0, 0]), "PTRACE_ATTACH");
        assert!(d(X::clock_gettime, [3, 0, 0, 0, 0, 0]));
        assert!(!d(X::clock_gettime, [1, 0, 0, 0, 0, 0]));
        assert!(
            d(X::futex, [0, 6 | 128, 0, 0, 0, 0]),
            "FUTEX_LOCK_PI_PRIVATE"
        );
        assert!(!d(X::futex, [0, 128, 0, 0, 0, 0]), "FUTEX_WAIT_PRIVATE");
        assert!(d(X::keyctl, [0, (-1i64) as u64, 0, 0, 0, 0]));
        assert!(!d(X::write, z) && !d(X::getpid, z));
        assert_eq!(depends_on_caller(Arch::Aarch64, 0, z), None);
    }

    #[test]
    fn a_poller_takes_only_operations_that_do_not_depend_on_the_caller() {
        use syscalls::x86_64::Sysno as X;
        let list = x86_64::POLLER_TAKES;
        assert!(list.windows(2).all(|w| w[0] < w[1]), "sorted");
        for &op in list {
            assert!(!is_thread_context(Arch::X86_64, op), "{op}");
            for a0 in [0u64, 1, 3, (-2i64) as u64] {
                let args = [a0, 0, 0, 0x22, 0, 0];
                if poller_takes(Arch::X86_64, op, args) {
                    assert_eq!(
                        depends_on_caller(Arch::X86_64, op, args),
                        Some(false),
                        "{op}"
                    );
                }
            }
        }
        let t = |s: X, a: [u64; 6]| poller_takes(Arch::X86_64, s as u32, a);
        let z = [0u64; 6];
        assert!(t(X::getpid, z) && t(X::brk, z));
        assert!(!t(X::read, z) && !t(X::futex, z), "they can block");
        assert!(
            !t(X::clock_gettime, [3, 0, 0, 0, 0, 0]),
            "the thread's CPU clock"
        );
        assert!(
            !t(X::clock_gettime, [(-6i64) as u64, 0, 0, 0, 0, 0]),
            "a CPU clock"
        );
        assert!(t(X::clock_gettime, [1, 0, 0, 0, 0, 0]));
        assert!(t(X::mmap, [0, 4096, 3, 0x22, 0, 0]) && !t(X::mmap, [0, 4096, 3, 2, 3, 0]));
        assert!(!t(X::fcntl, [3, 7, 0, 0, 0, 0]) && t(X::fcntl, [3, 1, 0, 0, 0, 0]));
        assert!(!poller_takes(Arch::Aarch64, X::getpid as u32, z));
    }

    #[test]
    fn time_functions_match_the_system_call_numbers() {
        use syscalls::{aarch64::Sysno as A, x86_64::Sysno as X};
        let cases = [
            (
                Arch::X86_64,
                X::clock_gettime as u32,
                TimeFunction::ClockGettime,
            ),
            (
                Arch::X86_64,
                X::gettimeofday as u32,
                TimeFunction::Gettimeofday,
            ),
            (Arch::X86_64, X::time as u32, TimeFunction::Time),
            (Arch::X86_64, X::getcpu as u32, TimeFunction::Getcpu),
            (
                Arch::Aarch64,
                A::clock_gettime as u32,
                TimeFunction::ClockGettime,
            ),
            (
                Arch::Aarch64,
                A::gettimeofday as u32,
                TimeFunction::Gettimeofday,
            ),
            (Arch::Aarch64, A::getcpu as u32, TimeFunction::Getcpu),
        ];
        for (arch, nr, f) in cases {
            assert_eq!(time_function(arch, nr), Some(f), "{arch:?} {nr}");
        }
        assert_eq!(time_function(Arch::X86_64, X::getppid as u32), None);
        assert_eq!(time_function(Arch::Aarch64, X::time as u32), None);
    }

    #[test]
    fn categories() {
        assert_eq!(category(Arch::X86_64, x86_64::WRITE), Category::Fs);
        assert_eq!(category(Arch::X86_64, 41), Category::Net); // socket
        assert_eq!(
            category(Arch::X86_64, x86_64::CLOCK_GETTIME),
            Category::Time
        );
        assert_eq!(category(Arch::X86_64, x86_64::FUTEX), Category::Sync);
        assert_eq!(category(Arch::X86_64, x86_64::MMAP), Category::Memory);
        assert_eq!(
            category(Arch::X86_64, x86_64::RT_SIGACTION),
            Category::Signal
        );
        assert_eq!(category(Arch::X86_64, x86_64::CLONE), Category::Process);
        assert_eq!(category(Arch::Aarch64, aarch64::CLONE), Category::Process);
        assert_eq!(category(Arch::Aarch64, 63), Category::Fs); // read
    }
}
