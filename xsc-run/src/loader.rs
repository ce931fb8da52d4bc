//! Loading a static XSC ELF binary into this process (with the `object`
//! crate): checks, the `XSC_ABI` note, mapping the `PT_LOAD` segments, and
//! where the program break starts.

use object::elf;
use object::read::elf::{FileHeader, ProgramHeader};
use object::Endianness;
use std::fmt;
use xsc_abi::note::XscAbiNoteDesc;

type Header = elf::FileHeader64<Endianness>;

const PAGE: u64 = 4096;

/// Why a binary cannot be run.
#[derive(Debug)]
pub enum LoadError {
    NotElf(String),
    Unsupported(String),
    MissingNote,
    BadNote(String),
    Map(String),
    /// Mapping the program ran out of address space (`ENOMEM`: most often
    /// `RLIMIT_AS`; the caller says which limit and what to do).
    NoSpace(String),
    /// Built for another machine (its `e_machine`).
    ForeignMachine(u16),
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
            LoadError::Map(why) | LoadError::NoSpace(why) => {
                write!(f, "cannot map the program: {why}")
            }
            LoadError::ForeignMachine(m) => write!(
                f,
                "machine {m} is not {} (this xsc-run runs {} XSC binaries)",
                crate::arch::MACHINE_NAME,
                crate::arch::MACHINE_NAME
            ),
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
    /// The end of the image, where the program break starts (nothing is
    /// reserved after it: the break grows into free address space, as
    /// Linux's does).
    pub brk_start: u64,
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

/// Checks that `data` is a static ELF binary of this runner's architecture
/// and reads its note.
pub fn inspect(data: &[u8]) -> Result<ElfInfo, LoadError> {
    let (h, endian) = parse_header(data)?;
    if !h.is_class_64() || !h.is_little_endian() {
        return Err(LoadError::Unsupported(
            "only 64-bit little-endian ELF is supported".into(),
        ));
    }
    if h.e_machine(endian) != crate::arch::EM_MACHINE {
        return Err(LoadError::ForeignMachine(h.e_machine(endian)));
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

/// Reads what checking and classifying a program need before it is
/// mapped: a buffer as long as the file, holding the ELF header, the program
/// headers, the contents of every segment but the loadable ones (notes, the
/// interpreter name, the dynamic section), the section headers and their
/// name table. The rest stays zero, unread: [`load`] reads the loadable
/// segments straight into the program's memory, and symbols and debug
/// information (most of a debug build) are read only if a report needs
/// them. A file whose headers cannot be parsed is read whole, so that its
/// errors are reported as usual.
pub fn read_headers(f: &std::fs::File) -> std::io::Result<Vec<u8>> {
    use std::os::unix::fs::FileExt;
    let len = f.metadata()?.len() as usize;
    // Zeroed lazily by the allocator (fresh pages for a large buffer): the
    // parts never read cost no memory.
    let mut data = vec![0u8; len];
    // Reads [off, off + n) into place; false if it lies outside the file.
    let fill = |data: &mut [u8], (off, n): (u64, u64)| -> std::io::Result<bool> {
        let range = usize::try_from(off)
            .ok()
            .zip(usize::try_from(n).ok())
            .and_then(|(o, n)| Some(o..o.checked_add(n)?))
            .filter(|r| r.end <= data.len());
        match range {
            Some(r) => f
                .read_exact_at(&mut data[r.clone()], r.start as u64)
                .map(|_| true),
            None => Ok(false),
        }
    };
    let header = (
        0,
        len.min(size_of::<elf::FileHeader64<Endianness>>()) as u64,
    );
    fill(&mut data, header)?;
    // Two rounds: the header names the header tables; the tables name the
    // segments and the section-name table.
    for round in [
        header_tables as fn(&[u8]) -> Option<Vec<(u64, u64)>>,
        table_contents,
    ] {
        match round(&data) {
            Some(parts) => {
                for part in parts {
                    if !fill(&mut data, part)? {
                        return whole(f, data);
                    }
                }
            }
            None => return whole(f, data),
        }
    }
    Ok(data)
}

fn whole(f: &std::fs::File, mut data: Vec<u8>) -> std::io::Result<Vec<u8>> {
    use std::os::unix::fs::FileExt;
    f.read_exact_at(&mut data, 0)?;
    Ok(data)
}

/// The program-header and section-header tables.
fn header_tables(data: &[u8]) -> Option<Vec<(u64, u64)>> {
    let h = Header::parse(data).ok()?;
    let e = h.endian().ok()?;
    Some(vec![
        (h.e_phoff(e), h.e_phnum(e) as u64 * h.e_phentsize(e) as u64),
        (h.e_shoff(e), h.e_shnum(e) as u64 * h.e_shentsize(e) as u64),
    ])
}

/// The contents of every segment that is not loaded, and the section-name
/// string table.
fn table_contents(data: &[u8]) -> Option<Vec<(u64, u64)>> {
    use object::read::elf::{FileHeader, ProgramHeader, SectionHeader};
    let h = Header::parse(data).ok()?;
    let e = h.endian().ok()?;
    let mut parts: Vec<(u64, u64)> = h
        .program_headers(e, data)
        .ok()?
        .iter()
        .filter(|ph| ph.p_type(e) != elf::PT_LOAD)
        .map(|ph| (ph.p_offset(e), ph.p_filesz(e)))
        .collect();
    if let (Ok(headers), Ok(names)) = (h.section_headers(e, data), h.section_strings_index(e, data))
    {
        if let Some(range) = headers.get(names.0).and_then(|s| s.file_range(e)) {
            parts.push(range);
        }
    }
    Some(parts)
}

/// Where Linux puts a static-pie executable: `ELF_ET_DYN_BASE` (two thirds
/// of the 47-bit user address space, 0x5555_5555_4000 after its rounding)
/// plus a random page offset (28 bits of pages, as x86_64's default
/// `mmap_rnd_bits`), far below the stack and the mmap area. Programs rely
/// on that distance: a `read` whose count runs past the buffer is checked
/// against the end of user space. Only a hint: if the range is taken, the
/// host picks another place. As on Linux, a process whose personality has
/// `ADDR_NO_RANDOMIZE` (gdb sets it for its inferior, `setarch -R` too)
/// gets no random offset, so a debugger finds the program where it was
/// last time: 4 GiB above `ELF_ET_DYN_BASE` (`NO_RANDOMIZE_BASE`), since
/// a dynamically linked xsc-run (the debug build the tests run) then sits
/// at `ELF_ET_DYN_BASE`; the installed one, a static-pie, lies in the mmap
/// area, where Linux puts an executable without an interpreter. (Linux's
/// other switch, `kernel.randomize_va_space = 0`, is not read: one more
/// file per start for a setting hosts rarely have.)
fn pie_base() -> u64 {
    const ELF_ET_DYN_BASE: u64 = 0x5555_5555_4000;
    // SAFETY: personality(0xffffffff) only reads the current persona.
    let persona = unsafe { libc::personality(0xffff_ffff) };
    if persona != -1 && persona & libc::ADDR_NO_RANDOMIZE != 0 {
        return NO_RANDOMIZE_BASE;
    }
    let mut r = [0u8; 8];
    // SAFETY: getrandom writes at most 8 bytes into `r`.
    unsafe { libc::getrandom(r.as_mut_ptr().cast(), r.len(), 0) };
    let pages = u64::from_le_bytes(r) & ((1 << 28) - 1);
    ELF_ET_DYN_BASE + pages * PAGE
}

/// Where a program is loaded when address randomisation is off (under gdb).
pub const NO_RANDOMIZE_BASE: u64 = 0x5555_5555_4000 + (1 << 32);

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
/// the loadable segments read from `file` straight into it. The pages stay
/// readable and writable until [`protect`], so that the kernel side can
/// check what it loaded ([`Image::loaded`]) before the program runs.
pub fn load(file: &std::fs::File, info: &ElfInfo) -> Result<Image, LoadError> {
    let lo = page_down(info.segments.iter().map(|s| s.vaddr).min().unwrap_or(0));
    let hi = page_up(
        info.segments
            .iter()
            .map(|s| s.vaddr + s.memsz)
            .max()
            .unwrap_or(0),
    );
    let total = (hi - lo) as usize;
    let (hint, flags) = if info.is_pie {
        (pie_base() as *mut libc::c_void, 0)
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
        let e = std::io::Error::last_os_error();
        let text = format!("cannot reserve {total:#x} bytes at {lo:#x}: {e}");
        return Err(match e.raw_os_error() {
            Some(libc::ENOMEM) => LoadError::NoSpace(text),
            Some(libc::EEXIST) if !info.is_pie => {
                let maps = std::fs::read_to_string("/proc/self/maps").unwrap_or_default();
                LoadError::Map(format!(
                    "{text}. The binary is not position-independent (ET_EXEC: built with -no-pie, or Rust's -C relocation-model=static), so it must sit at its link address [{lo:#x}, {hi:#x}), and xsc-run shares the address space with it: {}. Link it below {:#x}, where xsc-run maps nothing, or as a static-pie, the default of xsc-cc and cargo xsc (docs/xsc-run.md section 6)",
                    crate::layout::taken_by(lo, hi, &maps),
                    crate::layout::FREE_BELOW,
                ))
            }
            _ => LoadError::Map(text),
        });
    }
    let base = at as u64 - lo;
    // SAFETY: [at, at + hi - lo) is our reservation; make it writable to
    // copy the segments in.
    if unsafe { libc::mprotect(at, (hi - lo) as usize, libc::PROT_READ | libc::PROT_WRITE) } != 0 {
        return Err(LoadError::Map(std::io::Error::last_os_error().to_string()));
    }
    for s in &info.segments {
        place_segment(file, base, s)?;
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
        segments: info.segments.clone(),
    })
}

/// Puts the file contents of `s` at `base + vaddr`, as Linux's loader
/// does: the whole pages inside the segment are a private mapping of the
/// file (nothing copied; the page cache is shared, and the image shows the
/// program's file in /proc/self/maps, so profilers and debuggers can name
/// its symbols); the partial pages at its ends, which may share a page with
/// another segment or with the zero-filled part, are read into the
/// reservation's anonymous pages.
fn place_segment(file: &std::fs::File, base: u64, s: &Segment) -> Result<(), LoadError> {
    use std::os::fd::AsRawFd;
    use std::os::unix::fs::FileExt;
    let (start, end) = (s.vaddr, s.vaddr + s.filesz);
    let (inner_start, inner_end) = (page_up(start), page_down(end));
    // ELF requires p_offset ≡ p_vaddr (mod page size); without it, copy.
    let mappable = inner_start < inner_end && s.offset.wrapping_sub(s.vaddr).is_multiple_of(PAGE);
    let read = |from: u64, to: u64| -> Result<(), LoadError> {
        if from >= to {
            return Ok(());
        }
        // SAFETY: [from, to) lies inside the segment, inside the writable
        // reservation (vaddr + filesz <= vaddr + memsz <= hi).
        let dst = unsafe {
            std::slice::from_raw_parts_mut((base + from) as *mut u8, (to - from) as usize)
        };
        file.read_exact_at(dst, s.offset + (from - start))
            .map_err(|e| LoadError::Map(format!("cannot read a segment: {e}")))
    };
    if !mappable {
        return read(start, end);
    }
    read(start, inner_start)?;
    read(inner_end, end)?;
    // SAFETY: replaces whole pages of our own reservation (inside this
    // segment's range) with a private, writable mapping of the file at the
    // matching offset (page-aligned: checked above).
    let p = unsafe {
        libc::mmap(
            (base + inner_start) as *mut libc::c_void,
            (inner_end - inner_start) as usize,
            libc::PROT_READ | libc::PROT_WRITE,
            libc::MAP_PRIVATE | libc::MAP_FIXED,
            file.as_raw_fd(),
            (s.offset + (inner_start - start)) as libc::off_t,
        )
    };
    if p == libc::MAP_FAILED {
        return Err(LoadError::Map(format!(
            "cannot map a segment: {}",
            std::io::Error::last_os_error()
        )));
    }
    Ok(())
}

impl Image {
    /// The file contents of `s` as loaded (its first `filesz` bytes in
    /// memory). Valid between [`load`] and [`protect`].
    pub fn loaded(&self, s: &Segment) -> &[u8] {
        // SAFETY: load read filesz bytes there, in the image's reservation,
        // still readable (protect has not run).
        unsafe { std::slice::from_raw_parts((self.base + s.vaddr) as *const u8, s.filesz as usize) }
    }
}

/// Gives each page of the image the union of the permissions of the
/// segments on it.
pub fn protect(image: &Image) -> Result<(), LoadError> {
    let base = image.base;
    let segments = &image.segments;
    // Permissions per page: the union of the segments covering it.
    let mut bounds: Vec<u64> = segments
        .iter()
        .flat_map(|s| [page_down(s.vaddr), page_up(s.vaddr + s.memsz)])
        .collect();
    bounds.sort_unstable();
    bounds.dedup();
    for w in bounds.windows(2) {
        let (a, b) = (w[0], w[1]);
        let p = segments
            .iter()
            .filter(|s| page_down(s.vaddr) < b && page_up(s.vaddr + s.memsz) > a)
            .fold(0, |acc, s| acc | prot(s.flags));
        // SAFETY: [a, b) is inside the reservation.
        if unsafe { libc::mprotect((base + a) as *mut libc::c_void, (b - a) as usize, p) } != 0 {
            return Err(LoadError::Map(std::io::Error::last_os_error().to_string()));
        }
    }
    Ok(())
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
