//! xtask: the project's own commands.
//!
//! - `cargo xtask setup`: install what the project needs (idempotent).
//! - `cargo xtask demo`: build everything and show XSC programs running.
//! - `cargo xtask test`: every check and test the project has.
//! - `cargo xtask bench`: benchmarks, reported as side-by-side ratios.
//! - `cargo xtask compat`: popular crates from crates.io built and run for
//!   XSC and natively, compared.
//! - `cargo xtask kernel`: Linux with the XSC ABI (kernel/README.md).
//! - `cargo xtask vm-test`: that kernel under qemu, running XSC programs.
//! - `cargo xtask fuzz`: the debug kernel fuzzed through its rings.
//! - `cargo xtask runner-test`: the kernel runner xsc-vm against native.
//! - `cargo xtask strace-test`: strace of XSC programs on the XSC kernel
//!   against native.

mod bench;
mod cmd;
mod compat;
mod count;
mod demo;
mod fuzz;
mod imports;
mod kernel;
mod runner;
mod setup;
mod strace;
mod test;
mod vm;

use clap::{Parser, Subcommand};

#[derive(Parser)]
#[command(
    name = "cargo xtask",
    about = "Build, demo, test and benchmark the XSC toolchain"
)]
struct Cli {
    #[command(subcommand)]
    command: Command,
}

#[derive(Subcommand)]
enum Command {
    /// Install what the project needs (apt packages as root; idempotent).
    Setup,
    /// Build the toolchain and samples, run the samples under xsc-run and
    /// say what each did.
    Demo,
    /// Run every check and test: formatting, clippy, unit and end-to-end.
    Test,
    /// Run the benchmarks (real programs and per-call costs, natively and
    /// under xsc-run) and print ratios measured side by side.
    Bench(bench::Args),
    /// Build popular crates and programs from crates.io for XSC and
    /// natively, run them (test suites, fixed workloads) and compare
    /// (downloads and builds a lot; not part of `test`).
    Compat(compat::Args),
    /// Build Linux 6.1 with the XSC patches (kernel/), cached under
    /// $XSC_HOME/kernel.
    Kernel {
        /// The debug kernel (KASAN, UBSAN, KFENCE, lockdep, lockup and
        /// hung-task detection; kernel/config.debug.fragment).
        #[arg(long)]
        debug: bool,
    },
    /// Boot the XSC kernel under qemu-system-x86_64 and run XSC programs
    /// on it, with no xsc-run: conformance cases against native in the
    /// same VM, the raw-syscall variants (SIGSYS), raw-hello, ring-abuse.
    /// Fuzz the debug XSC kernel through its rings, as an unprivileged
    /// user, inline and in polled mode (kernel/fuzz; a short round is part
    /// of `test`).
    Fuzz(fuzz::Args),
    /// Check the kernel runner xsc-vm against native: streams, status,
    /// the shared directory, bad input, --timeout, Ctrl-C, `cargo xsc
    /// run|test --kernel` (part of `test`).
    RunnerTest,
    /// strace (Debian's, built statically) on the XSC kernel: an XSC
    /// program's trace against its native build's (part of `test`).
    StraceTest,
    /// Print the import circles of xsc-run and std-xsc, and check them
    /// against xtask/imports-baseline.txt (part of `test`).
    Imports,
    VmTest {
        /// Boot the debug kernel (`cargo xtask kernel --debug`), with
        /// panic_on_warn: any kernel report fails the run.
        #[arg(long)]
        debug: bool,
        /// Run only the cases whose id contains this text (e.g.
        /// `selftests`, `polled/`).
        #[arg(long)]
        only: Option<String>,
    },
}

fn main() {
    let cli = Cli::parse();
    let result = match cli.command {
        Command::Setup => setup::run(),
        Command::Demo => demo::run(),
        Command::Test => test::run(),
        Command::Bench(args) => bench::run(args),
        Command::Compat(args) => compat::run(args),
        Command::Kernel { debug } => kernel::run(debug),
        Command::Fuzz(args) => fuzz::run(args),
        Command::Imports => imports::check(),
        Command::VmTest { debug, only } => vm::run(debug, only.as_deref()),
        Command::RunnerTest => runner::check(),
        Command::StraceTest => strace::check(),
    };
    if let Err(e) = result {
        eprintln!("xtask: {e}");
        std::process::exit(1);
    }
}
