//! Which crate owns the code of an offending instruction.
//!
//! The symbol (and the object file) name the function the instruction was
//! compiled into, which is not always the crate whose source holds it:
//! code inlined from another crate, and above all a macro of another crate
//! expanded in the caller (`rawsc::raw_getpid!()` expanding to
//! `asm!("syscall")`), are compiled into the caller's function and object.
//!
//! The debug info says more (read with `addr2line`):
//!
//! - the line table gives the source file of the instruction, innermost
//!   inlined frame first; the file belongs to the package whose
//!   `Cargo.toml` is its nearest ancestor (or, for sources that are not on
//!   this machine, to the `NAME-VERSION` directory of a registry source or
//!   `library/NAME` of Rust's library);
//! - code expanded from another crate's macro is attributed by rustc to the
//!   macro's call site (`-C collapse-macro-debuginfo` defaults to
//!   `external`), so when the source at the reported line and column is a
//!   macro invocation whose path starts with a linked crate
//!   (`rawsc::raw_getpid!`, or `raw_getpid!` imported by a `use rawsc::...`
//!   in the same file), that crate owns the code. With
//!   `-C collapse-macro-debuginfo=no` the line table itself names the
//!   macro's file.
//!
//! Without debug info, the symbol's crate and the object's rlib remain.

use addr2line::gimli;
use object::{Object, ObjectSection};
use std::borrow::Cow;
use std::path::{Path, PathBuf};

type Reader<'a> = gimli::EndianSlice<'a, gimli::RunTimeEndian>;

/// The debug info of a linked output.
pub struct Debug<'a> {
    ctx: addr2line::Context<Reader<'a>>,
}

/// A place in the source.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct Source {
    pub file: String,
    pub line: u32,
    pub column: u32,
}

/// Who owns an instruction's code, and how that is known.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct Owner {
    /// Where the instruction is in the source (innermost frame).
    pub source: Option<Source>,
    /// The macro invocation at that place, when there is one
    /// (`rawsc::raw_getpid`, without the `!`).
    pub macro_path: Option<String>,
    /// The crate that owns the code, when known.
    pub crate_name: Option<String>,
}

impl<'a> Debug<'a> {
    /// Reads the DWARF sections of an ELF file; `None` without debug info.
    pub fn load(data: &'a [u8]) -> Option<Debug<'a>> {
        let file = object::File::parse(data).ok()?;
        let endian = if file.is_little_endian() {
            gimli::RunTimeEndian::Little
        } else {
            gimli::RunTimeEndian::Big
        };
        file.section_by_name(".debug_info")?;
        let load = |id: gimli::SectionId| -> Result<Reader<'a>, gimli::Error> {
            let bytes = file
                .section_by_name(id.name())
                .filter(|s| {
                    // Compressed sections would need decompressing: read
                    // them as absent (only names are lost).
                    s.compressed_data()
                        .is_ok_and(|c| c.format == object::CompressionFormat::None)
                })
                .and_then(|s| s.data().ok())
                .unwrap_or(&[]);
            Ok(gimli::EndianSlice::new(bytes, endian))
        };
        let dwarf = gimli::Dwarf::load(load).ok()?;
        let ctx = addr2line::Context::from_dwarf(dwarf).ok()?;
        Some(Debug { ctx })
    }

    /// The frames at `addr`, innermost (inlined) first: the function's raw
    /// (linkage) name when known, and the source place when known.
    pub fn frames(&self, addr: u64) -> Vec<(Option<String>, Option<Source>)> {
        let mut out = Vec::new();
        let Ok(mut frames) = self.ctx.find_frames(addr).skip_all_loads() else {
            return out;
        };
        while let Ok(Some(f)) = frames.next() {
            let name = f
                .function
                .as_ref()
                .and_then(|n| n.raw_name().ok().map(Cow::into_owned));
            let source = f.location.and_then(|l| {
                Some(Source {
                    file: l.file?.to_string(),
                    line: l.line?,
                    column: l.column.unwrap_or(0),
                })
            });
            out.push((name, source));
            if out.len() > 64 {
                break;
            }
        }
        out
    }
}

