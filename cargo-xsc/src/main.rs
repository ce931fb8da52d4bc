//! `cargo xsc`: the XSC targets for any cargo project.
//!
//! - `cargo xsc setup`: check and install what the XSC targets need (Debian
//!   packages, the `xsc` toolchain with Rust's library source, the libc
//!   fork's sysroots, xsc-run and the other tools) and say what it did.
//! - `cargo xsc build|run|test [CARGO ARGS]`: the same cargo command with
//!   the `xsc` toolchain and `--target x86_64-unknown-linux-xsc` (unless a
//!   `--target` is given), then every binary cargo produced is verified with
//!   xsc-elfcheck (found through cargo's JSON messages, read with
//!   `cargo_metadata`). `run` and `test` run under xsc-run.

use cargo_metadata::Message;
use clap::{Args, Parser, Subcommand};
use std::io::BufReader;
use std::path::PathBuf;
use std::process::{Command, ExitCode, Stdio};

#[derive(Parser)]
#[command(name = "cargo", bin_name = "cargo")]
enum Cargo {
    /// Build, run and test cargo projects for the XSC targets.
    Xsc(Xsc),
}

#[derive(Args)]
#[command(
    version,
    about = "Build, run and test cargo projects for the XSC targets"
)]
struct Xsc {
    #[command(subcommand)]
    cmd: Cmd,
}

#[derive(Subcommand)]
enum Cmd {
    /// Check and install what the XSC targets need; say what was done.
    Setup,
    /// `cargo build` for XSC, then verify every binary.
    Build(Forwarded),
    /// `cargo build` and verify, then `cargo run` under xsc-run.
    Run(Forwarded),
    /// Build and verify the test binaries, then `cargo test` under xsc-run.
    Test(Forwarded),
}

#[derive(Args)]
struct Forwarded {
    /// Arguments for cargo (and, after `--`, for the program or tests).
    #[arg(trailing_var_arg = true, allow_hyphen_values = true)]
    args: Vec<String>,
}

const DEFAULT_TARGET: &str = "x86_64-unknown-linux-xsc";

/// `cargo +xsc SUB ...` with a clean environment; `--target` added unless
/// given. Our own flags go before any `--`.
fn cargo(sub: &str, args: &[String], extra: &[&str]) -> Command {
    let mut c = Command::new("cargo");
    c.arg("+xsc").arg(sub).args(extra);
    let (before, after) = match args.iter().position(|a| a == "--") {
        Some(i) => (&args[..i], &args[i..]),
        None => (args, &[][..]),
    };
    if !before
        .iter()
        .any(|a| a == "--target" || a.starts_with("--target="))
    {
        c.args(["--target", DEFAULT_TARGET]);
    }
    c.args(before).args(after);
    for var in ["RUSTUP_TOOLCHAIN", "RUSTC", "RUSTC_WRAPPER", "CARGO"] {
        c.env_remove(var);
    }
    c
}

fn installed() -> Result<(), String> {
    let home = std_xsc::xsc_home();
    let built = std_xsc::Sysroot::new(&home, std_xsc::Arch::X86_64).is_built();
    if built && home.join("bin/xsc-run").is_file() && home.join("toolchain/bin/cargo").is_file() {
        Ok(())
    } else {
        Err(format!(
            "the XSC toolchain is not set up in {}: run `cargo xsc setup` first",
            home.display()
        ))
    }
}

/// Runs `cargo SUB` with JSON messages; returns the executables it made.
fn build(sub: &str, args: &[String], extra: &[&str]) -> Result<Vec<PathBuf>, String> {
    let before: Vec<String> = args.iter().take_while(|a| *a != "--").cloned().collect();
    let mut extra = extra.to_vec();
    extra.push("--message-format=json-render-diagnostics");
    let mut c = cargo(sub, &before, &extra);
    c.stdout(Stdio::piped());
    let mut child = c.spawn().map_err(|e| format!("cannot run cargo: {e}"))?;
    let stdout = child.stdout.take().ok_or("no stdout from cargo")?;
    let mut executables = Vec::new();
    for message in Message::parse_stream(BufReader::new(stdout)) {
        match message.map_err(|e| format!("cannot read cargo's messages: {e}"))? {
            Message::CompilerArtifact(a) => {
                if let Some(exe) = a.executable {
                    executables.push(exe.into_std_path_buf());
                }
            }
            Message::TextLine(line) => println!("{line}"),
            _ => {}
        }
    }
    let status = child.wait().map_err(|e| e.to_string())?;
    if !status.success() {
        return Err(format!("cargo {sub} failed"));
    }
    Ok(executables)
}

/// Verifies every executable with xsc-elfcheck.
fn verify(executables: &[PathBuf]) -> Result<(), String> {
    let opts = xsc_elfcheck::Options::default();
    let mut failed = false;
    for exe in executables {
        let report =
            xsc_elfcheck::check_file(exe, &opts).map_err(|e| format!("{}: {e}", exe.display()))?;
        if report.passed(&opts) {
            eprintln!(
                "cargo-xsc: verified {}: no system-call instruction, XSC_ABI note present",
                exe.display()
            );
        } else {
            failed = true;
            eprint!(
                "{}",
                xsc_elfcheck::render_human(&exe.to_string_lossy(), &report, &opts)
            );
        }
    }
    if failed {
        Err("some binaries failed XSC verification".into())
    } else {
        Ok(())
    }
}

fn status_of(mut c: Command) -> Result<ExitCode, String> {
    let status = c.status().map_err(|e| format!("cannot run cargo: {e}"))?;
    Ok(ExitCode::from(
        status.code().unwrap_or(101).clamp(0, 255) as u8
    ))
}

fn run(cmd: Cmd) -> Result<ExitCode, String> {
    match cmd {
        Cmd::Setup => {
            std_xsc::setup::setup_all(&mut |line| eprintln!("cargo-xsc: {line}"))?;
            Ok(ExitCode::SUCCESS)
        }
        Cmd::Build(f) => {
            installed()?;
            verify(&build("build", &f.args, &[])?)?;
            Ok(ExitCode::SUCCESS)
        }
        Cmd::Run(f) => {
            installed()?;
            verify(&build("build", &f.args, &[])?)?;
            status_of(cargo("run", &f.args, &[]))
        }
        Cmd::Test(f) => {
            installed()?;
            verify(&build("test", &f.args, &["--no-run"])?)?;
            status_of(cargo("test", &f.args, &[]))
        }
    }
}

fn main() -> ExitCode {
    let Cargo::Xsc(xsc) = Cargo::parse();
    match run(xsc.cmd) {
        Ok(code) => code,
        Err(e) => {
            eprintln!("cargo-xsc: error: {e}");
            ExitCode::FAILURE
        }
    }
}
