//! `bench-calls CALLS [round-trip] [guarded]`: CALLS getppid calls through libc's
//! `syscall()`, one after the other, then the same number in groups of 64
//! with every result checked after each group (what the ring-bench sample
//! does through a 64-entry XSC batch). Prints `call_ns X` and
//! `group_ns_per_call Y`. With `round-trip`, also `round_trip_ns Z`: a
//! cache line passed back and forth between two threads pinned to CPUs 0
//! and 1 (the floor of any call served on another core).
//!
//! With `guarded` (natively), also `guarded_call_ns G`: the same calls from
//! a thread with Syscall User Dispatch on, every call inside its allowed
//! region, which is how xsc-run's kernel side makes the host call of each
//! ring entry: the floor the trap guard puts under any XSC call.
//!
//! Natively these are system calls; on XSC, libc's `syscall()` submits
//! each call to the thread's ring.

use std::sync::atomic::{AtomicU64, Ordering};
use std::time::Instant;

fn getppid() -> libc::c_long {
    // SAFETY: getppid has no arguments and no effects.
    unsafe { libc::syscall(libc::SYS_getppid) }
}

fn one_at_a_time(calls: u64) -> f64 {
    let mut sink = 0;
    let t = Instant::now();
    for _ in 0..calls {
        sink ^= getppid();
    }
    let ns = t.elapsed().as_nanos() as f64 / calls as f64;
    std::hint::black_box(sink);
    ns
}

fn in_groups(calls: u64) -> f64 {
    let groups = calls.div_ceil(64);
    let parent = getppid();
    let mut results = [0; 64];
    let mut wrong = 0;
    let t = Instant::now();
    for _ in 0..groups {
        for r in results.iter_mut() {
            *r = getppid();
        }
        wrong += results.iter().filter(|&&r| r != parent).count();
    }
    let ns = t.elapsed().as_nanos() as f64 / (groups * 64) as f64;
    if wrong > 0 {
        eprintln!("bench-calls: {wrong} getppid calls returned a wrong result");
        std::process::exit(1)
    }
    ns
}

#[repr(C, align(64))]
struct Line(AtomicU64);

fn pin(cpu: usize) {
    // SAFETY: a zeroed cpu_set_t with one CPU set, for the calling thread.
    unsafe {
        let mut set: libc::cpu_set_t = std::mem::zeroed();
        libc::CPU_SET(cpu, &mut set);
        libc::sched_setaffinity(0, std::mem::size_of::<libc::cpu_set_t>(), &set);
    }
}

fn round_trip(trips: u64) -> f64 {
    let ping = Line(AtomicU64::new(0));
    let pong = Line(AtomicU64::new(0));
    std::thread::scope(|s| {
        s.spawn(|| {
            pin(1);
            for i in 1..=trips {
                while ping.0.load(Ordering::Acquire) != i {
                    std::hint::spin_loop();
                }
                pong.0.store(i, Ordering::Release);
            }
        });
        pin(0);
        let t = Instant::now();
        for i in 1..=trips {
            ping.0.store(i, Ordering::Release);
            while pong.0.load(Ordering::Acquire) != i {
                std::hint::spin_loop();
            }
        }
        t.elapsed().as_nanos() as f64 / trips as f64
    })
}

/// linux/prctl.h (not in the libc crate for glibc targets).
const PR_SET_SYSCALL_USER_DISPATCH: libc::c_int = 59;
const PR_SYS_DISPATCH_ON: libc::c_ulong = 1;

/// [`one_at_a_time`] on a new thread with Syscall User Dispatch on and the
/// whole address space as its allowed region (Linux checks the region
/// first, so no call is dispatched, but each takes the guarded entry path).
fn guarded(calls: u64) -> Option<f64> {
    std::thread::spawn(move || {
        // The selector is never read (every call is in the allowed region),
        // but SUD wants one.
        static SELECTOR: std::sync::atomic::AtomicU8 = std::sync::atomic::AtomicU8::new(0);
        // SAFETY: turns SUD on for this thread only; the region covers all
        // user addresses, so every system call is let through.
        let r = unsafe {
            libc::prctl(
                PR_SET_SYSCALL_USER_DISPATCH,
                PR_SYS_DISPATCH_ON,
                0 as libc::c_ulong,
                (1u64 << 47) as libc::c_ulong,
                &SELECTOR as *const _ as libc::c_ulong,
            )
        };
        if r != 0 {
            return None;
        }
        one_at_a_time(1000);
        Some(one_at_a_time(calls))
    })
    .join()
    .ok()
    .flatten()
}

fn main() {
    let args: Vec<String> = std::env::args().skip(1).collect();
    let calls = match args.first().map(|a| a.parse::<u64>()) {
        Some(Ok(n)) if n > 0 => n,
        _ => {
            eprintln!("usage: bench-calls CALLS [round-trip] [guarded]");
            std::process::exit(2)
        }
    };
    // Warm up (and, on XSC, set up the thread's ring).
    one_at_a_time(1000);
    println!("call_ns {:.1}", one_at_a_time(calls));
    println!("group_ns_per_call {:.1}", in_groups(calls));
    if args.iter().skip(1).any(|a| a == "guarded") {
        match guarded(calls) {
            Some(ns) => println!("guarded_call_ns {ns:.1}"),
            None => eprintln!("bench-calls: cannot turn Syscall User Dispatch on"),
        }
    }
    if args.iter().skip(1).any(|a| a == "round-trip") {
        let cpus = std::thread::available_parallelism().map_or(1, |n| n.get());
        if cpus >= 2 {
            println!("round_trip_ns {:.1}", round_trip(calls));
        }
    }
}
