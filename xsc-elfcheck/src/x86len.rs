//! A fast path for linear decoding: the length of the most common x86_64
//! instructions, from tables, without decoding their operands.
//!
//! Why not only `iced-x86`: it has no length-only mode, and decoding every
//! instruction fully costs about 25 ns per instruction on our 2-core
//! machines (160 MB/s), below the 200 MB/s the issue asks for. Here a
//! table lookup gives the length of ordinary instructions (moves, ALU,
//! jumps, calls, push/pop, common SSE moves, ...) and everything else goes
//! to iced, which stays the decoder of record:
//!
//! `fast_len` returns `Some(n)` only when iced decodes the same bytes as a
//! valid instruction of length `n` that the checker does not care about;
//! whenever in doubt (other prefixes, rare or mode-dependent opcodes,
//! encodings iced may call invalid, anything that could be forbidden), it
//! returns `None`. The unit tests check that promise against iced for
//! every opcode, ModRM and SIB byte under several prefixes.

/// Operand shape of a one-byte opcode (or of `0f xx`).
#[derive(Clone, Copy, PartialEq, Eq)]
enum Op {
    /// Not handled here.
    No,
    /// No operand bytes.
    Bare,
    /// ModRM (with SIB/displacement), no immediate.
    M,
    /// ModRM and an 8-bit immediate.
    MIb,
    /// ModRM and a 16/32-bit immediate (2 bytes with 0x66).
    MIz,
    /// 8-bit immediate or displacement.
    Ib,
    /// 16/32-bit immediate (2 bytes with 0x66).
    Iz,
    /// 32-bit displacement (`call`/`jmp`/`jcc rel32`): refused with 0x66.
    Rel32,
    /// `b8+r`: imm32, imm64 with REX.W, imm16 with 0x66.
    Iv,
    /// `c2`: 16-bit immediate.
    Iw,
}

use Op::{Bare, Ib, Iv, Iw, Iz, MIb, MIz, No, Rel32, M};

/// The one-byte opcode map in 64-bit mode, as far as this fast path goes.
static ONE: [Op; 256] = {
    let mut t = [No; 256];
    let mut i = 0;
    while i < 0x40 {
        // ALU rows: op r/m,r; op r,r/m (4 forms), op al,Ib; op eAX,Iz.
        // 0x?6/0x?7/0x?e/0x?f are invalid or prefixes in 64-bit mode.
        t[i] = M;
        t[i + 1] = M;
        t[i + 2] = M;
        t[i + 3] = M;
        t[i + 4] = Ib;
        t[i + 5] = Iz;
        i += 8;
    }
    let mut r = 0x50;
    while r < 0x60 {
        t[r] = Bare; // push/pop r64
        r += 1;
    }
    t[0x63] = M; // movsxd
    t[0x68] = Iz; // push Iz
    t[0x69] = MIz; // imul r, r/m, Iz
    t[0x6a] = Ib; // push Ib
    t[0x6b] = MIb; // imul r, r/m, Ib
    let mut j = 0x70;
    while j < 0x80 {
        t[j] = Ib; // jcc rel8
        j += 1;
    }
    t[0x80] = MIb;
    t[0x81] = MIz;
    t[0x83] = MIb;
    let mut m = 0x84;
    while m <= 0x8b {
        t[m] = M; // test, xchg, mov
        m += 1;
    }
    t[0x8d] = M; // lea (register form refused below)
    let mut x = 0x91;
    while x <= 0x97 {
        t[x] = Bare; // xchg eAX, r (0x90 is nop/pause: not handled)
        x += 1;
    }
    t[0x98] = Bare; // cbw/cwde/cdqe
    t[0x99] = Bare; // cwd/cdq/cqo
    t[0xa8] = Ib; // test al, Ib
    t[0xa9] = Iz; // test eAX, Iz
    let mut b = 0xb0;
    while b < 0xb8 {
        t[b] = Ib; // mov r8, Ib
        b += 1;
    }
    while b < 0xc0 {
        t[b] = Iv; // mov r, Iv
        b += 1;
    }
    t[0xc2] = Iw; // ret Iw
    t[0xc3] = Bare; // ret
    t[0xc9] = Bare; // leave
    t[0xcc] = Bare; // int3
    t[0xe8] = Rel32; // call rel32
    t[0xe9] = Rel32; // jmp rel32
    t[0xeb] = Ib; // jmp rel8
    t[0x90] = Bare; // nop / xchg r8, rax
    t[0xc0] = MIb; // shift group 2 (see `group_ok`)
    t[0xc1] = MIb;
    t[0xd0] = M;
    t[0xd1] = M;
    t[0xd2] = M;
    t[0xd3] = M;
    t[0xc6] = MIb; // mov r/m8, Ib (/0 only)
    t[0xc7] = MIz; // mov r/m, Iz (/0 only)
    t[0xf6] = M; // group 3: test (/0, with an immediate), not, neg, mul, div
    t[0xf7] = M;
    t[0xfe] = M; // inc/dec r/m8
    t[0xff] = M; // group 5 (far forms and /7 refused)
    t[0xf4] = Bare; // hlt
    t[0xf5] = Bare; // cmc
    let mut f = 0xf8;
    while f <= 0xfd {
        t[f] = Bare; // clc stc cli sti cld std
        f += 1;
    }
    t
};

