//! `cargo xsc`: the XSC targets for any cargo project.
//!
//! - `cargo xsc setup`: check and install what the XSC targets need (Debian
//!   packages, the `xsc` toolchain, the libc fork's sysroots, xsc-run and
//!   the other tools) and say what it did.
//! - `cargo xsc <any cargo subcommand> [ARGS]`: that cargo command with the
//!   `xsc` toolchain (`cargo +xsc`), and `--target
//!   x86_64-unknown-linux-xsc` added where the subcommand takes a target and
//!   none is given (`metadata` gets `--filter-platform`; `new`, `add`,
//!   `update`, ... get none). A target that is not XSC is refused before
//!   anything runs.
//! - `build`, `run`, `test` and `bench` also verify every binary cargo
//!   produced with xsc-elfcheck (found through cargo's JSON messages, read
//!   with `cargo_metadata`); `run`, `test` and `bench` run under xsc-run,
//!   or, with `--kernel`, on the XSC kernel under QEMU (xsc-vm).
//! - When cargo fails because a package needs a newer rustc than the
//!   toolchain's, one line says how to pin a release that fits.
//! - `cargo xsc --version`: which Rust the toolchain is, and how to pin.

mod args;
mod watch;

use args::Targeting;
use cargo_metadata::Message;
use clap::{Args, Parser, Subcommand};
use std::io::{BufRead, BufReader, Write};
use std::path::PathBuf;
use std::process::{Command, ExitCode, ExitStatus, Stdio};

#[derive(Parser)]
#[command(name = "cargo", bin_name = "cargo")]
enum Cargo {
    /// Build, run and test cargo projects for the XSC targets.
    Xsc(Xsc),
}

const AFTER_HELP: &str = "\
Any other cargo subcommand runs as cargo runs it, with the `xsc` toolchain and
the XSC target: `cargo xsc build|run|test|bench|check|clippy|doc|clean|tree|
metadata|install|update|...`, with cargo's own flags (`--target` chooses
between x86_64-unknown-linux-xsc, the default, and aarch64-unknown-linux-xsc).
build, run, test and bench verify every binary they produce; run, test and
bench run them under xsc-run, or with --kernel (`cargo xsc test --kernel`) on
the XSC kernel in a VM (xsc-vm). `cargo xsc --version` says which Rust the
toolchain is and how to pin a crate that needs a newer one.";

#[derive(Args)]
#[command(
    about = "Build, run and test cargo projects for the XSC targets",
    after_help = AFTER_HELP,
    disable_version_flag = true,
    disable_help_subcommand = true,
    arg_required_else_help = true
)]
struct Xsc {
    /// Print the version, the `xsc` toolchain's Rust, and how to pin a
    /// crate that needs a newer Rust.
    #[arg(short = 'V', long)]
    version: bool,
    #[command(subcommand)]
    cmd: Option<Cmd>,
}

#[derive(Subcommand)]
enum Cmd {
    /// Check and install what the XSC targets need; say what was done.
    Setup,
    /// Any cargo subcommand, for the XSC target.
    #[command(external_subcommand)]
    Cargo(Vec<String>),
}

