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

use crate::thread::{KT_PROGRAM_FS, KT_RUNNER_FS, KT_RUNNER_RSP, KT_SELECTOR};

/// This architecture in the ABI's terms.
pub const ARCH: xsc_abi::ops::Arch = xsc_abi::ops::Arch::X86_64;
/// The ABI's operation numbers of this architecture (its Linux system-call
/// numbers) and the `syscalls` crate's table of their names.
pub use syscalls::x86_64::Sysno;
pub use xsc_abi::ops::x86_64 as nr;
/// `AUDIT_ARCH_*` of this architecture (linux/audit.h): what a seccomp
/// filter sees in `seccomp_data.arch` for its calls.
pub const AUDIT_ARCH: u32 = crate::bpf::AUDIT_ARCH_X86_64;
/// libseccomp's (and Docker profiles') name of this architecture.
pub const SCMP_ARCH: &str = "SCMP_ARCH_X86_64";

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
            "mov [r12 + {pfs}], r13",
            "mov byte ptr [r12 + {sel}], {allow}",
            "mov r14, [r12 + {rfs}]",
            "wrfsbase r14",
            "sub rsp, 8",
            ".cfi_adjust_cfa_offset 8",
            "call {target}",
            "add rsp, 8",
            ".cfi_adjust_cfa_offset -8",
            "mov r13, [r12 + {pfs}]",
            "wrfsbase r13",
            "mov byte ptr [r12 + {sel}], {block}",
            restore_callee_saved!(),
            "ret",
            ".cfi_endproc",
            concat!(".size ", $name, ", .-", $name),
            sel = const KT_SELECTOR,
            pfs = const KT_PROGRAM_FS,
            rfs = const KT_RUNNER_FS,
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
    "mov [r12 + {pfs}], r13",
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
    "mov r15, [r12 + {rfs}]",
    "wrfsbase r15",
    "call {full}",
    "mov r13, [r12 + {pfs}]",
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
    pfs = const KT_PROGRAM_FS,
    rfs = const KT_RUNNER_FS,
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
            "mov [r12 + {pfs}], rax",
            "mov byte ptr [r12 + {sel}], {allow}",
            "call qword ptr [rip + {target}]",
            "mov byte ptr [r12 + {sel}], {block}",
            "pop r12",
            "ret",
            concat!(".size ", $name, ", .-", $name),
            sel = const KT_SELECTOR,
            pfs = const KT_PROGRAM_FS,
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
// xsc_signal_dispatch(sig, info, uctx, kt, interrupted_fs, interrupted_selector)
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
    "mov rax, [r12 + {rfs}]",
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
    rfs = const KT_RUNNER_FS,
    allow = const SELECTOR_ALLOW,
    dispatch = sym crate::signals::xsc_signal_dispatch,
);

// xsc_call_program_handler(handler, sig, info, uctx, program_fs, kt):
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
    rsp_slot = const KT_RUNNER_RSP,
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
);

extern "C" {
    fn xsc_copy_from_program(dst: *mut u8, src: u64, len: usize) -> u64;
    fn xsc_copy_from_program_insn();
    fn xsc_copy_from_program_fixup();
    pub fn xsc_entry_wait();
    pub fn xsc_entry_doorbell();
    pub fn xsc_entry_thread_call();
    pub fn xsc_entry_clock_gettime();
    pub fn xsc_entry_gettimeofday();
    pub fn xsc_entry_time();
    pub fn xsc_entry_getcpu();
    pub fn xsc_sigreturn();
    pub fn xsc_sigreturn_end();
    pub fn xsc_kernel_syscall6(
        nr: u64,
        a0: u64,
        a1: u64,
        a2: u64,
        a3: u64,
        a4: u64,
        a5: u64,
    ) -> i64;
    pub fn xsc_signal_entry();
    pub fn xsc_kernel_syscall6_ret();
    pub fn xsc_call_program_handler(
        handler: u64,
        sig: i32,
        info: *mut libc::siginfo_t,
        uctx: *mut libc::c_void,
        program_fs: u64,
        kt: *mut crate::thread::KernelThread,
    );
    pub fn xsc_enter_program(
        entry: u64,
        sp: u64,
        kt: *mut crate::thread::KernelThread,
        region: *mut xsc_abi::RingRegion,
    ) -> !;
    pub fn xsc_enter_child(start: *const ChildStart, kt: *mut crate::thread::KernelThread) -> i32;
    pub fn xsc_resume_runner(kt: *mut crate::thread::KernelThread, code: i32) -> !;
}

/// Copies `dst.len()` bytes of program memory at `src`; false if that
/// memory is not readable. Only while SIGSEGV and SIGBUS are not blocked
/// on the thread (a fault with them blocked kills the process).
///
/// # Safety
/// The caller must know SIGSEGV and SIGBUS are deliverable to this thread
/// (`KernelThread::fault_reads`) and that the signal entry is the host
/// action of both (crate::signals::init).
pub unsafe fn copy_from_program(dst: &mut [u8], src: u64) -> bool {
    xsc_copy_from_program(dst.as_mut_ptr(), src, dst.len()) == 0
}

/// If the fault described by `uctx` happened in [`copy_from_program`],
/// makes it resume at its fixup (which returns "faulted") and says so.
///
/// # Safety
/// `uctx` must be the `ucontext_t` the host kernel passed to a SIGSEGV or
/// SIGBUS handler.
pub unsafe fn fix_copy_fault(uctx: *mut libc::c_void) -> bool {
    let uc = uctx as *mut libc::ucontext_t;
    let rip = &mut (*uc).uc_mcontext.gregs[libc::REG_RIP as usize];
    if *rip as u64 == xsc_copy_from_program_insn as *const () as u64 {
        *rip = xsc_copy_from_program_fixup as *const () as i64;
        true
    } else {
        false
    }
}

/// The calling thread's FS base.
pub fn read_fs_base() -> u64 {
    let v: u64;
    // SAFETY: rdfsbase only reads a register; FSGSBASE support is checked at
    // start-up (crate::guard::check_cpu).
    unsafe { core::arch::asm!("rdfsbase {}", out(reg) v, options(nomem, nostack)) };
    v
}

/// Sets the calling thread's GS base.
///
/// # Safety
/// Nothing in the runner uses GS; the program relies on it pointing at its
/// ring region (or 0 for a thread that is not a program thread).
pub unsafe fn write_gs_base(v: u64) {
    core::arch::asm!("wrgsbase {}", in(reg) v, options(nomem, nostack));
}

/// The system-call instruction is 2 bytes (`0f 05`, `0f 34`, `cd 80`);
/// the kernel reports the address after it.
pub const SYSCALL_INSN_LEN: u64 = 2;
