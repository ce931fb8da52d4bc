//! ring-bench: `ring-bench N` makes N getppid calls through the ring, N
//! through the inline `thread_call` entry and N in batches of 64 entries
//! (`xsc_rt::batch::submit_and_reap`), timing each loop with the monotonic
//! clock (read twice per loop), and prints `ring_ns_per_call X`,
//! `inline_ns_per_call Y` and `batch_ns_per_entry Z`.
#![no_std]
#![no_main]

use core::fmt::Write as _;
use xsc_rt::abi::{CompletionEntry, SubmissionEntry};
use xsc_rt::arch::nr;
use xsc_rt::syscall::*;
use xsc_rt::{batch, sys, Ring};

/// Entries per batch.
const BATCH: usize = 64;

fn now_ns() -> u64 {
    let mut ts = [0i64; 2];
    // SAFETY: a valid timespec; CLOCK_MONOTONIC = 1.
    unsafe { syscall2(nr::CLOCK_GETTIME, 1, ts.as_mut_ptr() as usize) };
    ts[0] as u64 * 1_000_000_000 + ts[1] as u64
}

fn parse(s: &[u8]) -> Option<u64> {
    s.iter().try_fold(0u64, |v, &c| {
        c.is_ascii_digit().then(|| v * 10 + (c - b'0') as u64)
    })
}

#[no_mangle]
extern "C" fn xsc_main(argc: isize, argv: *const *const u8, _: *const *const u8) -> i32 {
    let n = if argc > 1 {
        // SAFETY: argv[1] is NUL-terminated.
        let a = unsafe { core::ffi::CStr::from_ptr(*argv.add(1) as *const core::ffi::c_char) };
        parse(a.to_bytes()).unwrap_or(0)
    } else {
        100_000
    };
    if n == 0 {
        let _ = sys::write_all(2, b"usage: ring-bench CALLS\n");
        return 2;
    }
    let mut sink = 0usize;
    for _ in 0..1000 {
        sink ^= sys::getppid() as usize; // warm up
    }
    let t0 = now_ns();
    for _ in 0..n {
        sink ^= sys::getppid() as usize;
    }
    let t1 = now_ns();
    let ring = Ring::current();
    let e = SubmissionEntry::new(nr::GETPPID, [0; 6], 0);
    for _ in 0..n {
        // SAFETY: getppid has no arguments.
        sink ^= unsafe { ring.thread_call(&e) } as usize;
    }
    let t2 = now_ns();
    let entries: [SubmissionEntry; BATCH] =
        core::array::from_fn(|i| SubmissionEntry::new(nr::GETPPID, [0; 6], i as u64));
    let mut completions = [CompletionEntry::default(); BATCH];
    let batches = n.div_ceil(BATCH as u64);
    let parent = sys::getppid() as i64;
    let t3 = now_ns();
    for _ in 0..batches {
        // SAFETY: getppid entries carry no pointers.
        if let Err(e) = unsafe { batch::submit_and_reap(&entries, &mut completions) } {
            let _ = writeln!(sys::FdWriter(2), "ring-bench: batch refused: {e:?}");
            return 1;
        }
        if completions.iter().any(|c| c.result != parent) {
            let _ = sys::write_all(
                2,
                b"ring-bench: a batched getppid returned a wrong result\n",
            );
            return 1;
        }
    }
    let t4 = now_ns();
    let mut out = sys::FdWriter(1);
    let _ = writeln!(out, "ring_ns_per_call {:.1}", (t1 - t0) as f64 / n as f64);
    let _ = writeln!(out, "inline_ns_per_call {:.1}", (t2 - t1) as f64 / n as f64);
    let per_entry = (t4 - t3) as f64 / (batches * BATCH as u64) as f64;
    let _ = writeln!(out, "batch_ns_per_entry {per_entry:.1}");
    let _ = writeln!(out, "checksum {}", sink & 1);
    0
}

#[panic_handler]
fn panic(_: &core::panic::PanicInfo) -> ! {
    sys::exit_group(101)
}
