//! `xsc-vm`: runs one XSC program on the XSC kernel (`kernel/`) under
//! QEMU, as `xsc-run` runs it on the host's kernel.
//!
//! The program, its arguments and the environment go into the VM's
//! initramfs beside a small `/init` (an XSC program, `init.c`); the current
//! directory is shared read-write over virtio-9p and is the program's
//! working directory there (at the same path); its stdin, stdout and stderr
//! are three virtio-serial ports, streamed to and from the runner's own;
//! the guest's console (kernel messages) is kept apart. The runner exits as
//! the program did: its exit status, or 128+N for death by signal N, as a
//! shell reports it. The runner's own failures: 124 when `--timeout`
//! passed, 125 when the VM could not run the program (a guest kernel
//! panic, qemu missing), 126 when the program is not an XSC binary for
//! this kernel, 127 when it does not exist, 130 when interrupted.
//!
//! Files: `$XSC_HOME/kernel/x86_64/bzImage` (installed by `cargo xtask
//! kernel`, or `XSC_KERNEL`), `$XSC_HOME/kernel/runner/init-HASH` (the
//! guest's /init, compiled with `xsc-cc` at first use).

mod cpio;
mod guest;
mod qemu;

use clap::Parser;
use std::path::{Path, PathBuf};
use std::process::ExitCode;

/// Run an XSC program on the XSC kernel, inside a QEMU virtual machine.
#[derive(Parser, Debug)]
#[command(
    name = "xsc-vm",
    version,
    after_help = "The program's exit status is the runner's (128+N for death by signal N). \
The runner's own: 124 --timeout passed, 125 the VM failed (a guest kernel panic, qemu \
missing), 126 not an XSC program for this kernel, 127 no such program, 130 interrupted.\n\
As cargo's runner: CARGO_TARGET_X86_64_UNKNOWN_LINUX_XSC_RUNNER=xsc-vm, or `cargo xsc run|test --kernel`."
)]
pub struct Options {
    /// Stop the VM after this many seconds (exit 124).
    #[arg(long, value_name = "SECS")]
    timeout: Option<f64>,
    /// Set NAME=VALUE in the program's environment (repeatable).
    #[arg(short = 'e', long = "env", value_name = "NAME=VALUE")]
    env: Vec<String>,
    /// Start from an empty environment instead of the runner's own.
    #[arg(long)]
    env_clear: bool,
    /// The VM's memory, in MiB.
    #[arg(long, value_name = "MIB", default_value_t = 1024)]
    memory: u32,
    /// The VM's CPUs.
    #[arg(long, value_name = "N", default_value_t = 2)]
    cpus: u32,
    /// Polled mode: the kernel's pollers spin this many microseconds
    /// (`/proc/sys/kernel/xsc_poll_us`); 0, the default, is inline mode.
    #[arg(long, value_name = "US", default_value_t = 0)]
    poll_us: u32,
    /// The XSC kernel to boot (default: XSC_KERNEL, else the one `cargo
    /// xtask kernel` installed in $XSC_HOME/kernel/x86_64).
    #[arg(long, value_name = "BZIMAGE")]
    kernel_image: Option<PathBuf>,
    /// QEMU's accelerator: tcg, or kvm where the host has it.
    #[arg(long, default_value = "tcg", value_parser = ["tcg", "kvm"])]
    accel: String,
    /// Copy the guest's console (kernel messages) to stderr.
    #[arg(long)]
    console: bool,
    /// One more argument for qemu (repeatable; `--qemu-arg=-icount
    /// --qemu-arg=shift=0`, a TCG plugin, ...).
    #[arg(long, value_name = "ARG", allow_hyphen_values = true)]
    qemu_arg: Vec<String>,
    /// The XSC program.
    program: PathBuf,
    /// Its arguments.
    #[arg(trailing_var_arg = true, allow_hyphen_values = true)]
    args: Vec<String>,
}

/// A failure of the runner itself: its message and exit status.
pub struct Failure {
    pub message: String,
    pub code: u8,
}

impl Failure {
    pub fn new(code: u8, message: impl Into<String>) -> Failure {
        Failure {
            message: message.into(),
            code,
        }
    }
}

/// The kernel: `--kernel-image`, `XSC_KERNEL`, or the installed one.
fn kernel_image(opts: &Options) -> Result<PathBuf, Failure> {
    let chosen = opts
        .kernel_image
        .clone()
        .or_else(|| std::env::var_os("XSC_KERNEL").map(PathBuf::from));
    let path = chosen
        .clone()
        .unwrap_or_else(|| std_xsc::xsc_home().join("kernel/x86_64/bzImage"));
    if path.is_file() {
        return Ok(path);
    }
    Err(Failure::new(
        125,
        if chosen.is_some() {
            format!("the XSC kernel {} does not exist", path.display())
        } else {
            format!(
                "no XSC kernel at {}: build it with `cargo xtask kernel` in the XSC repository ({}), or point XSC_KERNEL at one",
                path.display(),
                std_xsc::repo_root().display()
            )
        },
    ))
}

/// The program's bytes, once it is known to be a static x86_64 XSC binary.
fn read_program(path: &Path) -> Result<Vec<u8>, Failure> {
    let data = std::fs::read(path).map_err(|e| {
        let code = if e.kind() == std::io::ErrorKind::NotFound {
            127
        } else {
            126
        };
        Failure::new(code, format!("cannot read {}: {e}", path.display()))
    })?;
    guest::check_program(&data).map_err(|why| {
        Failure::new(
            126,
            format!("{} cannot run on the XSC kernel: {why}", path.display()),
        )
    })?;
    Ok(data)
}

fn run(opts: &Options) -> Result<u8, Failure> {
    let program = read_program(&opts.program)?;
    let kernel = kernel_image(opts)?;
    let init = guest::init_binary()?;
    let cwd = std::env::current_dir()
        .map_err(|e| Failure::new(125, format!("no current directory: {e}")))?;
    let env = guest::environment(opts, &cwd)?;
    let prog_path = std::path::absolute(&opts.program)
        .map_err(|e| Failure::new(127, format!("{}: {e}", opts.program.display())))?;
    let mut argv = vec![opts.program.to_string_lossy().into_owned()];
    argv.extend(opts.args.iter().cloned());
    let initrd = guest::initramfs(&guest::Guest {
        init: &init,
        program: &program,
        prog_path: &prog_path,
        argv: &argv,
        env: &env,
        cwd: &cwd,
        poll_us: opts.poll_us,
    })?;
    qemu::run(opts, &kernel, initrd, &cwd)
}

fn main() -> ExitCode {
    let opts = Options::parse();
    match run(&opts) {
        Ok(code) => ExitCode::from(code),
        Err(f) => {
            eprintln!("xsc-vm: {}", f.message);
            ExitCode::from(f.code)
        }
    }
}
