//! The trap guard: a raw system call from the program's own code is stopped
//! with SIGSYS, reported and ends the process as killed by SIGSYS.
//!
//! - `dispatch` (default): Syscall User Dispatch on every program thread.
//!   The selector byte is ALLOW only while kernel code runs on the thread;
//!   the signal-return trampoline is the one always-allowed region.
//! - `seccomp` (enforced): additionally a seccomp filter, inherited by all
//!   threads, that lets a system call through only from the runner's own
//!   executable mappings and only with the native (x86_64) calling
//!   convention. The program cannot turn it off (SUD can be turned off by
//!   writing the selector byte, which lives in the shared address space).
//!
//! Neither is a security boundary: the runner shares its address space with
//! the program, which can overwrite the runner's code or data or jump into
//! the runner's own system-call instructions. The guard catches mistakes
//! (a libc or crate that still issues `syscall`), not attacks.

use crate::arch::SYSCALL_INSN_LEN;
use crate::loader::Image;
use std::fmt::Write as _;
use std::sync::OnceLock;

static IMAGE: OnceLock<Image> = OnceLock::new();

/// Remembers the program's layout for reports, and where the kernel side's
/// own code is.
pub fn set_image(image: &Image) {
    let _ = IMAGE.set(image.clone());
    let _ = RUNNER_CODE.set(runner_code_ranges(image).unwrap_or_default());
}

/// The executable mappings of the kernel side (xsc-run, its libraries, the
/// vDSO), as they were when the program was loaded.
static RUNNER_CODE: OnceLock<Vec<(u64, u64)>> = OnceLock::new();

/// Was this SIGSYS raised by a seccomp filter the *program* installed, for
/// a call the kernel side made on the program's behalf (a ring entry or a
/// `thread_call` executed in the thread)? Then it belongs to the program,
/// as it would natively. A raw system call from program code is stopped by
/// Syscall User Dispatch first, or (with a switched-off selector) by the
/// seccomp guard, whose trap comes from outside the kernel side's code.
///
/// # Safety
/// `info` is the kernel's siginfo for a SIGSYS.
pub unsafe fn is_program_filter_trap(info: *const libc::siginfo_t) -> bool {
    if (*info).si_code != crate::signals::SYS_SECCOMP {
        return false;
    }
    let call_addr = ((info as *const u8).add(SIGSYS_CALL_ADDR) as *const u64).read();
    let insn = call_addr.wrapping_sub(SYSCALL_INSN_LEN);
    RUNNER_CODE
        .get()
        .is_some_and(|r| r.iter().any(|&(lo, hi)| (lo..hi).contains(&insn)))
}

/// Offsets in `siginfo_t` of the `_sigsys` fields (linux/signal.h: after
/// si_signo, si_errno, si_code and padding, the union starts at 16).
const SIGSYS_CALL_ADDR: usize = 16;
const SIGSYS_SYSCALL: usize = 24;
const SIGSYS_ARCH: usize = 28;

/// Writes the report for a SIGSYS raised by a raw system call and ends the
/// process as killed by SIGSYS. Runs in the signal handler: formats into a
/// fixed buffer and writes with one system call.
///
/// # Safety
/// `info` is the kernel's siginfo for a SIGSYS of code SYS_USER_DISPATCH or
/// SYS_SECCOMP.
pub unsafe fn report_raw_syscall(info: *mut libc::siginfo_t, _uctx: *mut libc::c_void) -> ! {
    let raw = info as *const u8;
    let call_addr = (raw.add(SIGSYS_CALL_ADDR) as *const u64).read();
    let nr = (raw.add(SIGSYS_SYSCALL) as *const i32).read();
    let audit_arch = (raw.add(SIGSYS_ARCH) as *const u32).read();
    let code = (*info).si_code;
    let insn = call_addr.wrapping_sub(SYSCALL_INSN_LEN);
    let mut buf = FixedBuf::<768>::new();
    let arch_name = match audit_arch {
        crate::bpf::AUDIT_ARCH_X86_64 => "x86_64",
        crate::bpf::AUDIT_ARCH_AARCH64 => "aarch64",
        0x4000_0003 => "i386 (int 0x80)",
        _ => "unknown",
    };
    let name = match audit_arch {
        crate::bpf::AUDIT_ARCH_X86_64 => {
            syscalls::x86_64::Sysno::new(nr as usize).map(|s| s.name())
        }
        crate::bpf::AUDIT_ARCH_AARCH64 => {
            syscalls::aarch64::Sysno::new(nr as usize).map(|s| s.name())
        }
        0x4000_0003 => syscalls::x86::Sysno::new(nr as usize).map(|s| s.name()),
        _ => None,
    };
    let _ = write!(
        buf,
        "xsc-run: trap guard ({}): raw system call {} ({}, {} convention) at {:#x}",
        if code == crate::signals::SYS_SECCOMP {
            "seccomp"
        } else {
            "syscall user dispatch"
        },
        nr,
        name.unwrap_or("?"),
        arch_name,
        insn
    );
    match crate::symbols::lookup(insn) {
        Some((sym, off)) => {
            let _ = write!(buf, " in {sym}+{off:#x}");
        }
        None => {
            let _ = write!(buf, " (no symbol)");
        }
    }
    if let Some(off) = IMAGE.get().and_then(|i| i.file_offset(insn)) {
        let _ = write!(buf, ", file offset {off:#x}");
    }
    let bytes = crate::memory::read_prefix(insn, SYSCALL_INSN_LEN as usize);
    if !bytes.is_empty() {
        let _ = write!(buf, ", bytes");
        for b in bytes {
            let _ = write!(buf, " {b:02x}");
        }
    }
    let _ = write!(
        buf,
        "\nxsc-run: XSC programs make OS calls through their submission ring; killing the process with SIGSYS\n"
    );
    crate::trace::diagnostic(buf.as_bytes());
    crate::signals::die_by_signal(libc::SIGSYS)
}

