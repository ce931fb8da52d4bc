//! raw-syscall: a broken XSC program. It says hello through its ring, then
//! executes a raw `syscall` instruction (getpid), which an XSC kernel must
//! stop with SIGSYS. If it ever gets past that, it says so and exits 0,
//! which the tests treat as a failure of the trap guard.
#![no_std]
#![no_main]

use xsc_rt::sys;

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

#[no_mangle]
extern "C" fn xsc_main(_: isize, _: *const *const u8, _: *const *const u8) -> i32 {
    let _ = sys::write_all(1, b"about to make a raw system call\n");
    let pid = forbidden_getpid();
    let _ = sys::write_all(1, b"the raw system call was NOT stopped\n");
    let _ = pid;
    0
}

#[panic_handler]
fn panic(_: &core::panic::PanicInfo) -> ! {
    sys::exit_group(101)
}
