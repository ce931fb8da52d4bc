//! `cargo xtask runner-test`: the kernel runner `xsc-vm` (as installed in
//! `$XSC_HOME/bin`) against native.
//!
//! One probe program (`xsc-vm/tests/probe.c`) is built natively (static)
//! and with `xsc-cc`; each is run from the same folder under the same name,
//! the native one on the host, the XSC one on the XSC kernel with
//! `xsc-vm`, with the same arguments, environment variable and stdin: the
//! stdouts, the stderrs, the endings (a death by signal N natively is the
//! runner's 128+N) and the file each writes into the working directory must
//! be the same; inline and in polled mode. Then what the runner says of bad
//! input (a native binary, a missing one), `--timeout`, a guest kernel
//! panic, Ctrl-C (no qemu left behind), and a fresh `cargo new` project run and tested with
//! `cargo xsc run --kernel` / `cargo xsc test --kernel` against `cargo run`.

use crate::cmd::{self, Result};
use std::io::Write;
use std::os::unix::process::ExitStatusExt;
use std::path::{Path, PathBuf};
use std::process::{Command, ExitStatus, Stdio};
use std::time::Duration;

fn xsc_vm() -> PathBuf {
    std_xsc::xsc_home().join("bin/xsc-vm")
}

/// How a run ended, as a shell reports it (128+N for signal N).
fn shell_status(s: ExitStatus) -> i32 {
    match (s.code(), s.signal()) {
        (Some(c), _) => c,
        (None, Some(sig)) => 128 + sig,
        _ => -1,
    }
}

struct Ran {
    status: i32,
    stdout: String,
    stderr: String,
    written: Option<String>,
}

/// Runs `c` in `dir` with `stdin`; what it printed and wrote.
fn run_in(dir: &Path, mut c: Command, stdin: &[u8]) -> Result<Ran> {
    let written = dir.join("written-by-probe.txt");
    let _ = std::fs::remove_file(&written);
    let mut child = c
        .current_dir(dir)
        .stdin(Stdio::piped())
        .stdout(Stdio::piped())
        .stderr(Stdio::piped())
        .spawn()
        .map_err(|e| format!("cannot run {}: {e}", cmd::describe(&c)))?;
    let mut input = child.stdin.take().ok_or("no stdin")?;
    let data = stdin.to_vec();
    let feeder = std::thread::spawn(move || {
        let _ = input.write_all(&data);
    });
    let out = child.wait_with_output().map_err(|e| e.to_string())?;
    let _ = feeder.join();
    Ok(Ran {
        status: shell_status(out.status),
        stdout: String::from_utf8_lossy(&out.stdout).into_owned(),
        stderr: String::from_utf8_lossy(&out.stderr).into_owned(),
        written: std::fs::read_to_string(&written).ok(),
    })
}

fn compare(what: &str, native: &Ran, xsc: &Ran) -> Result {
    let mut diffs = Vec::new();
    if native.status != xsc.status {
        diffs.push(format!(
            "status: native {}, xsc-vm {}",
            native.status, xsc.status
        ));
    }
    for (name, n, x) in [
        ("stdout", &native.stdout, &xsc.stdout),
        ("stderr", &native.stderr, &xsc.stderr),
    ] {
        if n != x {
            diffs.push(format!("{name}: native {n:?}\n  xsc-vm {x:?}"));
        }
    }
    if native.written != xsc.written {
        diffs.push(format!(
            "written file: native {:?}, xsc-vm {:?}",
            native.written, xsc.written
        ));
    }
    if diffs.is_empty() {
        eprintln!("xtask: runner: {what}: same as native");
        Ok(())
    } else {
        Err(format!(
            "xsc-vm differs from native in {what}:\n  {}",
            diffs.join("\n  ")
        ))
    }
}

/// The qemu processes a runner with process id `pid` started (their
/// command line names its scratch folder, `xsc-vm-PID-...`).
fn stray_qemus(pid: u32) -> Vec<String> {
    let mark = format!("xsc-vm-{pid}-");
    let mut found = Vec::new();
    for e in std::fs::read_dir("/proc").into_iter().flatten().flatten() {
        if let Ok(cmdline) = std::fs::read(e.path().join("cmdline")) {
            let text = String::from_utf8_lossy(&cmdline).replace('\0', " ");
            if text.contains("qemu-system") && text.contains(&mark) {
                found.push(text);
            }
        }
    }
    found
}

