//! The executable memory of a binary, as a loader maps it.
//!
//! Code is found from the program headers only: every `PT_LOAD` segment
//! with `PF_X`. A loader maps whole pages, so the executable bytes of a
//! segment are its page-rounded range `[page_down(p_vaddr),
//! page_up(p_vaddr + p_memsz))`, not just `p_vaddr..p_vaddr + p_memsz`:
//!
//! - from `page_down(p_vaddr)` to the end of the page holding the last file
//!   byte, the file is mapped as it is (`p_offset - (p_vaddr - page_down)`
//!   onwards), so bytes of the file before and after the segment's own
//!   bytes are executable too ("page slack");
//! - beyond, up to `page_up(p_vaddr + p_memsz)`, memory is zero-filled.
//!
//! (Linux zeroes the rest of the last file page when `p_memsz > p_filesz`;
//! treating it as file bytes instead is a superset for the byte scan, since
//! every scanned encoding ends in a non-zero byte.)
//!
//! The page size is 4 KiB on x86_64. On aarch64 a kernel may use 4, 16 or
//! 64 KiB pages, and it can only load a segment whose `p_vaddr` and
//! `p_offset` agree modulo its page size; we use the largest of those that
//! the segment allows, which maps the most bytes.
//!
//! Segments whose mapped ranges touch or overlap are joined into one
//! [`Run`] so that byte sequences crossing a segment boundary are seen;
//! overlapping ranges must have the same contents (the same file bytes),
//! otherwise what ends up in memory depends on the loader and the file is
//! refused.

use crate::elf::{Elf, Phdr};
use crate::error::CheckError;
use crate::findings::Arch;
use std::borrow::Cow;

/// An executable segment's place in a run.
#[derive(Clone, Debug)]
pub struct Piece {
    pub phdr: Phdr,
    /// The page-rounded mapped range.
    pub map_start: u64,
    pub map_end: u64,
    /// Mapped bytes below this address come from the file (if inside it).
    file_end: u64,
}

impl Piece {
    /// The file offset holding the byte mapped at `vaddr`, if any.
    pub fn file_offset(&self, vaddr: u64, file_len: u64) -> Option<u64> {
        if vaddr < self.map_start || vaddr >= self.file_end {
            return None;
        }
        let off = i128::from(self.phdr.offset) + i128::from(vaddr) - i128::from(self.phdr.vaddr);
        (0..i128::from(file_len))
            .contains(&off)
            .then_some(off as u64)
    }

    /// Whether `vaddr` is inside the segment's own bytes (not page slack).
    pub fn holds(&self, vaddr: u64) -> bool {
        vaddr >= self.phdr.vaddr && vaddr - self.phdr.vaddr < self.phdr.memsz
    }

    /// Appends the mapped contents of `[from, to)` (inside the mapped range).
    fn append(&self, data: &[u8], from: u64, to: u64, out: &mut Vec<u8>) {
        let len = data.len() as i128;
        let file_to = to.min(self.file_end).max(from);
        // The file-backed part, `n` bytes from file offset `off0` (which
        // may be negative, or past the end, for page slack of a crafted
        // file: nothing can be mapped there, count zeros).
        let n = i128::from(file_to - from);
        let off0 = i128::from(self.phdr.offset) + i128::from(from) - i128::from(self.phdr.vaddr);
        let before = (-off0).clamp(0, n);
        let lo = off0 + before;
        let inside = (len - lo).clamp(0, n - before);
        let after = n - before - inside;
        out.resize(out.len() + before as usize, 0);
        if inside > 0 {
            out.extend_from_slice(&data[lo as usize..(lo + inside) as usize]);
        }
        // Past the end of the file, then beyond the file-backed pages: zeros.
        out.resize(out.len() + after as usize + (to - file_to) as usize, 0);
    }

    /// The contents as one borrowed slice, when all of it is file bytes.
    fn borrowed<'a>(&self, data: &'a [u8]) -> Option<&'a [u8]> {
        if self.file_end < self.map_end {
            return None;
        }
        let start = self.file_offset(self.map_start, data.len() as u64)?;
        let len = usize::try_from(self.map_end - self.map_start).ok()?;
        data.get(start as usize..(start as usize).checked_add(len)?)
    }
}

/// A stretch of contiguous executable memory.
#[derive(Debug)]
pub struct Run<'a> {
    /// Virtual address of `bytes[0]` (page-aligned).
    pub start: u64,
    pub bytes: Cow<'a, [u8]>,
    /// The segments mapped here, by address.
    pub pieces: Vec<Piece>,
}

