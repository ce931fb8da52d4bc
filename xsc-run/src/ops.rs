//! Executing ring operations in a kernel worker.
//!
//! Almost every operation is the host's own system call with the entry's
//! arguments: the worker shares the program's address space, files and
//! credentials. A few are emulated because the runner shares the process
//! with the program: `brk` (the runner's allocator must never share the
//! program break), `rt_sigaction` (handlers run through the kernel's signal
//! entry), `exit_group` (flush the trace first) and the calling thread's CPU
//! clock.

use crate::signals;
use crate::sys::{self, raw_syscall};
use crate::thread::{KernelThread, INTERRUPT_PENDING, INTERRUPT_RESTART};
use std::sync::atomic::Ordering;
use std::sync::Mutex;
use xsc_abi::ops::{x86_64 as nr, Arch};
use xsc_abi::SubmissionEntry;

pub const ARCH: Arch = Arch::X86_64;

/// Is `opcode` a system call this kernel knows?
pub fn is_known(opcode: u32) -> bool {
    syscalls::x86_64::Sysno::new(opcode as usize).is_some()
}

pub fn is_thread_context(opcode: u32) -> bool {
    xsc_abi::ops::is_thread_context(ARCH, opcode)
}

/// Where an operation runs.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Executor {
    /// In the ring's kernel worker: a signal handler running in the program
    /// thread meanwhile interrupts the call through the worker kick.
    Worker,
    /// Inline, in the program thread itself (`thread_call`): signals
    /// interrupt the call directly.
    Inline,
}

/// Executes a process-wide operation for the thread `kt`.
pub fn execute(kt: &KernelThread, sqe: &SubmissionEntry, how: Executor) -> i64 {
    let a = sqe.args;
    let call = |a: [u64; 6]| match how {
        Executor::Worker => interruptible(kt, sqe.opcode, a),
        Executor::Inline => raw_syscall(sqe.opcode, a),
    };
    match sqe.opcode {
        nr::BRK => brk(a[0]),
        nr::RT_SIGACTION => signals::rt_sigaction(a[0] as i32, a[1], a[2], a[3]),
        nr::EXIT_GROUP => {
            crate::trace::noreturn(kt, sqe);
            crate::trace::flush();
            raw_syscall(nr::EXIT_GROUP, a)
        }
        nr::CLOCK_GETTIME | CLOCK_GETRES | CLOCK_NANOSLEEP => {
            let mut a = a;
            a[0] = thread_clock(kt, a[0] as i32) as u64;
            call(a)
        }
        op => match crate::procfs::rewrite(kt.tid.load(Ordering::Relaxed), op, a) {
            Some(crate::procfs::Rewrite::Path { index, path }) => {
                let mut b = a;
                b[index] = path.as_ptr() as u64;
                call(b)
            }
            Some(crate::procfs::Rewrite::Result(r)) => r,
            None => call(a),
        },
    }
}

const CLOCK_GETRES: u32 = 229;
const CLOCK_NANOSLEEP: u32 = 230;

/// `CLOCK_THREAD_CPUTIME_ID` means the *submitting* thread's CPU time, not
/// the worker's: use the clock id Linux defines for a given thread.
fn thread_clock(kt: &KernelThread, clock: i32) -> i32 {
    const CLOCK_THREAD_CPUTIME_ID: i32 = 3;
    if clock == CLOCK_THREAD_CPUTIME_ID {
        // MAKE_THREAD_CPUCLOCK(tid, CPUCLOCK_SCHED) from linux/posix-timers.h
        let tid = kt.tid.load(Ordering::Relaxed);
        ((!tid) << 3) | 4 | 2
    } else {
        clock
    }
}

/// Calls that Linux never restarts after a signal handler, SA_RESTART or
/// not (signal(7)): they fail with EINTR.
fn never_restarted(opcode: u32) -> bool {
    matches!(
        opcode,
        7 | 23 | 34 | 35 | 232 | 281 | 270 | 271 | 230 | 128 | 130 | 208 | 65 | 69 | 70 | 220 | 441
    )
}

/// Runs the call; if a signal handler ran in the program thread meanwhile
/// (the thread's signal entry sent [`crate::worker::SIG_INTERRUPT`] to this
/// worker), the call fails with EINTR or is restarted as Linux would.
fn interruptible(kt: &KernelThread, opcode: u32, a: [u64; 6]) -> i64 {
    kt.busy.store(1, Ordering::SeqCst);
    let mut r = raw_syscall(opcode, a);
    while r == -(libc::EINTR as i64) {
        let why = kt.interrupt.swap(0, Ordering::SeqCst);
        let stale_kick = why & INTERRUPT_PENDING == 0; // meant for an earlier call
        let restart = why & INTERRUPT_RESTART != 0 && !never_restarted(opcode);
        if stale_kick || restart {
            r = raw_syscall(opcode, a);
        } else {
            break;
        }
    }
    kt.busy.store(0, Ordering::SeqCst);
    kt.interrupt.store(0, Ordering::SeqCst);
    if r == -(libc::EPIPE as i64) {
        forward_sigpipe(kt);
    }
    r
}

