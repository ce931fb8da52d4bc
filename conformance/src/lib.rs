//! The XSC conformance suite.
//!
//! Each case is a C program in `cases/AREA/NAME.c` that exercises one
//! behaviour and prints what it observed (results, errno names, signals
//! seen, coarse timing classes) to stdout. The suite builds every case
//! twice, natively with `gcc` (glibc, static) and for XSC with `xsc-cc`,
//! runs both builds with a time limit, and compares their stdout and how
//! they ended (exit status or terminating signal). A case also states in
//! its header how it ends on Linux (`expect: exit N` or `expect: signal
//! SIGNAME`), which checks the native run itself.
//!
//! The suite runs for either architecture ([`Suite::for_arch`]): for
//! aarch64 the compilers are `aarch64-linux-gnu-gcc` and `aarch64-xsc-cc`,
//! and both builds run under qemu's user mode (the native one through
//! binfmt_misc, the XSC one under xsc-run's aarch64 runner).
//!
//! Differences fail the suite unless the case is in
//! [`known_failures::KNOWN_FAILURES`]; a listed case that behaves as
//! natively fails it too, so that the list is kept up to date.

pub mod diff;
pub mod known_failures;
pub mod process;

use known_failures::{KnownFailure, KNOWN_FAILURES, NOT_UNDER_QEMU};
use process::{Run, Status};
use std::fmt::{self, Write as _};
use std::path::{Path, PathBuf};
use std::process::Command;
use std::sync::atomic::{AtomicUsize, Ordering};
use std::sync::Mutex;
use std::time::{Duration, Instant};

/// The time limit of one run: a case still running then is a hang.
pub const CASE_TIMEOUT: Duration = Duration::from_secs(10);

/// The folder of the cases, in this crate.
pub fn cases_dir() -> PathBuf {
    Path::new(env!("CARGO_MANIFEST_DIR")).join("cases")
}

/// `$XSC_HOME`, or `~/.xsc`: where `cargo xtask setup` installs the tools.
pub use std_xsc::xsc_home;

/// How a case ends on Linux, from its `expect:` line.
#[derive(Clone, Debug, PartialEq, Eq)]
pub enum Expect {
    Exit(i32),
    Signal(i32),
}

impl Expect {
    pub fn parse(source: &str) -> Result<Expect, String> {
        let line = source
            .lines()
            .find_map(|l| l.split_once("expect:").map(|(_, rest)| rest.trim()))
            .ok_or("no `expect:` line")?;
        let mut words = line.split_whitespace();
        match (words.next(), words.next()) {
            (Some("exit"), Some(n)) => n
                .parse()
                .map(Expect::Exit)
                .map_err(|_| format!("bad exit status in `expect: {line}`")),
            (Some("signal"), Some(name)) => process::signal_number(name)
                .map(Expect::Signal)
                .ok_or_else(|| format!("unknown signal in `expect: {line}`")),
            _ => Err(format!(
                "`expect: {line}`: want `exit N` or `signal SIGNAME`"
            )),
        }
    }

    fn matches(&self, s: &Status) -> bool {
        match (self, s) {
            (Expect::Exit(a), Status::Exited(b)) | (Expect::Signal(a), Status::Signaled(b)) => {
                a == b
            }
            _ => false,
        }
    }
}

impl fmt::Display for Expect {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            Expect::Exit(c) => write!(f, "exit {c}"),
            Expect::Signal(s) => write!(f, "signal {}", process::signal_name(*s)),
        }
    }
}

/// The compiler flags a case asks for in its header comment, from the
/// line that starts with `build:` (` * build: -no-pie`): passed to both compilers, native and
/// XSC, after the suite's own. Most cases have none.
pub fn build_flags(source: &str) -> Vec<String> {
    source
        .lines()
        .take_while(|l| !l.starts_with('#'))
        .find_map(|l| {
            let l = l.trim_start();
            let l = l.strip_prefix("/*").or(l.strip_prefix('*')).unwrap_or(l);
            l.trim_start().strip_prefix("build:").map(str::trim)
        })
        .map(|flags| {
            let flags = flags.strip_suffix("*/").unwrap_or(flags);
            flags.split_whitespace().map(str::to_string).collect()
        })
        .unwrap_or_default()
}

