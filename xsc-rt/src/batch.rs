//! Submit many entries, reap many completions (ABI §4.4).

use crate::ring::Ring;
use xsc_abi::ops::is_thread_context;
use xsc_abi::{CompletionEntry, SubmissionEntry};

/// Why a batch was refused before anything was submitted.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum BatchError {
    /// `completions` is shorter than `entries`.
    ShortCompletionBuffer,
    /// Entry `index` is a thread-context operation, which cannot go on the
    /// ring.
    ThreadContextOp { index: usize },
    /// The rings are claimed by a caller this code interrupted (a batch from
    /// a signal handler); nothing was submitted.
    RingBusy,
}

/// Submits `entries` (in chunks of at most the ring's free space) and reaps
/// exactly as many completions into `completions`, in the order the kernel
/// posted them (match them by `user_data`). Returns when all are reaped, so
/// the ring is idle again.
///
/// # Safety
/// Each entry is executed as the system call it describes: every pointer in
/// the entries' arguments must be valid for what its call does with it.
pub unsafe fn submit_and_reap(
    entries: &[SubmissionEntry],
    completions: &mut [CompletionEntry],
) -> Result<(), BatchError> {
    if completions.len() < entries.len() {
        return Err(BatchError::ShortCompletionBuffer);
    }
    if let Some(index) = entries
        .iter()
        .position(|e| is_thread_context(crate::arch::ARCH, e.opcode))
    {
        return Err(BatchError::ThreadContextOp { index });
    }
    let ring = Ring::current();
    if !ring.claim() {
        return Err(BatchError::RingBusy);
    }
    let mut next = 0;
    let mut reaped = 0;
    while reaped < entries.len() {
        let mut pushed = 0;
        // SAFETY: we hold the claim; the entries' pointers are the caller's
        // responsibility (above).
        while next < entries.len() && unsafe { ring.push(&entries[next], pushed) } {
            pushed += 1;
            next += 1;
        }
        // SAFETY: as above; `pushed` entries were pushed.
        unsafe { ring.submit_and_wait(pushed, 1) };
        while let Some(cqe) = ring.pop() {
            completions[reaped] = cqe;
            reaped += 1;
        }
    }
    ring.release();
    Ok(())
}
