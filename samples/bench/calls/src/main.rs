//! `bench-calls CALLS [round-trip]`: CALLS getppid calls through libc's
//! `syscall()`, one after the other, then the same number in groups of 64
//! with every result checked after each group (what the ring-bench sample
//! does through a 64-entry XSC batch). Prints `call_ns X` and
//! `group_ns_per_call Y`. With `round-trip`, also `round_trip_ns Z`: a
//! cache line passed back and forth between two threads pinned to CPUs 0
//! and 1 (the floor of any call served on another core).
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

fn main() {
    let args: Vec<String> = std::env::args().skip(1).collect();
    let calls = match args.first().map(|a| a.parse::<u64>()) {
        Some(Ok(n)) if n > 0 => n,
        _ => {
            eprintln!("usage: bench-calls CALLS [round-trip]");
            std::process::exit(2)
        }
    };
    // Warm up (and, on XSC, set up the thread's ring).
    one_at_a_time(1000);
    println!("call_ns {:.1}", one_at_a_time(calls));
    println!("group_ns_per_call {:.1}", in_groups(calls));
    if args.get(1).is_some_and(|a| a == "round-trip") {
        let cpus = std::thread::available_parallelism().map_or(1, |n| n.get());
        if cpus >= 2 {
            println!("round_trip_ns {:.1}", round_trip(calls));
        }
    }
}
