//! The counted VM rows of `cargo xtask bench` (`--only vm`): what a call
//! costs on the XSC kernel in guest instructions and kernel entries,
//! native against XSC, the same source (`kernel/vm/count_bench.c`) in the
//! same VM, counted by a QEMU TCG plugin (`kernel/vm/count_plugin.c`,
//! built against `qemu-plugin.h` from Debian's qemu source).
//!
//! Inline rows run under `-icount` on one vCPU (single-threaded TCG: the
//! counts repeat, within a few per mille for XSC); polled rows need two
//! vCPUs (the poller runs beside the program) and report the median of
//! their runs with the spread in the detail. The VMs are booted by the
//! kernel runner `xsc-vm`, running the list driver `kernel/vm/run_list.c`.

use crate::bench::report::{Metric, Target};
use crate::cmd::{self, Result};
use std::collections::BTreeMap;
use std::hash::{DefaultHasher, Hash, Hasher};
use std::path::{Path, PathBuf};
use std::process::Command;

/// Calls per counted loop.
const CALLS: u64 = 2000;
/// Entries of the batch row (a multiple of 64).
const BATCH_ENTRIES: u64 = 6400;
/// Runs of each side per row: inline (counts repeat) and polled.
const INLINE_RUNS: usize = 3;
const POLLED_RUNS: usize = 5;

/// A counted row: its region number in count_bench.c, its arguments, its
/// name, and how many calls its count is divided by.
struct Row {
    region: u32,
    args: String,
    name: &'static str,
    calls: u64,
    insns_target: Option<f64>,
    entries_target: Option<Target>,
}

fn rows(polled: bool) -> Vec<Row> {
    let mut rows = vec![
        Row {
            region: 1,
            args: format!("call {CALLS}"),
            name: "trivial call (getppid)",
            calls: CALLS,
            insns_target: Some(1.3),
            entries_target: polled.then_some(Target::XscAtMost(0.0)),
        },
        Row {
            region: 2,
            args: format!("batch {BATCH_ENTRIES}"),
            name: "64-entry batch (getppid), per entry",
            calls: BATCH_ENTRIES,
            insns_target: Some(0.6),
            entries_target: Some(if polled {
                Target::XscAtMost(0.0)
            } else {
                Target::AtMost(1.0 / 32.0)
            }),
        },
        Row {
            region: 3,
            args: format!("clock {CALLS}"),
            name: "clock_gettime(CLOCK_MONOTONIC)",
            calls: CALLS,
            insns_target: Some(1.1),
            entries_target: Some(Target::XscAtMost(0.0)),
        },
    ];
    if !polled {
        for (region, t) in [(4, 1), (5, 4), (6, 16)] {
            rows.push(Row {
                region,
                args: format!("threads {t} {}", CALLS * 2),
                name: match t {
                    1 => "1 thread making calls (getppid)",
                    4 => "4 threads making calls (getppid)",
                    _ => "16 threads making calls (getppid)",
                },
                calls: CALLS * 2,
                insns_target: None,
                entries_target: None,
            });
        }
    }
    rows
}

/// One region's counts, as the plugin wrote them.
#[derive(Clone, Copy, Debug, Default, PartialEq)]
pub struct Counts {
    pub user: f64,
    pub kernel: f64,
    pub syscalls: f64,
    pub other: f64,
}

/// The plugin's lines: region -> counts of each run, in order.
pub fn parse(text: &str) -> BTreeMap<u32, Vec<Counts>> {
    let mut out: BTreeMap<u32, Vec<Counts>> = BTreeMap::new();
    for line in text.lines() {
        let w: Vec<&str> = line.split_whitespace().collect();
        if w.len() != 10 || w[0] != "xsc-count:" {
            continue;
        }
        let n = |i: usize| w[i].parse::<f64>().ok();
        let (Ok(region), Some(user), Some(kernel), Some(syscalls), Some(other)) =
            (w[1].parse::<u32>(), n(3), n(5), n(7), n(9))
        else {
            continue;
        };
        out.entry(region).or_default().push(Counts {
            user,
            kernel,
            syscalls,
            other,
        });
    }
    out
}