/// A fixed-size text buffer (formatting without allocation).
struct FixedBuf<const N: usize> {
    buf: [u8; N],
    len: usize,
}

impl<const N: usize> FixedBuf<N> {
    fn new() -> Self {
        Self {
            buf: [0; N],
            len: 0,
        }
    }
    fn as_bytes(&self) -> &[u8] {
        &self.buf[..self.len]
    }
}

impl<const N: usize> std::fmt::Write for FixedBuf<N> {
    fn write_str(&mut self, s: &str) -> std::fmt::Result {
        let n = s.len().min(N - self.len);
        self.buf[self.len..self.len + n].copy_from_slice(&s.as_bytes()[..n]);
        self.len += n;
        Ok(())
    }
}

/// The runner's executable mappings (from /proc/self/maps), minus the
/// program's: where system calls may come from in the seccomp guard.
fn runner_code_ranges(image: &Image) -> std::io::Result<Vec<(u64, u64)>> {
    let maps = std::fs::read_to_string("/proc/self/maps")?;
    let mut out = Vec::new();
    for line in maps.lines() {
        let mut f = line.split_whitespace();
        let (Some(range), Some(perms)) = (f.next(), f.next()) else {
            continue;
        };
        if !perms.contains('x') {
            continue;
        }
        let Some((a, b)) = range.split_once('-') else {
            continue;
        };
        let (Ok(a), Ok(b)) = (u64::from_str_radix(a, 16), u64::from_str_radix(b, 16)) else {
            continue;
        };
        if image.overlaps_program_code(a, b) {
            continue;
        }
        // Split at 4 GiB boundaries: the filter compares 32-bit halves.
        let mut lo = a;
        while lo < b {
            let hi = b.min((lo | 0xffff_ffff).saturating_add(1));
            out.push((lo, hi));
            lo = hi;
        }
    }
    Ok(out)
}

/// Builds the filter: trap unless the native convention and the instruction
/// pointer lies in one of `ranges`.
pub fn seccomp_program(ranges: &[(u64, u64)]) -> Vec<libc::sock_filter> {
    use crate::bpf::{Asm, To, IP_HI, IP_LO, JEQ, JGE, JGT, LD_W_ABS, RET};
    let mut a = Asm::default();
    let trap = a.label();
    a.op(LD_W_ABS, crate::bpf::ARCH);
    a.jump(JEQ, crate::arch::AUDIT_ARCH, To::Next, To::Label(trap));
    for &(lo, end) in ranges {
        let (last, next) = (end - 1, a.label());
        a.op(LD_W_ABS, IP_HI);
        a.jump(JEQ, (lo >> 32) as u32, To::Next, To::Label(next));
        a.op(LD_W_ABS, IP_LO);
        a.jump(JGE, lo as u32, To::Next, To::Label(next));
        a.jump(JGT, last as u32, To::Label(next), To::Next);
        a.op(RET, libc::SECCOMP_RET_ALLOW);
        a.bind(next);
    }
    a.bind(trap);
    a.op(RET, libc::SECCOMP_RET_TRAP);
    // Every jump goes forward by at most 5 instructions or to the final
    // `ret`, at most 6 per range further: a few ranges stay far within the
    // reach of a conditional jump (255).
    a.finish()
        .expect("the guard's filter has few ranges, all jumps in reach")
}

/// Installs the seccomp filter on every thread of the process.
pub fn install_seccomp(image: &Image) -> std::io::Result<()> {
    let ranges = runner_code_ranges(image)?;
    Ok(crate::bpf::install(&seccomp_program(&ranges), true)?)
}

#[cfg(test)]
mod tests {
    use super::*;

    fn run(prog: &[libc::sock_filter], arch: u32, ip: u64) -> u32 {
        crate::bpf::run(prog, 0, arch, ip, [0; 6])
    }

    #[test]
    fn filter_allows_only_listed_ranges_and_native_arch() {
        let ranges = [
            (0x5555_0000_1000, 0x5555_0000_3000),
            (0x7fff_f000_0000, 0x7fff_f000_1000),
        ];
        let p = seccomp_program(&ranges);
        let x64 = crate::bpf::AUDIT_ARCH_X86_64;
        let allow = libc::SECCOMP_RET_ALLOW;
        let trap = libc::SECCOMP_RET_TRAP;
        assert_eq!(run(&p, x64, 0x5555_0000_1000), allow);
        assert_eq!(run(&p, x64, 0x5555_0000_2fff), allow);
        assert_eq!(run(&p, x64, 0x5555_0000_3000), trap);
        assert_eq!(run(&p, x64, 0x5555_0000_0fff), trap);
        assert_eq!(run(&p, x64, 0x5556_0000_1000), trap);
        assert_eq!(run(&p, x64, 0x7fff_f000_0800), allow);
        assert_eq!(run(&p, 0x4000_0003, 0x5555_0000_1000), trap);
    }
}
