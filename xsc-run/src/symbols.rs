//! Naming program addresses for reports: the binary's own symbol table,
//! demangled. Read from the file the first time a report needs a name
//! (a start should not pay for demangling every symbol of a large binary);
//! a report is the last thing a dying process does, so allocating there is
//! acceptable.

use object::{Object, ObjectSymbol, SymbolKind};
use std::sync::OnceLock;

struct Symbol {
    start: u64,
    end: u64,
    name: String,
}

static SYMBOLS: OnceLock<Vec<Symbol>> = OnceLock::new();
static PROGRAM: OnceLock<(std::ffi::OsString, u64)> = OnceLock::new();

/// Records where the program's symbols are: its file, loaded at `base`.
pub fn init(path: &std::ffi::OsStr, base: u64) {
    let _ = PROGRAM.set((path.to_owned(), base));
}

/// Reads the function symbols of the program (if it has any), relocated by
/// its load bias.
fn read() -> Vec<Symbol> {
    let mut syms = Vec::new();
    let Some((path, base)) = PROGRAM.get() else {
        return syms;
    };
    let base = *base;
    let data = std::fs::read(path).unwrap_or_default();
    if let Ok(file) = object::File::parse(&*data) {
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
    syms
}

/// The symbol containing `addr` and the offset into it.
pub fn lookup(addr: u64) -> Option<(&'static str, u64)> {
    let syms = SYMBOLS.get_or_init(read);
    let i = syms.partition_point(|s| s.start <= addr);
    let s = syms.get(i.checked_sub(1)?)?;
    (addr < s.end).then(|| (s.name.as_str(), addr - s.start))
}
