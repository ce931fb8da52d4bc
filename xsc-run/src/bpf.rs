//! Classic BPF for seccomp filters: a tiny assembler with labels (the
//! kernel's jumps are relative, 8 bits for conditional ones), and, for
//! tests, an interpreter of the subset the filters use, run over a
//! `seccomp_data`.

/// `seccomp_data.arch` of x86_64 (linux/audit.h: `EM_X86_64 |
/// __AUDIT_ARCH_64BIT | __AUDIT_ARCH_LE`; the libc crate does not have it).
pub const AUDIT_ARCH_X86_64: u32 = 0xc000_003e;
/// `seccomp_data.arch` of aarch64 (`EM_AARCH64 | __AUDIT_ARCH_64BIT |
/// __AUDIT_ARCH_LE`).
pub const AUDIT_ARCH_AARCH64: u32 = 0xc000_00b7;

/// `struct seccomp_data` offsets (linux/seccomp.h).
pub const NR: u32 = 0;
pub const ARCH: u32 = 4;
pub const IP_LO: u32 = 8;
pub const IP_HI: u32 = 12;
/// The low word of argument `i`; the high word is 4 bytes further.
pub const fn arg_lo(i: u32) -> u32 {
    16 + 8 * i
}

pub const LD_W_ABS: u16 = (libc::BPF_LD | libc::BPF_W | libc::BPF_ABS) as u16;
pub const JEQ: u16 = (libc::BPF_JMP | libc::BPF_JEQ | libc::BPF_K) as u16;
pub const JGE: u16 = (libc::BPF_JMP | libc::BPF_JGE | libc::BPF_K) as u16;
pub const JGT: u16 = (libc::BPF_JMP | libc::BPF_JGT | libc::BPF_K) as u16;
pub const JA: u16 = (libc::BPF_JMP | libc::BPF_JA) as u16;
pub const AND: u16 = (libc::BPF_ALU | libc::BPF_AND | libc::BPF_K) as u16;
pub const RET: u16 = (libc::BPF_RET | libc::BPF_K) as u16;

/// A jump target: the next instruction or a label.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum To {
    Next,
    Label(usize),
}

/// A program under construction. Conditional jumps name their targets;
/// [`Asm::finish`] turns them into offsets (and refuses a target further
/// than a conditional jump can reach: emit `ja` for far ones).
#[derive(Default)]
pub struct Asm {
    code: Vec<(u16, To, To, u32)>,
    labels: Vec<Option<usize>>,
}

impl Asm {
    pub fn label(&mut self) -> usize {
        self.labels.push(None);
        self.labels.len() - 1
    }

    /// Places `label` at the next instruction.
    pub fn bind(&mut self, label: usize) {
        self.labels[label] = Some(self.code.len());
    }

    pub fn op(&mut self, code: u16, k: u32) {
        self.code.push((code, To::Next, To::Next, k));
    }

    pub fn jump(&mut self, code: u16, k: u32, jt: To, jf: To) {
        self.code.push((code, jt, jf, k));
    }

    /// `ja label` (32-bit offset).
    pub fn ja(&mut self, label: usize) {
        self.code.push((JA, To::Label(label), To::Next, 0));
    }

    pub fn len(&self) -> usize {
        self.code.len()
    }

    pub fn finish(self) -> Result<Vec<libc::sock_filter>, String> {
        let at = |to: To, pc: usize| -> Result<usize, String> {
            let target = match to {
                To::Next => pc + 1,
                To::Label(l) => self.labels[l].ok_or("unbound label")?,
            };
            target
                .checked_sub(pc + 1)
                .ok_or_else(|| "backward jump".to_string())
        };
        let mut out = Vec::with_capacity(self.code.len());
        for (pc, &(code, jt, jf, k)) in self.code.iter().enumerate() {
            let ins = if code == JA {
                libc::sock_filter {
                    code,
                    jt: 0,
                    jf: 0,
                    k: at(jt, pc)? as u32,
                }
            } else {
                let (t, f) = (at(jt, pc)?, at(jf, pc)?);
                if t > 255 || f > 255 {
                    return Err(format!("conditional jump too far at {pc}"));
                }
                libc::sock_filter {
                    code,
                    jt: t as u8,
                    jf: f as u8,
                    k,
                }
            };
            out.push(ins);
        }
        Ok(out)
    }
}

/// The step of [`install`] that failed.
#[derive(Debug)]
pub enum InstallError {
    NoNewPrivs(std::io::Error),
    Seccomp(std::io::Error),
}

impl From<InstallError> for std::io::Error {
    fn from(e: InstallError) -> Self {
        match e {
            InstallError::NoNewPrivs(e) | InstallError::Seccomp(e) => e,
        }
    }
}

