//! Differential tests: every std sample in `samples/std` is built for the
//! host and for `x86_64-unknown-linux-xsc`, run natively and under
//! `xsc-run` with the same arguments, standard input and environment, each
//! in a fresh scratch directory, and the two runs must agree on
//! - standard output, byte for byte;
//! - standard error, up to what differs between two native runs as well:
//!   the binary's path, the scratch directory's path and the thread ids in
//!   panic messages (`thread 'main' (12345) panicked`);
//! - the exit status (code or signal);
//! - the files left in the scratch directory (names, types, modes,
//!   contents, link targets).
//!
//! A difference is a bug on the XSC side (or in the sample), never
//! something to mask here. Differences found and fixed in the toolchain
//! (SIGPIPE from a ring write, execve of a directory, /proc/self
//! describing the program, std's source paths) keep a focused test each.
//!
//! Every test runs for both targets (modules `x86_64` and `aarch64`). The
//! aarch64 oracle is the same sample built natively for
//! `aarch64-unknown-linux-musl` (std built from the toolchain's source,
//! linked with plain musl) and run under qemu's user mode, through
//! binfmt_misc as the setup registers it; the XSC side runs under
//! `xsc-run`, which starts its aarch64 runner under qemu.
//!
//! `cargo test --target <arch>-unknown-linux-xsc` is shown on the
//! `testable` sample: libtest's threads and output capture under xsc-run.
//!
//! They use the installed toolchain (`cargo xtask setup` installs it into
//! `$XSC_HOME`, default `~/.xsc`, and registers the `xsc` rustup toolchain).

use std::collections::BTreeMap;
use std::ffi::OsString;
use std::io::{Read, Write};
use std::os::unix::ffi::OsStringExt;
use std::os::unix::fs::PermissionsExt;
use std::os::unix::process::ExitStatusExt;
use std::path::{Path, PathBuf};
use std::process::{Command, ExitStatus, Output, Stdio};
use std::sync::atomic::{AtomicUsize, Ordering};
use std::sync::OnceLock;
use std::time::{Duration, Instant};
use std_xsc::testing::{run_ok, text};
use std_xsc::{repo_root, xsc_home, Arch, Sysroot};

/// The two architectures every test runs on.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
enum Target {
    X86_64,
    Aarch64,
}

impl Target {
    fn arch(self) -> Arch {
        match self {
            Target::X86_64 => Arch::X86_64,
            Target::Aarch64 => Arch::Aarch64,
        }
    }
    /// The XSC target's name.
    fn xsc(self) -> String {
        self.arch().xsc_target()
    }
    /// The native build's target: None for the host's own.
    fn native(self) -> Option<String> {
        match self {
            Target::X86_64 => None,
            Target::Aarch64 => Some(std_xsc::host_musl::rust_target(Arch::Aarch64)),
        }
    }
    fn index(self) -> usize {
        self as usize
    }
}

fn require_setup(t: Target) {
    let s = Sysroot::new(&xsc_home(), t.arch());
    assert!(
        s.is_built() && xsc_run().is_file(),
        "the XSC toolchain is not installed in {}: run `cargo xtask setup` first",
        xsc_home().display()
    );
    if t == Target::Aarch64 {
        assert!(
            std_xsc::binfmt::aarch64_registered(),
            "aarch64 executables do not run on this host (binfmt_misc has no qemu-aarch64): run `cargo xtask setup` as root"
        );
    }
}

fn xsc_run() -> PathBuf {
    xsc_home().join("bin/xsc-run")
}

fn std_samples() -> PathBuf {
    repo_root().join("samples/std")
}

/// `cargo +xsc` with a clean environment (the outer cargo's variables must
/// not leak into the inner build).
fn cargo_xsc(dir: &Path) -> Command {
    let mut c = std_xsc::toolchain::cargo_xsc(dir);
    // Backtraces are asked for where a sample needs them.
    c.env_remove("RUST_BACKTRACE");
    c
}

