//! End-to-end tests: build the XSC samples and run them under xsc-run,
//! for x86_64 and for aarch64 (which the same xsc-run runs under qemu,
//! docs/xsc-run.md section 8, ABI §3.5). A test written for both
//! architectures is a function of the architecture, listed in
//! `on_both_arches!`, which makes the tests `NAME::x86_64` and
//! `NAME::aarch64`; the others say why they hold on one only.

use std::os::unix::process::ExitStatusExt;
use std::path::{Path, PathBuf};
use std::process::{Command, Output, Stdio};
use std::sync::OnceLock;
use std::time::{Duration, Instant};
use std_xsc::Arch;

/// Sample `name` built for `arch`; the samples' workspace is built once
/// per test run and architecture.
fn sample(arch: Arch, name: &str) -> PathBuf {
    static X86_64: OnceLock<Result<PathBuf, String>> = OnceLock::new();
    static AARCH64: OnceLock<Result<PathBuf, String>> = OnceLock::new();
    let built = match arch {
        Arch::X86_64 => &X86_64,
        Arch::Aarch64 => &AARCH64,
    };
    match built.get_or_init(|| std_xsc::testing::build_no_std_samples(arch)) {
        Ok(d) => d.join(name),
        Err(e) => panic!("building the samples for {arch} failed:\n{e}"),
    }
}

/// `on_both_arches!(case, ...)`: for each `case(arch: Arch)`, a module
/// `case` with the tests `x86_64` and `aarch64`.
macro_rules! on_both_arches {
    ($($case:ident),* $(,)?) => {$(
        mod $case {
            #[test]
            fn x86_64() {
                super::$case(std_xsc::Arch::X86_64)
            }
            #[test]
            fn aarch64() {
                super::$case(std_xsc::Arch::Aarch64)
            }
        }
    )*};
}

on_both_arches!(
    raw_hello_prints_reads_threads_and_exits_with_the_chosen_code,
    trace_lists_every_operation_of_raw_hello,
    bad_ring_input_gets_error_completions_and_the_kernel_keeps_working,
    the_process_model_behaves_as_on_linux,
    binaries_without_a_valid_note_are_refused_with_a_clear_message,
    non_xsc_input_is_refused_with_a_clear_message,
    idle_threads_cost_no_cpu,
    a_binary_with_raw_system_calls_is_refused_before_it_runs,
);

/// Runs xsc-run; a run that hangs is killed after a minute (and fails the
/// test) rather than hanging the suite.
fn xsc_run(args: &[&str]) -> Output {
    let child = Command::new(env!("CARGO_BIN_EXE_xsc-run"))
        .args(args)
        .stdin(Stdio::null())
        .stdout(Stdio::piped())
        .stderr(Stdio::piped())
        .spawn()
        .expect("xsc-run starts");
    let pid = child.id() as i32;
    let (done, watch) = std::sync::mpsc::channel::<()>();
    let dog = std::thread::spawn(move || {
        if watch.recv_timeout(Duration::from_secs(60)).is_err() {
            // SAFETY: signalling our own child, which has not been reaped.
            unsafe { libc::kill(pid, libc::SIGKILL) };
            return true;
        }
        false
    });
    let out = child.wait_with_output().expect("xsc-run ends");
    let _ = done.send(());
    assert!(
        !dog.join().unwrap(),
        "xsc-run {args:?} hung and was killed: {}",
        text(&out.stdout)
    );
    out
}

fn text(b: &[u8]) -> String {
    String::from_utf8_lossy(b).into_owned()
}

fn tmpdir(tag: &str) -> PathBuf {
    let d = std::env::temp_dir().join(format!("xsc-e2e-{tag}-{}", std::process::id()));
    std::fs::create_dir_all(&d).unwrap();
    d
}

