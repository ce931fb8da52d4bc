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
//!
//! aarch64: the XSC programs are built with aarch64-xsc-cc and run under
//! the same xsc-run (which hands them to its aarch64 build under qemu), the
//! native ones with `aarch64-linux-gnu-gcc -static`, run directly (qemu
//! through binfmt_misc). qemu's user mode has no seccomp (ENOSYS) and no
//! Syscall User Dispatch (docs/xsc-run.md §3.5), natively as for XSC, so of
//! what this file tests only the refusal of a bad profile holds there as on
//! x86_64; `on_aarch64_seccomp_is_unavailable_natively_and_for_xsc` tests
//! what happens instead. The other tests are x86_64's, each saying why.

use std::os::unix::process::ExitStatusExt;
use std::path::{Path, PathBuf};
use std::process::{Command, Output};
use std_xsc::testing::run_ok;
use std_xsc::{xsc_home, Arch};

fn tmp(name: &str) -> PathBuf {
    let d =
        PathBuf::from(env!("CARGO_TARGET_TMPDIR")).join(format!("profile-{}", std::process::id()));
    std::fs::create_dir_all(&d).unwrap();
    d.join(name)
}

/// A profile with the structure and semantics of Docker's default profile
/// (moby's `profiles/seccomp/default.json`, as Docker hands it to runc): a
/// large allow list by name, `defaultAction` `SCMP_ACT_ERRNO` with
/// `defaultErrnoRet` EPERM, `personality` allowed for a few argument values
/// only, `clone` without namespace flags (a masked comparison) and `clone3`
/// refused with ENOSYS (`errnoRet`) unless CAP_SYS_ADMIN, `socket` for any
/// family but AF_VSOCK, and rules selected by `includes`/`excludes` on
/// capabilities, architectures and kernel version. The names refused by
/// default are Docker's (namespaces, mounts, modules, keyrings, kernel
/// logs, clock setting, ...).
fn docker_default_profile() -> String {
    const REFUSED: &[&str] = &[
        "acct",
        "add_key",
        "bpf",
        "clock_adjtime",
        "clock_settime",
        "clone",
        "clone3",
        "create_module",
        "delete_module",
        "fanotify_init",
        "finit_module",
        "fsconfig",
        "fsmount",
        "fsopen",
        "fspick",
        "get_kernel_syms",
        "get_mempolicy",
        "init_module",
        "ioperm",
        "iopl",
        "kcmp",
        "kexec_file_load",
        "kexec_load",
        "keyctl",
        "lookup_dcookie",
        "mbind",
        "mount",
        "mount_setattr",
        "move_mount",
        "move_pages",
        "name_to_handle_at",
        "nfsservctl",
        "open_by_handle_at",
        "open_tree",
        "perf_event_open",
        "personality",
        "pivot_root",
        "process_vm_readv",
        "process_vm_writev",
        "ptrace",
        "query_module",
        "quotactl",
        "reboot",
        "request_key",
        "set_mempolicy",
        "setdomainname",
        "sethostname",
        "setns",
        "settimeofday",
        "socket",
        "swapoff",
        "swapon",
        "sysfs",
        "_sysctl",
        "syslog",
        "umount2",
        "unshare",
        "uselib",
        "userfaultfd",
        "ustat",
        "vhangup",
        "arch_prctl",
        "modify_ldt",
    ];
    let allowed: Vec<String> = (0..512)
        .filter_map(syscalls::x86_64::Sysno::new)
        .map(|s| s.name())
        .filter(|n| !REFUSED.contains(n))
        .map(|n| format!("\"{n}\""))
        .collect();
    let personality: Vec<String> = [0u64, 8, 131072, 131080, 4294967295]
        .iter()
        .map(|v| {
            format!(
                r#"{{"names": ["personality"], "action": "SCMP_ACT_ALLOW", "args": [{{"index": 0, "value": {v}, "op": "SCMP_CMP_EQ"}}]}}"#
            )
        })
        .collect();
    format!(
        r#"{{
  "defaultAction": "SCMP_ACT_ERRNO",
  "defaultErrnoRet": 1,
  "architectures": ["SCMP_ARCH_X86_64", "SCMP_ARCH_X86", "SCMP_ARCH_X32"],
  "syscalls": [
    {{"names": [{allowed}], "action": "SCMP_ACT_ALLOW"}},
    {personality},
    {{"names": ["arch_prctl", "modify_ldt"], "action": "SCMP_ACT_ALLOW",
      "includes": {{"arches": ["amd64", "x32", "x86"]}}}},
    {{"names": ["process_vm_readv", "process_vm_writev", "ptrace"], "action": "SCMP_ACT_ALLOW",
      "includes": {{"minKernel": "4.8"}}}},
    {{"names": ["socket"], "action": "SCMP_ACT_ALLOW",
      "args": [{{"index": 0, "value": 40, "op": "SCMP_CMP_NE"}}]}},
    {{"names": ["bpf", "clone", "clone3", "fanotify_init", "lookup_dcookie", "mount",
                "name_to_handle_at", "perf_event_open", "quotactl", "setdomainname",
                "sethostname", "setns", "syslog", "umount2", "unshare"],
      "action": "SCMP_ACT_ALLOW", "includes": {{"caps": ["CAP_SYS_ADMIN"]}}}},
    {{"names": ["clone"], "action": "SCMP_ACT_ALLOW",
      "args": [{{"index": 0, "value": 2114060288, "op": "SCMP_CMP_MASKED_EQ"}}],
      "excludes": {{"caps": ["CAP_SYS_ADMIN"], "arches": ["s390", "s390x"]}}}},
    {{"names": ["clone3"], "action": "SCMP_ACT_ERRNO", "errnoRet": 38,
      "excludes": {{"caps": ["CAP_SYS_ADMIN"]}}}},
    {{"names": ["syslog"], "action": "SCMP_ACT_ALLOW", "includes": {{"caps": ["CAP_SYSLOG"]}}}},
    {{"names": ["reboot"], "action": "SCMP_ACT_ALLOW", "includes": {{"caps": ["CAP_SYS_BOOT"]}}}}
  ]
}}"#,
        allowed = allowed.join(", "),
        personality = personality.join(",\n    "),
    )
}

