//! The `XSC_ABI` ELF note a binary carries to say it speaks the XSC ABI.
//!
//! Standard ELF note: `namesz = 4`, `descsz = 8`, `type = NT_XSC_ABI`,
//! name `"XSC\0"`, then [`XscAbiNoteDesc`]; 4-byte aligned, in a `PT_NOTE`
//! segment.

/// The note's owner (name field), NUL included.
pub const NOTE_NAME: &[u8; 4] = b"XSC\0";
/// The note type of the `XSC_ABI` note.
pub const NT_XSC_ABI: u32 = 1;

/// The note's descriptor.
#[repr(C)]
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq)]
pub struct XscAbiNoteDesc {
    /// The ABI version the binary was built for.
    pub abi_version: u32,
    /// `NOTE_FEATURE_*` bits the binary requires of the kernel. A kernel
    /// refuses a binary that requires a feature it does not know.
    pub features: u32,
}

/// The feature bits a v3 kernel knows (none are defined yet).
pub const NOTE_FEATURES_KNOWN: u32 = 0;

/// The whole note as it appears in the file: header, name, descriptor.
#[repr(C, align(4))]
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct XscAbiNote {
    pub namesz: u32,
    pub descsz: u32,
    pub note_type: u32,
    pub name: [u8; 4],
    pub desc: XscAbiNoteDesc,
}

impl XscAbiNote {
    pub const fn current() -> Self {
        Self {
            namesz: 4,
            descsz: 8,
            note_type: NT_XSC_ABI,
            name: *NOTE_NAME,
            desc: XscAbiNoteDesc {
                abi_version: crate::ABI_VERSION,
                features: 0,
            },
        }
    }
}

impl XscAbiNoteDesc {
    /// Parses the 8 descriptor bytes (little-endian on both targets).
    pub fn parse(desc: &[u8]) -> Option<Self> {
        if desc.len() != 8 {
            return None;
        }
        Some(Self {
            abi_version: u32::from_le_bytes([desc[0], desc[1], desc[2], desc[3]]),
            features: u32::from_le_bytes([desc[4], desc[5], desc[6], desc[7]]),
        })
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use core::mem::size_of;

    #[test]
    fn note_layout() {
        assert_eq!(size_of::<XscAbiNote>(), 24);
        assert_eq!(size_of::<XscAbiNoteDesc>(), 8);
        let n = XscAbiNote::current();
        assert_eq!(n.namesz, 4);
        assert_eq!(n.descsz, 8);
        assert_eq!(&n.name, b"XSC\0");
    }

    #[test]
    fn parse_desc() {
        let d = XscAbiNoteDesc::parse(&[1, 0, 0, 0, 2, 0, 0, 0]).unwrap();
        assert_eq!(d.abi_version, 1);
        assert_eq!(d.features, 2);
        assert!(XscAbiNoteDesc::parse(&[1, 0, 0]).is_none());
    }
}
