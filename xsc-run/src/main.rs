//! xsc-run: the reference XSC kernel in user space.
//!
//! Loads a static XSC binary into this process, gives its main thread a ring
//! region, and jumps to the program's entry point. Each thread consumes its
//! own ring inline, when it enters the kernel's `wait`. See `docs/ABI.md` for the contract and the README for usage.
//!
//! `#![no_main]`: Rust's runtime start-up would change the process before
//! the program sees it (SIGPIPE ignored, signal handlers for stack
//! overflow); the program must inherit exactly what a native run would.
//! (Unit tests keep the test harness's own `main`.)
#![cfg_attr(not(test), no_main)]
#![cfg_attr(test, allow(dead_code))]

mod arch;
mod audit;
mod bpf;
mod config;
mod consume;
mod entry;
mod exec_probe;
mod filters;
mod foreign;
mod guard;
mod initial_stack;
mod layout;
mod loader;
mod memory;
mod ops;
mod process;
mod procfs;
mod profile;
mod signals;
mod symbols;
mod sys;
mod thread;
mod thread_ops;
mod time;
mod trace;
mod verify_cache;

use clap::Parser;
use std::ffi::OsString;
use std::os::fd::{AsRawFd, FromRawFd};
use std::os::unix::ffi::{OsStrExt, OsStringExt};

/// Runs a static XSC binary on this Linux host: the program's OS calls go
/// through its submission rings to the kernel side in this process, which
/// executes them in the calling thread.
#[derive(Parser, Debug)]
#[command(name = "xsc-run", version)]
struct Cli {
    /// Trace every ring operation, strace style, to stderr or to FILE.
    #[arg(long, value_name = "FILE", num_args = 0..=1, require_equals = true, default_missing_value = "-")]
    trace: Option<String>,
    /// Trace to an already open file descriptor (used when an XSC program
    /// execs another XSC program).
    #[arg(long, value_name = "FD", hide = true)]
    trace_fd: Option<i32>,
    /// Write an audit trail, one JSON line per operation when the kernel
    /// takes it and one when it completes, to stderr or to FILE (appended
    /// to).
    #[arg(long, value_name = "FILE", num_args = 0..=1, require_equals = true, default_missing_value = "-")]
    audit: Option<String>,
    /// Audit to an already open file descriptor (an exec'd XSC program).
    #[arg(long, value_name = "FD", hide = true)]
    audit_fd: Option<i32>,
    /// The seccomp filters the exec'ing runner knew of, in a descriptor
    /// (an exec'd XSC program).
    #[arg(long, value_name = "FD", hide = true)]
    seccomp_filters_fd: Option<i32>,
    /// The execve that started this program, whose result record this
    /// runner writes (an exec'd XSC program, when auditing).
    #[arg(long, value_name = "SPEC", hide = true)]
    audit_execve: Option<String>,
    /// How raw system calls from the program are stopped (default:
    /// dispatch where the host has Syscall User Dispatch, else off).
    #[arg(long, value_enum)]
    guard: Option<config::Guard>,
    /// Run a binary that has no XSC_ABI note (for debugging).
    #[arg(long)]
    allow_unmarked: bool,
    /// Run a binary that fails verification (raw system-call instructions
    /// in its code); the trap guard stops the first one it executes
    /// (where the host has none, they execute).
    #[arg(long)]
    allow_unverified: bool,
    /// Enforce an OCI/Docker seccomp profile (JSON) on every call of the
    /// program, as a container runtime does; it stays on in exec'd
    /// programs (a seccomp filter is inherited).
    #[arg(long, value_name = "FILE")]
    seccomp_profile: Option<std::path::PathBuf>,
    /// The user-mode emulator (qemu) this runner runs under, which exec'd
    /// programs of its architecture must start through as well (set when
    /// an x86_64 xsc-run hands an aarch64 program to the aarch64 runner).
    #[arg(long, value_name = "PATH", hide = true)]
    emulator: Option<OsString>,
    /// This runner's executable, open at FD (an exec'd XSC program under
    /// the emulator).
    #[arg(long, value_name = "FD", hide = true)]
    runner_fd: Option<i32>,
    /// The program's file, already open at FD (an exec'd XSC program:
    /// the exec'ing runner opened it to classify it, and hands it over, so
    /// that a descriptor-relative exec (`fexecve`, a memfd, a close-on-exec
    /// descriptor) and a full descriptor table work; PROGRAM is then only
    /// the program's name).
    #[arg(long, value_name = "FD", hide = true)]
    program_fd: Option<i32>,
    /// argv[0] for the program (default: PROGRAM as given).
    #[arg(long, value_name = "NAME")]
    argv0: Option<OsString>,
    /// The XSC binary to run.
    program: OsString,
    /// Its arguments, passed on exactly as given (`--help`, `-V` and `--`
    /// included).
    #[arg(allow_hyphen_values = true)]
    args: Vec<OsString>,
}

