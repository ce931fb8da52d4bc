//! The entry table (ABI §5): `wait`, `doorbell`, `thread_call`, the
//! signal-return trampoline and the time functions. The assembly stubs in
//! `arch` switch the thread into kernel state and call the `*_impl`
//! functions here; the time functions are served by [`crate::time`].

use crate::arch;
use crate::consume::Mode;
use crate::ops::{self, Context};
use crate::sys;
use crate::thread::KernelThread;
use std::sync::atomic::Ordering;
use std::sync::OnceLock;
use xsc_abi::entry_table::ENTRY_TABLE_MAGIC;
use xsc_abi::ring_entry::SQE_F_THEN_EXIT;
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
        clock_gettime: arch::xsc_entry_clock_gettime as *const () as u64,
        gettimeofday: arch::xsc_entry_gettimeofday as *const () as u64,
        #[cfg(target_arch = "x86_64")]
        time: arch::xsc_entry_time as *const () as u64,
        // aarch64 has no `time` system call (ABI §5.8).
        #[cfg(not(target_arch = "x86_64"))]
        time: 0,
        getcpu: arch::xsc_entry_getcpu as *const () as u64,
    })
}

/// The calling program thread's kernel state, found as the stubs find it:
/// the thread's region (GS base; aarch64: the region word) →
/// `kernel_private`.
fn current() -> (*mut RingRegion, *mut KernelThread) {
    // SAFETY: only called on program threads (from the entry stubs), whose
    // region the kernel side set up.
    unsafe {
        let region = arch::current_region();
        (region, (*region).header.kernel_private as *mut KernelThread)
    }
}

/// `wait(region, min_complete)`: consume the thread's pending entries here,
/// in the thread (there is no poller), then sleep until enough completions
/// are ready. With `min_complete == 0`, consume only.
pub extern "C" fn wait_impl(region: *mut RingRegion, min_complete: u32) -> i64 {
    let (own, kt) = current();
    if region != own {
        return -(libc::EINVAL as i64);
    }
    // SAFETY: kt belongs to this live thread.
    let kt = unsafe { &*kt };
    crate::consume::consume(kt, Mode::Full);
    if min_complete == 0 {
        return 0;
    }
    let r = kt.region();
    loop {
        let head = r.cq_head.0.load(Ordering::Acquire);
        let tail = r.cq_tail.0.load(Ordering::Acquire);
        if tail.wrapping_sub(head) >= min_complete {
            return 0;
        }
        // Everything submitted has been consumed and nothing else posts to
        // this ring: the caller asked for more than can arrive (ABI §5.4).
        // Sleep until a signal handler runs, as the ABI says.
        let res = sys::futex_wait(&r.cq_tail.0, tail);
        if res == -(libc::EINTR as i64) {
            return res;
        }
    }
}

/// What [`wait_fast`] returns when the full `wait` must take over.
pub const DECLINED: i64 = i64::MIN;

/// The first half of `wait`, run by its stub before the runner's TLS is
/// switched in (the FS base is still the program's): consume the entries
/// that need no TLS ([`Mode::Fast`]) and return if that was all and enough
/// completions are ready. Anything else — tracing on, an entry the fast
/// path may not execute, a sleep — returns [`DECLINED`] and the stub calls
/// [`wait_impl`] with the runner's TLS. Nothing here may use TLS.
pub extern "C" fn wait_fast(region: *mut RingRegion, min_complete: u32) -> i64 {
    let (own, kt) = current();
    if region != own {
        return -(libc::EINVAL as i64);
    }
    if crate::trace::observed() {
        return DECLINED;
    }
    // SAFETY: kt belongs to this live thread.
    let kt = unsafe { &*kt };
    if !crate::consume::consume(kt, Mode::Fast) {
        return DECLINED;
    }
    let r = kt.region();
    let ready = r
        .cq_tail
        .0
        .load(Ordering::Acquire)
        .wrapping_sub(r.cq_head.0.load(Ordering::Acquire));
    if ready >= min_complete {
        0
    } else {
        DECLINED
    }
}

/// `doorbell(region)`: wakes the poller serving this ring; the reference
/// kernel runs none (its `SQ_NEED_WAKEUP` is never set), so there is nothing
/// to wake.
pub extern "C" fn doorbell_impl(region: *mut RingRegion) -> i64 {
    let (own, _) = current();
    if region != own {
        return -(libc::EINVAL as i64);
    }
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
    let audited = crate::audit::submit(kt_ref, &sqe, Context::ThreadCall);
    let result = if let Some(rejected) = ops::reject(&sqe, Context::ThreadCall) {
        crate::trace::rejected(kt_ref, &sqe, rejected.result, rejected.cqe_flags);
        rejected.result
    } else if sqe.flags & SQE_F_THEN_EXIT != 0 {
        // Returns only when refused.
        let result = crate::thread_ops::then_exit(kt, &sqe);
        crate::trace::after(kt_ref, &sqe, result);
        result
    } else {
        let result = if ops::is_thread_context(sqe.opcode) {
            crate::thread_ops::execute(kt, &sqe, frame)
        } else {
            ops::execute(kt_ref, &sqe)
        };
        crate::trace::after(kt_ref, &sqe, result);
        result
    };
    crate::audit::restore(kt_ref, audited);
    result
}
