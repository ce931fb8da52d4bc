//! Container seccomp profiles: `xsc-run --seccomp-profile FILE` enforces an
//! OCI/Docker seccomp profile (the JSON runc, Docker and Kubernetes hand
//! the kernel) on every call of the program, as a container runtime does
//! for a native program.
//!
//! The profile is compiled to a classic-BPF filter, the way libseccomp
//! compiles it for runc (written here because libseccomp is a C library
//! this Rust-only kernel side does not link, and the subset profiles use is
//! small), and installed on the process before the program starts, beneath
//! any filter the program adds itself. Since every call of the program is
//! made by its own thread (inline consumption, docs/ABI.md §5.1), the
//! filter sees each one with the real number and arguments.
//!
//! Semantics (those of runc with libseccomp):
//! - `defaultAction` (with `defaultErrnoRet`) applies to calls no rule
//!   matches, and to calls of an architecture the profile does not list
//!   (there: a profile for another architecture lists none of ours);
//! - `syscalls` rules are tried in order; a rule matches a call if one of
//!   its `names` is the call and every `args` condition holds (`index`,
//!   `value`, `valueTwo`, `op` among `SCMP_CMP_NE`, `_LT`, `_LE`, `_EQ`,
//!   `_GE`, `_GT`, `_MASKED_EQ`, compared as unsigned 64-bit values);
//! - a rule's `includes` / `excludes` (`caps`, `arches`, `minKernel`) decide
//!   whether the rule is part of the filter at all, as Docker decides: caps
//!   against the effective capabilities of `xsc-run`, arches against
//!   `amd64`/`x86_64`, minKernel against the running kernel;
//! - names this architecture does not have are skipped, as libseccomp
//!   skips them;
//! - actions: `SCMP_ACT_ALLOW`, `_ERRNO` (`errnoRet`, default EPERM),
//!   `_KILL`/`_KILL_THREAD`, `_KILL_PROCESS`, `_TRAP`, `_TRACE`, `_LOG`;
//!   `SCMP_ACT_NOTIFY` needs a listener handed to a supervisor, which a
//!   profile file cannot give: refused with a clear error.

use crate::bpf::{self, Asm, To};
use serde::Deserialize;

#[derive(Deserialize, Debug)]
#[serde(rename_all = "camelCase")]
pub struct Profile {
    pub default_action: String,
    #[serde(default)]
    pub default_errno_ret: Option<u32>,
    #[serde(default)]
    pub architectures: Vec<String>,
    #[serde(default)]
    pub syscalls: Vec<Rule>,
}

#[derive(Deserialize, Debug)]
#[serde(rename_all = "camelCase")]
pub struct Rule {
    #[serde(default)]
    pub names: Vec<String>,
    /// The older single-name form.
    #[serde(default)]
    pub name: Option<String>,
    pub action: String,
    #[serde(default)]
    pub errno_ret: Option<u32>,
    #[serde(default)]
    pub args: Option<Vec<Arg>>,
    #[serde(default)]
    pub includes: Filter,
    #[serde(default)]
    pub excludes: Filter,
}

#[derive(Deserialize, Debug, Clone, Copy)]
#[serde(rename_all = "camelCase")]
pub struct Arg {
    pub index: u32,
    pub value: u64,
    #[serde(default)]
    pub value_two: u64,
    pub op: Op,
}

#[derive(Deserialize, Debug, Clone, Copy, PartialEq, Eq)]
pub enum Op {
    #[serde(rename = "SCMP_CMP_NE")]
    Ne,
    #[serde(rename = "SCMP_CMP_LT")]
    Lt,
    #[serde(rename = "SCMP_CMP_LE")]
    Le,
    #[serde(rename = "SCMP_CMP_EQ")]
    Eq,
    #[serde(rename = "SCMP_CMP_GE")]
    Ge,
    #[serde(rename = "SCMP_CMP_GT")]
    Gt,
    #[serde(rename = "SCMP_CMP_MASKED_EQ")]
    MaskedEq,
}

