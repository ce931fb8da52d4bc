//! Credentials are per thread on Linux, and the worker threads make the
//! program's file and network calls with their own. When a program thread
//! changes its credentials (a thread-context operation, which a libc
//! repeats on every thread), the change is logged here and each worker
//! replays the log before its next operation, so the kernel side acts with
//! the program's current credentials.

use crate::memory;
use crate::sys::raw_syscall;
use std::sync::atomic::{AtomicUsize, Ordering};
use std::sync::{Mutex, MutexGuard};
use xsc_abi::ops::x86_64 as nr;
use xsc_abi::SubmissionEntry;

/// A logged change: the call, with copies of the memory it read (the
/// program's buffers are long gone when a worker replays it).
struct Change {
    entry: SubmissionEntry,
    /// setgroups: the group list; capset: the header.
    first: Vec<u8>,
    /// capset: the data (two `__user_cap_data_struct`s, v2/v3).
    second: Vec<u8>,
}

static LOG: Mutex<Vec<Change>> = Mutex::new(Vec::new());
static LEN: AtomicUsize = AtomicUsize::new(0);

/// Holds the log's lock (fork takes it so that the child does not inherit
/// it held by another thread).
pub fn lock() -> MutexGuard<'static, impl Sized> {
    LOG.lock().unwrap_or_else(|e| e.into_inner())
}

/// Does `opcode` change the calling thread's credentials?
pub fn changes_credentials(opcode: u32) -> bool {
    matches!(
        opcode,
        nr::SETUID
            | nr::SETGID
            | nr::SETREUID
            | nr::SETREGID
            | nr::SETRESUID
            | nr::SETRESGID
            | nr::SETFSUID
            | nr::SETFSGID
            | nr::SETGROUPS
            | nr::CAPSET
    )
}

/// Records a credential change a program thread made successfully.
pub fn record(sqe: &SubmissionEntry) {
    let a = sqe.args;
    let (first, second) = match sqe.opcode {
        nr::SETGROUPS => (
            memory::read_prefix(a[1], (a[0] as usize).min(65536) * 4),
            Vec::new(),
        ),
        nr::CAPSET => (memory::read_prefix(a[0], 8), memory::read_prefix(a[1], 24)),
        _ => (Vec::new(), Vec::new()),
    };
    let mut log = LOG.lock().unwrap_or_else(|e| e.into_inner());
    log.push(Change {
        entry: *sqe,
        first,
        second,
    });
    LEN.store(log.len(), Ordering::Release);
}

/// Brings the calling worker's credentials up to date; `seen` is how much
/// of the log it has applied.
pub fn catch_up(seen: &mut usize) {
    if LEN.load(Ordering::Acquire) == *seen {
        return;
    }
    let log = LOG.lock().unwrap_or_else(|e| e.into_inner());
    for c in &log[*seen..] {
        let mut a = c.entry.args;
        match c.entry.opcode {
            nr::SETGROUPS => a[1] = c.first.as_ptr() as u64,
            nr::CAPSET => {
                a[0] = c.first.as_ptr() as u64;
                a[1] = c.second.as_ptr() as u64;
            }
            _ => {}
        }
        // The same change succeeded on the program thread.
        raw_syscall(c.entry.opcode, a);
    }
    *seen = log.len();
}
