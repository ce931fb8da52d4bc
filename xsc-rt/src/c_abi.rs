//! The C ABI of the runtime (feature `c-abi`): what the libc fork's
//! system-call layer calls for every system call.

use crate::batch::{submit_and_reap, BatchError};
use xsc_abi::{CompletionEntry, SubmissionEntry};

/// `long xsc_syscall6(long nr, long a1, ..., long a6)`: returns the raw
/// result (`>= 0` or `-errno`), exactly as the `syscall` instruction would.
///
/// # Safety
/// As for the raw system call.
#[no_mangle]
pub unsafe extern "C" fn xsc_syscall6(
    nr: isize,
    a1: isize,
    a2: isize,
    a3: isize,
    a4: isize,
    a5: isize,
    a6: isize,
) -> isize {
    crate::syscall::syscall6(
        nr as u32,
        a1 as usize,
        a2 as usize,
        a3 as usize,
        a4 as usize,
        a5 as usize,
        a6 as usize,
    )
}

/// `int xsc_submit_and_reap(const xsc_sqe *sqes, xsc_cqe *cqes, size_t n)`:
/// the batch API. Returns 0; `-EINVAL` when an entry is a thread-context
/// operation; `-EBUSY` when called from a signal handler that interrupted a
/// ring call on this thread (nothing is submitted in either case).
///
/// # Safety
/// `sqes` and `cqes` must point to `n` entries each.
#[no_mangle]
pub unsafe extern "C" fn xsc_submit_and_reap(
    sqes: *const SubmissionEntry,
    cqes: *mut CompletionEntry,
    n: usize,
) -> i32 {
    let entries = core::slice::from_raw_parts(sqes, n);
    let completions = core::slice::from_raw_parts_mut(cqes, n);
    match submit_and_reap(entries, completions) {
        Ok(()) => 0,
        Err(BatchError::ShortCompletionBuffer | BatchError::ThreadContextOp { .. }) => -22,
        Err(BatchError::RingBusy) => -16,
    }
}
