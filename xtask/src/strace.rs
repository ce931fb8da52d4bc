//! `cargo xtask strace-test`: what `strace` shows of an XSC program on the
//! XSC kernel against what it shows of the same source built natively
//! (static, against plain musl: the musl the host setup builds).
//!
//! strace is Debian's source (`apt-get source strace`), built natively and
//! statically once and kept in `$XSC_HOME/kernel/tools/strace`. The
//! programs are the conformance cases that run in one thread of one
//! process ([`PROGRAMS`]: with several, `strace -f` interleaves their
//! lines in an order that changes from run to run). Inside one VM (`xsc-vm`
//! running the XSC list driver `kernel/vm/run_list.c`) each build runs
//! under `strace -f`, the XSC builds inline and then in polled mode (a
//! traced thread gets no poller: the same lines); the traces must be equal
//! line for line once [`normalise`] has masked numbers and addresses.

use crate::cmd::{self, Result};
use regex::Regex;
use std::path::{Path, PathBuf};
use std::process::Command;

/// The conformance cases compared (`area/name`): one thread, one process.
pub const PROGRAMS: &[&str] = &[
    "exit/abort_raises_sigabrt",
    "identity/libc_setresuid_all_threads",
    "identity/setresuid_is_per_thread",
    "memory/huge_read_into_static_buffer",
    "memory/main_stack_overflow_faults",
    "memory/mmap_keeps_away_from_stack",
    "memory/rlimit_stack_at_exec",
    "memory/rlimit_stack_lowered_at_run_time",
    "proc/exe_link_aliases",
    "proc/readlink_bad_size",
    "proc/seccomp_strict_kills",
    "signals/futex_timeout_eintr",
    "signals/kill_self_delivered_before_return",
    "signals/rcvtimeo_recv_eintr",
    "signals/read_eintr_without_restart",
    "signals/sigaction_in_nested_handler",
    "signals/signalfd_sees_process_signal",
    "signals/signalfd_sees_raise",
    "signals/sigpipe_delivered_before_return",
    "signals/sndtimeo_send_eintr",
    "signals/timer_on_thread_cpu_clock",
    "stress/ring_calls_every_completion_checked",
];

/// strace's version, as Debian packages it (the cache's name).
const STRACE_CACHE: &str = "kernel/tools/strace";

/// A static strace built from Debian's source, cached.
pub fn strace() -> Result<PathBuf> {
    let home = std_xsc::xsc_home();
    let cached = home.join(STRACE_CACHE);
    if cached.is_file() {
        return Ok(cached);
    }
    let work = home.join("build/strace");
    let orig = cmd::debian_orig_tarball("strace", &work)?;
    cmd::run(Command::new("tar").arg("xf").arg(&orig).current_dir(&work))?;
    let src = std::fs::read_dir(&work)
        .map_err(|e| e.to_string())?
        .flatten()
        .map(|e| e.path())
        .find(|p| p.is_dir())
        .ok_or("the strace tarball held no folder")?;
    // strace 6.1 knows `struct nexthop_grp`'s byte as `resvd1`; the
    // kernel headers of a later Debian name it `weight_high`.
    let nh = src.join("src/rtnl_nh.c");
    let headers = std::fs::read_to_string("/usr/include/linux/nexthop.h").unwrap_or_default();
    if !headers.contains("resvd1") {
        if let Ok(text) = std::fs::read_to_string(&nh) {
            std::fs::write(&nh, text.replace("resvd1", "weight_high"))
                .map_err(|e| e.to_string())?;
        }
    }
    cmd::run(
        Command::new("./configure")
            .args([
                "--enable-mpers=no",
                "--disable-gcc-Werror",
                "--quiet",
                "LDFLAGS=-static",
            ])
            .current_dir(&src),
    )?;
    let jobs = std::thread::available_parallelism().map_or(2, |n| n.get());
    cmd::run(
        Command::new("make")
            .arg(format!("-j{jobs}"))
            .arg("-s")
            .current_dir(&src),
    )?;
    let dir = cached.parent().unwrap_or(Path::new("."));
    std::fs::create_dir_all(dir).map_err(|e| e.to_string())?;
    std::fs::copy(src.join("src/strace"), &cached).map_err(|e| e.to_string())?;
    let _ = std::fs::remove_dir_all(&work);
    eprintln!("xtask: built strace: {}", cached.display());
    Ok(cached)
}

