//! `cargo xtask compat`: popular crates and programs from crates.io built
//! for `x86_64-unknown-linux-xsc` and natively, run both ways and compared
//! (issue 11, item 8).
//!
//! The list is `xtask/compat.toml` (its header says what each field
//! means). Both sides use the `xsc` toolchain's cargo and rustc (Debian's
//! 1.96), the same version, features and Cargo.lock (`--locked`); the
//! native side builds for the host, the XSC side with `--target
//! x86_64-unknown-linux-xsc` and runs under xsc-run (directly for a
//! program, as cargo's runner for a test suite). Nothing is compared with
//! an expected result, only with native:
//!
//! - a binary (`cargo install`) runs its workload `--runs` times per side,
//!   alternating which goes first; its standard output and exit status
//!   are compared (byte for byte, as sorted lines, or with numbers
//!   masked), and the ratio of the median wall times is reported;
//! - a test suite runs `cargo test --no-fail-fast` once per side after a
//!   `--no-run` build; every test's outcome (named by its test program)
//!   is compared, and the ratio of the two runs' wall times is reported.
//!
//! Everything is cached under `target/compat/` (the crates' sources, the
//! build folders, the installed programs), so a second run only runs.
//! Logs of every build and run are in `target/compat/logs/`; the results
//! are printed as a table and written to `target/compat/compat.json` and
//! (as a Markdown table) `target/compat/compat.md`.

use crate::bench::measure::median;
use crate::bench::report::json_str;
use crate::cmd::{self, describe, Result};
use std::collections::BTreeMap;
use std::fmt::Write as _;
use std::fs::File;
use std::os::unix::process::CommandExt;
use std::path::{Path, PathBuf};
use std::process::{Command, ExitStatus, Stdio};
use std::time::{Duration, Instant};

/// Rust's library source: the binaries' workload.
const LIB_SRC: &str = "/usr/lib/rustlib/src/rust/library";

#[derive(clap::Args)]
pub struct Args {
    /// Only these crates (names as in the list; comma-separated, or the
    /// option repeated).
    #[arg(long, value_delimiter = ',')]
    only: Vec<String>,
    /// The list of crates.
    #[arg(long, default_value = "xtask/compat.toml")]
    list: PathBuf,
    /// Runs of each side per binary; the table shows the median's ratio.
    #[arg(long, default_value_t = 3)]
    runs: usize,
    /// Parallel jobs of every cargo build.
    #[arg(short, long, default_value_t = 2)]
    jobs: u32,
    /// Seconds after which a build, a test suite or a program run is
    /// stopped (with everything it started) and reported as timed out.
    #[arg(long, default_value_t = 1800)]
    timeout: u64,
    /// Use the installed toolchain as it is, without `cargo xtask setup`
    /// first.
    #[arg(long)]
    skip_setup: bool,
}

// ---------------------------------------------------------------------------
// The list

#[derive(Clone, Copy, Debug, PartialEq, Eq)]
enum Kind {
    Binary,
    TestSuite,
}

#[derive(Clone, Copy, Debug, PartialEq, Eq)]
enum Compare {
    Stdout,
    Sorted,
    Masked,
}

#[derive(Debug)]
struct Entry {
    name: String,
    version: String,
    group: String,
    kind: Kind,
    cargo_args: Vec<String>,
    test_args: Vec<String>,
    bin: String,
    run: Vec<String>,
    compare: Compare,
    pinned: String,
    /// Generate a Cargo.lock even if the crate publishes one.
    generate_lock: bool,
}

impl Entry {
    fn id(&self) -> String {
        format!("{}-{}", self.name, self.version)
    }
}

enum Value {
    Str(String),
    List(Vec<String>),
}

/// Parses one TOML string (basic, double-quoted) at the start of `s`;
/// returns it and the rest.
fn toml_string(s: &str) -> std::result::Result<(String, &str), String> {
    let body = s
        .strip_prefix('"')
        .ok_or_else(|| format!("expected a \"string\" at `{s}`"))?;
    let mut out = String::new();
    let mut chars = body.char_indices();
    while let Some((i, c)) = chars.next() {
        match c {
            '"' => return Ok((out, &body[i + 1..])),
            '\\' => match chars.next().map(|(_, c)| c) {
                Some('\\') => out.push('\\'),
                Some('"') => out.push('"'),
                Some('n') => out.push('\n'),
                Some('t') => out.push('\t'),
                other => return Err(format!("unsupported escape \\{other:?} in `{s}`")),
            },
            c => out.push(c),
        }
    }
    Err(format!("unterminated string `{s}`"))
}

/// Parses a value: a string or a list of strings (on one line).
fn toml_value(s: &str) -> std::result::Result<Value, String> {
    let s = s.trim();
    if let Some(mut rest) = s.strip_prefix('[') {
        let mut items = Vec::new();
        loop {
            rest = rest.trim_start();
            if let Some(after) = rest.strip_prefix(']') {
                if !after.trim().is_empty() && !after.trim().starts_with('#') {
                    return Err(format!("unexpected `{after}` after a list"));
                }
                return Ok(Value::List(items));
            }
            let (item, after) = toml_string(rest)?;
            items.push(item);
            rest = after.trim_start();
            rest = rest.strip_prefix(',').unwrap_or(rest);
        }
    }
    let (v, after) = toml_string(s)?;
    if !after.trim().is_empty() && !after.trim().starts_with('#') {
        return Err(format!("unexpected `{after}` after a string"));
    }
    Ok(Value::Str(v))
}

