//! x86_64: the GS base of every XSC thread points at its ring region, whose
//! first word holds the region's own address (ABI §3).

use xsc_abi::{EntryTable, RingRegion, RingRegionHeader};

/// The system-call numbers of this architecture.
pub use xsc_abi::ops::x86_64 as nr;

/// The calling thread's ring region.
#[inline(always)]
pub fn current_region() -> *mut RingRegion {
    let region: *mut RingRegion;
    // SAFETY: the XSC kernel sets GS base to the thread's ring region before
    // the thread runs any program code, and `self_ptr` is at offset 0. The
    // load reads memory only.
    unsafe {
        core::arch::asm!("mov {}, gs:[0]", out(reg) region, options(nostack, readonly, preserves_flags));
    }
    region
}

// `xsc_restore_rt`: the libc's signal restorer (`__restore_rt`, musl patch
// 0005) jumps here with the stack pointer at the signal frame; this
// continues at the kernel's signal-return trampoline from the entry table
// (ABI §5.7), using only rax, which the frame does not need. An XSC kernel
// installs that trampoline as the restorer itself: this is reached only if
// a handler returns to `__restore_rt` explicitly.
core::arch::global_asm!(
    ".globl xsc_restore_rt",
    ".hidden xsc_restore_rt",
    ".type xsc_restore_rt,@function",
    "xsc_restore_rt:",
    "mov rax, gs:[{self_ptr}]",
    "mov rax, [rax + {entry_table}]",
    "jmp qword ptr [rax + {sigreturn}]",
    ".size xsc_restore_rt, .-xsc_restore_rt",
    self_ptr = const core::mem::offset_of!(RingRegionHeader, self_ptr),
    entry_table = const core::mem::offset_of!(RingRegionHeader, entry_table),
    sigreturn = const core::mem::offset_of!(EntryTable, sigreturn),
);

/// A pause hint for spin loops.
#[inline(always)]
pub fn cpu_relax() {
    core::hint::spin_loop();
}

// `xsc_rt_clone_call(thread_call, region, entry, child_fn, child_arg)`:
// calls `thread_call(region, entry)` for a clone that creates a thread.
// In the parent it returns the result. In the child, `thread_call` returns
// 0 at the same return address with the stack pointer set to the new stack
// and the callee-saved registers as they were at the call (ABI §7.3), so
// the child finds `child_fn` in r12 and `child_arg` in rbx, calls
// `child_fn(child_arg)` and ends the thread with its return value.
core::arch::global_asm!(
    ".globl xsc_rt_clone_call",
    ".hidden xsc_rt_clone_call",
    ".type xsc_rt_clone_call,@function",
    "xsc_rt_clone_call:",
    "push rbx",
    "push r12",
    "push rbp",
    "mov r12, rcx",
    "mov rbx, r8",
    "mov rax, rdi",
    "mov rdi, rsi",
    "mov rsi, rdx",
    "call rax",
    "test rax, rax",
    "jz 2f",
    "pop rbp",
    "pop r12",
    "pop rbx",
    "ret",
    "2:",
    "xor ebp, ebp",
    "mov rdi, rbx",
    "call r12",
    "mov edi, eax",
    "call {exit}",
    "ud2",
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

// `_start`: apply the static-pie binary's own R_X86_64_RELATIVE
// relocations, then hand the initial stack pointer to the runtime's start
// code. Written in assembly because nothing compiled from Rust may run
// before relocation (a debug build calls through the GOT even for local
// functions). `__ehdr_start` (the load base) and `_DYNAMIC` are linker-
// defined and reached PC-relatively, so they need no relocation themselves.
#[cfg(feature = "start")]
core::arch::global_asm!(
    ".globl _start",
    ".type _start,@function",
    "_start:",
    "xor ebp, ebp",
    "mov r12, rsp",
    "and rsp, -16",
    "lea rdx, [rip + __ehdr_start]",
    "lea rsi, [rip + _DYNAMIC]",
    "xor r8d, r8d",
    "xor r9d, r9d",
    "mov r10d, 24",
    "2:",
    "mov rax, [rsi]",
    "test rax, rax",
    "jz 6f",
    "cmp rax, 7",
    "jne 3f",
    "mov r8, [rsi + 8]",
    "3:",
    "cmp rax, 8",
    "jne 4f",
    "mov r9, [rsi + 8]",
    "4:",
    "cmp rax, 9",
    "jne 5f",
    "mov r10, [rsi + 8]",
    "5:",
    "add rsi, 16",
    "jmp 2b",
    "6:",
    "add r8, rdx",
    "add r9, r8",
    "7:",
    "cmp r8, r9",
    "jae 9f",
    "cmp dword ptr [r8 + 8], 8",
    "jne 8f",
    "mov rcx, [r8 + 16]",
    "add rcx, rdx",
    "mov rax, [r8]",
    "mov [rdx + rax], rcx",
    "8:",
    "add r8, r10",
    "jmp 7b",
    "9:",
    "mov rdi, r12",
    "call {start}",
    "ud2",
    ".size _start, .-_start",
    start = sym crate::start::start_c,
);

// memcpy, strlen and friends for programs without a libc. `rep movsb`/`rep stosb`
// are fast on every x86_64 CPU with ERMSB and correct on all; written in
// assembly so the compiler cannot turn them back into calls to themselves.
#[cfg(feature = "mem")]
core::arch::global_asm!(
    ".globl memcpy",
    ".type memcpy,@function",
    "memcpy:",
    "mov rax, rdi",
    "mov rcx, rdx",
    "rep movsb",
    "ret",
    ".globl memmove",
    ".type memmove,@function",
    "memmove:",
    "mov rax, rdi",
    "mov rcx, rdx",
    "cmp rdi, rsi",
    "jbe 3f",
    "lea rsi, [rsi + rdx - 1]",
    "lea rdi, [rdi + rdx - 1]",
    "std",
    "rep movsb",
    "cld",
    "ret",
    "3:",
    "rep movsb",
    "ret",
    ".globl memset",
    ".type memset,@function",
    "memset:",
    "mov r8, rdi",
    "mov eax, esi",
    "mov rcx, rdx",
    "rep stosb",
    "mov rax, r8",
    "ret",
    ".globl memcmp",
    ".type memcmp,@function",
    ".globl bcmp",
    ".type bcmp,@function",
    "memcmp:",
    "bcmp:",
    "xor eax, eax",
    "mov rcx, rdx",
    "test rcx, rcx",
    "jz 4f",
    "repe cmpsb",
    "je 4f",
    "movzx eax, byte ptr [rdi - 1]",
    "movzx ecx, byte ptr [rsi - 1]",
    "sub eax, ecx",
    "4:",
    "ret",
    ".globl strlen",
    ".type strlen,@function",
    "strlen:",
    "mov rax, rdi",
    "5:",
    "cmp byte ptr [rax], 0",
    "je 6f",
    "inc rax",
    "jmp 5b",
    "6:",
    "sub rax, rdi",
    "ret",
);
