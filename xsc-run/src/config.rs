//! The runner's settings, fixed at start-up and readable from anywhere
//! (including a forked child and an exec'd XSC child, which gets them again
//! on its command line).

use std::sync::OnceLock;

#[derive(Clone, Copy, Debug, PartialEq, Eq, clap::ValueEnum)]
pub enum Guard {
    /// Syscall User Dispatch: a raw system call from program code raises
    /// SIGSYS. Linux clears it on fork, clone and execve; the kernel turns
    /// it on again for every program thread it creates, and for an exec'd
    /// XSC program (a natively exec'd program runs without it).
    Dispatch,
    /// Syscall User Dispatch plus a seccomp filter that allows system calls
    /// only from the runner's own code and only for the native
    /// architecture. The program cannot switch it off; execve is refused.
    Seccomp,
    /// No trap guard: the host offers neither Syscall User Dispatch nor a
    /// seccomp filter the runner can install (qemu's user mode, which runs
    /// aarch64 programs on this host, refuses both; Linux on arm64 has no
    /// Syscall User Dispatch before generic entry). The static verifier
    /// is then the only check against raw system calls. The default where
    /// Syscall User Dispatch is missing; the run's trace says so.
    Off,
}

#[derive(Debug)]
pub struct Config {
    pub guard: Guard,
    pub allow_unmarked: bool,
    pub allow_unverified: bool,
    /// The trace's file descriptor, if tracing.
    pub trace_fd: Option<i32>,
    /// argv[0] the runner was started with (to start it again on exec).
    pub runner_argv0: Vec<u8>,
    /// The user-mode emulator this runner runs under (qemu), through which
    /// exec'd programs of this architecture start (crate::foreign).
    pub emulator: Option<Vec<u8>>,
    /// With an emulator: this runner's own executable, open (close-on-exec,
    /// at a high number), which the emulator starts again for an exec'd
    /// XSC program as `/proc/self/fd/N`: that works whatever the program's
    /// credentials by then, as `/proc/self/exe` does natively.
    pub runner_fd: Option<i32>,
}

static CONFIG: OnceLock<Config> = OnceLock::new();

pub fn set(c: Config) {
    let _ = CONFIG.set(c);
}

pub fn get() -> &'static Config {
    CONFIG
        .get()
        .expect("configuration is set before the program starts")
}

impl Config {
    /// The options an exec'd XSC child's runner gets, so it behaves alike.
    pub fn forwarded_options(&self) -> Vec<Vec<u8>> {
        let mut v = Vec::new();
        if self.allow_unmarked {
            v.push(b"--allow-unmarked".to_vec());
        }
        if self.allow_unverified {
            v.push(b"--allow-unverified".to_vec());
        }
        if let Some(fd) = self.trace_fd {
            v.push(format!("--trace-fd={fd}").into_bytes());
        }
        if let Some(e) = &self.emulator {
            let mut o = b"--emulator=".to_vec();
            o.extend_from_slice(e);
            v.push(o);
        }
        if let Some(fd) = self.runner_fd {
            v.push(format!("--runner-fd={fd}").into_bytes());
        }
        v
    }
}