/// What a container runtime hands libseccomp for `profile`: the rules of
/// the profile that apply on this host (runc's and Docker's reading of
/// `includes` and `excludes`), in the line format of
/// tests/data/seccomp_exec.c. `caps` are the effective capabilities the
/// program will have.
fn runtime_rules(profile: &str, caps: u64) -> String {
    use serde_json::Value;
    let p: Value = serde_json::from_str(profile).unwrap();
    let kernel = {
        let r = std::fs::read_to_string("/proc/sys/kernel/osrelease").unwrap();
        let mut v = r
            .trim()
            .split(['.', '-'])
            .map(|x| x.parse::<u32>().unwrap_or(0));
        (v.next().unwrap(), v.next().unwrap())
    };
    let cap_number = |name: &str| -> u32 {
        match name {
            "CAP_SYS_ADMIN" => 21,
            "CAP_SYS_BOOT" => 22,
            "CAP_SYSLOG" => 34,
            other => panic!("capability {other} not known to the test"),
        }
    };
    let action = |a: &str| match a {
        "SCMP_ACT_ALLOW" => "allow",
        "SCMP_ACT_ERRNO" => "errno",
        "SCMP_ACT_KILL" | "SCMP_ACT_KILL_THREAD" => "kill_thread",
        "SCMP_ACT_KILL_PROCESS" => "kill_process",
        "SCMP_ACT_TRAP" => "trap",
        "SCMP_ACT_TRACE" => "trace",
        "SCMP_ACT_LOG" => "log",
        other => panic!("action {other}"),
    };
    let holds = |f: &Value, all: bool| -> bool {
        // includes: every listed condition holds; excludes: any does.
        let mut conds: Vec<bool> = Vec::new();
        if let Some(cs) = f.get("caps").and_then(Value::as_array) {
            let have = cs
                .iter()
                .map(|c| caps & (1 << cap_number(c.as_str().unwrap())) != 0);
            conds.push(if all {
                have.clone().all(|x| x)
            } else {
                have.clone().any(|x| x)
            });
        }
        if let Some(arches) = f.get("arches").and_then(Value::as_array) {
            conds.push(arches.iter().any(|a| a == "amd64" || a == "x86_64"));
        }
        if let Some(k) = f.get("minKernel").and_then(Value::as_str) {
            let mut v = k.split('.').map(|x| x.parse::<u32>().unwrap());
            conds.push(kernel >= (v.next().unwrap(), v.next().unwrap_or(0)));
        }
        if all {
            conds.iter().all(|&c| c)
        } else {
            conds.iter().any(|&c| c)
        }
    };
    let mut out = format!(
        "default {} {}\n",
        action(p["defaultAction"].as_str().unwrap()),
        p.get("defaultErrnoRet")
            .and_then(Value::as_u64)
            .unwrap_or(1)
    );
    for a in p["architectures"].as_array().unwrap() {
        let name = match a.as_str().unwrap() {
            "SCMP_ARCH_X86_64" => "x86_64",
            "SCMP_ARCH_X86" => "x86",
            "SCMP_ARCH_X32" => "x32",
            other => panic!("{other}"),
        };
        out += &format!("arch {name}\n");
    }
    for rule in p["syscalls"].as_array().unwrap() {
        let none = Value::Null;
        let inc = rule.get("includes").unwrap_or(&none);
        let exc = rule.get("excludes").unwrap_or(&none);
        if (!inc.is_null() && !holds(inc, true)) || (!exc.is_null() && holds(exc, false)) {
            continue;
        }
        let act = action(rule["action"].as_str().unwrap());
        let errno = rule.get("errnoRet").and_then(Value::as_u64).unwrap_or(1);
        let args: Vec<String> = rule
            .get("args")
            .and_then(Value::as_array)
            .map(|a| a.as_slice())
            .unwrap_or_default()
            .iter()
            .map(|c| {
                let op = match c["op"].as_str().unwrap() {
                    "SCMP_CMP_NE" => "ne",
                    "SCMP_CMP_LT" => "lt",
                    "SCMP_CMP_LE" => "le",
                    "SCMP_CMP_EQ" => "eq",
                    "SCMP_CMP_GE" => "ge",
                    "SCMP_CMP_GT" => "gt",
                    "SCMP_CMP_MASKED_EQ" => "masked_eq",
                    other => panic!("{other}"),
                };
                format!(
                    "{} {op} {} {}",
                    c["index"],
                    c["value"],
                    c.get("valueTwo").and_then(Value::as_u64).unwrap_or(0)
                )
            })
            .collect();
        for name in rule["names"].as_array().unwrap() {
            out += &format!(
                "rule {act} {errno} {} {} {}\n",
                name.as_str().unwrap(),
                args.len(),
                args.join(" ")
            );
        }
    }
    out
}

/// The effective capabilities of this process (`CapEff`).
fn effective_caps() -> u64 {
    let status = std::fs::read_to_string("/proc/self/status").unwrap();
    let line = status.lines().find(|l| l.starts_with("CapEff:")).unwrap();
    u64::from_str_radix(line.split_whitespace().nth(1).unwrap(), 16).unwrap()
}

