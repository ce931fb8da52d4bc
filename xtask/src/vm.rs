//! `cargo xtask vm-test`: the XSC kernel (`cargo xtask kernel`) booted
//! under `qemu-system-x86_64`, running the toolchain's binaries with no
//! xsc-run (kernel/README.md).
//!
//! The initramfs holds only static binaries: its `/init` is an XSC program
//! (`kernel/vm/init.c`, built with xsc-cc), which runs the cases listed in
//! `/cases` and reports each over the serial console. The cases:
//! - every conformance case (`conformance/cases`), built natively (gcc,
//!   static glibc) and for XSC (xsc-cc), both run in the VM: the native
//!   build must end as the case's `expect:` line says, and the XSC build
//!   exactly as the native one (stdout and ending);
//! - each `raw-syscall` variant, which must die by SIGSYS, raised by the
//!   kernel;
//! - `raw-hello`, `raw-process` and `ring-abuse`, which must do in the VM
//!   what they do under xsc-run on the host (the same stdout and ending);
//! - the std samples that need nothing the initramfs lacks, built for
//!   XSC and natively (static glibc), both run in the VM and compared as
//!   the conformance cases are;
//! - `poll-probe inline`: an entry published without `wait` completes only
//!   at the thread's `wait`.
//!
//! Then `/init` turns polled mode on (`kernel.xsc_poll_us`) and runs every
//! case again as `polled/ID`, with a kernel poller in every XSC process,
//! and `poll-probe polled`: the same entry completes by itself.
//!
//! `traced/ring-abuse` and `polled/poll-probe` run with the kernel's trace
//! event `xsc:xsc_complete` on: every completion they print must be in the
//! trace, posted inline by the program, or by the poller. `/init` also
//! reports that it has no vDSO (ABI §5.8).
//!
//! `XSC_KERNEL=path/to/bzImage` boots that kernel instead of building
//! one (a tree with the patches applied, while working on them).
//!
//! The run ends by itself: `/init` reboots, which ends qemu (`-no-reboot`),
//! and qemu is killed after a time limit otherwise. KVM is used when a
//! short probe boot with it reaches `/init`; TCG otherwise. The report
//! says which.

use crate::cmd::{self, Result};
use crate::kernel::Flavour;
use std::io::Read;
use std::path::{Path, PathBuf};
use std::process::{Command, Stdio};
use std::time::{Duration, Instant};

/// The whole VM run's limit (TCG on 2 cores runs the suite in minutes).
const RUN_LIMIT: Duration = Duration::from_secs(20 * 60);
/// How long a KVM probe may take to reach /init.
const KVM_PROBE_LIMIT: Duration = Duration::from_secs(15);

/// One case as the VM reported it.
#[derive(Debug, Default)]
pub(crate) struct Reported {
    pub(crate) id: String,
    native: String,
    pub(crate) xsc: String,
    same_stdout: bool,
    /// Wall time of each run in the VM.
    native_ms: f64,
    xsc_ms: f64,
    native_stdout: Vec<String>,
    pub(crate) xsc_stdout: Vec<String>,
}

/// What the host expects of a case.
#[derive(Clone)]
enum Check {
    /// Native as `expect:` says, XSC as native.
    Differential(String),
    /// No native build: dies by this status (e.g. `signal SIGSYS`).
    Status(String),
    /// No native build: the same stdout and ending as under xsc-run.
    AsXscRun { stdout: String, status: String },
    /// A kselftest (TAP): both builds pass (exit 0), the XSC build runs
    /// every test (none skipped or failed) and as many as natively, where
    /// the tests that need an XSC process skip.
    Selftest,
    /// As the inner check, and every completion the program printed
    /// (`result=R flags=F user_data=U`) is in the kernel's trace, posted
    /// by `comm` (its task name) consuming `by` ("inline" or "poller").
    Traced {
        inner: Box<Check>,
        comm: &'static str,
        by: &'static str,
    },
}

/// One `xsc_complete` event of the kernel's trace (tracefs), as `/init`
/// printed it (`xsc-vm: cat ...`).
#[derive(Debug, PartialEq)]
struct Traced {
    comm: String,
    completion: Completion,
    by: String,
}

/// A completion's result, flags and user_data.
#[derive(Debug, PartialEq, Clone, Copy)]
struct Completion {
    result: i64,
    flags: u64,
    user_data: u64,
}

/// `0x1f`, `31` or `-38`.
fn number(v: &str) -> Option<i128> {
    let (neg, v) = v.strip_prefix('-').map_or((false, v), |v| (true, v));
    let n = match v.strip_prefix("0x") {
        Some(hex) => i128::from_str_radix(hex, 16).ok()?,
        None => v.parse().ok()?,
    };
    Some(if neg { -n } else { n })
}

/// The `key=value` words of a line that describe a completion.
fn completion(words: &str) -> Option<Completion> {
    let field = |key: &str| {
        words
            .split_whitespace()
            .find_map(|w| w.strip_prefix(key)?.strip_prefix('='))
            .and_then(number)
    };
    Some(Completion {
        result: i64::try_from(field("result")?).ok()?,
        flags: u64::try_from(field("flags")?).ok()?,
        user_data: u64::try_from(field("user_data")?).ok()?,
    })
}

/// The kernel's trace lines in the console:
/// `COMM-PID [CPU] FLAGS TIME: xsc_complete: region=.. opcode=.. user_data=.. result=.. flags=.. by=..`.
fn parse_trace(console: &str) -> Vec<Traced> {
    console
        .lines()
        .filter_map(|l| l.trim_end_matches('\r').strip_prefix("xsc-vm: cat "))
        .filter_map(|l| {
            let (task, event) = l.split_once(": xsc_complete: ")?;
            let comm = task.split_whitespace().next()?.rsplit_once('-')?.0;
            let by = event
                .split_whitespace()
                .find_map(|w| w.strip_prefix("by="))?;
            Some(Traced {
                comm: comm.to_string(),
                completion: completion(event)?,
                by: by.to_string(),
            })
        })
        .collect()
}

