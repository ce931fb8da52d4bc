//! Loading a static XSC ELF binary into this process (with the `object`
//! crate): checks, the `XSC_ABI` note, mapping the `PT_LOAD` segments, and
//! the range reserved for the program break.

use object::elf;
use object::read::elf::{FileHeader, ProgramHeader};
use object::Endianness;
use std::fmt;
use xsc_abi::note::XscAbiNoteDesc;

type Header = elf::FileHeader64<Endianness>;

/// Address space reserved after the image for the program break.
pub const BRK_RESERVE: u64 = 1 << 30;
const PAGE: u64 = 4096;

/// Why a binary cannot be run.
#[derive(Debug)]
pub enum LoadError {
    NotElf(String),
    Unsupported(String),
    MissingNote,
    BadNote(String),
    Map(String),
}

impl fmt::Display for LoadError {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            LoadError::NotElf(why) => write!(f, "not an ELF binary xsc-run can load: {why}"),
            LoadError::Unsupported(why) => write!(f, "unsupported binary: {why}"),
            LoadError::MissingNote => write!(
                f,
                "no XSC_ABI note: this is not an XSC binary (build it for an XSC target, or pass --allow-unmarked to run it anyway for debugging)"
            ),
            LoadError::BadNote(why) => write!(f, "bad XSC_ABI note: {why}"),
            LoadError::Map(why) => write!(f, "cannot map the program: {why}"),
        }
    }
}

/// A `PT_LOAD` segment.
#[derive(Clone, Copy, Debug)]
pub struct Segment {
    pub vaddr: u64,
    pub memsz: u64,
    pub offset: u64,
    pub filesz: u64,
    pub flags: u32,
}

/// What the checks found out about a binary.
#[derive(Debug)]
pub struct ElfInfo {
    pub is_pie: bool,
    pub entry: u64,
    pub phoff: u64,
    pub phnum: u64,
    pub phdr_vaddr: Option<u64>,
    pub segments: Vec<Segment>,
    pub note: Option<XscAbiNoteDesc>,
}

/// A binary mapped into this process.
#[derive(Clone, Debug)]
pub struct Image {
    /// Load bias (0 for a non-PIE binary).
    pub base: u64,
    pub entry: u64,
    pub phdr: u64,
    pub phnum: u64,
    pub brk_start: u64,
    pub brk_limit: u64,
    pub segments: Vec<Segment>,
}

fn parse_header(data: &[u8]) -> Result<(&Header, Endianness), LoadError> {
    let h = Header::parse(data).map_err(|e| LoadError::NotElf(e.to_string()))?;
    let endian = h.endian().map_err(|e| LoadError::NotElf(e.to_string()))?;
    Ok((h, endian))
}

/// Reads the `XSC_ABI` note, if any (elf-notes' reader: through the
/// `PT_NOTE` segments, as a kernel does).
fn find_note(data: &[u8]) -> Result<Option<XscAbiNoteDesc>, LoadError> {
    match elf_notes::find_note(data) {
        Ok(desc) => Ok(Some(desc)),
        Err(elf_notes::NoteError::Missing) => Ok(None),
        Err(elf_notes::NoteError::NotElf(why)) => Err(LoadError::NotElf(why)),
        Err(e) => Err(LoadError::BadNote(e.to_string())),
    }
}

