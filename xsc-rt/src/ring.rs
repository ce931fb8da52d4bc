//! The submission ring and completion ring of one thread (ABI §2, §4).
//!
//! A small, liburing-like API over a [`RingRegion`]:
//! [`Ring::push`] fills a submission entry, [`Ring::submit`] publishes the
//! new tail and rings the doorbell if the kernel sleeps,
//! [`Ring::wait`] enters the kernel's `wait` entry, which consumes the
//! thread's entries inline and sleeps until completions are ready (spinning
//! first only while a kernel poller serves the ring, `SQ_POLLED`), and
//! [`Ring::pop`] reaps a completion entry.
//!
//! Only one level of code may drive a thread's rings at a time: a signal
//! handler that interrupts a ring call on the same thread must not touch
//! the rings. [`Ring::claim`] marks the rings in use (in the region's
//! `runtime_private` word 0); code that cannot claim them makes its call
//! through [`Ring::thread_call`] instead, which the kernel executes inline.

use crate::arch;
use core::sync::atomic::{compiler_fence, fence, Ordering};
use xsc_abi::entry_table::{DoorbellFn, ThreadCallFn, WaitFn};
use xsc_abi::region::{SQ_NEED_WAKEUP, SQ_POLLED};
use xsc_abi::{CompletionEntry, EntryTable, RingRegion, SubmissionEntry};

/// How many times [`Ring::wait`] polls the completion ring, while a kernel
/// poller serves the ring (`SQ_POLLED`), before it enters the kernel's
/// `wait` (ABI §5.1). Without a poller it enters at once: the entries are
/// consumed there, inline, and spinning would only take CPU.
pub const SPIN_POLLS: u32 = 4096;

/// A handle on one thread's rings. Cheap to make; holds only the region.
#[derive(Clone, Copy, Debug)]
pub struct Ring {
    region: *mut RingRegion,
}

impl Ring {
    /// The calling thread's ring.
    #[inline]
    pub fn current() -> Ring {
        Ring {
            region: arch::current_region(),
        }
    }

    /// A ring over an explicit region.
    ///
    /// # Safety
    /// `region` must be a ring region a kernel set up for the calling thread.
    pub unsafe fn from_region(region: *mut RingRegion) -> Ring {
        Ring { region }
    }

    pub fn region(&self) -> *mut RingRegion {
        self.region
    }

    #[inline]
    fn r(&self) -> &RingRegion {
        // SAFETY: the region is mapped for the thread's whole life by the
        // kernel (Ring is only made from a live region); all fields the user
        // side shares with the kernel are atomics or written once before the
        // thread runs.
        unsafe { &*self.region }
    }

    /// The kernel's entry table.
    #[inline]
    pub fn entry_table(&self) -> &EntryTable {
        // SAFETY: the kernel stores a valid, immutable entry table address in
        // the header before the thread runs (ABI §3).
        unsafe { &*(self.r().header.entry_table as *const EntryTable) }
    }

    /// Claims the rings for the caller. Returns false if an interrupted
    /// caller on this thread holds them (we are inside its signal handler);
    /// then use [`Ring::thread_call`]. Release with [`Ring::release`].
    #[inline]
    pub fn claim(&self) -> bool {
        let depth = &self.r().runtime_private.0[0];
        // Only this thread (and handlers nested on it) touch the word, so a
        // plain load/store pair with compiler fences is enough: a handler
        // runs to completion between any two instructions of ours.
        if depth.load(Ordering::Relaxed) != 0 {
            return false;
        }
        depth.store(1, Ordering::Relaxed);
        compiler_fence(Ordering::SeqCst);
        true
    }

    /// Releases a claim made by [`Ring::claim`].
    #[inline]
    pub fn release(&self) {
        compiler_fence(Ordering::SeqCst);
        self.r().runtime_private.0[0].store(0, Ordering::Relaxed);
    }

    /// Number of free submission slots.
    #[inline]
    pub fn sq_space(&self) -> u32 {
        let r = self.r();
        let head = r.sq_head.0.load(Ordering::Acquire);
        let tail = r.sq_tail.0.load(Ordering::Relaxed);
        // Wrapping, and never below zero: indices are free-running and a
        // corrupt ring (tail more than a ring ahead) has no free slot.
        r.header.sq_entries.saturating_sub(tail.wrapping_sub(head))
    }

    /// Writes `entry` into the next submission slot without publishing it.
    /// Returns false when the ring is full. `pending` is the number of
    /// entries pushed since the last [`Ring::submit`].
    ///
    /// # Safety
    /// Once submitted, the kernel executes the entry as the system call it
    /// describes: every pointer in its arguments must stay valid for what
    /// that call does with it (as the `io-uring` crate's `push` requires),
    /// until its completion is reaped. The caller must hold the claim
    /// ([`Ring::claim`]).
    #[inline]
    pub unsafe fn push(&self, entry: &SubmissionEntry, pending: u32) -> bool {
        if self.sq_space() <= pending {
            return false;
        }
        let r = self.r();
        let tail = r.sq_tail.0.load(Ordering::Relaxed).wrapping_add(pending);
        let slot = tail & (r.header.sq_entries - 1);
        // SAFETY: slot < sq_entries and the array lies inside the region
        // (validated layout); the kernel does not read slots past the
        // published tail, so this slot is ours until `submit`.
        unsafe {
            let sqes =
                (self.region as *mut u8).add(r.header.sqes_offset as usize) as *mut SubmissionEntry;
            sqes.add(slot as usize).write(*entry);
        }
        true
    }