/// One case.
#[derive(Clone, Debug)]
pub struct Case {
    /// `area/name`.
    pub id: String,
    pub source: PathBuf,
}

impl Case {
    /// The file name of its builds: `area__name`.
    fn binary_name(&self) -> String {
        self.id.replace('/', "__")
    }

    pub fn known_failure(&self) -> Option<&'static KnownFailure> {
        KNOWN_FAILURES.iter().find(|k| k.case == self.id)
    }
}

/// Every case under `dir` (`AREA/NAME.c`), sorted by id.
pub fn discover(dir: &Path) -> Vec<Case> {
    let mut cases = Vec::new();
    let areas = std::fs::read_dir(dir).unwrap_or_else(|e| panic!("{}: {e}", dir.display()));
    for area in areas {
        let area = area.expect("a readable cases folder").path();
        if !area.is_dir() {
            continue;
        }
        for f in std::fs::read_dir(&area).expect("a readable area folder") {
            let f = f.expect("a readable area folder").path();
            if f.extension().is_some_and(|e| e == "c") {
                let area_name = area.file_name().unwrap().to_string_lossy();
                let name = f.file_stem().unwrap().to_string_lossy();
                cases.push(Case {
                    id: format!("{area_name}/{name}"),
                    source: f,
                });
            }
        }
    }
    cases.sort_by(|a, b| a.id.cmp(&b.id));
    cases
}

