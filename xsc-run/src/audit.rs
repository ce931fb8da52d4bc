//! `--audit[=FILE]`: an audit trail of the program's operations, one JSON
//! object per line, the XSC counterparts of Linux's syscall audit records
//! (`AUDIT_XSC_SUBMIT` and `AUDIT_XSC_RESULT` in the design this comes from):
//!
//! - `"event":"submit"` when the kernel takes an entry (dequeues a ring
//!   entry, or receives a `thread_call`), before it executes;
//! - `"event":"result"` when it completes (`"result":null` for `exit` and
//!   `exit_group`, written before they run; an `execve` that starts an XSC
//!   program gets its result from the new program's runner).
//!
//! Both carry the time, pid, tid, arch, number and name, the six raw
//! arguments, the arguments decoded as `--trace` shows them (one decoder,
//! crate::trace::decode), how the entry came (`ring` or `thread_call`) and
//! the action the seccomp filters take for it (crate::filters); the result
//! adds the value and, for an error, its name. `seq` numbers the entries of
//! a process: a submit and its result share `pid` and `seq`.
//!
//! JSON through serde_json (already a dependency for the seccomp
//! profiles), so every string is escaped correctly; records are written
//! with one `write` each, on a descriptor opened with `O_APPEND`.

use crate::filters::{self, Origin, Verdict};
use crate::ops::Context;
use crate::thread::KernelThread;
use crate::trace::{self, Sink};
use serde::Serialize;
use std::sync::atomic::{AtomicU64, Ordering};
use xsc_abi::SubmissionEntry;

/// Where the audit goes.
pub static AUDIT: Sink = Sink::new();
/// The last `seq` given out in this process.
static SEQ: AtomicU64 = AtomicU64::new(0);

#[inline]
pub fn enabled() -> bool {
    AUDIT.enabled()
}

/// The entry a thread is executing, as its submit record described it: a
/// signal handler's calls nest inside, so the caller of [`submit`] keeps
/// the value it returns and gives it back to [`restore`] afterwards.
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq)]
pub struct Current {
    seq: u64,
    /// `Meta::pack`.
    meta: u64,
}

impl Current {
    pub fn from_parts(seq: u64, meta: u64) -> Current {
        Current { seq, meta }
    }

    pub fn parts(self) -> (u64, u64) {
        (self.seq, self.meta)
    }
}

/// What the result record repeats from the submit record.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
struct Meta {
    verdict: Option<Verdict>,
    via: Context,
}

impl Meta {
    fn pack(self) -> u64 {
        let (ret, by, judged) = match self.verdict {
            Some(v) => (v.ret, v.by.map_or(0, |o| o as u64 + 1), 1),
            None => (0, 0, 0),
        };
        let via = (self.via == Context::ThreadCall) as u64;
        ret as u64 | by << 32 | judged << 40 | via << 41
    }

    fn unpack(m: u64) -> Meta {
        let by = match (m >> 32) & 0xff {
            1 => Some(Origin::Profile),
            2 => Some(Origin::Program),
            3 => Some(Origin::Strict),
            _ => None,
        };
        Meta {
            verdict: (m >> 40 & 1 == 1).then_some(Verdict { ret: m as u32, by }),
            via: if m >> 41 & 1 == 1 {
                Context::ThreadCall
            } else {
                Context::Ring
            },
        }
    }
}

/// Opens the audit trail: FILE (created with mode 0600 if missing, and
/// appended to), or the runner's standard error for `-`.
pub fn open(dest: &str) -> std::io::Result<()> {
    use std::os::fd::IntoRawFd;
    use std::os::unix::fs::OpenOptionsExt;
    if dest == "-" {
        return AUDIT.open(2);
    }
    let f = std::fs::OpenOptions::new()
        .append(true)
        .create(true)
        .mode(0o600)
        .custom_flags(libc::O_CLOEXEC)
        .open(dest)?;
    AUDIT.open(f.into_raw_fd())
}

/// Audits to a descriptor inherited from the runner that exec'd this one.
pub fn adopt(fd: i32) -> std::io::Result<()> {
    AUDIT.open(fd)
}

/// One record. Fields left out of a record are `None`.
#[derive(Serialize)]
struct Record<'a> {
    event: &'static str,
    seq: u64,
    time: String,
    pid: i32,
    tid: i32,
    arch: &'static str,
    nr: u32,
    name: &'a str,
    /// The six raw arguments, in hex (exact, whatever reads them).
    args: [String; 6],
    #[serde(skip_serializing_if = "Option::is_none")]
    decoded: Option<&'a [String]>,
    via: &'static str,
    #[serde(skip_serializing_if = "Option::is_none")]
    action: Option<&'static str>,
    #[serde(skip_serializing_if = "Option::is_none")]
    action_data: Option<u32>,
    #[serde(skip_serializing_if = "Option::is_none")]
    action_by: Option<&'static str>,
    /// Result records only: the value (`null`: the operation does not
    /// return).
    #[serde(skip_serializing_if = "Option::is_none")]
    result: Option<Option<i64>>,
    #[serde(skip_serializing_if = "Option::is_none")]
    errno: Option<&'static str>,
    #[serde(skip_serializing_if = "Option::is_none")]
    rejected: Option<&'a str>,
}