/// Reads the list: `[[crate]]` tables of `key = "string"` and `key =
/// ["list", "of", "strings"]` lines (the TOML subset the file uses).
fn read_list(path: &Path) -> Result<Vec<Entry>> {
    let text = std::fs::read_to_string(path)
        .map_err(|e| format!("cannot read the list {}: {e}", path.display()))?;
    let mut tables: Vec<(usize, BTreeMap<String, Value>)> = Vec::new();
    for (n, line) in text.lines().enumerate() {
        let line = line.trim();
        let at = || format!("{}:{}", path.display(), n + 1);
        if line.is_empty() || line.starts_with('#') {
            continue;
        }
        if line == "[[crate]]" {
            tables.push((n + 1, BTreeMap::new()));
            continue;
        }
        let (key, value) = line
            .split_once('=')
            .ok_or_else(|| format!("{}: expected `[[crate]]` or `key = value`", at()))?;
        let table = tables
            .last_mut()
            .ok_or_else(|| format!("{}: a key before the first [[crate]]", at()))?;
        let value = toml_value(value).map_err(|e| format!("{}: {e}", at()))?;
        if table.1.insert(key.trim().to_string(), value).is_some() {
            return Err(format!("{}: `{}` given twice", at(), key.trim()));
        }
    }
    let mut entries = Vec::new();
    for (line, mut t) in tables {
        let at = format!("{}:{line}", path.display());
        let mut str_of = |k: &str, required: bool| -> Result<String> {
            match t.remove(k) {
                Some(Value::Str(s)) => Ok(s),
                Some(Value::List(_)) => Err(format!("{at}: `{k}` must be a string")),
                None if required => Err(format!("{at}: `{k}` is missing")),
                None => Ok(String::new()),
            }
        };
        let name = str_of("name", true)?;
        let version = str_of("version", true)?;
        let group = str_of("group", true)?;
        let kind = match str_of("kind", true)?.as_str() {
            "binary" => Kind::Binary,
            "test-suite" => Kind::TestSuite,
            k => return Err(format!("{at}: kind `{k}`: binary or test-suite")),
        };
        let compare = match str_of("compare", kind == Kind::Binary)?.as_str() {
            "stdout" | "" => Compare::Stdout,
            "sorted" => Compare::Sorted,
            "masked" => Compare::Masked,
            c => return Err(format!("{at}: compare `{c}`: stdout, sorted or masked")),
        };
        let bin = str_of("bin", kind == Kind::Binary)?;
        let pinned = str_of("pinned", false)?;
        let generate_lock = match str_of("lock", false)?.as_str() {
            "" | "published" => false,
            "generate" => true,
            l => return Err(format!("{at}: lock `{l}`: published or generate")),
        };
        let mut list_of = |k: &str| -> Result<Vec<String>> {
            match t.remove(k) {
                Some(Value::List(v)) => Ok(v),
                Some(Value::Str(_)) => Err(format!("{at}: `{k}` must be a list of strings")),
                None => Ok(Vec::new()),
            }
        };
        let cargo_args = list_of("cargo_args")?;
        let test_args = list_of("test_args")?;
        let run = list_of("run")?;
        if let Some(k) = t.keys().next() {
            return Err(format!("{at}: unknown key `{k}`"));
        }
        if kind == Kind::TestSuite && !run.is_empty() {
            return Err(format!("{at}: `run` is for binaries"));
        }
        entries.push(Entry {
            name,
            version,
            group,
            kind,
            cargo_args,
            test_args,
            bin,
            run,
            compare,
            pinned,
            generate_lock,
        });
    }
    Ok(entries)
}

// ---------------------------------------------------------------------------
// Running things

/// How a command ended.
struct Ran {
    status: Option<ExitStatus>,
    wall: f64,
    timed_out: bool,
}

impl Ran {
    fn ok(&self) -> bool {
        self.status.is_some_and(|s| s.success())
    }

    fn describe(&self, timeout: Duration) -> String {
        match self.status {
            _ if self.timed_out => format!("timed out after {} s", timeout.as_secs()),
            Some(s) => s.to_string(),
            None => "not waited for".into(),
        }
    }
}

/// Runs `c` in a process group of its own, standard output to `out` and
/// standard error to `err` (the same file if `err` is None), standard
/// input /dev/null; stops the group after `timeout`.
fn run_logged(c: &mut Command, out: &Path, err: Option<&Path>, timeout: Duration) -> Result<Ran> {
    let open =
        |p: &Path| File::create(p).map_err(|e| format!("cannot create {}: {e}", p.display()));
    let out_file = open(out)?;
    let err_file = match err {
        Some(p) => open(p)?,
        None => out_file
            .try_clone()
            .map_err(|e| format!("cannot duplicate {}: {e}", out.display()))?,
    };
    c.stdin(Stdio::null())
        .stdout(out_file)
        .stderr(err_file)
        .process_group(0);
    let t0 = Instant::now();
    let mut child = c
        .spawn()
        .map_err(|e| format!("cannot start {}: {e}", describe(c)))?;
    loop {
        if let Some(status) = child
            .try_wait()
            .map_err(|e| format!("waiting for {}: {e}", describe(c)))?
        {
            return Ok(Ran {
                status: Some(status),
                wall: t0.elapsed().as_secs_f64(),
                timed_out: false,
            });
        }
        if t0.elapsed() > timeout {
            // SAFETY: kill(2) with the group id of the child's group.
            unsafe { libc::kill(-(child.id() as i32), libc::SIGKILL) };
            let status = child.wait().ok();
            return Ok(Ran {
                status,
                wall: t0.elapsed().as_secs_f64(),
                timed_out: true,
            });
        }
        std::thread::sleep(Duration::from_millis(20));
    }
}