/// `name` for a file of `arch` (x86_64's keep their names).
fn arch_name(arch: Arch, name: &str) -> String {
    match arch {
        Arch::X86_64 => name.to_string(),
        Arch::Aarch64 => format!("{name}.{arch}"),
    }
}

/// tests/data/NAME.c built with xsc-cc (aarch64-xsc-cc for aarch64).
fn build(arch: Arch, name: &str) -> PathBuf {
    let cc = match arch {
        Arch::X86_64 => xsc_home().join("bin/xsc-cc"),
        Arch::Aarch64 => xsc_home().join("bin/aarch64-xsc-cc"),
    };
    assert!(
        cc.is_file(),
        "{} is missing: run `cargo xtask setup` first",
        cc.display()
    );
    let bin = tmp(&arch_name(arch, name));
    let src = PathBuf::from(env!("CARGO_MANIFEST_DIR")).join(format!("tests/data/{name}.c"));
    run_ok(
        Command::new(&cc)
            .args(["-O1", "-o"])
            .arg(&bin)
            .arg(&src)
            .arg("-lpthread"),
    );
    bin
}

/// tests/data/NAME.c built natively, once per test run (tests running at
/// once share the binary): with the host's C compiler, or for aarch64 with
/// `aarch64-linux-gnu-gcc -static` (run through binfmt_misc).
fn build_native(arch: Arch, name: &str, libs: &[&str]) -> PathBuf {
    static BUILT: std::sync::Mutex<Vec<(String, PathBuf)>> = std::sync::Mutex::new(Vec::new());
    let key = arch_name(arch, name);
    let mut built = BUILT.lock().unwrap_or_else(|e| e.into_inner());
    if let Some((_, bin)) = built.iter().find(|(n, _)| *n == key) {
        return bin.clone();
    }
    let bin = tmp(&format!("{key}.native"));
    let src = PathBuf::from(env!("CARGO_MANIFEST_DIR")).join(format!("tests/data/{name}.c"));
    let mut cc = match arch {
        Arch::X86_64 => Command::new("cc"),
        Arch::Aarch64 => {
            let mut c = Command::new(arch.cc());
            c.arg("-static");
            c
        }
    };
    run_ok(cc.args(["-O1", "-o"]).arg(&bin).arg(&src).args(libs));
    built.push((key, bin.clone()));
    bin
}

/// The host's libseccomp for the native side (Debian's libseccomp-dev),
/// installed here when missing if we are root.
fn ensure_host_libseccomp() {
    static DONE: std::sync::OnceLock<()> = std::sync::OnceLock::new();
    DONE.get_or_init(|| {
        if Path::new("/usr/include/seccomp.h").exists() {
            return;
        }
        // SAFETY: geteuid has no preconditions.
        assert!(
            unsafe { libc::geteuid() } == 0,
            "the native side needs libseccomp: sudo apt-get install -y libseccomp-dev"
        );
        let ok = Command::new("apt-get")
            .args([
                "install",
                "-y",
                "-q",
                "--no-install-recommends",
                "libseccomp-dev",
            ])
            .env("DEBIAN_FRONTEND", "noninteractive")
            .status()
            .is_ok_and(|s| s.success());
        assert!(ok, "apt-get install libseccomp-dev failed");
    });
}

/// Debian's libseccomp source package: the version the host's
/// libseccomp-dev is built from.
const LIBSECCOMP_DEB: &str = "2.5.4-1+deb12u1";
const LIBSECCOMP_DIR: &str = "libseccomp-2.5.4";

/// libseccomp built for XSC from Debian's source package (`apt-get source`,
/// as std-xsc fetches musl's): its C files compiled by xsc-cc into
/// `$XSC_HOME/build/libseccomp-x86_64/{include,lib}`, once; later runs
/// reuse it while the sysroot is unchanged (the sysroot's stamp is part of
/// this one). The library's own build wants `gperf` to regenerate the
/// syscall table from Debian's patched `syscalls.csv`; the table that
/// ships in the source (`syscalls.perf.c`) is used instead (it lacks only
/// calls added after Linux 6.6, which the tests do not use).
fn xsc_libseccomp() -> PathBuf {
    static BUILT: std::sync::OnceLock<PathBuf> = std::sync::OnceLock::new();
    BUILT
        .get_or_init(|| {
            let home = xsc_home();
            let out = home.join("build/libseccomp-x86_64");
            let sysroot_stamp =
                std::fs::read_to_string(home.join("sysroot/x86_64/.xsc-stamp")).unwrap_or_default();
            let stamp = format!("{LIBSECCOMP_DEB} sysroot {}\n", sysroot_stamp.trim());
            if std::fs::read_to_string(out.join("stamp")).is_ok_and(|s| s == stamp) {
                return out;
            }
            let src = libseccomp_source(&home);
            let work = home.join(format!("build/libseccomp-x86_64.{}", std::process::id()));
            let _ = std::fs::remove_dir_all(&work);
            std::fs::create_dir_all(work.join("obj")).unwrap();
            std::fs::create_dir_all(work.join("lib")).unwrap();
            std::fs::create_dir_all(work.join("include")).unwrap();
            // What configure would find: the Linux UAPI seccomp header.
            std::fs::write(
                work.join("obj/configure.h"),
                "#define HAVE_LINUX_SECCOMP_H 1\n",
            )
            .unwrap();
            let cc = home.join("bin/xsc-cc");
            let mut objects = Vec::new();
            for c in libseccomp_sources(&src) {
                let obj = work.join("obj").join(c.replace(".c", ".o"));
                let o = Command::new(&cc)
                    .args(["-O2", "-fvisibility=hidden", "-c", "-I"])
                    .arg(src.join("include"))
                    .arg("-I")
                    .arg(src.join("src"))
                    .arg("-I")
                    .arg(work.join("obj"))
                    .arg(src.join("src").join(&c))
                    .arg("-o")
                    .arg(&obj)
                    .output()
                    .unwrap();
                assert!(
                    o.status.success(),
                    "{c}: {}",
                    String::from_utf8_lossy(&o.stderr)
                );
                objects.push(obj);
            }
            let ar = Command::new("ar")
                .arg("rcs")
                .arg(work.join("lib/libseccomp.a"))
                .args(&objects)
                .status()
                .unwrap();
            assert!(ar.success());
            for h in ["seccomp.h", "seccomp-syscalls.h"] {
                std::fs::copy(src.join("include").join(h), work.join("include").join(h)).unwrap();
            }
            std::fs::remove_dir_all(work.join("obj")).unwrap();
            std::fs::write(work.join("stamp"), &stamp).unwrap();
            let _ = std::fs::remove_dir_all(&out);
            std::fs::rename(&work, &out).unwrap();
            out
        })
        .clone()
}

