//! Human and JSON output. The JSON format is described by `schema.json`
//! (JSON Schema) next to this crate's Cargo.toml; `JSON_SCHEMA_VERSION`
//! changes when it does.

use crate::error::CheckError;
use crate::findings::{Finding, FindingKind, Report};
use crate::Options;
use serde::Serialize;
use std::fmt::Write as _;

/// The `schema_version` field of the JSON output.
pub const JSON_SCHEMA_VERSION: u32 = 1;

fn hexbytes(b: &[u8], sep: &str) -> String {
    b.iter()
        .map(|x| format!("{x:02x}"))
        .collect::<Vec<_>>()
        .join(sep)
}

fn plural(n: usize, word: &str) -> String {
    if n == 1 {
        format!("1 {word}")
    } else {
        format!("{n} {word}s")
    }
}

/// Where a finding is, as words: address, file offset, segment, section,
/// symbol, crate (whatever is known).
fn place(f: &Finding) -> String {
    let mut parts = Vec::new();
    if let Some(v) = f.vaddr {
        let mut s = format!("at {v:#x}");
        if let Some(o) = f.file_offset {
            let _ = write!(s, " (file offset {o:#x})");
        }
        parts.push(s);
    }
    if let Some(seg) = f.segment {
        parts.push(format!("in segment {seg}"));
    }
    if f.kind.is_instruction() {
        parts.push(match &f.section {
            Some(s) => format!("section {s}"),
            None => "no section".into(),
        });
        parts.push(match (&f.symbol, f.symbol_offset) {
            (Some(s), Some(o)) => format!("symbol {s}+{o:#x}"),
            (Some(s), None) => format!("symbol {s}"),
            _ => "no symbol".into(),
        });
    }
    let mut s = parts.join(", ");
    if let Some(c) = &f.crate_name {
        let _ = write!(s, " [crate {c}]");
    }
    s
}

/// One line per finding, then remarks, then a summary line; every line
/// starts with `path: `.
pub fn render_human(path: &str, r: &Report, opts: &Options) -> String {
    let mut out = String::new();
    for f in &r.findings {
        let _ = write!(out, "{path}: {}: {}", f.severity.name(), f.kind.describe());
        let p = place(f);
        if !p.is_empty() {
            let _ = write!(out, " {p}");
        }
        if !f.bytes.is_empty() {
            let _ = write!(out, ": {}", hexbytes(&f.bytes, " "));
        }
        if let Some(d) = &f.disasm {
            let _ = write!(out, " `{d}`");
        }
        let _ = writeln!(out, ": {}", f.message);
    }
    for remark in &r.remarks {
        let _ = writeln!(out, "{path}: note: {remark}");
    }
    let violations = r.violations(opts).count();
    let warnings = r.findings.len() - violations;
    let hidden = r
        .findings
        .iter()
        .filter(|f| matches!(f.kind, FindingKind::HiddenSyscall { .. }))
        .count();
    let verdict = if violations == 0 { "ok" } else { "FAIL" };
    let _ = write!(
        out,
        "{path}: {verdict}: {}, {}; {}, {} bytes of executable memory in {}",
        plural(violations, "violation"),
        plural(warnings, "warning"),
        r.arch,
        r.exec_bytes,
        plural(r.exec_segments.len(), "executable segment"),
    );
    if hidden > 0 && !opts.strict {
        let _ = write!(
            out,
            " ({}: --strict fails on them)",
            plural(hidden, "hidden site")
        );
    }
    out.push('\n');
    out
}

/// The line for a file that could not be checked.
pub fn render_error(path: &str, e: &CheckError) -> String {
    format!("{path}: could not check: {e}\n")
}

/// The exit status for a set of results: 2 if any file could not be
/// checked, else 1 if any has violations, else 0.
pub fn exit_code(results: &[(String, Result<Report, CheckError>)], opts: &Options) -> i32 {
    if results.iter().any(|(_, r)| r.is_err()) {
        2
    } else if results
        .iter()
        .any(|(_, r)| r.as_ref().is_ok_and(|r| !r.passed(opts)))
    {
        1
    } else {
        0
    }
}

#[derive(Serialize)]
struct JsonOut<'a> {
    schema_version: u32,
    tool: &'static str,
    tool_version: &'static str,
    strict: bool,
    require_note: bool,
    exit_code: i32,
    files: Vec<JsonFile<'a>>,
}