/// xsc-run's options that take their value as the next argument.
const OPTIONS_WITH_VALUE: &[&str] = &[
    "--trace-fd",
    "--audit-fd",
    "--seccomp-filters-fd",
    "--audit-execve",
    "--guard",
    "--seccomp-profile",
    "--argv0",
    "--emulator",
    "--runner-fd",
    "--program-fd",
];

/// Splits the command line at the program: what comes before it is
/// xsc-run's, what comes after belongs to the program verbatim (clap would
/// take a `--help` or `-V` of the program's for xsc-run's own, and drop a
/// `--`). Returns xsc-run's part (with the program) and the program's
/// arguments.
fn split_at_program(argv: Vec<OsString>) -> (Vec<OsString>, Vec<OsString>) {
    let mut i = 1;
    while i < argv.len() {
        let a = argv[i].as_bytes();
        if a == b"--" {
            i += 1; // the program follows an explicit `--`
            break;
        }
        if !a.starts_with(b"-") || a == b"-" {
            break;
        }
        if OPTIONS_WITH_VALUE.iter().any(|o| a == o.as_bytes()) {
            i += 1;
        }
        i += 1;
    }
    let cut = (i + 1).min(argv.len());
    let mut own = argv;
    let rest = own.split_off(cut);
    (own, rest)
}

/// Exit statuses of the runner itself, as a shell uses them.
const EXIT_NOT_FOUND: i32 = 127;
const EXIT_CANNOT_RUN: i32 = 126;

fn fail(code: i32, msg: impl std::fmt::Display) -> i32 {
    eprintln!("xsc-run: {msg}");
    code
}

/// For a start that ran out of memory under `RLIMIT_AS`: which limit, and
/// what to do (docs/xsc-run.md section 6); empty otherwise.
fn address_space_hint(errno: Option<i32>) -> String {
    let get = |r| {
        let mut lim = libc::rlimit {
            rlim_cur: 0,
            rlim_max: 0,
        };
        // SAFETY: getrlimit writes only into `lim`.
        unsafe { libc::getrlimit(r, &mut lim) };
        lim.rlim_cur
    };
    let (space, stack) = (get(libc::RLIMIT_AS), get(libc::RLIMIT_STACK));
    if errno != Some(libc::ENOMEM) || space == libc::RLIM_INFINITY {
        return String::new();
    }
    let mib = |v: u64| v.div_ceil(1 << 20);
    let stack = if stack == libc::RLIM_INFINITY {
        8 << 20
    } else {
        stack
    };
    format!(
        " (RLIMIT_AS is {} MiB: xsc-run maps the program's image and its whole stack, RLIMIT_STACK = {} MiB, before it starts, and its own image and stacks count too, where Linux charges only the stack pages a program touches; raise the limit (ulimit -v) by at least {} MiB, or lower RLIMIT_STACK (ulimit -s); docs/xsc-run.md section 6)",
        mib(space),
        mib(stack),
        mib(stack)
    )
}

fn open_trace(cli: &Cli) -> std::io::Result<Option<i32>> {
    use std::os::fd::IntoRawFd;
    if let Some(fd) = cli.trace_fd {
        return Ok(Some(fd));
    }
    match cli.trace.as_deref() {
        None => Ok(None),
        Some("-") => Ok(Some(2)),
        Some(path) => Ok(Some(std::fs::File::create(path)?.into_raw_fd())),
    }
}