/// Builds the samples/std workspace for `t`, natively (`xsc` false) or
/// for its XSC target, with `profile` (and, for a profile other than dev,
/// only `package`) once per test run; returns the output directory.
fn build_with(t: Target, xsc: bool, profile: Option<(&str, &str)>) -> PathBuf {
    type Cells = [[OnceLock<PathBuf>; 2]; 2];
    static DEV: Cells = [const { [const { OnceLock::new() }; 2] }; 2];
    static PANIC_ABORT: Cells = [const { [const { OnceLock::new() }; 2] }; 2];
    let cells = if profile.is_some() {
        &PANIC_ABORT
    } else {
        &DEV
    };
    cells[t.index()][xsc as usize]
        .get_or_init(|| {
            require_setup(t);
            let target = if xsc { Some(t.xsc()) } else { t.native() };
            let mut c = cargo_xsc(&std_samples());
            c.arg("build");
            match profile {
                Some((p, package)) => c.args(["--profile", p, "-p", package]),
                None => c.arg("--workspace"),
            };
            if let Some(target) = &target {
                c.args(["--target", target]);
            }
            let own_dir = !xsc && t.native().is_some();
            if own_dir {
                // The aarch64 oracle: std from source, linked with musl, in
                // a target folder of its own (its build scripts see other
                // variables than the other builds').
                c.arg("-Zbuild-std=std,panic_abort");
                c.arg("--target-dir")
                    .arg(std_samples().join(NATIVE_AARCH64_DIR));
                for (k, v) in std_xsc::host_musl::native_cargo_env(&xsc_home(), t.arch())
                    .unwrap_or_else(|e| panic!("{e}"))
                {
                    c.env(k, v);
                }
            }
            run_ok(&mut c);
            let out = target_dir(target.as_deref(), profile.map_or("debug", |(p, _)| p));
            if own_dir {
                // target/T/P -> target/native-aarch64/T/P
                let rel = out
                    .strip_prefix(std_samples().join("target"))
                    .unwrap()
                    .to_path_buf();
                std_samples().join(NATIVE_AARCH64_DIR).join(rel)
            } else {
                out
            }
        })
        .clone()
}

/// The aarch64 oracle's target folder, under samples/std.
const NATIVE_AARCH64_DIR: &str = "target/native-aarch64";

fn build(t: Target, xsc: bool) -> PathBuf {
    build_with(t, xsc, None)
}

fn target_dir(target: Option<&str>, profile: &str) -> PathBuf {
    let mut d = std_samples().join("target");
    if let Some(t) = target {
        d = d.join(t);
    }
    d.join(profile)
}

/// Builds the panic-abort sample with its `panic = "abort"` profile (on
/// XSC that builds std a second time, with that strategy) once per run.
fn build_panic_abort(t: Target, xsc: bool) -> PathBuf {
    // After the workspace builds, so that a first (long) build of std
    // with this profile does not hold up the other tests.
    build(t, xsc);
    build_with(t, xsc, Some(("panic-abort", "panic-abort")))
}

/// One run of a sample: what is compared.
#[derive(Debug, PartialEq)]
struct Observed {
    stdout: Vec<u8>,
    /// With the binary's path, the scratch directory's path and thread ids
    /// masked.
    stderr: String,
    status: Status,
    files: BTreeMap<String, Entry>,
}

#[derive(Debug, PartialEq, Clone, Copy)]
enum Status {
    Code(i32),
    Signal(i32),
}

impl From<ExitStatus> for Status {
    fn from(s: ExitStatus) -> Status {
        match (s.code(), s.signal()) {
            (Some(c), _) => Status::Code(c),
            (None, Some(sig)) => Status::Signal(sig),
            (None, None) => panic!("an exit status with neither code nor signal: {s:?}"),
        }
    }
}

/// A file left in the scratch directory.
#[derive(Debug, PartialEq)]
enum Entry {
    Dir {
        mode: u32,
    },
    File {
        mode: u32,
        len: u64,
        /// The whole content, compared; shown shortened.
        content: Content,
    },
    Symlink {
        target: PathBuf,
    },
    Other,
}

