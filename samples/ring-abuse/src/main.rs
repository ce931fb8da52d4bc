//! ring-abuse: drives the rings by hand with bad input and checks that the
//! kernel answers each with an error completion and keeps working. Prints
//! one line per case; exits 0 only if every case behaved as the ABI says.
#![no_std]
#![no_main]

use core::fmt::Write as _;
use core::sync::atomic::Ordering;
use xsc_rt::abi::ring_entry::*;
use xsc_rt::abi::{CompletionEntry, SubmissionEntry};
use xsc_rt::arch::nr;
use xsc_rt::{sys, Ring};

const ENOSYS: i64 = 38;
const EINVAL: i64 = 22;

/// Submits one entry by hand and returns its completion.
fn roundtrip(ring: &Ring, e: SubmissionEntry) -> CompletionEntry {
    // SAFETY: the entries made here carry no pointer, or pointers to
    // statics (the batch's lines); the claim is held by the caller.
    unsafe {
        assert!(ring.push(&e, 0));
        ring.submit(1);
    }
    ring.wait(1);
    ring.pop().expect("a completion after wait")
}

fn check(name: &str, ok: bool, cqe: &CompletionEntry) -> bool {
    let _ = writeln!(
        sys::FdWriter(1),
        "{name}: result={} flags={:#x} user_data={:#x} -> {}",
        cqe.result,
        cqe.flags,
        cqe.user_data,
        if ok { "ok" } else { "WRONG" }
    );
    ok
}

#[no_mangle]
extern "C" fn xsc_main(_: isize, _: *const *const u8, _: *const *const u8) -> i32 {
    let ring = Ring::current();
    // We drive the rings by hand below; claim them so that nothing else on
    // this thread uses them meanwhile (ABI: runtime_private).
    assert!(ring.claim());
    let mut all = true;

    let c = roundtrip(&ring, SubmissionEntry::new(999, [0; 6], 0xabc));
    all &= check(
        "unknown opcode",
        c.result == -ENOSYS && c.flags == CQE_F_UNKNOWN_OP && c.user_data == 0xabc,
        &c,
    );

    let mut bad = SubmissionEntry::new(nr::GETPID, [0; 6], 0xdef);
    bad.flags = 0x8000_0000;
    let c = roundtrip(&ring, bad);
    all &= check(
        "malformed entry",
        c.result == -EINVAL && c.flags == CQE_F_MALFORMED && c.user_data == 0xdef,
        &c,
    );

    let c = roundtrip(&ring, SubmissionEntry::new(nr::GETTID, [0; 6], 0x123));
    all &= check(
        "thread-context op on the ring",
        c.result == -EINVAL && c.flags == CQE_F_WRONG_CONTEXT,
        &c,
    );

    // Corrupt the producer index: claim far more entries than the ring has.
    // SAFETY: deliberately breaking our own ring; only this thread uses it.
    let region = unsafe { &*ring.region() };
    let tail = region.sq_tail.0.load(Ordering::Relaxed);
    region.sq_tail.0.store(
        tail.wrapping_add(region.header.sq_entries + 5),
        Ordering::Release,
    );
    // SAFETY: publishes nothing new; the kernel finds the corrupt tail.
    unsafe { ring.submit(0) };
    ring.wait(1);
    let c = ring.pop().expect("a ring error completion");
    all &= check(
        "corrupt submission tail",
        c.result == -EINVAL && c.flags == CQE_F_RING_ERROR && c.user_data == 0,
        &c,
    );

    // The kernel keeps working: ordinary calls and a batch.
    // (A call whose result is the same on every kernel and every run, so
    // that the report can be compared: a write of a fixed line.)
    let line = b"the ring still works\n";
    let c = roundtrip(
        &ring,
        SubmissionEntry::new(
            nr::WRITE,
            [1, line.as_ptr() as u64, line.len() as u64, 0, 0, 0],
            7,
        ),
    );
    all &= check(
        "still working",
        c.result == line.len() as i64 && c.flags == 0,
        &c,
    );

    ring.release();
    let lines: [&[u8]; 3] = [b"batch line 1\n", b"batch line 2\n", b"batch line 3\n"];
    let entries = lines.map(|l| {
        SubmissionEntry::new(
            nr::WRITE,
            [1, l.as_ptr() as u64, l.len() as u64, 0, 0, 0],
            l.len() as u64,
        )
    });
    let mut done = [CompletionEntry::default(); 3];
    // SAFETY: the writes point at static byte strings.
    let batch_ok = unsafe { xsc_rt::batch::submit_and_reap(&entries, &mut done) }.is_ok()
        && done.iter().all(|c| c.result == c.user_data as i64);
    let _ = writeln!(
        sys::FdWriter(1),
        "batch of 3 writes -> {}",
        if batch_ok { "ok" } else { "WRONG" }
    );
    all &= batch_ok;

    if all {
        0
    } else {
        1
    }
}

#[panic_handler]
fn panic(info: &core::panic::PanicInfo) -> ! {
    let _ = writeln!(sys::FdWriter(2), "ring-abuse: {info}");
    sys::exit_group(101)
}
