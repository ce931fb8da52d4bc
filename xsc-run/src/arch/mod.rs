//! Architecture specifics of the kernel side: x86_64 (native on this
//! host) and aarch64 (run under qemu's user mode here, docs/xsc-run.md).
//! Each backend defines, in assembly, the symbols declared below, and in
//! Rust its registers' part (`ChildStart`, the thread pointer, the region
//! register, `interrupted_pc`) and its facts (`nr`, `Sysno`, ...).

#[cfg(target_arch = "x86_64")]
mod x86_64;
#[cfg(target_arch = "x86_64")]
pub use self::x86_64::*;

#[cfg(target_arch = "aarch64")]
mod aarch64;
#[cfg(target_arch = "aarch64")]
pub use self::aarch64::*;

#[cfg(not(any(target_arch = "x86_64", target_arch = "aarch64")))]
compile_error!("xsc-run runs on x86_64 and aarch64 Linux hosts only (see docs/ABI.md)");

// What every backend's assembly defines (the entry table's functions, the
// signal entry and trampoline, the jumps into and out of program code,
// the fault-recovering copies).
extern "C" {
    fn xsc_copy_from_program(dst: *mut u8, src: u64, len: usize) -> u64;
    fn xsc_copy_from_program_insn();
    fn xsc_copy_from_program_fixup();
    fn xsc_copy_to_program(dst: u64, src: *const u8, len: usize) -> u64;
    fn xsc_copy_to_program_insn();
    fn xsc_copy_to_program_fixup();
    pub fn xsc_entry_wait();
    pub fn xsc_entry_doorbell();
    pub fn xsc_entry_thread_call();
    pub fn xsc_entry_clock_gettime();
    pub fn xsc_entry_gettimeofday();
    /// x86_64 only (aarch64 has no `time` call, ABI §5.8).
    #[cfg(target_arch = "x86_64")]
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
        program_tp: u64,
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

/// Copies `src` into program memory at `dst`; false if that memory is not
/// writable. As [`copy_from_program`].
///
/// # Safety
/// As for [`copy_from_program`].
pub unsafe fn copy_to_program(dst: u64, src: &[u8]) -> bool {
    xsc_copy_to_program(dst, src.as_ptr(), src.len()) == 0
}

/// If the fault described by `uctx` happened in [`copy_from_program`] or
/// [`copy_to_program`], makes it resume at its fixup (which returns
/// "faulted"), as Linux's exception tables do, and says so.
///
/// # Safety
/// `uctx` must be the `ucontext_t` the host kernel passed to a SIGSEGV or
/// SIGBUS handler.
pub unsafe fn fix_copy_fault(uctx: *mut libc::c_void) -> bool {
    let pc = interrupted_pc(uctx);
    let fixups = [
        (
            xsc_copy_from_program_insn as *const () as u64,
            xsc_copy_from_program_fixup as *const () as u64,
        ),
        (
            xsc_copy_to_program_insn as *const () as u64,
            xsc_copy_to_program_fixup as *const () as u64,
        ),
    ];
    match fixups.iter().find(|(insn, _)| *insn == *pc) {
        Some(&(_, fixup)) => {
            *pc = fixup;
            true
        }
        None => false,
    }
}