#[derive(PartialEq)]
struct Content(Vec<u8>);

impl std::fmt::Debug for Content {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        const SHOWN: usize = 120;
        let head = &self.0[..self.0.len().min(SHOWN)];
        write!(f, "{:?}", text(head))?;
        if self.0.len() > SHOWN {
            write!(f, "... ({} bytes)", self.0.len())?;
        }
        Ok(())
    }
}

fn scan(dir: &Path) -> BTreeMap<String, Entry> {
    fn walk(root: &Path, dir: &Path, out: &mut BTreeMap<String, Entry>) {
        for e in std::fs::read_dir(dir).unwrap() {
            let e = e.unwrap();
            let path = e.path();
            let rel = path
                .strip_prefix(root)
                .unwrap()
                .to_string_lossy()
                .into_owned();
            let m = std::fs::symlink_metadata(&path).unwrap();
            let mode = m.permissions().mode() & 0o7777;
            let entry = if m.file_type().is_symlink() {
                Entry::Symlink {
                    target: std::fs::read_link(&path).unwrap(),
                }
            } else if m.is_dir() {
                walk(root, &path, out);
                Entry::Dir { mode }
            } else if m.is_file() {
                Entry::File {
                    mode,
                    len: m.len(),
                    content: Content(std::fs::read(&path).unwrap()),
                }
            } else {
                Entry::Other
            };
            out.insert(rel, entry);
        }
    }
    let mut out = BTreeMap::new();
    walk(dir, dir, &mut out);
    out
}

/// `thread 'name' (12345)` as `thread 'name' (TID)`: thread ids differ
/// from run to run.
fn mask_thread_ids(s: &str) -> String {
    let mut out = String::with_capacity(s.len());
    let mut rest = s;
    while let Some(i) = rest.find("thread '") {
        let (before, from) = rest.split_at(i);
        out.push_str(before);
        let after_quote = &from["thread '".len()..];
        match after_quote.find("' (") {
            Some(j) => {
                let tail = &after_quote[j + 3..];
                let digits = tail.bytes().take_while(u8::is_ascii_digit).count();
                if digits > 0 && tail[digits..].starts_with(')') {
                    out.push_str(&from[..("thread '".len() + j + 3)]);
                    out.push_str("TID");
                    rest = &tail[digits..];
                } else {
                    out.push_str("thread '");
                    rest = after_quote;
                }
            }
            None => {
                out.push_str("thread '");
                rest = after_quote;
            }
        }
    }
    out.push_str(rest);
    out
}

/// What one sample run gets: arguments after the scratch directory,
/// standard input and environment variables (on top of a minimal one).
#[derive(Clone)]
struct Case {
    target: Target,
    sample: &'static str,
    args: Vec<OsString>,
    stdin: Vec<u8>,
    env: Vec<(OsString, OsString)>,
    /// The binary's directory, if not the workspace's debug directory
    /// (the panic-abort profile).
    bin_dir: Option<(PathBuf, PathBuf)>,
}

impl Case {
    fn new(target: Target, sample: &'static str) -> Case {
        Case {
            target,
            sample,
            args: Vec::new(),
            stdin: Vec::new(),
            env: Vec::new(),
            bin_dir: None,
        }
    }
    fn arg(mut self, a: impl Into<OsString>) -> Case {
        self.args.push(a.into());
        self
    }
    fn env(mut self, k: impl Into<OsString>, v: impl Into<OsString>) -> Case {
        self.env.push((k.into(), v.into()));
        self
    }
    fn stdin(mut self, data: Vec<u8>) -> Case {
        self.stdin = data;
        self
    }
}

/// How long one run may take before it counts as hung.
const TIMEOUT: Duration = Duration::from_secs(120);