/// `qemu-plugin.h` of Debian's qemu source, extracted once.
fn plugin_header() -> Result<PathBuf> {
    let home = std_xsc::xsc_home();
    let header = home.join("kernel/tools/qemu-plugin/qemu-plugin.h");
    if header.is_file() {
        return Ok(header);
    }
    let work = home.join("build/qemu-source");
    let orig = cmd::debian_orig_tarball("qemu", &work)?;
    cmd::run(
        Command::new("tar")
            .arg("xf")
            .arg(&orig)
            .args(["--wildcards", "*/include/qemu/qemu-plugin.h"])
            .current_dir(&work),
    )?;
    let found = std::fs::read_dir(&work)
        .map_err(|e| e.to_string())?
        .flatten()
        .map(|e| e.path().join("include/qemu/qemu-plugin.h"))
        .find(|p| p.is_file())
        .ok_or("the qemu tarball held no include/qemu/qemu-plugin.h")?;
    let dir = header.parent().unwrap_or(Path::new("."));
    std::fs::create_dir_all(dir).map_err(|e| e.to_string())?;
    std::fs::copy(&found, &header).map_err(|e| e.to_string())?;
    let _ = std::fs::remove_dir_all(&work);
    Ok(header)
}

/// The counting plugin, built once per version of its source.
pub fn plugin() -> Result<PathBuf> {
    let header = plugin_header()?;
    let src = cmd::root().join("kernel/vm/count_plugin.c");
    let text = std::fs::read(&src).map_err(|e| format!("{}: {e}", src.display()))?;
    let mut h = DefaultHasher::new();
    text.hash(&mut h);
    let so = std_xsc::xsc_home().join(format!("kernel/tools/count-{:016x}.so", h.finish()));
    if !so.is_file() {
        cmd::run(
            Command::new("cc")
                .args(["-shared", "-fPIC", "-O2", "-Wall", "-I"])
                .arg(header.parent().unwrap_or(Path::new(".")))
                .arg(&src)
                .arg("-o")
                .arg(&so),
        )?;
    }
    Ok(so)
}

/// Boots one VM running `list` (lines of commands) under `plugin`;
/// returns what the plugin wrote.
fn boot(dir: &Path, plugin: &Path, list: &str, polled: bool) -> Result<String> {
    let out = dir.join(if polled {
        "polled.counts"
    } else {
        "inline.counts"
    });
    let _ = std::fs::remove_file(&out);
    let name = if polled { "polled.list" } else { "inline.list" };
    std::fs::write(dir.join(name), list).map_err(|e| e.to_string())?;
    let mut c = Command::new(std_xsc::xsc_home().join("bin/xsc-vm"));
    c.args(["--timeout", "1200"])
        .arg("--qemu-arg=-plugin")
        .arg(format!(
            "--qemu-arg={},out={}",
            plugin.display(),
            out.display()
        ));
    if polled {
        c.args(["--poll-us", "200", "--cpus", "2"]);
    } else {
        // -icount hangs this kernel with two vCPUs (single-threaded TCG).
        c.args(["--cpus", "1", "--qemu-arg=-icount", "--qemu-arg=shift=0"]);
    }
    cmd::run(
        c.args(["./run_list", name])
            .current_dir(dir)
            .stdout(std::process::Stdio::null()),
    )?;
    std::fs::read_to_string(&out).map_err(|e| format!("{}: {e}", out.display()))
}

fn median(v: &mut [f64]) -> f64 {
    v.sort_by(|a, b| a.total_cmp(b));
    v.get(v.len() / 2).copied().unwrap_or(f64::NAN)
}

