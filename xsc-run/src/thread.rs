//! Program threads as the kernel side sees them: each has a ring region
//! (shared with the program) and a [`KernelThread`] (kernel-private state the
//! entry stubs reach through `kernel_private`). The thread consumes its own
//! ring inline (crate::consume); no other task serves it.

use crate::arch::{self, SELECTOR_ALLOW};
use crate::sys;
use std::sync::atomic::{AtomicBool, AtomicI32, AtomicU32, AtomicU64, AtomicU8, Ordering};
use xsc_abi::region::{RegionLayout, RingRegionHeader};
use xsc_abi::RingRegion;

/// Offsets the assembly uses; pinned by a test against the struct.
pub const KT_SELECTOR: usize = 0;
pub const KT_PROGRAM_TP: usize = 8;
pub const KT_RUNNER_TP: usize = 16;
pub const KT_RUNNER_SP: usize = 24;

/// Kernel-private state of one program thread.
#[repr(C)]
pub struct KernelThread {
    /// The Syscall User Dispatch selector of this thread: ALLOW in kernel
    /// code, BLOCK in program code. Also the thread's state as the signal
    /// entry reads it, on hosts without Syscall User Dispatch too.
    pub selector: AtomicU8,
    _pad: [u8; 7],
    /// The program's thread pointer (x86_64: FS base; aarch64: TPIDR_EL0),
    /// saved while kernel code runs on the thread.
    pub program_tp: u64,
    /// The runner's own thread pointer (its TLS) on this OS thread.
    pub runner_tp: u64,
    /// Stack pointer to resume the runner at when a cloned thread exits.
    pub runner_sp: u64,
    /// The ring region this thread owns.
    pub region: *mut RingRegion,
    /// The region's layout as the kernel made it. The header in shared
    /// memory can be overwritten by the program; the kernel side uses only
    /// this copy.
    pub layout: RegionLayout,
    /// Thread id of the program thread.
    pub tid: AtomicI32,
    /// The kernel's own copy of `sq_head`: the next entry to consume.
    /// (Atomics for signal re-entrancy on the owning thread; no other thread
    /// touches the consumer state.)
    pub sq_head: AtomicU32,
    /// The kernel's own copy of `cq_tail`: the next completion slot.
    pub cq_tail: AtomicU32,
    /// `cq_head` as the consumer last read it.
    pub cq_head_seen: AtomicU32,
    /// The thread's signal mask lets SIGSEGV and SIGBUS through (and no
    /// program handler is running), so kernel code may read program memory
    /// directly and recover from a fault (crate::memory::read_into_fast).
    /// Kept by the owning thread at every change of its mask.
    pub fault_reads: AtomicBool,
    /// `set_tid_address` / `CLONE_CHILD_CLEARTID`: cleared and woken when
    /// the thread ends.
    pub clear_child_tid: AtomicU64,
    /// True for threads made by clone, which end by returning to their
    /// runner trampoline.
    pub is_clone_child: bool,
    /// An operation to perform after the thread has left its stack
    /// (`SQE_F_THEN_EXIT`), if `exit_op_pending`; written and read only by
    /// the owning thread.
    pub exit_op: xsc_abi::SubmissionEntry,
    pub exit_op_pending: bool,
    /// The seccomp filters judging this thread's calls, as the kernel side
    /// knows them (kept only when auditing; crate::filters).
    pub filters: crate::filters::ThreadFilters,
    /// The entry being audited (crate::audit::Current): its `seq` and the
    /// packed rest. Written and read only by the owning thread.
    audit_seq: AtomicU64,
    audit_meta: AtomicU64,
}

impl KernelThread {
    /// A new thread: ring region (mapped private, so a forked child gets
    /// its own copy) and kernel state, linked through `kernel_private`.
    pub fn new(entry_table: u64) -> std::io::Result<*mut KernelThread> {
        let layout = RegionLayout::default_v1();
        let region = sys::mmap_anon(layout.region_size as usize)? as *mut RingRegion;
        let kt = Box::into_raw(Box::new(KernelThread {
            selector: AtomicU8::new(SELECTOR_ALLOW),
            _pad: [0; 7],
            program_tp: 0,
            runner_tp: 0,
            runner_sp: 0,
            region,
            layout,
            tid: AtomicI32::new(0),
            sq_head: AtomicU32::new(0),
            cq_tail: AtomicU32::new(0),
            cq_head_seen: AtomicU32::new(0),
            fault_reads: AtomicBool::new(false),
            clear_child_tid: AtomicU64::new(0),
            is_clone_child: false,
            exit_op: xsc_abi::SubmissionEntry::default(),
            exit_op_pending: false,
            filters: Default::default(),
            audit_seq: AtomicU64::new(0),
            audit_meta: AtomicU64::new(0),
        }));
        // SAFETY: region is a fresh zeroed mapping of region_size bytes,
        // large enough for the header (RegionLayout guarantees it); zeroed
        // atomics are valid indices and flags.
        unsafe {
            std::ptr::addr_of_mut!((*region).header).write(RingRegionHeader::new(
                layout,
                region as u64,
                entry_table,
                kt as u64,
            ));
        }
        Ok(kt)
    }

