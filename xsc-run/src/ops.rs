//! Validating and executing operations, wherever they come from: a ring
//! entry consumed inline (crate::consume) or a `thread_call`. Both run in
//! the submitting program thread itself.
//!
//! Almost every operation is the host's own system call with the entry's
//! arguments, made by the thread that submitted it. A few are emulated
//! because the runner shares the process with the program: `brk` (the
//! runner's allocator must never share the program break), `rt_sigaction`
//! (handlers run through the kernel's signal entry), `exit_group` (flush the
//! trace first) and the names of the program in /proc.

use crate::arch::{nr, Sysno};
use crate::layout::{may_reach_runner, runner_image};
use crate::signals;
use crate::sys::raw_syscall;
use crate::thread::KernelThread;
use xsc_abi::ring_entry::{
    CQE_F_MALFORMED, CQE_F_UNKNOWN_OP, CQE_F_WRONG_CONTEXT, SQE_FLAGS_KNOWN,
    SQE_FLAGS_KNOWN_THREAD_CALL,
};
use xsc_abi::SubmissionEntry;

/// `setrlimit` and `prlimit64`: a new `RLIMIT_STACK` reshapes the main
/// stack (initial_stack::rlimit_changed).
const SETRLIMIT: u32 = Sysno::setrlimit as u32;
const PRLIMIT64: u32 = Sysno::prlimit64 as u32;
/// The program's io_uring instances: their requests naming /proc files
/// are rewritten as the system calls are (crate::procfs::uring_enter).
const IO_URING_SETUP: u32 = Sysno::io_uring_setup as u32;
const IO_URING_ENTER: u32 = Sysno::io_uring_enter as u32;
const MMAP: u32 = Sysno::mmap as u32;

/// Is `opcode` a system call this kernel knows?
pub fn is_known(opcode: u32) -> bool {
    Sysno::new(opcode as usize).is_some()
}

pub fn is_thread_context(opcode: u32) -> bool {
    xsc_abi::ops::is_thread_context(crate::arch::ARCH, opcode)
}

/// Opcodes covered by the fast-path tables (every system call of the
/// architecture is below this; checked by a test).
const MAP_BITS: usize = 512;

/// The ring operations the fast path (crate::consume, `Mode::Fast`) may
/// execute as they are, without the runner's TLS: known, not thread-context,
/// not emulated, and naming no path (paths are checked for /proc names
/// first, see [`fast_path_allows`]).
static PASSTHROUGH: [u64; MAP_BITS / 64] = passthrough_map(false);
/// The operations with a path argument the fast path may execute once it
/// has seen that the path does not start with `/proc/`.
static PATH_OPS: [u64; MAP_BITS / 64] = passthrough_map(true);

const fn passthrough_map(with_path: bool) -> [u64; MAP_BITS / 64] {
    let mut map = [0u64; MAP_BITS / 64];
    let mut op = 0;
    while op < MAP_BITS as u32 {
        let known = Sysno::new(op as usize).is_some();
        let mut thread_context = false;
        let mut i = 0;
        while i < nr::THREAD_CONTEXT.len() {
            thread_context |= nr::THREAD_CONTEXT[i] == op;
            i += 1;
        }
        let emulated = matches!(
            op,
            nr::BRK | nr::RT_SIGACTION | nr::EXIT_GROUP | SETRLIMIT | PRLIMIT64 | IO_URING_SETUP
        );
        let path = crate::procfs::path_arg(op).is_some();
        if known && !thread_context && !emulated && path == with_path {
            map[op as usize / 64] |= 1 << (op % 64);
        }
        op += 1;
    }
    map
}

fn in_map(map: &[u64; MAP_BITS / 64], op: u32) -> bool {
    let i = op as usize;
    i < MAP_BITS && map[i / 64] & (1 << (i % 64)) != 0
}

