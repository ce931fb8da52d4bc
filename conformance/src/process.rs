//! Running one program with a time limit, in its own process group, and
//! collecting what it did.

use std::io::Read;
use std::os::unix::process::{CommandExt, ExitStatusExt};
use std::process::{Command, Stdio};
use std::sync::mpsc;
use std::time::{Duration, Instant};

/// How much of each output stream is kept.
const OUTPUT_LIMIT: usize = 256 * 1024;

/// How a run ended.
#[derive(Clone, Debug, PartialEq, Eq)]
pub enum Status {
    /// Exited with this status.
    Exited(i32),
    /// Killed by this signal.
    Signaled(i32),
    /// Still running at the time limit: killed by the harness.
    TimedOut(Duration),
    /// Could not be started.
    NotStarted(String),
}

impl std::fmt::Display for Status {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        match self {
            Status::Exited(c) => write!(f, "exit {c}"),
            Status::Signaled(s) => write!(f, "signal {}", signal_name(*s)),
            Status::TimedOut(t) => write!(f, "hang (killed after {} s)", t.as_secs()),
            Status::NotStarted(e) => write!(f, "not started: {e}"),
        }
    }
}

/// What one run did.
#[derive(Clone, Debug)]
pub struct Run {
    pub status: Status,
    pub stdout: String,
    pub stderr: String,
    pub elapsed: Duration,
}

/// The signals a case may name in its `expect:` line, and the ones worth
/// naming in a report.
const SIGNALS: &[(&str, i32)] = &[
    ("SIGHUP", libc::SIGHUP),
    ("SIGINT", libc::SIGINT),
    ("SIGQUIT", libc::SIGQUIT),
    ("SIGILL", libc::SIGILL),
    ("SIGTRAP", libc::SIGTRAP),
    ("SIGABRT", libc::SIGABRT),
    ("SIGBUS", libc::SIGBUS),
    ("SIGFPE", libc::SIGFPE),
    ("SIGKILL", libc::SIGKILL),
    ("SIGUSR1", libc::SIGUSR1),
    ("SIGSEGV", libc::SIGSEGV),
    ("SIGUSR2", libc::SIGUSR2),
    ("SIGPIPE", libc::SIGPIPE),
    ("SIGALRM", libc::SIGALRM),
    ("SIGTERM", libc::SIGTERM),
    ("SIGCHLD", libc::SIGCHLD),
    ("SIGXCPU", libc::SIGXCPU),
    ("SIGWINCH", libc::SIGWINCH),
    ("SIGSYS", libc::SIGSYS),
];

/// `SIGSEGV` for 11, `signal 40` for one without a name here.
pub fn signal_name(sig: i32) -> String {
    SIGNALS
        .iter()
        .find(|(_, n)| *n == sig)
        .map(|(name, _)| name.to_string())
        .unwrap_or_else(|| format!("signal {sig}"))
}

/// 11 for `SIGSEGV`.
pub fn signal_number(name: &str) -> Option<i32> {
    SIGNALS.iter().find(|(n, _)| *n == name).map(|(_, s)| *s)
}

/// Reads a stream to its end, keeping the first `OUTPUT_LIMIT` bytes.
fn drain(mut r: impl Read + Send + 'static) -> mpsc::Receiver<Vec<u8>> {
    let (tx, rx) = mpsc::channel();
    std::thread::spawn(move || {
        let mut kept = Vec::new();
        let mut buf = [0u8; 8192];
        loop {
            match r.read(&mut buf) {
                Ok(0) | Err(_) => break,
                Ok(n) => {
                    let room = OUTPUT_LIMIT.saturating_sub(kept.len());
                    kept.extend_from_slice(&buf[..n.min(room)]);
                }
            }
        }
        let _ = tx.send(kept);
    });
    rx
}

/// Has child `pid` ended? Leaves it unreaped (a zombie keeps its process
/// group id from being reused until `Child::wait`).
fn has_ended(pid: libc::pid_t) -> bool {
    // SAFETY: siginfo_t is plain old data, for which all zero bytes are a
    // valid value.
    let mut info: libc::siginfo_t = unsafe { std::mem::zeroed() };
    // SAFETY: waitid writes only into `info`, which lives for the call;
    // WNOWAIT leaves the child to be reaped by `Child::wait`.
    let r = unsafe {
        libc::waitid(
            libc::P_PID,
            pid as libc::id_t,
            &mut info,
            libc::WEXITED | libc::WNOHANG | libc::WNOWAIT,
        )
    };
    // SAFETY: waitid filled in `info` (or left it zeroed: si_pid 0); the
    // accessor reads the pid field of the SIGCHLD layout it fills in.
    r != 0 || unsafe { info.si_pid() } != 0
}

