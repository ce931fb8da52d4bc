//! Reading the ELF file: header, program headers, and the file-level rules
//! (note, `PT_INTERP`, `DT_NEEDED`, writable+executable memory).
//!
//! Everything here comes from the ELF header and the program headers, as a
//! loader sees the file. Section headers are not read here (see
//! `symbols.rs`): they only name places.

use crate::error::CheckError;
use crate::findings::{Arch, Finding, FindingKind, Severity};
use object::elf;
use object::read::elf::{FileHeader, ProgramHeader};
use object::LittleEndian as LE;

/// One program header, with the fields the checker uses.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct Phdr {
    /// Index in the program header table.
    pub index: usize,
    pub p_type: u32,
    pub flags: u32,
    pub offset: u64,
    pub vaddr: u64,
    pub filesz: u64,
    pub memsz: u64,
    pub align: u64,
}

impl Phdr {
    pub fn is_exec_load(&self) -> bool {
        self.p_type == elf::PT_LOAD && self.flags & elf::PF_X != 0
    }
}

/// A parsed ELF file: what the loader needs.
pub struct Elf<'a> {
    pub data: &'a [u8],
    pub header: &'a elf::FileHeader64<LE>,
    pub arch: Arch,
    pub phdrs: Vec<Phdr>,
}

fn hex(v: u64) -> String {
    format!("{v:#x}")
}

/// Parses the ELF header and the program headers, and checks that every
/// `PT_LOAD` segment is consistent with the file.
pub fn parse(data: &[u8]) -> Result<Elf<'_>, CheckError> {
    if data.len() < 4 || data[..4] != elf::ELFMAG {
        return Err(CheckError::NotElf(
            "no ELF magic number (\\x7fELF) at the start".into(),
        ));
    }
    if data.len() < 64 {
        return Err(CheckError::Malformed(format!(
            "the file is {} bytes, shorter than an ELF64 header (64 bytes)",
            data.len()
        )));
    }
    match data[4] /* EI_CLASS */ {
        elf::ELFCLASS64 => {}
        elf::ELFCLASS32 => return Err(CheckError::Unsupported("32-bit ELF (ELFCLASS32); XSC binaries are ELF64".into())),
        c => return Err(CheckError::Malformed(format!("unknown ELF class {c}"))),
    }
    match data[5] /* EI_DATA */ {
        elf::ELFDATA2LSB => {}
        elf::ELFDATA2MSB => return Err(CheckError::Unsupported("big-endian ELF; XSC binaries are little-endian".into())),
        d => return Err(CheckError::Malformed(format!("unknown ELF data encoding {d}"))),
    }
    let header =
        elf::FileHeader64::<LE>::parse(data).map_err(|e| CheckError::Malformed(e.to_string()))?;
    let arch = match header.e_machine(LE) {
        elf::EM_X86_64 => Arch::X86_64,
        elf::EM_AARCH64 => Arch::Aarch64,
        m => {
            return Err(CheckError::Unsupported(format!(
                "machine {m} ({}); XSC binaries are x86_64 or aarch64",
                machine_name(m)
            )))
        }
    };
    match header.e_type(LE) {
        elf::ET_EXEC | elf::ET_DYN => {}
        elf::ET_REL => {
            return Err(CheckError::Unsupported(
                "a relocatable object (ET_REL) has no program headers; check the linked binary"
                    .into(),
            ))
        }
        elf::ET_CORE => return Err(CheckError::Unsupported("a core dump (ET_CORE)".into())),
        t => {
            return Err(CheckError::Unsupported(format!(
                "ELF type {t}, neither ET_EXEC nor ET_DYN"
            )))
        }
    }
    let raw = header
        .program_headers(LE, data)
        .map_err(|e| CheckError::Malformed(format!("program header table: {e}")))?;
    let mut phdrs = Vec::with_capacity(raw.len());
    for (index, ph) in raw.iter().enumerate() {
        phdrs.push(Phdr {
            index,
            p_type: ph.p_type(LE),
            flags: ph.p_flags(LE),
            offset: ph.p_offset(LE),
            vaddr: ph.p_vaddr(LE),
            filesz: ph.p_filesz(LE),
            memsz: ph.p_memsz(LE),
            align: ph.p_align(LE),
        });
    }
    let mut loads = 0usize;
    for p in phdrs.iter().filter(|p| p.p_type == elf::PT_LOAD) {
        loads += 1;
        let end = p.offset.checked_add(p.filesz);
        if end.is_none_or(|e| e > data.len() as u64) {
            return Err(CheckError::Malformed(format!(
                "segment {}: its file bytes (offset {}, size {}) run past the end of the file ({} bytes); truncated?",
                p.index,
                hex(p.offset),
                hex(p.filesz),
                data.len()
            )));
        }
        if p.filesz > p.memsz {
            return Err(CheckError::Malformed(format!(
                "segment {}: p_filesz {} is larger than p_memsz {}",
                p.index,
                hex(p.filesz),
                hex(p.memsz)
            )));
        }
        if p.vaddr.checked_add(p.memsz).is_none() {
            return Err(CheckError::Malformed(format!(
                "segment {}: p_vaddr {} + p_memsz {} overflows the address space",
                p.index,
                hex(p.vaddr),
                hex(p.memsz)
            )));
        }
    }
    if loads == 0 {
        return Err(CheckError::Malformed(
            "no PT_LOAD segment: nothing would be loaded".into(),
        ));
    }
    Ok(Elf {
        data,
        header,
        arch,
        phdrs,
    })
}

