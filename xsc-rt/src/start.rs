//! Program start for binaries built on xsc-rt alone (feature `start`).
//! `_start` (assembly, in `arch`) has already applied the static-pie
//! binary's relative relocations; here we find argc, argv and envp, call
//! the program's `xsc_main(argc, argv, envp)` and end the process with its
//! return value.

extern "C" {
    fn xsc_main(argc: isize, argv: *const *const u8, envp: *const *const u8) -> i32;
}

/// # Safety
/// Called once, by `_start`, with the initial stack pointer the kernel set.
pub(crate) unsafe extern "C" fn start_c(sp: *const usize) -> ! {
    let argc = *sp;
    let argv = sp.add(1) as *const *const u8;
    let envp = argv.add(argc + 1);
    // Keep the note alive through --gc-sections.
    #[cfg(feature = "note")]
    core::ptr::read_volatile(&crate::note::XSC_ABI_NOTE.namesz);
    let code = xsc_main(argc as isize, argv, envp);
    crate::sys::exit_group(code)
}

/// The prebuilt `core` refers to Rust's unwinding personality even in a
/// `panic = "abort"` program, which never unwinds; programs on xsc-rt alone
/// have no unwinder, so reaching this would be a bug: end the process.
#[no_mangle]
extern "C" fn rust_eh_personality() -> ! {
    crate::sys::exit_group(134)
}
