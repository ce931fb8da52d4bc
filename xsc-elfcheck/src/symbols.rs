//! Names for places: sections and symbols (`.symtab` and `.dynsym`).
//!
//! Only used to name the places of findings. Section headers may be
//! missing, stripped or lying; when they cannot be read, the report loses
//! names (and says so in a remark), never coverage.

use crate::rustsym;
use object::elf;
use object::read::elf::{FileHeader, SectionHeader, Sym, SymbolTable};
use object::LittleEndian as LE;

#[derive(Clone, Debug)]
struct Section {
    name: String,
    addr: u64,
    size: u64,
}

#[derive(Clone, Debug)]
struct Symbol {
    addr: u64,
    size: u64,
    is_func: bool,
    raw: String,
}

/// A symbol holding an address.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct SymbolAt {
    /// Demangled, without the hash.
    pub name: String,
    pub offset: u64,
    pub crate_name: Option<String>,
}

/// The names a file offers.
#[derive(Default)]
pub struct Names {
    sections: Vec<Section>,
    symbols: Vec<Symbol>,
}

impl Names {
    /// Reads what can be read; returns remarks about what could not.
    pub fn load(header: &elf::FileHeader64<LE>, data: &[u8]) -> (Names, Vec<String>) {
        let mut names = Names::default();
        let mut remarks = Vec::new();
        let table = match header.sections(LE, data) {
            Ok(t) => t,
            Err(e) => {
                remarks.push(format!(
                    "section headers unreadable ({e}): no section or symbol names"
                ));
                return (names, remarks);
            }
        };
        if table.is_empty() {
            remarks.push("no section headers: no section or symbol names".into());
            return (names, remarks);
        }
        for s in table.iter() {
            let flags = s.sh_flags(LE);
            let size = s.sh_size(LE);
            if flags & u64::from(elf::SHF_ALLOC) == 0 || size == 0 {
                continue;
            }
            if flags & u64::from(elf::SHF_TLS) != 0 && s.sh_type(LE) == elf::SHT_NOBITS {
                continue; // .tbss takes no address space of its own
            }
            let name = match table.section_name(LE, s) {
                Ok(n) => String::from_utf8_lossy(n).into_owned(),
                Err(_) => "(unnamed)".into(),
            };
            names.sections.push(Section {
                name,
                addr: s.sh_addr(LE),
                size,
            });
        }
        for (kind, sh_type) in [
            ("symbol table (.symtab)", elf::SHT_SYMTAB),
            ("dynamic symbols (.dynsym)", elf::SHT_DYNSYM),
        ] {
            match table.symbols(LE, data, sh_type) {
                Ok(st) => names.add_symbols(&st),
                Err(e) => remarks.push(format!("{kind} unreadable: {e}")),
            }
        }
        names
            .symbols
            .sort_by(|a, b| a.addr.cmp(&b.addr).then(b.is_func.cmp(&a.is_func)));
        if names.symbols.is_empty() {
            remarks.push("no symbols (stripped?): sites are named by section only".into());
        }
        (names, remarks)
    }

    fn add_symbols(&mut self, st: &SymbolTable<'_, elf::FileHeader64<LE>>) {
        for sym in st.symbols() {
            let ty = sym.st_type();
            if sym.st_shndx(LE) == elf::SHN_UNDEF
                || !matches!(
                    ty,
                    elf::STT_FUNC | elf::STT_NOTYPE | elf::STT_OBJECT | elf::STT_GNU_IFUNC
                )
            {
                continue;
            }
            let Ok(name) = st.symbol_name(LE, sym) else {
                continue;
            };
            if name.is_empty() || name.starts_with(b"$") {
                continue; // mapping symbols ($x, $d) on aarch64
            }
            self.symbols.push(Symbol {
                addr: sym.st_value(LE),
                size: sym.st_size(LE),
                is_func: matches!(ty, elf::STT_FUNC | elf::STT_GNU_IFUNC),
                raw: String::from_utf8_lossy(name).into_owned(),
            });
        }
    }

    /// The smallest allocated section whose address range holds `vaddr`.
    pub fn section_at(&self, vaddr: u64) -> Option<&str> {
        self.sections
            .iter()
            .filter(|s| vaddr >= s.addr && vaddr - s.addr < s.size)
            .min_by_key(|s| s.size)
            .map(|s| s.name.as_str())
    }

    /// The symbol holding `vaddr`: one whose `[value, value + size)` holds
    /// it, else the nearest symbol before it if that one has no size (an
    /// assembly label) and is in the same section.
    pub fn symbol_at(&self, vaddr: u64) -> Option<SymbolAt> {
        let after = self.symbols.partition_point(|s| s.addr <= vaddr);
        let before = &self.symbols[..after];
        let found = before
            .iter()
            .rev()
            .take(64)
            .find(|s| s.size > 0 && vaddr - s.addr < s.size)
            .or_else(|| {
                // A label (no size) names the addresses after it, up to the
                // next symbol, but only within its own section.
                let label = before.last().filter(|s| s.size == 0)?;
                let here = self.section_at(vaddr)?;
                (self.section_at(label.addr) == Some(here)).then_some(label)
            })?;
        Some(SymbolAt {
            name: rustsym::demangle(&found.raw),
            offset: vaddr - found.addr,
            crate_name: rustsym::crate_of(&found.raw),
        })
    }
}
