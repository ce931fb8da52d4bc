//! Running one program and measuring it: wall time from before the spawn
//! to after the wait, and the CPU time (user + system) that `wait4`
//! reports for it (the child and every descendant it waited for).

use crate::cmd::{describe, Result};
use std::collections::BTreeMap;
use std::io::{BufRead, BufReader, Read};
use std::os::unix::process::CommandExt;
use std::process::{Child, ChildStdin, ChildStdout, Command, Stdio};
use std::sync::mpsc;
use std::thread::JoinHandle;
use std::time::{Duration, Instant};

/// What one finished run measured and printed.
pub struct Finished {
    /// Seconds from before the spawn to after the wait.
    pub wall: f64,
    /// CPU seconds, user plus system, of the process and its waited-for
    /// descendants.
    pub cpu: f64,
    /// The `KEY VALUE` lines of its standard output.
    pub values: BTreeMap<String, String>,
}

impl Finished {
    /// The number printed as `KEY VALUE`.
    pub fn number(&self, key: &str) -> Result<f64> {
        let v = self
            .values
            .get(key)
            .ok_or_else(|| format!("the program printed no `{key}`"))?;
        v.parse()
            .map_err(|e| format!("the program printed `{key} {v}`: {e}"))
    }
}

/// A program started by [`start`], not yet waited for.
pub struct Started {
    child: Child,
    what: String,
    t0: Instant,
    stdin: Option<ChildStdin>,
    stdout: BufReader<ChildStdout>,
    /// Lines read from standard output before [`Started::finish`].
    early: String,
    stderr: JoinHandle<String>,
}

/// Starts `c` in a process group of its own (so that a run that takes too
/// long can be stopped with all its descendants), standard output and
/// error captured, standard input a pipe if `stdin_pipe` (else
/// /dev/null).
pub fn start(c: &mut Command, stdin_pipe: bool) -> Result<Started> {
    let what = describe(c);
    c.stdin(if stdin_pipe {
        Stdio::piped()
    } else {
        Stdio::null()
    })
    .stdout(Stdio::piped())
    .stderr(Stdio::piped())
    .process_group(0);
    let t0 = Instant::now();
    let mut child = c.spawn().map_err(|e| format!("cannot start {what}: {e}"))?;
    let stdin = child.stdin.take();
    let stdout = BufReader::new(child.stdout.take().expect("piped"));
    let mut err = child.stderr.take().expect("piped");
    let stderr = std::thread::spawn(move || {
        let mut s = Vec::new();
        let _ = err.read_to_end(&mut s);
        String::from_utf8_lossy(&s).into_owned()
    });
    Ok(Started {
        child,
        what,
        t0,
        stdin,
        stdout,
        early: String::new(),
        stderr,
    })
}

impl Started {
    /// Reads one line of standard output (it still counts for the values
    /// [`Started::finish`] returns); an error at end of file.
    pub fn read_line(&mut self) -> Result<String> {
        let mut line = String::new();
        match self.stdout.read_line(&mut line) {
            Ok(0) => Err(format!("{} closed its output", self.what)),
            Ok(_) => {
                self.early.push_str(&line);
                Ok(line.trim_end().to_string())
            }
            Err(e) => Err(format!("reading the output of {}: {e}", self.what)),
        }
    }

    /// The program's process id.
    pub fn pid(&self) -> u32 {
        self.child.id()
    }

    /// Closes the program's standard input (it reads end of file).
    pub fn close_stdin(&mut self) {
        self.stdin = None;
    }

