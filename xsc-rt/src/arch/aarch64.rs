//! aarch64: the word at TPIDR_EL0 + 8 (in the thread control block the
//! AArch64 TLS ABI reserves for the system) holds the calling thread's ring
//! region address (ABI §3.5), as GS base does on x86_64. The kernel puts it
//! there; whoever moves the thread pointer carries it over
//! ([`xsc_set_thread_area`](#xsc_set_thread_area)).
//!
//! This module has what the C ABI needs (the libc fork for aarch64). The
//! `start` and `mem` features (programs without a libc) are x86_64 only so
//! far, and no XSC kernel runs aarch64 programs yet.

use xsc_abi::region::AARCH64_TP_REGION_WORD;
use xsc_abi::{EntryTable, RingRegion, RingRegionHeader};

/// The system-call numbers of this architecture.
pub use xsc_abi::ops::aarch64 as nr;

#[cfg(any(feature = "start", feature = "mem"))]
compile_error!("xsc-rt's `start` and `mem` features are implemented for x86_64 only");

/// The calling thread's ring region.
#[inline(always)]
pub fn current_region() -> *mut RingRegion {
    let region: *mut RingRegion;
    // SAFETY: TPIDR_EL0 is readable at EL0; an XSC kernel points it at a
    // thread control block whose word at +8 holds the thread's region
    // before the thread runs (ABI §3.5), and the libc keeps it so when it
    // moves the thread pointer. The load reads memory only.
    unsafe {
        core::arch::asm!(
            "mrs {r}, tpidr_el0",
            "ldr {r}, [{r}, #{word}]",
            r = out(reg) region,
            word = const AARCH64_TP_REGION_WORD,
            options(nostack, readonly, preserves_flags),
        );
    }
    region
}

// `xsc_set_thread_area(tp)`: the libc's `__set_thread_area` (musl patch
// 0017). Copies the region word from the current thread control block into
// the new one, then moves the thread pointer (ABI §3.5), so a signal
// handler running in between finds the region through either. Returns 0.
core::arch::global_asm!(
    ".globl xsc_set_thread_area",
    ".hidden xsc_set_thread_area",
    ".type xsc_set_thread_area,%function",
    "xsc_set_thread_area:",
    "mrs x1, tpidr_el0",
    "ldr x1, [x1, #{word}]",
    "str x1, [x0, #{word}]",
    "msr tpidr_el0, x0",
    "mov w0, #0",
    "ret",
    ".size xsc_set_thread_area, .-xsc_set_thread_area",
    word = const AARCH64_TP_REGION_WORD,
);

// `xsc_restore_rt`: the libc's signal restorer (`__restore_rt`, musl patch
// 0015) jumps here with the stack pointer at the signal frame; this
// continues at the kernel's signal-return trampoline from the entry table
// (ABI §5.7), using only x16, which the frame does not need.
core::arch::global_asm!(
    ".globl xsc_restore_rt",
    ".hidden xsc_restore_rt",
    ".type xsc_restore_rt,%function",
    "xsc_restore_rt:",
    "mrs x16, tpidr_el0",
    "ldr x16, [x16, #{word}]",
    "ldr x16, [x16, #{entry_table}]",
    "ldr x16, [x16, #{sigreturn}]",
    "br x16",
    ".size xsc_restore_rt, .-xsc_restore_rt",
    word = const AARCH64_TP_REGION_WORD,
    entry_table = const core::mem::offset_of!(RingRegionHeader, entry_table),
    sigreturn = const core::mem::offset_of!(EntryTable, sigreturn),
);

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