/// Kills every process in the process group `pgid`.
fn kill_group(pgid: libc::pid_t) {
    // SAFETY: kill takes no pointers. The group is the one the run was
    // started in (`process_group(0)`: its id is the leader's pid), and the
    // leader is not reaped yet, so the id still names that group.
    unsafe {
        libc::kill(-pgid, libc::SIGKILL);
    }
}

/// Runs `cmd` (stdin from /dev/null, stdout and stderr captured) in a new
/// process group. At `limit` the whole group is killed and the run counts
/// as a hang; when the program ends, whatever it left in its group is
/// killed too.
pub fn run(mut cmd: Command, limit: Duration) -> Run {
    cmd.stdin(Stdio::null())
        .stdout(Stdio::piped())
        .stderr(Stdio::piped())
        .process_group(0);
    let start = Instant::now();
    let mut child = match cmd.spawn() {
        Ok(c) => c,
        Err(e) => {
            return Run {
                status: Status::NotStarted(format!("{cmd:?}: {e}")),
                stdout: String::new(),
                stderr: String::new(),
                elapsed: start.elapsed(),
            }
        }
    };
    let pid = child.id() as libc::pid_t;
    let out = drain(child.stdout.take().expect("stdout is piped"));
    let err = drain(child.stderr.take().expect("stderr is piped"));
    let mut timed_out = false;
    while !has_ended(pid) {
        if start.elapsed() >= limit {
            timed_out = true;
            break;
        }
        std::thread::sleep(Duration::from_millis(5));
    }
    let elapsed = start.elapsed();
    kill_group(pid);
    let waited = child.wait();
    // The pipes close when the group is gone; a process that left the
    // group could keep them open, so do not wait for ever.
    let collect = |rx: mpsc::Receiver<Vec<u8>>| {
        rx.recv_timeout(Duration::from_secs(2))
            .map(|b| String::from_utf8_lossy(&b).into_owned())
            .unwrap_or_else(|_| "<output still open after the run: not collected>".into())
    };
    let stdout = collect(out);
    let stderr = collect(err);
    let status = match waited {
        _ if timed_out => Status::TimedOut(limit),
        Ok(s) => match (s.code(), s.signal()) {
            (Some(c), _) => Status::Exited(c),
            (None, Some(sig)) => Status::Signaled(sig),
            (None, None) => Status::NotStarted(format!("unknown status {s:?}")),
        },
        Err(e) => Status::NotStarted(format!("wait: {e}")),
    };
    Run {
        status,
        stdout,
        stderr,
        elapsed,
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn sh(script: &str) -> Command {
        let mut c = Command::new("sh");
        c.args(["-c", script]);
        c
    }

    #[test]
    fn an_exit_status_and_output_are_collected() {
        let r = run(sh("echo out; echo err >&2; exit 3"), Duration::from_secs(5));
        assert_eq!(r.status, Status::Exited(3));
        assert_eq!(r.stdout, "out\n");
        assert_eq!(r.stderr, "err\n");
    }

    #[test]
    fn a_terminating_signal_is_reported() {
        let r = run(sh("kill -SEGV $$"), Duration::from_secs(5));
        assert_eq!(r.status, Status::Signaled(libc::SIGSEGV));
        assert_eq!(r.status.to_string(), "signal SIGSEGV");
    }

    #[test]
    fn a_hang_is_killed_with_its_children() {
        let r = run(
            sh("echo started; sleep 30 & sleep 30; echo never"),
            Duration::from_millis(300),
        );
        assert!(matches!(r.status, Status::TimedOut(_)), "{r:?}");
        assert_eq!(r.stdout, "started\n");
        assert!(r.elapsed < Duration::from_secs(5), "{r:?}");
    }

    #[test]
    fn a_missing_program_is_not_started() {
        let r = run(Command::new("/nonexistent/program"), Duration::from_secs(1));
        assert!(matches!(r.status, Status::NotStarted(_)), "{r:?}");
    }

    #[test]
    fn signal_names_round_trip() {
        assert_eq!(signal_number("SIGKILL"), Some(libc::SIGKILL));
        assert_eq!(signal_name(libc::SIGKILL), "SIGKILL");
        assert_eq!(signal_name(40), "signal 40");
        assert_eq!(signal_number("SIGNOPE"), None);
    }
}
