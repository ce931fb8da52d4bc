//! `seccompiler-user DIR`: a program that sandboxes itself with
//! seccompiler, the filter compiler of Firecracker. Four filters, built by
//! the crate and applied with its functions (one to every thread, with
//! `TSYNC`): ERRNO with 64-bit and masked argument conditions, TRAP to
//! the program's own SIGSYS handler, and KILL_PROCESS, which ends it by
//! SIGSYS. It prints what each call gave; natively and on XSC the output
//! and the end must be the same.

use seccompiler::{
    BpfProgram, SeccompAction, SeccompCmpArgLen as Len, SeccompCmpOp as Op,
    SeccompCondition as Cond, SeccompFilter, SeccompRule, TargetArch,
};
use std::collections::BTreeMap;
use std::io::Write;
use std::sync::atomic::{AtomicI32, Ordering};

/// The filters' architecture: this program's.
#[cfg(target_arch = "x86_64")]
const ARCH: TargetArch = TargetArch::x86_64;
#[cfg(target_arch = "aarch64")]
const ARCH: TargetArch = TargetArch::aarch64;

fn filter(
    rules: Vec<(i64, Vec<SeccompRule>)>,
    on_match: SeccompAction,
) -> Result<BpfProgram, seccompiler::Error> {
    let rules: BTreeMap<i64, Vec<SeccompRule>> = rules.into_iter().collect();
    SeccompFilter::new(rules, SeccompAction::Allow, on_match, ARCH)?
        .try_into()
        .map_err(seccompiler::Error::Backend)
}

fn rule(conds: Vec<Cond>) -> SeccompRule {
    SeccompRule::new(conds).expect("a rule")
}

fn cond(arg: u8, len: Len, op: Op, value: u64) -> Cond {
    Cond::new(arg, len, op, value).expect("a condition")
}

fn say(what: &str, r: i64) {
    if r >= 0 {
        println!("{what}: ok");
    } else {
        let e = std::io::Error::last_os_error().raw_os_error().unwrap_or(0);
        println!("{what}: -1 errno {e}");
    }
    std::io::stdout().flush().unwrap();
}

fn syscall(nr: i64, a0: u64) -> i64 {
    // SAFETY: calls that take a number (or nothing) and touch no memory.
    unsafe { libc::syscall(nr, a0, 0, 0) }
}

static TRAPPED_NR: AtomicI32 = AtomicI32::new(-1);
static TRAPPED_CODE: AtomicI32 = AtomicI32::new(-1);

extern "C" fn on_sigsys(_sig: i32, info: *mut libc::siginfo_t, _uc: *mut libc::c_void) {
    // SAFETY: the kernel's siginfo for SIGSYS: si_code, and `_sigsys`'s
    // si_syscall at offset 24 (linux/signal.h).
    unsafe {
        TRAPPED_CODE.store((*info).si_code, Ordering::SeqCst);
        let nr = (info as *const u8).add(24) as *const i32;
        TRAPPED_NR.store(nr.read(), Ordering::SeqCst);
    }
}

fn main() {
    let dir = std::path::PathBuf::from(std::env::args().nth(1).expect("seccompiler-user DIR"));
    let file = dir.join("file");
    std::fs::write(&file, b"data").unwrap();

    // SAFETY: installing a handler that only stores to atomics.
    unsafe {
        let mut sa: libc::sigaction = std::mem::zeroed();
        sa.sa_sigaction = on_sigsys as *const () as usize;
        sa.sa_flags = libc::SA_SIGINFO;
        libc::sigaction(libc::SIGSYS, &sa, std::ptr::null_mut());
    }

    // A thread that runs before the filters: TSYNC puts it under the first.
    let (go, wait) = std::sync::mpsc::channel::<()>();
    let other = std::thread::spawn(move || {
        wait.recv().unwrap();
        say("thread: getpgid(7)", syscall(libc::SYS_getpgid, 7));
    });

    let o_wronly = libc::O_WRONLY as u64;
    let accmode = libc::O_ACCMODE as u64;
    let mut rules = vec![(
        libc::SYS_getpgid,
        vec![rule(vec![cond(0, Len::Qword, Op::Eq, 7)])],
    )];
    // aarch64 has openat only.
    #[cfg(target_arch = "x86_64")]
    rules.push((
        libc::SYS_open,
        vec![rule(vec![cond(
            1,
            Len::Dword,
            Op::MaskedEq(accmode),
            o_wronly,
        )])],
    ));
    rules.push((
        libc::SYS_openat,
        vec![rule(vec![cond(
            2,
            Len::Dword,
            Op::MaskedEq(accmode),
            o_wronly,
        )])],
    ));
    let refuse = filter(rules, SeccompAction::Errno(libc::EROFS as u32)).unwrap();
    let big = filter(
        vec![(
            libc::SYS_getsid,
            vec![rule(vec![cond(0, Len::Qword, Op::Gt, 1 << 32)])],
        )],
        SeccompAction::Errno(libc::E2BIG as u32),
    )
    .unwrap();
    let trap = filter(vec![(libc::SYS_getppid, vec![])], SeccompAction::Trap).unwrap();
    let kill = filter(vec![(libc::SYS_umask, vec![])], SeccompAction::KillProcess).unwrap();

    println!(
        "applied to all threads: {:?}",
        seccompiler::apply_filter_all_threads(&refuse).is_ok()
    );
    for (name, f) in [("big", &big), ("trap", &trap), ("kill", &kill)] {
        println!("applied {name}: {:?}", seccompiler::apply_filter(f).is_ok());
    }
    go.send(()).unwrap();
    other.join().unwrap();

    say("getpgid(0)", syscall(libc::SYS_getpgid, 0));
    say("getpgid(7)", syscall(libc::SYS_getpgid, 7));
    let read = std::fs::File::open(&file);
    println!("open for reading: {}", read.is_ok());
    let write = std::fs::OpenOptions::new().write(true).open(&file);
    println!(
        "open for writing: errno {:?}",
        write.err().and_then(|e| e.raw_os_error())
    );
    say("getsid(0)", syscall(libc::SYS_getsid, 0));
    say("getsid(1 << 33)", syscall(libc::SYS_getsid, 1 << 33));
    let r = syscall(libc::SYS_getppid, 0);
    println!(
        "getppid trapped: {}, SYS_SECCOMP: {}, returned its number: {}",
        TRAPPED_NR.load(Ordering::SeqCst) == libc::SYS_getppid as i32,
        TRAPPED_CODE.load(Ordering::SeqCst) == 1,
        r == libc::SYS_getppid
    );
    std::io::stdout().flush().unwrap();
    syscall(libc::SYS_umask, 0o22);
    println!("still alive after umask");
}
