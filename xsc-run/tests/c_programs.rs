//! xsc-run with C programs built by xsc-cc (tests/data/).
//!
//! `xsc-run --seccomp-profile`: a container's seccomp profile (Docker's
//! JSON) enforced on an XSC program. The profile follows Docker's default
//! profile in shape and semantics: an allow list of every system call by
//! name but a few, `defaultAction` `SCMP_ACT_ERRNO` with `defaultErrnoRet`
//! EPERM, `personality` allowed only for some argument values, and one
//! call refused with its own errno. The probe (tests/data/profile_probe.c,
//! built with xsc-cc) reports what each call gave; every expectation below
//! follows from the profile written here.

use std::path::PathBuf;
use std::process::Command;
use std_xsc::xsc_home;

fn tmp(name: &str) -> PathBuf {
    let d =
        PathBuf::from(env!("CARGO_TARGET_TMPDIR")).join(format!("profile-{}", std::process::id()));
    std::fs::create_dir_all(&d).unwrap();
    d.join(name)
}

/// Docker's default profile's shape: allow by name, refuse the rest.
fn docker_like_profile() -> String {
    // Refused by default here (and by Docker's default profile without
    // CAP_SYS_ADMIN): namespaces, mounts, and personality outside its
    // argument rule.
    let refused = [
        "unshare",
        "setns",
        "mount",
        "umount2",
        "personality",
        "mkdir",
    ];
    let allowed: Vec<String> = (0..512)
        .filter_map(syscalls::x86_64::Sysno::new)
        .map(|s| s.name())
        .filter(|n| !refused.contains(n))
        .map(|n| format!("\"{n}\""))
        .collect();
    format!(
        r#"{{
  "defaultAction": "SCMP_ACT_ERRNO",
  "defaultErrnoRet": 1,
  "architectures": ["SCMP_ARCH_X86_64", "SCMP_ARCH_X86", "SCMP_ARCH_X32"],
  "syscalls": [
    {{"names": [{}], "action": "SCMP_ACT_ALLOW"}},
    {{"names": ["personality"], "action": "SCMP_ACT_ALLOW",
      "args": [{{"index": 0, "value": 4294967295, "op": "SCMP_CMP_EQ"}}]}},
    {{"names": ["personality"], "action": "SCMP_ACT_ALLOW",
      "args": [{{"index": 0, "value": 0, "op": "SCMP_CMP_EQ"}}]}},
    {{"names": ["mkdir"], "action": "SCMP_ACT_ERRNO", "errnoRet": 13}}
  ]
}}"#,
        allowed.join(", ")
    )
}

/// tests/data/NAME.c built with xsc-cc.
fn build(name: &str) -> PathBuf {
    let cc = xsc_home().join("bin/xsc-cc");
    assert!(
        cc.is_file(),
        "{} is missing: run `cargo xtask setup` first",
        cc.display()
    );
    let bin = tmp(name);
    let src = PathBuf::from(env!("CARGO_MANIFEST_DIR")).join(format!("tests/data/{name}.c"));
    let out = Command::new(&cc)
        .args(["-O1", "-o"])
        .arg(&bin)
        .arg(&src)
        .arg("-lpthread")
        .output()
        .unwrap();
    assert!(
        out.status.success(),
        "{}",
        String::from_utf8_lossy(&out.stderr)
    );
    bin
}

/// The probe, built once per test run.
fn probe() -> PathBuf {
    static BUILT: std::sync::OnceLock<PathBuf> = std::sync::OnceLock::new();
    BUILT.get_or_init(|| build("profile_probe")).clone()
}

/// A program that closed the runner's copy of its standard error (every fd
/// above 2) still gets the trap guard's report, on its fd 2.
#[test]
fn the_trap_guard_reports_after_the_program_closed_high_fds() {
    use std::os::unix::process::ExitStatusExt;
    let bin = build("closes_fds_then_raw_syscall");
    let out = Command::new(env!("CARGO_BIN_EXE_xsc-run"))
        .arg(&bin)
        .output()
        .unwrap();
    let err = String::from_utf8_lossy(&out.stderr);
    assert_eq!(out.status.signal(), Some(libc::SIGSYS), "{err}");
    assert!(err.contains("trap guard"), "{err}");
    assert!(err.contains("raw system call 39 (getpid"), "{err}");
}

#[test]
fn a_docker_style_profile_is_enforced_on_every_call() {
    let probe = probe();
    let profile = tmp("profile.json");
    std::fs::write(&profile, docker_like_profile()).unwrap();

    let run = |with_profile: bool| {
        let mut c = Command::new(env!("CARGO_BIN_EXE_xsc-run"));
        if with_profile {
            c.arg("--seccomp-profile").arg(&profile);
        }
        let out = c.arg(&probe).output().unwrap();
        assert!(
            out.status.success(),
            "{}",
            String::from_utf8_lossy(&out.stderr)
        );
        String::from_utf8(out.stdout).unwrap()
    };
    let unconfined = run(false);
    assert!(
        unconfined.contains("personality(ADDR_NO_RANDOMIZE): ok"),
        "{unconfined}"
    );
    let confined = run(true);
    for line in [
        "getppid: ok",
        "unshare(CLONE_NEWUTS): EPERM",
        "personality(query): ok",
        "personality(ADDR_NO_RANDOMIZE): EPERM",
        "mkdir: EACCES",
        "pthread_create: ok",
    ] {
        assert!(
            confined.lines().any(|l| l == line),
            "missing `{line}` in\n{confined}"
        );
    }
}

#[test]
fn a_bad_profile_is_refused_before_the_program_runs() {
    let profile = tmp("bad.json");
    std::fs::write(&profile, r#"{"defaultAction": "SCMP_ACT_NOTIFY"}"#).unwrap();
    let out = Command::new(env!("CARGO_BIN_EXE_xsc-run"))
        .arg("--seccomp-profile")
        .arg(&profile)
        .arg(probe())
        .output()
        .unwrap();
    let err = String::from_utf8_lossy(&out.stderr);
    assert_eq!(out.status.code(), Some(126), "{err}");
    assert!(err.contains("cannot enforce the seccomp profile"), "{err}");
    assert!(err.contains("SCMP_ACT_NOTIFY needs a listener"), "{err}");
    assert!(out.stdout.is_empty(), "the program must not have run");
}