/// The two-byte map (`0f xx`), as far as this fast path goes.
static TWO: [Op; 256] = {
    let mut t = [No; 256];
    t[0x0b] = Bare; // ud2
    let mut i = 0x40;
    while i < 0x50 {
        t[i] = M; // cmovcc
        i += 1;
    }
    let mut j = 0x80;
    while j < 0x90 {
        t[j] = Rel32; // jcc rel32
        j += 1;
    }
    t[0xa2] = Bare; // cpuid
    t[0xa3] = M; // bt
    t[0xab] = M; // bts
    t[0xaf] = M; // imul r, r/m
    t[0xb0] = M; // cmpxchg
    t[0xb1] = M;
    t[0xb3] = M; // btr
    t[0xb6] = M; // movzx
    t[0xb7] = M;
    t[0xbb] = M; // btc
    t[0xbe] = M; // movsx
    t[0xbf] = M;
    t[0xc0] = M; // xadd
    t[0xc1] = M;
    let mut s = 0xc8;
    while s < 0xd0 {
        t[s] = Bare; // bswap
        s += 1;
    }
    // SSE moves and arithmetic on packed singles/doubles (no 0xf2/0xf3
    // here, which select other instructions).
    t[0x10] = M; // movups/movupd
    t[0x11] = M;
    t[0x28] = M; // movaps/movapd
    t[0x29] = M;
    t[0x2e] = M; // ucomiss/ucomisd
    t[0x2f] = M; // comiss/comisd
    t[0x54] = M; // andps
    t[0x55] = M; // andnps
    t[0x56] = M; // orps
    t[0x57] = M; // xorps
    t[0x58] = M; // addps
    t[0x59] = M; // mulps
    t[0x5c] = M; // subps
    t[0x5e] = M; // divps
    t[0x1f] = M; // nop r/m (/0 only)
    let mut c = 0x90;
    while c < 0xa0 {
        t[c] = M; // setcc (/0 only)
        c += 1;
    }
    // MMX / SSE2 integer moves and compares (0x66 selects the xmm form).
    t[0x6f] = M;
    t[0x7f] = M;
    t[0x74] = M;
    t[0x75] = M;
    t[0x76] = M;
    t[0xdb] = M;
    t[0xeb] = M;
    t[0xef] = M;
    t[0x14] = M; // unpcklps
    t[0x15] = M; // unpckhps
    t[0xc6] = MIb; // shufps
    t
};

/// Bytes taken by ModRM, SIB and displacement, or `None` if `b` is too short.
#[inline(always)]
fn modrm_len(b: &[u8]) -> Option<usize> {
    let modrm = *b.first()?;
    let md = modrm >> 6;
    let rm = modrm & 7;
    if md == 3 {
        return Some(1);
    }
    let mut n = 1;
    if rm == 4 {
        let sib = *b.get(1)?;
        n += 1;
        if md == 0 && sib & 7 == 5 {
            n += 4;
        }
    } else if md == 0 && rm == 5 {
        n += 4; // rip-relative
    }
    Some(
        n + match md {
            1 => 1,
            2 => 4,
            _ => 0,
        },
    )
}