/// Runs `cmd` with `stdin` fed in, kills it after [`TIMEOUT`].
fn run_with_timeout(mut cmd: Command, stdin: Vec<u8>) -> (Vec<u8>, Vec<u8>, ExitStatus) {
    let mut child = cmd
        .stdin(Stdio::piped())
        .stdout(Stdio::piped())
        .stderr(Stdio::piped())
        .spawn()
        .unwrap_or_else(|e| panic!("cannot run {cmd:?}: {e}"));
    let mut input = child.stdin.take().unwrap();
    let feeder = std::thread::spawn(move || {
        // A sample may stop reading early: a broken pipe is its business.
        let _ = input.write_all(&stdin);
    });
    let mut out = child.stdout.take().unwrap();
    let mut err = child.stderr.take().unwrap();
    let reader = std::thread::spawn(move || {
        let mut v = Vec::new();
        out.read_to_end(&mut v).unwrap();
        v
    });
    let err_reader = std::thread::spawn(move || {
        let mut v = Vec::new();
        err.read_to_end(&mut v).unwrap();
        v
    });
    let start = Instant::now();
    let status = loop {
        if let Some(s) = child.try_wait().unwrap() {
            break s;
        }
        if start.elapsed() > TIMEOUT {
            child.kill().unwrap();
            child.wait().unwrap();
            panic!("{cmd:?} did not finish within {TIMEOUT:?}");
        }
        std::thread::sleep(Duration::from_millis(10));
    };
    feeder.join().unwrap();
    (reader.join().unwrap(), err_reader.join().unwrap(), status)
}

fn scratch_root() -> PathBuf {
    static ROOT: OnceLock<PathBuf> = OnceLock::new();
    ROOT.get_or_init(|| {
        let d = std::env::temp_dir().join(format!("xsc-differential-{}", std::process::id()));
        let _ = std::fs::remove_dir_all(&d);
        std::fs::create_dir_all(&d).unwrap();
        d
    })
    .clone()
}

/// Runs `case` natively (`on_xsc` false) or under xsc-run, in a fresh
/// scratch directory.
fn observe(case: &Case, on_xsc: bool) -> (Observed, PathBuf) {
    let (host_dir, xsc_dir) = match &case.bin_dir {
        Some(dirs) => dirs.clone(),
        None => (build(case.target, false), build(case.target, true)),
    };
    // Several tests run the same sample, perhaps at the same time.
    static RUNS: AtomicUsize = AtomicUsize::new(0);
    let run = RUNS.fetch_add(1, Ordering::SeqCst);
    let side = if on_xsc { "xsc" } else { "native" };
    let dir = scratch_root().join(format!("{}-{run}-{:?}-{side}", case.sample, case.target));
    let _ = std::fs::remove_dir_all(&dir);
    std::fs::create_dir_all(&dir).unwrap();
    let bin = if on_xsc { xsc_dir } else { host_dir }.join(case.sample);
    let mut cmd = if on_xsc {
        let mut c = Command::new(xsc_run());
        c.arg(&bin);
        c
    } else {
        Command::new(&bin)
    };
    cmd.arg(&dir)
        .args(&case.args)
        .current_dir(&dir)
        .env_clear()
        .env("PATH", "/usr/local/bin:/usr/bin:/bin")
        .env("HOME", "/nonexistent-home")
        .env("LC_ALL", "C.UTF-8");
    for (k, v) in &case.env {
        cmd.env(k, v);
    }
    let (stdout, stderr, status) = run_with_timeout(cmd, case.stdin.clone());
    let stderr = text(&stderr)
        .replace(&*bin.to_string_lossy(), "<BIN>")
        .replace(&*dir.to_string_lossy(), "<DIR>");
    let observed = Observed {
        stdout,
        stderr: mask_thread_ids(&stderr),
        status: status.into(),
        files: scan(&dir),
    };
    (observed, dir)
}

