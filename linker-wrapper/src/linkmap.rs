//! GNU ld's link map (`-Map=FILE`): which input object each piece of the
//! output came from. Only input-section lines matter:
//!
//! ```text
//!  .text.getpid   0x0000000000012340       0x12 /x/libc.a(getpid.lo)
//!  .text._ZN3foo3bar17h0123456789abcdefE
//!                 0x0000000000012360       0x40 /x/libfoo-1234.rlib(foo-1234.foo.abc-cgu.0.rcgu.o)
//! ```

/// One input section placed in the output.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct Piece {
    pub section: String,
    pub start: u64,
    pub size: u64,
    /// The input file, e.g. `/x/libc.a(getpid.lo)` or `/x/main.o`.
    pub object: String,
}

fn hex(s: &str) -> Option<u64> {
    u64::from_str_radix(s.strip_prefix("0x")?, 16).ok()
}

/// Parses the input-section lines of a map file.
pub fn parse(map: &str) -> Vec<Piece> {
    let mut pieces = Vec::new();
    let mut pending_name: Option<String> = None;
    for line in map.lines() {
        if !line.starts_with(' ') {
            pending_name = None;
            continue;
        }
        let tokens: Vec<&str> = line.split_whitespace().collect();
        match tokens.as_slice() {
            [name] if name.starts_with('.') => pending_name = Some(name.to_string()),
            [name, addr, size, object @ ..] if name.starts_with('.') && !object.is_empty() => {
                if let (Some(start), Some(size)) = (hex(addr), hex(size)) {
                    pieces.push(Piece {
                        section: name.to_string(),
                        start,
                        size,
                        object: object.join(" "),
                    });
                }
                pending_name = None;
            }
            [addr, size, object @ ..] if pending_name.is_some() && !object.is_empty() => {
                if let (Some(start), Some(size)) = (hex(addr), hex(size)) {
                    pieces.push(Piece {
                        section: pending_name.take().unwrap_or_default(),
                        start,
                        size,
                        object: object.join(" "),
                    });
                }
            }
            _ => pending_name = None,
        }
    }
    pieces.retain(|p| p.size > 0);
    pieces.sort_by_key(|p| p.start);
    pieces
}

/// The piece containing `addr`.
pub fn find(pieces: &[Piece], addr: u64) -> Option<&Piece> {
    let i = pieces.partition_point(|p| p.start <= addr);
    let p = pieces.get(i.checked_sub(1)?)?;
    (addr < p.start + p.size).then_some(p)
}

/// The Rust crate an input object belongs to, when it is a member of an
/// rlib (`.../libNAME-HASH.rlib(...)`).
pub fn rlib_crate(object: &str) -> Option<String> {
    let lib = object.split('(').next()?;
    let file = lib.rsplit('/').next()?;
    let stem = file.strip_prefix("lib")?.strip_suffix(".rlib")?;
    Some(
        stem.rsplit_once('-')
            .map_or(stem, |(name, _hash)| name)
            .to_string(),
    )
}

#[cfg(test)]
mod tests {
    use super::*;

    const MAP: &str = "Memory Configuration\n\nLinker script and memory map\n\n .text          0x0000000000001000       0x20 /tmp/main.o\n                0x0000000000001000                main\n .text.getpid   0x0000000000001020       0x12 /x/libc.a(getpid.lo)\n .text._ZN3foo3bar17h0123456789abcdefE\n                0x0000000000001040       0x40 /x/libfoo-0a1b2c.rlib(foo-0a1b2c.foo.abc-cgu.0.rcgu.o)\n *(.text.unlikely)\n .rodata        0x0000000000002000       0x10 /tmp/main.o\n";

    #[test]
    fn parses_one_and_two_line_entries() {
        let p = parse(MAP);
        assert_eq!(p.len(), 4, "{p:#?}");
        assert_eq!(find(&p, 0x1025).unwrap().object, "/x/libc.a(getpid.lo)");
        let foo = find(&p, 0x1050).unwrap();
        assert_eq!(foo.section, ".text._ZN3foo3bar17h0123456789abcdefE");
        assert_eq!(rlib_crate(&foo.object).as_deref(), Some("foo"));
        assert!(find(&p, 0x1080).is_none());
        assert_eq!(rlib_crate("/tmp/main.o"), None);
    }
}
