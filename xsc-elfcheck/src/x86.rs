//! x86_64: linear decoding with `iced-x86`, and classification of the byte
//! scan's sites against it.
//!
//! Each run of executable memory is decoded linearly, as `objdump -d` does,
//! starting afresh at the run's start and at the start of each segment's own
//! bytes (an instruction that crosses such a point is decoded whole, with
//! the bytes that follow it, since a CPU falling through would execute it).
//! An undecodable byte is skipped one byte at a time. Instructions that start
//! in a segment's own bytes (`p_vaddr..p_vaddr + p_memsz`) are "decoded";
//! page slack (other bytes of the file that share a page with the segment,
//! see `memory.rs`) is not code anyone meant to run: it is decoded only to
//! describe the byte scan's sites in it, which are all hidden sites.
//! Decoded instructions that fail the check:
//!
//! - `syscall`, `sysenter`;
//! - `int n` (`cd ib`, every `n`, `int 0x80` included);
//! - far transfers: `call far`, `jmp far`, `retf`, `iret`/`iretd`/`iretq`,
//!   which can load a new code segment (a 32-bit one, say) and run code
//!   this decoder never decoded in that mode.
//!
//! `int3` (`cc`) and `int1` (`f1`) are allowed: they raise debug exceptions
//! (SIGTRAP), not system calls, and compilers emit `int3` as padding between
//! functions and for breakpoints. `into` does not exist in 64-bit mode.
//! Privileged instructions (`sysret`, `sysexit`, ...) fault in user mode.

use crate::findings::FindingKind;
use crate::memory::Run;
use crate::scan::{self, SiteKind};
use iced_x86::{Code, Decoder, DecoderOptions, Formatter, Instruction, IntelFormatter, Mnemonic};
use std::ops::Range;
use std::sync::OnceLock;

/// A site found in a run, before it is named.
#[derive(Clone, Debug)]
pub struct Site {
    pub vaddr: u64,
    pub kind: FindingKind,
    pub bytes: Vec<u8>,
    pub disasm: String,
    pub message: String,
}

/// The kind of finding a decoded instruction with this `Code` is, if any.
fn classify(code: Code) -> Option<FindingKind> {
    match code.mnemonic() {
        Mnemonic::Syscall | Mnemonic::Sysenter => Some(FindingKind::SyscallInstruction),
        Mnemonic::Int => Some(FindingKind::SoftwareInterrupt),
        Mnemonic::Retf | Mnemonic::Iret | Mnemonic::Iretd | Mnemonic::Iretq => Some(FindingKind::FarTransfer),
        Mnemonic::Call | Mnemonic::Jmp => match code {
            Code::Call_m1616
            | Code::Call_m1632
            | Code::Call_m1664
            | Code::Call_ptr1616
            | Code::Call_ptr1632
            | Code::Jmp_m1616
            | Code::Jmp_m1632
            | Code::Jmp_m1664
            | Code::Jmp_ptr1616
            | Code::Jmp_ptr1632 => Some(FindingKind::FarTransfer),
            _ => None,
        },
        _ => None,
    }
}

/// `classify` for every `Code`, as a table: the hot loop does one load per
/// instruction instead of a mnemonic lookup and a match.
fn forbidden_table() -> &'static [bool] {
    static TABLE: OnceLock<Vec<bool>> = OnceLock::new();
    TABLE.get_or_init(|| {
        let n = Code::values().map(|c| c as usize + 1).max().unwrap_or(0);
        let mut t = vec![false; n];
        for code in Code::values() {
            t[code as usize] = classify(code).is_some();
        }
        t
    })
}

/// Whether the decoded instruction is the very encoding the byte scan
/// found at `site` (its last two bytes), as opposed to containing it.
fn is_own_encoding(ins: &Instruction, kind: SiteKind, site: u64) -> bool {
    let own = match kind {
        SiteKind::Syscall => ins.mnemonic() == Mnemonic::Syscall,
        SiteKind::Sysenter => ins.mnemonic() == Mnemonic::Sysenter,
        SiteKind::Int80 => ins.mnemonic() == Mnemonic::Int && ins.immediate8() == 0x80,
    };
    own && site + 2 == ins.next_ip()
}

/// Disassembly in Intel syntax with `0x` numbers.
pub struct Disassembler {
    formatter: IntelFormatter,
}

impl Default for Disassembler {
    fn default() -> Self {
        let mut formatter = IntelFormatter::new();
        let o = formatter.options_mut();
        o.set_hex_prefix("0x");
        o.set_hex_suffix("");
        o.set_uppercase_hex(false);
        o.set_space_after_operand_separator(true);
        o.set_branch_leading_zeros(false);
        o.set_leading_zeros(false);
        Disassembler { formatter }
    }
}