fn raw_hello_prints_reads_threads_and_exits_with_the_chosen_code(arch: Arch) {
    let dir = tmpdir(&format!("hello-{arch}"));
    let file = dir.join("in.txt");
    std::fs::write(&file, "line one\nline two\n").unwrap();
    let bin = sample(arch, "raw-hello");
    for code in ["0", "7", "255"] {
        let out = xsc_run(&[bin.to_str().unwrap(), file.to_str().unwrap(), code]);
        assert_eq!(
            text(&out.stdout),
            "hello from raw-hello\nfile says: line one\nline two\nhello from a second thread\nthe thread is done; exiting with the chosen code\n"
        );
        assert_eq!(text(&out.stderr), "");
        assert_eq!(out.status.code(), Some(code.parse().unwrap()));
    }
    // A missing file is the program's error, reported through its ring.
    let out = xsc_run(&[bin.to_str().unwrap(), "/nonexistent/file", "0"]);
    assert_eq!(out.status.code(), Some(1));
    assert!(
        text(&out.stderr).contains("cannot open FILE: errno 2"),
        "{}",
        text(&out.stderr)
    );
}

fn trace_lists_every_operation_of_raw_hello(arch: Arch) {
    let dir = tmpdir(&format!("trace-{arch}"));
    let file = dir.join("in.txt");
    std::fs::write(&file, "traced\n").unwrap();
    let trace = dir.join("trace.txt");
    let out = xsc_run(&[
        &format!("--trace={}", trace.display()),
        sample(arch, "raw-hello").to_str().unwrap(),
        file.to_str().unwrap(),
        "3",
    ]);
    assert_eq!(out.status.code(), Some(3));
    let trace = std::fs::read_to_string(&trace).unwrap();
    let mut lines: Vec<&str> = trace.lines().collect();
    if arch == Arch::Aarch64 {
        // Under qemu there is no trap guard (docs/xsc-run.md §3, §3.5), and
        // the trace says so on its first line, before any call.
        assert!(lines[0].starts_with("xsc-run: trap guard off"), "{trace}");
        lines.remove(0);
    }
    // Each line: "TID name(args) = result".
    let tid_of = |l: &str| l.split(' ').next().unwrap().to_string();
    let op_of = |l: &str| {
        l.split_once(' ')
            .unwrap()
            .1
            .split('(')
            .next()
            .unwrap()
            .to_string()
    };
    let main_tid = tid_of(lines[0]);
    let main_ops: Vec<String> = lines
        .iter()
        .filter(|l| tid_of(l) == main_tid)
        .map(|l| op_of(l))
        .filter(|op| op != "futex") // joining may or may not have to sleep
        .collect();
    assert_eq!(
        main_ops,
        [
            "write",
            "openat",
            "write",
            "read",
            "write",
            "read",
            "close",
            "clone",
            "write",
            "exit_group"
        ],
        "{trace}"
    );
    let thread_ops: Vec<String> = lines
        .iter()
        .filter(|l| tid_of(l) != main_tid)
        .map(|l| op_of(l))
        .collect();
    assert_eq!(thread_ops, ["write", "exit"], "{trace}");
    let expect = [
        format!("{main_tid} write(1, \"hello from raw-hello\\n\", 21) = 21"),
        format!(
            "{main_tid} openat(AT_FDCWD, \"{}\", O_RDONLY, 0) = 3",
            file.display()
        ),
        format!("{main_tid} read(3, \"traced\\n\", 256) = 7"),
        format!("{main_tid} close(3) = 0"),
        format!("{main_tid} exit_group(3) = ?"),
    ];
    for e in expect {
        assert!(lines.contains(&e.as_str()), "missing `{e}` in\n{trace}");
    }
    let clone = lines.iter().find(|l| op_of(l) == "clone").unwrap();
    let child = lines
        .iter()
        .map(|l| tid_of(l))
        .find(|t| *t != main_tid)
        .unwrap();
    assert!(clone.ends_with(&format!(" = {child}")), "{clone}");
}

fn assert_killed_by_sigsys(out: &Output) -> String {
    let err = text(&out.stderr);
    assert_eq!(
        out.status.signal(),
        Some(libc_sigsys()),
        "status {:?}, stderr {err}",
        out.status
    );
    assert!(text(&out.stdout).contains("about to make a raw system call"));
    assert!(!text(&out.stdout).contains("NOT stopped"));
    err
}

fn libc_sigsys() -> i32 {
    31
}

// The trap guard's tests are x86_64's: under qemu (aarch64) there is no
// trap guard at all, see `aarch64_has_no_trap_guard_under_qemu` below.