fn machine_name(m: u16) -> &'static str {
    match m {
        elf::EM_386 => "i386",
        elf::EM_ARM => "32-bit ARM",
        elf::EM_RISCV => "RISC-V",
        elf::EM_PPC64 => "PowerPC64",
        elf::EM_S390 => "s390",
        elf::EM_MIPS => "MIPS",
        elf::EM_LOONGARCH => "LoongArch",
        elf::EM_SPARCV9 => "SPARC V9",
        _ => "unknown",
    }
}

fn file_finding(
    kind: FindingKind,
    severity: Severity,
    p: Option<&Phdr>,
    message: String,
) -> Finding {
    Finding {
        kind,
        severity,
        vaddr: p.map(|p| p.vaddr),
        file_offset: p.map(|p| p.offset),
        segment: p.map(|p| p.index),
        section: None,
        symbol: None,
        symbol_offset: None,
        crate_name: None,
        bytes: Vec::new(),
        disasm: None,
        message,
    }
}

/// The note's descriptor (if good) and the findings about the file as a
/// whole: the note, `PT_INTERP`, `DT_NEEDED`, writable+executable memory.
/// Severities are filled in by the caller.
pub fn file_findings(
    e: &Elf<'_>,
) -> Result<(Option<elf_notes::XscAbiNoteDesc>, Vec<Finding>), CheckError> {
    let mut out = Vec::new();
    let note = match elf_notes::read::check_note(e.data) {
        Ok(desc) => Some(desc),
        Err(elf_notes::NoteError::Missing) => {
            out.push(file_finding(
                FindingKind::MissingNote,
                Severity::Violation,
                None,
                "no XSC_ABI note in any PT_NOTE segment: the binary does not say it speaks the XSC ABI \
                 (docs/ABI.md §8)"
                    .into(),
            ));
            None
        }
        Err(elf_notes::NoteError::NotElf(why)) => return Err(CheckError::Malformed(why)),
        Err(err) => {
            out.push(file_finding(
                FindingKind::BadNote,
                Severity::Violation,
                None,
                format!("{err}"),
            ));
            None
        }
    };
    for p in &e.phdrs {
        if p.p_type == elf::PT_INTERP {
            let path = read_cstr(e.data, p.offset, p.filesz)
                .map(|s| format!(" ({s})"))
                .unwrap_or_default();
            out.push(file_finding(
                FindingKind::Interp,
                Severity::Violation,
                Some(p),
                format!("PT_INTERP names a dynamic loader{path}: XSC binaries are static"),
            ));
        }
        if p.p_type == elf::PT_LOAD && p.flags & elf::PF_W != 0 && p.flags & elf::PF_X != 0 {
            out.push(file_finding(
                FindingKind::WritableExecutable,
                Severity::Violation,
                Some(p),
                format!(
                    "segment {} ({}..{}) is writable and executable: code written at run time would \
                     never have been checked",
                    p.index,
                    hex(p.vaddr),
                    hex(p.vaddr.saturating_add(p.memsz))
                ),
            ));
        }
        if p.p_type == elf::PT_GNU_STACK && p.flags & elf::PF_X != 0 {
            out.push(file_finding(
                FindingKind::WritableExecutable,
                Severity::Violation,
                Some(p),
                "PT_GNU_STACK asks for an executable stack: code written there at run time would never \
                 have been checked"
                    .into(),
            ));
        }
    }
    dt_needed(e, &mut out)?;
    Ok((note, out))
}