/// Decides who owns the instruction at `addr`. `linked` are the crates
/// whose rlibs the link used (a macro path's first segment must be one).
pub fn owner(debug: Option<&Debug<'_>>, addr: u64, linked: &[String]) -> Owner {
    let frames = debug.map(|d| d.frames(addr)).unwrap_or_default();
    let source = frames.iter().find_map(|(_, s)| s.clone());
    let mut owner = Owner {
        source: source.clone(),
        macro_path: None,
        crate_name: None,
    };
    if let Some(s) = &source {
        let text = std::fs::read_to_string(&s.file).ok();
        if let Some(text) = &text {
            owner.macro_path = invocation_at(text, s.line, s.column);
        }
        let file_crate = crate_of_file(Path::new(&s.file));
        let macro_crate = owner.macro_path.as_deref().and_then(|p| {
            macro_crate(p, text.as_deref().unwrap_or(""), linked)
                .filter(|c| Some(c) != file_crate.as_ref())
        });
        owner.crate_name = macro_crate.or(file_crate);
    }
    if owner.crate_name.is_none() {
        // The innermost function the debug info names (inlined code).
        owner.crate_name = frames
            .iter()
            .filter_map(|(n, _)| n.as_deref())
            .find_map(xsc_elfcheck::symbol_crate);
    }
    owner
}

/// The crates of the rlibs among a link's arguments.
pub fn linked_crates<S: AsRef<std::ffi::OsStr>>(args: &[S]) -> Vec<String> {
    let mut out: Vec<String> = args
        .iter()
        .filter_map(|a| crate::linkmap::rlib_crate(&a.as_ref().to_string_lossy()))
        .collect();
    out.sort();
    out.dedup();
    out
}

/// Macros that are instructions written in place, not code of another crate.
fn is_asm(path: &str) -> bool {
    let last = path.rsplit("::").next().unwrap_or(path);
    matches!(last, "asm" | "global_asm" | "naked_asm" | "llvm_asm")
}

/// The path of a macro invocation starting at (1-based) `line`, `column`
/// (a character column, as rustc writes it): `a::b::name` for
/// `a::b::name!(...)`, `::a::b!` or `name!`.
pub fn invocation_at(text: &str, line: u32, column: u32) -> Option<String> {
    let l = text
        .lines()
        .nth(usize::try_from(line).ok()?.checked_sub(1)?)?;
    let start = usize::try_from(column).ok()?.saturating_sub(1);
    let rest: String = l.chars().skip(start).collect();
    let rest = rest.strip_prefix("::").unwrap_or(&rest);
    let end = rest
        .find(|c: char| !(c.is_alphanumeric() || c == '_' || c == ':'))
        .unwrap_or(rest.len());
    let (path, after) = rest.split_at(end);
    let path = path.trim_end_matches(':');
    let starts_ident = path
        .chars()
        .next()
        .is_some_and(|c| c.is_alphabetic() || c == '_');
    (starts_ident && after.trim_start().starts_with('!') && !is_asm(path)).then(|| path.to_string())
}

/// The crate a macro invoked as `path!` comes from: the first segment of a
/// qualified path, or for a bare name, the crate a `use CRATE::...name`
/// in the same file imports it from; it must be a linked crate.
fn macro_crate(path: &str, file_text: &str, linked: &[String]) -> Option<String> {
    let is_linked = |c: &str| linked.iter().any(|l| l == c);
    if let Some((first, _)) = path.split_once("::") {
        return is_linked(first).then(|| first.to_string());
    }
    // `use rawsc::raw_getpid;`, `use rawsc::{raw_getpid, x};`, `pub use ...`
    for stmt in file_text.split(';') {
        let Some((pre, u)) = stmt.split_once("use ") else {
            continue;
        };
        // Only what starts the line may come before `use` (`pub`, `pub(crate)`).
        let pre = pre.rsplit('\n').next().unwrap_or(pre).trim();
        if !pre.is_empty() && pre != "pub" && !pre.starts_with("pub(") {
            continue;
        }
        let u = u.trim().trim_start_matches("::");
        let Some((first, rest)) = u.split_once("::") else {
            continue;
        };
        let names_it = rest
            .split(|c: char| !(c.is_alphanumeric() || c == '_'))
            .any(|w| w == path);
        if names_it && is_linked(first.trim()) {
            return Some(first.trim().to_string());
        }
    }
    None
}