    pub fn audit_current(&self) -> crate::audit::Current {
        crate::audit::Current::from_parts(
            self.audit_seq.load(Ordering::Relaxed),
            self.audit_meta.load(Ordering::Relaxed),
        )
    }

    pub fn set_audit_current(&self, c: crate::audit::Current) {
        let (seq, meta) = c.parts();
        self.audit_seq.store(seq, Ordering::Relaxed);
        self.audit_meta.store(meta, Ordering::Relaxed);
    }

    pub fn region(&self) -> &RingRegion {
        // SAFETY: the region lives as long as the KernelThread (both are
        // freed together when the thread ends).
        unsafe { &*self.region }
    }

    /// Records whether a signal mask lets the faults of direct reads through
    /// (`fault_reads`).
    pub fn note_signal_mask(&self, mask: u64) {
        let faults = (1u64 << (libc::SIGSEGV - 1)) | (1u64 << (libc::SIGBUS - 1));
        self.fault_reads
            .store(mask & faults == 0, Ordering::Relaxed);
    }

    /// Records the owning thread's id in the kernel state and the header.
    pub fn set_tid(&self, tid: i32) {
        self.tid.store(tid, Ordering::Relaxed);
        // SAFETY: the header's tid is written only by the kernel side, by
        // the thread that owns the ring, before or while it runs.
        unsafe { std::ptr::addr_of_mut!((*self.region).header.tid).write_volatile(tid as u32) };
    }

    /// Frees the region and the state. Called by the ending thread itself,
    /// once no program code runs on it (signals blocked, GS cleared); its
    /// pending entries are cancelled with the region.
    ///
    /// # Safety
    /// `kt` must come from [`KernelThread::new`] and be unused from now on.
    pub unsafe fn free(kt: *mut KernelThread) {
        let size = (*kt).layout.region_size as usize;
        libc::munmap((*kt).region as *mut libc::c_void, size);
        drop(Box::from_raw(kt));
    }

    /// Ends the thread's kernel side: frees the region (cancelling any
    /// entry still pending on it) and the state; the clear-child-tid word
    /// is cleared and a waiter on it woken when the host thread ends, as
    /// Linux does when a thread ends ([`clear_tid_at_exit`]). `end` says
    /// how the host thread ends next.
    ///
    /// # Safety
    /// As for [`KernelThread::free`]; called by the ending thread itself.
    pub unsafe fn free_and_clear_tid(kt: *mut KernelThread, end: HostEnd) {
        let addr = (*kt).clear_child_tid.swap(0, Ordering::AcqRel);
        KernelThread::free(kt);
        clear_tid_at_exit(addr, end);
    }
}

/// How a host thread whose program thread has called `exit` ends.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum HostEnd {
    /// By a raw `exit` call, right after (the main thread).
    RawExit,
    /// By returning to its C library's thread exit (a runner thread).
    ThreadExit,
}

#[cfg(target_env = "musl")]
extern "C" {
    /// Host musl patch 0004: this thread's kernel clear-child-tid address
    /// is not musl's thread list lock any more, so pthread_exit releases
    /// the lock itself, just before the exit call.
    fn __xsc_clear_tid_moved();
}

