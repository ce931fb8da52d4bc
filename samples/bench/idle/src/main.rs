//! `bench-idle`: prints `ready`, then blocks in one `read` of standard
//! input (a pipe nobody writes; the bench closes it when the time is up)
//! and prints `blocked_ms T` and `cpu_us C`: the process's CPU time (user
//! plus system, all its threads) used while it was blocked, as getrusage
//! reports it. (The bench reads the scheduler's own account from outside
//! instead: getrusage's user/system split is scaled from tick samples and
//! shows a few hundred microseconds for a process that never ran.)

use std::io::Write;
use std::time::Instant;

fn cpu_us() -> u64 {
    // SAFETY: a zeroed rusage is a valid value for getrusage to fill.
    let mut ru: libc::rusage = unsafe { std::mem::zeroed() };
    // SAFETY: ru is a valid rusage.
    if unsafe { libc::getrusage(libc::RUSAGE_SELF, &mut ru) } != 0 {
        eprintln!("bench-idle: getrusage: {}", std::io::Error::last_os_error());
        std::process::exit(1)
    }
    let us = |t: libc::timeval| t.tv_sec as u64 * 1_000_000 + t.tv_usec as u64;
    us(ru.ru_utime) + us(ru.ru_stime)
}

fn main() {
    let mut out = std::io::stdout().lock();
    writeln!(out, "ready")
        .and_then(|()| out.flush())
        .expect("stdout");
    let before = cpu_us();
    let t = Instant::now();
    let mut byte = 0u8;
    // SAFETY: one byte into a live local.
    let n = unsafe { libc::read(0, (&mut byte as *mut u8).cast(), 1) };
    let blocked = t.elapsed();
    let cpu = cpu_us() - before;
    if n != 0 {
        eprintln!("bench-idle: read returned {n}, expected end of file");
        std::process::exit(1)
    }
    writeln!(out, "blocked_ms {}", blocked.as_millis()).expect("stdout");
    writeln!(out, "cpu_us {cpu}").expect("stdout");
}
