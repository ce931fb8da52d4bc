//! aarch64: every aligned 32-bit word of executable memory.
//!
//! A64 instructions are 4 bytes, 4-byte aligned, and the program counter of
//! an AArch64 thread is always a multiple of 4 (a misaligned PC faults), so
//! every instruction the CPU can execute in a 64-bit process is one of the
//! aligned words checked here: there are no hidden sites. A process cannot
//! switch itself to AArch32 (the execution state of EL0 is set by the kernel
//! at exec), so the A32/T32 encodings need no check. The exception-generating
//! instructions are `svc`, `hvc` and `smc`: `0xd4000001`, `…02`, `…03` with a
//! 16-bit immediate in bits 5..21, i.e. `word & 0xffe0001f`.
//!
//! Literal pools and other data in executable segments are checked too, since
//! they are executable; a data word that happens to match is reported.
//! (Formatting three fixed encodings needs no disassembler crate.)

use crate::findings::FindingKind;
use crate::memory::Run;
use crate::x86::Site;

const MASK: u32 = 0xffe0_001f;
const SVC: u32 = 0xd400_0001;
const HVC: u32 = 0xd400_0002;
const SMC: u32 = 0xd400_0003;

/// The kind and mnemonic of an exception-generating word, if it is one.
pub fn classify(word: u32) -> Option<(FindingKind, &'static str)> {
    match word & MASK {
        SVC => Some((FindingKind::Svc, "svc")),
        HVC => Some((FindingKind::Hvc, "hvc")),
        SMC => Some((FindingKind::Smc, "smc")),
        _ => None,
    }
}

/// Checks every aligned word of a run (whose start is page-aligned).
pub fn check_run(run: &Run<'_>, out: &mut Vec<Site>) {
    for (i, w) in run.bytes.chunks_exact(4).enumerate() {
        let word = u32::from_le_bytes([w[0], w[1], w[2], w[3]]);
        // Fast reject: every match has 0xd4 in its top byte.
        if w[3] != 0xd4 {
            continue;
        }
        if let Some((kind, mnemonic)) = classify(word) {
            let imm = (word >> 5) & 0xffff;
            let text = format!("{mnemonic} #{imm:#x}");
            let what = match kind {
                FindingKind::Svc => "a raw system call, which an XSC kernel stops with SIGSYS",
                FindingKind::Hvc => "a hypervisor call",
                _ => "a secure monitor call",
            };
            out.push(Site {
                vaddr: run.start + 4 * i as u64,
                kind,
                bytes: w.to_vec(),
                message: format!("`{text}` (word {word:#010x}): {what}"),
                disasm: text,
            });
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn the_mask_matches_exactly_the_three_encodings() {
        assert_eq!(classify(0xd400_0001).map(|k| k.1), Some("svc")); // svc #0
        assert_eq!(classify(0xd400_0002).map(|k| k.1), Some("hvc")); // hvc #0
        assert_eq!(classify(0xd400_0003).map(|k| k.1), Some("smc")); // smc #0
        assert_eq!(classify(0xd41f_ffe1).map(|k| k.1), Some("svc")); // svc #0xffff
        assert_eq!(classify(0xd420_0000), None); // brk #0
        assert_eq!(classify(0xd440_0000), None); // hlt #0
        assert_eq!(classify(0xd400_0000), None); // undefined (opc 0, LL 0)
        assert_eq!(classify(0xd4a0_0001), None); // dcps1 #0
        assert_eq!(
            classify(0xd400_0001 | 0xffff << 5),
            Some((FindingKind::Svc, "svc"))
        );
        assert_eq!(classify(0xd503_201f), None); // nop
    }
}