/// The C files of the library (`SOURCES_ALL` in src/Makefile.am).
fn libseccomp_sources(src: &Path) -> Vec<String> {
    let am = std::fs::read_to_string(src.join("src/Makefile.am")).unwrap();
    let start = am
        .find("SOURCES_ALL =")
        .expect("SOURCES_ALL in src/Makefile.am");
    let mut files = Vec::new();
    for line in am[start..].lines() {
        let body = line.trim_start_matches("SOURCES_ALL =");
        files.extend(
            body.split_whitespace()
                .filter(|w| w.ends_with(".c"))
                .map(String::from),
        );
        if !line.trim_end().ends_with('\\') {
            break;
        }
    }
    assert!(files.len() > 10, "{files:?}");
    files
}

/// The pristine source tree under `$XSC_HOME/src`, fetched with `apt-get
/// source` (Debian's patches applied) if missing.
fn libseccomp_source(home: &Path) -> PathBuf {
    let dir = home.join("src").join(LIBSECCOMP_DIR);
    if dir.join("src/Makefile.am").is_file() {
        return dir;
    }
    let work = home.join(format!(
        "src/apt-get-source-libseccomp.{}",
        std::process::id()
    ));
    let _ = std::fs::remove_dir_all(&work);
    std::fs::create_dir_all(&work).unwrap();
    let out = Command::new("apt-get")
        .args(["source", "-q", &format!("libseccomp={LIBSECCOMP_DEB}")])
        .current_dir(&work)
        .output()
        .unwrap();
    assert!(
        out.status.success(),
        "apt-get source libseccomp={LIBSECCOMP_DEB} failed (it needs the deb-src entry and dpkg-dev that `cargo xtask setup` installs):\n{}",
        String::from_utf8_lossy(&out.stderr)
    );
    let _ = std::fs::remove_dir_all(work.join(LIBSECCOMP_DIR).join("debian"));
    if std::fs::rename(work.join(LIBSECCOMP_DIR), &dir).is_err() {
        assert!(
            dir.join("src/Makefile.am").is_file(),
            "cannot move the source into {}",
            dir.display()
        );
    }
    let _ = std::fs::remove_dir_all(&work);
    dir
}

/// A C program using libseccomp (tests/data/libseccomp_user.c), linked
/// with the host's libseccomp natively and with libseccomp built for XSC,
/// allows, refuses, traps and kills the same calls with the same errors
/// and signals. (x86_64 only: under qemu no filter loads, natively either,
/// and the host has no aarch64 libseccomp.)
#[test]
fn a_libseccomp_program_behaves_as_natively() {
    ensure_host_libseccomp();
    let lib = xsc_libseccomp();
    let native = build_native(Arch::X86_64, "libseccomp_user", &["-lseccomp", "-lpthread"]);
    let xsc = tmp("libseccomp_user");
    let src = PathBuf::from(env!("CARGO_MANIFEST_DIR")).join("tests/data/libseccomp_user.c");
    run_ok(
        Command::new(xsc_home().join("bin/xsc-cc"))
            .args(["-O1", "-I"])
            .arg(lib.join("include"))
            .arg(&src)
            .arg("-o")
            .arg(&xsc)
            .arg(lib.join("lib/libseccomp.a"))
            .arg("-lpthread"),
    );
    let scratch = |side: &str| {
        let d = tmp(&format!("libseccomp-{side}"));
        std::fs::create_dir_all(&d).unwrap();
        d
    };
    let n = Command::new(&native)
        .env("SCRATCH", scratch("native"))
        .output()
        .unwrap();
    let x = Command::new(env!("CARGO_BIN_EXE_xsc-run"))
        .arg(&xsc)
        .env("SCRATCH", scratch("xsc"))
        .output()
        .unwrap();
    let native_out = String::from_utf8_lossy(&n.stdout);
    assert!(
        native_out.contains("load: 0"),
        "the filter did not load natively: {native_out}"
    );
    assert_eq!(
        outcome(&x),
        outcome(&n),
        "xsc-run stderr: {}",
        String::from_utf8_lossy(&x.stderr)
    );
}

/// The probe, built once per test run and architecture.
fn probe(arch: Arch) -> PathBuf {
    static X86_64: std::sync::OnceLock<PathBuf> = std::sync::OnceLock::new();
    static AARCH64: std::sync::OnceLock<PathBuf> = std::sync::OnceLock::new();
    let built = match arch {
        Arch::X86_64 => &X86_64,
        Arch::Aarch64 => &AARCH64,
    };
    built.get_or_init(|| build(arch, "profile_probe")).clone()
}