/// The first line where `a` and `b` differ, with a little context.
fn first_difference(a: &[u8], b: &[u8]) -> String {
    let la: Vec<&[u8]> = a.split(|&c| c == b'\n').collect();
    let lb: Vec<&[u8]> = b.split(|&c| c == b'\n').collect();
    for i in 0..la.len().max(lb.len()) {
        let (x, y) = (la.get(i), lb.get(i));
        if x != y {
            let show =
                |l: Option<&&[u8]>| l.map_or("<none>".to_string(), |l| format!("{:?}", text(l)));
            let context: Vec<String> = la[i.saturating_sub(3)..i]
                .iter()
                .map(|l| format!("    {}", text(l)))
                .collect();
            return format!(
                "first difference at line {}:\n{}\n  native: {}\n  xsc:    {}\n  ({} bytes native, {} bytes on xsc)",
                i + 1,
                context.join("\n"),
                show(x),
                show(y),
                a.len(),
                b.len()
            );
        }
    }
    "no difference".to_string()
}

/// Runs the case both ways, asserts that they agree, and returns the
/// native observation for the test's own checks.
fn differential(case: Case) -> Observed {
    let (native, native_dir) = observe(&case, false);
    let (xsc, xsc_dir) = observe(&case, true);
    let mut problems = Vec::new();
    if native.stdout != xsc.stdout {
        problems.push(format!(
            "stdout differs: {}",
            first_difference(&native.stdout, &xsc.stdout)
        ));
    }
    if native.stderr != xsc.stderr {
        problems.push(format!(
            "stderr differs: {}",
            first_difference(native.stderr.as_bytes(), xsc.stderr.as_bytes())
        ));
    }
    if native.status != xsc.status {
        problems.push(format!(
            "exit status differs: native {:?}, xsc {:?}",
            native.status, xsc.status
        ));
    }
    if native.files != xsc.files {
        let mut d = Vec::new();
        for (k, v) in &native.files {
            match xsc.files.get(k) {
                None => d.push(format!("  only native: {k} {v:?}")),
                Some(w) if w != v => d.push(format!("  {k}: native {v:?}, xsc {w:?}")),
                Some(_) => {}
            }
        }
        for (k, w) in &xsc.files {
            if !native.files.contains_key(k) {
                d.push(format!("  only on xsc: {k} {w:?}"));
            }
        }
        problems.push(format!("the files left differ:\n{}", d.join("\n")));
    }
    assert!(
        problems.is_empty(),
        "`{}` behaves differently on XSC (scratch directories kept: {} and {}):\n{}\n--- native stderr:\n{}\n--- xsc stderr:\n{}",
        case.sample,
        native_dir.display(),
        xsc_dir.display(),
        problems.join("\n"),
        native.stderr,
        xsc.stderr
    );
    let _ = std::fs::remove_dir_all(&native_dir);
    let _ = std::fs::remove_dir_all(&xsc_dir);
    native
}

fn stdout_of(o: &Observed) -> String {
    text(&o.stdout)
}

fn fs(t: Target) {
    let o = differential(Case::new(t, "fs"));
    assert_eq!(o.status, Status::Code(0), "{}", o.stderr);
    let out = stdout_of(&o);
    assert!(out.contains("copied 67108864 bytes"), "{out}");
    assert!(o.files.contains_key("big-copy.bin"), "{:?}", o.files.keys());
}

fn threads(t: Target) {
    let o = differential(Case::new(t, "threads"));
    assert_eq!(o.status, Status::Code(0), "{}", o.stderr);
    assert!(stdout_of(&o).contains("32 threads, 32 distinct ids"));
    assert!(o.files.contains_key("tls-destructors.txt"));
}

fn time(t: Target) {
    let o = differential(Case::new(t, "time"));
    assert_eq!(o.status, Status::Code(0), "{}", o.stderr);
    assert!(!stdout_of(&o).contains("false"), "{}", stdout_of(&o));
}

fn env_case(t: Target) -> Case {
    Case::new(t, "env")
        .arg("one")
        .arg("two words")
        .arg(OsString::from_vec(b"not \xff UTF-8".to_vec()))
        .arg("")
        .arg("ünïcödé")
        .arg("--flag=value")
        .env("ENV_SAMPLE_GREETING", "héllo wörld")
        .env(
            "ENV_SAMPLE_BYTES",
            OsString::from_vec(b"raw \xfe\xff".to_vec()),
        )
        .env("TMPDIR", "/xsc-sample-tmp")
}