/// The probe: equal to native in every way it can be compared.
fn probe_cases(dir: &Path, native: &Path, xsc: &Path) -> Result {
    let work = dir.join("work");
    std::fs::create_dir_all(&work).map_err(|e| e.to_string())?;
    std::fs::write(work.join("from-host.txt"), "written on the host\n")
        .map_err(|e| e.to_string())?;
    let input: Vec<u8> = (0..200_000u32).map(|i| (i * 7 % 251) as u8).collect();
    let args = ["io", "two words", "--flag", "ünïcode", ""];
    let as_probe = |bin: &Path| -> Result {
        std::fs::copy(bin, work.join("probe"))
            .map(|_| ())
            .map_err(|e| e.to_string())
    };
    for (mode, poll) in [("inline", None), ("polled", Some("200"))] {
        as_probe(native)?;
        let mut n = Command::new("./probe");
        n.args(args).env("XSC_VM_PROBE", "from -e");
        let native_run = run_in(&work, n, &input)?;
        as_probe(xsc)?;
        let mut x = Command::new(xsc_vm());
        if let Some(us) = poll {
            x.args(["--poll-us", us]);
        }
        x.args(["-e", "XSC_VM_PROBE=from -e", "./probe"]).args(args);
        let xsc_run = run_in(&work, x, &input)?;
        compare(&format!("io ({mode})"), &native_run, &xsc_run)?;
        if native_run.status != 3 || native_run.written.is_none() {
            return Err(format!(
                "the probe did not run as written natively: status {}, file {:?}",
                native_run.status, native_run.written
            ));
        }
    }
    as_probe(native)?;
    let mut n = Command::new("./probe");
    n.arg("signal");
    let native_run = run_in(&work, n, b"")?;
    as_probe(xsc)?;
    let mut x = Command::new(xsc_vm());
    x.args(["./probe", "signal"]);
    compare(
        "death by SIGUSR1 (128+10)",
        &native_run,
        &run_in(&work, x, b"")?,
    )?;
    Ok(())
}

/// Runs `xsc-vm OPTIONS XSC sleep` in `dir`, with SIGINT sent to the
/// runner after `interrupt` if given: how it ended, and the qemu processes
/// it left running.
fn stopped_run(
    dir: &Path,
    options: &[&str],
    xsc: &Path,
    interrupt: Option<Duration>,
) -> Result<(Ran, Vec<String>)> {
    let child = Command::new(xsc_vm())
        .args(options)
        .arg(xsc)
        .arg("sleep")
        .current_dir(dir)
        .stdin(Stdio::null())
        .stdout(Stdio::piped())
        .stderr(Stdio::piped())
        .spawn()
        .map_err(|e| e.to_string())?;
    let pid = child.id();
    if let Some(after) = interrupt {
        std::thread::sleep(after);
        // SAFETY: kill(2) on the child's process id, which we have not
        // waited for, so it is still ours.
        unsafe { libc::kill(pid as i32, libc::SIGINT) };
    }
    let out = child.wait_with_output().map_err(|e| e.to_string())?;
    let ran = Ran {
        status: shell_status(out.status),
        stdout: String::new(),
        stderr: String::from_utf8_lossy(&out.stderr).into_owned(),
        written: None,
    };
    // A qemu killed with its runner takes a moment to go.
    std::thread::sleep(Duration::from_millis(200));
    Ok((ran, stray_qemus(pid)))
}

/// What the runner says of bad input, and how it stops.
fn refusals_and_stops(dir: &Path, native: &Path, xsc: &Path) -> Result {
    let expect = |what: &str, ran: &Ran, status: i32, says: &str| -> Result {
        if ran.status == status && ran.stderr.contains(says) {
            eprintln!("xtask: runner: {what}: exit {status}, {says:?}");
            Ok(())
        } else {
            Err(format!(
                "xsc-vm, {what}: expected exit {status} saying {says:?}, got exit {} with stderr {:?}",
                ran.status, ran.stderr
            ))
        }
    };
    let mut c = Command::new(xsc_vm());
    c.arg(native);
    expect(
        "a native binary",
        &run_in(dir, c, b"")?,
        126,
        "it is not an XSC program",
    )?;
    let mut c = Command::new(xsc_vm());
    c.arg(dir.join("no-such-program"));
    expect(
        "a missing program",
        &run_in(dir, c, b"")?,
        127,
        "No such file",
    )?;
    let (ran, left) = stopped_run(dir, &["--timeout", "6"], xsc, None)?;
    expect("--timeout 6", &ran, 124, "did not finish within 6 s")?;
    if !left.is_empty() {
        return Err(format!(
            "xsc-vm left qemu running after --timeout: {left:?}"
        ));
    }
    // A guest kernel panic (the probe crashes the guest through
    // /proc/sysrq-trigger; it refuses to outside the runner's VM).
    let mut c = Command::new(xsc_vm());
    c.arg(xsc).arg("panic");
    expect(
        "a guest kernel panic",
        &run_in(dir, c, b"")?,
        125,
        "the guest kernel panicked",
    )?;
    // Ctrl-C: SIGINT to the runner once the VM runs.
    let (ran, left) = stopped_run(dir, &[], xsc, Some(Duration::from_secs(3)))?;
    expect("Ctrl-C", &ran, 130, "interrupted")?;
    if !left.is_empty() {
        return Err(format!("xsc-vm left qemu running after Ctrl-C: {left:?}"));
    }
    Ok(())
}