/// An XSC kernel only runs binaries that keep the promise of the note: no
/// raw system-call instruction (xsc-elfcheck's rules; hidden sites are
/// warnings and do not stop a run). `headers` is the file as
/// loader::read_headers read it; the loadable segments are checked as they
/// were loaded into `image`.
fn verify(
    path: &std::ffi::OsStr,
    meta: &std::fs::Metadata,
    mut headers: Vec<u8>,
    image: &loader::Image,
    allow_unmarked: bool,
) -> Result<(), String> {
    let opts = xsc_elfcheck::Options {
        strict: false,
        require_note: !allow_unmarked,
    };
    let name = path.to_string_lossy();
    let identity = verify_cache::identity_key(meta, opts.require_note);
    if identity
        .as_ref()
        .is_some_and(|(k, _)| verify_cache::passed_before(k))
    {
        return Ok(());
    }
    let remember = |_: ()| {
        if let Some((k, true)) = identity {
            verify_cache::record_pass(&k);
        }
    };
    let key = verify_cache::key(&headers, opts.require_note, |s| image.loaded(s));
    if key.as_ref().is_some_and(verify_cache::passed_before) {
        remember(());
        return Ok(());
    }
    // The file as the verifier reads it: the headers, with the segments as
    // loaded put back at their file offsets.
    for s in &image.segments {
        let at = s.offset as usize;
        headers[at..at + s.filesz as usize].copy_from_slice(image.loaded(s));
    }
    let report = match xsc_elfcheck::check(&headers, &opts) {
        Ok(r) => r,
        Err(e) => return Err(format!("{name}: cannot verify the binary: {e}")),
    };
    if report.passed(&opts) {
        if let Some(k) = key {
            verify_cache::record_pass(&k);
        }
        remember(());
        return Ok(());
    }
    // Refused. The report also names symbols, which were not read: it is
    // rendered from the whole file (the verdict stays this one).
    let named = std::fs::read(path)
        .ok()
        .and_then(|whole| xsc_elfcheck::check(&whole, &opts).ok())
        .filter(|r| !r.passed(&opts))
        .unwrap_or(report);
    let anyway = if thread::dispatch_available() {
        "the trap guard stops the first raw system call"
    } else {
        "this host has no trap guard: its raw system calls would execute"
    };
    Err(format!(
        "{name}: refused: the binary fails XSC verification:\n{}xsc-run: pass --allow-unverified to run it anyway ({anyway})",
        xsc_elfcheck::render_human(&name, &named, &opts)
    ))
}