/// A program that closed the runner's copy of its standard error (every fd
/// above 2) still gets the trap guard's report, on its fd 2. (x86_64 only:
/// there is no trap guard under qemu, and an aarch64 `svc` cannot hide
/// inside another instruction to get past the verifier at link time.)
#[test]
fn the_trap_guard_reports_after_the_program_closed_high_fds() {
    let bin = build(Arch::X86_64, "closes_fds_then_raw_syscall");
    let out = Command::new(env!("CARGO_BIN_EXE_xsc-run"))
        .arg(&bin)
        .output()
        .unwrap();
    let err = String::from_utf8_lossy(&out.stderr);
    assert_eq!(out.status.signal(), Some(libc::SIGSYS), "{err}");
    assert!(err.contains("trap guard"), "{err}");
    assert!(err.contains("raw system call 39 (getpid"), "{err}");
}

/// A program that closed xsc-run's copy of its standard error (fd 500) and
/// opened a file of its own under that number gets the trap guard's report
/// on its fd 2, and its file holds only what it wrote (issue 26, item 5:
/// the report used to land in the file). x86_64 only, as above.
#[test]
fn the_trap_guard_report_never_goes_into_the_programs_own_file() {
    let bin = build(Arch::X86_64, "own_file_at_fd_500_then_raw_syscall");
    let file = tmp("own-file-at-500.txt");
    let out = Command::new(env!("CARGO_BIN_EXE_xsc-run"))
        .arg(&bin)
        .arg(&file)
        .output()
        .unwrap();
    let err = String::from_utf8_lossy(&out.stderr);
    assert_eq!(out.status.signal(), Some(libc::SIGSYS), "{err}");
    assert!(err.contains("raw system call 39 (getpid"), "{err}");
    assert_eq!(
        std::fs::read_to_string(&file).unwrap(),
        "program data\n",
        "the program's own file at fd 500"
    );
}

/// An execute-only XSC binary (mode 0711) exec'd by an unprivileged XSC
/// program: xsc-run cannot read it, so the exec fails with EACCES and a
/// message saying why and what to do, instead of the host running the XSC
/// binary natively (which died by SIGSEGV, issue 26, item 3). The same
/// exec natively (Linux runs the binary) is the difference
/// docs/xsc-run.md section 6 names. Needs root to drop to another uid.
#[test]
fn an_execute_only_xsc_binary_is_refused_with_a_clear_message() {
    // SAFETY: geteuid has no preconditions.
    if unsafe { libc::geteuid() } != 0 {
        eprintln!("skipped: needs root (to exec as another user)");
        return;
    }
    use std::os::unix::fs::PermissionsExt;
    let bin = build(Arch::X86_64, "exec_execute_only");
    let dir = PathBuf::from(format!("/tmp/xsc-run-exec-only-{}", std::process::id()));
    std::fs::create_dir_all(&dir).unwrap();
    std::fs::set_permissions(&dir, std::fs::Permissions::from_mode(0o755)).unwrap();
    let target = dir.join("execute-only");
    std::fs::copy(&bin, &target).unwrap();
    std::fs::set_permissions(&target, std::fs::Permissions::from_mode(0o711)).unwrap();
    let out = Command::new(env!("CARGO_BIN_EXE_xsc-run"))
        .arg(&bin)
        .arg(&target)
        .current_dir(&dir)
        .output()
        .unwrap();
    let _ = std::fs::remove_dir_all(&dir);
    let err = String::from_utf8_lossy(&out.stderr);
    assert_eq!(
        String::from_utf8_lossy(&out.stdout),
        "execl: EACCES\n",
        "{err}"
    );
    assert_eq!(out.status.code(), Some(1), "{err}");
    assert!(err.contains("refused (EACCES)"), "{err}");
    assert!(err.contains("not readable"), "{err}");
    assert!(err.contains("chmod a+r"), "{err}");
}

/// With the descriptor table full at the hard RLIMIT_NOFILE, exec of an
/// executable file fails with EMFILE and a message naming both limits and
/// what to do (natively the exec succeeds: the documented difference of
/// docs/xsc-run.md section 6). Under a higher hard limit the exec works:
/// the conformance case exec/xsc_binary_with_fd_table_full.
#[test]
fn exec_with_the_fd_table_full_at_the_hard_limit_is_refused_with_a_clear_message() {
    let bin = build(Arch::X86_64, "exec_with_fd_table_full");
    let out = Command::new(env!("CARGO_BIN_EXE_xsc-run"))
        .arg(&bin)
        .output()
        .unwrap();
    let err = String::from_utf8_lossy(&out.stderr);
    assert_eq!(
        String::from_utf8_lossy(&out.stdout),
        "execl: EMFILE\n",
        "{err}"
    );
    assert_eq!(out.status.code(), Some(1), "{err}");
    assert!(err.contains("refused (EMFILE)"), "{err}");
    assert!(err.contains("RLIMIT_NOFILE 32, hard limit 32"), "{err}");
}

/// The installed xsc-run (`cargo xtask setup`), a static-pie linked with
/// musl: where the layout tests below differ from this crate's debug build
/// (a dynamically linked PIE), both are run.
fn installed_runner() -> PathBuf {
    let r = xsc_home().join("bin/xsc-run");
    assert!(
        r.is_file(),
        "{} is missing: run `cargo xtask setup` first",
        r.display()
    );
    r
}