/// Installs `prog` as a seccomp filter on every thread of the process
/// (`TSYNC`), setting `no_new_privs` first when `no_new_privs` is true (the
/// kernel requires it without CAP_SYS_ADMIN).
pub fn install(prog: &[libc::sock_filter], no_new_privs: bool) -> Result<(), InstallError> {
    let fprog = libc::sock_fprog {
        len: prog.len() as u16,
        filter: prog.as_ptr() as *mut libc::sock_filter,
    };
    // SAFETY: a filter program that outlives the calls; prctl and seccomp
    // only read it.
    unsafe {
        if no_new_privs && libc::prctl(libc::PR_SET_NO_NEW_PRIVS, 1, 0, 0, 0) != 0 {
            return Err(InstallError::NoNewPrivs(std::io::Error::last_os_error()));
        }
        let r = libc::syscall(
            libc::SYS_seccomp,
            libc::SECCOMP_SET_MODE_FILTER,
            libc::SECCOMP_FILTER_FLAG_TSYNC,
            &fprog as *const libc::sock_fprog,
        );
        if r != 0 {
            return Err(InstallError::Seccomp(std::io::Error::last_os_error()));
        }
    }
    Ok(())
}

/// Runs a filter over a `seccomp_data` (nr, arch, ip, args): its verdict.
pub fn run(prog: &[libc::sock_filter], nr: u32, arch: u32, ip: u64, args: [u64; 6]) -> u32 {
    let mut data = [0u32; SECCOMP_DATA_WORDS];
    data[(NR / 4) as usize] = nr;
    data[(ARCH / 4) as usize] = arch;
    data[(IP_LO / 4) as usize] = ip as u32;
    data[(IP_HI / 4) as usize] = (ip >> 32) as u32;
    for (i, a) in args.iter().enumerate() {
        let lo = (arg_lo(i as u32) / 4) as usize;
        data[lo] = *a as u32;
        data[lo + 1] = (*a >> 32) as u32;
    }
    interpret(prog, &data)
}

/// `sizeof(struct seccomp_data)` in 32-bit words.
const SECCOMP_DATA_WORDS: usize = 16;

/// What a filter the kernel would have refused gives here (the kernel never
/// runs one: it fails the install with EINVAL).
pub const INVALID: u32 = libc::SECCOMP_RET_KILL_PROCESS;

/// Classic BPF as seccomp runs it (the instructions `seccomp_check_filter`
/// accepts: absolute word loads from `seccomp_data` and its length, the
/// immediate and scratch-memory loads and stores, every ALU operation,
/// the forward jumps, returns of K or A). Any other instruction, a load
/// outside `seccomp_data`, a division by zero (the kernel's BPF gives 0 and
/// ends the program, returning 0 = KILL_THREAD) or a jump past the end:
/// as the kernel would treat it.
fn interpret(prog: &[libc::sock_filter], data: &[u32; SECCOMP_DATA_WORDS]) -> u32 {
    const LEN: u32 = (SECCOMP_DATA_WORDS * 4) as u32;
    let (mut a, mut x) = (0u32, 0u32);
    let mut mem = [0u32; 16];
    let mut pc = 0usize;
    while let Some(&i) = prog.get(pc) {
        pc += 1;
        let k = i.k;
        let class = i.code & 0x07;
        match class {
            // BPF_LD / BPF_LDX
            0x00 | 0x01 => {
                let mode = i.code & 0xe0;
                let v = match mode {
                    0x20 if class == 0x00 => {
                        // ABS: aligned word inside seccomp_data.
                        if k % 4 != 0 || k >= LEN {
                            return INVALID;
                        }
                        data[(k / 4) as usize]
                    }
                    0x80 => LEN,                       // LEN
                    0x00 => k,                         // IMM
                    0x60 if k < 16 => mem[k as usize], // MEM
                    _ => return INVALID,
                };
                if class == 0x00 {
                    a = v;
                } else {
                    x = v;
                }
            }
            // BPF_ST / BPF_STX
            0x02 | 0x03 => {
                if k >= 16 {
                    return INVALID;
                }
                mem[k as usize] = if class == 0x02 { a } else { x };
            }
            // BPF_ALU
            0x04 => {
                let src = if i.code & 0x08 != 0 { x } else { k };
                a = match i.code & 0xf0 {
                    0x00 => a.wrapping_add(src),
                    0x10 => a.wrapping_sub(src),
                    0x20 => a.wrapping_mul(src),
                    0x30 | 0x90 if src == 0 => return 0,
                    0x30 => a / src,
                    0x90 => a % src,
                    0x40 => a | src,
                    0x50 => a & src,
                    0x60 => a.checked_shl(src).unwrap_or(0),
                    0x70 => a.checked_shr(src).unwrap_or(0),
                    0x80 => a.wrapping_neg(),
                    0xa0 => a ^ src,
                    _ => return INVALID,
                };
            }
            // BPF_JMP
            0x05 => {
                let src = if i.code & 0x08 != 0 { x } else { k };
                let take = match i.code & 0xf0 {
                    0x00 => {
                        pc = pc.saturating_add(k as usize);
                        continue;
                    }
                    0x10 => a == src,
                    0x20 => a > src,
                    0x30 => a >= src,
                    0x40 => a & src != 0,
                    _ => return INVALID,
                };
                pc += if take { i.jt } else { i.jf } as usize;
            }
            // BPF_RET
            0x06 => {
                return match i.code & 0x18 {
                    0x00 => k,
                    0x10 => a,
                    _ => INVALID,
                }
            }
            // BPF_MISC: TAX, TXA
            _ => match i.code & 0xf8 {
                0x00 => x = a,
                0x80 => a = x,
                _ => return INVALID,
            },
        }
    }
    INVALID
}