/// The time now, RFC 3339 in UTC with nanoseconds.
fn now() -> String {
    let mut ts = libc::timespec {
        tv_sec: 0,
        tv_nsec: 0,
    };
    // SAFETY: writes the timespec we own.
    unsafe { libc::clock_gettime(libc::CLOCK_REALTIME, &mut ts) };
    rfc3339(ts.tv_sec, ts.tv_nsec as u32)
}

fn rfc3339(secs: i64, nanos: u32) -> String {
    let (days, rem) = (secs.div_euclid(86_400), secs.rem_euclid(86_400));
    // Howard Hinnant's civil_from_days.
    let z = days + 719_468;
    let era = z.div_euclid(146_097);
    let doe = z.rem_euclid(146_097);
    let yoe = (doe - doe / 1460 + doe / 36_524 - doe / 146_096) / 365;
    let doy = doe - (365 * yoe + yoe / 4 - yoe / 100);
    let mp = (5 * doy + 2) / 153;
    let day = doy - (153 * mp + 2) / 5 + 1;
    let month = if mp < 10 { mp + 3 } else { mp - 9 };
    let year = yoe + era * 400 + (month <= 2) as i64;
    format!(
        "{year:04}-{month:02}-{day:02}T{:02}:{:02}:{:02}.{nanos:09}Z",
        rem / 3600,
        rem / 60 % 60,
        rem % 60
    )
}

/// The address the host kernel reports as a call's instruction pointer
/// (`seccomp_data.instruction_pointer`): right after the kernel side's
/// system-call instruction, which makes every call of the program.
fn call_ip() -> u64 {
    crate::arch::xsc_kernel_syscall6_ret as *const () as u64
}

#[allow(clippy::too_many_arguments)]
fn write_record(
    event: &'static str,
    seq: u64,
    tid: i32,
    sqe: &SubmissionEntry,
    decoded: Option<&[String]>,
    meta: Meta,
    result: Option<Option<i64>>,
    rejected: Option<&str>,
) {
    let name = trace::name_of(sqe.opcode)
        .map(str::to_string)
        .unwrap_or_else(|| format!("syscall_{:#x}", sqe.opcode));
    let errno = result
        .flatten()
        .and_then(trace::errno_of)
        .and_then(|e| e.name());
    let record = Record {
        event,
        seq,
        time: now(),
        pid: crate::process::PROCESS.pid(),
        tid,
        arch: crate::arch::MACHINE_NAME,
        nr: sqe.opcode,
        name: &name,
        args: sqe.args.map(|a| format!("{a:#x}")),
        decoded,
        via: match meta.via {
            Context::Ring => "ring",
            Context::ThreadCall => "thread_call",
        },
        action: meta.verdict.map(|v| v.action()),
        action_data: meta.verdict.and_then(|v| v.data()),
        action_by: meta.verdict.and_then(|v| v.by).map(Origin::name),
        result,
        errno,
        rejected,
    };
    if let Ok(mut line) = serde_json::to_vec(&record) {
        line.push(b'\n');
        AUDIT.write(&line);
    }
}

/// An entry taken by the kernel, before it executes: writes its submit
/// record and makes it the thread's current entry. Returns the entry it
/// replaces, for [`restore`] once the result is written (None when not
/// auditing).
pub fn submit(kt: &KernelThread, sqe: &SubmissionEntry, via: Context) -> Option<Current> {
    if !enabled() {
        return None;
    }
    // Rejected entries are not executed, so no filter judges them.
    let verdict = crate::ops::reject(sqe, via)
        .is_none()
        .then(|| filters::judge(kt.filters.head(), sqe.opcode, call_ip(), sqe.args));
    let meta = Meta { verdict, via };
    let seq = SEQ.fetch_add(1, Ordering::Relaxed) + 1;
    let prev = kt.audit_current();
    kt.set_audit_current(Current {
        seq,
        meta: meta.pack(),
    });
    let d = trace::decode(sqe, None);
    let tid = kt.tid.load(Ordering::Relaxed);
    write_record("submit", seq, tid, sqe, Some(&d.args), meta, None, None);
    Some(prev)
}

/// Gives the thread back the entry [`submit`] replaced.
pub fn restore(kt: &KernelThread, prev: Option<Current>) {
    if let Some(p) = prev {
        kt.set_audit_current(p);
    }
}

/// Is this the return of a new process (fork, vfork, clone without
/// CLONE_THREAD) in the child? Its entry was the parent's, which writes
/// the result record; as with Linux's audit, the child writes none.
fn is_child_return(sqe: &SubmissionEntry, result: Option<i64>) -> bool {
    use crate::arch::{nr, FORK_OPS};
    result == Some(0)
        && (FORK_OPS.contains(&sqe.opcode)
            || (sqe.opcode == nr::CLONE && sqe.args[0] & libc::CLONE_THREAD as u64 == 0))
}

