//! Naming program addresses for reports: the binary's own symbol table,
//! demangled, looked up without allocating (usable in a signal handler).

use object::{Object, ObjectSymbol, SymbolKind};
use std::sync::OnceLock;

struct Symbol {
    start: u64,
    end: u64,
    name: String,
}

static SYMBOLS: OnceLock<Vec<Symbol>> = OnceLock::new();

/// Reads the function symbols of the program (if it has any), relocated by
/// `base`.
pub fn init(data: &[u8], base: u64) {
    let mut syms = Vec::new();
    if let Ok(file) = object::File::parse(data) {
        for s in file.symbols() {
            if s.kind() != SymbolKind::Text || s.address() == 0 {
                continue;
            }
            let Ok(name) = s.name() else { continue };
            syms.push(Symbol {
                start: base + s.address(),
                end: base + s.address() + s.size().max(1),
                name: format!("{:#}", rustc_demangle::demangle(name)),
            });
        }
    }
    syms.sort_by_key(|s| s.start);
    let _ = SYMBOLS.set(syms);
}

/// The symbol containing `addr` and the offset into it.
pub fn lookup(addr: u64) -> Option<(&'static str, u64)> {
    let syms = SYMBOLS.get()?;
    let i = syms.partition_point(|s| s.start <= addr);
    let s = syms.get(i.checked_sub(1)?)?;
    (addr < s.end).then(|| (s.name.as_str(), addr - s.start))
}