#[test]
fn a_raw_syscall_is_stopped_with_sigsys_and_reported() {
    let out = xsc_run(&[
        "--allow-unverified",
        sample(Arch::X86_64, "raw-syscall").to_str().unwrap(),
    ]);
    let err = assert_killed_by_sigsys(&out);
    assert!(
        err.contains("raw system call 39 (getpid, x86_64 convention) at 0x"),
        "{err}"
    );
    assert!(err.contains(" in forbidden_getpid+0x5"), "{err}");
    assert!(err.contains("bytes 0f 05"), "{err}");
    assert!(err.contains("file offset 0x"), "{err}");
}

/// x86_64 only: aarch64 has one system-call instruction (`svc`).
#[test]
fn int_0x80_is_stopped_too() {
    let out = xsc_run(&[
        "--allow-unverified",
        sample(Arch::X86_64, "raw-syscall").to_str().unwrap(),
        "int80",
    ]);
    let err = assert_killed_by_sigsys(&out);
    assert!(
        err.contains("raw system call 20 (getpid, i386 (int 0x80) convention)"),
        "{err}"
    );
    assert!(err.contains("bytes cd 80"), "{err}");
}

#[test]
fn the_seccomp_guard_holds_when_the_program_disables_dispatch() {
    let bin = sample(Arch::X86_64, "raw-syscall");
    // What the default guard does not protect against (documented): the
    // program can flip its own selector byte.
    let out = xsc_run(&[
        "--allow-unverified",
        bin.to_str().unwrap(),
        "defeat-dispatch",
    ]);
    assert_eq!(out.status.code(), Some(0));
    assert!(text(&out.stdout).contains("NOT stopped"));
    // The enforced mode catches it.
    let out = xsc_run(&[
        "--guard=seccomp",
        "--allow-unverified",
        bin.to_str().unwrap(),
        "defeat-dispatch",
    ]);
    let err = assert_killed_by_sigsys(&out);
    assert!(
        err.contains("trap guard (seccomp): raw system call 39"),
        "{err}"
    );
}

/// aarch64 programs run under qemu's user mode, which refuses Syscall User
/// Dispatch (EINVAL) and seccomp (ENOSYS): the guard is off
/// (docs/xsc-run.md §3, §3.5), so a raw `svc` is NOT stopped with SIGSYS
/// at run time, as on x86_64. The verifier, before the run, is the only
/// defence (`a_binary_with_raw_system_calls_is_refused_before_it_runs`);
/// past it, with --allow-unverified, the host executes the call. Asking for
/// a guard is refused before the program runs.
#[test]
fn aarch64_has_no_trap_guard_under_qemu() {
    let bin = sample(Arch::Aarch64, "raw-syscall");
    let bin = bin.to_str().unwrap();
    for mode in ["syscall", "defeat-dispatch"] {
        let out = xsc_run(&["--allow-unverified", bin, mode]);
        let stdout = text(&out.stdout);
        assert_eq!(out.status.code(), Some(0), "{stdout}{}", text(&out.stderr));
        assert!(
            stdout.contains("about to make a raw system call"),
            "{stdout}"
        );
        assert!(stdout.contains("NOT stopped"), "{stdout}");
    }
    for guard in ["--guard=dispatch", "--guard=seccomp"] {
        let out = xsc_run(&[guard, "--allow-unverified", bin]);
        let err = text(&out.stderr);
        assert_eq!(out.status.code(), Some(126), "{guard}: {err}");
        assert!(err.contains("no Syscall User Dispatch"), "{guard}: {err}");
        assert!(out.stdout.is_empty(), "{guard}: the program must not run");
    }
}

