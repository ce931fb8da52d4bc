//! The kernel-provided entry table (the XSC analogue of a vDSO).
//!
//! A program with no system-call instruction cannot sleep, wake the kernel or
//! return from a signal handler by itself; the kernel maps code for those and
//! publishes its addresses here. Entries use the platform C calling
//! convention (System V on x86_64, AAPCS64 on aarch64).

use crate::region::RingRegion;
use crate::ring_entry::SubmissionEntry;

/// `"XSCE"` in little-endian byte order.
pub const ENTRY_TABLE_MAGIC: u32 = u32::from_le_bytes(*b"XSCE");

/// `wait(region, min_complete) -> 0 | -EINTR`: consume the calling thread's
/// pending submission entries in its own context (those no poller has
/// taken), then sleep until at least `min_complete` completion entries are
/// available (`cq_tail - cq_head`). With `min_complete == 0` it only
/// consumes and never sleeps (ABI v2; the `enter` of io_uring).
pub type WaitFn = unsafe extern "C" fn(region: *mut RingRegion, min_complete: u32) -> i64;
/// `doorbell(region) -> 0`: wake the kernel side serving this ring. Needed
/// only when `SQ_NEED_WAKEUP` is set; harmless otherwise.
pub type DoorbellFn = unsafe extern "C" fn(region: *mut RingRegion) -> i64;
/// `thread_call(region, entry) -> result`: perform an operation in the
/// calling thread's own context and return its result (`>= 0` or
/// `-errno`), as the raw system call would. Thread-context operations must
/// be made this way; any other operation may be (the kernel executes it
/// inline, without the rings), which is what a runtime does for a call
/// made while one of its ring calls is in flight on the same thread (a
/// signal handler's call).
pub type ThreadCallFn =
    unsafe extern "C" fn(region: *mut RingRegion, entry: *const SubmissionEntry) -> i64;

/// The time functions (ABI v2), served in user space without a ring round
/// trip, as Linux's vDSO serves them: the arguments, behaviour and result of
/// the system call of the same name, in the raw form (`>= 0` or `-errno`).
/// `clock_gettime(clockid, struct timespec *)`.
pub type ClockGettimeFn = unsafe extern "C" fn(clock: i32, ts: *mut [i64; 2]) -> i64;
/// `gettimeofday(struct timeval *, struct timezone *)`.
pub type GettimeofdayFn = unsafe extern "C" fn(tv: *mut [i64; 2], tz: *mut [i32; 2]) -> i64;
/// `time(time_t *)`: the seconds since the epoch (also stored at `t` if not
/// NULL).
pub type TimeFn = unsafe extern "C" fn(t: *mut i64) -> i64;
/// `getcpu(unsigned *cpu, unsigned *node, void *unused)`.
pub type GetcpuFn = unsafe extern "C" fn(cpu: *mut u32, node: *mut u32, unused: *mut u8) -> i64;

#[repr(C)]
#[derive(Clone, Copy, Debug)]
pub struct EntryTable {
    /// [`ENTRY_TABLE_MAGIC`].
    pub magic: u32,
    /// [`crate::ABI_VERSION`].
    pub abi_version: u32,
    /// `size_of::<EntryTable>()` of the kernel that wrote it; later versions
    /// only append.
    pub size: u32,
    pub reserved: u32,
    /// Address of a [`WaitFn`].
    pub wait: u64,
    /// Address of a [`DoorbellFn`].
    pub doorbell: u64,
    /// Address of a [`ThreadCallFn`].
    pub thread_call: u64,
    /// Address of the signal-return trampoline: pass it as `sa_restorer`
    /// (with `SA_RESTORER`) in every `rt_sigaction`. Not a callable function.
    pub sigreturn: u64,
    /// Address of a [`ClockGettimeFn`] (v2).
    pub clock_gettime: u64,
    /// Address of a [`GettimeofdayFn`] (v2).
    pub gettimeofday: u64,
    /// Address of a [`TimeFn`] (v2).
    pub time: u64,
    /// Address of a [`GetcpuFn`] (v2).
    pub getcpu: u64,
}

/// The table's `size` in ABI v2.
pub const ENTRY_TABLE_SIZE: u32 = core::mem::size_of::<EntryTable>() as u32;

#[cfg(test)]
mod tests {
    use super::*;
    use core::mem::{offset_of, size_of};

    #[test]
    fn entry_table_layout() {
        assert_eq!(size_of::<EntryTable>(), 80);
        assert_eq!(ENTRY_TABLE_SIZE, 80);
        assert_eq!(offset_of!(EntryTable, magic), 0);
        assert_eq!(offset_of!(EntryTable, abi_version), 4);
        assert_eq!(offset_of!(EntryTable, size), 8);
        assert_eq!(offset_of!(EntryTable, wait), 16);
        assert_eq!(offset_of!(EntryTable, doorbell), 24);
        assert_eq!(offset_of!(EntryTable, thread_call), 32);
        assert_eq!(offset_of!(EntryTable, sigreturn), 40);
        assert_eq!(offset_of!(EntryTable, clock_gettime), 48);
        assert_eq!(offset_of!(EntryTable, gettimeofday), 56);
        assert_eq!(offset_of!(EntryTable, time), 64);
        assert_eq!(offset_of!(EntryTable, getcpu), 72);
        assert_eq!(ENTRY_TABLE_MAGIC, 0x4543_5358);
    }
}
