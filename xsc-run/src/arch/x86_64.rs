//! x86_64 assembly of the kernel side: the entry-table stubs, the
//! signal-return trampoline, the signal entry, and the jumps into program
//! code.
//!
//! Program threads and kernel code share one OS thread when the program
//! calls an entry: the stubs switch the FS base (the program's TLS ⇄ the
//! runner's TLS) and the Syscall User Dispatch selector (BLOCK ⇄ ALLOW) on
//! the way in and out. They find the thread's [`KernelThread`] through the
//! ring region at GS base (`gs:[48]` is `kernel_private`, ABI §3).
//!
//! [`KernelThread`]: crate::thread::KernelThread

use crate::thread::{KT_PROGRAM_TP, KT_RUNNER_SP, KT_RUNNER_TP, KT_SELECTOR};

/// This architecture in the ABI's terms.
pub const ARCH: xsc_abi::ops::Arch = xsc_abi::ops::Arch::X86_64;
/// The ABI's operation numbers of this architecture (its Linux system-call
/// numbers) and the `syscalls` crate's table of their names.
pub use syscalls::x86_64::Sysno;
pub use xsc_abi::ops::x86_64 as nr;
/// `AUDIT_ARCH_*` of this architecture (linux/audit.h): what a seccomp
/// filter sees in `seccomp_data.arch` for its calls.
pub const AUDIT_ARCH: u32 = crate::bpf::AUDIT_ARCH_X86_64;
/// Go's and uname's names of this architecture (OCI profiles'
/// `includes.arches`).
pub const ARCH_NAMES: &[&str] = &["amd64", "x86_64"];
/// libseccomp's (and Docker profiles') name of this architecture.
pub const SCMP_ARCH: &str = "SCMP_ARCH_X86_64";

/// `e_machine` of the binaries this backend runs, and its name.
pub const EM_MACHINE: u16 = object::elf::EM_X86_64;
pub const MACHINE_NAME: &str = "x86_64";
/// The `AT_PLATFORM` string (ABI §3.6).
pub const PLATFORM: &[u8] = b"x86_64";
/// The host vDSO's names of the entry table's time functions, in the order
/// `clock_gettime`, `gettimeofday`, `time`, `getcpu` (crate::time).
pub const VDSO_NAMES: [&str; 4] = [
    "__vdso_clock_gettime",
    "__vdso_gettimeofday",
    "__vdso_time",
    "__vdso_getcpu",
];
/// Whether a thread clone must pass `CLONE_SETTLS` (ABI §7.3): not here,
/// where the region is in GS base, not in the thread's TLS.
pub const CLONE_NEEDS_SETTLS: bool = false;

/// Checks the CPU features the kernel side relies on.
pub fn check_cpu() -> Result<(), String> {
    const HWCAP2_FSGSBASE: u64 = 1 << 1;
    // SAFETY: reads the runner's auxiliary vector.
    if unsafe { libc::getauxval(libc::AT_HWCAP2) } & HWCAP2_FSGSBASE == 0 {
        return Err("this CPU or kernel does not allow FSGSBASE instructions in user space (a CPU with FSGSBASE and Linux >= 5.11, which also brings Syscall User Dispatch, are needed)".into());
    }
    Ok(())
}

/// The operations that make a new process as `fork` does (served by
/// crate::thread_ops::fork).
pub const FORK_OPS: &[u32] = &[nr::FORK, nr::VFORK];

/// `arch_prctl` codes (asm/prctl.h; the libc crate does not have them).
const ARCH_SET_GS: u64 = 0x1001;
const ARCH_SET_FS: u64 = 0x1002;
const ARCH_GET_FS: u64 = 0x1003;
const ARCH_GET_GS: u64 = 0x1004;
/// The end of user address space (4-level paging); Linux refuses FS bases
/// at or above it with EPERM.
const TASK_SIZE_MAX: u64 = (1 << 47) - 4096;

fn neg(e: i32) -> i64 {
    -(e as i64)
}