/// What the suite concluded about one case.
#[derive(Debug)]
pub enum Verdict {
    /// Same output and ending natively and under xsc-run.
    Pass,
    /// Both printed the same `skip:` line: the host cannot run the case.
    Skipped(String),
    /// A difference, not listed as known.
    Fail,
    /// A difference listed in the known failures.
    KnownFailure(&'static KnownFailure),
    /// Listed as a known failure, but it behaves as natively now.
    NowPasses(&'static KnownFailure),
    /// The case is broken, or the host does not behave as it expects: a
    /// build failed, or the native run did not end as its `expect:` says.
    Broken(String),
}

/// One case's builds, runs and verdict.
#[derive(Debug)]
pub struct CaseResult {
    pub case: Case,
    pub native: Option<Run>,
    pub xsc: Option<Run>,
    pub verdict: Verdict,
}

impl CaseResult {
    /// Does this result make the suite fail?
    pub fn is_problem(&self) -> bool {
        matches!(
            self.verdict,
            Verdict::Fail | Verdict::NowPasses(_) | Verdict::Broken(_)
        )
    }
}

/// Where the suite finds its tools and puts its builds.
#[derive(Clone, Debug)]
pub struct Suite {
    pub cases: Vec<Case>,
    /// Builds and scratch folders go here.
    pub out_dir: PathBuf,
    pub xsc_cc: PathBuf,
    pub xsc_run: PathBuf,
    /// The native C compiler.
    pub cc: String,
    pub timeout: Duration,
    /// Cases run at once.
    pub jobs: usize,
    /// The architecture of the programs.
    pub arch: std_xsc::Arch,
}

impl Suite {
    /// All cases (or those whose id contains one of `filters`), the
    /// installed toolchain, builds under `out_dir`.
    pub fn new(out_dir: &Path, filters: &[String]) -> Suite {
        Suite::for_arch(std_xsc::Arch::X86_64, out_dir, filters)
    }

    /// [`Suite::new`] for programs of `arch`. Under qemu (aarch64) runs
    /// take longer: the time limit is three times as long.
    pub fn for_arch(arch: std_xsc::Arch, out_dir: &Path, filters: &[String]) -> Suite {
        let home = xsc_home();
        let cases = discover(&cases_dir())
            .into_iter()
            .filter(|c| filters.is_empty() || filters.iter().any(|f| c.id.contains(f.as_str())))
            .collect();
        Suite {
            cases,
            out_dir: out_dir.to_path_buf(),
            xsc_cc: home.join("bin").join(match arch {
                std_xsc::Arch::X86_64 => "xsc-cc",
                std_xsc::Arch::Aarch64 => "aarch64-xsc-cc",
            }),
            xsc_run: home.join("bin/xsc-run"),
            cc: match arch {
                std_xsc::Arch::X86_64 => "gcc".into(),
                std_xsc::Arch::Aarch64 => arch.cc().into(),
            },
            timeout: match arch {
                std_xsc::Arch::X86_64 => CASE_TIMEOUT,
                std_xsc::Arch::Aarch64 => CASE_TIMEOUT * 3,
            },
            // Most cases sleep or block; three at once keep the suite short
            // on a two-core machine without starving the ones that time
            // CPU use.
            jobs: 3,
            arch,
        }
    }

    /// Is the XSC toolchain installed?
    pub fn toolchain_missing(&self) -> Option<String> {
        [&self.xsc_cc, &self.xsc_run]
            .into_iter()
            .find(|p| !p.is_file())
            .map(|p| {
                format!(
                    "{} is missing: run `cargo xtask setup` to install the XSC toolchain",
                    p.display()
                )
            })
    }

    /// Builds and runs every case, `jobs` at a time.
    pub fn run(&self) -> Report {
        let start = Instant::now();
        for d in ["native", "xsc", "scratch"] {
            let d = self.out_dir.join(d);
            let _ = std::fs::remove_dir_all(&d);
            std::fs::create_dir_all(&d).unwrap_or_else(|e| panic!("{}: {e}", d.display()));
        }
        let next = AtomicUsize::new(0);
        let results = Mutex::new(Vec::new());
        std::thread::scope(|s| {
            for _ in 0..self.jobs.max(1) {
                s.spawn(|| loop {
                    let i = next.fetch_add(1, Ordering::Relaxed);
                    let Some(case) = self.cases.get(i) else { break };
                    let r = self.run_case(case);
                    results.lock().unwrap().push(r);
                });
            }
        });
        let mut results = results.into_inner().unwrap();
        results.sort_by(|a, b| a.case.id.cmp(&b.case.id));
        Report {
            results,
            elapsed: start.elapsed(),
        }
    }

    /// Compiles `case` with `compiler` and `flags` into `out`; the
    /// compiler's output on failure.
    fn compile(
        &self,
        compiler: &Path,
        flags: &[&str],
        case: &Case,
        out: &Path,
    ) -> Result<(), String> {
        let mut c = Command::new(compiler);
        c.args(flags)
            .args(["-O1", "-pthread", "-Wall", "-Wextra", "-I"])
            .arg(cases_dir())
            .arg(&case.source)
            .arg("-o")
            .arg(out);
        let r = process::run(c, Duration::from_secs(120));
        match r.status {
            Status::Exited(0) => Ok(()),
            s => Err(format!(
                "{} {}: {s}\n{}{}",
                compiler.display(),
                flags.join(" "),
                r.stdout,
                r.stderr
            )),
        }
    }

    /// Both builds of `case`: the native one static if the host can link
    /// it statically, else dynamic.
    fn build(&self, case: &Case) -> Result<(PathBuf, PathBuf), String> {
        let native = self.out_dir.join("native").join(case.binary_name());
        let xsc = self.out_dir.join("xsc").join(case.binary_name());
        let cc = Path::new(&self.cc);
        let source = std::fs::read_to_string(&case.source).map_err(|e| e.to_string())?;
        let own = build_flags(&source);
        let with = |first: &[&'static str]| -> Vec<String> {
            first
                .iter()
                .map(|f| f.to_string())
                .chain(own.iter().cloned())
                .collect()
        };
        let (static_flags, plain) = (with(&["-static"]), with(&[]));
        let static_flags: Vec<&str> = static_flags.iter().map(String::as_str).collect();
        let plain: Vec<&str> = plain.iter().map(String::as_str).collect();
        if let Err(e) = self.compile(cc, &static_flags, case, &native) {
            self.compile(cc, &plain, case, &native)
                .map_err(|e2| format!("native build failed:\n{e}\n{e2}"))?;
        }
        self.compile(&self.xsc_cc, &plain, case, &xsc)
            .map_err(|e| format!("XSC build failed:\n{e}"))?;
        Ok((native, xsc))
    }

    /// A scratch folder for one run of `case`, passed as its argument.
    fn scratch(&self, case: &Case, side: &str) -> PathBuf {
        let d = self
            .out_dir
            .join("scratch")
            .join(side)
            .join(case.binary_name());
        std::fs::create_dir_all(&d).unwrap_or_else(|e| panic!("{}: {e}", d.display()));
        d
    }

    fn run_case(&self, case: &Case) -> CaseResult {
        let broken = |why: String, native, xsc| CaseResult {
            case: case.clone(),
            native,
            xsc,
            verdict: Verdict::Broken(why),
        };
        if self.arch == std_xsc::Arch::Aarch64 {
            if let Some(q) = NOT_UNDER_QEMU.iter().find(|q| q.case == case.id) {
                return CaseResult {
                    case: case.clone(),
                    native: None,
                    xsc: None,
                    verdict: Verdict::Skipped(format!("not under qemu: {}", q.why)),
                };
            }
        }
        let expect = match std::fs::read_to_string(&case.source)
            .map_err(|e| e.to_string())
            .and_then(|s| Expect::parse(&s))
        {
            Ok(e) => e,
            Err(e) => return broken(format!("{}: {e}", case.source.display()), None, None),
        };
        let (native_bin, xsc_bin) = match self.build(case) {
            Ok(b) => b,
            Err(e) => return broken(e, None, None),
        };
        let mut n = Command::new(&native_bin);
        n.arg(self.scratch(case, "native"));
        let native = process::run(n, self.timeout);
        let mut x = Command::new(&self.xsc_run);
        x.arg(&xsc_bin).arg(self.scratch(case, "xsc"));
        let xsc = process::run(x, self.timeout);
        let verdict = verdict(&expect, &native, &xsc, case.known_failure());
        CaseResult {
            case: case.clone(),
            native: Some(native),
            xsc: Some(xsc),
            verdict,
        }
    }
}

/// Compares the two runs of a case that ends as `expect` says on Linux
/// and is listed in the known failures as `known`, if at all.
pub fn verdict(
    expect: &Expect,
    native: &Run,
    xsc: &Run,
    known: Option<&'static KnownFailure>,
) -> Verdict {
    if !expect.matches(&native.status) {
        return Verdict::Broken(format!(
            "natively the case ended with {}, but its header expects {expect}",
            native.status
        ));
    }
    let same = native.stdout == xsc.stdout && native.status == xsc.status;
    match (same, known) {
        (true, Some(k)) => Verdict::NowPasses(k),
        (true, None) => match native.stdout.lines().find(|l| l.starts_with("skip:")) {
            Some(l) => Verdict::Skipped(l.to_string()),
            None => Verdict::Pass,
        },
        (false, Some(k)) => Verdict::KnownFailure(k),
        (false, None) => Verdict::Fail,
    }
}

/// The results of a suite run.
#[derive(Debug)]
pub struct Report {
    pub results: Vec<CaseResult>,
    pub elapsed: Duration,
}

impl Report {
    /// No unexpected difference, no stale known failure, no broken case.
    pub fn ok(&self) -> bool {
        !self.results.iter().any(CaseResult::is_problem)
    }

    fn count(&self, f: impl Fn(&Verdict) -> bool) -> usize {
        self.results.iter().filter(|r| f(&r.verdict)).count()
    }

    /// One line: how many of each.
    pub fn summary(&self) -> String {
        format!(
            "conformance: {} cases in {:.1} s: {} pass, {} skipped, {} known failures, {} FAIL, {} now pass (remove from the known failures), {} broken",
            self.results.len(),
            self.elapsed.as_secs_f64(),
            self.count(|v| matches!(v, Verdict::Pass)),
            self.count(|v| matches!(v, Verdict::Skipped(_))),
            self.count(|v| matches!(v, Verdict::KnownFailure(_))),
            self.count(|v| matches!(v, Verdict::Fail)),
            self.count(|v| matches!(v, Verdict::NowPasses(_))),
            self.count(|v| matches!(v, Verdict::Broken(_))),
        )
    }

    /// The ids of the cases that make the suite fail, with the reason.
    pub fn problems(&self) -> Vec<String> {
        self.results
            .iter()
            .filter(|r| r.is_problem())
            .map(|r| match &r.verdict {
                Verdict::NowPasses(k) => format!(
                    "{}: now passes, remove it from KNOWN_FAILURES (it tracked {})",
                    r.case.id, k.tracks
                ),
                Verdict::Broken(why) => format!("{}: broken: {}", r.case.id, first_line(why)),
                _ => format!("{}: differs from Linux", r.case.id),
            })
            .collect()
    }
}

fn first_line(s: &str) -> &str {
    s.lines().next().unwrap_or("")
}

/// The last `n` lines of `s`.
fn tail(s: &str, n: usize) -> String {
    let lines: Vec<&str> = s.lines().collect();
    let from = lines.len().saturating_sub(n);
    lines[from..].iter().map(|l| format!("    {l}\n")).collect()
}

fn timing(r: &Option<Run>) -> String {
    r.as_ref()
        .map(|r| format!("{:.2} s", r.elapsed.as_secs_f64()))
        .unwrap_or_else(|| "-".into())
}

/// Both runs' endings, the stdout diff and xsc-run's stderr.
fn details(out: &mut String, r: &CaseResult) {
    if let (Some(n), Some(x)) = (&r.native, &r.xsc) {
        let _ = writeln!(out, "    status: native {}, xsc-run {}", n.status, x.status);
        if n.stdout != x.stdout {
            let _ = writeln!(out, "    stdout (- native, + xsc-run):");
            for l in diff::lines(&n.stdout, &x.stdout).lines() {
                let _ = writeln!(out, "      {l}");
            }
        }
        if !x.stderr.trim().is_empty() {
            let _ = writeln!(out, "    xsc-run stderr (end):");
            out.push_str(&tail(&x.stderr, 12));
        }
    }
}

impl fmt::Display for Report {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        let mut out = String::new();
        for r in &self.results {
            let id = &r.case.id;
            let times = format!("native {}, xsc-run {}", timing(&r.native), timing(&r.xsc));
            match &r.verdict {
                Verdict::Pass => {
                    let _ = writeln!(out, "PASS  {id:<50} {times}");
                }
                Verdict::Skipped(l) => {
                    let _ = writeln!(out, "SKIP  {id:<50} {l}");
                }
                Verdict::KnownFailure(k) => {
                    let _ = writeln!(out, "KNOWN {id:<50} {times}\n    tracks {}", k.tracks);
                    details(&mut out, r);
                }
                Verdict::Fail => {
                    let _ = writeln!(out, "FAIL  {id:<50} {times}");
                    details(&mut out, r);
                }
                Verdict::NowPasses(k) => {
                    let _ = writeln!(
                        out,
                        "NOW PASSES {id}: remove it from KNOWN_FAILURES (conformance/src/known_failures.rs)\n    it tracked {}",
                        k.tracks
                    );
                }
                Verdict::Broken(why) => {
                    let _ = writeln!(out, "BROKEN {id}: {}", tail(why, 40).trim_start());
                    details(&mut out, r);
                }
            }
        }
        out += &self.summary();
        f.write_str(&out)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn every_listed_case_exists() {
        let ids: Vec<String> = discover(&cases_dir()).into_iter().map(|c| c.id).collect();
        for id in KNOWN_FAILURES
            .iter()
            .map(|k| k.case)
            .chain(NOT_UNDER_QEMU.iter().map(|q| q.case))
        {
            assert!(
                ids.iter().any(|i| i == id),
                "{id} is listed but has no case"
            );
        }
    }

    #[test]
    fn build_lines_parse() {
        assert_eq!(
            build_flags("/* x\n * build: -no-pie -O2\n * expect: exit 0 */\n#include <x.h>"),
            ["-no-pie", "-O2"]
        );
        assert_eq!(build_flags("/* x\n * build: -no-pie */"), ["-no-pie"]);
        // Only the header comment counts.
        assert!(build_flags("/* x */\n#include <x.h>\n// build: -no-pie").is_empty());
        assert!(build_flags("/* expect: exit 0 */").is_empty());
        // A line that only mentions it.
        assert!(build_flags("/* the `build:` line\n * x */").is_empty());
    }

    #[test]
    fn expect_lines_parse() {
        assert_eq!(
            Expect::parse("/* x\n * expect: exit 7 */"),
            Ok(Expect::Exit(7))
        );
        assert_eq!(
            Expect::parse(" * expect: signal SIGKILL\n"),
            Ok(Expect::Signal(libc::SIGKILL))
        );
        assert!(Expect::parse("nothing").is_err());
        assert!(Expect::parse("expect: signal SIGNOPE").is_err());
        assert!(Expect::parse("expect: exit seven").is_err());
    }

    fn run(status: Status, stdout: &str) -> Run {
        Run {
            status,
            stdout: stdout.into(),
            stderr: String::new(),
            elapsed: Duration::ZERO,
        }
    }

    const K: KnownFailure = KnownFailure {
        case: "area/name",
        tracks: "issue 0, defect 0",
    };

    #[test]
    fn verdicts() {
        let ok = run(Status::Exited(0), "a\n");
        let e = Expect::Exit(0);
        assert!(matches!(verdict(&e, &ok, &ok, None), Verdict::Pass));
        assert!(matches!(
            verdict(&e, &ok, &ok, Some(&K)),
            Verdict::NowPasses(_)
        ));
        let other = run(Status::Exited(0), "b\n");
        assert!(matches!(verdict(&e, &ok, &other, None), Verdict::Fail));
        assert!(matches!(
            verdict(&e, &ok, &other, Some(&K)),
            Verdict::KnownFailure(_)
        ));
        let hang = run(Status::TimedOut(CASE_TIMEOUT), "a\n");
        assert!(matches!(verdict(&e, &ok, &hang, None), Verdict::Fail));
        let killed = run(Status::Signaled(libc::SIGKILL), "a\n");
        assert!(matches!(verdict(&e, &ok, &killed, None), Verdict::Fail));
        assert!(matches!(
            verdict(&Expect::Signal(libc::SIGKILL), &killed, &killed, None),
            Verdict::Pass
        ));
        // The native run is checked against the case's header.
        assert!(matches!(
            verdict(&e, &killed, &killed, None),
            Verdict::Broken(_)
        ));
        let skip = run(Status::Exited(0), "skip: not root\n");
        assert!(matches!(
            verdict(&e, &skip, &skip, None),
            Verdict::Skipped(_)
        ));
    }

    #[test]
    fn every_case_has_an_expect_line_and_a_unique_id() {
        let cases = discover(&cases_dir());
        assert!(!cases.is_empty());
        for c in &cases {
            let src = std::fs::read_to_string(&c.source).unwrap();
            Expect::parse(&src).unwrap_or_else(|e| panic!("{}: {e}", c.id));
        }
        let mut ids: Vec<_> = cases.iter().map(|c| c.binary_name()).collect();
        ids.dedup();
        assert_eq!(ids.len(), cases.len());
    }

    #[test]
    fn every_known_failure_names_a_case_once_and_a_defect() {
        let cases = discover(&cases_dir());
        for (i, k) in KNOWN_FAILURES.iter().enumerate() {
            assert!(
                cases.iter().any(|c| c.id == k.case),
                "KNOWN_FAILURES names {}, which is not a case",
                k.case
            );
            assert!(k.tracks.contains("issue "), "{}: name the issue", k.case);
            assert!(
                KNOWN_FAILURES[..i].iter().all(|o| o.case != k.case),
                "{} is listed twice",
                k.case
            );
        }
    }
}
