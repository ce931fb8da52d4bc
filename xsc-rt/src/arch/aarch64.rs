//! aarch64: TPIDRRO_EL0 (readable, not writable, from user space) holds the
//! calling thread's ring region address (ABI §3.5), as GS base does on
//! x86_64.
//!
//! This module has what the C ABI needs (the libc fork for aarch64). The
//! `start` and `mem` features (programs without a libc) are x86_64 only so
//! far, and no XSC kernel runs aarch64 programs yet.

use xsc_abi::RingRegion;

/// The system-call numbers of this architecture.
pub use xsc_abi::ops::aarch64 as nr;

#[cfg(any(feature = "start", feature = "mem"))]
compile_error!("xsc-rt's `start` and `mem` features are implemented for x86_64 only");

/// The calling thread's ring region.
#[inline(always)]
pub fn current_region() -> *mut RingRegion {
    let region: *mut RingRegion;
    // SAFETY: reading a system register EL0 may read; an XSC kernel sets it
    // to the thread's ring region before the thread runs (ABI §3.5).
    unsafe {
        core::arch::asm!("mrs {}, tpidrro_el0", out(reg) region, options(nomem, nostack, preserves_flags));
    }
    region
}

/// A pause hint for spin loops.
#[inline(always)]
pub fn cpu_relax() {
    core::hint::spin_loop();
}

// xsc_rt_clone_call(thread_call, region, entry, child_fn, child_arg): as on
// x86_64 (ABI §7.3): in the child, thread_call returns 0 at the return
// address (x30 at the call) with sp = the new stack and x19-x29 as they
// were, so the child finds child_fn in x19 and child_arg in x20.
core::arch::global_asm!(
    ".globl xsc_rt_clone_call",
    ".hidden xsc_rt_clone_call",
    ".type xsc_rt_clone_call,%function",
    "xsc_rt_clone_call:",
    "stp x29, x30, [sp, #-32]!",
    "stp x19, x20, [sp, #16]",
    "mov x29, sp",
    "mov x19, x3",
    "mov x20, x4",
    "mov x16, x0",
    "mov x0, x1",
    "mov x1, x2",
    "blr x16",
    "cbz x0, 2f",
    "ldp x19, x20, [sp, #16]",
    "ldp x29, x30, [sp], #32",
    "ret",
    "2:",
    "mov x29, #0",
    "mov x0, x20",
    "blr x19",
    "bl {exit}",
    "brk #0",
    ".size xsc_rt_clone_call, .-xsc_rt_clone_call",
    exit = sym crate::thread::exit_thread_c,
);

extern "C" {
    pub(crate) fn xsc_rt_clone_call(
        thread_call: xsc_abi::entry_table::ThreadCallFn,
        region: *mut RingRegion,
        entry: *const xsc_abi::SubmissionEntry,
        child_fn: extern "C" fn(usize) -> i32,
        child_arg: usize,
    ) -> i64;
}