/// A write to a broken pipe or socket raises SIGPIPE in the thread that
/// made it: here the worker, which blocks it. Linux would have sent it to
/// the program thread, so take it off the worker and send it there (where
/// the program's disposition applies: default kills the process, ignored
/// or handled as the program chose). MSG_NOSIGNAL sends raise none.
fn forward_sigpipe(kt: &KernelThread) {
    // SAFETY: plain signal-set manipulation; a zero timeout makes
    // sigtimedwait only collect a SIGPIPE already pending on this thread.
    let pending = unsafe {
        let mut set: libc::sigset_t = std::mem::zeroed();
        libc::sigemptyset(&mut set);
        libc::sigaddset(&mut set, libc::SIGPIPE);
        let zero = libc::timespec {
            tv_sec: 0,
            tv_nsec: 0,
        };
        libc::sigtimedwait(&set, std::ptr::null_mut(), &zero) == libc::SIGPIPE
    };
    if pending {
        sys::tgkill(kt.tid.load(Ordering::Relaxed), libc::SIGPIPE);
    }
}

/// The program break, emulated in a reserved range of address space right
/// after the program image (set up by the loader).
pub struct ProgramBreak {
    pub start: u64,
    pub current: u64,
    pub limit: u64,
}

pub static BREAK: Mutex<ProgramBreak> = Mutex::new(ProgramBreak {
    start: 0,
    current: 0,
    limit: 0,
});

/// `brk(addr)`: as Linux, returns the new break, or the unchanged one when
/// the request cannot be met.
fn brk(addr: u64) -> i64 {
    let mut b = BREAK.lock().unwrap_or_else(|e| e.into_inner());
    if addr < b.start || addr > b.limit {
        return b.current as i64;
    }
    let page = 4096u64;
    let old_end = b.current.next_multiple_of(page);
    let new_end = addr.next_multiple_of(page);
    let (lo, hi, prot) = if new_end > old_end {
        (old_end, new_end, libc::PROT_READ | libc::PROT_WRITE)
    } else {
        (new_end, old_end, libc::PROT_NONE)
    };
    if hi > lo {
        // Fresh zeroed pages when growing; discarded pages when shrinking.
        // SAFETY: [lo, hi) lies inside the range reserved for the break,
        // which nothing else uses.
        let p = unsafe {
            libc::mmap(
                lo as *mut libc::c_void,
                (hi - lo) as usize,
                prot,
                libc::MAP_PRIVATE | libc::MAP_ANONYMOUS | libc::MAP_FIXED | libc::MAP_NORESERVE,
                -1,
                0,
            )
        };
        if p == libc::MAP_FAILED {
            return b.current as i64;
        }
    }
    b.current = addr;
    addr as i64
}

/// Sets the thread-specific interrupt request (called from the signal
/// entry on the program thread) and kicks the worker if it is inside a call.
pub fn interrupt_worker(kt: &KernelThread, restart: bool) {
    let why = INTERRUPT_PENDING | if restart { INTERRUPT_RESTART } else { 0 };
    kt.interrupt.store(why, Ordering::SeqCst);
    if kt.busy.load(Ordering::SeqCst) != 0 {
        let worker = kt.worker_tid.load(Ordering::Acquire);
        if worker > 0 {
            sys::tgkill(worker, crate::worker::SIG_INTERRUPT);
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn known_opcodes() {
        assert!(is_known(nr::WRITE));
        assert!(is_known(nr::CLONE3));
        assert!(!is_known(999));
        assert!(!is_known(u32::MAX));
    }

    #[test]
    fn thread_cpu_clock_names_the_submitting_thread() {
        let kt = KernelThread::new(0).unwrap();
        // SAFETY: fresh state, freed below.
        let k = unsafe { &*kt };
        k.set_tid(1000);
        assert_eq!(thread_clock(k, 1), 1);
        let id = thread_clock(k, 3);
        assert_eq!(id & 7, 6);
        assert_eq!(!(id >> 3), 1000);
        // SAFETY: unused from here on.
        unsafe { KernelThread::free(kt) };
    }
}
