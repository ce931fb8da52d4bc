//! aarch64: the word at TPIDR_EL0 + 8 (in the thread control block the
//! AArch64 TLS ABI reserves for the system) holds the calling thread's ring
//! region address (ABI §3.5), as GS base does on x86_64. The kernel puts it
//! there; whoever moves the thread pointer carries it over
//! ([`xsc_set_thread_area`](#xsc_set_thread_area)).
//!
//! This module has what the C ABI needs (the libc fork for aarch64) and,
//! for programs without a libc, `_start` and the memory functions
//! (features `start` and `mem`).

use xsc_abi::region::AARCH64_TP_REGION_WORD;
use xsc_abi::{EntryTable, RingRegion, RingRegionHeader};

/// The system-call numbers of this architecture.
pub use xsc_abi::ops::aarch64 as nr;

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

// `_start`: apply the static-pie binary's own R_AARCH64_RELATIVE
// relocations (DT_RELA, DT_RELASZ, DT_RELAENT), then hand the initial
// stack pointer to the runtime's start code, as on x86_64: nothing
// compiled from Rust may run before relocation. `__ehdr_start` (the load
// base) and `_DYNAMIC` are reached PC-relatively (adrp/add), so they need
// no relocation themselves.
#[cfg(feature = "start")]
core::arch::global_asm!(
    ".globl _start",
    ".type _start,%function",
    "_start:",
    "mov x29, #0",
    "mov x30, #0",
    "mov x19, sp",
    "adrp x2, __ehdr_start",
    "add x2, x2, :lo12:__ehdr_start",
    "adrp x1, _DYNAMIC",
    "add x1, x1, :lo12:_DYNAMIC",
    "mov x3, #0",
    "mov x4, #0",
    "mov x5, #24",
    "2:",
    "ldr x0, [x1]",
    "cbz x0, 6f",
    "cmp x0, #{dt_rela}",
    "b.ne 3f",
    "ldr x3, [x1, #8]",
    "3:",
    "cmp x0, #{dt_relasz}",
    "b.ne 4f",
    "ldr x4, [x1, #8]",
    "4:",
    "cmp x0, #{dt_relaent}",
    "b.ne 5f",
    "ldr x5, [x1, #8]",
    "5:",
    "add x1, x1, #16",
    "b 2b",
    "6:",
    "add x3, x3, x2",
    "add x4, x4, x3",
    "7:",
    "cmp x3, x4",
    "b.hs 9f",
    "ldr w0, [x3, #8]",
    "cmp w0, #{relative}",
    "b.ne 8f",
    "ldr x6, [x3, #16]",
    "add x6, x6, x2",
    "ldr x0, [x3]",
    "str x6, [x2, x0]",
    "8:",
    "add x3, x3, x5",
    "b 7b",
    "9:",
    "mov x0, x19",
    "bl {start}",
    "brk #0",
    ".size _start, .-_start",
    dt_rela = const 7,
    dt_relasz = const 8,
    dt_relaent = const 9,
    relative = const 1027,
    start = sym crate::start::start_c,
);

// memcpy, strlen and friends for programs without a libc: byte loops,
// correct for any alignment; written in assembly so the compiler cannot
// turn them back into calls to themselves.
#[cfg(feature = "mem")]
core::arch::global_asm!(
    ".globl memcpy",
    ".type memcpy,%function",
    "memcpy:",
    "mov x3, x0",
    "cbz x2, 2f",
    "1:",
    "ldrb w4, [x1], #1",
    "strb w4, [x3], #1",
    "subs x2, x2, #1",
    "b.ne 1b",
    "2:",
    "ret",
    ".globl memmove",
    ".type memmove,%function",
    "memmove:",
    "cmp x0, x1",
    "b.ls memcpy",
    "add x5, x1, x2",
    "cmp x0, x5",
    "b.hs memcpy",
    "add x1, x1, x2",
    "add x3, x0, x2",
    "cbz x2, 4f",
    "3:",
    "ldrb w4, [x1, #-1]!",
    "strb w4, [x3, #-1]!",
    "subs x2, x2, #1",
    "b.ne 3b",
    "4:",
    "ret",
    ".globl memset",
    ".type memset,%function",
    "memset:",
    "mov x3, x0",
    "cbz x2, 6f",
    "5:",
    "strb w1, [x3], #1",
    "subs x2, x2, #1",
    "b.ne 5b",
    "6:",
    "ret",
    ".globl memcmp",
    ".type memcmp,%function",
    ".globl bcmp",
    ".type bcmp,%function",
    "memcmp:",
    "bcmp:",
    "cbz x2, 8f",
    "7:",
    "ldrb w3, [x0], #1",
    "ldrb w4, [x1], #1",
    "subs w5, w3, w4",
    "b.ne 9f",
    "subs x2, x2, #1",
    "b.ne 7b",
    "8:",
    "mov w0, #0",
    "ret",
    "9:",
    "mov w0, w5",
    "ret",
    ".globl strlen",
    ".type strlen,%function",
    "strlen:",
    "mov x1, x0",
    "10:",
    "ldrb w2, [x1]",
    "cbz w2, 11f",
    "add x1, x1, #1",
    "b 10b",
    "11:",
    "sub x0, x1, x0",
    "ret",
);