#[derive(Serialize)]
struct JsonFile<'a> {
    path: &'a str,
    /// "pass", "fail" or "error".
    status: &'static str,
    error: Option<JsonError>,
    arch: Option<&'static str>,
    exec_bytes: Option<u64>,
    exec_segments: Vec<JsonSegment>,
    note: Option<JsonNote>,
    violations: usize,
    warnings: usize,
    findings: Vec<JsonFinding<'a>>,
    remarks: Vec<&'a str>,
}

#[derive(Serialize)]
struct JsonError {
    kind: &'static str,
    message: String,
}

#[derive(Serialize)]
struct JsonSegment {
    index: usize,
    vaddr: u64,
    memsz: u64,
    offset: u64,
    filesz: u64,
    flags: String,
}

#[derive(Serialize)]
struct JsonNote {
    abi_version: u32,
    features: u32,
}

#[derive(Serialize)]
struct JsonFinding<'a> {
    kind: &'static str,
    severity: &'static str,
    vaddr: Option<u64>,
    file_offset: Option<u64>,
    segment: Option<usize>,
    section: Option<&'a str>,
    symbol: Option<&'a str>,
    symbol_offset: Option<u64>,
    #[serde(rename = "crate")]
    crate_name: Option<&'a str>,
    bytes: String,
    disasm: Option<&'a str>,
    inside: Option<&'a str>,
    message: &'a str,
}

fn flags(f: u32) -> String {
    use object::elf::{PF_R, PF_W, PF_X};
    [(PF_R, 'r'), (PF_W, 'w'), (PF_X, 'x')]
        .iter()
        .map(|&(bit, c)| if f & bit != 0 { c } else { '-' })
        .collect()
}

/// The JSON document for a set of results (see `schema.json`).
pub fn render_json(results: &[(String, Result<Report, CheckError>)], opts: &Options) -> String {
    let files = results
        .iter()
        .map(|(path, res)| match res {
            Err(e) => JsonFile {
                path,
                status: "error",
                error: Some(JsonError {
                    kind: e.kind_name(),
                    message: e.to_string(),
                }),
                arch: None,
                exec_bytes: None,
                exec_segments: Vec::new(),
                note: None,
                violations: 0,
                warnings: 0,
                findings: Vec::new(),
                remarks: Vec::new(),
            },
            Ok(r) => {
                let violations = r.violations(opts).count();
                JsonFile {
                    path,
                    status: if violations == 0 { "pass" } else { "fail" },
                    error: None,
                    arch: Some(r.arch.name()),
                    exec_bytes: Some(r.exec_bytes),
                    exec_segments: r
                        .exec_segments
                        .iter()
                        .map(|s| JsonSegment {
                            index: s.index,
                            vaddr: s.vaddr,
                            memsz: s.memsz,
                            offset: s.offset,
                            filesz: s.filesz,
                            flags: flags(s.flags),
                        })
                        .collect(),
                    note: r.note.map(|n| JsonNote {
                        abi_version: n.abi_version,
                        features: n.features,
                    }),
                    violations,
                    warnings: r.findings.len() - violations,
                    findings: r
                        .findings
                        .iter()
                        .map(|f| JsonFinding {
                            kind: f.kind.name(),
                            severity: if crate::fails(f, opts) {
                                "violation"
                            } else {
                                "warning"
                            },
                            vaddr: f.vaddr,
                            file_offset: f.file_offset,
                            segment: f.segment,
                            section: f.section.as_deref(),
                            symbol: f.symbol.as_deref(),
                            symbol_offset: f.symbol_offset,
                            crate_name: f.crate_name.as_deref(),
                            bytes: hexbytes(&f.bytes, ""),
                            disasm: f.disasm.as_deref(),
                            inside: match &f.kind {
                                FindingKind::HiddenSyscall { inside } => Some(inside),
                                _ => None,
                            },
                            message: &f.message,
                        })
                        .collect(),
                    remarks: r.remarks.iter().map(String::as_str).collect(),
                }
            }
        })
        .collect();
    let doc = JsonOut {
        schema_version: JSON_SCHEMA_VERSION,
        tool: "xsc-elfcheck",
        tool_version: env!("CARGO_PKG_VERSION"),
        strict: opts.strict,
        require_note: opts.require_note,
        exit_code: exit_code(results, opts),
        files,
    };
    // Serializing plain structs of strings and integers cannot fail.
    let mut s =
        serde_json::to_string_pretty(&doc).unwrap_or_else(|e| format!("{{\"error\": \"{e}\"}}"));
    s.push('\n');
    s
}
