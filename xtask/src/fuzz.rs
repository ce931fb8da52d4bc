//! `cargo xtask fuzz --minutes N`: the XSC kernel fuzzed through its rings
//! (issue 20), on the debug kernel (`cargo xtask kernel --debug`: KASAN,
//! UBSAN, KFENCE, lockdep, lockup and hung-task detection, booted with
//! panic_on_warn).
//!
//! The fuzzer is `kernel/fuzz/xsc_fuzz.c`, built with xsc-cc; the VM's
//! `/init` (`kernel/vm/init.c`) runs it as uid 65534 at two levels, system
//! calls with random well-typed arguments through the C library and the
//! ring itself (hostile entries, flags, indices, threads, fork and exit
//! with entries pending), first inline, then in polled mode, each for a
//! quarter of the time. A finding is a kernel report on the console, a
//! fuzzer that does not end (a task the kernel cannot kill), or a VM that
//! does not come back. `cargo xtask test` runs a short round
//! ([`SHORT_SECONDS`] per part).

use crate::cmd::{self, Result};
use crate::kernel::Flavour;
use crate::vm;
use std::path::Path;
use std::time::{Duration, Instant};

/// Each of the four parts of the short round in `cargo xtask test`.
pub const SHORT_SECONDS: u64 = 15;

#[derive(clap::Args)]
pub struct Args {
    /// The whole campaign's length (four parts: syscalls and ring, inline
    /// and polled).
    #[arg(long, default_value_t = 30)]
    minutes: u64,
    /// The random seed (printed, so that a run can be repeated).
    #[arg(long)]
    seed: Option<u64>,
}

pub fn run(args: Args) -> Result {
    crate::setup::run()?;
    campaign(args.minutes * 60 / 4, args.seed.unwrap_or_else(seed))
}

/// A new seed for each run (printed by the campaign, to repeat it).
pub fn seed() -> u64 {
    std::time::SystemTime::now()
        .duration_since(std::time::UNIX_EPOCH)
        .map_or(1, |d| d.as_secs())
}

/// One campaign: each part `seconds` long.
pub fn campaign(seconds: u64, seed: u64) -> Result {
    let kernel = vm::kernel(Flavour::Debug)?;
    let dir = cmd::root().join("target/fuzz");
    let root = dir.join("root");
    let _ = std::fs::remove_dir_all(&dir);
    for d in ["proc", "dev", "tmp", "tracing", "f"] {
        std::fs::create_dir_all(root.join(d)).map_err(|e| e.to_string())?;
    }
    let uapi = cmd::root().join("kernel/src/include/uapi");
    vm::compile(
        &vm::xsc_cc(),
        &["-Wall", "-Wextra"],
        &cmd::root().join("kernel/vm/init.c"),
        &root.join("init"),
    )?;
    vm::compile(
        &vm::xsc_cc(),
        &["-Wall", "-Wextra", "-I", uapi.to_str().unwrap_or_default()],
        &cmd::root().join("kernel/fuzz/xsc_fuzz.c"),
        &root.join("f/xsc_fuzz"),
    )?;
    // Each part gets a minute more than it runs before /init calls it hung.
    let mut lines = vec![format!("!timeout {}", seconds + 60)];
    let parts = ["syscalls", "ring"];
    for (i, part) in parts.iter().enumerate() {
        lines.push(format!(
            "fuzz/{part} - /f/xsc_fuzz {part} {seconds} {}",
            seed.wrapping_add(i as u64)
        ));
    }
    lines.push("!set /proc/sys/kernel/xsc_poll_us 200".into());
    for (i, part) in parts.iter().enumerate() {
        lines.push(format!(
            "polled/fuzz/{part} - /f/xsc_fuzz {part} {seconds} {}",
            seed.wrapping_add(10 + i as u64)
        ));
    }
    std::fs::write(root.join("cases"), lines.join("\n") + "\n").map_err(|e| e.to_string())?;
    let initrd = dir.join("root.cpio");
    vm::make_cpio(&root, &initrd)?;
    eprintln!("xtask: fuzzing the debug XSC kernel, seed {seed}, 4 parts of {seconds} s (TCG)");
    let limit = Duration::from_secs(4 * (seconds + 60) + 300);
    let start = Instant::now();
    let console = vm::boot(&kernel, &initrd, false, limit, Flavour::Debug)?.ok_or_else(|| {
        format!(
            "the fuzzed VM did not finish within {} s: a task the kernel cannot end, or a hung kernel",
            limit.as_secs()
        )
    })?;
    let elapsed = start.elapsed();
    std::fs::write(dir.join("console.txt"), &console).map_err(|e| e.to_string())?;
    report(&console, &lines, &dir, elapsed)
}

/// What the run found: the fuzzer's own summaries, and every problem.
fn report(console: &str, lines: &[String], dir: &Path, elapsed: Duration) -> Result {
    let reported = vm::parse(console);
    let mut problems: Vec<String> = vm::kernel_reports(console)
        .into_iter()
        .map(|l| format!("the kernel reported: {l}"))
        .collect();
    for line in lines.iter().filter(|l| !l.starts_with('!')) {
        let id = line.split(' ').next().unwrap_or_default();
        match reported.iter().find(|r| r.id == id) {
            None => problems.push(format!("{id}: not reported by the VM")),
            Some(r) => {
                for l in r.xsc_stdout.iter().filter(|l| l.starts_with("xsc_fuzz")) {
                    println!("fuzz: {id}: {l}");
                }
                if r.xsc != "exit 0" {
                    problems.push(format!("{id}: the fuzzer ended with {}", r.xsc));
                }
            }
        }
    }
    println!(
        "fuzz: {} parts on the debug kernel in {:.0} s: {} problem(s)",
        lines.iter().filter(|l| !l.starts_with('!')).count(),
        elapsed.as_secs_f64(),
        problems.len()
    );
    for p in &problems {
        println!("FINDING {p}");
    }
    if problems.is_empty() {
        Ok(())
    } else {
        Err(format!(
            "the fuzzer found {} problem(s) (console in {})",
            problems.len(),
            dir.join("console.txt").display()
        ))
    }
}
