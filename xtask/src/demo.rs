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

/// Builds samples/std for the XSC target with the installed `xsc`
/// toolchain (std comes prebuilt from the toolchain's sysroot).
fn build_std_samples(target: &str) -> Result<std::path::PathBuf> {
    let dir = cmd::root().join("samples/std");
    cmd::run(std_xsc::toolchain::cargo_xsc(&dir).args(["build", "--release", "--target", target]))?;
    Ok(dir.join("target").join(target).join("release"))
}

pub fn run() -> Result {
    crate::setup::run()?;
    let home = std_xsc::xsc_home();
    let runner = home.join("bin/xsc-run");
    let samples = cmd::build_samples(true)?;
    let std_samples = build_std_samples("x86_64-unknown-linux-xsc")?;
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
        "raw-syscall: a binary that contains raw `syscall` and `int 0x80` instructions",
        "xsc-run verifies binaries before it runs them (xsc-elfcheck) and refuses this one",
        &out,
    );

    let out = run_sample(&runner, &["--allow-unverified", &s("raw-syscall")])?;
    show(
        "raw-syscall run anyway (--allow-unverified)",
        "the trap guard stops the raw system call with SIGSYS and names the place",
        &out,
    );

    let out = run_sample(
        &runner,
        &[
            "--guard=seccomp",
            "--allow-unverified",
            &s("raw-syscall"),
            "defeat-dispatch",
        ],
    )?;
    show(
        "raw-syscall defeat-dispatch under --guard=seccomp",
        "the program switches Syscall User Dispatch off behind the kernel's back; the seccomp guard still stops it",
        &out,
    );
    let hello = std_samples.join("hello");
    let check = Command::new(home.join("bin/xsc-elfcheck"))
        .arg(&hello)
        .output()
        .map_err(|e| e.to_string())?;
    show(
        "xsc-elfcheck samples/std hello",
        "the verifier the linker wrapper ran at link time, run again by hand",
        &check,
    );
    let out = Command::new(&runner)
        .arg(&hello)
        .args([tmp.to_str().unwrap_or("/tmp"), "7", "an", "argument"])
        .env("HELLO_NAME", "XSC")
        .output()
        .map_err(|e| e.to_string())?;
    show(
        "samples/std hello: ordinary Rust with std, built with `cargo +xsc build --target x86_64-unknown-linux-xsc`",
        "println!, args, an environment variable, a file written and read back, a thread, exit code 7",
        &out,
    );

    let c_hello = tmp.join("c-hello");
    cmd::run(
        Command::new(home.join("bin/xsc-cc"))
            .args(["-O2", "-pthread"])
            .arg(cmd::root().join("samples/c/hello.c"))
            .arg("-o")
            .arg(&c_hello),
    )?;
    let out = Command::new(&runner)
        .arg(&c_hello)
        .args([tmp.to_str().unwrap_or("/tmp"), "5"])
        .output()
        .map_err(|e| e.to_string())?;
    show(
        "samples/c hello.c, built with xsc-cc",
        "stdio, a file, a pthread, malloc, exit code 5: C on the musl fork",
        &out,
    );

    // The same std sample and C program for aarch64: xsc-run starts its
    // aarch64 build under qemu for them.
    let std_samples_arm = build_std_samples("aarch64-unknown-linux-xsc")?;
    let out = Command::new(&runner)
        .arg(std_samples_arm.join("hello"))
        .args([tmp.to_str().unwrap_or("/tmp"), "7", "an", "argument"])
        .env("HELLO_NAME", "XSC on aarch64")
        .output()
        .map_err(|e| e.to_string())?;
    show(
        "samples/std hello for aarch64 (`cargo +xsc build --target aarch64-unknown-linux-xsc`)",
        "the same program; xsc-run hands it to its aarch64 build, run by qemu-aarch64-static",
        &out,
    );
    let c_hello_arm = tmp.join("c-hello-aarch64");
    cmd::run(
        Command::new(home.join("bin/aarch64-xsc-cc"))
            .args(["-O2", "-pthread"])
            .arg(cmd::root().join("samples/c/hello.c"))
            .arg("-o")
            .arg(&c_hello_arm),
    )?;
    let out = Command::new(&runner)
        .arg(&c_hello_arm)
        .args([tmp.to_str().unwrap_or("/tmp"), "5"])
        .output()
        .map_err(|e| e.to_string())?;
    show(
        "samples/c hello.c for aarch64, built with aarch64-xsc-cc",
        "the same C program on the aarch64 musl fork, under xsc-run's aarch64 runner",
        &out,
    );
    let _ = std::fs::remove_dir_all(&tmp);
    println!("\nxtask: demo done");
    Ok(())
}
