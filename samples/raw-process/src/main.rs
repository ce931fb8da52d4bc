//! raw-process: exercises the process model of an XSC kernel from a no_std
//! program: the program break, anonymous memory, signal handlers (which
//! themselves make OS calls), EINTR and SA_RESTART for a blocked read,
//! fork and wait4, execve of a native program and of an XSC program, and a
//! child killed by a signal. One line per check; exit 0 when all hold.
//!
//! Also: a thread blocked in a read while the main thread keeps making
//! calls (one thread's blocking call must not stall another's).
//!
//! `raw-process exec-child` is the mode the XSC execve check runs;
//! `raw-process idle MS` starts a thread that blocks forever-ish on a futex
//! and sleeps MS milliseconds in the main thread (for measuring that idle
//! threads cost no CPU).
#![no_std]
#![no_main]

use core::ffi::CStr;
use core::fmt::Write as _;
use core::sync::atomic::{AtomicU32, Ordering};
use xsc_rt::syscall::*;
use xsc_rt::{sys, Ring};

/// The system-call numbers used here, which are the opcodes (ABI §6).
#[cfg(target_arch = "x86_64")]
mod nr {
    pub const BRK: u32 = 12;
    pub const MUNMAP: u32 = 11;
    pub const RT_SIGACTION: u32 = 13;
    pub const SETITIMER: u32 = 38;
    pub const EXECVE: u32 = 59;
    pub const WAIT4: u32 = 61;
    pub const KILL: u32 = 62;
    pub const PIPE2: u32 = 293;
    pub const NANOSLEEP: u32 = 35;
    pub const SETUID: u32 = 105;
    pub const SETGID: u32 = 106;
    pub const GETEUID: u32 = 107;
}
#[cfg(target_arch = "aarch64")]
mod nr {
    pub const BRK: u32 = 214;
    pub const MUNMAP: u32 = 215;
    pub const RT_SIGACTION: u32 = 134;
    pub const SETITIMER: u32 = 103;
    pub const EXECVE: u32 = 221;
    pub const WAIT4: u32 = 260;
    pub const KILL: u32 = 129;
    pub const PIPE2: u32 = 59;
    pub const NANOSLEEP: u32 = 101;
    pub const SETUID: u32 = 146;
    pub const SETGID: u32 = 144;
    pub const GETEUID: u32 = 175;
}
use nr::*;
const EACCES: i32 = 13;

const SIGUSR1: usize = 10;
const SIGALRM: usize = 14;
const SIGTERM: usize = 15;
const SA_SIGINFO: u64 = 4;
const SA_RESTORER: u64 = 0x0400_0000;
const SA_RESTART: u64 = 0x1000_0000;
const EINTR: isize = 4;

macro_rules! say {
    ($($t:tt)*) => {{ let _ = writeln!(sys::FdWriter(1), $($t)*); }};
}

#[repr(C)]
struct KernelSigaction {
    handler: u64,
    flags: u64,
    restorer: u64,
    mask: u64,
}

fn sigaction(sig: usize, handler: extern "C" fn(i32), flags: u64) -> isize {
    let act = KernelSigaction {
        handler: handler as usize as u64,
        flags: flags | SA_RESTORER,
        restorer: Ring::current().entry_table().sigreturn,
        mask: 0,
    };
    // SAFETY: a valid sigaction for the kernel's layout.
    unsafe { syscall4(RT_SIGACTION, sig, &act as *const _ as usize, 0, 8) }
}

/// Arms a one-shot real-time timer (SIGALRM) after `ms` milliseconds.
fn alarm_ms(ms: u64) {
    let it: [u64; 4] = [0, 0, 0, ms * 1000];
    // SAFETY: a valid itimerval.
    unsafe { syscall3(SETITIMER, 0, it.as_ptr() as usize, 0) };
}

static SIGNALS_SEEN: AtomicU32 = AtomicU32::new(0);
static PIPE_WRITE_END: AtomicU32 = AtomicU32::new(0);

extern "C" fn on_usr1(sig: i32) {
    SIGNALS_SEEN.fetch_add(1, Ordering::SeqCst);
    say!("  in the SIGUSR1 handler (signal {sig}), making an OS call from it");
}

extern "C" fn on_alarm(_: i32) {
    SIGNALS_SEEN.fetch_add(1, Ordering::SeqCst);
}

extern "C" fn on_alarm_feed_pipe(_: i32) {
    let _ = sys::write(PIPE_WRITE_END.load(Ordering::SeqCst) as i32, b"x");
}

#[cfg(target_arch = "x86_64")]
fn fork() -> isize {
    // SAFETY: no arguments.
    unsafe { syscall0(57) }
}

/// aarch64 has no fork system call: clone(SIGCHLD) with no stack, as its
/// libc forks (ABI §7.5).
#[cfg(target_arch = "aarch64")]
fn fork() -> isize {
    const CLONE: u32 = 220;
    const SIGCHLD: usize = 17;
    // SAFETY: a clone without CLONE_VM; no pointers.
    unsafe { syscall5(CLONE, SIGCHLD, 0, 0, 0, 0) }
}