/// The crate a source file belongs to (see the module documentation).
pub fn crate_of_file(file: &Path) -> Option<String> {
    let normal = |s: &str| s.replace('-', "_");
    if file.exists() {
        for dir in file.ancestors().skip(1).take(32) {
            if let Ok(toml) = std::fs::read_to_string(dir.join("Cargo.toml")) {
                if let Some(name) = package_name(&toml) {
                    return Some(normal(&name));
                }
            }
        }
    }
    // Otherwise, from the deepest directory that says: a registry or
    // vendored source (.../NAME-1.2.3/src/...), or Rust's library
    // (.../library/NAME/src/...).
    let parts: Vec<&str> = file.iter().filter_map(|p| p.to_str()).collect();
    let dirs = parts.len().saturating_sub(1);
    (0..dirs).rev().find_map(|i| {
        if i >= 2 && parts[i] == "src" && parts[i - 2] == "library" {
            return Some(normal(parts[i - 1]));
        }
        let (name, version) = parts[i].rsplit_once('-')?;
        let v: Vec<&str> = version.split('.').collect();
        (v.len() >= 3 && v[..2].iter().all(|d| d.parse::<u32>().is_ok()) && !name.is_empty())
            .then(|| normal(name))
    })
}

/// `[package] name = "..."` of a Cargo.toml.
fn package_name(toml: &str) -> Option<String> {
    let mut in_package = false;
    for line in toml.lines() {
        let line = line.trim();
        if line.starts_with('[') {
            in_package = line == "[package]";
            continue;
        }
        if !in_package {
            continue;
        }
        if let Some((k, v)) = line.split_once('=') {
            if k.trim() == "name" {
                let v = v.trim().trim_matches('"').trim_matches('\'');
                return (!v.is_empty()).then(|| v.to_string());
            }
        }
    }
    None
}

/// A file's path for messages: relative to the current directory when
/// under it.
pub fn shown(file: &str) -> String {
    let p = PathBuf::from(file);
    std::env::current_dir()
        .ok()
        .and_then(|cwd| p.strip_prefix(cwd).ok().map(Path::to_path_buf))
        .unwrap_or(p)
        .display()
        .to_string()
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn macro_invocations_at_a_place() {
        let text = "fn main() {\n    println!(\"pid {}\", rawsc::raw_getpid!());\n    let x = ::other::m! { 1 };\n    unsafe { core::arch::asm!(\"syscall\") }\n    raw_getpid !();\n}\n";
        assert_eq!(invocation_at(text, 2, 5).as_deref(), Some("println"));
        assert_eq!(
            invocation_at(text, 2, 24).as_deref(),
            Some("rawsc::raw_getpid")
        );
        assert_eq!(invocation_at(text, 3, 13).as_deref(), Some("other::m"));
        assert_eq!(invocation_at(text, 4, 14), None, "asm! is the caller's own");
        assert_eq!(invocation_at(text, 5, 5).as_deref(), Some("raw_getpid"));
        assert_eq!(invocation_at(text, 2, 1), None, "not an invocation");
        assert_eq!(invocation_at(text, 99, 1), None);
    }

    #[test]
    fn the_crate_of_a_macro() {
        let linked = vec!["rawsc".to_string(), "std".to_string()];
        assert_eq!(
            macro_crate("rawsc::raw_getpid", "", &linked).as_deref(),
            Some("rawsc")
        );
        assert_eq!(macro_crate("module::mac", "", &linked), None);
        let text = "use std::io;\nuse rawsc::{other, raw_getpid};\nfn main() {}";
        assert_eq!(
            macro_crate("raw_getpid", text, &linked).as_deref(),
            Some("rawsc")
        );
        assert_eq!(macro_crate("local_mac", text, &linked), None);
    }

    #[test]
    fn the_crate_of_a_file() {
        let dir = std::env::temp_dir().join(format!("xsc-blame-{}", std::process::id()));
        std::fs::create_dir_all(dir.join("my-pkg/src/sub")).unwrap();
        std::fs::write(
            dir.join("my-pkg/Cargo.toml"),
            "[workspace]\n\n[package]\nedition = \"2021\"\nname = \"my-pkg\"\n",
        )
        .unwrap();
        let f = dir.join("my-pkg/src/sub/m.rs");
        std::fs::write(&f, "").unwrap();
        assert_eq!(crate_of_file(&f).as_deref(), Some("my_pkg"));
        std::fs::remove_dir_all(&dir).unwrap();
        assert_eq!(
            crate_of_file(Path::new(
                "/nonexistent/registry/src/index.crates.io-1/rustix-0.38.44/src/backend/x.rs"
            ))
            .as_deref(),
            Some("rustix")
        );
        assert_eq!(
            crate_of_file(Path::new(
                "/usr/src/rustc-1.96.0/library/core/src/ptr/mod.rs"
            ))
            .as_deref(),
            Some("core")
        );
        assert_eq!(crate_of_file(Path::new("/nonexistent/x.c")), None);
    }
}
