//! Classic BPF for seccomp filters: a tiny assembler with labels (the
//! kernel's jumps are relative, 8 bits for conditional ones), and, for
//! tests, an interpreter of the subset the filters use, run over a
//! `seccomp_data`.

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
#[cfg(test)]
pub fn run(prog: &[libc::sock_filter], nr: u32, arch: u32, ip: u64, args: [u64; 6]) -> u32 {
    let word = |off: u32| -> u32 {
        match off {
            NR => nr,
            ARCH => arch,
            IP_LO => ip as u32,
            IP_HI => (ip >> 32) as u32,
            o if (16..64).contains(&o) && o % 4 == 0 => {
                let a = args[((o - 16) / 8) as usize];
                if (o - 16) % 8 == 0 {
                    a as u32
                } else {
                    (a >> 32) as u32
                }
            }
            o => panic!("load from offset {o}"),
        }
    };
    let (mut pc, mut acc) = (0usize, 0u32);
    loop {
        let i = prog[pc];
        pc += 1;
        match i.code {
            LD_W_ABS => acc = word(i.k),
            RET => return i.k,
            AND => acc &= i.k,
            JA => pc += i.k as usize,
            c => {
                let take = match c {
                    JEQ => acc == i.k,
                    JGE => acc >= i.k,
                    JGT => acc > i.k,
                    _ => panic!("unexpected op {c:#x}"),
                };
                pc += if take { i.jt } else { i.jf } as usize;
            }
        }
    }
}