const CRATE_MAIN: &str = r#"//! A fresh project's program: its arguments, a file it writes, its status.
fn main() {
    let args: Vec<String> = std::env::args().skip(1).collect();
    println!("args: {args:?}");
    let cwd = std::env::current_dir().unwrap();
    println!("cwd ends with: {:?}", cwd.file_name());
    std::fs::write("written-by-crate.txt", format!("{}\n", args.join(","))).unwrap();
    eprintln!("bye");
    std::process::exit(7);
}

#[cfg(test)]
mod tests {
    #[test]
    fn threads_and_files() {
        let t = std::thread::spawn(|| 6 * 7);
        assert_eq!(t.join().unwrap(), 42);
        let p = std::env::temp_dir().join("xsc-vm-crate-test");
        std::fs::write(&p, b"x").unwrap();
        assert_eq!(std::fs::read(&p).unwrap(), b"x");
    }

    #[test]
    fn arithmetic() {
        assert_eq!(2 + 2, 4);
    }
}
"#;

/// A fresh `cargo new` project outside the repository (inside, cargo
/// would add it to the workspace): `cargo xsc run --kernel` against `cargo
/// run`, and `cargo xsc test --kernel`.
fn cargo_project() -> Result {
    let outside = std::env::temp_dir().join(format!("xsc-runner-test-{}", std::process::id()));
    let _ = std::fs::remove_dir_all(&outside);
    let result = cargo_project_in(&outside);
    let _ = std::fs::remove_dir_all(&outside);
    result
}

fn cargo_project_in(dir: &Path) -> Result {
    let proj = dir.join("hello-kernel");
    let mut c = Command::new("cargo");
    std_xsc::toolchain::clean_env(&mut c);
    cmd::run(c.args(["new", "--vcs", "none", "--quiet"]).arg(&proj))?;
    std::fs::write(proj.join("src/main.rs"), CRATE_MAIN).map_err(|e| e.to_string())?;
    let written = proj.join("written-by-crate.txt");
    let run = |xsc: bool| -> Result<Ran> {
        let _ = std::fs::remove_file(&written);
        let mut c = Command::new("cargo");
        std_xsc::toolchain::clean_env(&mut c);
        if xsc {
            c.args(["xsc", "run", "--quiet", "--kernel"]);
        } else {
            c.args(["run", "--quiet"]);
        }
        c.args(["--", "one", "two words"]);
        let mut ran = run_in(&proj, c, b"")?;
        ran.written = std::fs::read_to_string(&written).ok();
        Ok(ran)
    };
    let native = run(false)?;
    let xsc = run(true)?;
    // cargo-xsc reports what it verified on stderr; the program's own
    // stderr is its last line.
    let last = |s: &str| s.lines().last().unwrap_or("").to_string();
    let pick = |r: Ran| Ran {
        stderr: last(&r.stderr),
        ..r
    };
    compare(
        "`cargo xsc run --kernel` of a new project",
        &pick(native),
        &pick(xsc),
    )?;
    let mut c = Command::new("cargo");
    std_xsc::toolchain::clean_env(&mut c);
    let out = c
        .args(["xsc", "test", "--kernel"])
        .current_dir(&proj)
        .output()
        .map_err(|e| e.to_string())?;
    let stdout = String::from_utf8_lossy(&out.stdout);
    if !out.status.success() || !stdout.contains("test result: ok. 2 passed") {
        return Err(format!(
            "`cargo xsc test --kernel` of a new project failed ({}):\n{stdout}\n{}",
            out.status,
            String::from_utf8_lossy(&out.stderr)
        ));
    }
    eprintln!("xtask: runner: `cargo xsc test --kernel` of a new project: 2 passed");
    Ok(())
}

pub fn check() -> Result {
    crate::kernel::build(crate::kernel::Flavour::Plain)?;
    if !xsc_vm().is_file() {
        return Err(format!(
            "{} is missing: `cargo xtask setup` installs it",
            xsc_vm().display()
        ));
    }
    let dir = cmd::root().join("target/runner");
    let _ = std::fs::remove_dir_all(&dir);
    std::fs::create_dir_all(&dir).map_err(|e| e.to_string())?;
    let src = cmd::root().join("xsc-vm/tests/probe.c");
    let native = dir.join("probe.native");
    let xsc = dir.join("probe.xsc");
    cmd::run(
        Command::new("cc")
            .args(["-O1", "-static", "-o"])
            .arg(&native)
            .arg(&src),
    )?;
    cmd::run(
        Command::new(crate::vm::xsc_cc())
            .args(["-O1", "-o"])
            .arg(&xsc)
            .arg(&src),
    )?;
    probe_cases(&dir, &native, &xsc)?;
    refusals_and_stops(&dir, &native, &xsc)?;
    cargo_project()?;
    let _ = std::fs::remove_dir_all(&dir);
    eprintln!("xtask: runner: all checks passed");
    Ok(())
}