pub(crate) fn xsc_cc() -> PathBuf {
    std_xsc::xsc_home().join("bin/xsc-cc")
}

pub(crate) fn compile(cc: &Path, flags: &[&str], src: &Path, out: &Path) -> Result {
    cmd::run(
        Command::new(cc)
            .args(flags)
            .args(["-O1", "-pthread", "-I"])
            .arg(conformance::cases_dir())
            .arg(src)
            .arg("-o")
            .arg(out),
    )
}

/// The XSC list driver (`kernel/vm/run_list.c`) that `xsc-vm` runs for
/// the strace test and the counted bench rows, built into `to`.
pub(crate) fn build_run_list(to: &Path) -> Result {
    cmd::run(
        Command::new(xsc_cc())
            .args(["-O1", "-Wall", "-o"])
            .arg(to)
            .arg(cmd::root().join("kernel/vm/run_list.c")),
    )
}

/// Runs `prog args` under the host's xsc-run: (stdout, ending).
fn under_xsc_run(prog: &Path, args: &[&str]) -> Result<(String, String)> {
    let out = Command::new(std_xsc::xsc_home().join("bin/xsc-run"))
        .arg(prog)
        .args(args)
        .stdin(Stdio::null())
        .output()
        .map_err(|e| format!("cannot run xsc-run: {e}"))?;
    use std::os::unix::process::ExitStatusExt;
    let status = match (out.status.code(), out.status.signal()) {
        (Some(c), _) => format!("exit {c}"),
        (None, Some(s)) => format!("signal {}", conformance::process::signal_name(s)),
        _ => "unknown".into(),
    };
    Ok((String::from_utf8_lossy(&out.stdout).into_owned(), status))
}

/// The kernel setting that turns polled mode on (kernel/README.md), and the
/// poll time the second pass of the suite gives it.
const POLL_SETTING: &str = "/proc/sys/kernel/xsc_poll_us";
const POLL_US: u32 = 200;
/// The kernel's trace event for completions, in tracefs (mounted at
/// /tracing by /init).
const TRACE_EVENT: &str = "/tracing/events/xsc/xsc_complete";

/// What the VM runs and what the host checks of it.
struct Plan {
    initrd: PathBuf,
    checks: Vec<(String, Check)>,
    /// Lines the console must have (`xsc-vm: set ... ok`, ...).
    reports: Vec<String>,
}