/// The first line of the log that says what went wrong (cargo's and
/// rustc's `error...` lines first), for the table; the log's path follows.
fn why(log: &Path) -> String {
    let text = std::fs::read_to_string(log).unwrap_or_default();
    let pick = text
        .lines()
        .find(|l| l.starts_with("error") && !l.starts_with("error: could not compile"))
        .or_else(|| text.lines().find(|l| l.starts_with("error")))
        .or_else(|| text.lines().rev().find(|l| !l.trim().is_empty()))
        .unwrap_or("(no output)");
    let mut pick = pick.trim().to_string();
    // A failed link: the linker wrapper's own words say why.
    if pick.starts_with("error: linking with") {
        if let Some(l) = text.lines().find_map(|l| l.split_once("note: xsc-ld: ")) {
            pick = format!("{pick}: xsc-ld: {}", l.1.trim());
        }
    }
    if pick.len() > 300 {
        let mut end = 300;
        while !pick.is_char_boundary(end) {
            end -= 1;
        }
        pick.truncate(end);
        pick.push_str("...");
    }
    pick
}

/// Which side a build or run is for.
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
}

struct Ctx {
    dir: PathBuf,
    xsc_run: PathBuf,
    xsc_target: String,
    runs: usize,
    jobs: u32,
    timeout: Duration,
}

impl Ctx {
    fn log(&self, e: &Entry, side: Side, what: &str) -> PathBuf {
        self.dir
            .join("logs")
            .join(format!("{}.{}.{what}.log", e.id(), side.name()))
    }

    /// `cargo +xsc SUBCOMMAND` in `dir` with the row's jobs and target.
    fn cargo(&self, dir: &Path, sub: &str, side: Side) -> Command {
        let mut c = std_xsc::toolchain::cargo_xsc(dir);
        c.arg(sub).arg("-j").arg(self.jobs.to_string());
        if side == Side::Xsc {
            c.args(["--target", &self.xsc_target]);
        }
        c
    }
}

// ---------------------------------------------------------------------------
// One row

#[derive(Default)]
struct Counts {
    passed: usize,
    failed: usize,
    ignored: usize,
}

/// What one side of a row did.
#[derive(Default)]
struct SideResult {
    /// None: built; Some: why not.
    build: Option<String>,
    build_seconds: f64,
    /// Why the run could not be compared (a run that did not finish, a
    /// suite that printed no result).
    run_error: Option<String>,
    counts: Option<Counts>,
    walls: Vec<f64>,
}

#[derive(Default)]
struct Row {
    native: SideResult,
    xsc: SideResult,
    /// Outputs identical (binaries) or every test's outcome the same (test
    /// suites); None if not compared.
    identical: Option<bool>,
    /// What differed, briefly.
    differences: Vec<String>,
    /// Something the row's build needed (a generated Cargo.lock, ...).
    notes: Vec<String>,
    /// Not run (yet).
    not_run: bool,
}

impl Row {
    fn ratio(&self) -> Option<f64> {
        let (n, x) = (median(&self.native.walls)?, median(&self.xsc.walls)?);
        (n > 0.0).then(|| x / n)
    }

    /// One word for the summary: ok, or the first thing that went wrong.
    fn status(&self) -> &'static str {
        if self.not_run {
            "not run"
        } else if self.xsc.build.is_some() || self.native.build.is_some() {
            "build failed"
        } else if self.xsc.run_error.is_some() || self.native.run_error.is_some() {
            "run failed"
        } else if self.identical == Some(false) {
            "differs"
        } else if self.identical == Some(true) {
            "ok"
        } else {
            "not compared"
        }
    }
}

