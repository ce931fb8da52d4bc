//! `xsc-elfcheck`: verifies that an ELF binary keeps the XSC promise of
//! never executing a system-call instruction (docs/ABI.md §1, §8).
//!
//! The library is what the linker wrapper (which fails a link on
//! violations) and `xsc-run` (which refuses unverified binaries) call; the
//! `xsc-elfcheck` command is a thin shell over it. See README.md for the
//! rules and the hidden-site policy.
//!
//! ```no_run
//! let data = std::fs::read("a.out").unwrap();
//! let opts = xsc_elfcheck::Options::default();
//! match xsc_elfcheck::check(&data, &opts) {
//!     Ok(report) if report.passed(&opts) => {}
//!     Ok(report) => eprint!("{}", xsc_elfcheck::render_human("a.out", &report, &opts)),
//!     Err(e) => eprintln!("a.out: could not check: {e}"),
//! }
//! ```
//!
//! Module map: `elf` (header, program headers, file-level rules),
//! `memory` (what the loader maps executable), `scan` (byte scan for
//! hidden sites), `x86` and `aarch64` (instruction rules), `symbols` and
//! `rustsym` (naming places), `report` (human and JSON output).

mod aarch64;
mod elf;
mod error;
mod findings;
mod memory;
mod report;
mod rustsym;
mod scan;
mod symbols;
mod x86;
mod x86len;

pub use error::CheckError;
pub use findings::{Arch, Finding, FindingKind, Report, SegmentInfo, Severity};
pub use report::{exit_code, render_error, render_human, render_json, JSON_SCHEMA_VERSION};
/// The crate a Rust symbol's code comes from, when its mangled name says
/// so (the rule [`Finding::crate_name`] follows).
pub use rustsym::crate_of as symbol_crate;

use std::time::{Duration, Instant};

/// How strict a check is.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct Options {
    /// Hidden sites (system-call bytes inside other instructions) fail the
    /// check instead of being warnings.
    pub strict: bool,
    /// A missing `XSC_ABI` note fails the check (otherwise it is a
    /// warning). A malformed note always fails.
    pub require_note: bool,
}

impl Default for Options {
    fn default() -> Self {
        Options {
            strict: false,
            require_note: true,
        }
    }
}

/// Whether a finding fails the check under `opts`.
pub(crate) fn fails(f: &Finding, opts: &Options) -> bool {
    match f.kind {
        FindingKind::HiddenSyscall { .. } => opts.strict,
        FindingKind::MissingNote => opts.require_note,
        _ => true,
    }
}

/// Checks one binary held in memory.
///
/// `Err` means the file could not be checked (not a supported ELF file, or
/// one too damaged to know what the loader maps): treat it as a failure.
/// Never panics, whatever the bytes.
pub fn check(data: &[u8], opts: &Options) -> Result<Report, CheckError> {
    let e = elf::parse(data)?;
    let (note, mut findings) = elf::file_findings(&e)?;
    let runs = memory::exec_runs(&e)?;

    let mut sites = Vec::new();
    match e.arch {
        Arch::X86_64 => {
            for run in &runs {
                x86::check_run(run, &mut sites);
            }
        }
        Arch::Aarch64 => {
            for run in &runs {
                aarch64::check_run(run, &mut sites);
            }
        }
    }

    let (names, mut remarks) = symbols::Names::load(e.header, data);
    let file_len = data.len() as u64;
    for site in sites {
        let run = runs
            .iter()
            .find(|r| (r.start..r.end()).contains(&site.vaddr));
        let piece = run.and_then(|r| r.piece_at(site.vaddr));
        let mut message = site.message;
        if let Some(p) = piece.filter(|p| !p.holds(site.vaddr)) {
            message.push_str(&format!(
                " (in the page slack of segment {}: outside its {:#x}..{:#x}, but the loader maps the whole \
                 page executable)",
                p.phdr.index,
                p.phdr.vaddr,
                p.phdr.vaddr.saturating_add(p.phdr.memsz)
            ));
        }
        let sym = names.symbol_at(site.vaddr);
        findings.push(Finding {
            kind: site.kind,
            severity: Severity::Violation,
            vaddr: Some(site.vaddr),
            file_offset: piece.and_then(|p| p.file_offset(site.vaddr, file_len)),
            segment: piece.map(|p| p.phdr.index),
            section: names.section_at(site.vaddr).map(str::to_string),
            symbol_offset: sym.as_ref().map(|s| s.offset),
            crate_name: sym.as_ref().and_then(|s| s.crate_name.clone()),
            symbol: sym.map(|s| s.name),
            bytes: site.bytes,
            disasm: Some(site.disasm),
            message,
        });
    }
    for f in &mut findings {
        f.severity = if fails(f, opts) {
            Severity::Violation
        } else {
            Severity::Warning
        };
    }
    findings.sort_by(|a, b| b.severity.cmp(&a.severity).then(a.vaddr.cmp(&b.vaddr)));

    let exec_segments: Vec<SegmentInfo> = e
        .phdrs
        .iter()
        .filter(|p| p.is_exec_load())
        .map(|p| SegmentInfo {
            index: p.index,
            vaddr: p.vaddr,
            memsz: p.memsz,
            offset: p.offset,
            filesz: p.filesz,
            flags: p.flags,
        })
        .collect();
    if exec_segments.is_empty() {
        remarks.push("no executable PT_LOAD segment: there is no code to check".into());
    }
    Ok(Report {
        arch: e.arch,
        exec_bytes: runs.iter().map(|r| r.bytes.len() as u64).sum(),
        exec_segments,
        note,
        findings,
        remarks,
    })
}

/// Reads and checks a file.
pub fn check_file(path: impl AsRef<std::path::Path>, opts: &Options) -> Result<Report, CheckError> {
    let data = std::fs::read(path.as_ref()).map_err(|e| CheckError::Io(e.to_string()))?;
    check(&data, opts)
}

/// For the benchmark: checks `data` (with the note not required) and
/// returns the bytes of executable memory checked and the time it took.
pub fn throughput(data: &[u8]) -> Result<(u64, Duration), CheckError> {
    let opts = Options {
        strict: false,
        require_note: false,
    };
    let t = Instant::now();
    let report = check(data, &opts)?;
    Ok((report.exec_bytes, t.elapsed()))
}