/// A program that maps MAP_FIXED over xsc-run's own image (unmaps it,
/// re-protects it) gets ENOMEM and a message instead of destroying the
/// kernel side and dying by SIGSEGV with no word (issue 26, item 2): under
/// this crate's runner (its heap after its image) and the installed
/// static-pie (no heap there).
#[test]
fn mapping_over_the_runner_is_refused_with_a_clear_message() {
    let bin = build(Arch::X86_64, "map_fixed_over_runner");
    for runner in [
        PathBuf::from(env!("CARGO_BIN_EXE_xsc-run")),
        installed_runner(),
    ] {
        let out = Command::new(&runner).arg(&bin).output().unwrap();
        let err = String::from_utf8_lossy(&out.stderr);
        assert_eq!(
            String::from_utf8_lossy(&out.stdout),
            "mmap MAP_FIXED: ENOMEM\nmunmap: ENOMEM\nmprotect: ENOMEM\n",
            "{}: {err}",
            runner.display()
        );
        assert_eq!(out.status.code(), Some(0), "{err}");
        assert!(err.contains("refused (ENOMEM)"), "{err}");
        assert!(err.contains("holds xsc-run's own image"), "{err}");
        assert!(
            err.contains("xsc-run maps nothing below 0x2aaaaaaaa000"),
            "{err}"
        );
    }
}

/// `xsc-cc -no-pie` gives a working non-PIE binary at 0x400000 (issue 26,
/// item 2: it got the static-pie start code and faulted at its first
/// instruction; then the installed xsc-run, itself a non-PIE binary at
/// 0x400000, refused it with exit status 126). Both runners leave its link
/// address free: it runs as its native build (`cc -static -no-pie`) does.
/// (The conformance case memory/non_pie_program_runs checks its layout.)
#[test]
fn a_non_pie_c_program_runs_as_natively() {
    let cc = xsc_home().join("bin/xsc-cc");
    let bin = tmp("non-pie-hello");
    let src = PathBuf::from(env!("CARGO_MANIFEST_DIR")).join("tests/data/non_pie_hello.c");
    run_ok(
        Command::new(&cc)
            .args(["-O1", "-no-pie", "-o"])
            .arg(&bin)
            .arg(&src),
    );
    let native = tmp("non-pie-hello.native");
    run_ok(
        Command::new("cc")
            .args(["-O1", "-static", "-no-pie", "-o"])
            .arg(&native)
            .arg(&src),
    );
    let expected = Command::new(&native).output().unwrap();
    assert_eq!(String::from_utf8_lossy(&expected.stdout), "non-PIE hello\n");
    for runner in [
        PathBuf::from(env!("CARGO_BIN_EXE_xsc-run")),
        installed_runner(),
    ] {
        let out = Command::new(&runner).arg(&bin).output().unwrap();
        let err = String::from_utf8_lossy(&out.stderr);
        assert_eq!(
            outcome(&out),
            outcome(&expected),
            "{}: {err}",
            runner.display()
        );
    }
}

/// Where a non-PIE program's link address is really taken by the runner,
/// it is refused with exit status 126 and a message naming what holds
/// the range and what to do. A C program linked with the usual code model
/// cannot sit that high (its addresses must fit in 32 bits), so the
/// binary is made here: an ELF header and one `PT_LOAD` at
/// 0x555555554000 (its code, a loop, never runs), unmarked, run with
/// `--allow-unmarked --allow-unverified`. With address randomisation off
/// (gdb's and `setarch -R`'s personality), this crate's runner, a
/// dynamically linked PIE, sits there: at `ELF_ET_DYN_BASE`.
#[test]
fn a_non_pie_program_over_the_runner_is_refused_with_a_clear_message() {
    use std::os::unix::fs::PermissionsExt;
    use std::os::unix::process::CommandExt;
    const BASE: u64 = 0x5555_5555_4000;
    let mut elf = Vec::new();
    elf.extend_from_slice(b"\x7fELF\x02\x01\x01\x00");
    elf.extend_from_slice(&[0; 8]);
    elf.extend_from_slice(&2u16.to_le_bytes()); // ET_EXEC
    elf.extend_from_slice(&62u16.to_le_bytes()); // EM_X86_64
    elf.extend_from_slice(&1u32.to_le_bytes());
    elf.extend_from_slice(&(BASE + 0x78).to_le_bytes()); // e_entry
    elf.extend_from_slice(&64u64.to_le_bytes()); // e_phoff
    elf.extend_from_slice(&0u64.to_le_bytes()); // e_shoff
    elf.extend_from_slice(&0u32.to_le_bytes());
    for half in [64u16, 56, 1, 0, 0, 0] {
        // e_ehsize, e_phentsize, e_phnum, e_shentsize, e_shnum, e_shstrndx
        elf.extend_from_slice(&half.to_le_bytes());
    }
    elf.extend_from_slice(&1u32.to_le_bytes()); // PT_LOAD
    elf.extend_from_slice(&5u32.to_le_bytes()); // R+X
    for word in [0, BASE, BASE, 0x80, 0x1000, 0x1000] {
        // p_offset, p_vaddr, p_paddr, p_filesz, p_memsz, p_align
        elf.extend_from_slice(&word.to_le_bytes());
    }
    elf.extend_from_slice(&[0xeb, 0xfe, 0, 0, 0, 0, 0, 0]); // jmp .
    assert_eq!(elf.len(), 0x80);
    let bin = tmp("non-pie-over-runner");
    std::fs::write(&bin, &elf).unwrap();
    std::fs::set_permissions(&bin, std::fs::Permissions::from_mode(0o755)).unwrap();
    let mut c = Command::new(env!("CARGO_BIN_EXE_xsc-run"));
    c.args(["--allow-unmarked", "--allow-unverified"]).arg(&bin);
    // SAFETY: personality only changes this child's persona before exec.
    unsafe {
        c.pre_exec(|| {
            libc::personality(libc::ADDR_NO_RANDOMIZE as libc::c_ulong);
            Ok(())
        });
    }
    let out = c.output().unwrap();
    let err = String::from_utf8_lossy(&out.stderr);
    assert_eq!(out.status.code(), Some(126), "{err}");
    assert!(out.stdout.is_empty(), "{err}");
    assert!(
        err.contains("at its link address [0x555555554000, 0x555555555000)"),
        "{err}"
    );
    assert!(err.contains("there holds xsc-run's own image"), "{err}");
    assert!(err.contains("Link it below 0x2aaaaaaaa000"), "{err}");
    assert!(err.contains("or as a static-pie"), "{err}");
}

