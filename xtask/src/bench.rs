//! `cargo xtask bench`: real programs and per-call costs, each measured
//! natively and under XSC in one run, side by side, and reported as
//! ratios XSC / native (issue 8's rows and targets). Nothing here asserts
//! a time: the table says which targets are met.
//!
//! The programs (samples/bench, published crates included) are built from
//! the same source for the host and for `x86_64-unknown-linux-xsc`, both
//! with the `xsc` toolchain's compiler; the native build runs directly,
//! the XSC build as `$XSC_HOME/bin/xsc-run PROGRAM ARGS`. Each row takes
//! `--runs` runs of each side, alternating which side goes first, and
//! reports medians. Wall time is from before the spawn to after the wait;
//! CPU time is the user + system time `wait4` reports for the program
//! (xsc-run's kernel threads included, as they are part of its process).
//! The per-call rows (trivial call, 64-entry batch) are timed inside the
//! programs: on XSC by the no_std `ring-bench` sample (xsc-rt's call path
//! and its batch API) under xsc-run, natively by `bench-calls` (release
//! build: this xtask is a debug build, whose loop overhead would flatter
//! XSC), which also runs on XSC for the same source through libc.
//!
//! Results: a table on standard output and `target/bench/bench.json`.

mod data;
pub(crate) mod measure;
pub(crate) mod report;
mod verifier;

use crate::cmd::{self, Result};
use measure::{median, Finished};
use report::{Metric, Target};
use std::path::{Path, PathBuf};
use std::process::Command;
use std::time::{Duration, Instant};

/// A row (or group of rows) of the table, as `--only` names it.
#[derive(Clone, Copy, Debug, PartialEq, Eq, clap::ValueEnum)]
pub enum Row {
    /// A trivial call (getppid) through the ring, per call.
    Trivial,
    /// A 64-entry batch of getppid, per entry.
    Batch,
    /// Parallel directory search, default thread count.
    Search,
    /// Parallel directory search, one thread (-j1).
    SearchJ1,
    /// Read and checksum a 1 GiB file in 64 KiB reads.
    Read,
    /// tokio TCP echo on loopback: requests per second, p99 latency.
    Tcp,
    /// fork + exec + wait of a small program, 1000 times; the same through
    /// std's Command (posix_spawn); thread spawn + join, 5000 times.
    Spawn,
    /// 64 threads making 100k mixed calls each.
    Threads,
    /// malloc/realloc/free, one thread and two threads.
    Alloc,
    /// CPU used while blocked in read for 5 s.
    Idle,
    /// The trivial call, the batch and a real program inside a VM running
    /// the XSC kernel (kernel/), XSC against native in the same VM.
    Vm,
    /// The verifier's throughput against objdump (not a ratio row).
    Verifier,
}

#[derive(clap::Args)]
pub struct Args {
    /// Runs of each side (native, XSC) per row; the table shows medians.
    #[arg(long, default_value_t = 5)]
    runs: usize,
    /// Only these rows (comma-separated, or the option repeated).
    #[arg(long, value_enum, value_delimiter = ',')]
    only: Vec<Row>,
    /// Calls per measurement of the trivial-call and batch rows.
    #[arg(long, default_value_t = 200_000)]
    calls: u64,
    /// Use the installed toolchain as it is, without `cargo xtask setup`
    /// first (the no_std ring-bench is built from this tree's xsc-rt, so
    /// the installed xsc-run must speak the same ABI).
    #[arg(long)]
    skip_setup: bool,
    /// Seconds after which one run of a program is stopped and its row
    /// reported as not measured.
    #[arg(long, default_value_t = 900)]
    timeout: u64,
}

/// The sizes of the rows (the issue's, where it names them).
const SEARCH_MIN_FILES: usize = 30_000;
/// A generated tree has this many cubed files (32768).
const TREE_FANOUT: u64 = 32;
const SEARCH_PATTERN: &str = r"fn (sort|parse)_[0-9]+\(";
const READ_BYTES: u64 = 1 << 30;
const READ_CHUNK: u64 = 64 << 10;
const TCP_CONNECTIONS: u32 = 4;
const TCP_REQUESTS: u32 = 10_000;
const TCP_MESSAGE: u32 = 64;
const SPAWNS: u64 = 1000;
const THREAD_SPAWNS: u64 = 5000;
const THREADS: u64 = 64;
const THREAD_CALLS: u64 = 100_000;
const ALLOC_OPS: u64 = 2_000_000;
const IDLE: Duration = Duration::from_secs(5);

/// Which build runs.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
enum Side {
    Native,
    Xsc,
}

impl Side {
    fn name(self) -> &'static str {
        match self {
            Side::Native => "native",
            Side::Xsc => "xsc",
        }
    }

    /// Run `run` goes native first when even, XSC first when odd.
    fn order(run: usize) -> [Side; 2] {
        if run.is_multiple_of(2) {
            [Side::Native, Side::Xsc]
        } else {
            [Side::Xsc, Side::Native]
        }
    }
}