/// May the fast path execute `sqe` as the host's own call, with the
/// program's FS base still loaded? Must not touch TLS: it runs before the
/// runner's TLS is switched in. A path argument is read (without TLS) only
/// far enough to see that it does not name something under /proc.
pub fn fast_path_allows(kt: &KernelThread, sqe: &SubmissionEntry) -> bool {
    if sqe.flags != 0 {
        return false;
    }
    if in_map(&PASSTHROUGH, sqe.opcode) {
        // A change of the mappings near the runner's own image may hit it:
        // the full path looks closer. So it does at an io_uring's mapping
        // and submission.
        let a = sqe.args;
        let uring = match sqe.opcode {
            MMAP => crate::procfs::is_uring_fd(a[4]),
            IO_URING_ENTER => a[1] != 0 && crate::procfs::is_uring_fd(a[0]),
            _ => false,
        };
        return !uring
            && mapping_ranges(sqe.opcode, a)
                .is_none_or(|r| !r.iter().any(|&(lo, hi)| may_reach_runner(lo, hi)));
    }
    if !in_map(&PATH_OPS, sqe.opcode) {
        return false;
    }
    let Some(i) = crate::procfs::path_arg(sqe.opcode) else {
        return false;
    };
    let mut head = [0u8; 5];
    crate::memory::read_into_fast(kt, sqe.args[i], &mut head).is_ok()
        && !crate::procfs::may_name_proc(&head)
}

/// How an entry reached the kernel.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Context {
    /// On the submission ring.
    Ring,
    /// Through the entry table's `thread_call`.
    ThreadCall,
}

/// Why an entry is not executed (ABI §4.6, §5.6): its result and the
/// completion flag that says so.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct Rejection {
    pub result: i64,
    pub cqe_flags: u32,
}

/// The ABI's checks of an entry, in the ABI's order; `None` if it may be
/// executed. The one place both paths validate entries.
pub fn reject(sqe: &SubmissionEntry, context: Context) -> Option<Rejection> {
    let known_flags = match context {
        Context::Ring => SQE_FLAGS_KNOWN,
        Context::ThreadCall => SQE_FLAGS_KNOWN_THREAD_CALL,
    };
    let (errno, cqe_flags) = if sqe.flags & !known_flags != 0 {
        (libc::EINVAL, CQE_F_MALFORMED)
    } else if !is_known(sqe.opcode) {
        (libc::ENOSYS, CQE_F_UNKNOWN_OP)
    } else if context == Context::Ring && is_thread_context(sqe.opcode) {
        (libc::EINVAL, CQE_F_WRONG_CONTEXT)
    } else {
        return None;
    };
    Some(Rejection {
        result: -(errno as i64),
        cqe_flags,
    })
}

/// Executes a process-wide operation in the calling thread `kt`.
pub fn execute(kt: &KernelThread, sqe: &SubmissionEntry) -> i64 {
    let a = sqe.args;
    // An operation the runner serves itself, whose host calls are not the
    // program's: the seccomp filters judge the entry here first
    // (crate::filters::enforce).
    let judged = || {
        let tid = kt.tid.load(std::sync::atomic::Ordering::Relaxed);
        crate::filters::enforce(&kt.filters, tid, sqe.opcode, a)
    };
    if let Some(refused) = refuse_over_runner(sqe.opcode, a) {
        return refused;
    }
    match sqe.opcode {
        nr::BRK => judged().unwrap_or_else(|| brk(a[0])),
        nr::RT_SIGACTION => {
            judged().unwrap_or_else(|| signals::rt_sigaction(a[0] as i32, a[1], a[2], a[3]))
        }
        nr::EXIT_GROUP => {
            crate::trace::noreturn(kt, sqe);
            crate::trace::flush();
            raw_syscall(nr::EXIT_GROUP, a)
        }
        SETRLIMIT | PRLIMIT64 => {
            let r = raw_syscall(sqe.opcode, a);
            let (resource, new) = if sqe.opcode == SETRLIMIT {
                (a[0], a[1])
            } else {
                (a[1], a[2])
            };
            let own = sqe.opcode == SETRLIMIT || a[0] == 0 || a[0] == crate::sys::getpid() as u64;
            if r == 0 && own && new != 0 && resource == libc::RLIMIT_STACK as u64 {
                crate::initial_stack::rlimit_changed();
            }
            r
        }
        IO_URING_SETUP => {
            let r = raw_syscall(IO_URING_SETUP, a);
            if r >= 0 {
                crate::procfs::uring_setup(r as i32, a[1]);
            }
            r
        }
        IO_URING_ENTER => {
            crate::procfs::uring_enter(a);
            raw_syscall(IO_URING_ENTER, a)
        }
        MMAP if crate::procfs::is_uring_fd(a[4]) => {
            let r = raw_syscall(MMAP, a);
            crate::procfs::uring_mmap(a[4] as i32, a[5], r);
            r
        }
        op => match crate::procfs::rewrite(op, a) {
            Some(crate::procfs::Rewrite::Path { index, path }) => {
                let mut b = a;
                b[index] = path.as_ptr() as u64;
                raw_syscall(op, b)
            }
            // Answered without the host's call.
            Some(crate::procfs::Rewrite::Result(r)) => match judged() {
                Some(refused) => {
                    if r >= 0 && crate::procfs::is_open(op) {
                        // SAFETY: the descriptor the rewrite just opened
                        // for the program, which will never see it.
                        unsafe { libc::close(r as i32) };
                    }
                    refused
                }
                None => r,
            },
            None => raw_syscall(op, a),
        },
    }
}