fn env(t: Target) {
    let o = differential(env_case(t));
    assert_eq!(o.status, Status::Code(0), "{}", o.stderr);
    let out = stdout_of(&o);
    assert!(out.contains("arg 4: non-UTF-8"), "{out}");
    assert!(
        out.contains("\"ENV_SAMPLE_GREETING\"=\"héllo wörld\""),
        "{out}"
    );
}

/// `env::args()` panics on a non-UTF-8 argument; the panic's location is
/// in std's source, whose path would differ: the host's std (Debian's) was
/// built from `/usr/src/rustc-1.96.0/library`, the XSC std from the
/// toolchain's copy of the library source, its paths remapped to the
/// host's. Any panic inside std (a `println!` to a closed stdout, ...) and
/// every backtrace shows it.
fn env_args_panic_names_the_same_std_source(t: Target) {
    let o = differential(env_case(t).env("ENV_SAMPLE_TRY_ARGS", "1"));
    assert!(o.stderr.contains("panicked at"), "{}", o.stderr);
}

/// What /proc/self shows: natively the program's own command line and
/// name, and the calling thread under /proc/thread-self. Under xsc-run the
/// process is xsc-run: /proc/self/cmdline starts with xsc-run's path and
/// options and /proc/self/comm is `xsc-run` unless xsc-run makes them
/// describe the program (docs/xsc-run.md, section 5); /proc/thread-self is
/// the program thread itself, since it makes its own calls.
fn env_proc_self_describes_the_program(t: Target) {
    let o = differential(env_case(t).env("ENV_SAMPLE_PROC_SELF", "1"));
    assert!(
        stdout_of(&o).contains("comm: Ok(\"env\")"),
        "{}",
        stdout_of(&o)
    );
}

fn net(t: Target) {
    let o = differential(Case::new(t, "net"));
    assert_eq!(o.status, Status::Code(0), "{}", o.stderr);
    assert!(stdout_of(&o).contains("server handled 24 lines"));
}

fn process(t: Target) {
    let o = differential(Case::new(t, "process"));
    assert_eq!(o.status, Status::Code(0), "{}", o.stderr);
    let out = stdout_of(&o);
    assert!(out.contains("wait after kill: signal: 9"), "{out}");
    assert!(out.contains("ours | wc -l: \"1000\""), "{out}");
}

/// Spawning a directory: Linux's execve fails with EACCES. Under xsc-run
/// the probe for an XSC binary reads the file first and returns the read's
/// EISDIR instead (and execvp's PATH search, which goes on after EACCES,
/// stops at EISDIR).
fn process_spawning_a_directory(t: Target) {
    let o = differential(Case::new(t, "process").arg("exec-dir"));
    assert_eq!(o.status, Status::Code(0), "{}", o.stderr);
}

fn stdio_input() -> Vec<u8> {
    let mut v = Vec::new();
    for i in 0..5000 {
        v.extend_from_slice(format!("input line {i} with some text é\n").as_bytes());
    }
    v.extend_from_slice(b"\xff\xfe raw bytes, no newline at the end");
    v
}

fn stdio(t: Target) {
    let o = differential(Case::new(t, "stdio").stdin(stdio_input()));
    assert_eq!(o.status, Status::Code(0), "{}", o.stderr);
    assert!(o.stdout.len() > 2 << 20, "several MiB of output");
    assert!(
        o.stderr.contains("failed printing to stdout"),
        "{}",
        o.stderr
    );
}

/// A program that restores SIGPIPE's default action and writes to a pipe
/// without reader dies of SIGPIPE, under xsc-run as natively: the write is
/// the program thread's own, so the SIGPIPE the host raises is the
/// program's (a kernel that executed it in another task would have to
/// forward it).
fn stdio_sigpipe_default_action(t: Target) {
    let o = differential(Case::new(t, "stdio").arg("sigpipe"));
    assert_eq!(o.status, Status::Code(0), "{}", o.stderr);
    assert!(o.stderr.contains("signal: 13 (SIGPIPE)"), "{}", o.stderr);
}

