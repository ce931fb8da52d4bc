//! XSC ABI v3: the types and constants shared by the user side (xsc-rt, the
//! libc fork) and the kernel side (xsc-run or any other XSC kernel).
//!
//! Everything here is `#[repr(C)]` and pinned by tests: sizes, offsets and
//! constant values are the contract written down in `docs/ABI.md`. Change one
//! and you change the ABI: bump [`ABI_VERSION`] and the document together.
#![no_std]

pub mod auxv;
pub mod entry_table;
pub mod note;
pub mod ops;
pub mod region;
pub mod ring_entry;

pub use entry_table::EntryTable;
pub use note::XscAbiNoteDesc;
pub use region::{RingRegion, RingRegionHeader};
pub use ring_entry::{CompletionEntry, SubmissionEntry};

/// The ABI version this crate describes. Stored in the `XSC_ABI` note, the
/// ring region header, the entry table and `AT_XSC_VERSION`.
pub const ABI_VERSION: u32 = 3;

/// Size of a cache line as the ABI assumes it (x86_64 and aarch64 alike).
pub const CACHE_LINE: usize = 64;