/// Downloads and unpacks the crate's source (once), makes it a workspace of
/// its own (it sits inside this repository's) and gives it a Cargo.lock
/// (the published one, else one generated once). Returns its folder.
fn source(ctx: &Ctx, e: &Entry, notes: &mut Vec<String>) -> Result<PathBuf> {
    let src_root = ctx.dir.join("src");
    let src = src_root.join(e.id());
    let download = ctx.dir.join("download");
    for d in [&src_root, &download] {
        std::fs::create_dir_all(d).map_err(|e| format!("cannot create {}: {e}", d.display()))?;
    }
    let stamp = src.join(".compat-ready");
    let published =
        std::fs::read_to_string(src.join(".compat-lock")).is_ok_and(|s| s == "published");
    if e.generate_lock && published {
        // The list asks for a generated lock since this source was unpacked.
        let _ = std::fs::remove_file(&stamp);
    }
    if !stamp.exists() {
        let file = download.join(format!("{}.crate", e.id()));
        if !file.exists() {
            let url = format!(
                "https://static.crates.io/crates/{0}/{0}-{1}.crate",
                e.name, e.version
            );
            let part = file.with_extension("part");
            cmd::run(
                Command::new("curl")
                    .args(["-fsSL", "-o"])
                    .arg(&part)
                    .arg(&url),
            )?;
            std::fs::rename(&part, &file).map_err(|e| format!("cannot rename: {e}"))?;
        }
        if src.exists() {
            std::fs::remove_dir_all(&src)
                .map_err(|e| format!("cannot remove {}: {e}", src.display()))?;
        }
        cmd::run(
            Command::new("tar")
                .arg("-xzf")
                .arg(&file)
                .arg("-C")
                .arg(&src_root),
        )?;
        let manifest = src.join("Cargo.toml");
        let mut text = std::fs::read_to_string(&manifest)
            .map_err(|e| format!("cannot read {}: {e}", manifest.display()))?;
        if !text.lines().any(|l| l.trim() == "[workspace]") {
            text.push_str(
                "\n# Added by cargo xtask compat: a workspace of its own.\n[workspace]\n",
            );
            std::fs::write(&manifest, text)
                .map_err(|e| format!("cannot write {}: {e}", manifest.display()))?;
        }
        if e.generate_lock {
            let lock = src.join("Cargo.lock");
            if lock.exists() {
                std::fs::remove_file(&lock)
                    .map_err(|e| format!("cannot remove {}: {e}", lock.display()))?;
            }
        }
        if src.join("Cargo.lock").exists() {
            std::fs::write(src.join(".compat-lock"), "published")
        } else {
            let mut c = std_xsc::toolchain::cargo_xsc(&src);
            c.arg("generate-lockfile")
                .env("CARGO_RESOLVER_INCOMPATIBLE_RUST_VERSIONS", "fallback");
            cmd::run(&mut c)?;
            std::fs::write(src.join(".compat-lock"), "generated")
        }
        .map_err(|e| format!("cannot write in {}: {e}", src.display()))?;
        std::fs::write(&stamp, "").map_err(|e| format!("cannot write {}: {e}", stamp.display()))?;
    }
    if std::fs::read_to_string(src.join(".compat-lock")).is_ok_and(|s| s == "generated") {
        notes.push(if e.generate_lock {
            "Cargo.lock generated (the list says why), the same for both sides".into()
        } else {
            "Cargo.lock generated (none published), the same for both sides".into()
        });
    }
    Ok(src)
}

/// Builds the row's crate on `side`; fills in `r.build`.
fn build(ctx: &Ctx, e: &Entry, side: Side, src: Option<&Path>, r: &mut SideResult) -> Result {
    let log = ctx.log(e, side, "build");
    let target_dir = ctx.dir.join("build").join(e.id());
    let mut c = match e.kind {
        Kind::Binary => {
            let mut c = ctx.cargo(&ctx.dir, "install", side);
            // `--force`: cargo install keeps an installed version even when
            // the toolchain has changed since (it does not compare the
            // compiler it recorded); the report must measure this one.
            // The target folder stays, so unchanged crates are not rebuilt.
            c.arg("--force")
                .arg("--locked")
                .arg(format!("{}@{}", e.name, e.version))
                .arg("--root")
                .arg(ctx.dir.join("install").join(side.name()).join(e.id()));
            c
        }
        Kind::TestSuite => {
            let mut c = ctx.cargo(src.expect("a test suite has a source"), "test", side);
            c.args(["--no-run", "--locked"]);
            c
        }
    };
    c.arg("--target-dir").arg(&target_dir).args(&e.cargo_args);
    eprintln!(
        "xtask: compat: {} {}: building ({})",
        e.id(),
        side.name(),
        describe(&c)
    );
    let ran = run_logged(&mut c, &log, None, ctx.timeout)?;
    r.build_seconds = ran.wall;
    if !ran.ok() {
        r.build = Some(format!(
            "{}: {} (log: {})",
            ran.describe(ctx.timeout),
            why(&log),
            log.display()
        ));
    }
    Ok(())
}

/// Standard output as compared.
fn normalise(out: &[u8], how: Compare) -> String {
    let text = String::from_utf8_lossy(out);
    match how {
        Compare::Stdout => text.into_owned(),
        Compare::Sorted => {
            let mut lines: Vec<&str> = text.lines().collect();
            lines.sort_unstable();
            lines.join("\n")
        }
        Compare::Masked => text
            .lines()
            .map(|l| {
                let mut prev_number = false;
                l.split_whitespace()
                    .map(|w| {
                        let number = w.starts_with(|c: char| c.is_ascii_digit());
                        // A unit may carry punctuation: "794.2 µs," "1.1 ms]".
                        let bare = w.trim_end_matches([',', ']', ')']);
                        let unit = prev_number && ["ns", "µs", "us", "ms", "s"].contains(&bare);
                        prev_number = number;
                        if number {
                            "#".to_string()
                        } else if unit {
                            format!("#unit{}", &w[bare.len()..])
                        } else {
                            w.to_string()
                        }
                    })
                    .collect::<Vec<_>>()
                    .join(" ")
            })
            .collect::<Vec<_>>()
            .join("\n"),
    }
}

