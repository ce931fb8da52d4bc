//! xsc-run's own place in the address space it shares with the program:
//! its image, where its heap is, and the range it leaves free. The loader
//! (non-PIE programs' link addresses) and the mapping changes of ops (the
//! refusal over the runner's image) ask here. Imports nothing of the
//! crate's: the entry fast path calls it before the runner's TLS is in.

use std::sync::atomic::{AtomicBool, Ordering};

/// Below this address xsc-run maps nothing on a Linux host. It is a
/// static-pie, which Linux loads in the mmap area; the mmap area (the
/// runner's heap, stacks, rings, the host vDSO) lies below the stack or,
/// with an unlimited `RLIMIT_STACK`, grows up from `TASK_UNMAPPED_BASE`;
/// its program break is never used (host musl patch 0003). So a non-PIE
/// program linked below it always finds its link address free. x86_64:
/// `TASK_UNMAPPED_BASE`, a third of the 47-bit user address space.
#[cfg(target_arch = "x86_64")]
pub const FREE_BELOW: u64 = 0x2aaa_aaaa_a000;
/// aarch64: 128 GiB, Linux's `TASK_UNMAPPED_BASE` with the smallest
/// (39-bit) user address space; under qemu's user mode, which places a
/// static-pie at 0x55_0000_0000 and maps from there, more is free.
#[cfg(target_arch = "aarch64")]
pub const FREE_BELOW: u64 = 0x20_0000_0000;

/// xsc-run's own image, from the linker's `__executable_start` to `_end`.
pub fn runner_image() -> (u64, u64) {
    extern "C" {
        static __executable_start: u8;
        static _end: u8;
    }
    // Only the symbols' addresses are taken, never their contents (a
    // RIP-relative address in a static-pie: no relocation, no TLS, so the
    // entry fast path may call this too).
    (
        std::ptr::addr_of!(__executable_start) as u64,
        std::ptr::addr_of!(_end) as u64,
    )
}

/// Whether the runner's own heap (the host's program break) follows its
/// image: so for a runner linked with glibc (the debug build the tests
/// run), not for the installed static-pie, whose musl never takes the
/// break (host musl patch 0003). Learnt once at start ([`init`]); until
/// then, assumed.
static HEAP_FOLLOWS_IMAGE: AtomicBool = AtomicBool::new(true);

/// How far past the runner's image a heap that follows it may reach (it
/// never grows 64 GiB).
const HEAP_WINDOW: u64 = 1 << 36;

/// Learns where the runner's heap is, before the program runs.
pub fn init() {
    let (_, end) = runner_image();
    // SAFETY: brk(0) only reads the current break.
    let brk = unsafe { syscalls::raw::syscall1(syscalls::Sysno::brk, 0) } as u64;
    let follows = brk >= end && brk < end.saturating_add(HEAP_WINDOW);
    HEAP_FOLLOWS_IMAGE.store(follows, Ordering::Relaxed);
}

/// Does the runner's heap follow its image (see [`HEAP_FOLLOWS_IMAGE`])?
pub fn heap_follows_image() -> bool {
    HEAP_FOLLOWS_IMAGE.load(Ordering::Relaxed)
}

/// May a mapping change over `[lo, hi)` reach the runner's image, or the
/// heap after it? No system call, no TLS: the fast path's first look.
pub fn may_reach_runner(lo: u64, hi: u64) -> bool {
    let (start, mut end) = runner_image();
    if heap_follows_image() {
        end = end.saturating_add(HEAP_WINDOW);
    }
    lo < end && start < hi
}

/// What of the runner's holds part of `[lo, hi)`, by the mappings in
/// `maps` (the text of /proc/self/maps): the first one in the range, named
/// for the message of a refused non-PIE program.
pub fn taken_by(lo: u64, hi: u64, maps: &str) -> String {
    let (start, end) = runner_image();
    if lo < end && start < hi {
        return format!("[{start:#x}, {end:#x}) there holds xsc-run's own image");
    }
    let found = maps.lines().find_map(|line| {
        let mut fields = line.split_whitespace();
        let (a, b) = fields.next()?.split_once('-')?;
        let (a, b) = (
            u64::from_str_radix(a, 16).ok()?,
            u64::from_str_radix(b, 16).ok()?,
        );
        let name = fields.nth(4).unwrap_or("");
        (a < hi && lo < b).then(|| (a, b, name.to_string()))
    });
    match found {
        Some((a, b, name)) => {
            let what = match name.as_str() {
                "[stack]" => "xsc-run's stack".to_string(),
                "[vdso]" | "[vvar]" | "[vvar_vclock]" => format!("the host's {name}"),
                "" | "[heap]" => "memory of xsc-run's (its heap, a stack or a ring)".to_string(),
                file => format!("a mapping of {file}"),
            };
            format!("[{a:#x}, {b:#x}) there holds {what}")
        }
        None => "that range is taken by a mapping of xsc-run's".to_string(),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_taken_link_address_names_what_holds_it() {
        let (start, _) = runner_image();
        assert!(taken_by(start, start + 4096, "").contains("xsc-run's own image"));
        // Low addresses, far from this test binary's image.
        let maps = "10001000-10003000 rw-p 00000000 00:00 0                          [stack]\n\
                    20000000-20004000 rw-p 00000000 00:00 0 \n";
        assert_eq!(
            taken_by(0x1000_2000, 0x1000_5000, maps),
            "[0x10001000, 0x10003000) there holds xsc-run's stack"
        );
        assert_eq!(
            taken_by(0x2000_0000, 0x2000_1000, maps),
            "[0x20000000, 0x20004000) there holds memory of xsc-run's (its heap, a stack or a ring)"
        );
        assert_eq!(
            taken_by(0x3000_0000, 0x3000_1000, maps),
            "that range is taken by a mapping of xsc-run's"
        );
    }
}
