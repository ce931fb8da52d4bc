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
use crate::x86len::fast_len;
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
pub(crate) fn classify(code: Code) -> Option<FindingKind> {
    match code.mnemonic() {
        Mnemonic::Syscall | Mnemonic::Sysenter => Some(FindingKind::SyscallInstruction),
        Mnemonic::Int => Some(FindingKind::SoftwareInterrupt),
        Mnemonic::Retf | Mnemonic::Iret | Mnemonic::Iretd | Mnemonic::Iretq => {
            Some(FindingKind::FarTransfer)
        }
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
    b.iter()
        .map(|x| format!("{x:02x}"))
        .collect::<Vec<_>>()
        .join(" ")
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
        self.starts
            .get(i / 64)
            .is_some_and(|w| w >> (i % 64) & 1 != 0)
    }
}

/// How a stretch is decoded.
#[derive(Clone, Copy)]
enum How<'a> {
    /// The whole span, on one thread.
    Alone,
    /// A chunk of a span decoded in parallel: record instruction starts.
    Record,
    /// Redo the true decode until it meets an instruction start of this
    /// chunk (from there on both decodes are the same).
    ConvergeWith(&'a Stretch),
}

/// Decodes linearly from `from` (an instruction start) while instructions
/// start before `limit`; sites at or after `site_limit` belong to the next
/// span.
fn decode(ctx: &Ctx<'_>, from: usize, limit: usize, site_limit: usize, how: How<'_>) -> Stretch {
    let mut dis = Disassembler::default();
    let window = &ctx.bytes[from..];
    let base = ctx.run_start + from as u64;
    let mut dec = Decoder::with_ip(64, window, base, DecoderOptions::NONE);
    let (record, converge) = match how {
        How::Alone => (false, None),
        How::Record => (true, None),
        How::ConvergeWith(s) => (false, Some(s)),
    };
    let mut starts = if record {
        vec![0u64; (limit - from).div_ceil(64)]
    } else {
        Vec::new()
    };
    let mut next_site = ctx.sites.partition_point(|s| s.0 < from);
    let mut next_own = ctx.code.partition_point(|r| r.end <= from);
    let mut items = Vec::new();
    let mut converged_at = None;
    let mut ins = Instruction::default();
    let mut pos = 0usize;
    let mut synced = true;
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
        // Ordinary instructions with no scan site in them: length only.
        let next_site_at = ctx.sites.get(next_site).map_or(usize::MAX, |s| s.0);
        if next_site_at >= start + 15 {
            if let Some(n) = fast_len(&window[pos..]) {
                pos += n;
                synced = false;
                continue;
            }
        }
        if !synced {
            // The fast path moved on without iced: bring it along.
            if dec.set_position(pos).is_err() {
                break;
            }
            dec.set_ip(base + pos as u64);
            synced = true;
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
            let message = if in_code {
                format!(
                    "bytes `{sb}` ({}) {where_} `{inside}` at {:#x}: linear decoding does not reach them, \
                     but a jump to {site_va:#x} would execute them",
                    skind.mnemonic(),
                    ctx.run_start + start as u64
                )
            } else if off == start {
                format!(
                    "bytes `{sb}` ({}) outside the segments' own bytes: never decoded as code, but executable",
                    skind.mnemonic()
                )
            } else {
                format!(
                    "bytes `{sb}` ({}) {where_} `{inside}` (decoding the page as if it were code) outside the \
                     segments' own bytes: never decoded as code, but executable",
                    skind.mnemonic()
                )
            };
            let site = Site {
                vaddr: site_va,
                message,
                kind: FindingKind::HiddenSyscall { inside },
                bytes: ctx.bytes[start..end.max(off + 2).min(ctx.bytes.len())].to_vec(),
                disasm: skind.mnemonic().to_string(),
            };
            items.push((start, site));
        }
        pos += len;
    }
    Stretch {
        from,
        limit,
        starts,
        exit: from + pos,
        converged_at,
        items,
    }
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
fn decode_span(
    ctx: &Ctx<'_>,
    span_start: usize,
    span_end: usize,
    chunks: usize,
    out: &mut Vec<Site>,
) {
    let n = chunks.min(span_end - span_start).max(1);
    if n == 1 {
        let s = decode(ctx, span_start, span_end, span_end, How::Alone);
        out.extend(s.items.into_iter().map(|(_, site)| site));
        return;
    }
    let step = (span_end - span_start) / n;
    let bounds: Vec<(usize, usize)> = (0..n)
        .map(|i| {
            (
                span_start + i * step,
                if i + 1 == n {
                    span_end
                } else {
                    span_start + (i + 1) * step
                },
            )
        })
        .collect();
    let stretches: Vec<Stretch> = std::thread::scope(|scope| {
        let handles: Vec<_> = bounds[1..]
            .iter()
            .map(|&(from, limit)| {
                (
                    from,
                    limit,
                    scope.spawn(move || decode(ctx, from, limit, span_end, How::Record)),
                )
            })
            .collect();
        let mut v = vec![decode(ctx, bounds[0].0, bounds[0].1, span_end, How::Record)];
        for (from, limit, h) in handles {
            // A thread cannot panic short of a bug; redo its work here if it did.
            v.push(
                h.join()
                    .unwrap_or_else(|_| decode(ctx, from, limit, span_end, How::Record)),
            );
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
            let fix = decode(ctx, true_pos, s.limit, span_end, How::ConvergeWith(&s));
            out.extend(fix.items.into_iter().map(|(_, site)| site));
            match fix.converged_at {
                Some(c) => c,
                None => {
                    true_pos = fix.exit;
                    continue;
                }
            }
        };
        out.extend(
            s.items
                .into_iter()
                .filter(|(at, _)| *at >= accept_from)
                .map(|(_, site)| site),
        );
        true_pos = s.exit;
    }
}

/// Checks one run: decoded forbidden instructions and hidden sites.
pub fn check_run(run: &Run<'_>, out: &mut Vec<Site>) {
    let bytes: &[u8] = &run.bytes;
    let sites = scan::sites(bytes);
    let syncs = run.sync_points();
    let code = run.code_ranges();
    let ctx = Ctx {
        bytes,
        run_start: run.start,
        code: &code,
        sites: &sites,
        table: forbidden_table(),
    };
    let threads = std::thread::available_parallelism()
        .map_or(1, |n| n.get())
        .min(8);
    for (k, &span_start) in syncs.iter().enumerate() {
        let span_end = syncs.get(k + 1).copied().unwrap_or(bytes.len());
        let chunks = threads.min((span_end - span_start) / PARALLEL_CHUNK);
        decode_span(&ctx, span_start, span_end, chunks, out);
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn run_sites(bytes: &[u8], chunks: usize) -> Vec<(u64, String, String)> {
        let sites = scan::sites(bytes);
        // All of it is code: one range.
        let code = std::iter::once(0..bytes.len()).collect::<Vec<_>>();
        let ctx = Ctx {
            bytes,
            run_start: 0x10000,
            code: &code,
            sites: &sites,
            table: forbidden_table(),
        };
        let mut out = Vec::new();
        decode_span(&ctx, 0, bytes.len(), chunks, &mut out);
        let mut v: Vec<_> = out
            .into_iter()
            .map(|s| (s.vaddr, s.kind.name().to_string(), s.message))
            .collect();
        v.sort();
        v
    }

    /// Bytes that look like code often enough to decode in long runs, with
    /// system-call encodings and far transfers sprinkled in.
    fn codeish(n: usize, seed: u64) -> Vec<u8> {
        let pieces: [&[u8]; 12] = [
            &[0x48, 0x89, 0xe5],
            &[0x0f, 0x05],
            &[0xe8, 0x0f, 0x05, 0x00, 0x00],
            &[0xb8, 0x90, 0xcd, 0x80, 0x90],
            &[0xcb],
            &[0xff, 0x18],
            &[0x66, 0x0f, 0x1f, 0x44, 0x00, 0x00],
            &[0x62, 0xf1, 0x7d, 0x48, 0x6f, 0x07],
            &[0xc4, 0xe2, 0x7d, 0x58, 0xc0],
            &[0xf3, 0x0f, 0x34],
            &[0x41, 0xff, 0xd3],
            &[0x8b],
        ];
        let mut x = seed;
        let mut v = Vec::with_capacity(n + 16);
        while v.len() < n {
            x ^= x << 13;
            x ^= x >> 7;
            x ^= x << 17;
            if x.is_multiple_of(5) {
                v.push((x >> 8) as u8);
            } else {
                v.extend_from_slice(pieces[(x >> 16) as usize % pieces.len()]);
            }
        }
        v.truncate(n);
        v
    }

    #[test]
    fn parallel_decoding_gives_the_sequential_result() {
        for seed in [1u64, 2, 3] {
            let bytes = codeish(200_000 + seed as usize * 777, seed * 0x9e37_79b9);
            let seq = run_sites(&bytes, 1);
            assert!(seq.len() > 1000, "{}", seq.len());
            assert!(
                seq.iter().any(|s| s.1 == "hidden_syscall")
                    && seq.iter().any(|s| s.1 == "syscall_instruction")
            );
            for chunks in [2, 3, 7, 64, 1000] {
                assert_eq!(
                    run_sites(&bytes, chunks),
                    seq,
                    "seed {seed}, {chunks} chunks"
                );
            }
        }
    }
}