struct Ctx {
    runs: usize,
    timeout: Duration,
    xsc_run: PathBuf,
    /// samples/bench built for the host and for XSC, or why not.
    programs: Result<[PathBuf; 2]>,
}

impl Ctx {
    fn dir(&self, side: Side) -> Result<&Path> {
        let [native, xsc] = self.programs.as_ref()?;
        Ok(match side {
            Side::Native => native,
            Side::Xsc => xsc,
        })
    }

    /// The command running samples/bench's `program` on `side`.
    fn command(&self, side: Side, program: &str, args: &[String]) -> Result<Command> {
        let exe = self.dir(side)?.join(program);
        let mut c = match side {
            Side::Native => Command::new(exe),
            Side::Xsc => {
                let mut c = Command::new(&self.xsc_run);
                c.arg(exe);
                c
            }
        };
        c.args(args);
        Ok(c)
    }
}

/// Builds samples/bench for the host and for XSC (release); returns the
/// two output directories.
fn build_programs() -> Result<[PathBuf; 2]> {
    let dir = cmd::root().join("samples/bench");
    let xsc = std_xsc::Arch::X86_64.xsc_target();
    cmd::run(std_xsc::toolchain::cargo_xsc(&dir).args(["build", "--release", "--workspace"]))?;
    cmd::run(std_xsc::toolchain::cargo_xsc(&dir).args([
        "build",
        "--release",
        "--workspace",
        "--target",
        &xsc,
    ]))?;
    let target = dir.join("target");
    Ok([target.join("release"), target.join(xsc).join("release")])
}

/// Runs the row's program `ctx.runs` times per side (after `warm_up`
/// untimed runs of each), alternating which side goes first. The values
/// named in `same` must be equal in every run of both sides; `extract`
/// turns a run into one number per metric (in `metrics`' order). On a
/// failure, every metric of the row gets the reason and the runs so far.
fn pairs(
    ctx: &Ctx,
    metrics: &mut [Metric],
    warm_up: usize,
    make: &dyn Fn(Side) -> Result<Command>,
    same: &[&str],
    extract: &dyn Fn(&Finished) -> Result<Vec<f64>>,
) {
    let label = metrics.first().map_or("", |m| m.row);
    let mut reference: Option<(Side, Finished)> = None;
    let mut one = |run: usize, side: Side, timed: bool, metrics: &mut [Metric]| -> Result {
        let f = measure::run(&mut make(side)?, ctx.timeout)?;
        if let Some((ref_side, r)) = &reference {
            for key in same {
                if r.values.get(*key) != f.values.get(*key) {
                    return Err(format!(
                        "{} printed `{key} {}` where {} printed `{key} {}`",
                        side.name(),
                        f.values.get(*key).map_or("(nothing)", |s| s),
                        ref_side.name(),
                        r.values.get(*key).map_or("(nothing)", |s| s),
                    ));
                }
            }
        }
        let values = extract(&f)?;
        eprintln!(
            "xtask: bench: {label} {} {side:?}: {:.3} s wall, {:.3} s CPU",
            if timed {
                format!("run {}/{}", run + 1, ctx.runs)
            } else {
                "warm-up".to_string()
            },
            f.wall,
            f.cpu
        );
        if timed {
            for (m, v) in metrics.iter_mut().zip(values) {
                match side {
                    Side::Native => m.native.push(v),
                    Side::Xsc => m.xsc.push(v),
                }
            }
        }
        if reference.is_none() {
            reference = Some((side, f));
        }
        Ok(())
    };
    let plan = (0..warm_up)
        .map(|r| (r, false))
        .chain((0..ctx.runs).map(|r| (r, true)));
    for (run, timed) in plan {
        for side in Side::order(run) {
            if let Err(e) = one(run, side, timed, metrics) {
                let e = format!("{} run: {e}", side.name());
                eprintln!("xtask: bench: {label}: {e}");
                for m in metrics.iter_mut() {
                    m.error = Some(e.clone());
                }
                return;
            }
        }
    }
}

/// The VM rows (crate::vm::bench): one boot of the XSC kernel under qemu
/// runs every run of both sides.
fn vm_rows(runs: usize, calls: u64) -> Vec<Metric> {
    match crate::vm::bench(runs, calls) {
        Ok((measures, accel)) => {
            eprintln!("xtask: bench: the VM rows ran with {accel}");
            measures
                .into_iter()
                .map(|m| {
                    let mut metric = Metric::new("vm", m.name, m.unit).detail(m.detail);
                    metric.native = m.native;
                    metric.xsc = m.xsc;
                    metric
                })
                .collect()
        }
        Err(e) => fail(
            crate::vm::bench_rows()
                .into_iter()
                .map(|(name, unit)| Metric::new("vm", name, unit))
                .collect(),
            &e,
        ),
    }
}