fn panics(t: Target) {
    let o = differential(Case::new(t, "panics"));
    assert_eq!(o.status, Status::Code(0), "{}", o.stderr);
    let out = stdout_of(&o);
    assert!(out.contains("our frame: panics::level_one"), "{out}");
    assert!(out.contains("nounwind: code None signal Some(6)"), "{out}");
    // std names the overflowing thread, main included (the XSC libc reports
    // the main stack's extent as glibc does; stock musl's std cannot). The
    // aarch64 oracle is stock musl's std: there both sides end the main
    // thread's overflow with a plain SIGSEGV, as the comparison checked.
    if t == Target::X86_64 {
        assert!(
            out.contains("stderr: thread 'main' has overflowed its stack"),
            "{out}"
        );
    }
    assert!(
        out.contains("stderr: thread 'deep' has overflowed its stack"),
        "{out}"
    );
    assert!(
        o.stderr.contains("thread 'doomed' (TID) panicked"),
        "{}",
        o.stderr
    );
}

fn panic_abort(t: Target) {
    let dirs = (build_panic_abort(t, false), build_panic_abort(t, true));
    let mut case = Case::new(t, "panic-abort");
    case.bin_dir = Some(dirs);
    let o = differential(case);
    assert_eq!(o.status, Status::Signal(6), "{}", o.stderr);
    let out = stdout_of(&o);
    assert!(out.contains("built with panic=abort: true"), "{out}");
    assert!(!out.contains("dropped"), "{out}");
}

fn signals(t: Target) {
    let o = differential(Case::new(t, "signals"));
    assert_eq!(o.status, Status::Code(0), "{}", o.stderr);
    let out = stdout_of(&o);
    assert!(out.contains("got SIGINT, shutting down"), "{out}");
    assert!(
        out.contains("files the children left: [\"cleaned-up-flag-loop.txt\""),
        "{out}"
    );
}

/// `cargo test` of the testable sample for `target` (None: the host),
/// with `args` after `--`.
fn cargo_test(target: Option<&str>, extra: &[&str], args: &[&str]) -> Output {
    require_setup(Target::X86_64);
    let mut c = cargo_xsc(&std_samples());
    c.args(["test", "-p", "testable"]);
    if let Some(t) = target {
        c.args(["--target", t]);
    }
    c.args(extra).arg("--").args(args);
    c.output().unwrap()
}

/// The lines libtest prints about tests (`test x ... ok`) and the result
/// lines without their timing, sorted: libtest runs tests in parallel.
fn test_report(out: &Output) -> Vec<String> {
    let mut v: Vec<String> = text(&out.stdout)
        .lines()
        .filter(|l| l.starts_with("test ") || l.starts_with("running "))
        .map(|l| match l.split_once("; finished in") {
            Some((head, _)) => head.to_string(),
            None => l.to_string(),
        })
        .collect();
    v.sort();
    v
}

fn cargo_test_runs_unit_integration_and_doc_tests_on_xsc(t: Target) {
    // The host first: the expected report comes from it (the same on
    // both architectures).
    require_setup(t);
    let host = cargo_test(None, &[], &[]);
    let xsc = cargo_test(Some(&t.xsc()), &[], &[]);
    let (h, x) = (test_report(&host), test_report(&xsc));
    assert!(
        host.status.success(),
        "{}\n{}",
        text(&host.stdout),
        text(&host.stderr)
    );
    assert!(
        xsc.status.success(),
        "{}\n{}",
        text(&xsc.stdout),
        text(&xsc.stderr)
    );
    assert_eq!(x, h, "the XSC run reports differently");
    let results: Vec<&String> = x.iter().filter(|l| l.starts_with("test result")).collect();
    assert_eq!(
        results,
        [
            "test result: ok. 1 passed; 0 failed; 0 ignored; 0 measured; 0 filtered out",
            "test result: ok. 3 passed; 0 failed; 0 ignored; 0 measured; 0 filtered out",
            "test result: ok. 5 passed; 0 failed; 1 ignored; 0 measured; 0 filtered out",
        ],
        "{}",
        text(&xsc.stdout)
    );
    // The unit tests ran under xsc-run, as XSC binaries.
    let err = text(&xsc.stderr);
    assert!(
        err.contains(&format!("{}/debug/deps/testable-", t.xsc())),
        "{err}"
    );
    // Output of passing tests is captured, threads' output included.
    assert!(
        !text(&xsc.stdout).contains("captured:"),
        "{}",
        text(&xsc.stdout)
    );
}

