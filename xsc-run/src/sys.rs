//! The runner's own system calls. The runner is an ordinary Linux program
//! (glibc): these are thin wrappers returning Linux's raw `-errno` form,
//! which is also what a completion entry carries.

use std::sync::atomic::AtomicU32;

/// Makes system call `nr` and returns its raw result (`>= 0` or `-errno`),
/// with the system-call instruction itself (no errno, no variadic call:
/// this is the path of every ring entry). The instruction is the kernel
/// side's own, in the Syscall User Dispatch allowed region
/// (arch::xsc_kernel_syscall6: hand-written rather than the `syscalls`
/// crate's, because it must live at that address); `-ENOSYS` for a number
/// the `syscalls` crate does not know.
#[inline]
pub fn raw_syscall(nr: u32, a: [u64; 6]) -> i64 {
    if syscalls::Sysno::new(nr as usize).is_none() {
        return -(libc::ENOSYS as i64);
    }
    raw_known_syscall(nr, a)
}

/// [`raw_syscall`] for a number already known to be a system call (the
/// consume fast path admits only listed ones, ops::fast_path_allows).
#[inline]
pub fn raw_known_syscall(nr: u32, a: [u64; 6]) -> i64 {
    // SAFETY: the arguments come from the program's submission entry; the
    // system call validates them as it would for the program itself (bad
    // pointers give -EFAULT). The few calls that could break the runner are
    // intercepted before they get here (crate::ops).
    unsafe { crate::arch::xsc_kernel_syscall6(nr as u64, a[0], a[1], a[2], a[3], a[4], a[5]) }
}

/// `Ok(value)` or `Err(errno)` from a raw result.
pub fn check(r: i64) -> Result<i64, i32> {
    if (-4095..0).contains(&r) {
        Err(-r as i32)
    } else {
        Ok(r)
    }
}

pub fn gettid() -> i32 {
    // SAFETY: no arguments.
    unsafe { libc::gettid() }
}

pub fn getpid() -> i32 {
    // SAFETY: no arguments.
    unsafe { libc::getpid() }
}

/// Anonymous, private, read-write memory.
pub fn mmap_anon(len: usize) -> std::io::Result<*mut u8> {
    // SAFETY: a fresh anonymous mapping at an address the kernel picks.
    let p = unsafe {
        libc::mmap(
            std::ptr::null_mut(),
            len,
            libc::PROT_READ | libc::PROT_WRITE,
            libc::MAP_PRIVATE | libc::MAP_ANONYMOUS,
            -1,
            0,
        )
    };
    if p == libc::MAP_FAILED {
        Err(std::io::Error::last_os_error())
    } else {
        Ok(p as *mut u8)
    }
}

/// Sleeps while `*word == expected`; returns the raw result.
pub fn futex_wait(word: *const AtomicU32, expected: u32) -> i64 {
    raw_syscall(
        libc::SYS_futex as u32,
        [
            word as u64,
            (libc::FUTEX_WAIT | libc::FUTEX_PRIVATE_FLAG) as u64,
            expected as u64,
            0,
            0,
            0,
        ],
    )
}

/// Wakes up to `n` waiters on `word`.
pub fn futex_wake(word: *const AtomicU32, n: u32) -> i64 {
    raw_syscall(
        libc::SYS_futex as u32,
        [
            word as u64,
            (libc::FUTEX_WAKE | libc::FUTEX_PRIVATE_FLAG) as u64,
            n as u64,
            0,
            0,
            0,
        ],
    )
}

/// Wakes up to `n` waiters on a futex shared with other processes (used
/// for `clear_child_tid`, which Linux wakes with a shared futex).
pub fn futex_wake_shared(word: *const AtomicU32, n: u32) -> i64 {
    raw_syscall(
        libc::SYS_futex as u32,
        [word as u64, libc::FUTEX_WAKE as u64, n as u64, 0, 0, 0],
    )
}

pub fn tgkill(tid: i32, sig: i32) -> i64 {
    raw_syscall(
        libc::SYS_tgkill as u32,
        [getpid() as u64, tid as u64, sig as u64, 0, 0, 0],
    )
}

/// `rt_sigprocmask(how, set, &old)` with the raw system call (no set:
/// `set` None): the old mask (bit n-1 = signal n).
fn raw_sigprocmask(how: i32, set: Option<u64>) -> u64 {
    let mut old: u64 = 0;
    raw_syscall(
        libc::SYS_rt_sigprocmask as u32,
        [
            how as u64,
            set.as_ref().map_or(0, |m| m as *const u64 as u64),
            &mut old as *mut u64 as u64,
            8,
            0,
            0,
        ],
    );
    old
}

/// Sets the calling thread's signal mask to `mask` (bit n-1 = signal n)
/// with the raw system call: glibc's `pthread_sigmask` quietly leaves its
/// own signals 32 and 33 unblocked, which must not reach kernel threads.
pub fn set_raw_signal_mask(mask: u64) -> u64 {
    raw_sigprocmask(libc::SIG_SETMASK, Some(mask))
}

/// Unblocks the signals of `bits` in the calling thread; the old mask.
pub fn unblock_raw_signals(bits: u64) -> u64 {
    raw_sigprocmask(libc::SIG_UNBLOCK, Some(bits))
}

/// The calling thread's signal mask (bit n-1 = signal n).
pub fn current_signal_mask() -> u64 {
    raw_sigprocmask(libc::SIG_BLOCK, None)
}

/// Blocks every signal in the calling thread and returns the old mask.
pub fn block_all_signals() -> libc::sigset_t {
    let old = set_raw_signal_mask(!0);
    // SAFETY: sigset_t is plain data at least 8 bytes long, whose first 64
    // bits are the kernel's mask on Linux/x86_64.
    unsafe {
        let mut set: libc::sigset_t = std::mem::zeroed();
        std::ptr::write(&mut set as *mut libc::sigset_t as *mut u64, old);
        set
    }
}

pub fn set_signal_mask(mask: &libc::sigset_t) {
    // SAFETY: sigset_t is at least 8 bytes; its first 64 bits are the mask.
    let bits = unsafe { std::ptr::read(mask as *const libc::sigset_t as *const u64) };
    set_raw_signal_mask(bits);
}