    /// Publishes `count` pushed entries and wakes the kernel if it sleeps.
    ///
    /// # Safety
    /// As for [`Ring::push`]: the published entries' pointers must be valid
    /// for their calls; `count` must not exceed the entries pushed.
    #[inline]
    pub unsafe fn submit(&self, count: u32) {
        let r = self.r();
        let tail = r.sq_tail.0.load(Ordering::Relaxed);
        r.sq_tail
            .0
            .store(tail.wrapping_add(count), Ordering::Release);
        // Pairs with the kernel's fence between setting SQ_NEED_WAKEUP and
        // re-reading the tail: either it sees our tail or we see its flag.
        fence(Ordering::SeqCst);
        if r.sq_status.0.flags.load(Ordering::Relaxed) & SQ_NEED_WAKEUP != 0 {
            let doorbell: DoorbellFn =
                // SAFETY: the entry table holds the address of a function
                // with the DoorbellFn signature (ABI §5).
                unsafe { core::mem::transmute(self.entry_table().doorbell as usize) };
            // SAFETY: our own region, as the doorbell expects.
            unsafe { doorbell(self.region) };
        }
    }

    /// Publishes `count` pushed entries and waits until at least `min`
    /// completions are ready: the path of a synchronous call. No fence or
    /// doorbell is needed here (unlike [`Ring::submit`]): `wait` consumes
    /// every published entry no poller has taken, so none is left unnoticed.
    ///
    /// # Safety
    /// As for [`Ring::submit`].
    #[inline]
    pub unsafe fn submit_and_wait(&self, count: u32, min: u32) {
        let r = self.r();
        let tail = r.sq_tail.0.load(Ordering::Relaxed);
        r.sq_tail
            .0
            .store(tail.wrapping_add(count), Ordering::Release);
        self.wait(min);
    }

    /// Completion entries ready to reap.
    #[inline]
    pub fn cq_ready(&self) -> u32 {
        let r = self.r();
        let tail = r.cq_tail.0.load(Ordering::Acquire);
        let head = r.cq_head.0.load(Ordering::Relaxed);
        tail.wrapping_sub(head)
    }

    /// Waits until at least `min` completion entries are ready. While a
    /// kernel poller serves the ring (`SQ_POLLED`) it polls up to
    /// [`SPIN_POLLS`] times first; then (at once, without a poller) it enters
    /// the kernel's `wait`, which consumes the pending entries in this thread
    /// and sleeps until enough completions are ready.
    pub fn wait(&self, min: u32) {
        let flags = &self.r().sq_status.0.flags;
        let mut polls = 0;
        while polls < SPIN_POLLS && flags.load(Ordering::Relaxed) & SQ_POLLED != 0 {
            if self.cq_ready() >= min {
                return;
            }
            arch::cpu_relax();
            polls += 1;
        }
        while self.cq_ready() < min {
            // SAFETY: our own region. -EINTR (a signal handler ran) just
            // means: look again.
            unsafe { self.enter_wait(min) };
        }
    }

    /// Has the kernel consume the pending entries (inline, in this thread,
    /// if no poller has taken them) without waiting for any completion: the
    /// `enter` of io_uring, `wait(region, 0)` (ABI v2).
    pub fn enter(&self) {
        // SAFETY: our own region.
        unsafe { self.enter_wait(0) };
    }

    /// # Safety
    /// The calling thread must own this ring.
    unsafe fn enter_wait(&self, min: u32) -> i64 {
        let wait: WaitFn =
            // SAFETY: the entry table holds a WaitFn (ABI §5).
            unsafe { core::mem::transmute(self.entry_table().wait as usize) };
        wait(self.region, min)
    }

    /// Takes the oldest completion entry, if any.
    #[inline]
    pub fn pop(&self) -> Option<CompletionEntry> {
        if self.cq_ready() == 0 {
            return None;
        }
        let r = self.r();
        let head = r.cq_head.0.load(Ordering::Relaxed);
        let slot = head & (r.header.cq_entries - 1);
        // SAFETY: slot < cq_entries inside the region; the acquire load of
        // the tail in cq_ready made the kernel's write of this entry visible.
        let cqe = unsafe {
            let cqes = (self.region as *const u8).add(r.header.cqes_offset as usize)
                as *const CompletionEntry;
            cqes.add(slot as usize).read()
        };
        // Release: the kernel may reuse the slot only after we read it.
        r.cq_head.0.store(head.wrapping_add(1), Ordering::Release);
        Some(cqe)
    }