/// Checks that `data` is a static x86_64 ELF binary and reads its note.
pub fn inspect(data: &[u8]) -> Result<ElfInfo, LoadError> {
    let (h, endian) = parse_header(data)?;
    if !h.is_class_64() || !h.is_little_endian() {
        return Err(LoadError::Unsupported(
            "only 64-bit little-endian ELF is supported".into(),
        ));
    }
    if h.e_machine(endian) != elf::EM_X86_64 {
        return Err(LoadError::Unsupported(format!(
            "machine {} is not x86_64 (xsc-run runs x86_64 XSC binaries on this host)",
            h.e_machine(endian)
        )));
    }
    let is_pie = match h.e_type(endian) {
        elf::ET_EXEC => false,
        elf::ET_DYN => true,
        t => {
            return Err(LoadError::Unsupported(format!(
                "ELF type {t} is not an executable"
            )))
        }
    };
    let phdrs = h
        .program_headers(endian, data)
        .map_err(|e| LoadError::NotElf(e.to_string()))?;
    let mut segments = Vec::new();
    let mut phdr_vaddr = None;
    for ph in phdrs {
        match ph.p_type(endian) {
            elf::PT_INTERP => {
                return Err(LoadError::Unsupported(
                    "it asks for a dynamic loader (PT_INTERP); XSC binaries are static".into(),
                ))
            }
            elf::PT_PHDR => phdr_vaddr = Some(ph.p_vaddr(endian)),
            elf::PT_LOAD => {
                let s = Segment {
                    vaddr: ph.p_vaddr(endian),
                    memsz: ph.p_memsz(endian),
                    offset: ph.p_offset(endian),
                    filesz: ph.p_filesz(endian),
                    flags: ph.p_flags(endian),
                };
                let in_file = s
                    .offset
                    .checked_add(s.filesz)
                    .is_some_and(|end| end <= data.len() as u64);
                if s.filesz > s.memsz || !in_file || s.vaddr.checked_add(s.memsz).is_none() {
                    return Err(LoadError::NotElf(format!(
                        "PT_LOAD at {:#x} has sizes that do not fit the file",
                        s.vaddr
                    )));
                }
                segments.push(s);
            }
            _ => {}
        }
    }
    if segments.is_empty() {
        return Err(LoadError::NotElf("no PT_LOAD segment".into()));
    }
    let span = segments
        .iter()
        .map(|s| s.vaddr + s.memsz)
        .max()
        .unwrap_or(0)
        - segments.iter().map(|s| s.vaddr).min().unwrap_or(0);
    if span > 1 << 40 {
        return Err(LoadError::NotElf(format!("segments span {span:#x} bytes")));
    }
    Ok(ElfInfo {
        is_pie,
        entry: h.e_entry(endian),
        phoff: h.e_phoff(endian),
        phnum: h.e_phnum(endian) as u64,
        phdr_vaddr,
        segments,
        note: find_note(data)?,
    })
}

/// Checks the note against what this kernel supports (elf-notes' rules).
pub fn check_note(info: &ElfInfo, allow_unmarked: bool) -> Result<(), LoadError> {
    match info.note {
        None if allow_unmarked => Ok(()),
        None => Err(LoadError::MissingNote),
        Some(desc) => {
            elf_notes::read::check_desc(desc).map_err(|e| LoadError::BadNote(e.to_string()))
        }
    }
}

/// What `execve` should do with a file.
#[derive(Debug, PartialEq, Eq)]
pub enum Kind {
    /// An XSC binary: run it through xsc-run.
    Xsc,
    /// Anything else (native binary, script): let the host kernel run it.
    Other,
}

/// Classifies the file at `path` for execve. Anything that is not an
/// executable regular file carrying the note is `Other`: the host's execve
/// then fails (or succeeds) exactly as Linux would, with the same errno.
pub fn probe(path: &std::ffi::OsStr) -> Kind {
    use std::io::Read;
    use std::os::unix::ffi::OsStrExt;
    let Ok(c) = std::ffi::CString::new(path.as_bytes()) else {
        return Kind::Other;
    };
    // SAFETY: a NUL-terminated path.
    let executable = unsafe { libc::access(c.as_ptr(), libc::X_OK) } == 0;
    let regular = std::fs::metadata(path).is_ok_and(|m| m.is_file());
    if !executable || !regular {
        return Kind::Other;
    }
    let Ok(mut f) = std::fs::File::open(path) else {
        return Kind::Other;
    };
    let mut magic = [0u8; 4];
    if f.read_exact(&mut magic).is_err() || magic != *b"\x7fELF" {
        return Kind::Other;
    }
    let mut data = magic.to_vec();
    if f.read_to_end(&mut data).is_err() {
        return Kind::Other;
    }
    match inspect(&data) {
        Ok(info) if info.note.is_some() => Kind::Xsc,
        _ => Kind::Other,
    }
}

fn page_down(v: u64) -> u64 {
    v & !(PAGE - 1)
}
fn page_up(v: u64) -> u64 {
    v.next_multiple_of(PAGE)
}

fn prot(flags: u32) -> i32 {
    let mut p = 0;
    if flags & elf::PF_R != 0 {
        p |= libc::PROT_READ;
    }
    if flags & elf::PF_W != 0 {
        p |= libc::PROT_WRITE;
    }
    if flags & elf::PF_X != 0 {
        p |= libc::PROT_EXEC;
    }
    p
}