/// The ranges of the address space whose mappings `opcode` would replace,
/// remove or re-protect (empty ranges where there are fewer): `mmap` with
/// `MAP_FIXED` (not `MAP_FIXED_NOREPLACE`, which replaces nothing),
/// `munmap`, `mprotect`, `mremap` (its old range, and the new one with
/// `MREMAP_FIXED`).
fn mapping_ranges(opcode: u32, a: [u64; 6]) -> Option<[(u64, u64); 2]> {
    let range = |start: u64, len: u64| (start, start.saturating_add(len));
    match opcode {
        op if op == Sysno::mmap as u32 && a[3] & libc::MAP_FIXED as u64 != 0 => {
            Some([range(a[0], a[1]), (0, 0)])
        }
        op if op == Sysno::munmap as u32 || op == Sysno::mprotect as u32 => {
            Some([range(a[0], a[1]), (0, 0)])
        }
        op if op == Sysno::mremap as u32 => {
            let new = if a[3] & libc::MREMAP_FIXED as u64 != 0 {
                range(a[4], a[2])
            } else {
                (0, 0)
            };
            Some([range(a[0], a[1]), new])
        }
        _ => None,
    }
}

/// A mapping change over xsc-run's own image or heap (the program maps
/// `MAP_FIXED` over memory the runner holds, as JITs and emulators do at
/// fixed addresses) would destroy the kernel side under the program,
/// which then dies by SIGSEGV with no word: it is refused with `ENOMEM`
/// and a message saying why instead (docs/xsc-run.md section 6). `None`:
/// not such a change.
fn refuse_over_runner(opcode: u32, a: [u64; 6]) -> Option<i64> {
    let ranges = mapping_ranges(opcode, a)?;
    if !ranges.iter().any(|&(lo, hi)| may_reach_runner(lo, hi)) {
        return None;
    }
    let (start, end) = runner_image();
    let heap = crate::layout::heap_follows_image();
    // A heap after the image ends at the host's program break.
    let held_end = if heap {
        (raw_syscall(nr::BRK, [0; 6]) as u64).max(end)
    } else {
        end
    };
    let &(lo, hi) = ranges
        .iter()
        .find(|&&(lo, hi)| lo < held_end && start < hi)?;
    let name = Sysno::new(opcode as usize).map_or("?", |s| s.name());
    let what = if heap { "image and heap" } else { "image" };
    let free_below = crate::layout::FREE_BELOW;
    crate::trace::diagnostic(
        format!(
            "xsc-run: {name} over [{lo:#x}, {hi:#x}) refused (ENOMEM): [{start:#x}, {held_end:#x}) holds xsc-run's own {what}, in the address space it shares with the program; map memory elsewhere (xsc-run maps nothing below {free_below:#x}), or let the kernel choose the address (docs/xsc-run.md section 6)\n"
        )
        .as_bytes(),
    );
    Some(-(libc::ENOMEM as i64))
}

/// The program break, emulated in the address space right after the
/// program image (where the loader put its start). Nothing is reserved
/// there: as on Linux, the space past the break is unmapped, so calls and
/// faults there behave as natively and a program may map it itself.
pub struct ProgramBreak {
    pub start: u64,
    pub current: u64,
}