/// Sets `e` as the error of every metric (a row that could not start).
fn fail(mut metrics: Vec<Metric>, e: &str) -> Vec<Metric> {
    for m in &mut metrics {
        m.error = Some(e.to_string());
    }
    metrics
}

fn trivial_and_batch(
    ctx: &Ctx,
    rows: &[Row],
    calls: u64,
    floor: &mut Vec<f64>,
    guarded: &mut Vec<f64>,
) -> Vec<Metric> {
    let detail = format!(
        "{calls} getppid calls per run: natively raw system calls through libc's syscall() (bench-calls), on XSC the no_std ring-bench sample (xsc-rt) under xsc-run"
    );
    let mut metrics = vec![
        Metric::new("trivial", "trivial call (getppid), per call", "ns")
            .target(Target::AtMost(1.5))
            .detail(detail.clone()),
        Metric::new("trivial", "  the same, inline thread_call", "ns").detail(detail.clone()),
        Metric::new("trivial", "  the same, libc's syscall() on both", "ns").detail(format!(
            "{calls} getppid calls through libc's syscall() in bench-calls, built for both (on XSC: the musl fork into xsc-rt)"
        )),
        Metric::new("batch", "64-entry batch (getppid), per entry", "ns")
            .target(Target::AtMost(1.0))
            .detail(format!(
                "{calls} getppid calls per run; XSC: xsc_rt::batch::submit_and_reap of 64 entries in ring-bench, native: groups of 64 system calls in bench-calls, results checked after each batch or group on both"
            )),
    ];
    let ring_bench = match cmd::build_samples(true) {
        Ok(d) => d.join("ring-bench"),
        Err(e) => return fail(metrics, &format!("building the samples failed: {e}")),
    };
    let n = calls.to_string();
    let mut side_values = |side: Side| -> Result<Vec<f64>> {
        match side {
            Side::Native => {
                let mut c = ctx.command(
                    side,
                    "bench-calls",
                    &[n.clone(), "round-trip".into(), "guarded".into()],
                )?;
                let f = measure::run(&mut c, ctx.timeout)?;
                if let Ok(rt) = f.number("round_trip_ns") {
                    floor.push(rt);
                }
                if let Ok(g) = f.number("guarded_call_ns") {
                    guarded.push(g);
                }
                let call = f.number("call_ns")?;
                Ok(vec![call, call, call, f.number("group_ns_per_call")?])
            }
            Side::Xsc => {
                let ring = measure::run(
                    Command::new(&ctx.xsc_run).arg(&ring_bench).arg(&n),
                    ctx.timeout,
                )?;
                let libc = measure::run(
                    &mut ctx.command(side, "bench-calls", std::slice::from_ref(&n))?,
                    ctx.timeout,
                )?;
                Ok(vec![
                    ring.number("ring_ns_per_call")?,
                    ring.number("inline_ns_per_call")?,
                    libc.number("call_ns")?,
                    ring.number("batch_ns_per_entry")?,
                ])
            }
        }
    };
    for run in 0..ctx.runs {
        for side in Side::order(run) {
            match side_values(side) {
                Ok(v) => {
                    eprintln!(
                        "xtask: bench: trivial/batch run {}/{} {side:?}: {:.1} ns per call, {:.1} ns per batched entry",
                        run + 1,
                        ctx.runs,
                        v[0],
                        v[3]
                    );
                    for (m, v) in metrics.iter_mut().zip(v) {
                        match side {
                            Side::Native => m.native.push(v),
                            Side::Xsc => m.xsc.push(v),
                        }
                    }
                }
                Err(e) => return fail(metrics, &format!("{} run: {e}", side.name())),
            }
        }
    }
    metrics.retain(|m| {
        rows.iter()
            .any(|r| m.row == if *r == Row::Batch { "batch" } else { "trivial" })
    });
    metrics
}