/// Builds the initramfs: `/init`, `/cases`, the programs. Every case runs
/// twice: inline (no poller), then as `polled/ID` with the kernel's
/// pollers on.
fn initramfs(dir: &Path, only: Option<&str>, flavour: Flavour) -> Result<Plan> {
    let root = dir.join("root");
    let _ = std::fs::remove_dir_all(dir);
    for d in [
        "proc", "dev", "tmp", "tracing", "etc", "c", "s", "data", "bin",
    ] {
        std::fs::create_dir_all(root.join(d)).map_err(|e| e.to_string())?;
    }
    // A file only root may read, as on any Linux system (raw-process
    // checks that a program that dropped root cannot open it).
    {
        use std::os::unix::fs::PermissionsExt;
        let shadow = root.join("etc/shadow");
        std::fs::write(&shadow, "root:*:19000:0:99999:7:::\n").map_err(|e| e.to_string())?;
        std::fs::set_permissions(&shadow, std::fs::Permissions::from_mode(0o600))
            .map_err(|e| e.to_string())?;
    }
    // A shell and the tools the samples start (busybox-static: a native
    // static binary, running beside the XSC ones).
    std::fs::copy(BUSYBOX, root.join("bin/busybox"))
        .map_err(|e| format!("{BUSYBOX}: {e} (the Debian package busybox-static)"))?;
    for tool in BUSYBOX_TOOLS {
        std::os::unix::fs::symlink("busybox", root.join("bin").join(tool))
            .map_err(|e| e.to_string())?;
    }
    compile(
        &xsc_cc(),
        &["-Wall", "-Wextra"],
        &cmd::root().join("kernel/vm/init.c"),
        &root.join("init"),
    )?;
    let mut lines = Vec::new();
    let mut checks = Vec::new();
    for case in conformance::discover(&conformance::cases_dir()) {
        let source = std::fs::read_to_string(&case.source).map_err(|e| e.to_string())?;
        let expect = conformance::Expect::parse(&source)
            .map_err(|e| format!("{}: {e}", case.source.display()))?;
        let name = case.id.replace('/', "__");
        // The case's own `build:` flags, on both sides, as the suite passes
        // them (a non-PIE case's break lies after its image only when it is
        // built non-PIE: a static-pie's is elsewhere, natively too).
        let own = conformance::build_flags(&source);
        let own: Vec<&str> = own.iter().map(String::as_str).collect();
        compile(
            Path::new("gcc"),
            &[&["-static"], &own[..]].concat(),
            &case.source,
            &root.join("c").join(format!("{name}.native")),
        )?;
        compile(
            &xsc_cc(),
            &own,
            &case.source,
            &root.join("c").join(format!("{name}.xsc")),
        )?;
        lines.push(format!(
            "{} /c/{name}.native /c/{name}.xsc {{DIR}}",
            case.id
        ));
        checks.push((case.id.clone(), Check::Differential(expect.to_string())));
    }
    // The kernel's own rules as kselftests, natively and for XSC.
    let ksft = kselftest_headers()?;
    let uapi = cmd::root().join("kernel/src/include/uapi");
    let selftest = cmd::root().join("kernel/selftests/xsc/xsc_test.c");
    let includes = [
        "-I",
        ksft.to_str().unwrap_or_default(),
        "-I",
        uapi.to_str().unwrap_or_default(),
    ];
    compile(
        Path::new("gcc"),
        &[&["-static"], &includes[..]].concat(),
        &selftest,
        &root.join("c/xsc_test.native"),
    )?;
    compile(
        &xsc_cc(),
        &includes,
        &selftest,
        &root.join("c/xsc_test.xsc"),
    )?;
    lines.push("selftests/xsc /c/xsc_test.native /c/xsc_test.xsc".into());
    checks.push(("selftests/xsc".into(), Check::Selftest));
    // The std samples: the XSC build, and the same source built natively
    // for the host, linked statically (no dynamic loader in the VM).
    let (native_std, xsc_std) = std_samples()?;
    // The same file name on both sides: the samples print their own.
    for side in ["native", "xsc"] {
        std::fs::create_dir_all(root.join("std").join(side)).map_err(|e| e.to_string())?;
    }
    for (sample, args) in STD_SAMPLES {
        for (dir, side) in [(&native_std, "native"), (&xsc_std, "xsc")] {
            std::fs::copy(dir.join(sample), root.join("std").join(side).join(sample))
                .map_err(|e| format!("{sample}: {e}"))?;
        }
        let id = format!("std/{sample}");
        lines.push(format!(
            "{id} /std/native/{sample} /std/xsc/{sample} {{DIR}}{}",
            args.iter().map(|a| format!(" {a}")).collect::<String>()
        ));
        checks.push((id, Check::Differential("exit 0".into())));
    }
    let samples = cmd::build_samples(false)?;
    for s in [
        "raw-syscall",
        "raw-hello",
        "raw-process",
        "ring-abuse",
        "poll-probe",
    ] {
        std::fs::copy(samples.join(s), root.join("s").join(s)).map_err(|e| e.to_string())?;
    }
    for mode in ["syscall", "int80", "defeat-dispatch"] {
        let id = format!("raw-syscall/{mode}");
        lines.push(format!("{id} - /s/raw-syscall {mode}"));
        checks.push((id, Check::Status("signal SIGSYS".into())));
    }
    // raw-hello reads a file and exits with the code it is given: the
    // same file on both sides.
    let text = "read through the ring\nin the VM as on the host\n";
    std::fs::write(root.join("data/in.txt"), text).map_err(|e| e.to_string())?;
    let host_file = dir.join("in.txt");
    std::fs::write(&host_file, text).map_err(|e| e.to_string())?;
    let (stdout, status) = under_xsc_run(
        &samples.join("raw-hello"),
        &[host_file.to_str().unwrap_or_default(), "9"],
    )?;
    lines.push("raw-hello - /s/raw-hello /data/in.txt 9".into());
    checks.push(("raw-hello".into(), Check::AsXscRun { stdout, status }));
    // The process model: brk, signals, EINTR/SA_RESTART, fork, exec of a
    // native and of an XSC program (busybox's sh as /bin/sh in the VM).
    let (stdout, status) = under_xsc_run(&samples.join("raw-process"), &[])?;
    lines.push("raw-process - /s/raw-process".into());
    checks.push(("raw-process".into(), Check::AsXscRun { stdout, status }));
    let (stdout, status) = under_xsc_run(&samples.join("ring-abuse"), &[])?;
    lines.push("ring-abuse - /s/ring-abuse".into());
    checks.push(("ring-abuse".into(), Check::AsXscRun { stdout, status }));
    // Polled mode: the same cases again with a poller in every XSC
    // process, and the probe that tells who consumed an entry published
    // without `wait` (nobody before it, in the first pass).
    let inline = lines.len();
    for i in 0..inline {
        lines.push(format!("polled/{}", lines[i]));
        let (id, check) = checks[i].clone();
        checks.push((format!("polled/{id}"), check));
    }
    lines.insert(inline, format!("!set {POLL_SETTING} {POLL_US}"));
    // The kernel's trace (tracefs' xsc_complete event): ring-abuse's
    // completions, the error ones among them, posted inline; the probe's,
    // in polled mode, posted by the poller.
    let traced = |lines: &mut Vec<String>, at: usize, case: String| {
        lines.splice(
            at..at,
            [
                format!("!set {TRACE_EVENT}/enable 1"),
                case,
                format!("!set {TRACE_EVENT}/enable 0"),
            ],
        );
    };
    let (stdout, status) = under_xsc_run(&samples.join("ring-abuse"), &[])?;
    traced(
        &mut lines,
        inline,
        "traced/ring-abuse - /s/ring-abuse".into(),
    );
    checks.push((
        "traced/ring-abuse".into(),
        Check::Traced {
            inner: Box::new(Check::AsXscRun { stdout, status }),
            comm: "ring-abuse",
            by: "inline",
        },
    ));
    lines.insert(inline, "poll-probe - /s/poll-probe inline".into());
    checks.push(("poll-probe".into(), Check::Status("exit 0".into())));
    let end = lines.len();
    traced(
        &mut lines,
        end,
        "polled/poll-probe - /s/poll-probe polled".into(),
    );
    checks.push((
        "polled/poll-probe".into(),
        Check::Traced {
            inner: Box::new(Check::Status("exit 0".into())),
            comm: "xsc-poller",
            by: "poller",
        },
    ));
    lines.push("!cat /tracing/trace".into());
    // The debug kernel (KASAN, lockdep) under TCG is several times slower:
    // the 2-million-call stress case needs more than the usual minute.
    if flavour == Flavour::Debug {
        lines.insert(0, "!timeout 600".into());
    }
    // `--only TEXT`: the cases whose id contains it (the settings kept).
    if let Some(only) = only {
        lines.retain(|l| {
            l.starts_with('!') || l.split(' ').next().is_some_and(|id| id.contains(only))
        });
        checks.retain(|(id, _)| id.contains(only));
        if checks.is_empty() {
            return Err(format!("no VM case has `{only}` in its id"));
        }
    }
    std::fs::write(root.join("cases"), lines.join("\n") + "\n").map_err(|e| e.to_string())?;
    let initrd = dir.join("root.cpio");
    make_cpio(&root, &initrd)?;
    Ok(Plan {
        initrd,
        checks,
        // Each `!set` worked, /init (an XSC program) has its vDSO mapped
        // but not announced (ABI §5.8), and the guest runs on two CPUs with
        // the TSC as its clock.
        reports: set_reports(&lines)
            .chain(
                [
                    "xsc-vm: vdso AT_SYSINFO_EHDR 0, [vdso] mapped",
                    "xsc-vm: cpus 2",
                    "xsc-vm: clocksource tsc",
                ]
                .map(String::from),
            )
            .collect(),
    })
}

