//! raw-syscall: a broken XSC program. It says hello through its ring, then
//! executes a raw system call, which an XSC kernel must stop with SIGSYS.
//! If it ever gets past that, it says so and exits 0, which the tests treat
//! as a failure of the trap guard.
//!
//! `raw-syscall [MODE]`:
//! - `syscall` (default): getpid with the architecture's system-call
//!   instruction (`syscall` on x86_64, `svc #0` on aarch64);
//! - `int80` (x86_64 only): `int 0x80` with the i386 getpid;
//! - `defeat-dispatch`: first switches Syscall User Dispatch off for this
//!   thread by writing ALLOW into the kernel's selector byte (reachable
//!   through the ring region, since the kernel shares the address space),
//!   then the raw call: the default guard cannot stop this, the seccomp
//!   guard must.
#![no_std]
#![no_main]

use xsc_rt::sys;

#[cfg(target_arch = "x86_64")]
#[inline(never)]
#[no_mangle]
fn forbidden_getpid() -> isize {
    let r: isize;
    // SAFETY: getpid has no arguments and no effects; executing it is the
    // whole point of this negative sample.
    unsafe {
        core::arch::asm!("syscall", inlateout("rax") 39isize => r, out("rcx") _, out("r11") _, options(nostack));
    }
    r
}

#[cfg(target_arch = "aarch64")]
#[inline(never)]
#[no_mangle]
fn forbidden_getpid() -> isize {
    let r: isize;
    // SAFETY: as above: getpid is 172 on aarch64, its number in x8.
    unsafe {
        core::arch::asm!("svc #0", in("x8") 172usize, lateout("x0") r, options(nostack));
    }
    r
}

#[cfg(target_arch = "x86_64")]
#[inline(never)]
#[no_mangle]
fn forbidden_int80_getpid() -> isize {
    let r: isize;
    // SAFETY: as above, with the i386 convention (getpid is 20 there).
    unsafe {
        core::arch::asm!("int 0x80", inlateout("rax") 20isize => r, options(nostack));
    }
    r
}

/// aarch64 has one system-call instruction: `int80` is a usage error.
#[cfg(target_arch = "aarch64")]
fn forbidden_int80_getpid() -> isize {
    let _ = sys::write_all(2, b"raw-syscall: int80 is x86_64 only\n");
    sys::exit_group(2)
}

fn arg_is(argc: isize, argv: *const *const u8, want: &[u8]) -> bool {
    if argc < 2 {
        return false;
    }
    // SAFETY: argv[1] exists and is NUL-terminated.
    let a = unsafe { core::ffi::CStr::from_ptr(*argv.add(1) as *const core::ffi::c_char) };
    a.to_bytes() == want
}

#[no_mangle]
extern "C" fn xsc_main(argc: isize, argv: *const *const u8, _: *const *const u8) -> i32 {
    let _ = sys::write_all(1, b"about to make a raw system call\n");
    let pid = if arg_is(argc, argv, b"int80") {
        forbidden_int80_getpid()
    } else {
        if arg_is(argc, argv, b"defeat-dispatch") {
            let region = xsc_rt::Ring::current().region();
            // SAFETY: deliberately scribbling on the kernel's private state
            // (the selector byte is the first byte of it in xsc-run), which
            // the shared address space allows. A kernel that keeps nothing
            // in program memory (Linux with the XSC patches) leaves
            // kernel_private 0: nothing to scribble on there.
            unsafe {
                let private = (*region).header.kernel_private as *mut u8;
                if !private.is_null() {
                    *private = 0;
                }
            }
        }
        forbidden_getpid()
    };
    let _ = sys::write_all(1, b"the raw system call was NOT stopped\n");
    let _ = pid;
    0
}

#[panic_handler]
fn panic(_: &core::panic::PanicInfo) -> ! {
    sys::exit_group(101)
}