/// Whether the kernel side serves `arch_prctl(code, ...)` itself (the
/// thread pointer and the region register), rather than the host.
pub fn arch_prctl_is_kernel_side(code: u64) -> bool {
    matches!(code, ARCH_SET_GS | ARCH_SET_FS | ARCH_GET_FS | ARCH_GET_GS)
}

/// `arch_prctl(code, addr)` for the thread `kt`.
pub fn arch_prctl(kt: *mut crate::thread::KernelThread, code: u64, addr: u64) -> i64 {
    match code {
        // The program's FS base is loaded by the entry stubs on the way
        // out; record it there.
        // SAFETY: kt is the calling thread's own state; only this thread
        // and its stubs use program_tp.
        ARCH_SET_FS if addr >= TASK_SIZE_MAX => neg(libc::EPERM),
        ARCH_SET_FS => unsafe {
            (*kt).program_tp = addr;
            0
        },
        // SAFETY: as above.
        ARCH_GET_FS => match crate::memory::write_struct(addr, unsafe { &(*kt).program_tp }) {
            Ok(()) => 0,
            Err(e) => neg(e),
        },
        // GS is the XSC thread-region register (ABI §3).
        ARCH_SET_GS => neg(libc::EPERM),
        // SAFETY: as above.
        ARCH_GET_GS => match crate::memory::write_struct(addr, unsafe { &((*kt).region as u64) }) {
            Ok(()) => 0,
            Err(e) => neg(e),
        },
        _ => crate::sys::raw_syscall(nr::ARCH_PRCTL, [code, addr, 0, 0, 0, 0]),
    }
}

/// SUD selector values (linux/prctl.h).
pub const SELECTOR_ALLOW: u8 = 0;
pub const SELECTOR_BLOCK: u8 = 1;

// The callee-saved registers the thread_call stub saves, in the order they
// sit in memory from the frame pointer it passes to Rust.
#[repr(C)]
#[derive(Clone, Copy, Debug, Default)]
pub struct CallerFrame {
    pub r15: u64,
    pub r14: u64,
    pub r13: u64,
    pub r12: u64,
    pub rbx: u64,
    pub rbp: u64,
    /// Where the entry returns to.
    pub rip: u64,
}

/// The register state a new program thread (or a forked child on a new
/// stack) starts with: the caller's callee-saved registers, `rax = 0`,
/// the given stack, FS and GS.
#[repr(C)]
#[derive(Clone, Copy, Debug, Default)]
pub struct ChildStart {
    pub frame: CallerFrame,
    pub rsp: u64,
    pub fs: u64,
    pub gs: u64,
}

impl ChildStart {
    /// Resumes `frame` on `stack` with thread pointer `tp` (FS base) and
    /// ring region `region` (GS base).
    pub fn new(frame: CallerFrame, stack: u64, tp: u64, region: u64) -> ChildStart {
        ChildStart {
            frame,
            rsp: stack,
            fs: tp,
            gs: region,
        }
    }
}

/// Makes what a new thread's TLS must hold before it runs (ABI §7.3):
/// nothing on x86_64.
pub fn prepare_child_tls(_tls: u64, _region: u64) -> Result<(), i32> {
    Ok(())
}

/// The entry stubs' prologue: the callee-saved registers the kernel side
/// uses, pushed with their unwind information (CFI), so debuggers and
/// profilers unwind from the kernel side into the program's frames.
macro_rules! save_callee_saved {
    () => {
        concat!(
            "push rbp\n.cfi_adjust_cfa_offset 8\n.cfi_rel_offset rbp, 0\n",
            "push rbx\n.cfi_adjust_cfa_offset 8\n.cfi_rel_offset rbx, 0\n",
            "push r12\n.cfi_adjust_cfa_offset 8\n.cfi_rel_offset r12, 0\n",
            "push r13\n.cfi_adjust_cfa_offset 8\n.cfi_rel_offset r13, 0\n",
            "push r14\n.cfi_adjust_cfa_offset 8\n.cfi_rel_offset r14, 0\n",
            "push r15\n.cfi_adjust_cfa_offset 8\n.cfi_rel_offset r15, 0",
        )
    };
}

