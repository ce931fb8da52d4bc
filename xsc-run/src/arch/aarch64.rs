//! aarch64 assembly of the kernel side: the entry-table stubs, the
//! signal-return trampoline, the signal entry, and the jumps into program
//! code.
//!
//! As on x86_64, program code and kernel code share one OS thread when the
//! program calls an entry: the stubs switch the thread pointer, TPIDR_EL0
//! (the program's TLS ⇄ the runner's TLS), and the selector byte (BLOCK ⇄
//! ALLOW) on the way in and out. They find the thread's [`KernelThread`]
//! through the region word at TPIDR_EL0 + 8 (ABI §3.5) →
//! `kernel_private`.
//!
//! The runner keeps the same word in its own thread control block: musl's
//! aarch64 TLS layout leaves the 16 bytes above the thread pointer unused
//! (`GAP_ABOVE_TP`), as the AArch64 TLS ABI reserves them. So the word
//! leads to the thread's region whichever thread pointer is loaded when a
//! signal arrives, and is 0 on a runner thread that serves no program
//! thread ([`set_thread_region`]).
//!
//! [`KernelThread`]: crate::thread::KernelThread

use crate::thread::{KT_PROGRAM_TP, KT_RUNNER_SP, KT_RUNNER_TP, KT_SELECTOR};
use core::mem::offset_of;
use xsc_abi::region::AARCH64_TP_REGION_WORD;
use xsc_abi::RingRegionHeader;

/// This architecture in the ABI's terms.
pub const ARCH: xsc_abi::ops::Arch = xsc_abi::ops::Arch::Aarch64;
/// The ABI's operation numbers of this architecture (its Linux system-call
/// numbers) and the `syscalls` crate's table of their names.
pub use syscalls::aarch64::Sysno;
pub use xsc_abi::ops::aarch64 as nr;
/// `AUDIT_ARCH_*` of this architecture (linux/audit.h): what a seccomp
/// filter sees in `seccomp_data.arch` for its calls.
pub const AUDIT_ARCH: u32 = crate::bpf::AUDIT_ARCH_AARCH64;
/// Go's and uname's names of this architecture (OCI profiles'
/// `includes.arches`).
pub const ARCH_NAMES: &[&str] = &["arm64", "aarch64"];
/// libseccomp's (and Docker profiles') name of this architecture.
pub const SCMP_ARCH: &str = "SCMP_ARCH_AARCH64";
/// `e_machine` of the binaries this backend runs, and its name.
pub const EM_MACHINE: u16 = object::elf::EM_AARCH64;
pub const MACHINE_NAME: &str = "aarch64";
/// The `AT_PLATFORM` string (ABI §3.7).
pub const PLATFORM: &[u8] = b"aarch64";
/// The host vDSO's names of the entry table's time functions, in the order
/// `clock_gettime`, `gettimeofday`, `time`, `getcpu` (crate::time); empty
/// where Linux's arm64 vDSO has none.
pub const VDSO_NAMES: [&str; 4] = ["__kernel_clock_gettime", "__kernel_gettimeofday", "", ""];
/// A thread clone must pass `CLONE_SETTLS`: the new thread's region word
/// lives in its thread control block (ABI §7.3).
pub const CLONE_NEEDS_SETTLS: bool = true;
/// aarch64 has no `fork` or `vfork`: `clone` without `CLONE_THREAD` makes
/// processes.
pub const FORK_OPS: &[u32] = &[];

/// Nothing to check: TPIDR_EL0 is writable at EL0 on every aarch64 CPU.
pub fn check_cpu() -> Result<(), String> {
    Ok(())
}

/// The selector values, as on x86_64 (linux/prctl.h). There is no Syscall
/// User Dispatch under qemu's user mode; the byte still tells the signal
/// entry whether kernel code or program code was interrupted.
pub const SELECTOR_ALLOW: u8 = 0;
pub const SELECTOR_BLOCK: u8 = 1;

/// Where `kernel_private` is in a region (the header comes first).
const KERNEL_PRIVATE: usize = offset_of!(RingRegionHeader, kernel_private);

/// The registers the entry stubs save, in the order they sit in memory from
/// the frame pointer they pass to Rust: the frame record, then the
/// callee-saved x19–x28 (AAPCS64).
#[repr(C)]
#[derive(Clone, Copy, Debug, Default)]
pub struct CallerFrame {
    pub x29: u64,
    /// Where the entry returns to.
    pub x30: u64,
    pub x19_x28: [u64; 10],
}

