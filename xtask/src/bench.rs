//! `cargo xtask bench`: measurements taken side by side in one run and
//! reported as ratios. Nothing here asserts a time.

use crate::cmd::{self, Result};
use std::process::Command;
use std::sync::atomic::{AtomicU64, Ordering};
use std::time::Instant;

/// Nanoseconds per native getppid system call.
fn native_getppid(calls: u64) -> f64 {
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
/// different CPUs pass a counter back and forth (the floor for any call
/// that goes to another core and back).
fn cache_line_round_trip(trips: u64) -> Option<f64> {
    let cpus = std::thread::available_parallelism()
        .map(|n| n.get())
        .unwrap_or(1);
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
        pin(0);
        let t = Instant::now();
        for i in 1..=trips {
            ping.0.store(i, Ordering::Release);
            while pong.0.load(Ordering::Acquire) != i {
                std::hint::spin_loop();
            }
        }
        t.elapsed().as_nanos() as f64 / trips as f64
    });
    Some(ns)
}

fn parse(out: &str, key: &str) -> Result<f64> {
    out.lines()
        .find_map(|l| l.strip_prefix(key).map(|v| v.trim().parse::<f64>()))
        .ok_or_else(|| format!("ring-bench printed no `{key}`: {out}"))?
        .map_err(|e| format!("bad `{key}` from ring-bench: {e}"))
}

/// xsc-elfcheck against `objdump -d` on the same large binary: megabytes of
/// executable code per second, best of five runs each.
fn elfcheck_throughput(file: &std::path::Path) -> Result {
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

pub fn run(calls: u64) -> Result {
    let runner = cmd::build_runner(true)?;
    let samples = cmd::build_samples(true)?;
    println!("\nper-call cost of a trivial call (getppid), {calls} calls each, one run:");
    let native = native_getppid(calls);
    let out = Command::new(&runner)
        .arg(samples.join("ring-bench"))
        .arg(calls.to_string())
        .output()
        .map_err(|e| format!("cannot run ring-bench: {e}"))?;
    if !out.status.success() {
        return Err(format!(
            "ring-bench failed: {}",
            String::from_utf8_lossy(&out.stderr)
        ));
    }
    let text = String::from_utf8_lossy(&out.stdout);
    let ring = parse(&text, "ring_ns_per_call")?;
    let inline = parse(&text, "inline_ns_per_call")?;
    let floor = cache_line_round_trip(calls);
    let row =
        |name: &str, ns: f64| println!("  {name:<44} {ns:>9.1} ns   {:>6.2}x native", ns / native);
    row("native system call", native);
    row("XSC ring under xsc-run (submit, worker, reap)", ring);
    row("XSC inline thread_call under xsc-run", inline);
    match floor {
        Some(f) => {
            row("cross-core cache-line round trip (floor)", f);
            println!("  XSC ring / round-trip floor: {:.2}x", ring / f);
        }
        None => println!("  cross-core cache-line round trip: skipped (one CPU)"),
    }
    // The largest Rust program the build made: cargo-xsc (std, clap,
    // serde, the verifier itself).
    cmd::run(cmd::cargo().args(["build", "--release", "-p", "cargo-xsc"]))?;
    elfcheck_throughput(&cmd::root().join("target/release/cargo-xsc"))
}