    /// Waits for the program, stopping its process group after `timeout`;
    /// fails unless it exits with status 0 within it.
    pub fn finish(mut self, timeout: Duration) -> Result<Finished> {
        let pid = self.child.id() as libc::pid_t;
        let mut stdout = self.stdout;
        let out = std::thread::spawn(move || {
            let mut s = Vec::new();
            let _ = stdout.read_to_end(&mut s);
            s
        });
        let (stop, stopped) = mpsc::channel::<()>();
        let watchdog = std::thread::spawn(move || {
            let expired = matches!(
                stopped.recv_timeout(timeout),
                Err(mpsc::RecvTimeoutError::Timeout)
            );
            if expired {
                // SAFETY: kill has no memory effects; the group is the one
                // `start` created for this child, which is not reaped yet
                // (the wait below still holds its id).
                unsafe { libc::kill(-pid, libc::SIGKILL) };
            }
            expired
        });
        // Wait for the exit without reaping: until the wait4 below, the
        // zombie keeps the process (and group) id ours.
        let exited = loop {
            // SAFETY: a zeroed siginfo_t is a valid value for waitid to fill.
            let mut info: libc::siginfo_t = unsafe { std::mem::zeroed() };
            // SAFETY: pid is our unreaped child; info is valid.
            let r = unsafe {
                libc::waitid(
                    libc::P_PID,
                    pid as libc::id_t,
                    &mut info,
                    libc::WEXITED | libc::WNOWAIT,
                )
            };
            let e = std::io::Error::last_os_error();
            if r == 0 || e.kind() != std::io::ErrorKind::Interrupted {
                break if r == 0 { Ok(()) } else { Err(e) };
            }
        };
        let wall = self.t0.elapsed().as_secs_f64();
        let _ = stop.send(());
        let timed_out = watchdog.join().unwrap_or(false);
        drop(self.stdin.take());
        // Descendants left in the group would keep the output pipes open:
        // stop them.
        // SAFETY: kill has no memory effects; the group id is still that
        // of our unreaped child (a group without members: ESRCH).
        unsafe { libc::kill(-pid, libc::SIGKILL) };
        let mut status = 0;
        // SAFETY: a zeroed rusage is a valid value for wait4 to fill.
        let mut ru: libc::rusage = unsafe { std::mem::zeroed() };
        // SAFETY: pid is our exited, unreaped child; status and ru are
        // valid. It does not block.
        let r = unsafe { libc::wait4(pid, &mut status, 0, &mut ru) };
        if let Err(e) = exited {
            return Err(format!("waiting for {}: {e}", self.what));
        }
        if r != pid {
            return Err(format!(
                "reaping {}: {}",
                self.what,
                std::io::Error::last_os_error()
            ));
        }
        let stdout = out.join().unwrap_or_default();
        let stderr = self.stderr.join().unwrap_or_default();
        if timed_out {
            return Err(format!(
                "{} did not finish within {} s (stopped)",
                self.what,
                timeout.as_secs()
            ));
        }
        if !libc::WIFEXITED(status) || libc::WEXITSTATUS(status) != 0 {
            let how = if libc::WIFSIGNALED(status) {
                format!("killed by signal {}", libc::WTERMSIG(status))
            } else {
                format!("exit status {}", libc::WEXITSTATUS(status))
            };
            return Err(format!(
                "{} failed ({how}): {}",
                self.what,
                stderr.trim_end()
            ));
        }
        let tv = |t: libc::timeval| t.tv_sec as f64 + t.tv_usec as f64 * 1e-6;
        let text = self.early + &String::from_utf8_lossy(&stdout);
        let values = text
            .lines()
            .filter_map(|l| l.split_once(' '))
            .map(|(k, v)| (k.to_string(), v.trim().to_string()))
            .collect();
        Ok(Finished {
            wall,
            cpu: tv(ru.ru_utime) + tv(ru.ru_stime),
            values,
        })
    }
}

/// Runs `c` to completion (standard input /dev/null).
pub fn run(c: &mut Command, timeout: Duration) -> Result<Finished> {
    start(c, false)?.finish(timeout)
}

/// Nanoseconds of CPU the threads of process `pid` have run, summed from
/// /proc/PID/task/*/schedstat (the scheduler's own account, exact and
/// never sampled; threads that already exited are not in it).
pub fn task_cpu_ns(pid: u32) -> Result<u64> {
    let dir = format!("/proc/{pid}/task");
    let tasks = std::fs::read_dir(&dir).map_err(|e| format!("cannot read {dir}: {e}"))?;
    let mut ns = 0;
    for t in tasks.flatten() {
        let file = t.path().join("schedstat");
        // A thread that exits meanwhile has no file any more.
        if let Ok(s) = std::fs::read_to_string(&file) {
            let run = s
                .split_whitespace()
                .next()
                .and_then(|f| f.parse::<u64>().ok());
            ns += run.ok_or_else(|| format!("{}: unexpected contents `{s}`", file.display()))?;
        }
    }
    Ok(ns)
}

/// The median of `v` (the mean of the middle two for an even count).
pub fn median(v: &[f64]) -> Option<f64> {
    if v.is_empty() {
        return None;
    }
    let mut s = v.to_vec();
    s.sort_by(f64::total_cmp);
    let m = s.len() / 2;
    Some(if s.len() % 2 == 1 {
        s[m]
    } else {
        (s[m - 1] + s[m]) / 2.0
    })
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn this_process_has_run() {
        let ns = task_cpu_ns(std::process::id()).unwrap();
        assert!(ns > 0);
    }

    #[test]
    fn medians() {
        assert_eq!(median(&[]), None);
        assert_eq!(median(&[3.0]), Some(3.0));
        assert_eq!(median(&[5.0, 1.0, 3.0]), Some(3.0));
        assert_eq!(median(&[4.0, 1.0, 3.0, 2.0]), Some(2.5));
    }

    #[test]
    fn runs_a_program_and_reads_its_values() {
        let f = run(
            Command::new("sh").args(["-c", "echo 'answer 42'; echo noise"]),
            Duration::from_secs(60),
        )
        .unwrap();
        assert_eq!(f.number("answer").unwrap(), 42.0);
        assert!(f.number("missing").is_err());
        assert!(f.wall > 0.0 && f.cpu >= 0.0);
    }

    #[test]
    fn a_failure_and_a_timeout_are_errors() {
        let e = run(
            Command::new("sh").args(["-c", "echo oops >&2; exit 3"]),
            Duration::from_secs(60),
        )
        .err()
        .unwrap();
        assert!(e.contains("exit status 3") && e.contains("oops"), "{e}");
        let e = run(
            Command::new("sh").args(["-c", "sleep 30"]),
            Duration::from_millis(200),
        )
        .err()
        .unwrap();
        assert!(e.contains("did not finish"), "{e}");
    }
}