/// The register state a new program thread (or a forked child on a new
/// stack) starts with: the caller's x19–x30, `x0 = 0`, the given stack and
/// thread pointer.
#[repr(C)]
#[derive(Clone, Copy, Debug, Default)]
pub struct ChildStart {
    pub frame: CallerFrame,
    pub sp: u64,
    pub tp: u64,
}

impl ChildStart {
    /// Resumes `frame` on `stack` with thread pointer `tp`. The region is
    /// found through the word at `tp + 8` ([`prepare_child_tls`]).
    pub fn new(frame: CallerFrame, stack: u64, tp: u64, _region: u64) -> ChildStart {
        ChildStart {
            frame,
            sp: stack,
            tp,
        }
    }
}

/// Stores the new thread's region address at `tls + 8` before it runs
/// (ABI §7.3); `Err(EFAULT)` if that word cannot be written.
pub fn prepare_child_tls(tls: u64, region: u64) -> Result<(), i32> {
    crate::memory::write_struct(tls + AARCH64_TP_REGION_WORD as u64, &region)
}

/// The stubs' prologue: the frame record and x19–x28 in a
/// [`CallerFrame`], with unwind information, so debuggers unwind from the
/// kernel side into the program's frames.
macro_rules! save_frame {
    () => {
        concat!(
            "stp x29, x30, [sp, #-96]!\n.cfi_def_cfa_offset 96\n",
            ".cfi_offset x29, -96\n.cfi_offset x30, -88\n",
            "stp x19, x20, [sp, #16]\n.cfi_offset x19, -80\n.cfi_offset x20, -72\n",
            "stp x21, x22, [sp, #32]\n.cfi_offset x21, -64\n.cfi_offset x22, -56\n",
            "stp x23, x24, [sp, #48]\n.cfi_offset x23, -48\n.cfi_offset x24, -40\n",
            "stp x25, x26, [sp, #64]\n.cfi_offset x25, -32\n.cfi_offset x26, -24\n",
            "stp x27, x28, [sp, #80]\n.cfi_offset x27, -16\n.cfi_offset x28, -8\n",
            "mov x29, sp",
        )
    };
}

/// The stubs' epilogue, undoing [`save_frame`].
macro_rules! restore_frame {
    () => {
        concat!(
            "ldp x27, x28, [sp, #80]\n",
            "ldp x25, x26, [sp, #64]\n",
            "ldp x23, x24, [sp, #48]\n",
            "ldp x21, x22, [sp, #32]\n",
            "ldp x19, x20, [sp, #16]\n",
            "ldp x29, x30, [sp], #96\n.cfi_def_cfa_offset 0\n",
            ".cfi_restore x29\n.cfi_restore x30",
        )
    };
}

// Entry: x19 = the thread's KernelThread, x20 = the program's thread
// pointer (saved in it), selector ALLOW, the runner's TLS loaded; the
// program's arguments untouched in x0-x1, x2 = the saved frame.
macro_rules! entry_stub {
    ($name:literal, $target:path) => {
        core::arch::global_asm!(
            concat!(".globl ", $name),
            concat!(".type ", $name, ",%function"),
            ".p2align 2",
            concat!($name, ":"),
            ".cfi_startproc",
            save_frame!(),
            "mov x2, sp",
            "mrs x20, tpidr_el0",
            "ldr x19, [x20, #{word}]",
            "ldr x19, [x19, #{kp}]",
            // The program's thread pointer first, then ALLOW: a signal
            // that sees ALLOW takes the program's from the saved copy.
            "str x20, [x19, #{ptp}]",
            "mov w21, #{allow}",
            "strb w21, [x19, #{sel}]",
            "ldr x21, [x19, #{rtp}]",
            "msr tpidr_el0, x21",
            "bl {target}",
            "ldr x20, [x19, #{ptp}]",
            "msr tpidr_el0, x20",
            "mov w21, #{block}",
            "strb w21, [x19, #{sel}]",
            restore_frame!(),
            "ret",
            ".cfi_endproc",
            concat!(".size ", $name, ", .-", $name),
            word = const AARCH64_TP_REGION_WORD,
            kp = const KERNEL_PRIVATE,
            sel = const KT_SELECTOR,
            ptp = const KT_PROGRAM_TP,
            rtp = const KT_RUNNER_TP,
            allow = const SELECTOR_ALLOW,
            block = const SELECTOR_BLOCK,
            target = sym $target,
        );
    };
}

