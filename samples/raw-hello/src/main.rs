//! raw-hello: an XSC program built on xsc-rt alone (no libc, no std).
//!
//! `raw-hello FILE CODE`: writes a greeting to stdout, reads FILE and
//! writes its contents, starts a thread that writes a line of its own,
//! waits for it, and exits with CODE.
#![no_std]
#![no_main]

use core::fmt::Write as _;
use core::sync::atomic::AtomicU32;
use xsc_rt::sys;

fn out(s: &[u8]) {
    let _ = sys::write_all(1, s);
}

fn fail(msg: &str, errno: i32) -> i32 {
    let _ = writeln!(sys::FdWriter(2), "raw-hello: {msg}: errno {errno}");
    1
}

fn parse_u32(s: &[u8]) -> Option<u32> {
    let mut v: u32 = 0;
    if s.is_empty() {
        return None;
    }
    for &c in s {
        if !c.is_ascii_digit() {
            return None;
        }
        v = v.checked_mul(10)?.checked_add((c - b'0') as u32)?;
    }
    Some(v)
}

/// # Safety
/// `p` must point to a NUL-terminated string.
unsafe fn cstr<'a>(p: *const u8) -> &'a core::ffi::CStr {
    core::ffi::CStr::from_ptr(p as *const core::ffi::c_char)
}

extern "C" fn thread_main(arg: usize) -> i32 {
    let _ = arg;
    out(b"hello from a second thread\n");
    0
}

static mut THREAD_STACK: [u8; 64 * 1024] = [0; 64 * 1024];
static THREAD_TID: AtomicU32 = AtomicU32::new(0);

#[no_mangle]
extern "C" fn xsc_main(argc: isize, argv: *const *const u8, _envp: *const *const u8) -> i32 {
    out(b"hello from raw-hello\n");
    if argc < 3 {
        let _ = sys::write_all(2, b"usage: raw-hello FILE EXIT_CODE\n");
        return 2;
    }
    // SAFETY: the kernel passes argc valid argument strings.
    let (path, code) = unsafe { (cstr(*argv.add(1)), cstr(*argv.add(2))) };
    let Some(code) = parse_u32(code.to_bytes()) else {
        let _ = sys::write_all(2, b"raw-hello: EXIT_CODE must be a number\n");
        return 2;
    };

    let fd = match sys::open(path, sys::O_RDONLY) {
        Ok(fd) => fd,
        Err(e) => return fail("cannot open FILE", e),
    };
    out(b"file says: ");
    let mut buf = [0u8; 256];
    loop {
        match sys::read(fd, &mut buf) {
            Ok(0) => break,
            Ok(n) => out(&buf[..n]),
            Err(e) => return fail("read failed", e),
        }
    }
    let _ = sys::close(fd);

    // SAFETY: the stack is used by exactly one thread, which is joined
    // before xsc_main returns.
    let stack = unsafe { &mut *core::ptr::addr_of_mut!(THREAD_STACK) };
    // SAFETY: thread_main only writes to stdout.
    match unsafe { xsc_rt::thread::spawn(stack, &THREAD_TID, thread_main, 0) } {
        Ok(t) => t.join(),
        Err(e) => return fail("cannot start a thread", e),
    }
    out(b"the thread is done; exiting with the chosen code\n");
    code as i32
}

#[panic_handler]
fn panic(_: &core::panic::PanicInfo) -> ! {
    let _ = sys::write_all(2, b"raw-hello: panic\n");
    sys::exit_group(101)
}