/// The entry stubs' epilogue, undoing [`save_callee_saved`].
macro_rules! restore_callee_saved {
    () => {
        concat!(
            "pop r15\n.cfi_adjust_cfa_offset -8\n.cfi_restore r15\n",
            "pop r14\n.cfi_adjust_cfa_offset -8\n.cfi_restore r14\n",
            "pop r13\n.cfi_adjust_cfa_offset -8\n.cfi_restore r13\n",
            "pop r12\n.cfi_adjust_cfa_offset -8\n.cfi_restore r12\n",
            "pop rbx\n.cfi_adjust_cfa_offset -8\n.cfi_restore rbx\n",
            "pop rbp\n.cfi_adjust_cfa_offset -8\n.cfi_restore rbp",
        )
    };
}

macro_rules! entry_stub {
    ($name:literal, $target:path) => {
        core::arch::global_asm!(
            concat!(".globl ", $name),
            concat!(".type ", $name, ",@function"),
            concat!($name, ":"),
            ".cfi_startproc",
            save_callee_saved!(),
            "mov rdx, rsp",
            "mov r12, gs:[48]",
            // The program's FS base first, then ALLOW: a signal that sees
            // ALLOW takes the program's FS base from the saved copy.
            "rdfsbase r13",
            "mov [r12 + {ptp}], r13",
            "mov byte ptr [r12 + {sel}], {allow}",
            "mov r14, [r12 + {rtp}]",
            "wrfsbase r14",
            "sub rsp, 8",
            ".cfi_adjust_cfa_offset 8",
            "call {target}",
            "add rsp, 8",
            ".cfi_adjust_cfa_offset -8",
            "mov r13, [r12 + {ptp}]",
            "wrfsbase r13",
            "mov byte ptr [r12 + {sel}], {block}",
            restore_callee_saved!(),
            "ret",
            ".cfi_endproc",
            concat!(".size ", $name, ", .-", $name),
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
// the program's FS base still loaded, and switches to the runner's TLS for
// the full `wait_impl` only when the fast path declines: the common call
// costs no FS-base switch.
core::arch::global_asm!(
    ".globl xsc_entry_wait",
    ".type xsc_entry_wait,@function",
    "xsc_entry_wait:",
    ".cfi_startproc",
    save_callee_saved!(),
    "mov r12, gs:[48]",
    "rdfsbase r13",
    "mov [r12 + {ptp}], r13",
    "mov byte ptr [r12 + {sel}], {allow}",
    "mov rbx, rdi",
    "mov r14, rsi",
    "sub rsp, 8",
    ".cfi_adjust_cfa_offset 8",
    "call {fast}",
    "movabs rcx, {declined}",
    "cmp rax, rcx",
    "jne 2f",
    "mov rdi, rbx",
    "mov rsi, r14",
    "mov r15, [r12 + {rtp}]",
    "wrfsbase r15",
    "call {full}",
    "mov r13, [r12 + {ptp}]",
    "wrfsbase r13",
    "2:",
    "add rsp, 8",
    ".cfi_adjust_cfa_offset -8",
    "mov byte ptr [r12 + {sel}], {block}",
    restore_callee_saved!(),
    "ret",
    ".cfi_endproc",
    ".size xsc_entry_wait, .-xsc_entry_wait",
    sel = const KT_SELECTOR,
    ptp = const KT_PROGRAM_TP,
    rtp = const KT_RUNNER_TP,
    allow = const SELECTOR_ALLOW,
    block = const SELECTOR_BLOCK,
    declined = const crate::entry::DECLINED,
    fast = sym crate::entry::wait_fast,
    full = sym crate::entry::wait_impl,
);
entry_stub!("xsc_entry_doorbell", crate::entry::doorbell_impl);
entry_stub!("xsc_entry_thread_call", crate::entry::thread_call_impl);

// The time functions (ABI §5.8) need no TLS: their stubs save the program's
// FS base (where the signal entry looks for it while kernel code runs), set
// the selector to ALLOW (a vDSO fallback may make a system call), call the
// function whose address is in `$target` (crate::time) and set BLOCK again.
// Arguments and the result pass through untouched.
macro_rules! time_stub {
    ($name:literal, $target:path) => {
        core::arch::global_asm!(
            concat!(".globl ", $name),
            concat!(".type ", $name, ",@function"),
            concat!($name, ":"),
            "push r12",
            "mov r12, gs:[48]",
            "rdfsbase rax",
            "mov [r12 + {ptp}], rax",
            "mov byte ptr [r12 + {sel}], {allow}",
            "call qword ptr [rip + {target}]",
            "mov byte ptr [r12 + {sel}], {block}",
            "pop r12",
            "ret",
            concat!(".size ", $name, ", .-", $name),
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
time_stub!("xsc_entry_time", crate::time::TIME);
time_stub!("xsc_entry_getcpu", crate::time::GETCPU);

// The SUD allowed region: the only code from which Syscall User Dispatch
// lets a system call through whatever the selector says. It holds the
// signal-return trampoline and the kernel side's own system-call
// instruction (xsc_kernel_syscall6): Linux checks the allowed region before
// it reads the selector from user memory, so the kernel side's calls skip
// that read. (The trampoline's `syscall` already lets code that jumps into
// the region make any call, so the second instruction weakens nothing; see
// docs/xsc-run.md, guard modes.)
core::arch::global_asm!(
    ".globl xsc_sigreturn",
    ".type xsc_sigreturn,@function",
    ".p2align 4",
    "xsc_sigreturn:",
    "mov eax, 15",
    "syscall",
    "ud2",
    // xsc_kernel_syscall6(nr, a0, a1, a2, a3, a4, a5) -> raw result.
    ".globl xsc_kernel_syscall6",
    ".type xsc_kernel_syscall6,@function",
    ".p2align 4",
    "xsc_kernel_syscall6:",
    "mov rax, rdi",
    "mov rdi, rsi",
    "mov rsi, rdx",
    "mov rdx, rcx",
    "mov r10, r8",
    "mov r8, r9",
    "mov r9, [rsp + 8]",
    "syscall",
    // What the host reports as the call's instruction pointer
    // (seccomp_data.instruction_pointer); crate::audit judges with it.
    ".globl xsc_kernel_syscall6_ret",
    "xsc_kernel_syscall6_ret:",
    "ret",
    ".globl xsc_sigreturn_end",
    "xsc_sigreturn_end:",
);

// The handler the kernel calls for every signal the program catches:
// switch to kernel state, run the Rust dispatcher, switch back.
// xsc_signal_dispatch(sig, info, uctx, kt, interrupted_tp, interrupted_selector)
core::arch::global_asm!(
    ".globl xsc_signal_entry",
    ".type xsc_signal_entry,@function",
    "xsc_signal_entry:",
    "push rbx",
    "push r12",
    "push r13",
    "push r14",
    "sub rsp, 8",
    "rdgsbase rax",
    "test rax, rax",
    "jz 2f",
    "mov r12, [rax + 48]",
    "movzx r13d, byte ptr [r12 + {sel}]",
    "mov byte ptr [r12 + {sel}], {allow}",
    "rdfsbase r14",
    "mov rax, [r12 + {rtp}]",
    "wrfsbase rax",
    "mov rcx, r12",
    "mov r8, r14",
    "mov r9, r13",
    "call {dispatch}",
    "wrfsbase r14",
    "mov byte ptr [r12 + {sel}], r13b",
    "jmp 3f",
    "2:",
    // A signal on a thread without a ring region (a kernel thread): FS is
    // already the runner's.
    "xor ecx, ecx",
    "xor r8d, r8d",
    "xor r9d, r9d",
    "call {dispatch}",
    "3:",
    "add rsp, 8",
    "pop r14",
    "pop r13",
    "pop r12",
    "pop rbx",
    "ret",
    ".size xsc_signal_entry, .-xsc_signal_entry",
    sel = const KT_SELECTOR,
    rtp = const KT_RUNNER_TP,
    allow = const SELECTOR_ALLOW,
    dispatch = sym crate::signals::xsc_signal_dispatch,
);

// xsc_call_program_handler(handler, sig, info, uctx, program_tp, kt):
// run a program's signal handler in program state.
core::arch::global_asm!(
    ".globl xsc_call_program_handler",
    ".type xsc_call_program_handler,@function",
    "xsc_call_program_handler:",
    "push rbx",
    "push r12",
    "push r13",
    "mov rbx, r9",
    "mov r12, rdi",
    "rdfsbase r13",
    "wrfsbase r8",
    "mov rdi, rsi",
    "mov rsi, rdx",
    "mov rdx, rcx",
    "mov byte ptr [rbx + {sel}], {block}",
    "call r12",
    "mov byte ptr [rbx + {sel}], {allow}",
    "wrfsbase r13",
    "pop r13",
    "pop r12",
    "pop rbx",
    "ret",
    ".size xsc_call_program_handler, .-xsc_call_program_handler",
    sel = const KT_SELECTOR,
    allow = const SELECTOR_ALLOW,
    block = const SELECTOR_BLOCK,
);

// xsc_enter_program(entry, sp, kt, region): start the program's main thread
// the way Linux starts a static binary (all registers zero but rsp, rdx = 0
// meaning no rtld_fini). Never returns.
core::arch::global_asm!(
    ".globl xsc_enter_program",
    ".type xsc_enter_program,@function",
    "xsc_enter_program:",
    "wrgsbase rcx",
    "xor eax, eax",
    "wrfsbase rax",
    "mov rsp, rsi",
    "mov r11, rdi",
    "mov byte ptr [rdx + {sel}], {block}",
    "xor ebx, ebx",
    "xor ecx, ecx",
    "xor edx, edx",
    "xor esi, esi",
    "xor edi, edi",
    "xor ebp, ebp",
    "xor r8d, r8d",
    "xor r9d, r9d",
    "xor r10d, r10d",
    "xor r12d, r12d",
    "xor r13d, r13d",
    "xor r14d, r14d",
    "xor r15d, r15d",
    "jmp r11",
    sel = const KT_SELECTOR,
    block = const SELECTOR_BLOCK,
);

// xsc_enter_child(start, kt) -> exit code: save the runner's registers and
// stack in kt, then become a program thread: the caller's callee-saved
// registers, rax = 0, the new stack, FS and GS. Returns (through
// xsc_resume_runner) when that program thread ends.
core::arch::global_asm!(
    ".globl xsc_enter_child",
    ".type xsc_enter_child,@function",
    "xsc_enter_child:",
    "push rbp",
    "push rbx",
    "push r12",
    "push r13",
    "push r14",
    "push r15",
    "mov [rsi + {rsp_slot}], rsp",
    "mov rax, [rdi + 64]",
    "wrfsbase rax",
    "mov rax, [rdi + 72]",
    "wrgsbase rax",
    "mov byte ptr [rsi + {sel}], {block}",
    "mov r15, [rdi]",
    "mov r14, [rdi + 8]",
    "mov r13, [rdi + 16]",
    "mov r12, [rdi + 24]",
    "mov rbx, [rdi + 32]",
    "mov rbp, [rdi + 40]",
    "mov r11, [rdi + 48]",
    "mov rsp, [rdi + 56]",
    "xor eax, eax",
    "xor ecx, ecx",
    "xor edx, edx",
    "xor esi, esi",
    "xor edi, edi",
    "xor r8d, r8d",
    "xor r9d, r9d",
    "xor r10d, r10d",
    "jmp r11",
    ".size xsc_enter_child, .-xsc_enter_child",
    // xsc_resume_runner(kt, code): back to where xsc_enter_child was called.
    ".globl xsc_resume_runner",
    ".type xsc_resume_runner,@function",
    "xsc_resume_runner:",
    "mov rsp, [rdi + {rsp_slot}]",
    "mov eax, esi",
    "pop r15",
    "pop r14",
    "pop r13",
    "pop r12",
    "pop rbx",
    "pop rbp",
    "ret",
    ".size xsc_resume_runner, .-xsc_resume_runner",
    rsp_slot = const KT_RUNNER_SP,
    sel = const KT_SELECTOR,
    block = const SELECTOR_BLOCK,
);

// xsc_copy_from_program(dst, src, len) -> 0, or 1 if reading `src` faulted.
// A copy the kernel side makes of program memory without a system call:
// a fault on the one instruction that touches program memory is caught
// by the signal entry (fix_copy_fault), which resumes at the fixup label
// (as Linux's exception tables do for copy_from_user).
core::arch::global_asm!(
    ".globl xsc_copy_from_program",
    ".type xsc_copy_from_program,@function",
    "xsc_copy_from_program:",
    "mov rcx, rdx",
    ".globl xsc_copy_from_program_insn",
    "xsc_copy_from_program_insn:",
    "rep movsb",
    "xor eax, eax",
    "ret",
    ".globl xsc_copy_from_program_fixup",
    "xsc_copy_from_program_fixup:",
    "mov eax, 1",
    "ret",
    ".size xsc_copy_from_program, .-xsc_copy_from_program",
    // xsc_copy_to_program(dst, src, len): the same for a write into
    // program memory.
    ".globl xsc_copy_to_program",
    ".type xsc_copy_to_program,@function",
    "xsc_copy_to_program:",
    "mov rcx, rdx",
    ".globl xsc_copy_to_program_insn",
    "xsc_copy_to_program_insn:",
    "rep movsb",
    "xor eax, eax",
    "ret",
    ".globl xsc_copy_to_program_fixup",
    "xsc_copy_to_program_fixup:",
    "mov eax, 1",
    "ret",
    ".size xsc_copy_to_program, .-xsc_copy_to_program",
);

/// The calling program thread's ring region: GS base (ABI §3).
///
/// # Safety
/// Only on program threads, whose GS base the kernel side set to their
/// region.
pub unsafe fn current_region() -> *mut xsc_abi::RingRegion {
    let region: *mut xsc_abi::RingRegion;
    core::arch::asm!("mov {}, gs:[0]", out(reg) region, options(nostack, readonly));
    region
}

/// The calling thread's thread pointer (FS base).
pub fn thread_pointer() -> u64 {
    let v: u64;
    // SAFETY: rdfsbase only reads a register; FSGSBASE support is checked at
    // start-up (crate::guard::check_cpu).
    unsafe { core::arch::asm!("rdfsbase {}", out(reg) v, options(nomem, nostack)) };
    v
}

/// The instruction pointer of a signal's interrupted context.
///
/// # Safety
/// `uctx` must be the `ucontext_t` the host kernel passed to a handler.
pub unsafe fn interrupted_pc(uctx: *mut libc::c_void) -> *mut u64 {
    let uc = uctx as *mut libc::ucontext_t;
    &mut (*uc).uc_mcontext.gregs[libc::REG_RIP as usize] as *mut i64 as *mut u64
}

/// Makes `v` the calling thread's ring region for the program and the
/// signal entry: its GS base.
///
/// # Safety
/// Nothing in the runner uses GS; the program relies on it pointing at its
/// ring region (or 0 for a thread that is not a program thread).
pub unsafe fn set_thread_region(v: u64) {
    core::arch::asm!("wrgsbase {}", in(reg) v, options(nomem, nostack));
}

/// The system-call instruction is 2 bytes (`0f 05`, `0f 34`, `cd 80`);
/// the kernel reports the address after it.
pub const SYSCALL_INSN_LEN: u64 = 2;