// `wait` tries the TLS-free fast path first (crate::entry::wait_fast) with
// the program's thread pointer still loaded, and switches to the runner's
// TLS for the full `wait_impl` only when the fast path declines.
core::arch::global_asm!(
    ".globl xsc_entry_wait",
    ".type xsc_entry_wait,%function",
    ".p2align 2",
    "xsc_entry_wait:",
    ".cfi_startproc",
    save_frame!(),
    "mrs x20, tpidr_el0",
    "ldr x19, [x20, #{word}]",
    "ldr x19, [x19, #{kp}]",
    "str x20, [x19, #{ptp}]",
    "mov w21, #{allow}",
    "strb w21, [x19, #{sel}]",
    "mov x22, x0",
    "mov x23, x1",
    "bl {fast}",
    "mov x9, #{declined_hi}",
    "lsl x9, x9, #48",
    "cmp x0, x9",
    "b.ne 2f",
    "mov x0, x22",
    "mov x1, x23",
    "ldr x21, [x19, #{rtp}]",
    "msr tpidr_el0, x21",
    "bl {full}",
    "ldr x20, [x19, #{ptp}]",
    "msr tpidr_el0, x20",
    "2:",
    "mov w21, #{block}",
    "strb w21, [x19, #{sel}]",
    restore_frame!(),
    "ret",
    ".cfi_endproc",
    ".size xsc_entry_wait, .-xsc_entry_wait",
    word = const AARCH64_TP_REGION_WORD,
    kp = const KERNEL_PRIVATE,
    sel = const KT_SELECTOR,
    ptp = const KT_PROGRAM_TP,
    rtp = const KT_RUNNER_TP,
    allow = const SELECTOR_ALLOW,
    block = const SELECTOR_BLOCK,
    declined_hi = const DECLINED_HI,
    fast = sym crate::entry::wait_fast,
    full = sym crate::entry::wait_impl,
);

/// crate::entry::DECLINED is `i64::MIN`: its top 16 bits, shifted into
/// place by the `wait` stub.
const DECLINED_HI: u64 = (crate::entry::DECLINED as u64) >> 48;
const _: () = assert!(DECLINED_HI << 48 == crate::entry::DECLINED as u64);

entry_stub!("xsc_entry_doorbell", crate::entry::doorbell_impl);
entry_stub!("xsc_entry_thread_call", crate::entry::thread_call_impl);

// The time functions (ABI §5.8) need no TLS: their stubs save the
// program's thread pointer (where the signal entry looks for it while
// kernel code runs), set the selector to ALLOW, call the function whose
// address is in `$target` (crate::time) and set BLOCK again. Arguments and
// the result pass through untouched.
macro_rules! time_stub {
    ($name:literal, $target:path) => {
        core::arch::global_asm!(
            concat!(".globl ", $name),
            concat!(".type ", $name, ",%function"),
            ".p2align 2",
            concat!($name, ":"),
            "stp x29, x30, [sp, #-32]!",
            "mov x29, sp",
            "str x19, [sp, #16]",
            "mrs x16, tpidr_el0",
            "ldr x19, [x16, #{word}]",
            "ldr x19, [x19, #{kp}]",
            "str x16, [x19, #{ptp}]",
            "mov w16, #{allow}",
            "strb w16, [x19, #{sel}]",
            "adrp x16, {target}",
            "ldr x16, [x16, #:lo12:{target}]",
            "blr x16",
            "mov w16, #{block}",
            "strb w16, [x19, #{sel}]",
            "ldr x19, [sp, #16]",
            "ldp x29, x30, [sp], #32",
            "ret",
            concat!(".size ", $name, ", .-", $name),
            word = const AARCH64_TP_REGION_WORD,
            kp = const KERNEL_PRIVATE,
            sel = const KT_SELECTOR,
            ptp = const KT_PROGRAM_TP,
            allow = const SELECTOR_ALLOW,
            block = const SELECTOR_BLOCK,
            target = sym $target,
        );
    };
}

time_stub!("xsc_entry_clock_gettime", crate::time::CLOCK_GETTIME);
time_stub!("xsc_entry_gettimeofday", crate::time::GETTIMEOFDAY);
time_stub!("xsc_entry_getcpu", crate::time::GETCPU);