/// Whether ModRM.reg of a group opcode selects an instruction described
/// by the tables (and its immediate, for group 3).
#[inline(always)]
fn group_ok(op: u8, reg: u8, opsize: bool) -> bool {
    match op {
        0xc0 | 0xc1 | 0xd0..=0xd3 => reg != 6, // /6 is an undocumented alias
        0xc6 | 0xc7 => reg == 0,               // /7 is xabort/xbegin
        0xf6 | 0xf7 => reg != 1,               // /1 is an undocumented alias
        0xfe => reg <= 1,
        // /3 and /5 are far call/jmp (checked), /7 is invalid; operand-size
        // prefixes on near branches and push are left to iced.
        0xff => matches!(reg, 0 | 1) || (!opsize && matches!(reg, 2 | 4 | 6)),
        _ => true,
    }
}

/// The length of the instruction at `b[0]`, when it is one of the ordinary
/// instructions above; `None` means "ask iced".
#[inline(always)]
pub fn fast_len(b: &[u8]) -> Option<usize> {
    let mut i = 0;
    // At most one of 0x66, 0xf2, 0xf3, then at most one REX.
    let first = *b.first()?;
    let (opsize, rep) = match first {
        0x66 => (true, 0),
        0xf2 | 0xf3 => (false, first),
        _ => (false, 0),
    };
    if opsize || rep != 0 {
        i = 1;
    }
    let mut rex_w = false;
    let c = *b.get(i)?;
    if c & 0xf0 == 0x40 {
        rex_w = c & 8 != 0;
        i += 1;
    }
    let op = *b.get(i)?;
    i += 1;
    let (kind, group) = if op == 0x0f {
        let op2 = *b.get(i)?;
        i += 1;
        let k = TWO[op2 as usize];
        // 0xf3/0xf2 select other instructions: only movdqu (f3 0f 6f/7f)
        // and movss/movsd (f3/f2 0f 10/11) are handled.
        if rep != 0 && !matches!((rep, op2), (0xf3, 0x6f | 0x7f) | (_, 0x10 | 0x11)) {
            return None;
        }
        // Operand-size prefixes on jumps differ between vendors; on the
        // MMX/SSE opcodes 0x66 selects the xmm form.
        if opsize
            && (k == Rel32 || matches!(op2, 0xb0 | 0xb1 | 0xc0 | 0xc1 | 0xc8..=0xcf | 0xa2 | 0x0b))
        {
            return None;
        }
        (k, matches!(op2, 0x1f | 0x90..=0x9f).then_some(0x0f))
    } else {
        if rep != 0 {
            return None; // rep prefixes on one-byte opcodes: left to iced
        }
        let k = ONE[op as usize];
        // Operand-size prefixes on branches, stack operations and movsxd
        // are left to iced.
        if opsize
            && (matches!(k, Rel32 | Iw)
                || matches!(op, 0x50..=0x5f | 0x63 | 0x68 | 0x6a | 0x70..=0x7f | 0xc3 | 0xc9 | 0xeb))
        {
            return None;
        }
        (
            k,
            matches!(
                op,
                0xc0 | 0xc1 | 0xc6 | 0xc7 | 0xd0..=0xd3 | 0xf6 | 0xf7 | 0xfe | 0xff
            )
            .then_some(op),
        )
    };
    let modrm_at = i;
    // REX.W wins over 0x66 for immediates.
    let imm16 = opsize && !rex_w;
    let n = match kind {
        No => return None,
        Bare => modrm_at,
        Ib => modrm_at + 1,
        Iw => modrm_at + 2,
        Iz => modrm_at + if imm16 { 2 } else { 4 },
        Rel32 => modrm_at + 4,
        Iv => {
            modrm_at
                + if rex_w {
                    8
                } else if imm16 {
                    2
                } else {
                    4
                }
        }
        M | MIb | MIz => {
            let modrm = *b.get(modrm_at)?;
            let reg = (modrm >> 3) & 7;
            let mut imm = match (kind, imm16) {
                (MIb, _) => 1,
                (MIz, true) => 2,
                (MIz, false) => 4,
                _ => 0,
            };
            match group {
                Some(0x0f) if reg != 0 => return None, // nop, setcc: /0 only
                Some(g) if g != 0x0f => {
                    if !group_ok(g, reg, opsize) {
                        return None;
                    }
                    if reg == 0 && g == 0xf6 {
                        imm = 1;
                    } else if reg == 0 && g == 0xf7 {
                        imm = if imm16 { 2 } else { 4 };
                    }
                }
                _ => {}
            }
            if op == 0x8d && modrm >> 6 == 3 {
                return None; // lea with a register operand is invalid
            }
            modrm_at + modrm_len(&b[modrm_at..])? + imm
        }
    };
    (n <= 15 && n <= b.len()).then_some(n)
}