/// `brk(addr)`: as Linux, returns the new break, or the unchanged one when
/// the request cannot be met (below the start, or the pages it needs are
/// not free: another mapping, `RLIMIT_AS`, `RLIMIT_DATA`, no memory).
fn brk(addr: u64) -> i64 {
    let mut b = crate::process::PROCESS
        .brk
        .lock()
        .unwrap_or_else(|e| e.into_inner());
    let page = 4096u64;
    if addr < b.start || addr > u64::MAX - page {
        return b.current as i64;
    }
    let old_end = b.current.next_multiple_of(page);
    let new_end = addr.next_multiple_of(page);
    if new_end > old_end {
        // Fresh zeroed pages, only where nothing is mapped.
        let len = (new_end - old_end) as usize;
        // SAFETY: MAP_FIXED_NOREPLACE maps [old_end, new_end) only if none
        // of it is mapped, so nothing of the program's or ours is touched.
        let p = unsafe {
            libc::mmap(
                old_end as *mut libc::c_void,
                len,
                libc::PROT_READ | libc::PROT_WRITE,
                libc::MAP_PRIVATE | libc::MAP_ANONYMOUS | libc::MAP_FIXED_NOREPLACE,
                -1,
                0,
            )
        };
        if p == libc::MAP_FAILED {
            return b.current as i64;
        }
        if p as u64 != old_end {
            // A host too old for MAP_FIXED_NOREPLACE took it as a hint.
            // SAFETY: the mapping just made, elsewhere; nobody has it.
            unsafe { libc::munmap(p, len) };
            return b.current as i64;
        }
    } else if new_end < old_end {
        // The pages given up are unmapped, as Linux's brk does.
        // SAFETY: [new_end, old_end) lies between the start of the break
        // and its end: pages this emulation mapped for the program's
        // break, which the program gave back.
        unsafe { libc::munmap(new_end as *mut libc::c_void, (old_end - new_end) as usize) };
    }
    b.current = addr;
    addr as i64
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn known_opcodes() {
        assert!(is_known(nr::WRITE));
        assert!(is_known(nr::CLONE3));
        assert!(!is_known(999));
        assert!(!is_known(u32::MAX));
    }

    #[test]
    fn the_fast_path_takes_only_plain_calls() {
        assert!(Sysno::new(MAP_BITS).is_none());
        let kt = KernelThread::new(0).unwrap();
        // SAFETY: fresh state, freed at the end; fault_reads is false, so
        // paths are read with process_vm_readv (no signal entry here).
        let kt_ref = unsafe { &*kt };
        let fast_path_allows = |e: &SubmissionEntry| fast_path_allows(kt_ref, e);
        let e = |op: u32, a0: u64| SubmissionEntry::new(op, [a0, 0, 0, 0, 0, 0], 0);
        assert!(fast_path_allows(&e(nr::GETPPID, 0)));
        assert!(fast_path_allows(&e(nr::WRITE, 0)));
        for op in [
            nr::BRK,
            nr::RT_SIGACTION,
            nr::EXIT_GROUP,
            nr::CLONE,
            nr::GETTID,
            999,
        ] {
            assert!(!fast_path_allows(&e(op, 0)), "{op}");
        }
        let mut flagged = e(nr::GETPPID, 0);
        flagged.flags = 1;
        assert!(!fast_path_allows(&flagged));
        // Paths: only a readable one outside /proc.
        const STAT: u32 = 4;
        let etc = c"/etc/hostname";
        assert!(fast_path_allows(&e(STAT, etc.as_ptr() as u64)));
        for proc in [c"/proc/self/exe", c"//proc/self/exe", c"/./proc/self/exe"] {
            assert!(!fast_path_allows(&e(STAT, proc.as_ptr() as u64)));
        }
        assert!(!fast_path_allows(&e(STAT, 8)));
        // SAFETY: unused from here on.
        unsafe { KernelThread::free(kt) };
    }

    #[test]
    fn entries_are_checked_in_the_abi_order() {
        let e = |op: u32, flags: u32| {
            let mut s = SubmissionEntry::new(op, [0; 6], 0);
            s.flags = flags;
            s
        };
        let malformed = Some(Rejection {
            result: -(libc::EINVAL as i64),
            cqe_flags: CQE_F_MALFORMED,
        });
        let unknown = Some(Rejection {
            result: -(libc::ENOSYS as i64),
            cqe_flags: CQE_F_UNKNOWN_OP,
        });
        let then_exit = xsc_abi::ring_entry::SQE_F_THEN_EXIT;
        // Flags first, even on an unknown opcode.
        assert_eq!(reject(&e(999, then_exit), Context::Ring), malformed);
        assert_eq!(
            reject(&e(nr::MUNMAP, 1 << 5), Context::ThreadCall),
            malformed
        );
        assert_eq!(reject(&e(nr::MUNMAP, then_exit), Context::ThreadCall), None);
        assert_eq!(reject(&e(999, 0), Context::ThreadCall), unknown);
        assert_eq!(
            reject(&e(nr::CLONE, 0), Context::Ring),
            Some(Rejection {
                result: -(libc::EINVAL as i64),
                cqe_flags: CQE_F_WRONG_CONTEXT
            })
        );
        assert_eq!(reject(&e(nr::CLONE, 0), Context::ThreadCall), None);
        assert_eq!(reject(&e(nr::WRITE, 0), Context::Ring), None);
    }
}