/// Runs an installed binary `ctx.runs` times per side, alternating.
fn run_binary(ctx: &Ctx, e: &Entry, row: &mut Row) -> Result {
    let args: Vec<String> = e.run.iter().map(|a| a.replace("{lib}", LIB_SRC)).collect();
    let work = ctx.dir.join("work");
    std::fs::create_dir_all(&work).map_err(|e| format!("cannot create {}: {e}", work.display()))?;
    let mut outputs: [Option<(String, String)>; 2] = [None, None];
    for run in 0..ctx.runs {
        let order = if run % 2 == 0 {
            [Side::Native, Side::Xsc]
        } else {
            [Side::Xsc, Side::Native]
        };
        for side in order {
            let exe = ctx
                .dir
                .join("install")
                .join(side.name())
                .join(e.id())
                .join("bin")
                .join(&e.bin);
            let mut c = match side {
                Side::Native => Command::new(&exe),
                Side::Xsc => {
                    let mut c = Command::new(&ctx.xsc_run);
                    c.arg(&exe);
                    c
                }
            };
            c.args(&args).current_dir(&work);
            let out = ctx.log(e, side, &format!("run{}.stdout", run + 1));
            let err = ctx.log(e, side, &format!("run{}.stderr", run + 1));
            let ran = run_logged(&mut c, &out, Some(&err), ctx.timeout)?;
            let r = match side {
                Side::Native => &mut row.native,
                Side::Xsc => &mut row.xsc,
            };
            if ran.timed_out || ran.status.is_none() {
                r.run_error = Some(format!(
                    "{} ({}): {}",
                    describe(&c),
                    ran.describe(ctx.timeout),
                    why(&err)
                ));
                return Ok(());
            }
            r.walls.push(ran.wall);
            let stdout =
                std::fs::read(&out).map_err(|e| format!("cannot read {}: {e}", out.display()))?;
            let status = ran.describe(ctx.timeout);
            if !ran.ok() && r.run_error.is_none() {
                r.run_error = Some(format!(
                    "{} exited with {status}: {}",
                    side.name(),
                    why(&err)
                ));
            }
            let slot = &mut outputs[side as usize];
            let this = (status, normalise(&stdout, e.compare));
            match slot {
                None => *slot = Some(this),
                Some(first) if *first != this => {
                    row.differences.push(format!(
                        "{} run {} differs from its run 1 (see {})",
                        side.name(),
                        run + 1,
                        out.display()
                    ));
                }
                Some(_) => {}
            }
        }
    }
    if let [Some(n), Some(x)] = &outputs {
        let same = n == x;
        row.identical = Some(same && row.differences.is_empty());
        if n.0 != x.0 {
            row.differences
                .push(format!("exit status: native {}, xsc {}", n.0, x.0));
        }
        if n.1 != x.1 {
            let first =
                n.1.lines()
                    .zip(x.1.lines())
                    .position(|(a, b)| a != b)
                    .unwrap_or_else(|| n.1.lines().count().min(x.1.lines().count()));
            row.differences.push(format!(
                "standard output ({:?}) differs from line {}: native {} lines, xsc {} lines (logs: {})",
                e.compare,
                first + 1,
                n.1.lines().count(),
                x.1.lines().count(),
                ctx.dir.join("logs").display()
            ));
        }
    }
    Ok(())
}

/// Every test's outcome in a `cargo test` log, by test program and name.
fn outcomes(log: &str) -> BTreeMap<String, &'static str> {
    let mut program = String::new();
    let mut map = BTreeMap::new();
    for line in log.lines() {
        let t = line.trim();
        if let Some(p) = t.strip_prefix("Running ") {
            // `unittests src/lib.rs (target/.../deps/memchr-HASH)`: the
            // part before the path names the program on both sides.
            program = p.split(" (").next().unwrap_or(p).to_string();
        } else if let Some(p) = t.strip_prefix("Doc-tests ") {
            program = format!("doc-tests {p}");
        } else if let Some(rest) = line.strip_prefix("test ") {
            let Some((name, outcome)) = rest.rsplit_once(" ... ") else {
                continue;
            };
            let outcome = match outcome.trim() {
                "ok" => "passed",
                "FAILED" => "failed",
                o if o.starts_with("ignored") => "ignored",
                _ => continue,
            };
            map.insert(format!("{program}: {name}"), outcome);
        }
    }
    map
}

