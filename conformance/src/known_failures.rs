//! Cases that are known to differ from Linux under the installed
//! `xsc-run`, each with the defect it tracks.
//!
//! The suite fails on any difference that is not listed here, and also on
//! a listed case that now behaves as natively: remove its line then, so
//! that the list stays honest.

/// A case that fails today, and why.
#[derive(Clone, Copy, Debug)]
pub struct KnownFailure {
    /// The case's id, `area/name`.
    pub case: &'static str,
    /// What it tracks: the issue and defect, and what goes wrong.
    pub tracks: &'static str,
}

/// The list. Keep it sorted by case id.
pub const KNOWN_FAILURES: &[KnownFailure] = &[];

/// A case whose native run under qemu's user mode is not Linux's
/// behaviour, so that it cannot be the oracle for aarch64 on this host:
/// not run for aarch64, reported as skipped with the reason.
#[derive(Clone, Copy, Debug)]
pub struct NotUnderQemu {
    pub case: &'static str,
    pub why: &'static str,
}

/// The list. Keep it sorted by case id.
pub const NOT_UNDER_QEMU: &[NotUnderQemu] = &[
    NotUnderQemu {
        case: "exec/fexecve_cloexec_fd",
        why: "natively qemu opens the binary by its /proc/self/fd name after the close-on-exec descriptor is gone: fexecve fails where Linux runs it (the x86_64 run checks it)",
    },
    NotUnderQemu {
        case: "exec/fexecve_memfd",
        why: "natively qemu's /proc/self/exe of a program run from a memfd cannot be read (ENOENT) where Linux names the memfd (the x86_64 run checks it)",
    },
    NotUnderQemu {
        case: "exec/xsc_binary_with_fd_table_full",
        why: "natively the exec fails: qemu's binfmt_misc handler needs a descriptor to open the binary, where Linux's exec needs none (the x86_64 run checks it)",
    },
    NotUnderQemu {
        case: "memory/beyond_the_break_is_unmapped",
        why: "qemu emulates brk itself: natively it keeps the pages a shrinking break gives back mapped, and madvise past the break succeeds (the x86_64 run checks it)",
    },
    NotUnderQemu {
        case: "proc/exe_link_aliases",
        why: "qemu emulates only /proc/self/exe and /proc/PID/exe: natively /proc/thread-self/exe and the other spellings name qemu",
    },
    NotUnderQemu {
        case: "proc/readlink_bad_size",
        why: "qemu checks the buffer before the size: natively a size of -1 gives EFAULT where Linux gives EINVAL (the x86_64 run checks it)",
    },
    NotUnderQemu {
        case: "proc/seccomp_strict_kills",
        why: "qemu has no seccomp (the native run is not killed)",
    },
    NotUnderQemu {
        case: "proc/seccomp_strict_write_then_exit",
        why: "qemu does not emulate seccomp strict mode: natively the case ends with exit 0, not 7 (the x86_64 run checks it)",
    },
    NotUnderQemu {
        case: "seccomp/libc_open_and_stat_calls",
        why: "qemu has no seccomp (ENOSYS): the case cannot set up natively",
    },
    NotUnderQemu {
        case: "seccomp/user_notif_supervisor",
        why: "qemu has no seccomp (ENOSYS): the case cannot set up natively",
    },
    NotUnderQemu {
        case: "signals/sigaction_ignored_signal_race",
        why: "the native run crashes inside qemu 7.2 (SIGSEGV) when sigaction races a signal being delivered",
    },
    NotUnderQemu {
        case: "threads/joined_thread_has_ended",
        why: "natively qemu clears a thread's clear-child-tid word and wakes the joiner itself, then ends the host thread: the joiner finds the task still running, where Linux wakes it from the task's exit (the x86_64 run checks it)",
    },
    NotUnderQemu {
        case: "threads/rusage_thread",
        why: "qemu charges its translation of the code to the thread that runs it first: the idle main thread's CPU time is qemu's, larger for the larger runner",
    },
];