fn bad_ring_input_gets_error_completions_and_the_kernel_keeps_working(arch: Arch) {
    let out = xsc_run(&[sample(arch, "ring-abuse").to_str().unwrap()]);
    let stdout = text(&out.stdout);
    assert_eq!(out.status.code(), Some(0), "{stdout}{}", text(&out.stderr));
    for case in [
        "unknown opcode: result=-38 flags=0x1 user_data=0xabc -> ok",
        "malformed entry: result=-22 flags=0x2 user_data=0xdef -> ok",
        "thread-context op on the ring: result=-22 flags=0x8",
        "corrupt submission tail: result=-22 flags=0x4 user_data=0x0 -> ok",
        "still working:",
        "batch line 1\nbatch line 2\nbatch line 3\nbatch of 3 writes -> ok",
    ] {
        assert!(stdout.contains(case), "missing `{case}` in\n{stdout}");
    }
    assert!(!stdout.contains("WRONG"), "{stdout}");
    assert!(
        text(&out.stderr).contains("submission ring error: tail"),
        "{}",
        text(&out.stderr)
    );
}

fn the_process_model_behaves_as_on_linux(arch: Arch) {
    let out = xsc_run(&[sample(arch, "raw-process").to_str().unwrap()]);
    let stdout = text(&out.stdout);
    assert_eq!(out.status.code(), Some(0), "{stdout}{}", text(&out.stderr));
    let checks: Vec<&str> = stdout.lines().filter(|l| !l.starts_with("  ")).collect();
    assert_eq!(checks.len(), 11, "{stdout}");
    assert!(checks.iter().all(|l| l.ends_with(": ok")), "{stdout}");
    for child_line in [
        "  in the SIGUSR1 handler (signal 10), making an OS call from it",
        "  child: hello from the forked child",
        "  native child: hello from /bin/sh",
        "  exec'd XSC child: running under xsc-run again",
    ] {
        assert!(
            stdout.contains(child_line),
            "missing `{child_line}` in\n{stdout}"
        );
    }
}

/// Copies `bin` with the bytes of its XSC_ABI note changed by `patch`.
fn patched_note(bin: &Path, tag: &str, patch: impl Fn(&mut [u8])) -> PathBuf {
    let mut data = std::fs::read(bin).unwrap();
    let v = xsc_abi::ABI_VERSION.to_le_bytes();
    let note: [u8; 24] = [
        4, 0, 0, 0, 8, 0, 0, 0, 1, 0, 0, 0, b'X', b'S', b'C', 0, v[0], v[1], v[2], v[3], 0, 0, 0, 0,
    ];
    let at = data
        .windows(24)
        .position(|w| w == note)
        .expect("the note is in the file");
    patch(&mut data[at..at + 24]);
    let out = tmpdir(tag).join("patched");
    std::fs::write(&out, data).unwrap();
    std::fs::set_permissions(&out, std::os::unix::fs::PermissionsExt::from_mode(0o755)).unwrap();
    out
}

fn binaries_without_a_valid_note_are_refused_with_a_clear_message(arch: Arch) {
    let hello = sample(arch, "raw-hello");
    let tag = |t: &str| format!("{t}-{arch}");
    let unmarked = patched_note(&hello, &tag("unmarked"), |n| n[12] = b'Y');
    let out = xsc_run(&[unmarked.to_str().unwrap(), "/dev/null", "0"]);
    assert_eq!(out.status.code(), Some(126));
    assert!(
        text(&out.stderr).contains("no XSC_ABI note"),
        "{}",
        text(&out.stderr)
    );
    assert!(text(&out.stderr).contains("--allow-unmarked"));
    // The debugging override runs it anyway.
    let out = xsc_run(&[
        "--allow-unmarked",
        unmarked.to_str().unwrap(),
        "/dev/null",
        "5",
    ]);
    assert_eq!(out.status.code(), Some(5), "{}", text(&out.stderr));

    let future = patched_note(&hello, &tag("future"), |n| n[16] = 9);
    let out = xsc_run(&[future.to_str().unwrap(), "/dev/null", "0"]);
    assert_eq!(out.status.code(), Some(126));
    let expected = format!(
        "asks for ABI version 9; this toolchain speaks version {}",
        xsc_abi::ABI_VERSION
    );
    assert!(
        text(&out.stderr).contains(&expected),
        "{}",
        text(&out.stderr)
    );

    let features = patched_note(&hello, &tag("features"), |n| n[20] = 0x80);
    let out = xsc_run(&[features.to_str().unwrap(), "/dev/null", "0"]);
    assert!(
        text(&out.stderr).contains("requires unknown features 0x80"),
        "{}",
        text(&out.stderr)
    );
}