#[derive(Deserialize, Debug, Default)]
#[serde(rename_all = "camelCase")]
pub struct Filter {
    #[serde(default)]
    pub caps: Vec<String>,
    #[serde(default)]
    pub arches: Vec<String>,
    #[serde(default)]
    pub min_kernel: Option<String>,
}

/// What the rules' includes/excludes are decided against.
pub struct Host {
    /// Effective capabilities, as a bit set (`CAP_*` numbers).
    pub caps: u64,
    /// The running kernel's (major, minor).
    pub kernel: (u32, u32),
}

impl Host {
    /// This process's effective capabilities and the running kernel.
    pub fn current() -> Host {
        Host {
            caps: effective_caps(),
            kernel: kernel_version(),
        }
    }
}

fn effective_caps() -> u64 {
    // /proc/self/status's CapEff is the effective set in hex.
    std::fs::read_to_string("/proc/self/status")
        .ok()
        .and_then(|s| {
            s.lines()
                .find_map(|l| l.strip_prefix("CapEff:"))
                .and_then(|v| u64::from_str_radix(v.trim(), 16).ok())
        })
        .unwrap_or(0)
}

fn kernel_version() -> (u32, u32) {
    std::fs::read_to_string("/proc/sys/kernel/osrelease")
        .ok()
        .and_then(|r| parse_version(r.trim()))
        .unwrap_or((0, 0))
}

fn parse_version(v: &str) -> Option<(u32, u32)> {
    let mut it = v.split(|c: char| !c.is_ascii_digit());
    Some((it.next()?.parse().ok()?, it.next()?.parse().ok()?))
}

/// The capability names Docker profiles use, by number (linux/capability.h).
const CAPS: &[&str] = &[
    "CAP_CHOWN",
    "CAP_DAC_OVERRIDE",
    "CAP_DAC_READ_SEARCH",
    "CAP_FOWNER",
    "CAP_FSETID",
    "CAP_KILL",
    "CAP_SETGID",
    "CAP_SETUID",
    "CAP_SETPCAP",
    "CAP_LINUX_IMMUTABLE",
    "CAP_NET_BIND_SERVICE",
    "CAP_NET_BROADCAST",
    "CAP_NET_ADMIN",
    "CAP_NET_RAW",
    "CAP_IPC_LOCK",
    "CAP_IPC_OWNER",
    "CAP_SYS_MODULE",
    "CAP_SYS_RAWIO",
    "CAP_SYS_CHROOT",
    "CAP_SYS_PTRACE",
    "CAP_SYS_PACCT",
    "CAP_SYS_ADMIN",
    "CAP_SYS_BOOT",
    "CAP_SYS_NICE",
    "CAP_SYS_RESOURCE",
    "CAP_SYS_TIME",
    "CAP_SYS_TTY_CONFIG",
    "CAP_MKNOD",
    "CAP_LEASE",
    "CAP_AUDIT_WRITE",
    "CAP_AUDIT_CONTROL",
    "CAP_SETFCAP",
    "CAP_MAC_OVERRIDE",
    "CAP_MAC_ADMIN",
    "CAP_SYSLOG",
    "CAP_WAKE_ALARM",
    "CAP_BLOCK_SUSPEND",
    "CAP_AUDIT_READ",
    "CAP_PERFMON",
    "CAP_BPF",
    "CAP_CHECKPOINT_RESTORE",
];

/// Our architecture's names in profiles (`SCMP_ARCH_*`, and Go's and
/// uname's in `includes.arches`).
const OUR_SCMP_ARCH: &str = crate::arch::SCMP_ARCH;
const OUR_ARCH_NAMES: &[&str] = crate::arch::ARCH_NAMES;