/// The counted rows as bench metrics.
pub fn metrics() -> Result<Vec<Metric>> {
    crate::kernel::build(crate::kernel::Flavour::Plain)?;
    let dir = cmd::root().join("target/vm-count");
    let _ = std::fs::remove_dir_all(&dir);
    std::fs::create_dir_all(&dir).map_err(|e| e.to_string())?;
    let src = cmd::root().join("kernel/vm/count_bench.c");
    let uapi = cmd::root().join("kernel/src/include/uapi");
    cmd::run(
        Command::new("gcc")
            .args(["-static", "-O2", "-pthread", "-o"])
            .arg(dir.join("count.native"))
            .arg(&src),
    )?;
    cmd::run(
        Command::new(crate::vm::xsc_cc())
            .args(["-O2", "-pthread", "-DXSC", "-I"])
            .arg(&uapi)
            .arg("-o")
            .arg(dir.join("count.xsc"))
            .arg(&src),
    )?;
    crate::vm::build_run_list(&dir.join("run_list"))?;
    let plugin = plugin()?;
    let mut metrics = Vec::new();
    for polled in [false, true] {
        let runs = if polled { POLLED_RUNS } else { INLINE_RUNS };
        let rows = rows(polled);
        let mut list = String::new();
        for _ in 0..runs {
            for r in &rows {
                list.push_str(&format!(
                    "./count.native {}\n./count.xsc {}\n",
                    r.args, r.args
                ));
            }
        }
        let counts = parse(&boot(&dir, &plugin, &list, polled)?);
        let mode = if polled { ", polled mode" } else { "" };
        for r in &rows {
            let get = |region: u32| -> Result<Vec<Counts>> {
                let v = counts.get(&region).cloned().unwrap_or_default();
                if v.len() == runs {
                    Ok(v)
                } else {
                    Err(format!(
                        "the plugin counted region {region} ({}) {} times of {runs}",
                        r.name,
                        v.len()
                    ))
                }
            };
            let (native, xsc) = (get(r.region * 2)?, get(r.region * 2 + 1)?);
            let per = |v: &[Counts], f: fn(&Counts) -> f64| -> Vec<f64> {
                v.iter().map(|c| f(c) / r.calls as f64).collect()
            };
            let split = |v: &[Counts]| {
                let mut u = per(v, |c| c.user);
                let mut k = per(v, |c| c.kernel);
                let mut o = per(v, |c| c.other);
                format!(
                    "{:.0} user + {:.0} kernel, {:.3} other kernel entries (interrupts, faults)",
                    median(&mut u),
                    median(&mut k),
                    median(&mut o)
                )
            };
            let spread = |v: &[f64]| {
                let lo = v.iter().cloned().fold(f64::INFINITY, f64::min);
                let hi = v.iter().cloned().fold(f64::NEG_INFINITY, f64::max);
                format!("{lo:.0}..{hi:.0}")
            };
            let ni = per(&native, |c| c.user + c.kernel);
            let xi = per(&xsc, |c| c.user + c.kernel);
            let how = if polled {
                format!(
                    "2 vCPUs, {runs} runs (spread native {}, XSC {})",
                    spread(&ni),
                    spread(&xi)
                )
            } else {
                format!("-icount, 1 vCPU, {runs} runs")
            };
            let mut m = Metric::new(
                "vm",
                format!(
                    "in the VM, counted: {}{mode}: instructions per call",
                    r.name
                ),
                "insns",
            )
            .detail(format!(
                "{} calls; native {}; XSC {}; {how}",
                r.calls,
                split(&native),
                split(&xsc)
            ));
            m.native = ni;
            m.xsc = xi;
            if let Some(t) = r.insns_target {
                m = m.target(Target::AtMost(t));
            }
            metrics.push(m);
            let mut e = Metric::new(
                "vm",
                format!("in the VM, counted: {}{mode}: system calls per call", r.name),
                "entries",
            )
            .detail(format!("{} calls; system-call instructions executed (kernel entries other than interrupts and faults), {how}", r.calls));
            e.native = per(&native, |c| c.syscalls);
            e.xsc = per(&xsc, |c| c.syscalls);
            if let Some(t) = r.entries_target {
                e = e.target(t);
            }
            metrics.push(e);
        }
    }
    Ok(metrics)
}

