//! Consuming a thread's submission ring inline, in the thread itself (ABI
//! §5.1, execution modes).
//!
//! The reference kernel runs no poller: every ring entry is consumed by the
//! thread that submitted it, in its own context, when it enters the kernel
//! through the entry table's `wait` (like `io_uring_enter` without SQPOLL).
//! No other task is involved, so an entry costs no cross-core round trip and
//! no wake-up, a thread that does not call costs nothing, and every call acts
//! as the calling thread: its credentials, seccomp filters, signal state,
//! CPU clock and PI-futex ownership, with signals interrupting (and, under
//! `SA_RESTART`, restarting) blocking calls exactly as the host kernel does.
//!
//! Only the owning thread consumes, so no lock is needed. The consumer
//! indices are kept in [`KernelThread`] (the program could scribble on the
//! shared copies) and advanced before an entry executes: a signal handler
//! that re-enters `wait` (against ABI §4.7) or leaves by `longjmp` cannot make
//! an entry run twice.

use crate::ops::{self, Context};
use crate::thread::KernelThread;
use std::sync::atomic::Ordering;
use xsc_abi::region::SQ_CQ_FULL;
use xsc_abi::ring_entry::*;
use xsc_abi::{CompletionEntry, SubmissionEntry};

/// How much of the kernel side may run.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Mode {
    /// Everything: the runner's TLS is loaded.
    Full,
    /// Only what needs no TLS (the program's FS base is still loaded): plain
    /// calls the host executes as they are ([`ops::fast_path_allows`]), no
    /// tracing, no diagnostics. Stops at the first entry that needs more and
    /// leaves it, and those after it, for a `Full` pass.
    Fast,
}

/// Executes the thread's pending submission entries, in order, posting a
/// completion for each. Stops early, with `SQ_CQ_FULL` set, when the
/// completion ring has no room for another completion. Returns false if a
/// `Fast` pass stopped at an entry it may not execute.
pub fn consume(kt: &KernelThread, mode: Mode) -> bool {
    let r = kt.region();
    let entries = kt.layout.sq_entries;
    loop {
        let tail = r.sq_tail.0.load(Ordering::Acquire);
        let head = kt.sq_head.load(Ordering::Relaxed);
        if head == tail {
            clear_cq_full(kt);
            return true;
        }
        if !cq_has_room(kt) {
            r.sq_status.0.flags.fetch_or(SQ_CQ_FULL, Ordering::SeqCst);
            return true;
        }
        clear_cq_full(kt);
        let pending = tail.wrapping_sub(head);
        if pending > entries {
            if mode == Mode::Fast {
                return false;
            }
            // The producer index ran past what the ring can hold: the
            // entries between head and tail are not trustworthy. Drop them,
            // report once.
            r.sq_status.0.dropped.fetch_add(pending, Ordering::Relaxed);
            advance_head(kt, tail);
            crate::trace::ring_error(kt, head, tail, entries);
            post(kt, ring_error_completion());
            continue;
        }
        let slot = head & (entries - 1);
        // SAFETY: slot < sq_entries, inside the region (kernel's own copy of
        // the layout); the acquire load of the tail made the producer's
        // writes to this slot visible. Read as a copy: the program may
        // scribble on the slot, but never on the copy we trust.
        let sqe: SubmissionEntry = unsafe {
            let base = (kt.region as *const u8).add(kt.layout.sqes_offset as usize);
            std::ptr::read_volatile((base as *const SubmissionEntry).add(slot as usize))
        };
        if mode == Mode::Fast && !ops::fast_path_allows(kt, &sqe) {
            return false;
        }
        // Consumed from here on: the slot is the producer's again.
        advance_head(kt, head.wrapping_add(1));
        let (result, flags) = match mode {
            Mode::Full => execute(kt, &sqe),
            // fast_path_allows admitted only listed system calls.
            Mode::Fast => (crate::sys::raw_known_syscall(sqe.opcode, sqe.args), 0),
        };
        post(
            kt,
            CompletionEntry {
                user_data: sqe.user_data,
                result,
                flags,
                opcode: sqe.opcode,
                reserved: 0,
            },
        );
    }
}

fn ring_error_completion() -> CompletionEntry {
    CompletionEntry {
        user_data: 0,
        result: -(libc::EINVAL as i64),
        flags: CQE_F_RING_ERROR,
        opcode: 0,
        reserved: 0,
    }
}

fn advance_head(kt: &KernelThread, head: u32) {
    kt.sq_head.store(head, Ordering::Relaxed);
    // Release: the slots before `head` may be reused by the producer.
    kt.region().sq_head.0.store(head, Ordering::Release);
}

fn clear_cq_full(kt: &KernelThread) {
    let flags = &kt.region().sq_status.0.flags;
    if flags.load(Ordering::Relaxed) & SQ_CQ_FULL != 0 {
        flags.fetch_and(!SQ_CQ_FULL, Ordering::SeqCst);
    }
}

/// Is there a free completion slot? Reads the user's `cq_head` only when
/// the last value seen does not already prove there is room.
fn cq_has_room(kt: &KernelThread) -> bool {
    let entries = kt.layout.cq_entries;
    let tail = kt.cq_tail.load(Ordering::Relaxed);
    if tail.wrapping_sub(kt.cq_head_seen.load(Ordering::Relaxed)) < entries {
        return true;
    }
    let head = kt.region().cq_head.0.load(Ordering::Acquire);
    kt.cq_head_seen.store(head, Ordering::Relaxed);
    tail.wrapping_sub(head) < entries
}

/// Validates and executes one ring entry: `(result, completion flags)`.
fn execute(kt: &KernelThread, sqe: &SubmissionEntry) -> (i64, u32) {
    let audited = crate::audit::submit(kt, sqe, Context::Ring);
    let done = if let Some(rejected) = ops::reject(sqe, Context::Ring) {
        crate::trace::rejected(kt, sqe, rejected.result, rejected.cqe_flags);
        (rejected.result, rejected.cqe_flags)
    } else {
        let result = ops::execute(kt, sqe);
        crate::trace::after(kt, sqe, result);
        (result, 0)
    };
    crate::audit::restore(kt, audited);
    done
}

/// Writes a completion into the next slot and publishes it. Room was
/// checked before the entry was taken; only a handler that consumed entries
/// of this ring while this one executed (against ABI §4.7) can have filled
/// the ring since: then the completion is dropped and counted.
fn post(kt: &KernelThread, cqe: CompletionEntry) {
    if !cq_has_room(kt) {
        kt.region()
            .sq_status
            .0
            .dropped
            .fetch_add(1, Ordering::Relaxed);
        return;
    }
    let entries = kt.layout.cq_entries;
    let tail = kt.cq_tail.load(Ordering::Relaxed);
    // SAFETY: the slot is inside the region and free (tail - head < entries).
    unsafe {
        let base = (kt.region as *mut u8).add(kt.layout.cqes_offset as usize);
        std::ptr::write_volatile(
            (base as *mut CompletionEntry).add((tail & (entries - 1)) as usize),
            cqe,
        );
    }
    kt.cq_tail.store(tail.wrapping_add(1), Ordering::Relaxed);
    kt.region()
        .cq_tail
        .0
        .store(tail.wrapping_add(1), Ordering::Release);
}