// The signal-return trampoline and the kernel side's own system-call
// instruction, together as on x86_64 (there the Syscall User Dispatch
// allowed region; here kept alike, and the address audit::judge and
// crate::filters report as the calls' instruction pointer).
core::arch::global_asm!(
    ".globl xsc_sigreturn",
    ".type xsc_sigreturn,%function",
    ".p2align 4",
    "xsc_sigreturn:",
    "mov x8, #{rt_sigreturn}",
    "svc #0",
    "brk #0",
    // xsc_kernel_syscall6(nr, a0, a1, a2, a3, a4, a5) -> raw result.
    ".globl xsc_kernel_syscall6",
    ".type xsc_kernel_syscall6,%function",
    ".p2align 4",
    "xsc_kernel_syscall6:",
    "mov x8, x0",
    "mov x0, x1",
    "mov x1, x2",
    "mov x2, x3",
    "mov x3, x4",
    "mov x4, x5",
    "mov x5, x6",
    "svc #0",
    ".globl xsc_kernel_syscall6_ret",
    "xsc_kernel_syscall6_ret:",
    "ret",
    ".globl xsc_sigreturn_end",
    "xsc_sigreturn_end:",
    rt_sigreturn = const nr::RT_SIGRETURN,
);

// The handler the host calls for every signal the program catches: switch
// to kernel state, run the Rust dispatcher, switch back.
// xsc_signal_dispatch(sig, info, uctx, kt, interrupted_tp, interrupted_selector)
core::arch::global_asm!(
    ".globl xsc_signal_entry",
    ".type xsc_signal_entry,%function",
    ".p2align 2",
    "xsc_signal_entry:",
    "stp x29, x30, [sp, #-48]!",
    "mov x29, sp",
    "stp x19, x20, [sp, #16]",
    "stp x21, x22, [sp, #32]",
    "mrs x21, tpidr_el0",
    "cbz x21, 2f",
    "ldr x19, [x21, #{word}]",
    "cbz x19, 2f",
    "ldr x19, [x19, #{kp}]",
    "ldrb w20, [x19, #{sel}]",
    "mov w16, #{allow}",
    "strb w16, [x19, #{sel}]",
    "ldr x16, [x19, #{rtp}]",
    "msr tpidr_el0, x16",
    "mov x3, x19",
    "mov x4, x21",
    "mov x5, x20",
    "bl {dispatch}",
    "msr tpidr_el0, x21",
    "strb w20, [x19, #{sel}]",
    "b 3f",
    "2:",
    // A signal on a thread without a ring region (a kernel thread): the
    // thread pointer is already the runner's.
    "mov x3, #0",
    "mov x4, #0",
    "mov x5, #0",
    "bl {dispatch}",
    "3:",
    "ldp x21, x22, [sp, #32]",
    "ldp x19, x20, [sp, #16]",
    "ldp x29, x30, [sp], #48",
    "ret",
    ".size xsc_signal_entry, .-xsc_signal_entry",
    word = const AARCH64_TP_REGION_WORD,
    kp = const KERNEL_PRIVATE,
    sel = const KT_SELECTOR,
    rtp = const KT_RUNNER_TP,
    allow = const SELECTOR_ALLOW,
    dispatch = sym crate::signals::xsc_signal_dispatch,
);

// xsc_call_program_handler(handler, sig, info, uctx, program_tp, kt):
// run a program's signal handler in program state.
core::arch::global_asm!(
    ".globl xsc_call_program_handler",
    ".type xsc_call_program_handler,%function",
    ".p2align 2",
    "xsc_call_program_handler:",
    "stp x29, x30, [sp, #-32]!",
    "mov x29, sp",
    "stp x19, x20, [sp, #16]",
    "mov x19, x5",
    "mrs x20, tpidr_el0",
    "msr tpidr_el0, x4",
    "mov x16, x0",
    "mov w0, w1",
    "mov x1, x2",
    "mov x2, x3",
    "mov w9, #{block}",
    "strb w9, [x19, #{sel}]",
    "blr x16",
    "mov w9, #{allow}",
    "strb w9, [x19, #{sel}]",
    "msr tpidr_el0, x20",
    "ldp x19, x20, [sp, #16]",
    "ldp x29, x30, [sp], #32",
    "ret",
    ".size xsc_call_program_handler, .-xsc_call_program_handler",
    sel = const KT_SELECTOR,
    allow = const SELECTOR_ALLOW,
    block = const SELECTOR_BLOCK,
);