fn search(ctx: &Ctx, threads: u32, tree: &Result<(PathBuf, usize)>) -> Vec<Metric> {
    let (row, what) = match threads {
        0 => ("search", "default threads"),
        _ => ("search-j1", "one thread"),
    };
    let mut metrics = vec![
        Metric::new(row, format!("parallel search, {what}: wall"), "s").target(Target::AtMost(1.2)),
        Metric::new(row, format!("parallel search, {what}: CPU"), "s").target(Target::AtMost(1.3)),
    ];
    let (tree, files) = match tree {
        Ok(t) => t,
        Err(e) => return fail(metrics, &format!("no tree to search: {e}")),
    };
    let args = vec![
        format!("-j{threads}"),
        SEARCH_PATTERN.to_string(),
        tree.display().to_string(),
    ];
    for m in &mut metrics {
        m.detail = format!(
            "bench-search {} over {files} files (ignore's parallel walk, grep-searcher with a grep-regex matcher; -j0: ignore's default)",
            args.join(" ")
        );
    }
    pairs(
        ctx,
        &mut metrics,
        1,
        &|side| ctx.command(side, "bench-search", &args),
        &["files", "matched_files", "lines", "errors"],
        &|f| {
            // ignore skips hidden and ignored files: what the walk found
            // may be a little less than the tree holds, never less than
            // the row's minimum.
            let (searched, errors) = (f.number("files")?, f.number("errors")?);
            if errors != 0.0 || searched < SEARCH_MIN_FILES as f64 {
                return Err(format!(
                    "searched {searched} files (at least {SEARCH_MIN_FILES} wanted) with {errors} errors"
                ));
            }
            Ok(vec![f.wall, f.cpu])
        },
    );
    metrics
}

fn read(ctx: &Ctx, file: &Result<PathBuf>) -> Vec<Metric> {
    let detail = format!(
        "bench-readsum: {} MiB in {} KiB reads, one thread, page cache warm",
        READ_BYTES >> 20,
        READ_CHUNK >> 10
    );
    let mut metrics = vec![
        Metric::new("read", "1 GiB read-and-checksum: wall", "s")
            .target(Target::AtMost(1.1))
            .detail(detail.clone()),
        Metric::new("read", "1 GiB read-and-checksum: CPU", "s").detail(detail),
    ];
    let file = match file {
        Ok(f) => f,
        Err(e) => return fail(metrics, &format!("no file to read: {e}")),
    };
    if let Err(e) = data::warm(file) {
        return fail(metrics, &e);
    }
    let args = vec![file.display().to_string()];
    pairs(
        ctx,
        &mut metrics,
        1,
        &|side| ctx.command(side, "bench-readsum", &args),
        &["bytes", "reads", "checksum"],
        &|f| {
            let (bytes, reads) = (f.number("bytes")?, f.number("reads")?);
            if bytes != READ_BYTES as f64 || reads != (READ_BYTES / READ_CHUNK) as f64 {
                return Err(format!("read {bytes} bytes in {reads} reads"));
            }
            Ok(vec![f.wall, f.cpu])
        },
    );
    metrics
}

fn tcp(ctx: &Ctx) -> Vec<Metric> {
    let detail = format!(
        "bench-tcp-echo: {TCP_CONNECTIONS} connections x {TCP_REQUESTS} ping-pong requests of {TCP_MESSAGE} bytes, server and clients on one tokio multi-threaded runtime"
    );
    let mut metrics = vec![
        Metric::new("tcp", "tokio TCP echo: throughput", "req/s").target(Target::AtLeast(0.9)),
        Metric::new("tcp", "tokio TCP echo: p99 latency", "us").target(Target::AtMost(1.2)),
        Metric::new("tcp", "tokio TCP echo: wall", "s"),
        Metric::new("tcp", "tokio TCP echo: CPU", "s"),
    ];
    for m in &mut metrics {
        m.detail = detail.clone();
    }
    let args: Vec<String> = [TCP_CONNECTIONS, TCP_REQUESTS, TCP_MESSAGE]
        .iter()
        .map(|n| n.to_string())
        .collect();
    pairs(
        ctx,
        &mut metrics,
        0,
        &|side| ctx.command(side, "bench-tcp-echo", &args),
        &["requests"],
        &|f| {
            Ok(vec![
                f.number("requests_per_s")?,
                f.number("p99_us")?,
                f.wall,
                f.cpu,
            ])
        },
    );
    metrics
}

fn spawn(ctx: &Ctx) -> Vec<Metric> {
    let child = |side: Side| -> Result<String> {
        Ok(ctx
            .dir(side)?
            .join("bench-spawn-child")
            .display()
            .to_string())
    };
    let mut metrics = spawn_rows(
        ctx,
        "fork + exec + wait",
        ("ms", 1e3 / SPAWNS as f64),
        format!("bench-spawn: {SPAWNS} x fork, execve of bench-spawn-child (a std program that returns), waitpid; the whole run's time / {SPAWNS}"),
        &|side| Ok(vec![child(side)?, SPAWNS.to_string()]),
    );
    // How real programs spawn: std's Command, which the C library makes a
    // vfork-style clone (CLONE_VM | CLONE_VFORK) in posix_spawn.
    metrics.extend(spawn_rows(
        ctx,
        "Command spawn + exec + wait",
        ("ms", 1e3 / SPAWNS as f64),
        format!("bench-spawn --command: {SPAWNS} x Command::new(bench-spawn-child).status() (posix_spawn); the whole run's time / {SPAWNS}"),
        &|side| Ok(vec!["--command".to_string(), child(side)?, SPAWNS.to_string()]),
    ));
    // Threads: a clone, a ring region and a runner thread each under XSC.
    metrics.extend(spawn_rows(
        ctx,
        "thread spawn + join",
        ("us", 1e6 / THREAD_SPAWNS as f64),
        format!("bench-spawn --thread: {THREAD_SPAWNS} x std::thread::spawn + join of a thread that returns; the whole run's time / {THREAD_SPAWNS}"),
        &|_| Ok(vec!["--thread".to_string(), THREAD_SPAWNS.to_string()]),
    ));
    metrics
}

