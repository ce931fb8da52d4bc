//! Starting and joining threads without a libc: clone through the entry
//! table (ABI §7.3). The kernel gives the new thread its own ring region.

use crate::ring::Ring;
use core::sync::atomic::{AtomicU32, Ordering};
use xsc_abi::SubmissionEntry;

pub const CLONE_VM: usize = 0x100;
pub const CLONE_FS: usize = 0x200;
pub const CLONE_FILES: usize = 0x400;
pub const CLONE_SIGHAND: usize = 0x800;
pub const CLONE_THREAD: usize = 0x10000;
pub const CLONE_SYSVSEM: usize = 0x40000;
pub const CLONE_SETTLS: usize = 0x80000;
pub const CLONE_PARENT_SETTID: usize = 0x100000;
pub const CLONE_CHILD_CLEARTID: usize = 0x200000;

/// The flags a thread library uses for a new thread sharing everything.
pub const THREAD_FLAGS: usize = CLONE_VM
    | CLONE_FS
    | CLONE_FILES
    | CLONE_SIGHAND
    | CLONE_THREAD
    | CLONE_SYSVSEM
    | CLONE_PARENT_SETTID
    | CLONE_CHILD_CLEARTID;

/// A started thread. `tid` holds the thread id while it runs; the kernel
/// stores 0 there and wakes futex waiters when the thread ends.
pub struct RawThread<'a> {
    tid: &'a AtomicU32,
}

/// Starts `f(arg)` on a new thread running on `stack` (its top must be
/// 16-byte aligned). The thread ends with `f`'s return value as its exit
/// code.
///
/// # Safety
/// `stack` must stay mapped and unused by anyone else until the thread has
/// ended (see [`RawThread::join`]); `f` must be safe to run concurrently.
pub unsafe fn spawn<'a>(
    stack: &'a mut [u8],
    tid: &'a AtomicU32,
    f: extern "C" fn(usize) -> i32,
    arg: usize,
) -> Result<RawThread<'a>, i32> {
    let top = (stack.as_mut_ptr() as usize + stack.len()) & !15;
    // On aarch64 a thread finds its ring region through its thread pointer
    // (the word at TPIDR_EL0 + 8, ABI §3.5), so a new thread needs a
    // thread control block of its own, passed with CLONE_SETTLS, where the
    // kernel stores its region (ABI §7.3: without it, -EINVAL). The top 16
    // bytes of its stack serve; the thread has no TLS blocks after them. On
    // x86_64 the region is in GS base and the thread keeps its creator's FS.
    #[cfg(target_arch = "aarch64")]
    let (top, flags, tls) = {
        let tcb = top - 16;
        // SAFETY: the 16 bytes below `top` are the caller's stack memory.
        unsafe { core::ptr::write_bytes(tcb as *mut u8, 0, 16) };
        (tcb, THREAD_FLAGS | CLONE_SETTLS, tcb)
    };
    #[cfg(not(target_arch = "aarch64"))]
    let (flags, tls) = (THREAD_FLAGS, 0);
    let tid_ptr = tid.as_ptr() as usize;
    let r = clone_raw(flags, top as *mut u8, tid_ptr, tid_ptr, tls, f, arg);
    if r < 0 {
        Err(-r as i32)
    } else {
        Ok(RawThread { tid })
    }
}

/// The clone system call with a function to run in the child (as musl's
/// `__clone`): returns the child's id or `-errno` in the parent; the child
/// runs `f(arg)` on `stack` and exits with its value.
///
/// # Safety
/// As for the clone system call.
pub unsafe fn clone_raw(
    flags: usize,
    stack: *mut u8,
    ptid: usize,
    ctid: usize,
    tls: usize,
    f: extern "C" fn(usize) -> i32,
    arg: usize,
) -> i64 {
    use crate::arch::nr;
    let mut args = [flags as u64, stack as u64, ptid as u64, 0, 0, 0];
    args[nr::CLONE_CHILD_TID_ARG] = ctid as u64;
    args[nr::CLONE_TLS_ARG] = tls as u64;
    let entry = SubmissionEntry::new(nr::CLONE, args, 0);
    let ring = Ring::current();
    let call = core::mem::transmute::<usize, xsc_abi::entry_table::ThreadCallFn>(
        ring.entry_table().thread_call as usize,
    );
    crate::arch::xsc_rt_clone_call(call, ring.region(), &entry, f, arg)
}

impl RawThread<'_> {
    /// Waits until the thread has ended.
    pub fn join(self) {
        loop {
            let t = self.tid.load(Ordering::Acquire);
            if t == 0 {
                return;
            }
            let _ = crate::sys::futex_wait(self.tid, t);
        }
    }
}

/// Where a thread started by [`spawn`] goes when its function returns.
pub(crate) extern "C" fn exit_thread_c(code: i32) -> ! {
    crate::sys::exit_thread(code)
}