/// The folder holding `kselftest_harness.h` and `kselftest.h`, taken from
/// Debian's kernel source once (kept under target/).
fn kselftest_headers() -> Result<PathBuf> {
    let dir = cmd::root().join("target/kselftest");
    let inner = "linux-source-6.1/tools/testing/selftests";
    let have = dir.join(inner);
    if have.join("kselftest_harness.h").is_file() && have.join("kselftest.h").is_file() {
        return Ok(have);
    }
    std::fs::create_dir_all(&dir).map_err(|e| format!("{}: {e}", dir.display()))?;
    cmd::run(
        Command::new("tar")
            .args(["xf", crate::kernel::SOURCE_TARBALL, "-C"])
            .arg(&dir)
            .arg(format!("{inner}/kselftest_harness.h"))
            .arg(format!("{inner}/kselftest.h")),
    )
    .map_err(|e| {
        format!(
            "the kselftest headers from {}: {e}",
            crate::kernel::SOURCE_TARBALL
        )
    })?;
    Ok(have)
}

/// What /init reports for each `!set PATH VALUE` line that worked.
fn set_reports(lines: &[String]) -> impl Iterator<Item = String> + '_ {
    lines
        .iter()
        .filter_map(|l| l.strip_prefix("!set "))
        .map(|s| format!("xsc-vm: set {s} ok"))
}

/// The lines of `wanted` that the console lacks.
fn unreported<'a>(console: &str, wanted: &'a [String]) -> Vec<&'a str> {
    wanted
        .iter()
        .map(String::as_str)
        .filter(|w| !console.lines().any(|l| l.trim_end_matches('\r') == *w))
        .collect()
}

const BUSYBOX: &str = "/bin/busybox";
/// The commands the samples run, as busybox applets.
const BUSYBOX_TOOLS: &[&str] = &[
    "sh", "cat", "head", "id", "tr", "wc", "echo", "kill", "sleep", "true", "false",
];

/// The std samples the VM runs (their first argument, the scratch folder,
/// comes from /init) with their other arguments: all but those that need
/// what the VM lacks (net: DNS; stdio: its input; testable: cargo test).
const STD_SAMPLES: &[(&str, &[&str])] = &[
    ("hello", &["0", "an", "argument"]),
    ("threads", &[]),
    ("time", &[]),
    ("fs", &[]),
    ("env", &[]),
    ("signals", &[]),
    ("panics", &[]),
    ("process", &[]),
];

/// Builds samples/std for x86_64-unknown-linux-xsc and natively, static:
/// the two output folders.
fn std_samples() -> Result<(PathBuf, PathBuf)> {
    let dir = cmd::root().join("samples/std");
    let host = "x86_64-unknown-linux-gnu";
    let xsc = "x86_64-unknown-linux-xsc";
    for target in [host, xsc] {
        let mut c = std_xsc::toolchain::cargo_xsc(&dir);
        c.args(["build", "--workspace", "--target", target]);
        if target == host {
            c.env(
                "CARGO_TARGET_X86_64_UNKNOWN_LINUX_GNU_RUSTFLAGS",
                "-C target-feature=+crt-static",
            );
        }
        cmd::run(&mut c)?;
    }
    let out = |t: &str| dir.join("target").join(t).join("debug");
    Ok((out(host), out(xsc)))
}

/// The kernel to boot: `XSC_KERNEL` (a kernel developer's own build, a
/// tree with the patches applied), else `cargo xtask kernel`'s.
pub(crate) fn kernel(flavour: Flavour) -> Result<PathBuf> {
    match std::env::var_os("XSC_KERNEL") {
        Some(k) => {
            eprintln!("xtask: using XSC_KERNEL={}", Path::new(&k).display());
            Ok(PathBuf::from(k))
        }
        None => crate::kernel::build(flavour),
    }
}

/// What the kernel prints when it finds a fault of its own (KASAN, UBSAN,
/// KFENCE, lockdep, a WARN or BUG, a lockup, a hung task, a panic): no run
/// may have one.
const KERNEL_REPORTS: &[&str] = &[
    "BUG:",
    "WARNING:",
    "KASAN",
    "UBSAN",
    "KFENCE",
    "possible circular locking",
    "possible recursive locking",
    "inconsistent lock state",
    "suspicious RCU usage",
    "sleeping function called from invalid context",
    "soft lockup",
    "hard LOCKUP",
    "blocked for more than",
    "general protection fault",
    "Kernel panic",
    "Oops",
    "Call Trace:",
];

/// The console lines that are kernel fault reports (not the cases' own
/// output, which /init prefixes with `xsc-vm:`).
pub(crate) fn kernel_reports(console: &str) -> Vec<&str> {
    console
        .lines()
        .filter(|l| !l.starts_with("xsc-vm:"))
        .filter(|l| KERNEL_REPORTS.iter().any(|r| l.contains(r)))
        .collect()
}

/// Packs the folder `root` as an initramfs (cpio, newc) into `out`.
pub(crate) fn make_cpio(root: &Path, out: &Path) -> Result {
    let made = Command::new("sh")
        .arg("-c")
        .arg(format!(
            "cd '{}' && find . | LC_ALL=C sort | cpio -o -H newc --quiet > '{}'",
            root.display(),
            out.display()
        ))
        .status()
        .map_err(|e| format!("cannot run cpio: {e}"))?;
    if made.success() {
        Ok(())
    } else {
        Err(format!(
            "making the initramfs {} failed (is cpio installed? `cargo xtask setup`)",
            out.display()
        ))
    }
}