fn run(argv: Vec<std::ffi::OsString>) -> i32 {
    let runner_argv0 = argv.first().cloned().unwrap_or_default().into_vec();
    let original = argv.clone();
    let (own, program_args) = split_at_program(argv);
    let mut cli = Cli::parse_from(own);
    cli.args = program_args;
    if let Err(e) = arch::check_cpu() {
        return fail(EXIT_CANNOT_RUN, e);
    }
    let path = cli.program.clone();
    let not_found = |e: std::io::Error| {
        let code = if e.kind() == std::io::ErrorKind::NotFound {
            EXIT_NOT_FOUND
        } else {
            EXIT_CANNOT_RUN
        };
        fail(code, format_args!("{}: {e}", path.to_string_lossy()))
    };
    let file = match cli.program_fd {
        // SAFETY: the exec'ing runner opened this descriptor for this
        // runner alone and handed it over (crate::thread_ops::execve); the
        // File owns it from now on and closes it once the program is
        // loaded.
        Some(fd) => unsafe { std::fs::File::from_raw_fd(fd) },
        None => match std::fs::File::open(&path) {
            Ok(f) => f,
            Err(e) => return not_found(e),
        },
    };
    // The kernel's name for the file (what /proc/self/exe shows natively):
    // for a file given by descriptor, the only name there may be (a memfd,
    // a deleted file).
    let fd_link = std::fs::read_link(format!("/proc/self/fd/{}", file.as_raw_fd()));
    let data = match loader::read_headers(&file) {
        Ok(d) => d,
        Err(e) => return not_found(e),
    };
    let info = match loader::inspect(&data)
        .and_then(|i| loader::check_note(&i, cli.allow_unmarked).map(|_| i))
    {
        Ok(i) => i,
        Err(loader::LoadError::ForeignMachine(m)) if foreign::runs(m) => {
            return fail(EXIT_CANNOT_RUN, foreign::exec(m, &original));
        }
        Err(e) => {
            return fail(
                EXIT_CANNOT_RUN,
                format_args!("{}: {e}", path.to_string_lossy()),
            )
        }
    };
    // The segments go straight into the program's memory; what is checked
    // is what was loaded there (no second read of the file).
    let image = match loader::load(&file, &info) {
        Ok(i) => i,
        Err(e @ loader::LoadError::NoSpace(_)) => {
            return fail(
                EXIT_CANNOT_RUN,
                format_args!(
                    "{}: {e}{}",
                    path.to_string_lossy(),
                    address_space_hint(Some(libc::ENOMEM))
                ),
            )
        }
        Err(e) => {
            return fail(
                EXIT_CANNOT_RUN,
                format_args!("{}: {e}", path.to_string_lossy()),
            )
        }
    };
    let meta = file.metadata();
    drop(file);
    if !cli.allow_unverified {
        let verified = meta
            .map_err(|e| format!("{}: {e}", path.to_string_lossy()))
            .and_then(|m| verify(&path, &m, data, &image, cli.allow_unmarked));
        if let Err(e) = verified {
            return fail(EXIT_CANNOT_RUN, e);
        }
    }
    if let Err(e) = loader::protect(&image) {
        return fail(
            EXIT_CANNOT_RUN,
            format_args!("{}: {e}", path.to_string_lossy()),
        );
    }
    let trace_fd = match open_trace(&cli).and_then(|fd| trace::init(fd).map(|_| fd)) {
        Ok(fd) => fd,
        Err(e) => return fail(EXIT_CANNOT_RUN, format_args!("cannot open the trace: {e}")),
    };
    let audit = match (cli.audit_fd, cli.audit.as_deref()) {
        (Some(fd), _) => audit::adopt(fd),
        (None, Some(dest)) => audit::open(dest),
        (None, None) => Ok(()),
    };
    if let Err(e) = audit {
        return fail(
            EXIT_CANNOT_RUN,
            format_args!("cannot open the audit trail: {e}"),
        );
    }
    let guard = match cli.guard {
        Some(g) if g == config::Guard::Off || thread::dispatch_available() => g,
        Some(_) => {
            return fail(
                EXIT_CANNOT_RUN,
                "--guard: this host has no Syscall User Dispatch (Linux >= 5.11 with generic entry; qemu's user mode refuses it): run without --guard, or with --guard=off",
            )
        }
        None if thread::dispatch_available() => config::Guard::Dispatch,
        None => config::Guard::Off,
    };
    if guard == config::Guard::Off && cli.allow_unverified {
        eprintln!("xsc-run: warning: running a binary without verifying it, and with no trap guard: its raw system calls execute");
    }
    if guard == config::Guard::Off {
        trace::diagnostic_if_traced(
            b"xsc-run: trap guard off: this host has no Syscall User Dispatch; raw system calls are stopped only by the verifier, before the run\n",
        );
    }
    let runner_fd = match (&cli.emulator, cli.runner_fd) {
        (None, _) => None,
        (Some(_), Some(fd)) => {
            // Inherited from the exec'ing runner: close-on-exec again.
            foreign::prepare_exec(fd, false);
            Some(fd)
        }
        (Some(_), None) => match foreign::open_own_executable() {
            Ok(fd) => Some(fd),
            Err(e) => {
                return fail(
                    EXIT_CANNOT_RUN,
                    format_args!("cannot open xsc-run's own executable: {e}"),
                )
            }
        },
    };
    config::set(config::Config {
        guard,
        allow_unmarked: cli.allow_unmarked,
        allow_unverified: cli.allow_unverified,
        trace_fd: trace::trace_fd().filter(|_| trace_fd.is_some()),
        runner_argv0,
        emulator: cli.emulator.clone().map(OsString::into_vec),
        runner_fd,
    });
    if let Err(e) = signals::init() {
        return fail(EXIT_CANNOT_RUN, format_args!("cannot set up signals: {e}"));
    }
    symbols::init(&path, image.base);
    let absolute = match cli.program_fd {
        Some(_) => fd_link,
        None => std::fs::canonicalize(&path).or(fd_link),
    };
    match absolute.map(|p| std::ffi::CString::new(p.into_os_string().into_vec())) {
        Ok(Ok(p)) => procfs::set_program(p),
        _ => {
            return fail(
                EXIT_CANNOT_RUN,
                format_args!(
                    "{}: cannot resolve its absolute path",
                    path.to_string_lossy()
                ),
            )
        }
    }
    guard::set_image(&image);
    layout::init();
    {
        let mut b = process::PROCESS
            .brk
            .lock()
            .unwrap_or_else(|e| e.into_inner());
        b.start = image.brk_start;
        b.current = image.brk_start;
    }

    let table = entry::entry_table() as *const _ as u64;
    let kt = match thread::KernelThread::new(table) {
        Ok(kt) => kt,
        Err(e) => {
            return fail(
                EXIT_CANNOT_RUN,
                format_args!("cannot create the main ring: {e}"),
            )
        }
    };
    // SAFETY: kt is fresh; this thread becomes the program's main thread.
    unsafe {
        (*kt).set_tid(sys::gettid());
        (*kt).runner_tp = arch::thread_pointer();
        (*kt).note_signal_mask(sys::current_signal_mask());
    }
    process::PROCESS.started(sys::getpid());
    time::init();
    if let Some(fd) = cli.seccomp_filters_fd {
        // SAFETY: kt is live and not yet shared.
        if let Err(e) = filters::adopt(unsafe { &(*kt).filters }, fd) {
            return fail(EXIT_CANNOT_RUN, e);
        }
    }
    if let Some(spec) = &cli.audit_execve {
        if let Err(e) = audit::execve_completed(spec) {
            return fail(EXIT_CANNOT_RUN, e);
        }
    }

    let argv0 = cli.argv0.clone().unwrap_or_else(|| path.clone());
    let argv: Vec<Vec<u8>> = std::iter::once(argv0)
        .chain(cli.args.iter().cloned())
        .map(|a| a.into_vec())
        .collect();
    let envp: Vec<Vec<u8>> = std::env::vars_os()
        .map(|(k, v)| {
            let mut e = k.into_vec();
            e.push(b'=');
            e.extend_from_slice(v.as_bytes());
            e
        })
        .collect();
    // SAFETY: kt is live; region was set up by KernelThread::new.
    let region = unsafe { (*kt).region };
    let stack = match initial_stack::build(&initial_stack::StackInput {
        argv: &argv,
        envp: &envp,
        execfn: path.as_bytes(),
        image: &image,
        ring: region as u64,
        entry_table: table,
    }) {
        Ok(s) => s,
        Err(e) => {
            return fail(
                EXIT_CANNOT_RUN,
                format_args!(
                    "cannot build the initial stack: {e}{}",
                    address_space_hint(e.raw_os_error())
                ),
            )
        }
    };
    procfs::describe_program(&stack, path.as_bytes());
    if let Err(e) = thread::enable_guard(kt) {
        return fail(
            EXIT_CANNOT_RUN,
            format_args!("cannot enable Syscall User Dispatch: {e}"),
        );
    }
    if guard == config::Guard::Seccomp {
        if let Err(e) = guard::install_seccomp(&image) {
            return fail(
                EXIT_CANNOT_RUN,
                format_args!("cannot install the seccomp guard: {e}"),
            );
        }
    }
    if let Some(p) = &cli.seccomp_profile {
        // Last: from here on the profile judges every call, the kernel
        // side's own included.
        match profile::install(p) {
            Ok(prog) => {
                // SAFETY: kt is live; no other thread runs yet.
                unsafe { &*kt }
                    .filters
                    .push(prog, filters::Origin::Profile, true)
            }
            Err(e) => {
                return fail(
                    EXIT_CANNOT_RUN,
                    format_args!("cannot enforce the seccomp profile: {e}"),
                )
            }
        }
    }
    // SAFETY: the image is mapped, the stack built, the ring ready and the
    // guard on; this thread now becomes the program.
    unsafe { arch::xsc_enter_program(image.entry, stack.sp, kt, region) }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn split(args: &[&str]) -> (Vec<String>, Vec<String>) {
        let v = |a: Vec<OsString>| {
            a.into_iter()
                .map(|s| s.into_string().unwrap())
                .collect::<Vec<_>>()
        };
        let (own, rest) = split_at_program(args.iter().map(OsString::from).collect());
        (v(own), v(rest))
    }

    #[test]
    fn everything_after_the_program_is_the_programs() {
        assert_eq!(
            split(&["xsc-run", "prog", "--help", "-V", "--", "x"]),
            (
                vec!["xsc-run".into(), "prog".into()],
                vec!["--help".into(), "-V".into(), "--".into(), "x".into()]
            )
        );
        assert_eq!(
            split(&["xsc-run", "--guard", "seccomp", "--trace=f", "prog", "a"]).1,
            vec!["a".to_string()]
        );
        assert_eq!(
            split(&["xsc-run", "--", "-prog", "-x"]).1,
            vec!["-x".to_string()]
        );
        assert_eq!(split(&["xsc-run", "--help"]).0.len(), 2);
        assert_eq!(
            split(&["xsc-run", "--argv0", "name", "prog"])
                .0
                .last()
                .unwrap(),
            "prog"
        );
    }
}

/// The C runtime's entry into the program.
///
/// # Safety
///
/// `argv` holds `argc` valid NUL-terminated strings, as the C runtime
/// passes them.
#[cfg(not(test))]
#[no_mangle]
pub unsafe extern "C" fn main(argc: i32, argv: *const *const std::ffi::c_char) -> i32 {
    // From the C arguments, not std::env::args: with `no_main`, std learns
    // the arguments only where the C library passes them to initialisers
    // (glibc does, musl does not).
    let args = (0..argc.max(0) as usize)
        .map(|i| {
            // SAFETY: the C runtime passes `argc` valid, NUL-terminated
            // strings in `argv`.
            let arg = unsafe { std::ffi::CStr::from_ptr(*argv.add(i)) };
            std::ffi::OsStr::from_bytes(arg.to_bytes()).to_os_string()
        })
        .collect();
    run(args)
}
