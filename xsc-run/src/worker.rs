//! Kernel worker threads: one per program thread, consuming that thread's
//! submission ring, executing each entry and posting its completion.
//!
//! One worker per ring means a call blocking in one thread's worker never
//! stalls another thread's calls. Notification is adaptive polling (ABI §5):
//! a worker with nothing to do polls for [`SPIN_TIME`], then sets
//! `SQ_NEED_WAKEUP` and sleeps on the submission tail until the doorbell
//! rings, so an idle thread costs no CPU.

use crate::ops;
use crate::sys;
use crate::thread::KernelThread;
use std::sync::atomic::{fence, Ordering};
use std::time::{Duration, Instant};
use xsc_abi::region::{SQ_CQ_FULL, SQ_NEED_WAKEUP};
use xsc_abi::ring_entry::*;
use xsc_abi::{CompletionEntry, SubmissionEntry};

/// How long an idle worker polls before it sleeps.
pub const SPIN_TIME: Duration = Duration::from_micros(50);

/// The signal that interrupts a worker's blocking call when a signal handler
/// runs in the program thread it serves (reserved: the program cannot catch
/// it).
pub const SIG_INTERRUPT: i32 = 64;

/// Starts the worker for `kt`. The worker starts with every signal but
/// [`SIG_INTERRUPT`] blocked, so process signals go to program threads.
pub fn spawn(kt: *mut KernelThread) -> std::io::Result<()> {
    struct Ptr(*mut KernelThread);
    // SAFETY: the KernelThread is shared on purpose; its fields the worker
    // and the program thread both touch are atomics.
    unsafe impl Send for Ptr {}
    let ptr = Ptr(kt);
    let old = sys::block_all_signals();
    let r = std::thread::Builder::new()
        .name("xsc-worker".into())
        .stack_size(256 * 1024)
        .spawn(move || {
            let ptr = ptr;
            // Linux copies the GS base into a new thread: a worker made on a
            // program thread would look like that program thread to the
            // signal entry. Not a program thread: GS 0.
            // SAFETY: nothing in the runner uses GS.
            unsafe { crate::arch::write_gs_base(0) };
            sys::set_raw_signal_mask(!(1u64 << (SIG_INTERRUPT - 1)));
            // SAFETY: kt stays valid until this worker frees it.
            let kt = unsafe { &*ptr.0 };
            kt.worker_tid.store(sys::gettid(), Ordering::Release);
            serve(kt);
            // SAFETY: shutdown was requested: the program thread is gone and
            // nothing else refers to its state.
            unsafe { KernelThread::free(ptr.0) };
        });
    sys::set_signal_mask(&old);
    r.map(|_| ())
}

/// Asks the worker of `kt` to finish and free the thread's state.
pub fn shutdown(kt: &KernelThread) {
    // The worker may free kt and unmap the region as soon as it sees the
    // flag: take the address to wake first, and touch nothing after. (A
    // wake on an address that is gone is a harmless EFAULT or a spurious
    // wakeup.)
    let tail: *const std::sync::atomic::AtomicU32 = &kt.region().sq_tail.0;
    kt.shutdown.store(1, Ordering::SeqCst);
    sys::futex_wake(tail, 1);
}

fn serve(kt: &KernelThread) {
    let r = kt.region();
    let mut idle_since: Option<Instant> = None;
    let mut polls: u32 = 0;
    let mut creds_seen = 0;
    loop {
        let tail = r.sq_tail.0.load(Ordering::Acquire);
        let head = r.sq_head.0.load(Ordering::Relaxed);
        if tail != head {
            idle_since = None;
            crate::creds::catch_up(&mut creds_seen);
            consume(kt, head, tail);
            continue;
        }
        if kt.shutdown.load(Ordering::Acquire) != 0 {
            return;
        }
        // Poll: look at the tail on every round, at the clock every 64.
        polls = polls.wrapping_add(1);
        let since = *idle_since.get_or_insert_with(Instant::now);
        if !polls.is_multiple_of(64) || since.elapsed() < SPIN_TIME {
            std::hint::spin_loop();
            continue;
        }
        // Sleep: announce it, then look once more (pairs with the fence in
        // the submitter between its tail store and its flag load).
        r.sq_status
            .0
            .flags
            .fetch_or(SQ_NEED_WAKEUP, Ordering::SeqCst);
        fence(Ordering::SeqCst);
        if r.sq_tail.0.load(Ordering::SeqCst) == tail && kt.shutdown.load(Ordering::SeqCst) == 0 {
            sys::futex_wait(&r.sq_tail.0, tail);
        }
        r.sq_status
            .0
            .flags
            .fetch_and(!SQ_NEED_WAKEUP, Ordering::SeqCst);
        idle_since = None;
    }
}

