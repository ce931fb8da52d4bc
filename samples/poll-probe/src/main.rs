//! poll-probe: who consumes an entry that is published without a `wait`?
//!
//! `poll-probe inline|polled`: pushes one `getppid` entry, publishes it as
//! an asynchronous submission (`Ring::submit`: the fence, and the doorbell
//! if `SQ_NEED_WAKEUP` is set; ABI §4.1) and then watches the completion
//! ring for up to two seconds without calling `wait`.
//!
//! - `inline`: no poller may exist, so nothing may complete before the
//!   thread's `wait` (ABI §4.2: "without a poller nothing completes until it
//!   calls wait"); the `wait` afterwards must then consume it.
//! - `polled`: a poller serves the ring, so the completion must appear by
//!   itself. Whether `SQ_POLLED` was seen set is reported, not required:
//!   a poller that shares the probe's CPU may set it, consume the entry
//!   and clear it again (going to sleep) while the probe does not run.
//!
//! Either way the completion must carry the entry's `user_data` and the
//! parent's pid. Exits 0 when all holds, 1 otherwise (saying what).
#![no_std]
#![no_main]

use core::fmt::Write as _;
use core::sync::atomic::Ordering;
use syscalls::Sysno;
use xsc_abi::ops::TimeFunction;
use xsc_abi::region::SQ_POLLED;
use xsc_abi::SubmissionEntry;
use xsc_rt::ring::Ring;
use xsc_rt::sys;

/// `CLOCK_MONOTONIC` (linux/time.h; neither `syscalls` nor `xsc-abi` has
/// clock ids).
const CLOCK_MONOTONIC: usize = 1;
/// How long the probe watches the completion ring, in nanoseconds.
const WATCH_NS: i64 = 2_000_000_000;
const USER_DATA: u64 = 0x5eed_0001;

fn now_ns(ring: &Ring) -> i64 {
    let mut ts = [0i64; 2];
    // SAFETY: `ts` is a timespec the call may write.
    let r = unsafe {
        xsc_rt::time::call(
            ring,
            TimeFunction::ClockGettime,
            [CLOCK_MONOTONIC, &mut ts as *mut _ as usize, 0],
        )
    };
    match r {
        Some(0) => ts[0] * 1_000_000_000 + ts[1],
        _ => fail(format_args!(
            "clock_gettime through the entry table failed: {r:?}"
        )),
    }
}

fn fail(what: core::fmt::Arguments) -> ! {
    let _ = writeln!(sys::FdWriter(2), "poll-probe: {what}");
    sys::exit_group(1)
}

#[no_mangle]
extern "C" fn xsc_main(argc: isize, argv: *const *const u8, _envp: *const *const u8) -> i32 {
    // SAFETY: the kernel passes argc valid argument strings.
    let mode = (argc == 2).then(|| unsafe {
        core::ffi::CStr::from_ptr(*argv.add(1) as *const core::ffi::c_char).to_bytes()
    });
    let polled = match mode {
        Some(b"inline") => false,
        Some(b"polled") => true,
        _ => {
            let _ = sys::write_all(2, b"usage: poll-probe inline|polled\n");
            return 2;
        }
    };
    let ring = Ring::current();
    let parent = sys::getppid();
    if !ring.claim() {
        fail(format_args!("the ring is claimed"));
    }
    let entry = SubmissionEntry::new(Sysno::getppid as u32, [0; 6], USER_DATA);
    // SAFETY: getppid has no pointer arguments; the claim is held.
    unsafe {
        if !ring.push(&entry, 0) {
            fail(format_args!("no free submission slot"));
        }
        ring.submit(1);
    }
    let flags = &unsafe { &*ring.region() }.sq_status.0.flags;
    let start = now_ns(&ring);
    let mut saw_polled = false;
    let mut by_itself = false;
    while now_ns(&ring) - start < WATCH_NS {
        saw_polled |= flags.load(Ordering::Relaxed) & SQ_POLLED != 0;
        if ring.cq_ready() > 0 {
            by_itself = true;
            break;
        }
        core::hint::spin_loop();
    }
    ring.wait(1);
    let Some(cqe) = ring.pop() else {
        fail(format_args!("no completion after wait"))
    };
    ring.release();
    let _ = writeln!(
        sys::FdWriter(1),
        "completed without wait: {}; SQ_POLLED seen: {}",
        if by_itself { "yes" } else { "no" },
        if saw_polled { "yes" } else { "no" }
    );
    // The completion as ring-abuse prints its own (the VM suite finds it in
    // the kernel's trace).
    let _ = writeln!(
        sys::FdWriter(1),
        "getppid: result={} flags={:#x} user_data={:#x}",
        cqe.result,
        cqe.flags,
        cqe.user_data
    );
    if cqe.user_data != USER_DATA || cqe.result != parent as i64 {
        fail(format_args!(
            "completion {:#x} result {}, expected {USER_DATA:#x} result {parent}",
            cqe.user_data, cqe.result
        ));
    }
    if polled && !by_itself {
        fail(format_args!(
            "polled mode, yet no poller consumed the entry"
        ));
    }
    if !polled && (by_itself || saw_polled) {
        fail(format_args!(
            "inline mode, yet the entry completed without wait"
        ));
    }
    0
}

#[panic_handler]
fn panic(_: &core::panic::PanicInfo) -> ! {
    let _ = sys::write_all(2, b"poll-probe: panic\n");
    sys::exit_group(101)
}
