//! The ring region: one per thread, holding that thread's submission ring
//! (SQ) and completion ring (CQ).
//!
//! ```text
//! 0x000  RingRegionHeader        (kernel writes it before the thread runs; `tid` again in a forked child)
//! 0x040  sq_tail                 producer index: user stores (release), kernel loads (acquire)
//! 0x080  sq_head                 consumer index: kernel stores (release), user loads (acquire)
//! 0x0c0  sq_flags, sq_dropped    kernel stores, user loads
//! 0x100  cq_tail                 producer index: kernel stores (release), user loads (acquire)
//! 0x140  cq_head                 consumer index: user stores (release), kernel loads (acquire)
//! 0x180  runtime_private         the user-side runtime's own per-thread words; the kernel never touches them
//! sqes_offset                    sq_entries x SubmissionEntry (64 bytes)
//! cqes_offset                    cq_entries x CompletionEntry (32 bytes)
//! ```
//!
//! Indices are free-running `u32` counters; an index selects slot
//! `index & (entries - 1)`. Entry counts are powers of two.

use crate::ring_entry::{CompletionEntry, SubmissionEntry};
use crate::CACHE_LINE;
use core::mem::size_of;
use core::sync::atomic::{AtomicU32, AtomicU64};

/// `"XSCR"` in little-endian byte order.
pub const REGION_MAGIC: u32 = u32::from_le_bytes(*b"XSCR");

/// A poller serves this ring but sleeps: a submitter that advanced `sq_tail`
/// and does not `wait` must ring the doorbell (entry table `doorbell`) for
/// the poller to consume the entries. Checked after a sequentially
/// consistent fence that follows the tail store.
pub const SQ_NEED_WAKEUP: u32 = 1 << 0;
/// The kernel stopped consuming submissions because the completion ring is
/// full; it resumes when the user advances `cq_head`.
pub const SQ_CQ_FULL: u32 = 1 << 1;
/// A poller is polling this ring right now: submitted entries are consumed
/// without the thread entering the kernel, so a thread waiting for a
/// completion may spin for a bounded time before it calls `wait`. When it is
/// clear, entries are consumed inline, in the submitting thread's own
/// `wait`, and spinning only wastes CPU (ABI v2).
pub const SQ_POLLED: u32 = 1 << 2;

/// Default number of submission entries in a ring a v3 kernel creates.
pub const DEFAULT_SQ_ENTRIES: u32 = 64;
/// Default number of completion entries (twice the submission entries, so a
/// user that never has more than `sq_entries` in flight cannot fill it).
pub const DEFAULT_CQ_ENTRIES: u32 = 128;

/// The first cache line of a ring region.
#[repr(C, align(64))]
#[derive(Debug)]
pub struct RingRegionHeader {
    /// The region's own address. On x86_64 the GS base of every XSC thread
    /// points at its region, so `mov %gs:0, %reg` finds it.
    pub self_ptr: u64,
    /// [`REGION_MAGIC`].
    pub magic: u32,
    /// [`crate::ABI_VERSION`].
    pub abi_version: u32,
    /// Address of the process's [`crate::EntryTable`].
    pub entry_table: u64,
    /// Number of submission entries (a power of two).
    pub sq_entries: u32,
    /// Number of completion entries (a power of two).
    pub cq_entries: u32,
    /// Offset of the submission entry array from the region start.
    pub sqes_offset: u32,
    /// Offset of the completion entry array from the region start.
    pub cqes_offset: u32,
    /// Size of the whole region in bytes (a multiple of the page size).
    pub region_size: u32,
    /// Thread id of the thread that owns this ring.
    pub tid: u32,
    /// Reserved for the kernel; the user side must not read or write it.
    pub kernel_private: u64,
    /// Zero in v2 and v3.
    pub reserved: u64,
}

/// A value alone on its cache line, so producer and consumer indices never
/// share a line.
#[repr(C, align(64))]
#[derive(Debug, Default)]
pub struct CacheLine<T>(pub T);

/// The kernel-written status line of the submission ring.
#[repr(C)]
#[derive(Debug, Default)]
pub struct SqStatus {
    /// `SQ_*` flags.
    pub flags: AtomicU32,
    /// Count of entries the kernel dropped because of a ring error.
    pub dropped: AtomicU32,
}

/// The fixed part of a ring region; the entry arrays follow at the offsets
/// the header gives.
#[repr(C)]
#[derive(Debug)]
pub struct RingRegion {
    pub header: RingRegionHeader,
    pub sq_tail: CacheLine<AtomicU32>,
    pub sq_head: CacheLine<AtomicU32>,
    pub sq_status: CacheLine<SqStatus>,
    pub cq_tail: CacheLine<AtomicU32>,
    pub cq_head: CacheLine<AtomicU32>,
    /// Eight words for the user-side runtime's per-thread state (xsc-rt
    /// keeps its ring claim, 0 or 1, in word 0). The kernel never reads or
    /// writes them.
    pub runtime_private: CacheLine<[AtomicU64; 8]>,
}