impl Disassembler {
    pub fn format(&mut self, ins: &Instruction) -> String {
        if ins.is_invalid() {
            return "(bad)".into();
        }
        let mut s = String::new();
        self.formatter.format(ins, &mut s);
        s
    }
}

fn hexbytes(b: &[u8]) -> String {
    b.iter().map(|x| format!("{x:02x}")).collect::<Vec<_>>().join(" ")
}

fn decoded_message(kind: &FindingKind, ins: &Instruction, text: &str) -> String {
    match (kind, ins.mnemonic()) {
        (FindingKind::SyscallInstruction, _) => {
            format!("`{text}` reached by linear decoding: a raw system call, which an XSC kernel stops with SIGSYS")
        }
        (FindingKind::SoftwareInterrupt, _) if ins.immediate8() == 0x80 => {
            "`int 0x80` reached by linear decoding: the i386 system-call gate".into()
        }
        (FindingKind::SoftwareInterrupt, _) => format!(
            "`{text}` reached by linear decoding: a software interrupt; XSC binaries never trap into the kernel"
        ),
        _ => format!(
            "`{text}` reached by linear decoding: a far transfer can load a new code segment (32-bit mode, say) \
             and run code that was never checked in that mode"
        ),
    }
}

/// What one linear decode needs to know about the run.
struct Ctx<'a> {
    bytes: &'a [u8],
    run_start: u64,
    /// The segments' own bytes (see `Run::code_ranges`).
    code: &'a [Range<usize>],
    /// The byte scan's sites, sorted.
    sites: &'a [(usize, SiteKind)],
    table: &'static [bool],
}

/// The result of decoding linearly from `from` up to `limit`.
struct Stretch {
    from: usize,
    limit: usize,
    /// Instruction starts in `[from, limit)`, one bit per byte (only when
    /// recorded, for the parallel merge).
    starts: Vec<u64>,
    /// The first instruction start at or after `limit`, or where decoding
    /// stopped.
    exit: usize,
    /// Where decoding stopped because it met an instruction start of the
    /// stretch it was told to converge with.
    converged_at: Option<usize>,
    /// Findings, each with the start of the instruction it belongs to.
    items: Vec<(usize, Site)>,
}

impl Stretch {
    fn is_start(&self, p: usize) -> bool {
        if p < self.from || p >= self.limit {
            return false;
        }
        let i = p - self.from;
        self.starts.get(i / 64).is_some_and(|w| w >> (i % 64) & 1 != 0)
    }
}

/// Decodes linearly from `from` (an instruction start) while instructions
/// start before `limit`; sites at or after `site_limit` belong to the next
/// span. With `converge`, stops at the first instruction start that
/// `converge` also has (from there on both decodes are the same).
fn decode(ctx: &Ctx<'_>, from: usize, limit: usize, site_limit: usize, converge: Option<&Stretch>) -> Stretch {
    let mut dis = Disassembler::default();
    let window = &ctx.bytes[from..];
    let base = ctx.run_start + from as u64;
    let mut dec = Decoder::with_ip(64, window, base, DecoderOptions::NONE);
    let record = converge.is_none();
    let mut starts = if record { vec![0u64; (limit - from).div_ceil(64)] } else { Vec::new() };
    let mut next_site = ctx.sites.partition_point(|s| s.0 < from);
    let mut next_own = ctx.code.partition_point(|r| r.end <= from);
    let mut items = Vec::new();
    let mut converged_at = None;
    let mut ins = Instruction::default();
    let mut pos = 0usize;
    while from + pos < limit {
        let start = from + pos;
        if let Some(c) = converge {
            if c.is_start(start) {
                converged_at = Some(start);
                break;
            }
        }
        if record {
            starts[pos / 64] |= 1 << (pos % 64);
        }
        dec.decode_out(&mut ins);
        let len = if ins.is_invalid() {
            // Skip one byte, as objdump does with "(bad)".
            if dec.set_position(pos + 1).is_err() {
                break;
            }
            dec.set_ip(base + pos as u64 + 1);
            1
        } else {
            ins.len()
        };
        let end = start + len;
        while ctx.code.get(next_own).is_some_and(|r| r.end <= start) {
            next_own += 1;
        }
        let in_code = ctx.code.get(next_own).is_some_and(|r| r.contains(&start));
        if in_code && ctx.table[ins.code() as usize] {
            if let Some(kind) = classify(ins.code()) {
                let text = dis.format(&ins);
                let site = Site {
                    vaddr: ins.ip(),
                    message: decoded_message(&kind, &ins, &text),
                    kind,
                    bytes: ctx.bytes[start..end].to_vec(),
                    disasm: text,
                };
                items.push((start, site));
            }
        }
        // The scan's sites that start inside this instruction.
        while let Some(&(off, skind)) = ctx.sites.get(next_site) {
            if off >= end || off >= site_limit {
                break;
            }
            next_site += 1;
            let site_va = ctx.run_start + off as u64;
            if in_code && !ins.is_invalid() && is_own_encoding(&ins, skind, site_va) {
                continue; // reported above as a decoded instruction
            }
            let inside = dis.format(&ins);
            let sb = hexbytes(&skind.bytes());
            let where_ = if off + 1 == end && len > 1 {
                "starting in the last byte of".to_string()
            } else if off + 1 == end {
                "starting at the undecodable byte".to_string()
            } else {
                format!("at byte {} of", off - start)
            };
            let site = Site {
                vaddr: site_va,
                message: format!(
                    "bytes `{sb}` ({}) {where_} `{inside}` at {:#x}: linear decoding does not reach them, \
                     but a jump to {site_va:#x} would execute them",
                    skind.mnemonic(),
                    ctx.run_start + start as u64
                ),
                kind: FindingKind::HiddenSyscall { inside },
                bytes: ctx.bytes[start..end.max(off + 2).min(ctx.bytes.len())].to_vec(),
                disasm: skind.mnemonic().to_string(),
            };
            items.push((start, site));
        }
        pos += len;
    }
    Stretch { from, limit, starts, exit: from + pos, converged_at, items }
}