/// A trace with what legitimately differs between two runs masked: the
/// program's folder (`a/` native, `b/` XSC), numbers and addresses,
/// string contents holding binary data (a pid inside a siginfo), and the
/// alignment of `=`. What the XSC C library does differently from plain
/// musl, by design, is said once here: the thread pointer is set with
/// `wrfsbase`, not `arch_prctl(ARCH_SET_FS)` (musl patch 0004); `open` is
/// made as `openat(AT_FDCWD, ...)` (patch 0010); the time functions are
/// not compared (natively they are in the vDSO); and the value
/// `rt_sigreturn` gives back is the interrupted transport call's, not the
/// interrupted operation's (whose result is in its completion).
pub fn normalise(trace: &str) -> Vec<String> {
    let pid = Regex::new(r"^\d+\s+").expect("regex");
    let time = Regex::new(r"^(clock_gettime|clock_gettime64|gettimeofday|time)\(").expect("regex");
    let sigreturn = Regex::new(r"^(rt_sigreturn\(.*\))\s+= .*$").expect("regex");
    let binary = Regex::new(r#""((?:[^"\\]|\\.)*\\(?:[^"\\]|\\.)*)""#).expect("regex");
    let folder = Regex::new(r#"(["/])[ab]([/"])"#).expect("regex");
    let hex = Regex::new(r"0x[0-9a-f]+").expect("regex");
    let num = Regex::new(r"\d+").expect("regex");
    let eq = Regex::new(r"\s+= ").expect("regex");
    let mut out = Vec::new();
    for line in trace.lines() {
        let l = pid.replace(line, "");
        if time.is_match(&l) || l.starts_with("arch_prctl(ARCH_SET_FS,") {
            continue;
        }
        let l = match l.strip_prefix("open(") {
            Some(rest) => format!("openat(AT_FDCWD, {rest}"),
            None => l.into_owned(),
        };
        let l = sigreturn.replace(&l, "$1 = RESTORED");
        let l = binary.replace_all(&l, "\"BYTES\"");
        let l = folder.replace_all(&l, "${1}D${2}");
        let l = hex.replace_all(&l, "ADDR");
        let l = num.replace_all(&l, "N");
        out.push(eq.replace_all(&l, " = ").into_owned());
    }
    out
}

/// The first lines where two normalised traces part.
fn difference(native: &[String], xsc: &[String]) -> String {
    let at = native
        .iter()
        .zip(xsc)
        .position(|(a, b)| a != b)
        .unwrap_or(native.len().min(xsc.len()));
    let show = |t: &[String]| t[at..t.len().min(at + 3)].join("\n      ");
    format!(
        "line {}:\n    native: {}\n    XSC:    {}",
        at + 1,
        show(native),
        show(xsc)
    )
}

pub fn check() -> Result {
    crate::kernel::build(crate::kernel::Flavour::Plain)?;
    let strace = strace()?;
    let xsc_vm = std_xsc::xsc_home().join("bin/xsc-vm");
    let musl_gcc = std_xsc::host_musl::linker(&std_xsc::xsc_home(), std_xsc::Arch::X86_64);
    let dir = cmd::root().join("target/strace-test");
    let _ = std::fs::remove_dir_all(&dir);
    for d in ["a", "b", "out"] {
        std::fs::create_dir_all(dir.join(d)).map_err(|e| e.to_string())?;
    }
    std::fs::copy(&strace, dir.join("strace")).map_err(|e| e.to_string())?;
    crate::vm::build_run_list(&dir.join("run_list"))?;
    let cases = conformance::cases_dir();
    let mut inline = String::new();
    let mut polled = String::new();
    for id in PROGRAMS {
        let name = id.rsplit('/').next().unwrap_or(id);
        let src = cases.join(format!("{id}.c"));
        // (XSC programs are static already.)
        for (cc, to, flags) in [
            (&musl_gcc, "a", &["-static"][..]),
            (&crate::vm::xsc_cc(), "b", &[][..]),
        ] {
            cmd::run(
                Command::new(cc)
                    .args(flags)
                    .args(["-O1", "-pthread", "-I"])
                    .arg(&cases)
                    .arg(&src)
                    .arg("-o")
                    .arg(dir.join(to).join(name)),
            )?;
        }
        let trace =
            |out: &str, bin: &str| format!("./strace -f -o out/{name}.{out} {bin}/{name}\n");
        inline.push_str(&trace("native", "a"));
        inline.push_str(&trace("xsc", "b"));
        polled.push_str(&trace("polled", "b"));
    }
    std::fs::write(dir.join("inline"), inline).map_err(|e| e.to_string())?;
    std::fs::write(dir.join("polled"), polled).map_err(|e| e.to_string())?;
    for (list, extra) in [("inline", None), ("polled", Some("200"))] {
        let mut c = Command::new(&xsc_vm);
        c.args(["--timeout", "600"]);
        if let Some(us) = extra {
            c.args(["--poll-us", us]);
        }
        cmd::run(
            c.args(["./run_list", list])
                .current_dir(&dir)
                .stdout(std::process::Stdio::null()),
        )?;
    }
    let read = |p: PathBuf| -> Result<Vec<String>> {
        std::fs::read_to_string(&p)
            .map(|t| normalise(&t))
            .map_err(|e| format!("{}: {e} (strace wrote no trace)", p.display()))
    };
    let mut failed = Vec::new();
    for id in PROGRAMS {
        let name = id.rsplit('/').next().unwrap_or(id);
        let native = read(dir.join(format!("out/{name}.native")))?;
        for mode in ["xsc", "polled"] {
            let xsc = read(dir.join(format!("out/{name}.{mode}")))?;
            if native == xsc {
                eprintln!(
                    "xtask: strace: {id} ({}): {} lines, same as native",
                    if mode == "xsc" { "inline" } else { "polled" },
                    native.len()
                );
            } else {
                failed.push(format!("{id} ({mode}): {}", difference(&native, &xsc)));
            }
        }
    }
    if failed.is_empty() {
        let _ = std::fs::remove_dir_all(&dir);
        eprintln!(
            "xtask: strace: {} programs, inline and polled: strace shows the XSC build's calls as the native build's",
            PROGRAMS.len()
        );
        Ok(())
    } else {
        Err(format!(
            "strace shows the XSC build differently from native (traces in {}):\n  {}",
            dir.display(),
            failed.join("\n  ")
        ))
    }
}

#[cfg(test)]
mod tests {
    use super::normalise;

    #[test]
    fn numbers_addresses_folders_and_libc_choices_are_masked() {
        let native = "execve(\"a/x\", [\"a/x\"], 0x7ffd /* 9 vars */) = 0\n\
                      readlink(\"a\", 0x1, 9) = -1 EINVAL (Invalid argument)\n\
                      arch_prctl(ARCH_SET_FS, 0x4066) = 0\n\
                      open(\"f\", O_RDONLY)   = 3\n\
                      clock_gettime(CLOCK_MONOTONIC, {tv_sec=1}) = 0\n\
                      read(3, \"\\f\\0\\0\", 128) = 128\n\
                      rt_sigreturn({mask=[]})  = -1 EINTR (Interrupted system call)\n";
        let xsc = "execve(\"b/x\", [\"b/x\"], 0x7fff /* 12 vars */) = 0\n\
                   readlink(\"b\", 0x2, 9) = -1 EINVAL (Invalid argument)\n\
                   openat(AT_FDCWD, \"f\", O_RDONLY) = 3\n\
                   read(3, \"\\f\\1\\0\", 128)            = 128\n\
                   rt_sigreturn({mask=[]}) = 0\n";
        assert_eq!(normalise(native), normalise(xsc));
    }

    #[test]
    fn a_different_call_or_result_is_not_masked() {
        assert_ne!(normalise("getppid() = 1\n"), normalise("getpid() = 1\n"));
        assert_ne!(
            normalise("read(3, \"\", 1) = 0\n"),
            normalise("read(3, \"\", 1) = -1 EINTR (Interrupted system call)\n")
        );
        assert_ne!(normalise("close(3) = 0\n"), normalise(""));
    }
}
