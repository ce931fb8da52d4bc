//! The `XSC_ABI` ELF note (docs/ABI.md §8), shared by the linker wrapper
//! (which writes it), xsc-run and xsc-elfcheck (which read it).
//!
//! - [`write`]: an ELF relocatable object holding the note in a
//!   `.note.xsc.abi` section (`SHT_NOTE`, allocated), which the linker
//!   places in a `PT_NOTE` segment.
//! - [`read`]: find and check the note in a linked binary, through its
//!   program headers (`PT_NOTE`), as a kernel does.

pub mod read;
pub mod write;

pub use read::{find_note, NoteError};
pub use write::{note_object, Arch};
pub use xsc_abi::note::{XscAbiNoteDesc, NOTE_FEATURES_KNOWN, NT_XSC_ABI};
pub use xsc_abi::ABI_VERSION;

/// The section name the note is written to.
pub const NOTE_SECTION: &str = ".note.xsc.abi";
