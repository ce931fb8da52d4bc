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

/// `long xsc_raw_syscall6(long nr, long a1, ..., long a6)`: as
/// [`xsc_syscall6`], but the time operations too are made by the kernel
/// (through the ring), not served by the entry table's time functions:
/// `syscall(2)`'s path, on which a bad pointer gives `-EFAULT` as the raw
/// system call does natively (ABI §5.8).
///
/// # Safety
/// As for the raw system call.
#[no_mangle]
pub unsafe extern "C" fn xsc_raw_syscall6(
    nr: isize,
    a1: isize,
    a2: isize,
    a3: isize,
    a4: isize,
    a5: isize,
    a6: isize,
) -> isize {
    crate::syscall::ring_syscall6(
        nr as u32,
        a1 as usize,
        a2 as usize,
        a3 as usize,
        a4 as usize,
        a5 as usize,
        a6 as usize,
    )
}

/// `void *xsc_time_function(const char *name)`: the entry table's time
/// function that a vDSO would export as `name` (`__vdso_clock_gettime`,
/// `__kernel_getcpu`, ...), or null. The libc's vDSO lookup (`__vdsosym`)
/// asks this, so that its `clock_gettime` and `sched_getcpu` call the
/// table's functions as they would call a vDSO's, with no ring round trip
/// and no runtime code between (ABI §5.8).
///
/// # Safety
/// `name` must be a NUL-terminated string.
#[no_mangle]
pub unsafe extern "C" fn xsc_time_function(name: *const core::ffi::c_char) -> usize {
    // SAFETY: the caller passes a NUL-terminated string.
    let name = unsafe { core::ffi::CStr::from_ptr(name) };
    crate::time::by_vdso_name(name.to_bytes())
        .and_then(|f| crate::time::address(&crate::ring::Ring::current(), f))
        .map_or(0, |a| a as usize)
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

/// musl's `__clone(func, stack, flags, arg, ptid, tls, ctid)`: makes the
/// clone through the entry table. The child starts on `stack` (aligned down
/// to 16 bytes), calls `func(arg)` and exits with its return value; the
/// parent gets the child's thread id or `-errno`.
///
/// # Safety
/// As for the clone system call: `stack` must be usable by the child, and
/// the pointers must be valid for the flags given.
#[no_mangle]
pub unsafe extern "C" fn xsc_clone(
    func: extern "C" fn(usize) -> i32,
    stack: *mut u8,
    flags: i32,
    arg: usize,
    ptid: *mut i32,
    tls: usize,
    ctid: *mut i32,
) -> i32 {
    crate::thread::clone_raw(
        flags as u32 as usize,
        (stack as usize & !15) as *mut u8,
        ptid as usize,
        ctid as usize,
        tls,
        func,
        arg,
    ) as i32
}

/// musl's `__unmapself(base, size)`: unmaps the calling thread's own stack
/// and ends the thread. The kernel does both after the thread has left the
/// stack (`thread_call` with `SQE_F_THEN_EXIT`).
///
/// # Safety
/// `[base, base+size)` must be the calling thread's stack, used by nothing
/// else.
#[no_mangle]
pub unsafe extern "C" fn xsc_unmapself(base: *mut u8, size: usize) -> ! {
    use xsc_abi::ring_entry::SQE_F_THEN_EXIT;
    let mut e = xsc_abi::SubmissionEntry::new(
        crate::arch::nr::MUNMAP,
        [base as u64, size as u64, 0, 0, 0, 0],
        0,
    );
    e.flags = SQE_F_THEN_EXIT;
    crate::Ring::current().thread_call(&e);
    // Only reached if the kernel refused (e.g. not a cloned thread): leave
    // the stack mapped and end the thread.
    crate::sys::exit_thread(0)
}

/// A panic inside the runtime, linked into a C program or the libc
/// (feature `panic-handler`): end the process without touching the rings,
/// which may be in the middle of a call.
#[cfg(feature = "panic-handler")]
#[panic_handler]
fn panic(_: &core::panic::PanicInfo) -> ! {
    let e = xsc_abi::SubmissionEntry::new(crate::arch::nr::EXIT_GROUP, [134, 0, 0, 0, 0, 0], 0);
    // SAFETY: exit_group has no pointer arguments.
    unsafe { crate::Ring::current().thread_call(&e) };
    loop {
        core::hint::spin_loop();
    }
}