/// Boots `kernel` with `initrd`, with KVM or not; returns the console
/// output, or None if `limit` passed (qemu is killed then).
pub(crate) fn boot(
    kernel: &Path,
    initrd: &Path,
    kvm: bool,
    limit: Duration,
    flavour: Flavour,
) -> Result<Option<String>> {
    let cmdline = format!(
        "console=ttyS0 panic=-1 quiet tsc=reliable{}",
        flavour.boot_args()
    );
    let mut c = Command::new("qemu-system-x86_64");
    c.arg("-kernel")
        .arg(kernel)
        .arg("-initrd")
        .arg(initrd)
        .args([
            // tsc=reliable: with two sockets the guest would mark the TSC
            // unstable and fall back to jiffies (native clock_gettime
            // would then leave the vDSO).
            "-append",
            &cmdline,
            "-nographic",
            "-no-reboot",
            "-m",
            "1024",
            // Two real CPUs: without sockets=2 (no ACPI/MP table) the
            // guest brings up one, and the poller and the ring claim never
            // race in parallel. /init reports what it saw.
            "-smp",
            "2,sockets=2,cores=1,threads=1",
        ]);
    if kvm {
        c.args(["-enable-kvm", "-cpu", "host"]);
    } else {
        c.args(["-cpu", "max"]);
    }
    let mut child = c
        .stdin(Stdio::null())
        .stdout(Stdio::piped())
        .stderr(Stdio::piped())
        .spawn()
        .map_err(|e| format!("cannot start qemu-system-x86_64: {e} (`cargo xtask setup` installs qemu-system-x86)"))?;
    let mut out = child.stdout.take().ok_or("no qemu stdout")?;
    let reader = std::thread::spawn(move || {
        let mut v = Vec::new();
        let _ = out.read_to_end(&mut v);
        v
    });
    let start = Instant::now();
    let finished = loop {
        if child.try_wait().map_err(|e| e.to_string())?.is_some() {
            break true;
        }
        if start.elapsed() > limit {
            let _ = child.kill();
            let _ = child.wait();
            break false;
        }
        std::thread::sleep(Duration::from_millis(100));
    };
    let text = String::from_utf8_lossy(&reader.join().unwrap_or_default()).into_owned();
    Ok(finished.then_some(text))
}

/// KVM if `/dev/kvm` is there and a probe boot with it reaches `/init`
/// within [`KVM_PROBE_LIMIT`] (here a KVM guest has hung before its first
/// console line).
fn choose_kvm(kernel: &Path, initrd: &Path) -> Result<(bool, String)> {
    if !Path::new("/dev/kvm").exists() {
        return Ok((false, "TCG (no /dev/kvm)".into()));
    }
    let probe = initrd.with_file_name("probe.cpio");
    // The same /init with no cases: it starts, reports and reboots.
    let dir = initrd.with_file_name("probe-root");
    let _ = std::fs::remove_dir_all(&dir);
    for d in ["proc", "dev", "tmp"] {
        std::fs::create_dir_all(dir.join(d)).map_err(|e| e.to_string())?;
    }
    let init = initrd
        .parent()
        .map(|p| p.join("root/init"))
        .ok_or("no initramfs folder")?;
    std::fs::copy(init, dir.join("init")).map_err(|e| e.to_string())?;
    make_cpio(&dir, &probe)?;
    match boot(kernel, &probe, true, KVM_PROBE_LIMIT, Flavour::Plain)? {
        Some(out) if out.contains("xsc-vm: done 0") => Ok((true, "KVM".into())),
        _ => Ok((
            false,
            format!(
                "TCG (a KVM probe boot did not reach /init within {} s)",
                KVM_PROBE_LIMIT.as_secs()
            ),
        )),
    }
}

pub(crate) fn parse(console: &str) -> Vec<Reported> {
    let mut cases = Vec::new();
    let mut cur: Option<Reported> = None;
    for line in console.lines() {
        let line = line.trim_end_matches('\r');
        let Some(rest) = line.strip_prefix("xsc-vm: ") else {
            continue;
        };
        if let Some(id) = rest.strip_prefix("case ") {
            cur = Some(Reported {
                id: id.to_string(),
                ..Default::default()
            });
            continue;
        }
        let Some(c) = cur.as_mut() else { continue };
        if let Some(s) = rest.strip_prefix("native ") {
            c.native = s.to_string();
        } else if let Some(s) = rest.strip_prefix("xsc ") {
            c.xsc = s.to_string();
        } else if let Some(s) = rest.strip_prefix("ms ") {
            let mut w = s.split_whitespace().map(|v| v.parse().unwrap_or(f64::NAN));
            c.native_ms = w.next().unwrap_or(f64::NAN);
            c.xsc_ms = w.next().unwrap_or(f64::NAN);
        } else if let Some(s) = rest.strip_prefix("same-stdout ") {
            c.same_stdout = s == "yes";
        } else if let Some(s) = rest.strip_prefix("- ") {
            c.native_stdout.push(s.to_string());
        } else if let Some(s) = rest.strip_prefix("+ ") {
            c.xsc_stdout.push(s.to_string());
        } else if rest == "-" {
            c.native_stdout.push(String::new());
        } else if rest == "+" {
            c.xsc_stdout.push(String::new());
        } else if rest == "end" {
            cases.extend(cur.take());
        }
    }
    cases
}

