//! Credentials are per thread on Linux, and the worker threads make the
//! program's file and network calls with their own. When a program thread
//! changes its credentials (a thread-context operation, which a libc
//! repeats on every thread), the change is logged here and each worker
//! replays the log before its next operation, so the kernel side acts with
//! the program's current credentials.

use crate::sys::raw_syscall;
use std::sync::atomic::{AtomicUsize, Ordering};
use std::sync::Mutex;
use xsc_abi::ops::x86_64 as nr;
use xsc_abi::SubmissionEntry;

static LOG: Mutex<Vec<SubmissionEntry>> = Mutex::new(Vec::new());
static LEN: AtomicUsize = AtomicUsize::new(0);

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
    let mut log = LOG.lock().unwrap_or_else(|e| e.into_inner());
    log.push(*sqe);
    LEN.store(log.len(), Ordering::Release);
}

/// Brings the calling worker's credentials up to date; `seen` is how much
/// of the log it has applied.
pub fn catch_up(seen: &mut usize) {
    if LEN.load(Ordering::Acquire) == *seen {
        return;
    }
    let log = LOG.lock().unwrap_or_else(|e| e.into_inner());
    for e in &log[*seen..] {
        // setgroups and capset read their arguments from program memory,
        // which is still there (the log keeps only the call); a failure
        // here would mean the program's own call failed differently, which
        // cannot happen for the same credentials.
        raw_syscall(e.opcode, e.args);
    }
    *seen = log.len();
}