impl Filter {
    /// Does the host have everything this filter names? (An empty filter
    /// names nothing, so it holds.)
    fn holds(&self, host: &Host) -> Result<bool, String> {
        for c in &self.caps {
            let n = CAPS
                .iter()
                .position(|k| k == c)
                .ok_or_else(|| format!("unknown capability {c:?}"))?;
            if host.caps & (1 << n) == 0 {
                return Ok(false);
            }
        }
        if !self.arches.is_empty()
            && !self
                .arches
                .iter()
                .any(|a| OUR_ARCH_NAMES.contains(&a.as_str()))
        {
            return Ok(false);
        }
        if let Some(v) = &self.min_kernel {
            let want = parse_version(v).ok_or_else(|| format!("bad minKernel {v:?}"))?;
            if host.kernel < want {
                return Ok(false);
            }
        }
        Ok(true)
    }

    fn is_empty(&self) -> bool {
        self.caps.is_empty() && self.arches.is_empty() && self.min_kernel.is_none()
    }
}

/// The seccomp return value of a profile action.
fn action(name: &str, errno: Option<u32>) -> Result<u32, String> {
    let errno = errno.unwrap_or(libc::EPERM as u32) & libc::SECCOMP_RET_DATA;
    Ok(match name {
        "SCMP_ACT_ALLOW" => libc::SECCOMP_RET_ALLOW,
        "SCMP_ACT_ERRNO" => libc::SECCOMP_RET_ERRNO | errno,
        "SCMP_ACT_KILL" | "SCMP_ACT_KILL_THREAD" => libc::SECCOMP_RET_KILL_THREAD,
        "SCMP_ACT_KILL_PROCESS" => libc::SECCOMP_RET_KILL_PROCESS,
        "SCMP_ACT_TRAP" => libc::SECCOMP_RET_TRAP,
        "SCMP_ACT_TRACE" => libc::SECCOMP_RET_TRACE | errno,
        "SCMP_ACT_LOG" => libc::SECCOMP_RET_LOG,
        "SCMP_ACT_NOTIFY" => {
            return Err(
                "SCMP_ACT_NOTIFY needs a listener handed to a supervisor, which a profile file cannot give"
                    .into(),
            )
        }
        other => return Err(format!("unknown action {other:?}")),
    })
}

/// Parses a profile (JSON text).
pub fn parse(text: &str) -> Result<Profile, String> {
    serde_json::from_str(text).map_err(|e| format!("not a seccomp profile: {e}"))
}

/// Compiles a profile into a filter for this architecture.
pub fn compile(p: &Profile, host: &Host) -> Result<Vec<libc::sock_filter>, String> {
    let default = action(&p.default_action, p.default_errno_ret)?;
    let mut a = Asm::default();
    let default_label = a.label();
    let ours = p.architectures.is_empty() || p.architectures.iter().any(|x| x == OUR_SCMP_ARCH);
    a.op(bpf::LD_W_ABS, bpf::ARCH);
    if ours {
        let next = a.label();
        a.jump(bpf::JEQ, crate::arch::AUDIT_ARCH, To::Label(next), To::Next);
        a.ja(default_label);
        a.bind(next);
    } else {
        a.ja(default_label);
    }
    for rule in &p.syscalls {
        if !rule.includes.holds(host)?
            || (!rule.excludes.is_empty() && rule.excludes.holds(host)?)
        {
            continue;
        }
        let ret = action(&rule.action, rule.errno_ret.or(p.default_errno_ret))?;
        let args = rule.args.as_deref().unwrap_or(&[]);
        if let Some(bad) = args.iter().find(|c| c.index > 5) {
            return Err(format!("argument index {} out of range", bad.index));
        }
        for name in rule.names.iter().chain(rule.name.as_ref()) {
            let Ok(nr) = name.parse::<crate::arch::Sysno>() else {
                continue; // not a system call of this architecture
            };
            let next = a.label();
            a.op(bpf::LD_W_ABS, bpf::NR);
            let body = a.label();
            a.jump(bpf::JEQ, nr as u32, To::Label(body), To::Next);
            a.ja(next);
            a.bind(body);
            for c in args {
                condition(&mut a, *c, next);
            }
            a.op(bpf::RET, ret);
            a.bind(next);
        }
    }
    a.bind(default_label);
    a.op(bpf::RET, default);
    if a.len() > libc::BPF_MAXINSNS as usize {
        return Err(format!(
            "the profile compiles to {} instructions, more than the kernel's {}",
            a.len(),
            libc::BPF_MAXINSNS
        ));
    }
    a.finish()
}