/// Runs a test suite on both sides and compares every test's outcome.
fn run_tests(ctx: &Ctx, e: &Entry, src: &Path, row: &mut Row) -> Result {
    let target_dir = ctx.dir.join("build").join(e.id());
    let mut maps = Vec::new();
    for side in [Side::Native, Side::Xsc] {
        let log = ctx.log(e, side, "test");
        let mut c = ctx.cargo(src, "test", side);
        c.args(["--no-fail-fast", "--locked", "--target-dir"])
            .arg(&target_dir)
            .args(&e.cargo_args);
        if !e.test_args.is_empty() {
            c.arg("--").args(&e.test_args);
        }
        eprintln!("xtask: compat: {} {}: testing", e.id(), side.name());
        let ran = run_logged(&mut c, &log, None, ctx.timeout)?;
        let text = std::fs::read_to_string(&log)
            .map_err(|e| format!("cannot read {}: {e}", log.display()))?;
        let map = outcomes(&text);
        let r = match side {
            Side::Native => &mut row.native,
            Side::Xsc => &mut row.xsc,
        };
        let mut counts = Counts::default();
        for o in map.values() {
            match *o {
                "passed" => counts.passed += 1,
                "failed" => counts.failed += 1,
                _ => counts.ignored += 1,
            }
        }
        if ran.timed_out {
            r.run_error = Some(format!("timed out after {} s", ctx.timeout.as_secs()));
        } else if map.is_empty() && !ran.ok() {
            r.run_error = Some(format!(
                "{}: {} (log: {})",
                ran.describe(ctx.timeout),
                why(&log),
                log.display()
            ));
        } else {
            r.walls.push(ran.wall);
        }
        // Test programs that did not finish (a crash, a signal) are listed:
        // their tests after the crash are missing from the counts.
        for l in text.lines() {
            if l.contains("process didn't exit successfully") && !l.contains("exit status: 101") {
                row.differences
                    .push(format!("{}: {}", side.name(), l.trim()));
            }
        }
        r.counts = Some(counts);
        maps.push(map);
    }
    if row.native.run_error.is_none() && row.xsc.run_error.is_none() {
        let (n, x) = (&maps[0], &maps[1]);
        let mut diff = Vec::new();
        for (k, v) in n {
            match x.get(k) {
                Some(w) if w == v => {}
                Some(w) => diff.push(format!("{k}: native {v}, xsc {w}")),
                None => diff.push(format!("{k}: native {v}, xsc did not run it")),
            }
        }
        for (k, w) in x {
            if !n.contains_key(k) {
                diff.push(format!("{k}: xsc {w}, native did not run it"));
            }
        }
        row.identical = Some(diff.is_empty());
        let shown = 10;
        if diff.len() > shown {
            let more = diff.len() - shown;
            diff.truncate(shown);
            diff.push(format!("... and {more} more"));
        }
        row.differences.extend(diff);
    }
    Ok(())
}

fn do_row(ctx: &Ctx, e: &Entry) -> Row {
    let mut row = Row::default();
    let src = match e.kind {
        Kind::Binary => None,
        Kind::TestSuite => match source(ctx, e, &mut row.notes) {
            Ok(s) => Some(s),
            Err(err) => {
                let msg = format!("the source: {err}");
                row.native.build = Some(msg.clone());
                row.xsc.build = Some(msg);
                return row;
            }
        },
    };
    for side in [Side::Native, Side::Xsc] {
        let r = match side {
            Side::Native => &mut row.native,
            Side::Xsc => &mut row.xsc,
        };
        if let Err(err) = build(ctx, e, side, src.as_deref(), r) {
            r.build = Some(err);
        }
    }
    if row.native.build.is_some() || row.xsc.build.is_some() {
        return row;
    }
    let ran = match e.kind {
        Kind::Binary => run_binary(ctx, e, &mut row),
        Kind::TestSuite => run_tests(ctx, e, src.as_deref().expect("a source"), &mut row),
    };
    if let Err(err) = ran {
        row.xsc.run_error = Some(err);
    }
    row
}

// ---------------------------------------------------------------------------
// The report

fn build_cell(r: &SideResult) -> &'static str {
    if r.build.is_none() {
        "yes"
    } else {
        "NO"
    }
}

fn tests_cell(row: &Row) -> String {
    match (&row.native.counts, &row.xsc.counts) {
        (Some(n), Some(x)) => {
            let mut s = format!("{}/{}", x.passed, n.passed);
            if x.failed + n.failed > 0 {
                let _ = write!(s, ", failed {}/{}", x.failed, n.failed);
            }
            if x.ignored + n.ignored > 0 {
                let _ = write!(s, ", ign {}/{}", x.ignored, n.ignored);
            }
            s
        }
        _ => "-".into(),
    }
}

fn identical_cell(row: &Row) -> &'static str {
    match row.identical {
        Some(true) => "yes",
        Some(false) => "NO",
        None => "-",
    }
}

fn ratio_cell(row: &Row) -> String {
    row.ratio().map_or("-".into(), |r| format!("{r:.2}"))
}

/// The reasons and notes of a row, one string.
fn remarks(e: &Entry, row: &Row) -> String {
    let mut v = Vec::new();
    for (side, r) in [("native", &row.native), ("xsc", &row.xsc)] {
        if let Some(b) = &r.build {
            v.push(format!("{side} build: {b}"));
        }
        if let Some(b) = &r.run_error {
            v.push(format!("{side} run: {b}"));
        }
    }
    v.extend(row.differences.iter().cloned());
    if !e.pinned.is_empty() {
        v.push(format!("pinned: {}", e.pinned));
    }
    v.extend(row.notes.iter().cloned());
    v.join("; ")
}

const HEADERS: [&str; 8] = [
    "crate",
    "group",
    "kind",
    "builds xsc/native",
    "tests xsc/native passed",
    "output identical",
    "wall ratio",
    "status",
];