#[cfg(test)]
mod tests {
    use super::*;
    use iced_x86::{Decoder, DecoderOptions};

    /// Checks the promise of `fast_len` on one byte string.
    fn agrees(b: &[u8]) {
        if let Some(n) = fast_len(b) {
            let mut d = Decoder::new(64, b, DecoderOptions::NONE);
            let ins = d.decode();
            assert!(
                !ins.is_invalid(),
                "{b:02x?}: fast path says {n} bytes, iced says invalid"
            );
            assert_eq!(
                ins.len(),
                n,
                "{b:02x?}: fast path length differs from iced ({ins})"
            );
            assert!(
                super::super::x86::classify(ins.code()).is_none(),
                "{b:02x?} is a checked instruction"
            );
        }
    }

    #[test]
    fn agrees_with_iced_on_every_opcode_modrm_and_sib() {
        // Prefixes that change lengths or meanings, and none.
        let mut prefixes: Vec<Vec<u8>> = vec![vec![]];
        for rex in 0x40..=0x4fu8 {
            prefixes.push(vec![rex]);
        }
        for p in [0x66u8, 0xf2, 0xf3] {
            prefixes.push(vec![p]);
            for rex in [0x40u8, 0x41, 0x48, 0x4f] {
                prefixes.push(vec![p, rex]);
            }
        }
        // Tail bytes after ModRM: SIB bytes that matter (base 5 with mod 0
        // adds a disp32), then filler for displacements and immediates.
        let sibs = [0x00u8, 0x05, 0x24, 0x25, 0xe5, 0xff];
        let mut handled = 0usize;
        for p in &prefixes {
            for two_byte in [false, true] {
                for op in 0..=255u8 {
                    let mut head = p.to_vec();
                    if two_byte {
                        head.push(0x0f);
                    }
                    head.push(op);
                    let probe: Vec<u8> = head.iter().copied().chain([0u8; 16]).collect();
                    if fast_len(&probe).is_none()
                        && fast_len(&[&head[..], &[0xc0; 16]].concat()).is_none()
                    {
                        continue; // not handled whatever follows
                    }
                    for modrm in 0..=255u8 {
                        let has_sib = modrm >> 6 != 3 && modrm & 7 == 4;
                        for &sib in if has_sib { &sibs[..] } else { &sibs[..1] } {
                            let mut b = head.clone();
                            b.extend_from_slice(&[
                                modrm, sib, 0x11, 0x22, 0x33, 0x44, 0x55, 0x66, 0x77, 0x88, 0x99,
                                0xaa, 0xbb, 0xcc,
                            ]);
                            agrees(&b);
                            handled += fast_len(&b).is_some() as usize;
                            // The same instruction cut short must not be
                            // claimed (iced calls it invalid).
                            if let Some(n) = fast_len(&b) {
                                assert_eq!(
                                    fast_len(&b[..n - 1]),
                                    None,
                                    "{b:02x?} cut to {}",
                                    n - 1
                                );
                                assert_eq!(fast_len(&b[..n]), Some(n), "{b:02x?}");
                            }
                        }
                    }
                }
            }
        }
        assert!(handled > 100_000, "{handled}");
    }

    #[test]
    fn agrees_with_iced_on_pseudo_random_bytes() {
        let mut x = 0x9e37_79b9_7f4a_7c15u64;
        let mut buf = vec![0u8; 1 << 16];
        for b in buf.iter_mut() {
            x ^= x << 13;
            x ^= x >> 7;
            x ^= x << 17;
            *b = x as u8;
        }
        for i in 0..buf.len() - 16 {
            agrees(&buf[i..i + 16]);
        }
    }
}
