//! The byte scan for x86 system-call encodings at every offset.
//!
//! x86 instructions have variable length and a jump may land in the middle
//! of one, so the bytes of a system-call instruction can hide inside another
//! instruction (an immediate, a displacement) where linear decoding never
//! sees them. This scan finds every occurrence of the three encodings that
//! enter the Linux kernel as a system call, at every byte offset:
//!
//! - `0f 05` `syscall`
//! - `0f 34` `sysenter`
//! - `cd 80` `int 0x80`
//!
//! These are complete for system-call entry in any CPU mode: even code
//! reached after a far transfer into 32-bit or 16-bit mode must contain one
//! of these byte pairs to make a system call (prefixes only come before
//! them, and the two bytes are always adjacent). Other `int n` vectors and
//! far transfers do not enter the kernel as system calls, so the scan does
//! not look for them at hidden offsets (they are still rejected when linear
//! decoding reaches them; see `x86.rs`).
//!
//! The search uses `memchr::memmem`, whose SIMD two-byte search runs at
//! several GB/s, three times over the run; linear decoding is done once and
//! only the candidates are classified against it.

use memchr::memmem;

/// A system-call encoding found by the byte scan.
#[derive(Clone, Copy, Debug, PartialEq, Eq, PartialOrd, Ord, Hash)]
pub enum SiteKind {
    Syscall,
    Sysenter,
    Int80,
}

impl SiteKind {
    pub const ALL: [SiteKind; 3] = [SiteKind::Syscall, SiteKind::Sysenter, SiteKind::Int80];

    pub fn bytes(self) -> [u8; 2] {
        match self {
            SiteKind::Syscall => [0x0f, 0x05],
            SiteKind::Sysenter => [0x0f, 0x34],
            SiteKind::Int80 => [0xcd, 0x80],
        }
    }

    pub fn mnemonic(self) -> &'static str {
        match self {
            SiteKind::Syscall => "syscall",
            SiteKind::Sysenter => "sysenter",
            SiteKind::Int80 => "int 0x80",
        }
    }
}

/// Every occurrence of a system-call encoding in `bytes`, sorted by offset.
/// (Two sites cannot start at the same offset.)
pub fn sites(bytes: &[u8]) -> Vec<(usize, SiteKind)> {
    let mut out = Vec::new();
    for kind in SiteKind::ALL {
        let needle = kind.bytes();
        out.extend(memmem::find_iter(bytes, &needle).map(|off| (off, kind)));
    }
    out.sort_unstable();
    out
}

#[cfg(test)]
mod tests {
    use super::*;

    /// The obvious definition, to compare the fast scan with.
    fn naive(bytes: &[u8]) -> Vec<(usize, SiteKind)> {
        (0..bytes.len())
            .filter_map(|i| match &bytes[i..] {
                [0x0f, 0x05, ..] => Some((i, SiteKind::Syscall)),
                [0x0f, 0x34, ..] => Some((i, SiteKind::Sysenter)),
                [0xcd, 0x80, ..] => Some((i, SiteKind::Int80)),
                _ => None,
            })
            .collect()
    }

    #[test]
    fn finds_every_offset_including_overlaps_and_ends() {
        let b = [0x0f, 0x0f, 0x05, 0xcd, 0x80, 0x0f, 0x34, 0x0f, 0x05, 0xcd];
        let s = sites(&b);
        assert_eq!(
            s,
            vec![
                (1, SiteKind::Syscall),
                (3, SiteKind::Int80),
                (5, SiteKind::Sysenter),
                (7, SiteKind::Syscall)
            ]
        );
        assert_eq!(s, naive(&b));
    }

    #[test]
    fn agrees_with_the_naive_scan_on_pseudo_random_bytes() {
        // A small xorshift generator over a biased alphabet, so that sites
        // are frequent and sit at every alignment.
        let alphabet = [0x0f, 0x05, 0x34, 0xcd, 0x80, 0x90, 0x00];
        let mut x = 0x2545_f491_4f6c_dd1du64;
        let mut b = Vec::new();
        for _ in 0..100_000 {
            x ^= x << 13;
            x ^= x >> 7;
            x ^= x << 17;
            b.push(alphabet[(x % alphabet.len() as u64) as usize]);
        }
        let s = sites(&b);
        assert!(s.len() > 1000, "{}", s.len());
        assert_eq!(s, naive(&b));
    }
}