/// The wall and CPU rows of one kind of spawn: `bench-spawn ARGS` on each
/// side, its times scaled to one spawn in `unit` (`(name, factor)`).
fn spawn_rows(
    ctx: &Ctx,
    what: &str,
    unit: (&'static str, f64),
    detail: String,
    args: &dyn Fn(Side) -> Result<Vec<String>>,
) -> Vec<Metric> {
    let (name, each) = unit;
    let mut metrics = vec![
        Metric::new("spawn", format!("{what}: wall, each"), name)
            .target(Target::AtMost(1.5))
            .detail(detail.clone()),
        Metric::new("spawn", format!("{what}: CPU, each"), name).detail(detail),
    ];
    let make = |side: Side| ctx.command(side, "bench-spawn", &args(side)?);
    pairs(ctx, &mut metrics, 0, &make, &["spawned"], &|f| {
        Ok(vec![f.wall * each, f.cpu * each])
    });
    metrics
}

/// Median wall time of `xsc-run --version` in ms: the runner's own start
/// (dynamic loading, the C library's set-up), which every exec of an XSC
/// binary pays before the program's.
fn runner_start_ms(ctx: &Ctx) -> Option<f64> {
    let mut v = Vec::new();
    for _ in 0..20 {
        let t = Instant::now();
        let ok = Command::new(&ctx.xsc_run)
            .arg("--version")
            .stdout(std::process::Stdio::null())
            .status()
            .is_ok_and(|s| s.success());
        if !ok {
            return None;
        }
        v.push(t.elapsed().as_secs_f64() * 1e3);
    }
    median(&v)
}

/// For each row whose target is missed: what the measurements say about
/// why, and what would close the gap.
fn why_missed(
    metrics: &[Metric],
    guarded_ns: Option<f64>,
    round_trip_ns: Option<f64>,
    runner_start_ms: Option<f64>,
) -> String {
    use std::fmt::Write as _;
    let mut s = String::new();
    let medians = |name: &str| {
        metrics
            .iter()
            .find(|m| m.name.starts_with(name))
            .and_then(|m| Some((median(&m.native)?, median(&m.xsc)?, m.ratio()?)))
    };
    // One explanation per row (a row's wall and CPU lines share it).
    let mut missed: Vec<&Metric> = metrics.iter().filter(|m| m.met() == Some(false)).collect();
    // (Each counted VM row has its own: its figures say where it goes.)
    missed.dedup_by(|a, b| a.row == b.row && !a.name.starts_with("in the VM, counted"));
    if missed.is_empty() {
        return s;
    }
    let _ = writeln!(
        s,
        "
targets missed, and why:"
    );
    if let Some(g) = guarded_ns {
        let _ = writeln!(
            s,
            "- the trap guard's floor: a native call from a thread with Syscall User Dispatch on (as every XSC thread runs) costs {g:.1} ns"
        );
    }
    for m in missed {
        let line = if m.name.starts_with("in the VM, counted") {
            crate::count::why(m)
        } else if m.name.starts_with("trivial call") || m.name.starts_with("64-entry batch") {
            let Some((n, x, _)) = medians(&m.name) else {
                continue;
            };
            let g = guarded_ns.unwrap_or(n);
            format!(
                "- {}: every entry is a host system call the submitting thread makes itself (inline): {n:.1} ns natively, {:.1} ns more for the guard's entry path, and {:.1} ns of XSC bookkeeping (runtime, entry, copy, checks, completion). Going below the native call needs entries served without a host call each, or beside the caller by a poller on an idle CPU, whose hand-off costs a cross-core round trip ({}).",
                m.name,
                g - n,
                x - g,
                round_trip_ns.map_or("not measured".into(), |r| format!("{r:.0} ns"))
            )
        } else if m.name.starts_with("parallel search, default threads") {
            let one = medians("parallel search, one thread: wall").map(|(_, _, r)| r);
            format!(
                "- {}: with one thread the same search runs at {} of native; the extra cost with threads is the threads' traffic through the libc fork (its allocator: musl's oldmalloc, shared bins behind a per-thread cache of small chunks, where glibc natively keeps per-thread arenas; compare the allocation rows) and the cross-core hand-offs of their futex waits.",
                m.name,
                one.map_or("?".into(), |r| format!("{r:.2}"))
            )
        } else if m.name.starts_with("allocation") {
            format!(
                "- {}: both sides use their libc's malloc. The musl fork's is oldmalloc with a per-thread cache of chunks up to 4 KiB (patch 0016), which gives memory back only from free chunks over 4 MiB (patch 0019); larger chunks go through bins shared by all threads, behind locks (one of them global, for splitting and merging), where glibc gives each thread an arena of its own. Per-thread arenas for large chunks would close the rest.",
                m.name
            )
        } else if m.name.starts_with("fork + exec + wait") {
            let Some((n, x, _)) = medians(&m.name) else {
                continue;
            };
            format!(
                "- {}: each exec of an XSC binary first starts xsc-run itself (static, musl): `xsc-run --version` alone takes {}, of the {:.2} ms XSC spends against {n:.2} ms natively; the rest is loading the program, its ring region and trap guard. Executing the new image inside the running kernel side (no new xsc-run) would close it.",
                m.name,
                runner_start_ms.map_or("?".into(), |r| format!("{r:.2} ms")),
                x
            )
        } else {
            format!("- {}: no analysis recorded for this row", m.name)
        };
        let _ = writeln!(s, "{line}");
    }
    s
}

fn threads(ctx: &Ctx) -> Vec<Metric> {
    let detail = format!(
        "bench-mixed: {THREADS} threads x {THREAD_CALLS} calls (getppid, clock_gettime, write /dev/null, fstat, lseek, read /dev/zero)"
    );
    let mut metrics = vec![
        Metric::new("threads", "64 threads x 100k mixed calls: wall", "s")
            .target(Target::AtMost(1.2))
            .detail(detail.clone()),
        Metric::new("threads", "64 threads x 100k mixed calls: CPU", "s")
            .target(Target::AtMost(1.3))
            .detail(detail),
    ];
    let args = vec![THREADS.to_string(), THREAD_CALLS.to_string()];
    pairs(
        ctx,
        &mut metrics,
        0,
        &|side| ctx.command(side, "bench-mixed", &args),
        &["calls", "errors"],
        &|f| {
            if f.number("errors")? != 0.0 {
                return Err(format!("{} calls failed", f.number("errors")?));
            }
            Ok(vec![f.wall, f.cpu])
        },
    );
    metrics
}

/// The libc's allocator under load: `threads` threads, each making
/// [`ALLOC_OPS`] allocations (8 B to 64 KiB, some grown, some freed by
/// another thread). Both sides use their libc's `malloc` (glibc's
/// natively, the musl fork's on XSC), so the row compares the two
/// allocators as much as the rings.
fn alloc(ctx: &Ctx, threads: u64) -> Vec<Metric> {
    let detail = format!(
        "bench-alloc: {threads} thread(s) x {ALLOC_OPS} allocations of 8 B to 64 KiB (window of 64 live blocks, every 8th grown, every 16th freed by another thread)"
    );
    let what = if threads == 1 {
        "1 thread"
    } else {
        "2 threads"
    };
    let mut metrics = vec![
        Metric::new("alloc", format!("allocation, {what}: wall"), "s")
            .target(Target::AtMost(1.2))
            .detail(detail.clone()),
        Metric::new("alloc", format!("allocation, {what}: CPU"), "s")
            .target(Target::AtMost(1.2))
            .detail(detail),
    ];
    let args = vec![threads.to_string(), ALLOC_OPS.to_string()];
    pairs(
        ctx,
        &mut metrics,
        0,
        &|side| ctx.command(side, "bench-alloc", &args),
        &["ops", "checksum"],
        &|f| Ok(vec![f.wall, f.cpu]),
    );
    metrics
}

/// Both sides blocked at the same time (they do not compete for a CPU):
/// each prints `ready`, then blocks in `read` on a pipe this process
/// holds and never writes. The CPU their threads run during the next
/// [`IDLE`] is read from the scheduler's account (/proc/PID/task/*/
/// schedstat: xsc-run's own threads included); then the pipes are closed
/// and the programs exit.
fn idle(ctx: &Ctx) -> Vec<Metric> {
    let mut metric = Metric::new("idle", "blocked in read for 5 s: CPU", "ms")
        .target(Target::IdleZero)
        .detail(format!(
            "bench-idle blocked in read on a pipe nobody writes; CPU run by all its threads (xsc-run's included) over {} s, from /proc/PID/task/*/schedstat",
            IDLE.as_secs()
        ));
    let once = |run: usize| -> Result<[f64; 2]> {
        let mut started = Vec::new();
        for side in Side::order(run) {
            let mut s = measure::start(&mut ctx.command(side, "bench-idle", &[])?, true)?;
            let line = s.read_line()?;
            if line != "ready" {
                return Err(format!("{} printed `{line}`, not `ready`", side.name()));
            }
            started.push((side, s));
        }
        // Let both settle into the read.
        std::thread::sleep(Duration::from_millis(100));
        let before: Vec<u64> = started
            .iter()
            .map(|(_, s)| measure::task_cpu_ns(s.pid()))
            .collect::<Result<_>>()?;
        std::thread::sleep(IDLE);
        let after: Vec<u64> = started
            .iter()
            .map(|(_, s)| measure::task_cpu_ns(s.pid()))
            .collect::<Result<_>>()?;
        let mut out = [0.0; 2];
        for (i, (side, mut s)) in started.into_iter().enumerate() {
            s.close_stdin();
            s.finish(ctx.timeout)?;
            out[side as usize] = after[i].saturating_sub(before[i]) as f64 / 1e6;
        }
        Ok(out)
    };
    let span = IDLE.as_secs_f64() * 1e3;
    for run in 0..ctx.runs {
        match once(run) {
            Ok([n, x]) => {
                eprintln!(
                    "xtask: bench: idle run {}/{}: native {n:.3} ms CPU, xsc {x:.3} ms CPU in {span:.0} ms",
                    run + 1,
                    ctx.runs
                );
                metric.native.push(n);
                metric.xsc.push(x);
                metric.xsc_span.push(span);
            }
            Err(e) => {
                metric.error = Some(e);
                break;
            }
        }
    }
    vec![metric]
}

fn first_line(path: &str, prefix: &str) -> String {
    std::fs::read_to_string(path)
        .unwrap_or_default()
        .lines()
        .find_map(|l| l.strip_prefix(prefix))
        .map_or(String::new(), |v| {
            v.trim_start_matches([' ', '\t', ':']).trim().to_string()
        })
}

/// The share of all CPUs' time spent not idle over one second, from
/// /proc/stat (this process sleeps meanwhile): other work on the machine.
fn busy_percent() -> Option<f64> {
    let sample = || -> Option<(u64, u64)> {
        let stat = std::fs::read_to_string("/proc/stat").ok()?;
        let fields: Vec<u64> = stat
            .lines()
            .next()?
            .split_whitespace()
            .skip(1)
            .map(|f| f.parse().unwrap_or(0))
            .collect();
        // user nice system idle iowait irq softirq steal (guest time is
        // already in user and nice).
        let total = fields.iter().take(8).sum();
        let idle = fields.get(3)? + fields.get(4).unwrap_or(&0);
        Some((total, idle))
    };
    let (t0, i0) = sample()?;
    std::thread::sleep(Duration::from_secs(1));
    let (t1, i1) = sample()?;
    let total = t1.checked_sub(t0).filter(|&t| t > 0)?;
    Some(100.0 * (total - (i1 - i0).min(total)) as f64 / total as f64)
}

fn git_commit() -> String {
    Command::new("git")
        .current_dir(cmd::root())
        .args(["describe", "--always", "--dirty"])
        .output()
        .ok()
        .filter(|o| o.status.success())
        .map_or(String::new(), |o| {
            String::from_utf8_lossy(&o.stdout).trim().to_string()
        })
}

pub fn run(args: Args) -> Result {
    let t0 = Instant::now();
    let rows: Vec<Row> = if args.only.is_empty() {
        <Row as clap::ValueEnum>::value_variants().to_vec()
    } else {
        args.only.clone()
    };
    let want = |r: Row| rows.contains(&r);
    if args.runs == 0 || args.calls == 0 {
        return Err("--runs and --calls must be at least 1".into());
    }
    if !args.skip_setup {
        crate::setup::run()?;
    }
    let out_dir = cmd::root().join("target/bench");
    std::fs::create_dir_all(&out_dir)
        .map_err(|e| format!("cannot create {}: {e}", out_dir.display()))?;
    let ctx = Ctx {
        runs: args.runs,
        timeout: Duration::from_secs(args.timeout),
        xsc_run: std_xsc::xsc_home().join("bin/xsc-run"),
        // Every row but the verifier's runs a program of samples/bench.
        programs: if rows.iter().any(|&r| r != Row::Verifier) {
            build_programs()
        } else {
            Err("not built".into())
        },
    };
    if !ctx.xsc_run.is_file() {
        return Err(format!(
            "{} is missing: run `cargo xtask setup`",
            ctx.xsc_run.display()
        ));
    }
    // Inputs first, so that writing them does not disturb a measurement.
    let tree = if want(Row::Search) || want(Row::SearchJ1) {
        data::search_tree(&out_dir, SEARCH_MIN_FILES, TREE_FANOUT)
    } else {
        Err("not needed".into())
    };
    let file = if want(Row::Read) {
        data::big_file(&out_dir, READ_BYTES)
    } else {
        Err("not needed".into())
    };
    let cpus = std::thread::available_parallelism().map_or(1, |n| n.get());
    let busy_before = busy_percent();
    if busy_before.is_some_and(|b| b > 10.0) {
        eprintln!(
            "xtask: bench: other work keeps {:.0}% of the CPUs busy: the numbers will be noisy",
            busy_before.unwrap_or(0.0)
        );
    }
    let t_measure = Instant::now();

    let mut metrics = Vec::new();
    let mut floor = Vec::new();
    let mut guarded = Vec::new();
    if want(Row::Trivial) || want(Row::Batch) {
        metrics.extend(trivial_and_batch(
            &ctx,
            &rows,
            args.calls,
            &mut floor,
            &mut guarded,
        ));
    }
    if want(Row::Search) {
        metrics.extend(search(&ctx, 0, &tree));
    }
    if want(Row::SearchJ1) {
        metrics.extend(search(&ctx, 1, &tree));
    }
    if want(Row::Read) {
        metrics.extend(read(&ctx, &file));
    }
    if want(Row::Tcp) {
        metrics.extend(tcp(&ctx));
    }
    let mut runner_start = None;
    if want(Row::Spawn) {
        metrics.extend(spawn(&ctx));
        runner_start = runner_start_ms(&ctx);
    }
    if want(Row::Threads) {
        metrics.extend(threads(&ctx));
    }
    if want(Row::Alloc) {
        metrics.extend(alloc(&ctx, 1));
        metrics.extend(alloc(&ctx, 2));
    }
    if want(Row::Idle) {
        metrics.extend(idle(&ctx));
    }
    if want(Row::Vm) {
        metrics.extend(vm_rows(ctx.runs, args.calls));
        // The same calls counted in instructions and kernel entries.
        metrics.extend(crate::count::metrics().unwrap_or_else(|e| {
            eprintln!("xtask: bench: the counted VM rows: {e}");
            let mut m = Metric::new("vm", "in the VM, counted rows", "insns");
            m.error = Some(e);
            vec![m]
        }));
        metrics.push(crate::count::runner_metric(ctx.runs));
    }

    let busy_after = busy_percent();
    print!("{}", report::table(&metrics, ctx.runs));
    let trivial_xsc = metrics
        .iter()
        .find(|m| m.name.starts_with("trivial call"))
        .and_then(|m| median(&m.xsc));
    if let Some(f) = median(&floor) {
        print!("\ncross-core cache-line round trip (the floor of a call served on another core): {f:.1} ns");
        match trivial_xsc {
            Some(x) => println!("; XSC trivial call / floor: {:.2}", x / f),
            None => println!(),
        }
    }
    print!(
        "{}",
        why_missed(&metrics, median(&guarded), median(&floor), runner_start)
    );
    let json = report::json(
        &[
            ("runs", ctx.runs.to_string()),
            ("cpus", cpus.to_string()),
            (
                "cpu_model",
                report::json_str(&first_line("/proc/cpuinfo", "model name")),
            ),
            (
                "kernel",
                report::json_str(&first_line("/proc/sys/kernel/osrelease", "")),
            ),
            (
                "cpus_busy_percent_before",
                busy_before.map_or("null".into(), |b| format!("{b:.1}")),
            ),
            (
                "cpus_busy_percent_after",
                busy_after.map_or("null".into(), |b| format!("{b:.1}")),
            ),
            (
                "measuring_seconds",
                format!("{:.1}", t_measure.elapsed().as_secs_f64()),
            ),
            ("commit", report::json_str(&git_commit())),
            (
                "xsc_run",
                report::json_str(&ctx.xsc_run.display().to_string()),
            ),
            (
                "cross_core_round_trip_ns",
                median(&floor).map_or("null".into(), |f| format!("{f}")),
            ),
            (
                "unix_time",
                std::time::SystemTime::now()
                    .duration_since(std::time::UNIX_EPOCH)
                    .map_or(0, |d| d.as_secs())
                    .to_string(),
            ),
        ],
        &metrics,
    );
    let json_file = out_dir.join("bench.json");
    std::fs::write(&json_file, json)
        .map_err(|e| format!("cannot write {}: {e}", json_file.display()))?;
    println!("\nwritten: {}", json_file.display());

    if want(Row::Verifier) {
        // The largest Rust program the build made: cargo-xsc (std, clap,
        // serde, the verifier itself).
        cmd::run(cmd::cargo().args(["build", "--release", "-p", "cargo-xsc"]))?;
        verifier::elfcheck_throughput(&cmd::root().join("target/release/cargo-xsc"))?;
    }
    println!(
        "\nbench took {:.0} s, of which measuring {:.0} s",
        t0.elapsed().as_secs_f64(),
        t_measure.elapsed().as_secs_f64()
    );
    let failed = metrics.iter().filter(|m| m.error.is_some()).count();
    if failed > 0 {
        return Err(format!(
            "{failed} row(s) could not be measured (the reasons are above)"
        ));
    }
    Ok(())
}