fn cells(e: &Entry, row: &Row) -> [String; 8] {
    [
        e.id(),
        e.group.clone(),
        match e.kind {
            Kind::Binary => "binary".into(),
            Kind::TestSuite => "test-suite".into(),
        },
        if row.not_run {
            "-".into()
        } else {
            format!("{}/{}", build_cell(&row.xsc), build_cell(&row.native))
        },
        tests_cell(row),
        identical_cell(row).into(),
        ratio_cell(row),
        row.status().into(),
    ]
}

fn table(rows: &[(&Entry, Row)]) -> String {
    let all: Vec<[String; 8]> = rows.iter().map(|(e, r)| cells(e, r)).collect();
    let mut width = HEADERS.map(|h| h.chars().count());
    for c in &all {
        for (w, s) in width.iter_mut().zip(c) {
            *w = (*w).max(s.chars().count());
        }
    }
    let mut s = String::new();
    let line = |s: &mut String, c: &[String]| {
        for (i, (w, v)) in width.iter().zip(c).enumerate() {
            let sep = if i + 1 == c.len() { "\n" } else { "  " };
            let _ = write!(s, "{v:<w$}{sep}");
        }
    };
    line(&mut s, &HEADERS.map(String::from));
    for c in &all {
        line(&mut s, c);
    }
    s
}

fn markdown(rows: &[(&Entry, Row)]) -> String {
    let mut s = String::new();
    let _ = writeln!(s, "| {} | remarks |", HEADERS.join(" | "));
    let _ = writeln!(s, "|{}---|", "---|".repeat(HEADERS.len()));
    for (e, r) in rows {
        let c = cells(e, r);
        let remarks = remarks(e, r).replace('|', "\\|");
        let _ = writeln!(s, "| {} | {remarks} |", c.join(" | ").replace("`", ""));
    }
    s
}

fn json_opt_str(s: &Option<String>) -> String {
    s.as_deref().map_or("null".into(), json_str)
}

fn json_side(r: &SideResult) -> String {
    let counts = r.counts.as_ref().map_or("null".into(), |c| {
        format!(
            "{{\"passed\": {}, \"failed\": {}, \"ignored\": {}}}",
            c.passed, c.failed, c.ignored
        )
    });
    let walls: Vec<String> = r.walls.iter().map(|w| format!("{w:.4}")).collect();
    format!(
        "{{\"built\": {}, \"build_error\": {}, \"build_seconds\": {:.1}, \"run_error\": {}, \"tests\": {counts}, \"wall_seconds\": [{}]}}",
        r.build.is_none(),
        json_opt_str(&r.build),
        r.build_seconds,
        json_opt_str(&r.run_error),
        walls.join(", ")
    )
}

fn json(context: &[(&str, String)], rows: &[(&Entry, Row)]) -> String {
    let mut s = String::from("{\n");
    for (k, v) in context {
        let _ = writeln!(s, "  {}: {v},", json_str(k));
    }
    s.push_str("  \"rows\": [\n");
    for (i, (e, r)) in rows.iter().enumerate() {
        let diffs: Vec<String> = r.differences.iter().map(|d| json_str(d)).collect();
        let notes: Vec<String> = r.notes.iter().map(|d| json_str(d)).collect();
        let _ = write!(
            s,
            "    {{\"crate\": {}, \"version\": {}, \"group\": {}, \"kind\": {}, \"status\": {}, \"native\": {}, \"xsc\": {}, \"identical\": {}, \"wall_ratio\": {}, \"differences\": [{}], \"notes\": [{}], \"pinned\": {}}}",
            json_str(&e.name),
            json_str(&e.version),
            json_str(&e.group),
            json_str(if e.kind == Kind::Binary { "binary" } else { "test-suite" }),
            json_str(r.status()),
            json_side(&r.native),
            json_side(&r.xsc),
            r.identical.map_or("null".into(), |b| b.to_string()),
            r.ratio().map_or("null".into(), |x| format!("{x:.3}")),
            diffs.join(", "),
            notes.join(", "),
            json_str(&e.pinned),
        );
        s.push_str(if i + 1 == rows.len() { "\n" } else { ",\n" });
    }
    s.push_str("  ]\n}\n");
    s
}

fn toolchain_version() -> String {
    Command::new("cargo")
        .args(["+xsc", "--version"])
        .output()
        .ok()
        .filter(|o| o.status.success())
        .map(|o| String::from_utf8_lossy(&o.stdout).trim().to_string())
        .unwrap_or_else(|| "unknown".into())
}