impl Run<'_> {
    pub fn end(&self) -> u64 {
        self.start + self.bytes.len() as u64
    }

    /// The segment a byte belongs to: the one whose own bytes hold it,
    /// else the one whose page slack does.
    pub fn piece_at(&self, vaddr: u64) -> Option<&Piece> {
        self.pieces.iter().find(|p| p.holds(vaddr)).or_else(|| {
            self.pieces
                .iter()
                .find(|p| (p.map_start..p.map_end).contains(&vaddr))
        })
    }

    /// The segments' own bytes (`p_vaddr..p_vaddr + p_memsz`, without the
    /// page slack), as sorted, disjoint offset ranges into `bytes`.
    pub fn code_ranges(&self) -> Vec<std::ops::Range<usize>> {
        let mut v: Vec<std::ops::Range<usize>> = self
            .pieces
            .iter()
            .map(|p| {
                let lo = p.phdr.vaddr.clamp(self.start, self.end()) - self.start;
                let hi = (p.phdr.vaddr + p.phdr.memsz).clamp(self.start, self.end()) - self.start;
                lo as usize..hi as usize
            })
            .filter(|r| !r.is_empty())
            .collect();
        v.sort_by_key(|r| r.start);
        let mut merged: Vec<std::ops::Range<usize>> = Vec::with_capacity(v.len());
        for r in v {
            match merged.last_mut() {
                Some(m) if r.start <= m.end => m.end = m.end.max(r.end),
                _ => merged.push(r),
            }
        }
        merged
    }

    /// Offsets (into `bytes`) where linear decoding starts afresh: the start
    /// of the run and the start of each segment's own bytes. Sorted, unique.
    pub fn sync_points(&self) -> Vec<usize> {
        let mut v: Vec<usize> = std::iter::once(0)
            .chain(
                self.pieces
                    .iter()
                    .map(|p| (p.phdr.vaddr.clamp(self.start, self.end()) - self.start) as usize),
            )
            .filter(|&o| o < self.bytes.len())
            .collect();
        v.sort_unstable();
        v.dedup();
        v
    }
}

fn page_size(arch: Arch, p: &Phdr) -> u64 {
    match arch {
        Arch::X86_64 => 4096,
        Arch::Aarch64 => [65536u64, 16384, 4096]
            .into_iter()
            .find(|&ps| p.vaddr % ps == p.offset % ps)
            .unwrap_or(4096),
    }
}

/// The executable memory of the file, in runs sorted by address.
pub fn exec_runs<'a>(e: &Elf<'a>) -> Result<Vec<Run<'a>>, CheckError> {
    let data = e.data;
    let mut pieces = Vec::new();
    // A segment of no bytes maps nothing.
    for p in e.phdrs.iter().filter(|p| p.is_exec_load() && p.memsz > 0) {
        let ps = page_size(e.arch, p);
        let map_start = p.vaddr & !(ps - 1);
        let end = p.vaddr + p.memsz; // checked in elf::parse
        let map_end = end.checked_next_multiple_of(ps).ok_or_else(|| {
            CheckError::Malformed(format!(
                "segment {} ends at the top of the address space",
                p.index
            ))
        })?;
        let file_end = if p.filesz == 0 {
            map_start
        } else {
            (p.vaddr + p.filesz)
                .checked_next_multiple_of(ps)
                .unwrap_or(u64::MAX)
                .min(map_end)
        };
        if map_end > map_start {
            pieces.push(Piece {
                phdr: *p,
                map_start,
                map_end,
                file_end,
            });
        }
    }
    pieces.sort_by_key(|p| (p.map_start, p.map_end));

    // Refuse implausible sizes before allocating anything: a crafted file
    // can claim terabytes of zero-filled executable memory.
    // Page rounding adds at most two pages per segment; 1 MiB of leeway
    // covers that for any sane file.
    let limit = 2 * data.len() as u64 + (1 << 20);
    let mut total = 0u64;
    let mut covered_to = 0u64;
    for p in &pieces {
        let from = p.map_start.max(covered_to);
        total = total.saturating_add(p.map_end.saturating_sub(from));
        covered_to = covered_to.max(p.map_end);
    }
    if total > limit {
        return Err(CheckError::Malformed(format!(
            "the executable segments map {total:#x} bytes, implausibly many for a file of {:#x} bytes \
             (limit {limit:#x})",
            data.len()
        )));
    }

    let mut groups: Vec<Vec<Piece>> = Vec::new();
    for p in pieces {
        match groups.last_mut() {
            Some(g) if p.map_start <= g.iter().map(|q| q.map_end).max().unwrap_or(0) => g.push(p),
            _ => groups.push(vec![p]),
        }
    }

    let mut runs = Vec::with_capacity(groups.len());
    for g in groups {
        let start = g[0].map_start;
        if g.len() == 1 {
            if let Some(b) = g[0].borrowed(data) {
                runs.push(Run {
                    start,
                    bytes: Cow::Borrowed(b),
                    pieces: g,
                });
                continue;
            }
        }
        let mut bytes = Vec::new();
        let mut end = start;
        for (i, p) in g.iter().enumerate() {
            if p.map_start < end {
                // Overlap with earlier pieces: the contents must agree.
                let to = end.min(p.map_end);
                let mut mine = Vec::new();
                p.append(data, p.map_start, to, &mut mine);
                let lo = (p.map_start - start) as usize;
                if bytes[lo..lo + mine.len()] != mine[..] {
                    let other = g[..i]
                        .iter()
                        .find(|q| q.map_end > p.map_start)
                        .map_or(0, |q| q.phdr.index);
                    return Err(CheckError::Malformed(format!(
                        "executable segments {other} and {} overlap in memory ({:#x}..{:#x}) with \
                         different contents; what is executed there depends on the loader",
                        p.phdr.index, p.map_start, to
                    )));
                }
            }
            if p.map_end > end {
                p.append(data, end.max(p.map_start), p.map_end, &mut bytes);
                end = p.map_end;
            }
        }
        runs.push(Run {
            start,
            bytes: Cow::Owned(bytes),
            pieces: g,
        });
    }
    Ok(runs)
}