/// Emits a check of one argument condition: falls through when it holds,
/// jumps to `fail` when not. 64-bit comparisons as two 32-bit ones.
fn condition(a: &mut Asm, c: Arg, fail: usize) {
    let (lo, hi) = (bpf::arg_lo(c.index), bpf::arg_lo(c.index) + 4);
    let (vhi, vlo) = ((c.value >> 32) as u32, c.value as u32);
    let (t, f) = (a.label(), a.label());
    let (lt, lf) = (To::Label(t), To::Label(f));
    use bpf::{JEQ, JGE, JGT, LD_W_ABS};
    match c.op {
        Op::Eq => {
            a.op(LD_W_ABS, hi);
            a.jump(JEQ, vhi, To::Next, lf);
            a.op(LD_W_ABS, lo);
            a.jump(JEQ, vlo, lt, lf);
        }
        Op::Ne => {
            a.op(LD_W_ABS, hi);
            a.jump(JEQ, vhi, To::Next, lt);
            a.op(LD_W_ABS, lo);
            a.jump(JEQ, vlo, lf, lt);
        }
        Op::Gt | Op::Ge => {
            a.op(LD_W_ABS, hi);
            a.jump(JGT, vhi, lt, To::Next);
            a.jump(JEQ, vhi, To::Next, lf);
            a.op(LD_W_ABS, lo);
            a.jump(if c.op == Op::Gt { JGT } else { JGE }, vlo, lt, lf);
        }
        Op::Lt | Op::Le => {
            // x < v is !(x >= v); x <= v is !(x > v).
            a.op(LD_W_ABS, hi);
            a.jump(JGT, vhi, lf, To::Next);
            a.jump(JEQ, vhi, To::Next, lt);
            a.op(LD_W_ABS, lo);
            a.jump(if c.op == Op::Lt { JGE } else { JGT }, vlo, lf, lt);
        }
        Op::MaskedEq => {
            let (whi, wlo) = ((c.value_two >> 32) as u32, c.value_two as u32);
            a.op(LD_W_ABS, hi);
            a.op(bpf::AND, vhi);
            a.jump(JEQ, whi, To::Next, lf);
            a.op(LD_W_ABS, lo);
            a.op(bpf::AND, vlo);
            a.jump(JEQ, wlo, lt, lf);
        }
    }
    a.bind(f);
    a.ja(fail);
    a.bind(t);
}

/// Reads, compiles and installs the profile at `path` on every thread of
/// the process. Without CAP_SYS_ADMIN, `no_new_privs` is set first, as runc
/// does.
pub fn install(path: &std::path::Path) -> Result<Vec<libc::sock_filter>, String> {
    let text = std::fs::read_to_string(path).map_err(|e| format!("{}: {e}", path.display()))?;
    let profile = parse(&text).map_err(|e| format!("{}: {e}", path.display()))?;
    let host = Host::current();
    let prog = compile(&profile, &host).map_err(|e| format!("{}: {e}", path.display()))?;
    const CAP_SYS_ADMIN: u32 = 21;
    bpf::install(&prog, host.caps & (1 << CAP_SYS_ADMIN) == 0).map_err(|e| match e {
        bpf::InstallError::NoNewPrivs(e) => format!("no_new_privs: {e}"),
        bpf::InstallError::Seccomp(e) => {
            format!("{}: the kernel refused the filter: {e}", path.display())
        }
    })?;
    Ok(prog)
}