/// Writes compat.md and compat.json; returns the summary line.
fn write_report(ctx: &Ctx, rows: &[(&Entry, Row)], toolchain: &str, t0: Instant) -> Result<String> {
    let count = |f: &dyn Fn(&Row) -> bool| rows.iter().filter(|(_, r)| !r.not_run && f(r)).count();
    let not_run = rows.iter().filter(|(_, r)| r.not_run).count();
    let mut summary = format!(
        "{} crates: {} build for XSC, {} natively; {} identical to native (outputs, or every test's outcome), {} differ, {} not compared",
        rows.len(),
        count(&|r| r.xsc.build.is_none()),
        count(&|r| r.native.build.is_none()),
        count(&|r| r.identical == Some(true)),
        count(&|r| r.identical == Some(false)),
        count(&|r| r.identical.is_none()),
    );
    if not_run > 0 {
        let _ = write!(summary, ", {not_run} not run yet");
    }
    let seconds = t0.elapsed().as_secs_f64();
    let md = format!(
        "{}\n{summary}; the run took {seconds:.0} s ({toolchain}).\n",
        markdown(rows),
    );
    // Paths relative to the repository, as docs/compat.md shows them.
    let md = md.replace(&format!("{}/", cmd::root().display()), "");
    let md_file = ctx.dir.join("compat.md");
    std::fs::write(&md_file, md).map_err(|e| format!("cannot write {}: {e}", md_file.display()))?;
    let json_text = json(
        &[
            ("toolchain", json_str(toolchain)),
            ("runs", ctx.runs.to_string()),
            ("jobs", ctx.jobs.to_string()),
            ("seconds", format!("{seconds:.0}")),
            ("summary", json_str(&summary)),
        ],
        rows,
    );
    let json_file = ctx.dir.join("compat.json");
    std::fs::write(&json_file, json_text)
        .map_err(|e| format!("cannot write {}: {e}", json_file.display()))?;
    Ok(summary)
}

pub fn run(args: Args) -> Result {
    let t0 = Instant::now();
    if args.runs == 0 || args.jobs == 0 {
        return Err("--runs and --jobs must be at least 1".into());
    }
    let list = if args.list.is_absolute() {
        args.list.clone()
    } else {
        cmd::root().join(&args.list)
    };
    let entries = read_list(&list)?;
    for name in &args.only {
        if !entries.iter().any(|e| &e.name == name) {
            return Err(format!(
                "--only {name}: no such crate in {}",
                list.display()
            ));
        }
    }
    let chosen: Vec<&Entry> = entries
        .iter()
        .filter(|e| args.only.is_empty() || args.only.contains(&e.name))
        .collect();
    if !Path::new(LIB_SRC).is_dir() {
        return Err(format!(
            "{LIB_SRC} (the binaries' workload) is missing: run `cargo xtask setup`"
        ));
    }
    if !args.skip_setup {
        crate::setup::run()?;
    }
    let ctx = Ctx {
        dir: cmd::root().join("target/compat"),
        xsc_run: std_xsc::xsc_home().join("bin/xsc-run"),
        xsc_target: std_xsc::Arch::X86_64.xsc_target(),
        runs: args.runs,
        jobs: args.jobs,
        timeout: Duration::from_secs(args.timeout),
    };
    if !ctx.xsc_run.is_file() {
        return Err(format!(
            "{} is missing: run `cargo xtask setup`",
            ctx.xsc_run.display()
        ));
    }
    let logs = ctx.dir.join("logs");
    std::fs::create_dir_all(&logs).map_err(|e| format!("cannot create {}: {e}", logs.display()))?;

    // Every row starts as "not run"; the files are rewritten after each
    // row, so that a run stopped halfway leaves what it found.
    let mut rows: Vec<(&Entry, Row)> = chosen
        .iter()
        .map(|e| {
            let row = Row {
                not_run: true,
                ..Row::default()
            };
            (*e, row)
        })
        .collect();
    let toolchain = toolchain_version();
    for i in 0..rows.len() {
        let e = rows[i].0;
        eprintln!("xtask: compat: [{}/{}] {}", i + 1, rows.len(), e.id());
        let t = Instant::now();
        let row = do_row(&ctx, e);
        eprintln!(
            "xtask: compat: {}: {} ({:.0} s)",
            e.id(),
            row.status(),
            t.elapsed().as_secs_f64()
        );
        rows[i].1 = row;
        write_report(&ctx, &rows, &toolchain, t0)?;
    }

    print!("{}", table(&rows));
    println!();
    for (e, r) in &rows {
        let rem = remarks(e, r);
        if r.status() != "ok" || !rem.is_empty() {
            println!("{}: {}", e.id(), rem);
        }
    }
    let summary = write_report(&ctx, &rows, &toolchain, t0)?;
    println!("\n{summary}");
    println!(
        "written: {} and {}",
        ctx.dir.join("compat.json").display(),
        ctx.dir.join("compat.md").display()
    );
    let seconds = t0.elapsed().as_secs_f64();
    println!("compat took {seconds:.0} s");
    Ok(())
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn masked_output_ignores_numbers_and_time_units() {
        // hyperfine's report of the same command, natively and under XSC.
        let native = "Benchmark 1: true\n  Time (mean ± σ):     919.1 µs ±  68.2 µs    [User: 794.2 µs, System: 50.3 µs]\n  Range (min … max):   855.3 µs … 1093.1 µs    20 runs\n";
        let xsc = "Benchmark 1: true\n  Time (mean ± σ):       2.1 ms ±   0.6 ms    [User: 1.1 ms, System: 0.7 ms]\n  Range (min … max):     1.6 ms …   4.6 ms    20 runs\n";
        assert_eq!(
            normalise(native.as_bytes(), Compare::Masked),
            normalise(xsc.as_bytes(), Compare::Masked)
        );
        // Words are not masked: a different command still differs.
        let other = native.replace("true", "false");
        assert_ne!(
            normalise(native.as_bytes(), Compare::Masked),
            normalise(other.as_bytes(), Compare::Masked)
        );
    }
}