/// Waits for `pid`; returns the raw wait status.
fn wait(pid: isize) -> i32 {
    let mut status: i32 = -1;
    // SAFETY: status is a valid int.
    unsafe { syscall4(WAIT4, pid as usize, &mut status as *mut i32 as usize, 0, 0) };
    status
}

fn execve(path: &CStr, argv: &[*const u8]) -> isize {
    let envp: [*const u8; 1] = [core::ptr::null()];
    // SAFETY: NUL-terminated path, NULL-terminated argv/envp.
    unsafe {
        syscall3(
            EXECVE,
            path.as_ptr() as usize,
            argv.as_ptr() as usize,
            envp.as_ptr() as usize,
        )
    }
}

extern "C" fn blocked_reader(fd: usize) -> i32 {
    let mut b = [0u8; 1];
    match sys::read(fd as i32, &mut b) {
        Ok(1) if b[0] == b'y' => 0,
        _ => 1,
    }
}

static mut READER_STACK: [u8; 64 * 1024] = [0; 64 * 1024];
static READER_TID: AtomicU32 = AtomicU32::new(0);

/// One thread blocks in read() while this one keeps making calls; only then
/// does this one write the byte the reader waits for. If the blocked read
/// stalled our calls, this would never finish.
fn blocked_thread_does_not_stall_others() -> bool {
    let mut fds = [0i32; 2];
    // SAFETY: fds has room for two ints.
    unsafe { syscall2(PIPE2, fds.as_mut_ptr() as usize, 0o2000000) };
    // SAFETY: the stack is used by this one thread, joined below.
    let stack = unsafe { &mut *core::ptr::addr_of_mut!(READER_STACK) };
    // SAFETY: the reader only reads the pipe.
    let Ok(t) =
        (unsafe { xsc_rt::thread::spawn(stack, &READER_TID, blocked_reader, fds[0] as usize) })
    else {
        return false;
    };
    let mut pids = 0;
    for _ in 0..1000 {
        pids += (sys::getpid() > 0) as u32;
    }
    let wrote = sys::write(fds[1], b"y") == Ok(1);
    t.join();
    pids == 1000 && wrote
}

fn sleep_ms(ms: u64) {
    let ts: [u64; 2] = [ms / 1000, (ms % 1000) * 1_000_000];
    // SAFETY: a valid timespec.
    unsafe { syscall2(NANOSLEEP, ts.as_ptr() as usize, 0) };
}

extern "C" fn idle_waiter(_: usize) -> i32 {
    static NEVER: AtomicU32 = AtomicU32::new(0);
    let _ = sys::futex_wait(&NEVER, 0);
    0
}

/// `idle MS`: a thread asleep in a futex, the main thread asleep in
/// nanosleep; then exit.
fn idle(ms: u64) -> i32 {
    // SAFETY: the stack is used by the waiter only; the process ends
    // without joining it.
    let stack = unsafe { &mut *core::ptr::addr_of_mut!(READER_STACK) };
    // SAFETY: the waiter only waits.
    if unsafe { xsc_rt::thread::spawn(stack, &READER_TID, idle_waiter, 0) }.is_err() {
        return 1;
    }
    sleep_ms(ms);
    0
}

fn check(name: &str, ok: bool) -> bool {
    say!("{name}: {}", if ok { "ok" } else { "WRONG" });
    ok
}