/// Spans shorter than this are decoded on the calling thread.
const PARALLEL_CHUNK: usize = 1 << 20;

/// Decodes `[span_start, span_end)` exactly as one linear decode would, on
/// several threads: each thread decodes a chunk from a guessed start; then,
/// chunk by chunk, the true decode (which enters the chunk where the
/// previous chunk's last instruction ends) is redone until it meets an
/// instruction start of the chunk's own decode. x86 decoding resynchronizes
/// within a few instructions, and from a common instruction start on two
/// decodes are identical, so the result is the sequential one.
fn decode_span(ctx: &Ctx<'_>, span_start: usize, span_end: usize, out: &mut Vec<Site>) {
    let threads = std::thread::available_parallelism().map_or(1, |n| n.get()).min(8);
    let n = threads.min((span_end - span_start) / PARALLEL_CHUNK).max(1);
    if n == 1 {
        let s = decode(ctx, span_start, span_end, span_end, None);
        out.extend(s.items.into_iter().map(|(_, site)| site));
        return;
    }
    let step = (span_end - span_start) / n;
    let bounds: Vec<(usize, usize)> = (0..n)
        .map(|i| (span_start + i * step, if i + 1 == n { span_end } else { span_start + (i + 1) * step }))
        .collect();
    let stretches: Vec<Stretch> = std::thread::scope(|scope| {
        let handles: Vec<_> = bounds[1..]
            .iter()
            .map(|&(from, limit)| (from, limit, scope.spawn(move || decode(ctx, from, limit, span_end, None))))
            .collect();
        let mut v = vec![decode(ctx, bounds[0].0, bounds[0].1, span_end, None)];
        for (from, limit, h) in handles {
            // A thread cannot panic short of a bug; redo its work here if it did.
            v.push(h.join().unwrap_or_else(|_| decode(ctx, from, limit, span_end, None)));
        }
        v
    });
    let mut true_pos = span_start;
    for s in stretches {
        if true_pos >= s.limit {
            continue; // the previous instruction covers this whole chunk
        }
        let accept_from = if s.is_start(true_pos) {
            true_pos
        } else {
            let fix = decode(ctx, true_pos, s.limit, span_end, Some(&s));
            out.extend(fix.items.into_iter().map(|(_, site)| site));
            match fix.converged_at {
                Some(c) => c,
                None => {
                    true_pos = fix.exit;
                    continue;
                }
            }
        };
        out.extend(s.items.into_iter().filter(|(at, _)| *at >= accept_from).map(|(_, site)| site));
        true_pos = s.exit;
    }
}

/// Checks one run: decoded forbidden instructions and hidden sites.
pub fn check_run(run: &Run<'_>, out: &mut Vec<Site>) {
    let bytes: &[u8] = &run.bytes;
    let sites = scan::sites(bytes);
    let syncs = run.sync_points();
    let code = run.code_ranges();
    let ctx = Ctx { bytes, run_start: run.start, code: &code, sites: &sites, table: forbidden_table() };
    for (k, &span_start) in syncs.iter().enumerate() {
        let span_end = syncs.get(k + 1).copied().unwrap_or(bytes.len());
        decode_span(&ctx, span_start, span_end, out);
    }
}