/// `cargo +xsc SUB ADD... ARGS...` with the outer cargo's and rustup's
/// choices removed (the toolchain's cargo sets its own).
fn cargo(sub: &str, add: &[String], args: &[String]) -> Command {
    let mut c = Command::new("cargo");
    c.arg("+xsc").arg(sub).args(add).args(args);
    for var in [
        "RUSTUP_TOOLCHAIN",
        "RUSTC",
        "RUSTDOC",
        "RUSTC_WRAPPER",
        "CARGO",
    ] {
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

/// `rustc --version` of the `xsc` toolchain, if it is installed.
pub(crate) fn toolchain_rustc() -> Option<String> {
    let rustc = std_xsc::xsc_home().join("toolchain/bin/rustc");
    let out = Command::new(rustc).arg("--version").output().ok()?;
    out.status
        .success()
        .then(|| String::from_utf8_lossy(&out.stdout).trim().to_string())
}

fn version() -> ExitCode {
    println!("cargo-xsc {}", env!("CARGO_PKG_VERSION"));
    let home = std_xsc::xsc_home();
    let short = match toolchain_rustc() {
        Some(v) => {
            println!(
                "toolchain `xsc`: {v}: Debian's rustc (package rustc-web) in {}, not managed by rustup",
                home.join("toolchain").display()
            );
            v.split_whitespace().nth(1).unwrap_or("?").to_string()
        }
        None => {
            println!(
                "toolchain `xsc`: not installed in {} (run `cargo xsc setup`)",
                home.display()
            );
            "the toolchain's".to_string()
        }
    };
    println!(
        "targets: {} (the default), {}",
        args::XSC_TARGETS[0],
        args::XSC_TARGETS[1]
    );
    println!(
        "A crate that requires a newer Rust than {short} (cargo: \"requires rustc 1.97\") builds at an older release:\n\
         \x20 a dependency:  cargo xsc update -p CRATE --precise VERSION\n\
         \x20                (or every dependency at its newest release for {short}: CARGO_RESOLVER_INCOMPATIBLE_RUST_VERSIONS=fallback cargo xsc update)\n\
         \x20 a program:     cargo xsc install --locked CRATE@VERSION"
    );
    ExitCode::SUCCESS
}

/// Runs the build step of `sub` (`build`, or `test`/`bench` with
/// `--no-run`) with JSON messages; returns the executables it made.
///
/// The user's `--message-format` is kept: a JSON one is passed through
/// (its lines echoed to stdout, or, for the build step of `run`, `test` and
/// `bench`, echoed only if the step fails, since the second cargo command
/// prints them again), `human` and `short` become cargo's rendering of the
/// JSON diagnostics.
fn build_step(
    sub: &str,
    before: &[String],
    add: &[String],
    second_step_follows: bool,
) -> Result<Vec<PathBuf>, String> {
    let formats = args::message_formats(before);
    let user_json = formats.iter().any(|f| f.starts_with("json"));
    let mut cargo_args = Vec::new();
    if user_json {
        cargo_args.extend_from_slice(before);
    } else {
        cargo_args = args::without_message_format(before);
        let short = formats.iter().any(|f| f == "short");
        cargo_args.push(
            if short {
                "--message-format=json-render-diagnostics,json-diagnostic-short"
            } else {
                "--message-format=json-render-diagnostics"
            }
            .into(),
        );
    }
    if sub != "build" && !cargo_args.iter().any(|a| a == "--no-run") {
        cargo_args.push("--no-run".into());
    }
    let mut c = cargo(sub, add, &cargo_args);
    c.stdout(Stdio::piped());
    let mut watched =
        watch::spawn(&mut c, before, false).map_err(|e| format!("cannot run cargo: {e}"))?;
    let stdout = watched.child.stdout.take().ok_or("no stdout from cargo")?;
    let mut executables = Vec::new();
    let mut held = Vec::new();
    let mut out = std::io::stdout().lock();
    for line in BufReader::new(stdout).lines() {
        let line = line.map_err(|e| format!("cannot read cargo's messages: {e}"))?;
        let message = serde_json::from_str::<Message>(&line).ok();
        if let Some(Message::CompilerArtifact(a)) = &message {
            if let Some(exe) = &a.executable {
                executables.push(exe.clone().into_std_path_buf());
            }
        }
        if user_json && second_step_follows {
            held.push(line);
        } else if user_json || message.is_none() {
            let _ = writeln!(out, "{line}");
        }
    }
    let status = watched.wait().map_err(|e| e.to_string())?;
    if !status.success() {
        for line in held {
            let _ = writeln!(out, "{line}");
        }
        return Err(format!("cargo {sub} failed"));
    }
    Ok(executables)
}

/// Verifies every executable with xsc-elfcheck.
fn verify(executables: &[PathBuf], quiet: bool) -> Result<(), String> {
    let opts = xsc_elfcheck::Options::default();
    let mut failed = false;
    for exe in executables {
        let report =
            xsc_elfcheck::check_file(exe, &opts).map_err(|e| format!("{}: {e}", exe.display()))?;
        if report.passed(&opts) {
            if !quiet {
                eprintln!(
                    "cargo-xsc: verified {}: no system-call instruction, XSC_ABI note present",
                    exe.display()
                );
            }
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

fn code(status: ExitStatus) -> ExitCode {
    ExitCode::from(status.code().unwrap_or(101).clamp(0, 255) as u8)
}

/// Subcommands that compile: their standard error is watched for cargo's
/// "requires rustc" errors.
fn compiles(sub: &str) -> bool {
    matches!(
        sub,
        "check"
            | "clippy"
            | "doc"
            | "install"
            | "rustc"
            | "rustdoc"
            | "fix"
            | "package"
            | "publish"
    )
}

/// `cargo xsc SUB ARGS...`.
fn forward(all: &[String]) -> Result<ExitCode, String> {
    let (given, rest) = all.split_first().ok_or("no cargo subcommand given")?;
    let sub = args::canonical(given);
    let specs = std_xsc::xsc_home().join("target-specs");
    let (before, after) = args::split_ddash(rest);
    let add = match args::targeting(sub, before, &specs) {
        Targeting::Refuse(message) => return Err(message),
        Targeting::Add(add) => add,
        Targeting::Keep => Vec::new(),
    };
    if args::target_option(sub) != args::TargetOption::None {
        installed()?;
    }
    let toolchain_bin = std_xsc::xsc_home().join("toolchain/bin");
    if sub == "clippy" && !toolchain_bin.join("cargo-clippy").exists() {
        return Err(format!(
            "the `xsc` toolchain has no clippy ({} is missing): `cargo xsc setup` installs it (from Debian's rust-web-clippy)",
            toolchain_bin.join("cargo-clippy").display()
        ));
    }
    let before = if sub == "metadata" {
        args::filter_platform_to_spec(before, &specs)
    } else {
        before.to_vec()
    };
    let quiet = args::quiet(&before);
    let run = |c: &mut Command| c.status().map_err(|e| format!("cannot run cargo: {e}"));
    match sub {
        "build" => {
            verify(&build_step("build", &before, &add, false)?, quiet)?;
            Ok(ExitCode::SUCCESS)
        }
        "run" | "test" | "bench" => {
            let (before, on_kernel) = args::take_kernel_flag(&before);
            let only_build = sub != "run" && before.iter().any(|a| a == "--no-run");
            let step = if sub == "run" { "build" } else { sub };
            verify(&build_step(step, &before, &add, !only_build)?, quiet)?;
            if only_build {
                return Ok(ExitCode::SUCCESS);
            }
            let mut second = cargo(sub, &add, rest_with(&before, after).as_slice());
            if on_kernel {
                for t in ["X86_64", "AARCH64"] {
                    second.env(
                        format!("CARGO_TARGET_{t}_UNKNOWN_LINUX_XSC_RUNNER"),
                        "xsc-vm",
                    );
                }
            }
            Ok(code(run(&mut second)?))
        }
        _ if compiles(sub) => {
            let mut c = cargo(sub, &add, &rest_with(&before, after));
            let watched = watch::spawn(&mut c, &before, sub == "install")
                .map_err(|e| format!("cannot run cargo: {e}"))?;
            Ok(code(watched.wait().map_err(|e| e.to_string())?))
        }
        _ => Ok(code(run(&mut cargo(
            given,
            &add,
            &rest_with(&before, after),
        ))?)),
    }
}

fn rest_with(before: &[String], after: &[String]) -> Vec<String> {
    before.iter().chain(after).cloned().collect()
}

fn main() -> ExitCode {
    let argv = args::globals_after_subcommand(std::env::args().collect());
    let Cargo::Xsc(xsc) = Cargo::parse_from(argv);
    if xsc.version {
        return version();
    }
    let result = match xsc.cmd {
        Some(Cmd::Setup) => std_xsc::setup::setup_all(&mut |line| eprintln!("cargo-xsc: {line}"))
            .map(|()| ExitCode::SUCCESS),
        Some(Cmd::Cargo(all)) => forward(&all),
        None => Ok(version()),
    };
    match result {
        Ok(code) => code,
        Err(e) => {
            eprintln!("cargo-xsc: error: {e}");
            ExitCode::FAILURE
        }
    }
}