/// Reports every `DT_NEEDED` entry of the `PT_DYNAMIC` segment(s).
fn dt_needed(e: &Elf<'_>, out: &mut Vec<Finding>) -> Result<(), CheckError> {
    let raw = e
        .header
        .program_headers(LE, e.data)
        .map_err(|err| CheckError::Malformed(format!("program header table: {err}")))?;
    for (p, ph) in e.phdrs.iter().zip(raw) {
        if p.p_type != elf::PT_DYNAMIC {
            continue;
        }
        let dyns = ph.dynamic(LE, e.data).map_err(|err| {
            CheckError::Malformed(format!(
                "segment {} (PT_DYNAMIC) cannot be read: {err}",
                p.index
            ))
        })?;
        let Some(dyns) = dyns else { continue };
        let mut needed = Vec::new();
        let (mut strtab, mut strsz) = (None, None);
        for d in dyns {
            let tag = d.d_tag.get(LE);
            let val = d.d_val.get(LE);
            if tag == u64::from(elf::DT_NULL) {
                break;
            } else if tag == u64::from(elf::DT_NEEDED) {
                needed.push(val);
            } else if tag == u64::from(elf::DT_STRTAB) {
                strtab = Some(val);
            } else if tag == u64::from(elf::DT_STRSZ) {
                strsz = Some(val);
            }
        }
        let strtab_off = strtab.and_then(|a| vaddr_to_offset(&e.phdrs, a));
        for val in needed {
            let name = strtab_off.and_then(|off| {
                let limit = strsz.unwrap_or(u64::MAX);
                if val >= limit {
                    return None;
                }
                read_cstr(e.data, off.checked_add(val)?, limit - val)
            });
            let what = match name {
                Some(n) => format!("needs the shared library {n}"),
                None => "needs a shared library (name unreadable)".into(),
            };
            out.push(file_finding(
                FindingKind::DtNeeded,
                Severity::Violation,
                Some(p),
                format!("DT_NEEDED: the binary {what}; a dynamic XSC binary would pull in a native libc"),
            ));
        }
    }
    Ok(())
}

/// The file offset of a virtual address inside the file bytes of a
/// `PT_LOAD` segment.
pub fn vaddr_to_offset(phdrs: &[Phdr], vaddr: u64) -> Option<u64> {
    phdrs
        .iter()
        .filter(|p| p.p_type == elf::PT_LOAD)
        .find(|p| vaddr >= p.vaddr && vaddr - p.vaddr < p.filesz)
        .and_then(|p| p.offset.checked_add(vaddr - p.vaddr))
}

/// A NUL-terminated string at `off`, at most `max` bytes (and at most 4 KiB),
/// lossily decoded. `None` if `off` is outside the file.
fn read_cstr(data: &[u8], off: u64, max: u64) -> Option<String> {
    let start = usize::try_from(off).ok()?;
    let rest = data.get(start..)?;
    let max = usize::try_from(max.min(4096))
        .unwrap_or(4096)
        .min(rest.len());
    let bytes = &rest[..max];
    let end = bytes.iter().position(|&b| b == 0).unwrap_or(bytes.len());
    Some(String::from_utf8_lossy(&bytes[..end]).into_owned())
}