fn non_xsc_input_is_refused_with_a_clear_message(arch: Arch) {
    let dir = tmpdir(&format!("garbage-{arch}"));
    let junk = dir.join("junk");
    std::fs::write(&junk, b"#!/bin/sh\necho hi\n").unwrap();
    let out = xsc_run(&[junk.to_str().unwrap()]);
    assert_eq!(out.status.code(), Some(126));
    assert!(
        text(&out.stderr).contains("not an ELF binary"),
        "{}",
        text(&out.stderr)
    );

    let truncated = dir.join("truncated");
    let data = std::fs::read(sample(arch, "raw-hello")).unwrap();
    std::fs::write(&truncated, &data[..200]).unwrap();
    let out = xsc_run(&[truncated.to_str().unwrap()]);
    assert_eq!(out.status.code(), Some(126), "{}", text(&out.stderr));

    // A dynamically linked program of the architecture.
    let dynamic = match arch {
        Arch::X86_64 => PathBuf::from("/bin/sh"),
        Arch::Aarch64 => {
            let src = dir.join("dynamic.c");
            std::fs::write(&src, "int main(void) { return 0; }\n").unwrap();
            let bin = dir.join("dynamic");
            std_xsc::testing::run_ok(Command::new(arch.cc()).arg("-o").arg(&bin).arg(&src));
            bin
        }
    };
    let out = xsc_run(&[dynamic.to_str().unwrap()]);
    assert_eq!(out.status.code(), Some(126));
    assert!(
        text(&out.stderr).contains("PT_INTERP"),
        "{}",
        text(&out.stderr)
    );

    let out = xsc_run(&[dir.join("missing").to_str().unwrap()]);
    assert_eq!(out.status.code(), Some(127));
}

fn idle_threads_cost_no_cpu(arch: Arch) {
    // A program whose two threads sleep (nanosleep, futex) for a second:
    // the kernel side runs in those threads and sleeps with them. A
    // busy-polling kernel would burn a core for the whole second. (On
    // aarch64 the CPU time includes qemu's start and translation.)
    let bin = sample(arch, "raw-process");
    // Reaped by wait4 below, which also reports its resource usage.
    #[allow(clippy::zombie_processes)]
    let child = Command::new(env!("CARGO_BIN_EXE_xsc-run"))
        .args([bin.to_str().unwrap(), "idle", "1000"])
        .spawn()
        .unwrap();
    let start = Instant::now();
    let mut status = 0;
    // SAFETY: an all-zero rusage is valid; wait4 fills it for our child.
    let mut usage: libc::rusage = unsafe { std::mem::zeroed() };
    // SAFETY: waiting for our own child with valid out-pointers.
    let r = unsafe { libc::wait4(child.id() as i32, &mut status, 0, &mut usage) };
    let wall = start.elapsed();
    assert_eq!(r, child.id() as i32);
    assert_eq!(status, 0, "raw-process idle failed");
    let micros = |t: libc::timeval| t.tv_sec as u64 * 1_000_000 + t.tv_usec as u64;
    let cpu = Duration::from_micros(micros(usage.ru_utime) + micros(usage.ru_stime));
    assert!(wall >= Duration::from_millis(1000));
    assert!(
        cpu * 4 < wall,
        "the idle program used {cpu:?} of CPU in {wall:?}"
    );
}

fn a_binary_with_raw_system_calls_is_refused_before_it_runs(arch: Arch) {
    let out = xsc_run(&[sample(arch, "raw-syscall").to_str().unwrap()]);
    let err = text(&out.stderr);
    assert_eq!(out.status.code(), Some(126), "{err}");
    assert!(text(&out.stdout).is_empty(), "nothing of the program ran");
    assert!(
        err.contains("refused: the binary fails XSC verification"),
        "{err}"
    );
    assert!(err.contains("forbidden_getpid"), "{err}");
    if arch == Arch::X86_64 {
        // aarch64's raw-syscall has no `int 0x80` (one forbidden function).
        assert!(err.contains("forbidden_int80_getpid"), "{err}");
    }
    assert!(err.contains("--allow-unverified"), "{err}");
}