/// Where things go in a region with the given entry counts.
#[repr(C)]
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct RegionLayout {
    pub sq_entries: u32,
    pub cq_entries: u32,
    pub sqes_offset: u32,
    pub cqes_offset: u32,
    pub region_size: u32,
}

/// Why a region header cannot be used.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum RegionError {
    BadMagic,
    UnsupportedVersion(u32),
    NotPowerOfTwo,
    BadOffsets,
}

const fn round_up(v: usize, to: usize) -> usize {
    v.div_ceil(to) * to
}

impl RegionLayout {
    /// The layout a kernel uses for `sq_entries`/`cq_entries` (both powers of
    /// two, `cq_entries >= sq_entries`).
    ///
    /// # Panics
    /// If the region would not fit the header's 32-bit offsets and size
    /// (rings of millions of entries); see [`RegionLayout::checked`].
    pub const fn new(sq_entries: u32, cq_entries: u32) -> Self {
        match Self::checked(sq_entries, cq_entries) {
            Some(l) => l,
            None => panic!("ring region larger than 4 GiB"),
        }
    }

    /// [`RegionLayout::new`], or `None` when an offset or the region size
    /// would not fit in 32 bits.
    pub const fn checked(sq_entries: u32, cq_entries: u32) -> Option<Self> {
        let sqes = round_up(size_of::<RingRegion>(), CACHE_LINE) as u64;
        let cqes = sqes + sq_entries as u64 * size_of::<SubmissionEntry>() as u64;
        let end = cqes + cq_entries as u64 * size_of::<CompletionEntry>() as u64;
        let size = end.div_ceil(4096) * 4096;
        if size > u32::MAX as u64 {
            return None;
        }
        Some(Self {
            sq_entries,
            cq_entries,
            sqes_offset: sqes as u32,
            cqes_offset: cqes as u32,
            region_size: size as u32,
        })
    }

    /// The default layout (the same since v1).
    pub const fn default_v1() -> Self {
        Self::new(DEFAULT_SQ_ENTRIES, DEFAULT_CQ_ENTRIES)
    }
}

impl RingRegionHeader {
    /// The header a kernel writes for a region at `self_ptr` with `layout`.
    pub const fn new(
        layout: RegionLayout,
        self_ptr: u64,
        entry_table: u64,
        kernel_private: u64,
    ) -> Self {
        Self {
            self_ptr,
            magic: REGION_MAGIC,
            abi_version: crate::ABI_VERSION,
            entry_table,
            sq_entries: layout.sq_entries,
            cq_entries: layout.cq_entries,
            sqes_offset: layout.sqes_offset,
            cqes_offset: layout.cqes_offset,
            region_size: layout.region_size,
            tid: 0,
            kernel_private,
            reserved: 0,
        }
    }

    /// Checks what a user side relies on before it touches the rings.
    pub fn validate(&self) -> Result<RegionLayout, RegionError> {
        if self.magic != REGION_MAGIC {
            return Err(RegionError::BadMagic);
        }
        if self.abi_version != crate::ABI_VERSION {
            return Err(RegionError::UnsupportedVersion(self.abi_version));
        }
        if !self.sq_entries.is_power_of_two() || !self.cq_entries.is_power_of_two() {
            return Err(RegionError::NotPowerOfTwo);
        }
        let layout = RegionLayout {
            sq_entries: self.sq_entries,
            cq_entries: self.cq_entries,
            sqes_offset: self.sqes_offset,
            cqes_offset: self.cqes_offset,
            region_size: self.region_size,
        };
        let sq_end = self.sqes_offset as u64 + self.sq_entries as u64 * 64;
        let cq_end = self.cqes_offset as u64 + self.cq_entries as u64 * 32;
        let fixed = size_of::<RingRegion>() as u64;
        let ok = self.sqes_offset as u64 >= fixed
            && self.cqes_offset as u64 >= fixed
            && self.sqes_offset.is_multiple_of(64)
            && self.cqes_offset.is_multiple_of(32)
            && (sq_end <= self.cqes_offset as u64 || cq_end <= self.sqes_offset as u64)
            && sq_end <= self.region_size as u64
            && cq_end <= self.region_size as u64;
        if ok {
            Ok(layout)
        } else {
            Err(RegionError::BadOffsets)
        }
    }
}