// xsc_enter_program(entry, sp, kt, region): start the program's main thread
// the way Linux starts a static binary (ABI §3.7): TPIDR_EL0 = region - 8,
// so that the region word is the header's self_ptr; x0 = 0 (no
// rtld_fini); every other register 0 but x16, which holds the entry.
// Never returns.
core::arch::global_asm!(
    ".globl xsc_enter_program",
    ".type xsc_enter_program,%function",
    ".p2align 2",
    "xsc_enter_program:",
    "mrs x9, tpidr_el0",
    "str x3, [x9, #{word}]",
    "sub x9, x3, #{word}",
    "msr tpidr_el0, x9",
    "mov w9, #{block}",
    "strb w9, [x2, #{sel}]",
    "mov sp, x1",
    "mov x16, x0",
    "mov x0, #0",
    "mov x1, #0",
    "mov x2, #0",
    "mov x3, #0",
    "mov x4, #0",
    "mov x5, #0",
    "mov x6, #0",
    "mov x7, #0",
    "mov x8, #0",
    "mov x9, #0",
    "mov x10, #0",
    "mov x11, #0",
    "mov x12, #0",
    "mov x13, #0",
    "mov x14, #0",
    "mov x15, #0",
    "mov x17, #0",
    "mov x18, #0",
    "mov x19, #0",
    "mov x20, #0",
    "mov x21, #0",
    "mov x22, #0",
    "mov x23, #0",
    "mov x24, #0",
    "mov x25, #0",
    "mov x26, #0",
    "mov x27, #0",
    "mov x28, #0",
    "mov x29, #0",
    "mov x30, #0",
    "br x16",
    ".size xsc_enter_program, .-xsc_enter_program",
    word = const AARCH64_TP_REGION_WORD,
    sel = const KT_SELECTOR,
    block = const SELECTOR_BLOCK,
);

// xsc_enter_child(start, kt) -> exit code: save the runner's callee-saved
// registers (x19-x30, d8-d15) and stack in kt, then become a program
// thread: the caller's x19-x30, x0 = 0, the new stack and thread pointer.
// Returns (through xsc_resume_runner) when that program thread ends.
core::arch::global_asm!(
    ".globl xsc_enter_child",
    ".type xsc_enter_child,%function",
    ".p2align 2",
    "xsc_enter_child:",
    "stp x29, x30, [sp, #-160]!",
    "mov x29, sp",
    "stp x19, x20, [sp, #16]",
    "stp x21, x22, [sp, #32]",
    "stp x23, x24, [sp, #48]",
    "stp x25, x26, [sp, #64]",
    "stp x27, x28, [sp, #80]",
    "stp d8, d9, [sp, #96]",
    "stp d10, d11, [sp, #112]",
    "stp d12, d13, [sp, #128]",
    "stp d14, d15, [sp, #144]",
    "mov x9, sp",
    "str x9, [x1, #{sp_slot}]",
    "ldr x9, [x0, #{cs_tp}]",
    "msr tpidr_el0, x9",
    "mov w9, #{block}",
    "strb w9, [x1, #{sel}]",
    "ldr x9, [x0, #{cs_sp}]",
    "mov sp, x9",
    "ldp x29, x30, [x0, #0]",
    "ldp x19, x20, [x0, #16]",
    "ldp x21, x22, [x0, #32]",
    "ldp x23, x24, [x0, #48]",
    "ldp x25, x26, [x0, #64]",
    "ldp x27, x28, [x0, #80]",
    "mov x0, #0",
    "mov x1, #0",
    "mov x2, #0",
    "mov x3, #0",
    "mov x4, #0",
    "mov x5, #0",
    "mov x6, #0",
    "mov x7, #0",
    "mov x8, #0",
    "mov x9, #0",
    "mov x10, #0",
    "mov x11, #0",
    "mov x12, #0",
    "mov x13, #0",
    "mov x14, #0",
    "mov x15, #0",
    "mov x16, #0",
    "mov x17, #0",
    "ret",
    ".size xsc_enter_child, .-xsc_enter_child",
    // xsc_resume_runner(kt, code): back to where xsc_enter_child was called.
    ".globl xsc_resume_runner",
    ".type xsc_resume_runner,%function",
    "xsc_resume_runner:",
    "ldr x9, [x0, #{sp_slot}]",
    "mov sp, x9",
    "mov w0, w1",
    "ldp d14, d15, [sp, #144]",
    "ldp d12, d13, [sp, #128]",
    "ldp d10, d11, [sp, #112]",
    "ldp d8, d9, [sp, #96]",
    "ldp x27, x28, [sp, #80]",
    "ldp x25, x26, [sp, #64]",
    "ldp x23, x24, [sp, #48]",
    "ldp x21, x22, [sp, #32]",
    "ldp x19, x20, [sp, #16]",
    "ldp x29, x30, [sp], #160",
    "ret",
    ".size xsc_resume_runner, .-xsc_resume_runner",
    sp_slot = const KT_RUNNER_SP,
    sel = const KT_SELECTOR,
    block = const SELECTOR_BLOCK,
    cs_tp = const offset_of!(ChildStart, tp),
    cs_sp = const offset_of!(ChildStart, sp),
);

