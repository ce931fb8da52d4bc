//! One OS call, made the XSC way: a submission entry on the thread's ring
//! and a wait for its completion (which the kernel consumes inline, in this
//! thread, unless a poller serves the ring), or, for the thread-context
//! operations, a call through the entry table (ABI §6); the time functions
//! are served by the entry table without a round trip (ABI §5.8), except
//! on `syscall(2)`'s path ([`ring_syscall6`]), where the kernel makes them.

use crate::arch::ARCH;
use crate::ring::Ring;
use xsc_abi::ops::{is_thread_context, time_function};
use xsc_abi::ring_entry::CQE_F_RING_ERROR;
use xsc_abi::SubmissionEntry;

/// Makes system call `nr` with six arguments and returns what the raw Linux
/// system call would: a value >= 0 or `-errno`.
///
/// Safe to call from a signal handler: if the handler interrupted a ring
/// call on this thread, the call goes through the kernel's `thread_call`
/// entry instead of the rings (see [`Ring::claim`]).
///
/// # Safety
/// As for the raw system call: pointer arguments must be valid for what the
/// call does with them.
#[inline]
pub unsafe fn syscall6(
    nr: u32,
    a1: usize,
    a2: usize,
    a3: usize,
    a4: usize,
    a5: usize,
    a6: usize,
) -> isize {
    let ring = Ring::current();
    if let Some(f) = time_function(ARCH, nr) {
        if let Some(r) = crate::time::call(&ring, f, [a1, a2, a3]) {
            return r;
        }
    }
    // SAFETY: the caller's contract, passed on.
    unsafe { ring_syscall6_on(&ring, nr, [a1, a2, a3, a4, a5, a6]) }
}

/// [`syscall6`] without the time functions: the call is always made by
/// the kernel, through the ring (or `thread_call`), even for the four
/// time operations. This is `syscall(2)`'s path in the libc: the raw
/// system call then behaves as Linux's does for every argument (a pointer
/// the process cannot write gives `-EFAULT`), where a time function, like
/// Linux's vDSO, writes the result itself and faults (ABI §5.8).
///
/// # Safety
/// As for [`syscall6`].
#[inline]
pub unsafe fn ring_syscall6(
    nr: u32,
    a1: usize,
    a2: usize,
    a3: usize,
    a4: usize,
    a5: usize,
    a6: usize,
) -> isize {
    // SAFETY: the caller's contract, passed on.
    unsafe { ring_syscall6_on(&Ring::current(), nr, [a1, a2, a3, a4, a5, a6]) }
}

/// The ring path of [`syscall6`] and [`ring_syscall6`].
///
/// # Safety
/// As for [`syscall6`].
#[inline]
unsafe fn ring_syscall6_on(ring: &Ring, nr: u32, a: [usize; 6]) -> isize {
    let [a1, a2, a3, a4, a5, a6] = a;
    let args = [
        a1 as u64, a2 as u64, a3 as u64, a4 as u64, a5 as u64, a6 as u64,
    ];
    let seq = ring.next_sequence();
    let entry = SubmissionEntry::new(nr, args, seq as u64);
    if is_thread_context(ARCH, nr) || !ring.claim() {
        // SAFETY: the caller vouches for the arguments (syscall6's contract).
        return unsafe { ring.thread_call(&entry) } as isize;
    }
    // SAFETY: we hold the claim; the arguments are the caller's (above), and
    // the entry is reaped before we return.
    let result = if unsafe { ring.push(&entry, 0) } {
        // SAFETY: one entry pushed, as above.
        unsafe { ring.submit_and_wait(1, 1) };
        reap(ring, seq as u64)
    } else {
        // A claimed ring is idle; a full one means someone left entries in
        // flight by driving the ring by hand. Do not overwrite them.
        -(EBUSY as isize)
    };
    ring.release();
    result
}

const EBUSY: i32 = 16;

/// Reaps the completion of our entry (`user_data == seq`). The claimed ring
/// holds nothing else in flight, but a completion left by code that drove
/// the ring by hand must not be taken for ours: skip it. A ring error means
/// our entry was dropped (ABI §4.6): its result is the error's.
fn reap(ring: &Ring, seq: u64) -> isize {
    loop {
        match ring.pop() {
            Some(cqe) if cqe.flags & CQE_F_RING_ERROR != 0 => return cqe.result as isize,
            Some(cqe) if cqe.user_data == seq => return cqe.result as isize,
            Some(_) => continue,
            None => ring.wait(1),
        }
    }
}

macro_rules! short_forms {
    ($($name:ident($($a:ident),*);)*) => {$(
        /// [`syscall6`] with fewer arguments (the rest are zero).
        ///
        /// # Safety
        /// As for [`syscall6`].
        #[inline]
        pub unsafe fn $name(nr: u32, $($a: usize),*) -> isize {
            let mut args = [0usize; 6];
            let given = [$($a),*];
            args[..given.len()].copy_from_slice(&given);
            syscall6(nr, args[0], args[1], args[2], args[3], args[4], args[5])
        }
    )*};
}

short_forms! {
    syscall0();
    syscall1(a1);
    syscall2(a1, a2);
    syscall3(a1, a2, a3);
    syscall4(a1, a2, a3, a4);
    syscall5(a1, a2, a3, a4, a5);
}