/// Stdout and how a run ended, for comparisons.
fn outcome(out: &Output) -> (String, Option<i32>, Option<i32>) {
    (
        String::from_utf8_lossy(&out.stdout).into_owned(),
        out.status.code(),
        out.status.signal(),
    )
}

/// Docker's default profile semantics: the probe under the profile, run
/// natively (the profile loaded with the host's libseccomp, as runc loads
/// it) and as an XSC program under `xsc-run --seccomp-profile`, gives the
/// same results. Both run without CAP_SYS_ADMIN, as in a default container
/// (tests/data/seccomp_exec.c drops it), so the argument rules on clone
/// and clone3 are the ones in force. (x86_64 only: under qemu a profile
/// cannot be enforced, see the aarch64 test below.)
#[test]
fn docker_default_profile_semantics_match_native_libseccomp() {
    ensure_host_libseccomp();
    let launcher = build_native(Arch::X86_64, "seccomp_exec", &["-lseccomp"]);
    let native_probe = build_native(Arch::X86_64, "profile_probe", &["-lpthread"]);
    let profile_text = docker_default_profile();
    let profile = tmp("docker-default.json");
    std::fs::write(&profile, &profile_text).unwrap();
    const CAP_SYS_ADMIN: u64 = 1 << 21;
    let rules = tmp("docker-default.rules");
    std::fs::write(
        &rules,
        runtime_rules(&profile_text, effective_caps() & !CAP_SYS_ADMIN),
    )
    .unwrap();

    let native = Command::new(&launcher)
        .arg("--rules")
        .arg(&rules)
        .arg("--")
        .arg(&native_probe)
        .output()
        .unwrap();
    let unconfined = Command::new(&launcher)
        .arg("--")
        .arg(&native_probe)
        .output()
        .unwrap();
    let xsc = Command::new(&launcher)
        .arg("--")
        .arg(env!("CARGO_BIN_EXE_xsc-run"))
        .arg("--seccomp-profile")
        .arg(&profile)
        .arg(probe(Arch::X86_64))
        .output()
        .unwrap();
    assert!(
        native.status.success(),
        "{}",
        String::from_utf8_lossy(&native.stderr)
    );
    assert_ne!(
        outcome(&native),
        outcome(&unconfined),
        "the profile changes nothing natively: the probe tests nothing"
    );
    assert_eq!(
        outcome(&xsc),
        outcome(&native),
        "xsc-run stderr: {}",
        String::from_utf8_lossy(&xsc.stderr)
    );
}

/// `--audit` names the action a profile took: for a call the profile
/// refuses, the submit and result records say `errno` with the errno the
/// probe saw, taken by the profile, and the result is that error; allowed
/// calls say `allow`. Both a call the host judges (personality) and one
/// the runner serves itself (a clone with a namespace flag). (x86_64 only,
/// as the profile cannot be enforced under qemu.)
#[test]
fn the_audit_names_the_action_a_profile_took() {
    ensure_host_libseccomp();
    let launcher = build_native(Arch::X86_64, "seccomp_exec", &["-lseccomp"]);
    let profile = tmp("audited.json");
    std::fs::write(&profile, docker_default_profile()).unwrap();
    let audit = tmp("audited.jsonl");
    let _ = std::fs::remove_file(&audit);
    let out = run_ok(
        Command::new(&launcher)
            .arg("--")
            .arg(env!("CARGO_BIN_EXE_xsc-run"))
            .arg("--seccomp-profile")
            .arg(&profile)
            .arg(format!("--audit={}", audit.display()))
            .arg(probe(Arch::X86_64)),
    );
    let stdout = String::from_utf8_lossy(&out.stdout);
    let errno_seen = |what: &str| -> i64 {
        let line = stdout
            .lines()
            .find_map(|l| l.strip_prefix(&format!("{what}: ")))
            .unwrap_or_else(|| panic!("no {what} in {stdout}"));
        line.strip_prefix("-1 errno ")
            .unwrap_or_else(|| panic!("{what} was not refused: {line}"))
            .parse()
            .unwrap()
    };
    let records: Vec<serde_json::Value> = std::fs::read_to_string(&audit)
        .unwrap()
        .lines()
        .map(|l| serde_json::from_str(l).unwrap())
        .collect();
    let find = |event: &str, name: &str, arg0: u64| {
        records
            .iter()
            .find(|r| {
                r["event"] == event
                    && r["name"] == name
                    && r["args"][0].as_str() == Some(&format!("{arg0:#x}"))
            })
            .unwrap_or_else(|| panic!("no {event} record of {name}({arg0:#x})"))
    };
    const ADDR_NO_RANDOMIZE: u64 = 0x0040000;
    const CLONE_NEWUTS_SIGCHLD: u64 = 0x0400_0000 | 17;
    for (name, arg0, what) in [
        (
            "personality",
            ADDR_NO_RANDOMIZE,
            "personality(ADDR_NO_RANDOMIZE)",
        ),
        ("clone", CLONE_NEWUTS_SIGCHLD, "clone(CLONE_NEWUTS)"),
    ] {
        let errno = errno_seen(what);
        for event in ["submit", "result"] {
            let r = find(event, name, arg0);
            assert_eq!(r["action"], "errno", "{r}");
            assert_eq!(r["action_data"].as_i64(), Some(errno), "{r}");
            assert_eq!(r["action_by"], "profile", "{r}");
        }
        assert_eq!(find("result", name, arg0)["result"].as_i64(), Some(-errno));
    }
    let allowed = find("result", "personality", 0xffff_ffff);
    assert_eq!(allowed["action"], "allow", "{allowed}");
}