/// The problems with one case, if any.
fn judge(r: &Reported, check: &Check, trace: &[Traced]) -> Option<String> {
    let stdout_diff = || {
        let mut s = String::new();
        for l in &r.native_stdout {
            s.push_str(&format!("\n      - {l}"));
        }
        for l in &r.xsc_stdout {
            s.push_str(&format!("\n      + {l}"));
        }
        s
    };
    match check {
        Check::Differential(expect) => {
            if &r.native != expect {
                Some(format!(
                    "natively it ended with {}, but its header expects {expect}",
                    r.native
                ))
            } else if r.native != r.xsc || !r.same_stdout {
                Some(format!(
                    "native {}, XSC {}; stdout {}{}",
                    r.native,
                    r.xsc,
                    if r.same_stdout {
                        "the same"
                    } else {
                        "differs:"
                    },
                    stdout_diff()
                ))
            } else {
                None
            }
        }
        Check::Selftest => {
            let count = |out: &[String]| out.iter().find(|l| l.starts_with("1..")).cloned();
            let bad: Vec<&String> = r
                .xsc_stdout
                .iter()
                .filter(|l| l.starts_with("not ok") || l.contains("# SKIP"))
                .collect();
            if r.native != "exit 0" || r.xsc != "exit 0" || !bad.is_empty() {
                Some(format!(
                    "native {}, XSC {}; XSC tests failed or skipped: {bad:?}; stdout:{}",
                    r.native,
                    r.xsc,
                    stdout_diff()
                ))
            } else if count(&r.native_stdout).is_none()
                || count(&r.native_stdout) != count(&r.xsc_stdout)
            {
                Some(format!(
                    "the two builds ran different test plans:{}",
                    stdout_diff()
                ))
            } else {
                None
            }
        }
        Check::Status(want) => (&r.xsc != want).then(|| {
            format!(
                "ended with {}, expected {want}; stdout:{}",
                r.xsc,
                stdout_diff()
            )
        }),
        Check::Traced { inner, comm, by } => {
            if let Some(p) = judge(r, inner, trace) {
                return Some(p);
            }
            let printed: Vec<Completion> =
                r.xsc_stdout.iter().filter_map(|l| completion(l)).collect();
            if printed.is_empty() {
                return Some("it printed no completion to look for in the trace".into());
            }
            let missing: Vec<String> = printed
                .iter()
                .filter(|c| {
                    !trace
                        .iter()
                        .any(|t| t.completion == **c && t.comm == *comm && t.by == *by)
                })
                .map(|c| format!("{c:?}"))
                .collect();
            (!missing.is_empty()).then(|| {
                format!(
                    "not in the kernel's trace as posted by {comm} ({by}): {}; the trace has {} xsc_complete events",
                    missing.join(", "),
                    trace.len()
                )
            })
        }
        Check::AsXscRun { stdout, status } => {
            // Only the XSC build ran: the driver reported its stdout as
            // differing from the empty native one.
            let got = r.xsc_stdout.join("\n");
            let want = stdout.trim_end_matches('\n');
            (got != want || &r.xsc != status).then(|| {
                format!(
                    "in the VM: {} with stdout\n{got}\nunder xsc-run: {status} with stdout\n{want}",
                    r.xsc
                )
            })
        }
    }
}

pub fn run(debug: bool, only: Option<&str>) -> Result {
    crate::setup::run()?;
    suite(Flavour::from_debug(debug), only)
}

/// The VM suite, on a machine set up already (`cargo xtask test` runs it
/// after the other tests), on the plain or the debug kernel; `only`: the
/// cases whose id contains that text.
pub fn suite(flavour: Flavour, only: Option<&str>) -> Result {
    let kernel = kernel(flavour)?;
    let dir = cmd::root().join("target/vm");
    let Plan {
        initrd,
        checks,
        reports,
    } = initramfs(&dir, only, flavour)?;
    let (kvm, accel) = choose_kvm(&kernel, &initrd)?;
    eprintln!("xtask: booting the XSC kernel with {accel}");
    let start = Instant::now();
    let console = boot(&kernel, &initrd, kvm, RUN_LIMIT, flavour)?
        .ok_or_else(|| format!("the VM did not finish within {} s", RUN_LIMIT.as_secs()))?;
    let elapsed = start.elapsed();
    std::fs::write(dir.join("console.txt"), &console).map_err(|e| e.to_string())?;
    let reported = parse(&console);
    let trace = parse_trace(&console);
    let mut problems: Vec<String> = unreported(&console, &reports)
        .into_iter()
        .map(|s| format!("the VM did not report `{s}`"))
        .collect();
    problems.extend(
        kernel_reports(&console)
            .into_iter()
            .map(|l| format!("the kernel reported: {l}")),
    );
    let mut passed = 0;
    for (id, check) in &checks {
        match reported.iter().find(|r| &r.id == id) {
            None => problems.push(format!("{id}: not reported by the VM")),
            Some(r) => match judge(r, check, &trace) {
                Some(p) => problems.push(format!("{id}: {p}")),
                None => passed += 1,
            },
        }
    }
    println!(
        "vm-test: {} cases on the XSC kernel ({accel}, {:.0} s): {passed} pass, {} fail",
        checks.len(),
        elapsed.as_secs_f64(),
        problems.len()
    );
    for p in &problems {
        println!("FAIL {p}");
    }
    if problems.is_empty() {
        Ok(())
    } else {
        let tail: Vec<&str> = console.lines().rev().take(20).collect();
        Err(format!(
            "{} of {} VM cases failed (console in {}; its end:\n{})",
            problems.len(),
            checks.len(),
            dir.join("console.txt").display(),
            tail.into_iter().rev().collect::<Vec<_>>().join("\n")
        ))
    }
}

/// One VM bench measurement: medians over the runs.
pub struct VmMeasure {
    pub name: String,
    pub unit: &'static str,
    pub detail: String,
    pub native: Vec<f64>,
    pub xsc: Vec<f64>,
}

/// The real program of the VM bench: the conformance stress case that
/// makes 2 million calls on 8 threads, every completion checked.
const BENCH_PROGRAM: &str = "stress/ring_calls_every_completion_checked";