/// The result record of the thread's current entry.
pub fn result(
    kt: &KernelThread,
    sqe: &SubmissionEntry,
    result: Option<i64>,
    rejected: Option<&str>,
) {
    if !enabled() || is_child_return(sqe, result) {
        return;
    }
    let cur = kt.audit_current();
    let d = trace::decode(sqe, result);
    let tid = kt.tid.load(Ordering::Relaxed);
    let meta = Meta::unpack(cur.meta);
    write_record(
        "result",
        cur.seq,
        tid,
        sqe,
        Some(&d.args),
        meta,
        Some(result),
        rejected,
    );
}

/// An operation that does not return, before it runs: `exit` and
/// `exit_group` get a result record with `"result":null`. `execve` gets
/// one when it fails (as a completed operation) or, when it starts an XSC
/// program, from the new runner ([`exec_options`]).
pub fn noreturn(kt: &KernelThread, sqe: &SubmissionEntry) {
    use crate::arch::nr;
    if !matches!(sqe.opcode, nr::EXECVE | nr::EXECVEAT) {
        result(kt, sqe, None, None);
    }
}

/// A ring error (ABI §4.6): no entry, a record of its own.
pub fn ring_error(kt: &KernelThread, head: u32, tail: u32) {
    if !enabled() {
        return;
    }
    #[derive(Serialize)]
    struct RingError {
        event: &'static str,
        time: String,
        pid: i32,
        tid: i32,
        head: u32,
        tail: u32,
    }
    let r = RingError {
        event: "ring_error",
        time: now(),
        pid: crate::process::PROCESS.pid(),
        tid: kt.tid.load(Ordering::Relaxed),
        head,
        tail,
    };
    if let Ok(mut line) = serde_json::to_vec(&r) {
        line.push(b'\n');
        AUDIT.write(&line);
    }
}

/// The options that carry the audit into the runner of an exec'd XSC
/// program: the descriptor (kept open across the exec, as the trace's) and
/// the `execve` itself, whose result record the new runner writes.
pub fn exec_options(kt: &KernelThread, sqe: &SubmissionEntry) -> Vec<Vec<u8>> {
    let Some(fd) = AUDIT.fd() else {
        return Vec::new();
    };
    let cur = kt.audit_current();
    let mut exec = format!(
        "--audit-execve={},{},{},{}",
        cur.seq,
        kt.tid.load(Ordering::Relaxed),
        sqe.opcode,
        cur.meta
    );
    for a in sqe.args {
        exec.push_str(&format!(",{a}"));
    }
    vec![format!("--audit-fd={fd}").into_bytes(), exec.into_bytes()]
}

/// In an exec'd runner: the result record of the `execve` that started it
/// (`--audit-execve=SEQ,TID,NR,META,A0,...,A5`), with result 0. Its
/// arguments pointed into the old image and are not decoded. Later entries
/// are numbered after it.
pub fn execve_completed(spec: &str) -> Result<(), String> {
    let v: Vec<u64> = spec
        .split(',')
        .map(str::parse)
        .collect::<Result<_, _>>()
        .map_err(|_| format!("bad --audit-execve value {spec:?}"))?;
    let [seq, tid, nr, meta, args @ ..] = v.as_slice() else {
        return Err(format!("bad --audit-execve value {spec:?}"));
    };
    let args: [u64; 6] = args
        .try_into()
        .map_err(|_| format!("bad --audit-execve value {spec:?}"))?;
    let sqe = SubmissionEntry::new(*nr as u32, args, 0);
    SEQ.fetch_max(*seq, Ordering::Relaxed);
    let meta = Meta::unpack(*meta);
    write_record(
        "result",
        *seq,
        *tid as i32,
        &sqe,
        None,
        meta,
        Some(Some(0)),
        None,
    );
    Ok(())
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn times_are_rfc3339_utc() {
        assert_eq!(rfc3339(0, 0), "1970-01-01T00:00:00.000000000Z");
        assert_eq!(rfc3339(951_782_400, 5), "2000-02-29T00:00:00.000000005Z");
        assert_eq!(
            rfc3339(1_764_117_156, 123_456_789),
            "2025-11-26T00:32:36.123456789Z"
        );
    }

    #[test]
    fn the_submit_metadata_survives_packing() {
        for verdict in [
            None,
            Some(Verdict::NONE),
            Some(Verdict {
                ret: libc::SECCOMP_RET_ERRNO | 13,
                by: Some(Origin::Profile),
            }),
            Some(Verdict {
                ret: libc::SECCOMP_RET_KILL_PROCESS,
                by: Some(Origin::Strict),
            }),
        ] {
            for via in [Context::Ring, Context::ThreadCall] {
                let m = Meta { verdict, via };
                assert_eq!(Meta::unpack(m.pack()), m);
            }
        }
    }
}
