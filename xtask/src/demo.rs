//! `cargo xtask demo`: build the runner and the samples, run each sample
//! under xsc-run, and say what it did.

use crate::cmd::{self, Result};
use std::os::unix::process::ExitStatusExt;
use std::path::Path;
use std::process::{Command, Output};

fn show(title: &str, what: &str, out: &Output) {
    println!("\n=== {title}");
    println!("    {what}");
    for line in String::from_utf8_lossy(&out.stdout).lines() {
        println!("    stdout | {line}");
    }
    for line in String::from_utf8_lossy(&out.stderr).lines() {
        println!("    stderr | {line}");
    }
    match (out.status.code(), out.status.signal()) {
        (Some(c), _) => println!("    exit status {c}"),
        (None, Some(s)) => println!("    killed by signal {s}"),
        _ => println!("    {}", out.status),
    }
}

fn run_sample(runner: &Path, args: &[&str]) -> Result<Output> {
    Command::new(runner)
        .args(args)
        .output()
        .map_err(|e| format!("cannot run {}: {e}", runner.display()))
}

pub fn run() -> Result {
    crate::setup::run()?;
    let runner = cmd::build_runner(true)?;
    let samples = cmd::build_samples(true)?;
    let s = |name: &str| samples.join(name).to_string_lossy().into_owned();
    let tmp = std::env::temp_dir().join(format!("xsc-demo-{}", std::process::id()));
    std::fs::create_dir_all(&tmp).map_err(|e| e.to_string())?;
    let file = tmp.join("greeting.txt");
    std::fs::write(&file, "a file read through the submission ring\n")
        .map_err(|e| e.to_string())?;
    let trace = tmp.join("raw-hello.trace");

    let out = run_sample(
        &runner,
        &[
            &format!("--trace={}", trace.display()),
            &s("raw-hello"),
            &file.to_string_lossy(),
            "42",
        ],
    )?;
    show(
        "raw-hello: a no_std program on xsc-rt alone",
        "writes to stdout, reads a file, starts a thread that writes, exits with the chosen code (42)",
        &out,
    );
    println!("    its ring operations (xsc-run --trace):");
    for line in std::fs::read_to_string(&trace).unwrap_or_default().lines() {
        println!("    trace  | {line}");
    }

    let out = run_sample(&runner, &[&s("raw-process")])?;
    show(
        "raw-process: the process model",
        "brk, mmap, signal handlers, EINTR and SA_RESTART, fork, wait4, execve of native and XSC programs",
        &out,
    );

    let out = run_sample(&runner, &[&s("ring-abuse")])?;
    show(
        "ring-abuse: bad ring input",
        "unknown opcode, malformed entry, wrong context, corrupt tail: error completions, and the kernel keeps working",
        &out,
    );

    let out = run_sample(&runner, &[&s("raw-syscall")])?;
    show(
        "raw-syscall: a binary that executes a raw `syscall`",
        "the trap guard stops it with SIGSYS and names the place",
        &out,
    );

    let out = run_sample(
        &runner,
        &["--guard=seccomp", &s("raw-syscall"), "defeat-dispatch"],
    )?;
    show(
        "raw-syscall defeat-dispatch under --guard=seccomp",
        "the program switches Syscall User Dispatch off behind the kernel's back; the seccomp guard still stops it",
        &out,
    );
    let _ = std::fs::remove_dir_all(&tmp);
    println!("\nxtask: demo done");
    Ok(())
}
