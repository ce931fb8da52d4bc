//! Reading the note from a linked binary, through its `PT_NOTE` segments.

use object::read::elf::{FileHeader, ProgramHeader};
use object::{elf, Endianness};
use std::fmt;
use xsc_abi::note::{XscAbiNoteDesc, NOTE_FEATURES_KNOWN, NT_XSC_ABI};

/// What is wrong with a binary's note (or with the binary, as far as
/// finding the note goes).
#[derive(Clone, Debug, PartialEq, Eq)]
pub enum NoteError {
    /// Not a 64-bit little-endian ELF file whose program headers we can read.
    NotElf(String),
    /// No `XSC_ABI` note in any `PT_NOTE` segment.
    Missing,
    /// A note named "XSC" with the right type but a malformed descriptor,
    /// or a `PT_NOTE` segment whose notes cannot be parsed.
    Malformed(String),
    /// The note names an ABI version this code does not speak.
    UnsupportedVersion { found: u32, supported: u32 },
    /// The note requires features this code does not know.
    UnknownFeatures(u32),
}

impl fmt::Display for NoteError {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            NoteError::NotElf(why) => write!(f, "not a 64-bit little-endian ELF file: {why}"),
            NoteError::Missing => write!(f, "no XSC_ABI note in a PT_NOTE segment"),
            NoteError::Malformed(why) => write!(f, "malformed XSC_ABI note: {why}"),
            NoteError::UnsupportedVersion { found, supported } => write!(
                f,
                "XSC_ABI note asks for ABI version {found}; this toolchain speaks version {supported}"
            ),
            NoteError::UnknownFeatures(bits) => write!(f, "XSC_ABI note requires unknown features {bits:#x}"),
        }
    }
}

impl std::error::Error for NoteError {}

/// Finds the `XSC_ABI` note of a binary (any note named "XSC" of type
/// `NT_XSC_ABI` in a `PT_NOTE` segment) without judging its contents.
pub fn find_note(data: &[u8]) -> Result<XscAbiNoteDesc, NoteError> {
    let h = elf::FileHeader64::<Endianness>::parse(data)
        .map_err(|e| NoteError::NotElf(e.to_string()))?;
    let endian = h.endian().map_err(|e| NoteError::NotElf(e.to_string()))?;
    let phdrs = h
        .program_headers(endian, data)
        .map_err(|e| NoteError::NotElf(e.to_string()))?;
    for ph in phdrs {
        let notes = ph
            .notes(endian, data)
            .map_err(|e| NoteError::Malformed(e.to_string()))?;
        let Some(mut notes) = notes else { continue };
        while let Some(note) = notes
            .next()
            .map_err(|e| NoteError::Malformed(e.to_string()))?
        {
            if note.name() == b"XSC" && note.n_type(endian) == NT_XSC_ABI {
                return XscAbiNoteDesc::parse(note.desc()).ok_or_else(|| {
                    NoteError::Malformed(format!(
                        "descriptor is {} bytes, expected 8",
                        note.desc().len()
                    ))
                });
            }
        }
    }
    Err(NoteError::Missing)
}

/// Finds the note and checks it against what this toolchain supports.
pub fn check_note(data: &[u8]) -> Result<XscAbiNoteDesc, NoteError> {
    let desc = find_note(data)?;
    check_desc(desc)?;
    Ok(desc)
}

/// Checks a note's descriptor against what this toolchain supports.
pub fn check_desc(desc: XscAbiNoteDesc) -> Result<(), NoteError> {
    if desc.abi_version != xsc_abi::ABI_VERSION {
        return Err(NoteError::UnsupportedVersion {
            found: desc.abi_version,
            supported: xsc_abi::ABI_VERSION,
        });
    }
    if desc.features & !NOTE_FEATURES_KNOWN != 0 {
        return Err(NoteError::UnknownFeatures(
            desc.features & !NOTE_FEATURES_KNOWN,
        ));
    }
    Ok(())
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn garbage_is_not_elf() {
        assert!(matches!(find_note(b"nope"), Err(NoteError::NotElf(_))));
    }

    #[test]
    fn the_test_binary_has_no_xsc_note() {
        let me = std::fs::read(std::env::current_exe().unwrap()).unwrap();
        assert_eq!(find_note(&me), Err(NoteError::Missing));
    }
}
