//! `cargo run --release -p xsc-elfcheck --example throughput -- FILE...`:
//! megabytes of executable memory checked per second by the library (best
//! of 5 runs, file already in memory), side by side with `objdump -d` on
//! the same file when objdump is installed. The numbers in README.md come
//! from here.

use std::process::{Command, Stdio};
use std::time::{Duration, Instant};

fn mbps(bytes: u64, d: Duration) -> f64 {
    bytes as f64 / 1e6 / d.as_secs_f64()
}

fn main() {
    let files: Vec<String> = std::env::args().skip(1).collect();
    if files.is_empty() {
        eprintln!("usage: throughput FILE...");
        std::process::exit(2);
    }
    for path in files {
        let data = match std::fs::read(&path) {
            Ok(d) => d,
            Err(e) => {
                eprintln!("{path}: {e}");
                continue;
            }
        };
        let mut best = Duration::MAX;
        let mut bytes = 0;
        for _ in 0..5 {
            match xsc_elfcheck::throughput(&data) {
                Ok((b, d)) => {
                    bytes = b;
                    best = best.min(d);
                }
                Err(e) => {
                    eprintln!("{path}: could not check: {e}");
                    break;
                }
            }
        }
        if best == Duration::MAX {
            continue;
        }
        print!(
            "{path}: {:.1} MB executable, xsc-elfcheck {:.3} s = {:.0} MB/s",
            bytes as f64 / 1e6,
            best.as_secs_f64(),
            mbps(bytes, best)
        );
        let t = Instant::now();
        let objdump = Command::new("objdump")
            .args(["-d", "--no-show-raw-insn", &path])
            .stdout(Stdio::null())
            .stderr(Stdio::null())
            .status();
        match objdump {
            Ok(s) if s.success() => {
                let d = t.elapsed();
                println!(
                    "; objdump -d {:.3} s = {:.0} MB/s",
                    d.as_secs_f64(),
                    mbps(bytes, d)
                );
            }
            _ => println!("; objdump -d not run"),
        }
    }
}
