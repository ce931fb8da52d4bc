//! Writing the note as an ELF object to link into a binary.

use object::write::{Object, StandardSection};
use object::{elf, Architecture, BinaryFormat, Endianness, SectionKind};
use xsc_abi::note::XscAbiNoteDesc;

/// The architectures XSC binaries are built for.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Arch {
    X86_64,
    Aarch64,
}

impl Arch {
    fn object_arch(self) -> Architecture {
        match self {
            Arch::X86_64 => Architecture::X86_64,
            Arch::Aarch64 => Architecture::Aarch64,
        }
    }
}

/// The note's bytes: header, `"XSC\0"`, descriptor (all 4-byte aligned,
/// little-endian as on both targets).
pub fn note_bytes(desc: XscAbiNoteDesc) -> Vec<u8> {
    let mut v = Vec::with_capacity(24);
    for word in [4u32, 8, crate::NT_XSC_ABI] {
        v.extend_from_slice(&word.to_le_bytes());
    }
    v.extend_from_slice(xsc_abi::note::NOTE_NAME);
    v.extend_from_slice(&desc.abi_version.to_le_bytes());
    v.extend_from_slice(&desc.features.to_le_bytes());
    v
}

/// An ELF relocatable object for `arch` whose only content is the note, in
/// an allocated `SHT_NOTE` section named [`crate::NOTE_SECTION`].
pub fn note_object(arch: Arch, desc: XscAbiNoteDesc) -> Result<Vec<u8>, object::write::Error> {
    let mut obj = Object::new(BinaryFormat::Elf, arch.object_arch(), Endianness::Little);
    // Mark the stack non-executable, as compilers do for every object.
    let stack = obj.add_section(Vec::new(), b".note.GNU-stack".to_vec(), SectionKind::Other);
    obj.section_mut(stack).flags = object::SectionFlags::Elf { sh_flags: 0 };
    let _ = StandardSection::Data;
    let id = obj.add_section(
        Vec::new(),
        crate::NOTE_SECTION.as_bytes().to_vec(),
        SectionKind::Note,
    );
    obj.section_mut(id).flags = object::SectionFlags::Elf {
        sh_flags: elf::SHF_ALLOC as u64,
    };
    obj.append_section_data(id, &note_bytes(desc), 4);
    obj.write()
}

#[cfg(test)]
mod tests {
    use super::*;
    use object::{Object as _, ObjectSection};

    #[test]
    fn the_object_holds_an_allocated_note_section() {
        let desc = XscAbiNoteDesc {
            abi_version: 1,
            features: 0,
        };
        for arch in [Arch::X86_64, Arch::Aarch64] {
            let bytes = note_object(arch, desc).unwrap();
            let file = object::File::parse(&*bytes).unwrap();
            let s = file.section_by_name(crate::NOTE_SECTION).unwrap();
            assert_eq!(s.data().unwrap(), note_bytes(desc));
            match s.flags() {
                object::SectionFlags::Elf { sh_flags } => {
                    assert_ne!(sh_flags & elf::SHF_ALLOC as u64, 0)
                }
                f => panic!("{f:?}"),
            }
            assert_eq!(s.kind(), SectionKind::Note);
        }
    }

    #[test]
    fn note_bytes_match_the_abi_struct() {
        let b = note_bytes(XscAbiNoteDesc {
            abi_version: 1,
            features: 0x10,
        });
        assert_eq!(
            b,
            [4, 0, 0, 0, 8, 0, 0, 0, 1, 0, 0, 0, b'X', b'S', b'C', 0, 1, 0, 0, 0, 0x10, 0, 0, 0]
        );
    }
}
