//! The kernel side's process-wide state that changes while the program
//! runs, in one place, with what starting and forking do to it.
//!
//! What is set once at start and only read afterwards (the configuration,
//! the entry table, the image, the host's time functions) is the same in a
//! forked child and stays in its own module's `OnceLock`. Per-thread state
//! is in [`crate::thread::KernelThread`].

use crate::ops::ProgramBreak;
use std::sync::atomic::{AtomicI32, AtomicUsize, Ordering};
use std::sync::{Mutex, MutexGuard};
use std::thread::JoinHandle;

pub struct Process {
    /// This process's id, for `process_vm_*` on ourselves without a
    /// `getpid` call or TLS (crate::memory).
    pid: AtomicI32,
    /// Program threads alive; the last one to `exit` ends the process.
    pub live_threads: AtomicUsize,
    /// The exit code of the main thread, once it has called `exit`: as on
    /// Linux, the process's status when its last thread ends.
    pub main_exit_code: AtomicI32,
    /// The program break, emulated after the program image (crate::ops).
    pub brk: Mutex<ProgramBreak>,
    /// The runner threads of cloned program threads, joined once they
    /// have finished (crate::thread_ops): the host musl keeps a joined
    /// thread's stack for the next new thread, where a detached thread
    /// unmaps its own as it ends.
    runners: Mutex<Vec<JoinHandle<()>>>,
}

pub static PROCESS: Process = Process {
    pid: AtomicI32::new(0),
    live_threads: AtomicUsize::new(0),
    main_exit_code: AtomicI32::new(0),
    brk: Mutex::new(ProgramBreak {
        start: 0,
        current: 0,
    }),
    runners: Mutex::new(Vec::new()),
};

/// The kernel side's locks, held across a `fork` (see
/// [`Process::lock_for_fork`]) and released on both sides by dropping.
pub struct ForkLocks<'a> {
    _brk: MutexGuard<'a, ProgramBreak>,
    _runners: MutexGuard<'a, Vec<JoinHandle<()>>>,
    _actions: MutexGuard<'static, ()>,
}

impl Process {
    /// This process's id (0 before [`Process::started`]).
    pub fn pid(&self) -> i32 {
        self.pid.load(Ordering::Relaxed)
    }

    /// At start: the main thread, about to enter the program, is the only
    /// program thread.
    pub fn started(&self, pid: i32) {
        self.pid.store(pid, Ordering::Relaxed);
        self.live_threads.store(1, Ordering::SeqCst);
    }

    /// Before `fork`: every lock of the kernel side, taken so that no other
    /// thread holds one at the moment of the fork (the child would inherit
    /// it held, forever).
    pub fn lock_for_fork(&self) -> ForkLocks<'_> {
        ForkLocks {
            _brk: self.brk.lock().unwrap_or_else(|e| e.into_inner()),
            _runners: self.runners.lock().unwrap_or_else(|e| e.into_inner()),
            _actions: crate::signals::lock_actions(),
        }
    }

    /// Keeps the runner thread of a new program thread, and joins the
    /// ones that have finished (each has left the program and is ending,
    /// so the join waits at most for its exit).
    pub fn add_runner(&self, runner: JoinHandle<()>) {
        let mut runners = self.runners.lock().unwrap_or_else(|e| e.into_inner());
        let mut i = 0;
        while i < runners.len() {
            if runners[i].is_finished() {
                let _ = runners.swap_remove(i).join();
            } else {
                i += 1;
            }
        }
        runners.push(runner);
    }

    /// In a forked child, once the locks are released: its only thread,
    /// its own id.
    pub fn forked_child(&self, pid: i32) {
        // The parent's runner threads are not in the child: forgotten, as
        // joining or detaching them would act on copies of their
        // descriptors.
        let runners = std::mem::take(&mut *self.runners.lock().unwrap_or_else(|e| e.into_inner()));
        std::mem::forget(runners);
        self.started(pid);
    }
}