#[cfg(test)]
mod tests {
    use super::*;

    const X64: u32 = crate::bpf::AUDIT_ARCH_X86_64;
    const ALLOW: u32 = libc::SECCOMP_RET_ALLOW;
    const EPERM: u32 = libc::SECCOMP_RET_ERRNO | libc::EPERM as u32;

    fn host() -> Host {
        Host {
            caps: 1 << 21, // CAP_SYS_ADMIN
            kernel: (6, 1),
        }
    }

    fn filter(json: &str) -> Vec<libc::sock_filter> {
        compile(&parse(json).unwrap(), &host()).unwrap()
    }

    fn nr(name: &str) -> u32 {
        name.parse::<crate::arch::Sysno>().unwrap() as u32
    }

    /// Every comparison, on values around the boundaries of both 32-bit
    /// halves, agrees with the same comparison made on u64 here.
    #[test]
    fn argument_conditions_compare_64_bit_values() {
        let edges = [
            0u64,
            1,
            0xffff_ffff,
            0x1_0000_0000,
            0x1_0000_0001,
            0x7fff_ffff_ffff_ffff,
            u64::MAX,
            0x5555_0000_1234,
        ];
        let ops = [
            ("SCMP_CMP_EQ", Op::Eq),
            ("SCMP_CMP_NE", Op::Ne),
            ("SCMP_CMP_LT", Op::Lt),
            ("SCMP_CMP_LE", Op::Le),
            ("SCMP_CMP_GT", Op::Gt),
            ("SCMP_CMP_GE", Op::Ge),
            ("SCMP_CMP_MASKED_EQ", Op::MaskedEq),
        ];
        for (name, op) in ops {
            for &v in &edges {
                for &two in &[0u64, 0x1_0000_0000, 0x1234] {
                    let json = format!(
                        r#"{{"defaultAction":"SCMP_ACT_ERRNO","syscalls":[{{"names":["getppid"],"action":"SCMP_ACT_ALLOW","args":[{{"index":2,"value":{v},"valueTwo":{two},"op":"{name}"}}]}}]}}"#
                    );
                    let p = filter(&json);
                    for &x in &edges {
                        let want = match op {
                            Op::Eq => x == v,
                            Op::Ne => x != v,
                            Op::Lt => x < v,
                            Op::Le => x <= v,
                            Op::Gt => x > v,
                            Op::Ge => x >= v,
                            Op::MaskedEq => x & v == two,
                        };
                        let got = bpf::run(&p, nr("getppid"), X64, 0, [0, 0, x, 0, 0, 0]);
                        assert_eq!(got == ALLOW, want, "{name} {x:#x} vs {v:#x} ({two:#x})");
                    }
                }
            }
        }
    }