fn run(self_path: *const u8) -> bool {
    let mut all = true;

    all &= check(
        "a blocked read in one thread does not stall another thread's calls",
        blocked_thread_does_not_stall_others(),
    );

    // The program break grows, is usable, and shrinks.
    // SAFETY: brk with an address is the call's contract.
    let cur = unsafe { syscall1(BRK, 0) } as usize;
    let grown = unsafe { syscall1(BRK, cur + (1 << 20)) } as usize;
    let ok = grown == cur + (1 << 20) && {
        // SAFETY: [cur, grown) was just given to us by brk.
        unsafe { core::ptr::write_bytes(cur as *mut u8, 0xa5, grown - cur) };
        unsafe { syscall1(BRK, cur) as usize == cur }
    };
    all &= check("brk grows, is writable and shrinks", ok);

    let ok = match sys::mmap_anon(1 << 20) {
        Ok(p) => {
            // SAFETY: p is a fresh 1 MiB mapping.
            unsafe { core::ptr::write_bytes(p, 1, 1 << 20) };
            unsafe { syscall2(MUNMAP, p as usize, 1 << 20) == 0 }
        }
        Err(_) => false,
    };
    all &= check("mmap and munmap", ok);

    sigaction(SIGUSR1, on_usr1, SA_SIGINFO);
    // SAFETY: signalling ourselves.
    unsafe { syscall2(KILL, sys::getpid() as usize, SIGUSR1) };
    all &= check(
        "a signal handler ran",
        SIGNALS_SEEN.load(Ordering::SeqCst) == 1,
    );

    let mut fds = [0i32; 2];
    // SAFETY: fds has room for two ints.
    unsafe { syscall2(PIPE2, fds.as_mut_ptr() as usize, 0o2000000) };
    PIPE_WRITE_END.store(fds[1] as u32, Ordering::SeqCst);
    let mut buf = [0u8; 8];

    sigaction(SIGALRM, on_alarm, 0);
    alarm_ms(100);
    let r = sys::read(fds[0], &mut buf);
    all &= check(
        "a blocked read is interrupted by a signal (EINTR)",
        r == Err(EINTR as i32),
    );

    sigaction(SIGALRM, on_alarm_feed_pipe, SA_RESTART);
    alarm_ms(100);
    let r = sys::read(fds[0], &mut buf);
    all &= check(
        "with SA_RESTART the read is restarted and gets data",
        r == Ok(1) && buf[0] == b'x',
    );

    let pid = fork();
    if pid == 0 {
        say!("  child: hello from the forked child");
        sys::exit_group(3);
    }
    let st = wait(pid);
    all &= check(
        "fork, exit 3, wait4",
        pid > 0 && st & 0x7f == 0 && (st >> 8) & 0xff == 3,
    );

    let pid = fork();
    if pid == 0 {
        let argv = [
            c"sh".as_ptr().cast(),
            c"-c".as_ptr().cast(),
            c"echo '  native child: hello from /bin/sh'; exit 5"
                .as_ptr()
                .cast(),
            core::ptr::null(),
        ];
        execve(c"/bin/sh", &argv);
        sys::exit_group(127);
    }
    let st = wait(pid);
    all &= check(
        "execve of a native program, exit 5",
        (st >> 8) & 0xff == 5 && st & 0x7f == 0,
    );

    let pid = fork();
    if pid == 0 {
        let argv = [self_path, c"exec-child".as_ptr().cast(), core::ptr::null()];
        // SAFETY: self_path is our argv[0], NUL-terminated.
        execve(unsafe { CStr::from_ptr(self_path.cast()) }, &argv);
        sys::exit_group(127);
    }
    let st = wait(pid);
    all &= check(
        "execve of an XSC program (through xsc-run), exit 4",
        (st >> 8) & 0xff == 4 && st & 0x7f == 0,
    );

    // Credentials are per thread on Linux; dropping them in the program
    // thread must also drop them for the kernel side's file access.
    // SAFETY: no pointers.
    if unsafe { syscall0(GETEUID) } == 0 {
        let pid = fork();
        if pid == 0 {
            // SAFETY: no pointers.
            let dropped = unsafe { syscall1(SETGID, 65534) == 0 && syscall1(SETUID, 65534) == 0 };
            let denied = sys::open(c"/etc/shadow", sys::O_RDONLY) == Err(EACCES);
            sys::exit_group(if dropped && denied { 0 } else { 1 });
        }
        let st = wait(pid);
        all &= check(
            "after setuid(nobody) the kernel side opens files as nobody",
            st == 0,
        );
    } else {
        say!("after setuid(nobody) the kernel side opens files as nobody: ok (skipped: not root)");
    }

    let pid = fork();
    if pid == 0 {
        // SAFETY: signalling ourselves with the default action (terminate).
        unsafe { syscall2(KILL, sys::getpid() as usize, SIGTERM) };
        sys::exit_group(0);
    }
    let st = wait(pid);
    all &= check("a child killed by SIGTERM", st & 0x7f == SIGTERM as i32);
    all
}

#[no_mangle]
extern "C" fn xsc_main(argc: isize, argv: *const *const u8, _: *const *const u8) -> i32 {
    // SAFETY: argv has argc entries.
    let arg1 = (argc > 1).then(|| unsafe { *argv.add(1) });
    if let Some(a) = arg1 {
        // SAFETY: a NUL-terminated argument.
        let a = unsafe { CStr::from_ptr(a.cast()) };
        if a == c"exec-child" {
            say!("  exec'd XSC child: running under xsc-run again");
            return 4;
        }
        if a == c"idle" && argc > 2 {
            // SAFETY: argv[2] exists and is NUL-terminated.
            let ms = unsafe { CStr::from_ptr((*argv.add(2)).cast()) };
            let ms = ms
                .to_bytes()
                .iter()
                .fold(0u64, |v, c| v * 10 + (c - b'0') as u64);
            return idle(ms);
        }
    }
    // SAFETY: argv[0] exists.
    if run(unsafe { *argv }) {
        0
    } else {
        1
    }
}

#[panic_handler]
fn panic(info: &core::panic::PanicInfo) -> ! {
    let _ = writeln!(sys::FdWriter(2), "raw-process: {info}");
    sys::exit_group(101)
}
