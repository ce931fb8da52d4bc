//! Typed wrappers for the few calls a program without a libc needs.
//! Results are `Ok(value)` or `Err(errno)`.

use crate::arch::nr;
use crate::syscall::*;

fn check(r: isize) -> Result<usize, i32> {
    if (-4095..0).contains(&r) {
        Err(-r as i32)
    } else {
        Ok(r as usize)
    }
}

pub const AT_FDCWD: i32 = -100;
pub const O_RDONLY: i32 = 0;

pub fn write(fd: i32, buf: &[u8]) -> Result<usize, i32> {
    // SAFETY: buf is valid for reads of buf.len() bytes.
    check(unsafe { syscall3(nr::WRITE, fd as usize, buf.as_ptr() as usize, buf.len()) })
}

/// Writes all of `buf`, retrying short writes.
pub fn write_all(fd: i32, mut buf: &[u8]) -> Result<(), i32> {
    while !buf.is_empty() {
        let n = write(fd, buf)?;
        buf = &buf[n..];
    }
    Ok(())
}

pub fn read(fd: i32, buf: &mut [u8]) -> Result<usize, i32> {
    // SAFETY: buf is valid for writes of buf.len() bytes.
    check(unsafe { syscall3(nr::READ, fd as usize, buf.as_mut_ptr() as usize, buf.len()) })
}

/// Opens a NUL-terminated path relative to the current directory.
pub fn open(path: &core::ffi::CStr, flags: i32) -> Result<i32, i32> {
    // SAFETY: path is NUL-terminated.
    check(unsafe {
        syscall4(
            nr::OPENAT,
            AT_FDCWD as usize,
            path.as_ptr() as usize,
            flags as usize,
            0,
        )
    })
    .map(|fd| fd as i32)
}

pub fn close(fd: i32) -> Result<(), i32> {
    // SAFETY: no pointers.
    check(unsafe { syscall1(nr::CLOSE, fd as usize) }).map(|_| ())
}

pub fn getpid() -> i32 {
    // SAFETY: no arguments.
    unsafe { syscall0(nr::GETPID) as i32 }
}

pub fn getppid() -> i32 {
    // SAFETY: no arguments.
    unsafe { syscall0(nr::GETPPID) as i32 }
}

pub fn gettid() -> i32 {
    // SAFETY: no arguments.
    unsafe { syscall0(nr::GETTID) as i32 }
}

/// Anonymous private read-write memory.
pub fn mmap_anon(len: usize) -> Result<*mut u8, i32> {
    const PROT_RW: usize = 3;
    const MAP_PRIVATE_ANON: usize = 0x22;
    // SAFETY: anonymous mapping at an address the kernel picks.
    check(unsafe { syscall6(nr::MMAP, 0, len, PROT_RW, MAP_PRIVATE_ANON, usize::MAX, 0) })
        .map(|a| a as *mut u8)
}

/// Waits on a futex word while it holds `expected`.
pub fn futex_wait(word: &core::sync::atomic::AtomicU32, expected: u32) -> Result<usize, i32> {
    const FUTEX_WAIT: usize = 0;
    // SAFETY: word is a valid u32 for the call's duration.
    check(unsafe {
        syscall4(
            nr::FUTEX,
            word.as_ptr() as usize,
            FUTEX_WAIT,
            expected as usize,
            0,
        )
    })
}

/// Ends the process.
pub fn exit_group(code: i32) -> ! {
    // SAFETY: no pointers; the call does not return.
    unsafe { syscall1(nr::EXIT_GROUP, code as usize) };
    unreachable_exit()
}

/// Ends the calling thread.
pub fn exit_thread(code: i32) -> ! {
    // SAFETY: no pointers; the call does not return.
    unsafe { syscall1(nr::EXIT, code as usize) };
    unreachable_exit()
}

fn unreachable_exit() -> ! {
    // The kernel never returns from exit; if it did, stop here rather than
    // run on.
    loop {
        core::hint::spin_loop();
    }
}

/// A file descriptor as a `core::fmt::Write` sink, for `write!` in
/// programs without std. Each `write_str` is one or more `write` calls.
pub struct FdWriter(pub i32);

impl core::fmt::Write for FdWriter {
    fn write_str(&mut self, s: &str) -> core::fmt::Result {
        write_all(self.0, s.as_bytes()).map_err(|_| core::fmt::Error)
    }
}