/// aarch64: the offset from the thread pointer (TPIDR_EL0) of the word
/// that holds the thread's ring region address (ABI §3.5): the second word
/// of the 16-byte thread control block that the AArch64 TLS ABI reserves
/// for the system (TLS blocks start at TPIDR_EL0 + 16).
pub const AARCH64_TP_REGION_WORD: usize = 8;

#[cfg(test)]
mod tests {
    use super::*;
    use core::mem::offset_of;

    #[test]
    fn aarch64_region_word_is_pinned() {
        assert_eq!(AARCH64_TP_REGION_WORD, 8);
    }

    #[test]
    fn header_layout() {
        assert_eq!(size_of::<RingRegionHeader>(), 64);
        assert_eq!(offset_of!(RingRegionHeader, self_ptr), 0);
        assert_eq!(offset_of!(RingRegionHeader, magic), 8);
        assert_eq!(offset_of!(RingRegionHeader, abi_version), 12);
        assert_eq!(offset_of!(RingRegionHeader, entry_table), 16);
        assert_eq!(offset_of!(RingRegionHeader, sq_entries), 24);
        assert_eq!(offset_of!(RingRegionHeader, cq_entries), 28);
        assert_eq!(offset_of!(RingRegionHeader, sqes_offset), 32);
        assert_eq!(offset_of!(RingRegionHeader, cqes_offset), 36);
        assert_eq!(offset_of!(RingRegionHeader, region_size), 40);
        assert_eq!(offset_of!(RingRegionHeader, tid), 44);
        assert_eq!(offset_of!(RingRegionHeader, kernel_private), 48);
        assert_eq!(offset_of!(RingRegionHeader, reserved), 56);
    }

    #[test]
    fn indices_sit_on_their_own_cache_lines() {
        assert_eq!(offset_of!(RingRegion, sq_tail), 0x40);
        assert_eq!(offset_of!(RingRegion, sq_head), 0x80);
        assert_eq!(offset_of!(RingRegion, sq_status), 0xc0);
        assert_eq!(offset_of!(SqStatus, flags), 0);
        assert_eq!(offset_of!(SqStatus, dropped), 4);
        assert_eq!(offset_of!(RingRegion, cq_tail), 0x100);
        assert_eq!(offset_of!(RingRegion, cq_head), 0x140);
        assert_eq!(offset_of!(RingRegion, runtime_private), 0x180);
        assert_eq!(size_of::<RingRegion>(), 0x1c0);
    }

    #[test]
    fn default_layout() {
        let l = RegionLayout::default_v1();
        assert_eq!(l.sqes_offset, 0x1c0);
        assert_eq!(l.cqes_offset, 0x1c0 + 64 * 64);
        assert_eq!(l.region_size, 12288);
        assert_eq!(REGION_MAGIC, 0x5243_5358);
    }

    #[test]
    fn huge_rings_do_not_truncate_offsets() {
        assert!(RegionLayout::checked(1 << 20, 1 << 21).is_some());
        assert_eq!(RegionLayout::checked(1 << 26, 1 << 27), None);
        assert_eq!(RegionLayout::checked(1 << 31, 1 << 31), None);
        assert_eq!(
            RegionLayout::checked(DEFAULT_SQ_ENTRIES, DEFAULT_CQ_ENTRIES),
            Some(RegionLayout::default_v1())
        );
    }

    #[test]
    fn sq_flag_values() {
        assert_eq!(SQ_NEED_WAKEUP, 1);
        assert_eq!(SQ_CQ_FULL, 2);
        assert_eq!(SQ_POLLED, 4);
    }

    fn header_for(l: RegionLayout) -> RingRegionHeader {
        RingRegionHeader::new(l, 0, 0, 0)
    }

    #[test]
    fn validate_accepts_default_and_rejects_broken_headers() {
        let l = RegionLayout::default_v1();
        assert_eq!(header_for(l).validate(), Ok(l));
        let mut h = header_for(l);
        h.magic = 0;
        assert_eq!(h.validate(), Err(RegionError::BadMagic));
        let mut h = header_for(l);
        h.abi_version = crate::ABI_VERSION + 1;
        assert_eq!(
            h.validate(),
            Err(RegionError::UnsupportedVersion(crate::ABI_VERSION + 1))
        );
        let mut h = header_for(l);
        h.sq_entries = 63;
        assert_eq!(h.validate(), Err(RegionError::NotPowerOfTwo));
        let mut h = header_for(l);
        h.cqes_offset = h.sqes_offset + 64; // overlaps the SQ entries
        assert_eq!(h.validate(), Err(RegionError::BadOffsets));
        let mut h = header_for(l);
        h.region_size = 4096; // entries run past the end
        assert_eq!(h.validate(), Err(RegionError::BadOffsets));
    }
}