    #[test]
    fn rules_default_and_architecture() {
        let p = filter(
            r#"{
              "defaultAction": "SCMP_ACT_ERRNO",
              "defaultErrnoRet": 1,
              "architectures": ["SCMP_ARCH_X86_64", "SCMP_ARCH_X86"],
              "syscalls": [
                {"names": ["read", "write", "no_such_call"], "action": "SCMP_ACT_ALLOW"},
                {"names": ["mkdir"], "action": "SCMP_ACT_ERRNO", "errnoRet": 13},
                {"names": ["getppid"], "action": "SCMP_ACT_TRAP"},
                {"names": ["reboot"], "action": "SCMP_ACT_KILL_PROCESS"},
                {"names": ["getpid"], "action": "SCMP_ACT_LOG"},
                {"names": ["getuid"], "action": "SCMP_ACT_ALLOW",
                 "includes": {"caps": ["CAP_SYS_BOOT"]}},
                {"names": ["getgid"], "action": "SCMP_ACT_ALLOW",
                 "includes": {"minKernel": "6.2"}},
                {"names": ["geteuid"], "action": "SCMP_ACT_ALLOW",
                 "includes": {"arches": ["arm64"]}},
                {"names": ["getegid"], "action": "SCMP_ACT_ALLOW",
                 "excludes": {"caps": ["CAP_SYS_ADMIN"]}},
                {"names": ["gettid"], "action": "SCMP_ACT_ALLOW",
                 "includes": {"caps": ["CAP_SYS_ADMIN"], "minKernel": "4.8", "arches": ["amd64"]}},
                {"names": ["read"], "action": "SCMP_ACT_KILL"}
              ]
            }"#,
        );
        let run = |name: &str| bpf::run(&p, nr(name), X64, 0, [0; 6]);
        assert_eq!(run("read"), ALLOW, "the first matching rule wins");
        assert_eq!(run("write"), ALLOW);
        assert_eq!(run("mkdir"), libc::SECCOMP_RET_ERRNO | 13);
        assert_eq!(run("getppid"), libc::SECCOMP_RET_TRAP);
        assert_eq!(run("reboot"), libc::SECCOMP_RET_KILL_PROCESS);
        assert_eq!(run("getpid"), libc::SECCOMP_RET_LOG);
        assert_eq!(run("getuid"), EPERM, "a capability the host lacks");
        assert_eq!(run("getgid"), EPERM, "a newer kernel than the host's");
        assert_eq!(run("geteuid"), EPERM, "another architecture's rule");
        assert_eq!(run("getegid"), EPERM, "excluded for a host with the cap");
        assert_eq!(run("gettid"), ALLOW);
        assert_eq!(run("close"), EPERM, "the default action");
        // Another architecture's calls get the default.
        assert_eq!(bpf::run(&p, nr("read"), 0x4000_0003, 0, [0; 6]), EPERM);
    }

    #[test]
    fn bad_profiles_are_refused_with_the_reason() {
        let err = |json: &str| parse(json).and_then(|p| compile(&p, &host())).unwrap_err();
        assert!(err("{").contains("not a seccomp profile"));
        assert!(err(r#"{"defaultAction":"SCMP_ACT_NOTIFY"}"#).contains("listener"));
        assert!(err(r#"{"defaultAction":"SCMP_ACT_MAYBE"}"#).contains("unknown action"));
        assert!(err(
            r#"{"defaultAction":"SCMP_ACT_ALLOW","syscalls":[{"names":["read"],"action":"SCMP_ACT_ALLOW","args":[{"index":6,"value":0,"op":"SCMP_CMP_EQ"}]}]}"#
        )
        .contains("index 6"));
        assert!(err(
            r#"{"defaultAction":"SCMP_ACT_ALLOW","syscalls":[{"names":["read"],"action":"SCMP_ACT_ALLOW","includes":{"caps":["CAP_TELEPATHY"]}}]}"#
        )
        .contains("CAP_TELEPATHY"));
    }

    #[test]
    fn a_docker_sized_profile_fits_the_kernel_limit() {
        // Every system call allowed by name, as Docker's default profile
        // allows some 350: long programs need `ja` for far jumps.
        let names: Vec<String> = (0..512)
            .filter_map(crate::arch::Sysno::new)
            .map(|s| format!("\"{}\"", s.name()))
            .collect();
        let p = filter(&format!(
            r#"{{"defaultAction":"SCMP_ACT_ERRNO","syscalls":[{{"names":[{}],"action":"SCMP_ACT_ALLOW"}}]}}"#,
            names.join(",")
        ));
        assert!(p.len() > 1000 && p.len() <= libc::BPF_MAXINSNS as usize);
        assert_eq!(bpf::run(&p, nr("write"), X64, 0, [0; 6]), ALLOW);
        assert_eq!(bpf::run(&p, 999, X64, 0, [0; 6]), EPERM);
    }
}