    /// The sequence number the next pushed entry will get (its tail index);
    /// handy as `user_data`.
    #[inline]
    pub fn next_sequence(&self) -> u32 {
        self.r().sq_tail.0.load(Ordering::Relaxed)
    }

    /// Performs an operation in the calling thread's context through the
    /// entry table (thread-context operations, and calls made while the
    /// rings are claimed by an interrupted caller).
    ///
    /// # Safety
    /// As for the raw system call the entry describes: its pointer
    /// arguments must be valid for what the call does with them.
    #[inline]
    pub unsafe fn thread_call(&self, entry: &SubmissionEntry) -> i64 {
        let call: ThreadCallFn =
            // SAFETY: the entry table holds a ThreadCallFn (ABI §5).
            unsafe { core::mem::transmute(self.entry_table().thread_call as usize) };
        // SAFETY: our own region; the entry's arguments are the caller's
        // responsibility (above).
        unsafe { call(self.region, entry) }
    }
}

#[cfg(test)]
mod tests {
    extern crate std;
    use super::*;
    use std::boxed::Box;
    use std::vec;
    use xsc_abi::region::{RegionLayout, RingRegionHeader};

    /// A region in plain memory, with no kernel behind it: enough to test
    /// the index arithmetic of the user side.
    #[repr(C, align(4096))]
    #[derive(Clone)]
    struct Page([u8; 4096]);

    fn fake_region(table: &'static EntryTable) -> (Box<[Page]>, Ring) {
        let l = RegionLayout::new(4, 8);
        let mut mem = vec![Page([0; 4096]); l.region_size as usize / 4096].into_boxed_slice();
        let region = mem.as_mut_ptr() as *mut RingRegion;
        // SAFETY: the buffer is region_size bytes, page-aligned like a real
        // region, and zeroed atomics are valid.
        unsafe {
            core::ptr::addr_of_mut!((*region).header).write(RingRegionHeader::new(
                l,
                region as u64,
                table as *const _ as u64,
                0,
            ));
            (mem, Ring::from_region(region))
        }
    }

    static TABLE: EntryTable = EntryTable {
        magic: 0,
        abi_version: xsc_abi::ABI_VERSION,
        size: xsc_abi::entry_table::ENTRY_TABLE_SIZE,
        reserved: 0,
        wait: 0,
        doorbell: 0,
        thread_call: 0,
        sigreturn: 0,
        clock_gettime: 0,
        gettimeofday: 0,
        time: 0,
        getcpu: 0,
    };

    #[test]
    fn push_and_submit_respect_the_ring_size() {
        let (_mem, ring) = fake_region(&TABLE);
        assert_eq!(ring.sq_space(), 4);
        let e = SubmissionEntry::new(1, [0; 6], 9);
        // SAFETY: the fake ring has no kernel behind it: nothing executes
        // the entries.
        unsafe {
            for pending in 0..4 {
                assert!(ring.push(&e, pending));
            }
            assert!(!ring.push(&e, 4), "a fifth entry does not fit");
            ring.submit(4); // no doorbell: SQ_NEED_WAKEUP is clear
        }
        // SAFETY: the fake region lives in `_mem` for the whole test.
        let r = unsafe { &*ring.region() };
        assert_eq!(r.sq_tail.0.load(Ordering::Relaxed), 4);
        assert_eq!(ring.sq_space(), 0);
        // The "kernel" consumes two.
        r.sq_head.0.store(2, Ordering::Release);
        assert_eq!(ring.sq_space(), 2);
        assert_eq!(ring.next_sequence(), 4);
    }

    #[test]
    fn pop_reads_completions_in_order_and_wraps() {
        let (_mem, ring) = fake_region(&TABLE);
        // SAFETY: the fake region lives in `_mem` for the whole test, and the
        // completion array lies inside it at cqes_offset.
        let r = unsafe { &*ring.region() };
        // SAFETY: as above.
        let cqes = unsafe {
            (ring.region() as *mut u8).add(r.header.cqes_offset as usize) as *mut CompletionEntry
        };
        assert!(ring.pop().is_none());
        for round in 0..3u64 {
            for i in 0..8u64 {
                let tail = r.cq_tail.0.load(Ordering::Relaxed);
                let c = CompletionEntry {
                    user_data: round * 8 + i,
                    result: i as i64,
                    ..Default::default()
                };
                // SAFETY: slot (tail & 7) < cq_entries (8) in the fake region.
                unsafe { cqes.add((tail & 7) as usize).write(c) };
                r.cq_tail.0.store(tail + 1, Ordering::Release);
            }
            assert_eq!(ring.cq_ready(), 8);
            for i in 0..8u64 {
                assert_eq!(ring.pop().unwrap().user_data, round * 8 + i);
            }
            assert!(ring.pop().is_none());
        }
    }

    #[test]
    fn only_one_level_may_claim_the_rings() {
        let (_mem, ring) = fake_region(&TABLE);
        assert!(ring.claim());
        assert!(
            !ring.claim(),
            "a nested caller (signal handler) must not claim"
        );
        ring.release();
        assert!(ring.claim());
        ring.release();
    }
}