fn cargo_test_on_xsc_reports_a_failing_test_and_shows_its_output(t: Target) {
    let args = ["--ignored"];
    let host = cargo_test(None, &["--lib"], &args);
    let xsc = cargo_test(Some(&t.xsc()), &["--lib"], &args);
    assert_eq!(test_report(&xsc), test_report(&host));
    assert_eq!(xsc.status.code(), host.status.code());
    assert_eq!(xsc.status.code(), Some(101));
    let out = text(&xsc.stdout);
    assert!(
        out.contains("test tests::deliberately_failing ... FAILED"),
        "{out}"
    );
    assert!(
        out.contains("---- tests::deliberately_failing stdout ----"),
        "{out}"
    );
    assert!(
        out.contains("output of the deliberately failing test"),
        "{out}"
    );
    assert!(
        out.contains("test result: FAILED. 0 passed; 1 failed; 0 ignored"),
        "{out}"
    );
}

fn cargo_test_on_xsc_shows_output_with_nocapture(t: Target) {
    let args = ["--nocapture", "--test-threads=1", "tests::prints_output"];
    let host = cargo_test(None, &["--lib"], &args);
    let xsc = cargo_test(Some(&t.xsc()), &["--lib"], &args);
    assert!(xsc.status.success(), "{}", text(&xsc.stderr));
    let captured = |o: &Output| -> Vec<String> {
        let mut v: Vec<String> = text(&o.stdout)
            .lines()
            .chain(text(&o.stderr).lines())
            // libtest's "test x ... " may start the line.
            .filter_map(|l| l.find("captured:").map(|i| l[i..].to_string()))
            .collect();
        v.sort();
        v
    };
    assert_eq!(captured(&xsc), captured(&host));
    assert_eq!(captured(&xsc).len(), 3, "{:?}", captured(&xsc));
}

#[test]
fn masking_thread_ids_leaves_the_rest() {
    assert_eq!(
        mask_thread_ids("thread 'main' (4242) panicked at x\nthread 'a' (b) no"),
        "thread 'main' (TID) panicked at x\nthread 'a' (b) no"
    );
    assert_eq!(mask_thread_ids("no threads"), "no threads");
    assert_eq!(
        mask_thread_ids("thread '<unnamed>' (1) and thread 'x' (22)"),
        "thread '<unnamed>' (TID) and thread 'x' (TID)"
    );
}

/// Each test above, once per target.
macro_rules! for_each_target {
    ($($test:ident),* $(,)?) => {
        mod x86_64 {
            $(#[test] fn $test() { super::$test(super::Target::X86_64) })*
        }
        mod aarch64 {
            $(#[test] fn $test() { super::$test(super::Target::Aarch64) })*
        }
    };
}

for_each_target!(
    fs,
    threads,
    time,
    env,
    env_args_panic_names_the_same_std_source,
    env_proc_self_describes_the_program,
    net,
    process,
    process_spawning_a_directory,
    stdio,
    stdio_sigpipe_default_action,
    panics,
    panic_abort,
    signals,
    cargo_test_runs_unit_integration_and_doc_tests_on_xsc,
    cargo_test_on_xsc_reports_a_failing_test_and_shows_its_output,
    cargo_test_on_xsc_shows_output_with_nocapture
);