/// An XSC program that installs a filter and execs an XSC program: the
/// audit follows it into the new image (one file), the `execve` gets its
/// result record from the new runner, and the filter, which the host keeps
/// across exec, is still known to the new runner (the action it names is
/// the errno the program saw, the same as natively). (x86_64 only: under
/// qemu the filter cannot be installed, natively either, see
/// `on_aarch64_seccomp_is_unavailable_natively_and_for_xsc`.)
#[test]
fn the_audit_and_the_known_filters_follow_an_exec() {
    let xsc = build(Arch::X86_64, "exec_under_filter");
    let native = build_native(Arch::X86_64, "exec_under_filter", &[]);
    let audit = tmp("exec.jsonl");
    let _ = std::fs::remove_file(&audit);
    let x = Command::new(env!("CARGO_BIN_EXE_xsc-run"))
        .arg(format!("--audit={}", audit.display()))
        .arg(&xsc)
        .output()
        .unwrap();
    let n = Command::new(&native).output().unwrap();
    assert_eq!(
        outcome(&x),
        outcome(&n),
        "{}",
        String::from_utf8_lossy(&x.stderr)
    );
    let stdout = String::from_utf8_lossy(&n.stdout);
    let errno: i64 = stdout
        .trim()
        .rsplit_once("errno ")
        .and_then(|(_, e)| e.parse().ok())
        .unwrap_or_else(|| panic!("{stdout}"));
    assert_ne!(errno, 0, "the filter did not refuse natively: {stdout}");
    let records: Vec<serde_json::Value> = std::fs::read_to_string(&audit)
        .unwrap()
        .lines()
        .map(|l| serde_json::from_str(l).unwrap())
        .collect();
    let of = |event: &str, name: &str| -> Vec<&serde_json::Value> {
        records
            .iter()
            .filter(|r| r["event"] == event && r["name"] == name)
            .collect()
    };
    let (submits, results) = (of("submit", "execve"), of("result", "execve"));
    assert_eq!((submits.len(), results.len()), (1, 1), "{records:?}");
    assert_eq!(submits[0]["seq"], results[0]["seq"]);
    assert_eq!(results[0]["result"], 0);
    let getpgid = of("result", "getpgid");
    let after = getpgid
        .iter()
        .find(|r| r["args"][0] == "0x7")
        .unwrap_or_else(|| panic!("no getpgid(7) record: {records:?}"));
    assert_eq!(after["action"], "errno", "{after}");
    assert_eq!(after["action_data"].as_i64(), Some(errno), "{after}");
    assert_eq!(after["result"].as_i64(), Some(-errno), "{after}");
}

#[test]
fn a_bad_profile_is_refused_before_the_program_runs() {
    a_bad_profile_is_refused(Arch::X86_64);
}

#[test]
fn a_bad_profile_is_refused_before_the_aarch64_program_runs() {
    a_bad_profile_is_refused(Arch::Aarch64);
}

fn a_bad_profile_is_refused(arch: Arch) {
    let profile = tmp(&arch_name(arch, "bad.json"));
    std::fs::write(&profile, r#"{"defaultAction": "SCMP_ACT_NOTIFY"}"#).unwrap();
    profile_refused_before_the_run(arch, &profile, "SCMP_ACT_NOTIFY needs a listener");
}

/// xsc-run asked to enforce `profile` on the probe for `arch` refuses with
/// 126, saying `why`, before the program runs.
fn profile_refused_before_the_run(arch: Arch, profile: &std::path::Path, why: &str) {
    let out = Command::new(env!("CARGO_BIN_EXE_xsc-run"))
        .arg("--seccomp-profile")
        .arg(profile)
        .arg(probe(arch))
        .output()
        .unwrap();
    let err = String::from_utf8_lossy(&out.stderr);
    assert_eq!(out.status.code(), Some(126), "{err}");
    assert!(err.contains("cannot enforce the seccomp profile"), "{err}");
    assert!(err.contains(why), "{err}");
    assert!(out.stdout.is_empty(), "the program must not have run");
}

/// What happens on aarch64 instead of the seccomp tests above: qemu's user
/// mode has no seccomp (ENOSYS, docs/xsc-run.md §3.5). A program's own
/// filter (tests/data/exec_under_filter.c) fails to install natively (run
/// through binfmt_misc) and as an XSC program alike, with the same outcome;
/// and xsc-run, asked to enforce a valid profile, refuses before the
/// program runs instead of running it unconfined.
#[test]
fn on_aarch64_seccomp_is_unavailable_natively_and_for_xsc() {
    let arch = Arch::Aarch64;
    let native = Command::new(build_native(arch, "exec_under_filter", &[]))
        .output()
        .unwrap();
    // Exit status 3: the program's seccomp() call failed.
    assert_eq!(
        native.status.code(),
        Some(3),
        "the filter loaded natively under qemu: {}",
        String::from_utf8_lossy(&native.stdout)
    );
    let xsc = Command::new(env!("CARGO_BIN_EXE_xsc-run"))
        .arg(build(arch, "exec_under_filter"))
        .output()
        .unwrap();
    assert_eq!(
        outcome(&xsc),
        outcome(&native),
        "{}",
        String::from_utf8_lossy(&xsc.stderr)
    );

    let profile = tmp("docker-default.aarch64.json");
    std::fs::write(&profile, docker_default_profile()).unwrap();
    profile_refused_before_the_run(arch, &profile, "the kernel refused the filter");
}