/// Maps the binary: one reservation covering the image and the break range,
/// segment contents copied in, then each page given the union of the
/// permissions of the segments on it.
pub fn load(data: &[u8], info: &ElfInfo) -> Result<Image, LoadError> {
    let lo = page_down(info.segments.iter().map(|s| s.vaddr).min().unwrap_or(0));
    let hi = page_up(
        info.segments
            .iter()
            .map(|s| s.vaddr + s.memsz)
            .max()
            .unwrap_or(0),
    );
    let total = (hi - lo + BRK_RESERVE) as usize;
    let (hint, flags) = if info.is_pie {
        (std::ptr::null_mut(), 0)
    } else {
        (lo as *mut libc::c_void, libc::MAP_FIXED_NOREPLACE)
    };
    // SAFETY: a fresh reservation; for a non-PIE binary MAP_FIXED_NOREPLACE
    // refuses to clobber anything already mapped there.
    let at = unsafe {
        libc::mmap(
            hint,
            total,
            libc::PROT_NONE,
            libc::MAP_PRIVATE | libc::MAP_ANONYMOUS | libc::MAP_NORESERVE | flags,
            -1,
            0,
        )
    };
    if at == libc::MAP_FAILED || (!info.is_pie && at as u64 != lo) {
        return Err(LoadError::Map(format!(
            "cannot reserve {total:#x} bytes at {lo:#x}: {}",
            std::io::Error::last_os_error()
        )));
    }
    let base = at as u64 - lo;
    // SAFETY: [at, at + hi - lo) is our reservation; make it writable to
    // copy the segments in.
    if unsafe { libc::mprotect(at, (hi - lo) as usize, libc::PROT_READ | libc::PROT_WRITE) } != 0 {
        return Err(LoadError::Map(std::io::Error::last_os_error().to_string()));
    }
    for s in &info.segments {
        let src = &data[s.offset as usize..(s.offset + s.filesz) as usize];
        // SAFETY: the destination lies inside the writable reservation
        // (vaddr + memsz <= hi) and the source inside the file.
        unsafe {
            std::ptr::copy_nonoverlapping(src.as_ptr(), (base + s.vaddr) as *mut u8, src.len())
        };
    }
    // Permissions per page: the union of the segments covering it.
    let mut bounds: Vec<u64> = info
        .segments
        .iter()
        .flat_map(|s| [page_down(s.vaddr), page_up(s.vaddr + s.memsz)])
        .collect();
    bounds.sort_unstable();
    bounds.dedup();
    for w in bounds.windows(2) {
        let (a, b) = (w[0], w[1]);
        let p = info
            .segments
            .iter()
            .filter(|s| page_down(s.vaddr) < b && page_up(s.vaddr + s.memsz) > a)
            .fold(0, |acc, s| acc | prot(s.flags));
        // SAFETY: [a, b) is inside the reservation.
        if unsafe { libc::mprotect((base + a) as *mut libc::c_void, (b - a) as usize, p) } != 0 {
            return Err(LoadError::Map(std::io::Error::last_os_error().to_string()));
        }
    }
    let phdr = match info.phdr_vaddr {
        Some(v) => base + v,
        None => info
            .segments
            .iter()
            .find(|s| s.offset <= info.phoff && info.phoff < s.offset + s.filesz)
            .map(|s| base + s.vaddr + (info.phoff - s.offset))
            .ok_or_else(|| {
                LoadError::NotElf("program headers are not in a loaded segment".into())
            })?,
    };
    Ok(Image {
        base,
        entry: base + info.entry,
        phdr,
        phnum: info.phnum,
        brk_start: base + hi,
        brk_limit: base + hi + BRK_RESERVE,
        segments: info.segments.clone(),
    })
}

impl Image {
    /// The file offset of a program address, if it lies in a segment's
    /// file-backed part.
    pub fn file_offset(&self, addr: u64) -> Option<u64> {
        let v = addr.checked_sub(self.base)?;
        self.segments
            .iter()
            .find(|s| s.vaddr <= v && v < s.vaddr + s.filesz)
            .map(|s| s.offset + (v - s.vaddr))
    }

    /// Does `[lo, hi)` share a page with one of the program's executable
    /// segments?
    pub fn overlaps_program_code(&self, lo: u64, hi: u64) -> bool {
        self.segments.iter().any(|s| {
            s.flags & elf::PF_X != 0
                && self.base + page_down(s.vaddr) < hi
                && lo < self.base + page_up(s.vaddr + s.memsz)
        })
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn rejects_garbage_with_a_clear_error() {
        let e = inspect(b"not an elf at all").unwrap_err();
        assert!(matches!(e, LoadError::NotElf(_)), "{e}");
        assert!(inspect(&[]).is_err());
        let mut elf = vec![0x7f, b'E', b'L', b'F', 2, 1, 1];
        elf.resize(64, 0);
        assert!(inspect(&elf).is_err());
    }

    #[test]
    fn the_runner_itself_is_not_an_xsc_binary() {
        let me = std::fs::read(std::env::current_exe().unwrap()).unwrap();
        match inspect(&me) {
            Ok(info) => {
                assert!(info.note.is_none());
                assert!(matches!(
                    check_note(&info, false),
                    Err(LoadError::MissingNote)
                ));
                assert!(check_note(&info, true).is_ok());
            }
            // A dynamically linked test binary asks for a loader.
            Err(LoadError::Unsupported(why)) => assert!(why.contains("PT_INTERP"), "{why}"),
            Err(e) => panic!("{e}"),
        }
    }
}