#[cfg(test)]
mod tests {
    use super::*;

    fn ins(code: u32, jt: u8, jf: u8, k: u32) -> libc::sock_filter {
        libc::sock_filter {
            code: code as u16,
            jt,
            jf,
            k,
        }
    }

    /// What libseccomp and seccompiler emit beyond the assembler's subset:
    /// JSET, X-register compares through the scratch memory, ALU on X,
    /// RET A, LEN.
    #[test]
    fn the_interpreter_runs_the_whole_seccomp_subset() {
        use libc::*;
        let p = [
            ins(BPF_LD | BPF_W | BPF_ABS, 0, 0, arg_lo(1)), // A = args[1] low
            ins(BPF_ST, 0, 0, 3),                           // M[3] = A
            ins(BPF_LDX | BPF_W | BPF_MEM, 0, 0, 3),        // X = M[3]
            ins(BPF_LD | BPF_IMM, 0, 0, 5),                 // A = 5
            ins(BPF_ALU | BPF_ADD | BPF_X, 0, 0, 0),        // A += X
            ins(BPF_JMP | BPF_JSET | BPF_K, 0, 2, 0x8),     // A & 8 ?
            ins(BPF_LD | BPF_W | BPF_LEN, 0, 0, 0),         // A = 64
            ins(BPF_RET | BPF_A, 0, 0, 0),
            ins(BPF_MISC | BPF_TXA, 0, 0, 0), // A = X
            ins(BPF_ALU | BPF_OR | BPF_K, 0, 0, SECCOMP_RET_ERRNO),
            ins(BPF_RET | BPF_A, 0, 0, 0),
        ];
        assert_eq!(run(&p, 0, 0, 0, [0, 3, 0, 0, 0, 0]), 64); // 5+3 = 8
        assert_eq!(run(&p, 0, 0, 0, [0, 1, 0, 0, 0, 0]), SECCOMP_RET_ERRNO | 1);
        // A load outside seccomp_data or unaligned, a bad opcode, running
        // off the end.
        assert_eq!(
            run(&[ins(BPF_LD | BPF_W | BPF_ABS, 0, 0, 64)], 0, 0, 0, [0; 6]),
            INVALID
        );
        assert_eq!(
            run(&[ins(BPF_LD | BPF_W | BPF_ABS, 0, 0, 2)], 0, 0, 0, [0; 6]),
            INVALID
        );
        assert_eq!(run(&[ins(0xff, 0, 0, 0)], 0, 0, 0, [0; 6]), INVALID);
        assert_eq!(
            run(&[ins(BPF_LD | BPF_IMM, 0, 0, 0)], 0, 0, 0, [0; 6]),
            INVALID
        );
        // High words of the instruction pointer and arguments.
        let p = [
            ins(BPF_LD | BPF_W | BPF_ABS, 0, 0, IP_HI),
            ins(BPF_RET | BPF_A, 0, 0, 0),
        ];
        assert_eq!(run(&p, 0, 0, 0x1234_0000_0000, [0; 6]), 0x1234);
        let p = [
            ins(BPF_LD | BPF_W | BPF_ABS, 0, 0, arg_lo(5) + 4),
            ins(BPF_RET | BPF_A, 0, 0, 0),
        ];
        assert_eq!(run(&p, 0, 0, 0, [0, 0, 0, 0, 0, 7 << 32]), 7);
    }
}