/// Why a counted row misses its target: its figures (the detail: user and
/// kernel instructions of each side), and what in this kernel costs them.
pub fn why(m: &Metric) -> String {
    let cause = if m.name.contains("clock_gettime") && native_entered(m) {
        "the native program entered the kernel too: the guest's vDSO could not read the clock in user space in this boot (its clocksource was not the TSC, as when a loaded host makes the guest mark its TSC unstable), so both sides made the vDSO's fallback system call and the row does not measure XSC; run the bench with nothing else running"
    } else if m.name.contains("clock_gettime") {
        "the entry table's clock_gettime is the vDSO's own and makes no kernel entry; what remains is the C library's wrapper around it (the musl fork's against glibc's)"
    } else if m.name.contains("polled mode") {
        "the thread still enters the kernel once per call: the C library spins for the poller only while SQ_POLLED is set on its ring, and in this loop the poller did not keep it set (it goes to sleep when another task wants its CPU and is woken by a wait or the doorbell; why it does not stay awake here is not established yet); its own instructions, on the other vCPU, count too"
    } else {
        "the XSC kernel's fixed cost per entry is above a native system call's whole entry and exit path: per entry the ring claim and release, the copy and checks of the entry, the dispatch through a copy of pt_regs, posting the completion (user accesses each behind STAC/CLAC), the signal and resched checks of the consume loop, and per wait the poller bookkeeping; the batch saves the kernel entries (1/64) but not this per-entry work"
    };
    format!("- {}: {}; {cause}.", m.name, m.detail)
}

/// Did the native side of a counted row enter the kernel? (The entries
/// row says so in its figures, the instructions row in its detail: `native
/// U user + K kernel`.)
fn native_entered(m: &Metric) -> bool {
    if m.unit == "entries" {
        return m.native.iter().any(|&v| v > 0.0);
    }
    m.detail
        .split_once("; native ")
        .and_then(|(_, rest)| rest.split_once(" kernel"))
        .and_then(|(split, _)| split.rsplit(' ').next())
        .is_some_and(|k| k.parse::<f64>().is_ok_and(|k| k > 0.0))
}

/// The kernel runner's cost against xsc-run's: one C hello (samples/c,
/// `hello . 0`),
/// run `runs` times each way, alternating, wall time from start to exit
/// (the "native" column is xsc-run, the "xsc" column xsc-vm).
pub fn runner_metric(runs: usize) -> Metric {
    let mut m = Metric::new(
        "vm",
        "kernel runner: a C hello, xsc-vm (col. xsc) against xsc-run (col. native), wall",
        "ms",
    )
    .detail("samples/c/hello.c built with xsc-cc; xsc-vm boots the XSC kernel under qemu (TCG, 2 vCPUs) for each run; xsc-run runs it on the host's kernel");
    let result = (|| -> Result<(Vec<f64>, Vec<f64>)> {
        crate::kernel::build(crate::kernel::Flavour::Plain)?;
        let dir = cmd::root().join("target/vm-count");
        std::fs::create_dir_all(&dir).map_err(|e| e.to_string())?;
        let hello = dir.join("hello");
        cmd::run(
            Command::new(crate::vm::xsc_cc())
                .args(["-O2", "-o"])
                .arg(&hello)
                .arg(cmd::root().join("samples/c/hello.c")),
        )?;
        let home = std_xsc::xsc_home();
        let time = |tool: &str| -> Result<f64> {
            let t = std::time::Instant::now();
            let status = Command::new(home.join("bin").join(tool))
                .arg(&hello)
                .args([".", "0"])
                .current_dir(&dir)
                .stdout(std::process::Stdio::null())
                .status()
                .map_err(|e| format!("{tool}: {e}"))?;
            if !status.success() {
                return Err(format!("{tool} {}: {status}", hello.display()));
            }
            Ok(t.elapsed().as_secs_f64() * 1e3)
        };
        let (mut run, mut vm) = (Vec::new(), Vec::new());
        for _ in 0..runs {
            run.push(time("xsc-run")?);
            vm.push(time("xsc-vm")?);
        }
        Ok((run, vm))
    })();
    match result {
        Ok((run, vm)) => {
            m.native = run;
            m.xsc = vm;
        }
        Err(e) => m.error = Some(e),
    }
    m
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn the_plugin_lines_are_read_per_region_in_order() {
        let text = "xsc-count: 2 user 11013 kernel 226000 syscalls 1000 other-entries 0\n\
                    noise\n\
                    xsc-count: 3 user 5 kernel 6 syscalls 7 other-entries 8\n\
                    xsc-count: 2 user 1 kernel 2 syscalls 3 other-entries 4\n";
        let p = parse(text);
        assert_eq!(p[&2].len(), 2);
        assert_eq!(
            p[&2][0],
            Counts {
                user: 11013.0,
                kernel: 226000.0,
                syscalls: 1000.0,
                other: 0.0
            }
        );
        assert_eq!(p[&3][0].other, 8.0);
    }
}