// xsc_copy_from_program(dst, src, len) -> 0, or 1 if reading `src` faulted.
// A copy the kernel side makes of program memory without a system call:
// a fault on the one instruction that reads program memory is caught by
// the signal entry (fix_copy_fault), which resumes at the fixup label (as
// Linux's exception tables do for copy_from_user).
core::arch::global_asm!(
    ".globl xsc_copy_from_program",
    ".type xsc_copy_from_program,%function",
    ".p2align 2",
    "xsc_copy_from_program:",
    "cbz x2, 2f",
    ".globl xsc_copy_from_program_insn",
    "xsc_copy_from_program_insn:",
    "ldrb w3, [x1], #1",
    "strb w3, [x0], #1",
    "subs x2, x2, #1",
    "b.ne xsc_copy_from_program_insn",
    "2:",
    "mov x0, #0",
    "ret",
    ".globl xsc_copy_from_program_fixup",
    "xsc_copy_from_program_fixup:",
    "mov x0, #1",
    "ret",
    ".size xsc_copy_from_program, .-xsc_copy_from_program",
    // xsc_copy_to_program(dst, src, len): the same for a write into
    // program memory.
    ".globl xsc_copy_to_program",
    ".type xsc_copy_to_program,%function",
    ".p2align 2",
    "xsc_copy_to_program:",
    "cbz x2, 2f",
    "1:",
    "ldrb w3, [x1], #1",
    ".globl xsc_copy_to_program_insn",
    "xsc_copy_to_program_insn:",
    "strb w3, [x0], #1",
    "subs x2, x2, #1",
    "b.ne 1b",
    "2:",
    "mov x0, #0",
    "ret",
    ".globl xsc_copy_to_program_fixup",
    "xsc_copy_to_program_fixup:",
    "mov x0, #1",
    "ret",
    ".size xsc_copy_to_program, .-xsc_copy_to_program",
);

/// The program counter of a signal's interrupted context.
///
/// # Safety
/// `uctx` must be the `ucontext_t` the host kernel passed to a handler.
pub unsafe fn interrupted_pc(uctx: *mut libc::c_void) -> *mut u64 {
    let uc = uctx as *mut libc::ucontext_t;
    &mut (*uc).uc_mcontext.pc as *mut u64
}

/// The calling program thread's ring region: the word at TPIDR_EL0 + 8
/// (ABI §3.5), in the program's thread control block or the runner's.
///
/// # Safety
/// Only on program threads, whose region word the kernel side set up.
pub unsafe fn current_region() -> *mut xsc_abi::RingRegion {
    let region: *mut xsc_abi::RingRegion;
    core::arch::asm!(
        "mrs {r}, tpidr_el0",
        "ldr {r}, [{r}, #{word}]",
        r = out(reg) region,
        word = const AARCH64_TP_REGION_WORD,
        options(nostack, readonly, preserves_flags),
    );
    region
}

/// The calling thread's thread pointer (TPIDR_EL0).
pub fn thread_pointer() -> u64 {
    let v: u64;
    // SAFETY: reading TPIDR_EL0 has no side effects.
    unsafe { core::arch::asm!("mrs {}, tpidr_el0", out(reg) v, options(nomem, nostack)) };
    v
}

/// Makes `v` the calling thread's ring region for the signal entry: the
/// region word of the runner's own thread control block (0: not a program
/// thread).
///
/// # Safety
/// Only on a runner thread with its own TLS loaded; the word is in musl's
/// unused gap above the thread pointer (see the module comment).
pub unsafe fn set_thread_region(v: u64) {
    core::arch::asm!(
        "mrs {tp}, tpidr_el0",
        "str {v}, [{tp}, #{word}]",
        tp = out(reg) _,
        v = in(reg) v,
        word = const AARCH64_TP_REGION_WORD,
        options(nostack, preserves_flags),
    );
}

/// The system-call instruction (`svc #0`) is 4 bytes; the kernel reports
/// the address after it.
pub const SYSCALL_INSN_LEN: u64 = 4;