/// The VM rows of `cargo xtask bench`: in one boot of the XSC kernel,
/// `runs` runs of each side, alternating, of the trivial call and the
/// 64-entry batch (natively `bench-calls`, static; on XSC the no_std
/// `ring-bench`, as on the host) with `calls` calls, and of
/// [`BENCH_PROGRAM`] (wall time). Native and XSC run in the same VM.
pub fn bench(runs: usize, calls: u64) -> Result<(Vec<VmMeasure>, String)> {
    let kernel = kernel(Flavour::Plain)?;
    let dir = cmd::root().join("target/vm-bench");
    let root = dir.join("root");
    let _ = std::fs::remove_dir_all(&dir);
    for d in ["proc", "dev", "tmp", "b"] {
        std::fs::create_dir_all(root.join(d)).map_err(|e| e.to_string())?;
    }
    compile(
        &xsc_cc(),
        &[],
        &cmd::root().join("kernel/vm/init.c"),
        &root.join("init"),
    )?;
    // bench-calls, static, for the native side.
    let bench_dir = cmd::root().join("samples/bench");
    let host = "x86_64-unknown-linux-gnu";
    cmd::run(
        std_xsc::toolchain::cargo_xsc(&bench_dir)
            .args(["build", "--release", "-p", "bench-calls", "--target", host])
            .env(
                "CARGO_TARGET_X86_64_UNKNOWN_LINUX_GNU_RUSTFLAGS",
                "-C target-feature=+crt-static",
            ),
    )?;
    let copy = |from: PathBuf, to: &str| {
        std::fs::copy(&from, root.join("b").join(to))
            .map(|_| ())
            .map_err(|e| format!("{}: {e}", from.display()))
    };
    copy(
        bench_dir
            .join("target")
            .join(host)
            .join("release/bench-calls"),
        "bench-calls",
    )?;
    copy(cmd::build_samples(true)?.join("ring-bench"), "ring-bench")?;
    let program = conformance::discover(&conformance::cases_dir())
        .into_iter()
        .find(|c| c.id == BENCH_PROGRAM)
        .ok_or(format!("no conformance case {BENCH_PROGRAM}"))?;
    compile(
        Path::new("gcc"),
        &["-static"],
        &program.source,
        &root.join("b/program.native"),
    )?;
    compile(&xsc_cc(), &[], &program.source, &root.join("b/program.xsc"))?;
    // Every run inline first, then with the kernel's pollers on.
    let mut lines = Vec::new();
    for (prefix, _) in BENCH_MODES {
        if !prefix.is_empty() {
            lines.push(format!("!set {POLL_SETTING} {POLL_US}"));
        }
        for _ in 0..runs {
            lines.push(format!(
                "{prefix}bench/calls /b/bench-calls /b/ring-bench {calls}"
            ));
            lines.push(format!(
                "{prefix}bench/program /b/program.native /b/program.xsc {{DIR}}"
            ));
        }
    }
    std::fs::write(root.join("cases"), lines.join("\n") + "\n").map_err(|e| e.to_string())?;
    let cpio = dir.join("root.cpio");
    make_cpio(&root, &cpio)?;
    let (kvm, accel) = choose_kvm(&kernel, &cpio)?;
    let console = boot(&kernel, &cpio, kvm, RUN_LIMIT, Flavour::Plain)?.ok_or_else(|| {
        format!(
            "the bench VM did not finish within {} s",
            RUN_LIMIT.as_secs()
        )
    })?;
    std::fs::write(dir.join("console.txt"), &console).map_err(|e| e.to_string())?;
    let settings: Vec<String> = set_reports(&lines).collect();
    if let Some(setting) = unreported(&console, &settings).first() {
        return Err(format!(
            "the bench VM did not report `{setting}` (console in {})",
            dir.join("console.txt").display()
        ));
    }
    let value = |lines: &[String], key: &str| -> Result<f64> {
        lines
            .iter()
            .find_map(|l| l.strip_prefix(key).and_then(|v| v.trim().parse().ok()))
            .ok_or_else(|| format!("the VM run printed no `{key}`"))
    };
    let reported = parse(&console);
    let mut measures = Vec::new();
    for (prefix, mode) in BENCH_MODES {
        let [(trivial_name, _), (batch_name, _), (real_name, _)] = bench_row_names(mode);
        let mut trivial = VmMeasure {
            name: trivial_name,
            unit: "ns",
            detail: format!("{calls} getppid calls: natively bench-calls (static glibc), XSC ring-bench; the XSC kernel under qemu ({accel}), {mode}"),
            native: vec![],
            xsc: vec![],
        };
        let mut batch = VmMeasure {
            name: batch_name,
            unit: "ns",
            detail: trivial.detail.clone(),
            native: vec![],
            xsc: vec![],
        };
        let mut real = VmMeasure {
            name: real_name,
            unit: "ms",
            detail: format!(
                "{BENCH_PROGRAM}, gcc -static against xsc-cc, in the same VM ({accel}), {mode}"
            ),
            native: vec![],
            xsc: vec![],
        };
        for r in &reported {
            let Some(id) = r.id.strip_prefix(prefix) else {
                continue;
            };
            let ok = |s: &str| s == "exit 0";
            if !ok(&r.native) || !ok(&r.xsc) {
                return Err(format!(
                    "{} in the VM: native {}, XSC {}",
                    r.id, r.native, r.xsc
                ));
            }
            match id {
                "bench/calls" => {
                    trivial.native.push(value(&r.native_stdout, "call_ns")?);
                    batch
                        .native
                        .push(value(&r.native_stdout, "group_ns_per_call")?);
                    trivial.xsc.push(value(&r.xsc_stdout, "ring_ns_per_call")?);
                    batch.xsc.push(value(&r.xsc_stdout, "batch_ns_per_entry")?);
                }
                "bench/program" => {
                    real.native.push(r.native_ms);
                    real.xsc.push(r.xsc_ms);
                }
                _ => {}
            }
        }
        if real.native.len() != runs || trivial.native.len() != runs {
            return Err(format!(
                "the bench VM reported {} and {} of {runs} runs, {mode} (console in {})",
                trivial.native.len(),
                real.native.len(),
                dir.join("console.txt").display()
            ));
        }
        measures.extend([trivial, batch, real]);
    }
    Ok((measures, accel))
}