/// Has the program's clear-child-tid word `addr` cleared, and a waiter on
/// it woken, when this host thread has ended, as Linux does at the end of
/// the program's thread: the host kernel does it (the host thread's own
/// address, `set_tid_address`, points there). Cleared at once instead,
/// the joiner could see the thread's task still alive after
/// `pthread_join` (its CPU clock, `tgkill(tid, 0)`) while the runner's
/// own thread exit runs (issue 26, item 6). Where the host thread cannot
/// hand its address over (a glibc thread's join needs it: the debug
/// build), or the host refuses the call (a seccomp filter of the
/// program's), the word is cleared now.
fn clear_tid_at_exit(addr: u64, end: HostEnd) {
    if addr == 0 {
        return;
    }
    let handed_over = match end {
        HostEnd::RawExit => set_tid_address(addr),
        #[cfg(target_env = "musl")]
        HostEnd::ThreadExit => {
            let ok = set_tid_address(addr);
            if ok {
                // SAFETY: the calling thread's own musl state; its end,
                // pthread_exit, then releases the thread list lock.
                unsafe { __xsc_clear_tid_moved() };
            }
            ok
        }
        #[cfg(not(target_env = "musl"))]
        HostEnd::ThreadExit => false,
    };
    if !handed_over {
        clear_tid_and_wake(addr);
    }
}

/// `set_tid_address(addr)` for the calling host thread; false if refused.
fn set_tid_address(addr: u64) -> bool {
    sys::raw_syscall(libc::SYS_set_tid_address as u32, [addr, 0, 0, 0, 0, 0]) >= 0
}

/// Stores 0 at a thread's clear-child-tid address and wakes a waiter. As on
/// Linux, an address the program cannot write is ignored.
fn clear_tid_and_wake(addr: u64) {
    if addr != 0 && crate::memory::write_struct(addr, &0u32).is_ok() {
        // Linux wakes with a shared futex; wake private waiters too, since
        // the two kinds of key differ for private memory.
        sys::futex_wake_shared(addr as *const AtomicU32, 1);
        sys::futex_wake(addr as *const AtomicU32, 1);
    }
}

/// linux/prctl.h (not in the libc crate for glibc targets).
pub const PR_SET_SYSCALL_USER_DISPATCH: i32 = 59;
const PR_SYS_DISPATCH_OFF: i32 = 0;
const PR_SYS_DISPATCH_ON: i32 = 1;

/// Whether the host has Syscall User Dispatch (turning it off answers
/// EINVAL where it has not).
pub fn dispatch_available() -> bool {
    // SAFETY: turning SUD off has no memory effects.
    unsafe { libc::prctl(PR_SET_SYSCALL_USER_DISPATCH, PR_SYS_DISPATCH_OFF, 0, 0, 0) == 0 }
}

/// Turns on Syscall User Dispatch for the calling thread, whose kernel
/// state is `kt`: system calls are allowed only while its selector says
/// ALLOW or from the signal-return trampoline. Nothing with `--guard=off`.
pub fn enable_guard(kt: *mut KernelThread) -> std::io::Result<()> {
    if crate::config::get().guard == crate::config::Guard::Off {
        return Ok(());
    }
    let start = arch::xsc_sigreturn as *const () as usize;
    let len = arch::xsc_sigreturn_end as *const () as usize - start;
    // SAFETY: the selector lives as long as the thread's KernelThread, which
    // outlives the thread's program code; the guard is turned off before it
    // is freed.
    sys::check(unsafe {
        libc::prctl(
            PR_SET_SYSCALL_USER_DISPATCH,
            PR_SYS_DISPATCH_ON,
            start,
            len,
            std::ptr::addr_of!((*kt).selector),
        ) as i64
    })
    .map(|_| ())
    .map_err(std::io::Error::from_raw_os_error)
}

pub fn disable_guard() {
    // SAFETY: turning SUD off has no memory effects.
    unsafe { libc::prctl(PR_SET_SYSCALL_USER_DISPATCH, PR_SYS_DISPATCH_OFF, 0, 0, 0) };
}

#[cfg(test)]
mod tests {
    use super::*;
    use std::mem::offset_of;

    #[test]
    fn assembly_offsets_match_the_struct() {
        assert_eq!(offset_of!(KernelThread, selector), KT_SELECTOR);
        assert_eq!(offset_of!(KernelThread, program_tp), KT_PROGRAM_TP);
        assert_eq!(offset_of!(KernelThread, runner_tp), KT_RUNNER_TP);
        assert_eq!(offset_of!(KernelThread, runner_sp), KT_RUNNER_SP);
    }

    #[test]
    fn new_thread_has_a_valid_region() {
        let kt = KernelThread::new(0x1234).unwrap();
        // SAFETY: kt was just created and is freed below.
        unsafe {
            let h = &(*(*kt).region).header;
            assert_eq!(h.validate(), Ok(RegionLayout::default_v1()));
            assert_eq!(h.kernel_private, kt as u64);
            assert_eq!(h.self_ptr, (*kt).region as u64);
            assert_eq!(h.entry_table, 0x1234);
            KernelThread::free(kt);
        }
    }
}
