//! The entry table (ABI §5): `wait`, `doorbell`, `thread_call` and the
//! signal-return trampoline. The assembly stubs in `arch` switch the thread
//! into kernel state and call the `*_impl` functions here.

use crate::arch;
use crate::ops;
use crate::sys;
use crate::thread::KernelThread;
use std::sync::atomic::Ordering;
use std::sync::OnceLock;
use xsc_abi::entry_table::ENTRY_TABLE_MAGIC;
use xsc_abi::ring_entry::{SQE_FLAGS_KNOWN_THREAD_CALL, SQE_F_THEN_EXIT};
use xsc_abi::{EntryTable, RingRegion, SubmissionEntry};

static ENTRY_TABLE: OnceLock<EntryTable> = OnceLock::new();

/// The process's entry table (built once; its address is what programs get).
pub fn entry_table() -> &'static EntryTable {
    ENTRY_TABLE.get_or_init(|| EntryTable {
        magic: ENTRY_TABLE_MAGIC,
        abi_version: xsc_abi::ABI_VERSION,
        size: std::mem::size_of::<EntryTable>() as u32,
        reserved: 0,
        wait: arch::xsc_entry_wait as *const () as u64,
        doorbell: arch::xsc_entry_doorbell as *const () as u64,
        thread_call: arch::xsc_entry_thread_call as *const () as u64,
        sigreturn: arch::xsc_sigreturn as *const () as u64,
    })
}

/// The calling program thread's kernel state, found as the stubs find it:
/// GS base → ring region → `kernel_private`.
fn current() -> (*mut RingRegion, *mut KernelThread) {
    let region: *mut RingRegion;
    // SAFETY: only called on program threads (from the entry stubs), whose
    // GS base the kernel set to their ring region.
    unsafe {
        core::arch::asm!("mov {}, gs:[0]", out(reg) region, options(nostack, readonly));
        (region, (*region).header.kernel_private as *mut KernelThread)
    }
}

/// `wait(region, min_complete)`: sleep until enough completions are ready.
pub extern "C" fn wait_impl(region: *mut RingRegion, min_complete: u32) -> i64 {
    let (own, kt) = current();
    if region != own {
        return -(libc::EINVAL as i64);
    }
    // SAFETY: kt belongs to this live thread.
    let kt = unsafe { &*kt };
    let r = kt.region();
    loop {
        let head = r.cq_head.0.load(Ordering::Acquire);
        let tail = r.cq_tail.0.load(Ordering::Acquire);
        if tail.wrapping_sub(head) >= min_complete.max(1) {
            return 0;
        }
        kt.cq_waiting.store(1, Ordering::SeqCst);
        let tail = r.cq_tail.0.load(Ordering::SeqCst);
        let res = if tail.wrapping_sub(head) >= min_complete.max(1) {
            0
        } else {
            sys::futex_wait(&r.cq_tail.0, tail)
        };
        kt.cq_waiting.store(0, Ordering::SeqCst);
        if res == -(libc::EINTR as i64) {
            return res;
        }
    }
}

/// `doorbell(region)`: wake the worker serving this ring.
pub extern "C" fn doorbell_impl(region: *mut RingRegion) -> i64 {
    let (own, _) = current();
    if region != own {
        return -(libc::EINVAL as i64);
    }
    // SAFETY: our own live region.
    sys::futex_wake(unsafe { &(*own).sq_tail.0 }, 1);
    0
}

/// `thread_call(region, entry)`: an operation performed here, in the calling
/// thread: thread-context operations always, others when the runtime could
/// not use its rings (a signal handler's call). `frame` points at the
/// caller's saved registers.
pub extern "C" fn thread_call_impl(
    region: *mut RingRegion,
    entry: *const SubmissionEntry,
    frame: *const arch::CallerFrame,
) -> i64 {
    let (own, kt) = current();
    if region != own {
        return -(libc::EINVAL as i64);
    }
    if entry.is_null() {
        return -(libc::EFAULT as i64);
    }
    // SAFETY: the entry is in the calling program's memory; like a vDSO
    // function, an entry that is not readable faults in the caller (ABI
    // §5). Read as a copy, unaligned-tolerant.
    let sqe = unsafe { std::ptr::read_unaligned(entry) };
    // SAFETY: kt belongs to this live thread.
    let kt_ref = unsafe { &*kt };
    let rejected = if sqe.flags & !SQE_FLAGS_KNOWN_THREAD_CALL != 0 {
        Some(xsc_abi::ring_entry::CQE_F_MALFORMED)
    } else if !ops::is_known(sqe.opcode) {
        Some(xsc_abi::ring_entry::CQE_F_UNKNOWN_OP)
    } else {
        None
    };
    if let Some(flags) = rejected {
        let result = if flags == xsc_abi::ring_entry::CQE_F_UNKNOWN_OP {
            -(libc::ENOSYS as i64)
        } else {
            -(libc::EINVAL as i64)
        };
        crate::trace::rejected(kt_ref, &sqe, result, flags);
        return result;
    }
    if sqe.flags & SQE_F_THEN_EXIT != 0 {
        return crate::thread_ops::then_exit(kt, &sqe);
    }
    let result = if ops::is_thread_context(sqe.opcode) {
        crate::thread_ops::execute(kt, &sqe, frame)
    } else {
        ops::execute(kt_ref, &sqe, ops::Executor::Inline)
    };
    crate::trace::after(kt_ref, &sqe, result);
    result
}
