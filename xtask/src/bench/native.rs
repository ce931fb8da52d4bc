//! The native side of the per-call rows, measured in this process: raw
//! getppid system calls one at a time and in groups of 64 (what the
//! ring-bench sample does through the ring and in 64-entry batches), and
//! the cross-core round trip of a cache line (the floor for any call
//! served on another core). Also the verifier's throughput.

use crate::cmd::Result;
use std::process::Command;
use std::sync::atomic::{AtomicU64, Ordering};
use std::time::Instant;

/// Nanoseconds per native getppid system call.
pub fn getppid(calls: u64) -> f64 {
    let mut sink = 0i64;
    let t = Instant::now();
    for _ in 0..calls {
        // SAFETY: getppid has no arguments or effects.
        sink ^= unsafe { libc::syscall(libc::SYS_getppid) };
    }
    let ns = t.elapsed().as_nanos() as f64 / calls as f64;
    std::hint::black_box(sink);
    ns
}

/// Nanoseconds per call of native getppid system calls made 64 at a time
/// (`calls` rounded up to whole groups), each result checked as the ring
/// side checks each completion.
pub fn getppid_batched(calls: u64) -> f64 {
    let groups = calls.div_ceil(64);
    // SAFETY: as above.
    let parent = unsafe { libc::syscall(libc::SYS_getppid) };
    let mut results = [0i64; 64];
    let mut wrong = 0u64;
    let t = Instant::now();
    for _ in 0..groups {
        for r in results.iter_mut() {
            // SAFETY: as above.
            *r = unsafe { libc::syscall(libc::SYS_getppid) };
        }
        wrong += results.iter().filter(|&&r| r != parent).count() as u64;
    }
    let ns = t.elapsed().as_nanos() as f64 / (groups * 64) as f64;
    std::hint::black_box(wrong);
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

/// Nanoseconds per cross-core round trip of a cache line: two threads on
/// different CPUs pass a counter back and forth. None on one CPU. Both
/// are threads of their own: the pinning must not reach the programs this
/// process starts later.
pub fn cache_line_round_trip(trips: u64) -> Option<f64> {
    let cpus = std::thread::available_parallelism().map_or(1, |n| n.get());
    if cpus < 2 {
        return None;
    }
    let ping = Line(AtomicU64::new(0));
    let pong = Line(AtomicU64::new(0));
    let ns = std::thread::scope(|s| {
        s.spawn(|| {
            pin(1);
            for i in 1..=trips {
                while ping.0.load(Ordering::Acquire) != i {
                    std::hint::spin_loop();
                }
                pong.0.store(i, Ordering::Release);
            }
        });
        s.spawn(|| {
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
        .join()
        .expect("the round-trip thread panicked")
    });
    Some(ns)
}

/// xsc-elfcheck against `objdump -d` on the same large binary: megabytes of
/// executable code per second, best of five runs each.
pub fn elfcheck_throughput(file: &std::path::Path) -> Result {
    let data = std::fs::read(file).map_err(|e| format!("cannot read {}: {e}", file.display()))?;
    let mut best = std::time::Duration::MAX;
    let mut bytes = 0;
    for _ in 0..5 {
        let (b, d) = xsc_elfcheck::throughput(&data).map_err(|e| e.to_string())?;
        bytes = b;
        best = best.min(d);
    }
    let mut objdump = std::time::Duration::MAX;
    for _ in 0..5 {
        let t = Instant::now();
        let status = Command::new("objdump")
            .arg("-d")
            .arg(file)
            .stdout(std::process::Stdio::null())
            .status()
            .map_err(|e| format!("cannot run objdump: {e}"))?;
        if !status.success() {
            return Err("objdump -d failed".into());
        }
        objdump = objdump.min(t.elapsed());
    }
    let mbs = |d: std::time::Duration| bytes as f64 / 1e6 / d.as_secs_f64();
    println!(
        "\nverifier throughput on {} ({:.1} MB of executable code), best of 5:",
        file.display(),
        bytes as f64 / 1e6
    );
    println!("  xsc-elfcheck   {:>8.1} MB/s  ({:?})", mbs(best), best);
    println!(
        "  objdump -d     {:>8.1} MB/s  ({:?})",
        mbs(objdump),
        objdump
    );
    println!(
        "  xsc-elfcheck / objdump: {:.1}x",
        objdump.as_secs_f64() / best.as_secs_f64()
    );
    Ok(())
}