/// The VM bench's two passes: the case prefix and what the rows say.
const BENCH_MODES: [(&str, &str); 2] = [("", "inline"), ("polled/", "polled mode")];

/// The names and units of the VM bench's rows in one mode (the bench
/// lists them even when the VM cannot run).
pub fn bench_row_names(mode: &str) -> [(String, &'static str); 3] {
    let suffix = if mode == "inline" {
        String::new()
    } else {
        format!(", {mode}")
    };
    [
        (
            format!("in the VM: trivial call (getppid), per call{suffix}"),
            "ns",
        ),
        (
            format!("in the VM: 64-entry batch (getppid), per entry{suffix}"),
            "ns",
        ),
        (
            format!("in the VM: 8 threads x 250k checked calls, wall{suffix}"),
            "ms",
        ),
    ]
}

/// Every VM bench row's name and unit, in order.
pub fn bench_rows() -> Vec<(String, &'static str)> {
    BENCH_MODES
        .iter()
        .flat_map(|(_, mode)| bench_row_names(mode))
        .collect()
}

#[cfg(test)]
mod tests {
    #[test]
    fn kernel_fault_reports_are_found_and_case_output_is_not() {
        let console = "[    0.1] kasan: KernelAddressSanitizer initialized\n\
            xsc-vm: + BUG: this is a program's own line\n\
            [    3.2] BUG: KASAN: slab-out-of-bounds in xsc_post+0x1/0x2\n\
            [    3.3] WARNING: CPU: 1 PID: 7 at xsc/ring.c:40 xsc_claim\n";
        let r = kernel_reports(console);
        assert_eq!(r.len(), 2);
        assert!(r[0].contains("KASAN: slab-out-of-bounds"));
        assert!(kernel_reports("xsc-vm: done 3\n").is_empty());
    }

    use super::*;

    #[test]
    fn the_console_report_parses() {
        let console = "noise\nxsc-vm: start\nxsc-vm: case a/b\nxsc-vm: native exit 0\nxsc-vm: xsc exit 1\nxsc-vm: same-stdout no\nxsc-vm: - one\nxsc-vm: -\nxsc-vm: + two\r\nxsc-vm: end\nxsc-vm: case c\nxsc-vm: native exit 0\nxsc-vm: xsc exit 0\nxsc-vm: ms 1.5 2.0\nxsc-vm: same-stdout yes\nxsc-vm: end\nxsc-vm: done 2\n";
        let r = parse(console);
        assert_eq!(r.len(), 2);
        assert_eq!(r[0].id, "a/b");
        assert_eq!(r[0].native_stdout, ["one", ""]);
        assert_eq!(r[0].xsc_stdout, ["two"]);
        fn judge(r: &Reported, c: &Check) -> Option<String> {
            super::judge(r, c, &[])
        }
        assert!(judge(&r[0], &Check::Differential("exit 0".into())).is_some());
        assert!(judge(&r[1], &Check::Differential("exit 0".into())).is_none());
        assert!(judge(&r[1], &Check::Differential("exit 3".into())).is_some());
        assert!(judge(&r[1], &Check::Status("signal SIGSYS".into())).is_some());
        assert_eq!((r[1].native_ms, r[1].xsc_ms), (1.5, 2.0));
    }

    #[test]
    fn each_set_line_must_be_reported_as_ok() {
        let lines: Vec<String> = ["!set /a 1", "x - /s/x", "!set /b 2"]
            .map(String::from)
            .to_vec();
        let wanted: Vec<String> = set_reports(&lines).collect();
        assert_eq!(wanted, ["xsc-vm: set /a 1 ok", "xsc-vm: set /b 2 ok"]);
        let console = "xsc-vm: set /a 1 ok\r\nxsc-vm: set /b 2 error 13\n";
        assert_eq!(unreported(console, &wanted), ["xsc-vm: set /b 2 ok"]);
    }

    #[test]
    fn a_completion_is_found_in_the_trace_only_as_posted() {
        let console = "xsc-vm: case p\nxsc-vm: native none\nxsc-vm: xsc exit 0\nxsc-vm: same-stdout no\nxsc-vm: + bad op: result=-38 flags=0x1 user_data=0xabc -> ok\nxsc-vm: + fine: result=21 flags=0x0 user_data=0x7 -> ok\nxsc-vm: end\n\
            xsc-vm: cat # tracer: nop\n\
            xsc-vm: cat       ring-abuse-57      [000] .....     3.456789: xsc_complete: region=0x7f0000 opcode=1000 user_data=0xabc result=-38 flags=0x1 by=inline\n\
            xsc-vm: cat       ring-abuse-57      [000] .....     3.456790: xsc_complete: region=0x7f0000 opcode=1 user_data=0x7 result=21 flags=0 by=inline\n";
        let r = parse(console);
        let trace = parse_trace(console);
        assert_eq!(trace.len(), 2);
        assert_eq!(trace[0].comm, "ring-abuse");
        assert_eq!(
            trace[1].completion,
            Completion {
                result: 21,
                flags: 0,
                user_data: 7
            }
        );
        let traced = |comm, by| Check::Traced {
            inner: Box::new(Check::Status("exit 0".into())),
            comm,
            by,
        };
        assert_eq!(judge(&r[0], &traced("ring-abuse", "inline"), &trace), None);
        assert!(judge(&r[0], &traced("ring-abuse", "poller"), &trace).is_some());
        assert!(judge(&r[0], &traced("other", "inline"), &trace).is_some());
        assert!(judge(&r[0], &traced("ring-abuse", "inline"), &trace[..1]).is_some());
    }
}
