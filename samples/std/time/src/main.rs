//! `time DIR`: std::time at work. Instant is monotonic and advances,
//! SystemTime is a plausible wall clock that agrees with a file's
//! modification time, thread::sleep sleeps at least as long as asked (and
//! not absurdly longer), and sleeps in several threads overlap. Only coarse,
//! deterministic facts are printed (never a measured time), so the output
//! is the same on XSC and natively. It writes one file in DIR, to compare
//! its modification time with the clock.

use std::path::Path;
use std::thread;
use std::time::{Duration, Instant, SystemTime, UNIX_EPOCH};

fn instant() {
    println!("== Instant");
    let start = Instant::now();
    let mut last = start;
    let mut backwards = 0;
    let mut advanced = 0;
    for _ in 0..10_000 {
        let now = Instant::now();
        if now < last {
            backwards += 1;
        }
        if now > last {
            advanced += 1;
        }
        last = now;
    }
    println!("10000 readings, went backwards {backwards} times");
    println!("advanced at least once: {}", advanced > 0);
    let later = start + Duration::from_secs(5);
    println!(
        "arithmetic: {:?} {:?}",
        later.duration_since(start),
        start.checked_duration_since(later)
    );
    println!(
        "saturating_duration_since the future: {:?}",
        start.saturating_duration_since(later)
    );
    println!(
        "elapsed is small: {}",
        start.elapsed() < Duration::from_secs(10)
    );
}

fn system_time(dir: &Path) {
    println!("== SystemTime");
    let now = SystemTime::now();
    let since = now.duration_since(UNIX_EPOCH).unwrap();
    // 2024-01-01 and 2100-01-01.
    println!(
        "after 2024 and before 2100: {}",
        since.as_secs() > 1_704_067_200 && since.as_secs() < 4_102_444_800
    );
    println!("has sub-second precision: {}", {
        // Some reading within a few tries is not a whole second.
        (0..5).any(|_| {
            SystemTime::now()
                .duration_since(UNIX_EPOCH)
                .unwrap()
                .subsec_nanos()
                != 0
        })
    });
    let p = dir.join("stamp.txt");
    std::fs::write(&p, "a file to compare the clock with\n").unwrap();
    let mtime = std::fs::metadata(&p).unwrap().modified().unwrap();
    let after = SystemTime::now();
    let diff = match after.duration_since(mtime) {
        Ok(d) => d,
        Err(e) => e.duration(),
    };
    println!(
        "a new file's mtime is within 2 s of the clock: {}",
        diff < Duration::from_secs(2)
    );
    println!(
        "duration_since a later time is an error: {}",
        now.duration_since(now + Duration::from_secs(1)).is_err()
    );
    println!(
        "UNIX_EPOCH + 1e9 s: {:?}",
        (UNIX_EPOCH + Duration::from_secs(1_000_000_000))
            .duration_since(UNIX_EPOCH)
            .unwrap()
    );
    let t0 = SystemTime::now();
    thread::sleep(Duration::from_millis(20));
    let el = t0.elapsed().unwrap();
    println!(
        "SystemTime::elapsed over a 20 ms sleep is at least 20 ms: {}",
        el >= Duration::from_millis(20)
    );
}

fn sleeps() {
    println!("== thread::sleep");
    for ms in [1u64, 10, 50, 120] {
        let want = Duration::from_millis(ms);
        let t = Instant::now();
        thread::sleep(want);
        let got = t.elapsed();
        println!(
            "slept at least {ms} ms: {}; less than {ms} ms + 2 s: {}",
            got >= want,
            got < want + Duration::from_secs(2)
        );
    }
    let t = Instant::now();
    thread::sleep(Duration::ZERO);
    println!(
        "sleep(0) returns at once: {}",
        t.elapsed() < Duration::from_secs(1)
    );
    // Four threads sleep 300 ms each at the same time: the sleeps overlap.
    let t = Instant::now();
    let hs: Vec<_> = (0..4)
        .map(|_| {
            thread::spawn(|| {
                let t = Instant::now();
                thread::sleep(Duration::from_millis(300));
                t.elapsed() >= Duration::from_millis(300)
            })
        })
        .collect();
    let all: Vec<bool> = hs.into_iter().map(|h| h.join().unwrap()).collect();
    let total = t.elapsed();
    println!("each of 4 threads slept at least 300 ms: {all:?}");
    println!(
        "4 parallel sleeps of 300 ms took less than 1100 ms: {}",
        total < Duration::from_millis(1100)
    );
}

fn durations() {
    println!("== Duration");
    let d = Duration::from_secs_f64(1.5) + Duration::from_micros(250);
    println!(
        "{d:?} = {} ms = {} us; as_secs_f64 {}",
        d.as_millis(),
        d.as_micros(),
        d.as_secs_f64()
    );
    println!(
        "checked_sub underflow: {:?}",
        Duration::from_secs(1).checked_sub(Duration::from_secs(2))
    );
}

fn main() {
    let Some(dir) = std::env::args_os().nth(1) else {
        eprintln!("usage: time DIR");
        std::process::exit(2);
    };
    instant();
    system_time(Path::new(&dir));
    sleeps();
    durations();
}