/// Consumes the entries in `head..tail`.
fn consume(kt: &KernelThread, mut head: u32, tail: u32) {
    let r = kt.region();
    let entries = kt.layout.sq_entries;
    let pending = tail.wrapping_sub(head);
    if pending > entries {
        // The producer index ran past what the ring can hold: the entries
        // between head and tail are not trustworthy. Drop them, report once.
        r.sq_status.0.dropped.fetch_add(pending, Ordering::Relaxed);
        r.sq_head.0.store(tail, Ordering::Release);
        crate::trace::ring_error(kt, head, tail, entries);
        post(
            kt,
            CompletionEntry {
                user_data: 0,
                result: -(libc::EINVAL as i64),
                flags: CQE_F_RING_ERROR,
                opcode: 0,
                reserved: 0,
            },
        );
        return;
    }
    while head != tail {
        let slot = head & (entries - 1);
        // SAFETY: slot < sq_entries, inside the region; the acquire load of
        // the tail made the producer's writes to this slot visible. Read as a
        // copy: the program may scribble on the slot, but never while we
        // read a value we then trust beyond this copy.
        let sqe: SubmissionEntry = unsafe {
            let base = (kt.region as *const u8).add(kt.layout.sqes_offset as usize);
            std::ptr::read_volatile((base as *const SubmissionEntry).add(slot as usize))
        };
        let (result, flags) = execute(kt, &sqe);
        head = head.wrapping_add(1);
        // Release: the slot may be reused by the producer from now on.
        r.sq_head.0.store(head, Ordering::Release);
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

/// Validates and executes one entry: `(result, completion flags)`.
fn execute(kt: &KernelThread, sqe: &SubmissionEntry) -> (i64, u32) {
    let (result, flags) = if sqe.flags & !SQE_FLAGS_KNOWN != 0 {
        (-(libc::EINVAL as i64), CQE_F_MALFORMED)
    } else if !ops::is_known(sqe.opcode) {
        (-(libc::ENOSYS as i64), CQE_F_UNKNOWN_OP)
    } else if ops::is_thread_context(sqe.opcode) {
        (-(libc::EINVAL as i64), CQE_F_WRONG_CONTEXT)
    } else {
        let result = ops::execute(kt, sqe, ops::Executor::Worker);
        crate::trace::after(kt, sqe, result);
        return (result, 0);
    };
    crate::trace::rejected(kt, sqe, result, flags);
    (result, flags)
}

/// Posts a completion, waiting for room if the completion ring is full.
fn post(kt: &KernelThread, cqe: CompletionEntry) {
    let r = kt.region();
    let entries = kt.layout.cq_entries;
    let tail = r.cq_tail.0.load(Ordering::Relaxed);
    // Reading cq_head pulls the consumer's cache line over; skip it while
    // the last value we saw proves there is room.
    let known_head = kt.cq_head_seen.load(Ordering::Relaxed);
    if tail.wrapping_sub(known_head) < entries {
        return publish(kt, cqe, tail);
    }
    let mut full = false;
    loop {
        let head = r.cq_head.0.load(Ordering::Acquire);
        kt.cq_head_seen.store(head, Ordering::Relaxed);
        if tail.wrapping_sub(head) < entries {
            break;
        }
        if !full {
            r.sq_status.0.flags.fetch_or(SQ_CQ_FULL, Ordering::SeqCst);
            full = true;
        }
        if kt.shutdown.load(Ordering::Acquire) != 0 {
            return;
        }
        std::thread::sleep(Duration::from_micros(100));
    }
    if full {
        r.sq_status.0.flags.fetch_and(!SQ_CQ_FULL, Ordering::SeqCst);
    }
    publish(kt, cqe, tail)
}

/// Writes the completion into slot `tail` (known to be free) and publishes
/// it, waking a waiter if one sleeps.
fn publish(kt: &KernelThread, cqe: CompletionEntry, tail: u32) {
    let r = kt.region();
    let entries = kt.layout.cq_entries;
    // SAFETY: the slot is inside the region and free (tail - head < entries).
    unsafe {
        let base = (kt.region as *mut u8).add(kt.layout.cqes_offset as usize);
        std::ptr::write_volatile(
            (base as *mut CompletionEntry).add((tail & (entries - 1)) as usize),
            cqe,
        );
    }
    r.cq_tail.0.store(tail.wrapping_add(1), Ordering::Release);
    // Pairs with the waiter's store of cq_waiting before its futex wait.
    fence(Ordering::SeqCst);
    if kt.cq_waiting.load(Ordering::SeqCst) != 0 {
        sys::futex_wake(&r.cq_tail.0, 1);
    }
}
