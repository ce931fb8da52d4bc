//! `bench-mixed THREADS CALLS`: THREADS threads, started together, each
//! making CALLS calls through libc, cycling through getppid,
//! clock_gettime, a 64-byte write to /dev/null, fstat, lseek and a 64-byte
//! read from /dev/zero (the descriptors are shared by all threads).
//! Prints `calls N` (all of them) and `errors E` (calls that did not
//! return what they should: 0).

use std::os::fd::AsRawFd;
use std::sync::atomic::{AtomicU64, Ordering};
use std::sync::Barrier;

fn usage() -> ! {
    eprintln!("usage: bench-mixed THREADS CALLS");
    std::process::exit(2)
}

/// One call of the mix; true if it returned what it should.
fn call(i: u64, null: i32, zero: i32, buf: &mut [u8; 64]) -> bool {
    // SAFETY: every pointer is to a live local or to `buf` with its
    // length; the descriptors stay open while the threads run.
    unsafe {
        match i % 6 {
            0 => libc::getppid() > 0,
            1 => {
                let mut ts: libc::timespec = std::mem::zeroed();
                libc::clock_gettime(libc::CLOCK_MONOTONIC, &mut ts) == 0
            }
            2 => libc::write(null, buf.as_ptr().cast(), buf.len()) == 64,
            3 => {
                let mut st: libc::stat = std::mem::zeroed();
                libc::fstat(null, &mut st) == 0
            }
            4 => libc::lseek(zero, 0, libc::SEEK_SET) == 0,
            _ => libc::read(zero, buf.as_mut_ptr().cast(), buf.len()) == 64,
        }
    }
}

fn main() {
    let args: Vec<u64> = std::env::args()
        .skip(1)
        .map(|a| a.parse().unwrap_or_else(|_| usage()))
        .collect();
    let [threads, calls] = <[u64; 2]>::try_from(args).unwrap_or_else(|_| usage());
    let null = std::fs::OpenOptions::new()
        .write(true)
        .open("/dev/null")
        .expect("open /dev/null");
    let zero = std::fs::File::open("/dev/zero").expect("open /dev/zero");
    let (null_fd, zero_fd) = (null.as_raw_fd(), zero.as_raw_fd());
    let start = Barrier::new(threads as usize);
    let (done, errors) = (AtomicU64::new(0), AtomicU64::new(0));
    std::thread::scope(|s| {
        for t in 0..threads {
            let (start, done, errors) = (&start, &done, &errors);
            s.spawn(move || {
                let mut buf = [t as u8; 64];
                start.wait();
                let mut bad = 0;
                for i in 0..calls {
                    bad += u64::from(!call(i + t, null_fd, zero_fd, &mut buf));
                }
                done.fetch_add(calls, Ordering::Relaxed);
                errors.fetch_add(bad, Ordering::Relaxed);
            });
        }
    });
    println!("calls {}", done.load(Ordering::Relaxed));
    println!("errors {}", errors.load(Ordering::Relaxed));
}
