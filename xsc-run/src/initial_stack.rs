//! The program's initial stack, as Linux builds it for a static binary:
//! `argc`, `argv[]`, `NULL`, `envp[]`, `NULL`, the auxiliary vector (with
//! the `AT_XSC_*` entries) and, above them, the strings and `AT_RANDOM`
//! bytes.

use crate::loader::Image;
use std::sync::atomic::{AtomicU64, Ordering};
use xsc_abi::auxv::{AT_XSC_ENTRY, AT_XSC_RING, AT_XSC_VERSION};

/// Stack size for the main thread when `RLIMIT_STACK` is unlimited
/// (Linux's default limit).
pub const DEFAULT_STACK_SIZE: usize = 8 << 20;

/// The main thread's stack size: the soft `RLIMIT_STACK`, as on Linux (8 MiB
/// if it is unlimited), at least 128 KiB.
pub fn stack_size() -> usize {
    let mut r = libc::rlimit {
        rlim_cur: 0,
        rlim_max: 0,
    };
    // SAFETY: getrlimit writes one rlimit.
    let ok = unsafe { libc::getrlimit(libc::RLIMIT_STACK, &mut r) } == 0;
    if !ok || r.rlim_cur == libc::RLIM_INFINITY {
        return DEFAULT_STACK_SIZE;
    }
    (r.rlim_cur as usize).max(128 << 10) & !4095
}

/// The main stack's mapping, `[bottom, top)`, for [`rlimit_changed`]
/// (a forked child has the same addresses).
static MAIN_STACK_BOTTOM: AtomicU64 = AtomicU64::new(0);
static MAIN_STACK_TOP: AtomicU64 = AtomicU64::new(0);

/// After a successful change of `RLIMIT_STACK`: Linux checks the limit
/// each time the main stack grows, so a lower limit stops a later growth
/// past it. The stack is mapped whole at start; give back the part below
/// the new limit that was never touched (not resident), so the grows-down
/// mapping must grow again to reach it and the host kernel applies the
/// new limit. Pages in use are never unmapped (Linux does not shrink a
/// stack either).
pub fn rlimit_changed() {
    let (bottom, top) = (
        MAIN_STACK_BOTTOM.load(Ordering::Relaxed),
        MAIN_STACK_TOP.load(Ordering::Relaxed),
    );
    if bottom == 0 {
        return;
    }
    let limit = stack_size() as u64;
    let want = top.saturating_sub(limit).next_multiple_of(4096).min(top);
    if want <= bottom {
        return;
    }
    let pages = ((want - bottom) / 4096) as usize;
    let mut resident = vec![0u8; pages];
    // SAFETY: [bottom, want) lies inside the stack mapping; mincore writes
    // one byte per page into `resident`.
    let r = unsafe {
        libc::mincore(
            bottom as *mut libc::c_void,
            want as usize - bottom as usize,
            resident.as_mut_ptr(),
        )
    };
    if r != 0 {
        return;
    }
    let untouched = resident.iter().take_while(|&&b| b & 1 == 0).count() as u64;
    let cut = bottom + untouched * 4096;
    if cut == bottom {
        return;
    }
    // SAFETY: [bottom, cut) is the untouched bottom of the main stack: no
    // program data lives there.
    if unsafe { libc::munmap(bottom as *mut libc::c_void, (cut - bottom) as usize) } == 0 {
        MAIN_STACK_BOTTOM.store(cut, Ordering::Relaxed);
    }
}

/// Maps the main thread's stack as Linux lays it out: a grows-down mapping,
/// so that the host kernel keeps its stack guard gap (1 MiB) free of other
/// mappings and a recursion past the stack faults (SIGSEGV) instead of
/// running into other memory. It is mapped at its full size, the
/// `RLIMIT_STACK` limit, so it cannot grow further (the limit counts the
/// mapping), and a libc that measures the main stack by walking its
/// mapping (musl's `pthread_getattr_np`) finds exactly that size.
fn map_stack(size: usize) -> std::io::Result<*mut u8> {
    // SAFETY: a fresh anonymous mapping at an address the kernel picks.
    let p = unsafe {
        libc::mmap(
            std::ptr::null_mut(),
            size,
            libc::PROT_READ | libc::PROT_WRITE,
            libc::MAP_PRIVATE
                | libc::MAP_ANONYMOUS
                | libc::MAP_GROWSDOWN
                | libc::MAP_STACK
                | libc::MAP_NORESERVE,
            -1,
            0,
        )
    };
    if p == libc::MAP_FAILED {
        Err(std::io::Error::last_os_error())
    } else {
        Ok(p as *mut u8)
    }
}

pub struct StackInput<'a> {
    pub argv: &'a [Vec<u8>],
    pub envp: &'a [Vec<u8>],
    pub execfn: &'a [u8],
    pub image: &'a Image,
    pub ring: u64,
    pub entry_table: u64,
}

/// The initial stack and where its parts are (for /proc/self/cmdline,
/// environ and auxv, see `procfs`).
pub struct InitialStack {
    pub sp: u64,
    /// `[start, end)` of the argument strings.
    pub args: (u64, u64),
    /// `[start, end)` of the environment strings.
    pub env: (u64, u64),
    /// Address and length in bytes of the auxiliary vector.
    pub auxv: (u64, usize),
}

/// Builds the stack in a fresh mapping.
pub fn build(input: &StackInput) -> std::io::Result<InitialStack> {
    let size = stack_size();
    let mem = map_stack(size)?;
    let top = mem as u64 + size as u64;
    MAIN_STACK_BOTTOM.store(mem as u64, Ordering::Relaxed);
    MAIN_STACK_TOP.store(top, Ordering::Relaxed);
    let mut strings: Vec<u8> = Vec::new();
    let mut place = |s: &[u8]| {
        let off = strings.len();
        strings.extend_from_slice(s);
        strings.push(0);
        off
    };
    let argv_off: Vec<usize> = input.argv.iter().map(|a| place(a)).collect();
    let envp_off: Vec<usize> = input.envp.iter().map(|e| place(e)).collect();
    let execfn_off = place(input.execfn);
    // The strings are placed in order: arguments, environment, execfn.
    let env_start = envp_off.first().copied().unwrap_or(execfn_off);
    let env_end = execfn_off;
    let platform_off = place(crate::arch::PLATFORM);
    let random_off = strings.len();
    let mut random = [0u8; 16];
    // SAFETY: getrandom writes at most 16 bytes into `random`.
    unsafe { libc::getrandom(random.as_mut_ptr() as *mut libc::c_void, 16, 0) };
    strings.extend_from_slice(&random);

    let strings_at = (top - strings.len() as u64) & !15;
    let addr = |off: usize| strings_at + off as u64;
    // SAFETY: getauxval only reads the runner's own auxiliary vector.
    let host = |key| unsafe { libc::getauxval(key) };
    let auxv: Vec<(u64, u64)> = vec![
        (libc::AT_PHDR, input.image.phdr),
        (libc::AT_PHENT, 56),
        (libc::AT_PHNUM, input.image.phnum),
        (libc::AT_PAGESZ, 4096),
        (libc::AT_BASE, 0),
        (libc::AT_FLAGS, 0),
        (libc::AT_ENTRY, input.image.entry),
        (libc::AT_UID, host(libc::AT_UID)),
        (libc::AT_EUID, host(libc::AT_EUID)),
        (libc::AT_GID, host(libc::AT_GID)),
        (libc::AT_EGID, host(libc::AT_EGID)),
        (libc::AT_SECURE, 0),
        (libc::AT_HWCAP, host(libc::AT_HWCAP)),
        (libc::AT_HWCAP2, host(libc::AT_HWCAP2)),
        (libc::AT_CLKTCK, host(libc::AT_CLKTCK)),
        (libc::AT_PLATFORM, addr(platform_off)),
        (libc::AT_RANDOM, addr(random_off)),
        (libc::AT_EXECFN, addr(execfn_off)),
        (libc::AT_MINSIGSTKSZ, host(libc::AT_MINSIGSTKSZ)),
        (AT_XSC_VERSION, xsc_abi::ABI_VERSION as u64),
        (AT_XSC_RING, input.ring),
        (AT_XSC_ENTRY, input.entry_table),
        (libc::AT_NULL, 0),
    ];
    let aux_len = auxv.len() * 16;
    let mut words: Vec<u64> = Vec::new();
    words.push(input.argv.len() as u64);
    words.extend(argv_off.iter().map(|&o| addr(o)));
    words.push(0);
    words.extend(envp_off.iter().map(|&o| addr(o)));
    words.push(0);
    for (k, v) in auxv {
        words.push(k);
        words.push(v);
    }
    let aux_index = words.len() - aux_len / 8;
    let sp = (strings_at - 8 * words.len() as u64) & !15;
    if sp < mem as u64 + 4096 {
        return Err(std::io::Error::from_raw_os_error(libc::E2BIG));
    }
    // SAFETY: [sp, top) lies inside the fresh mapping; both copies fit (the
    // check above).
    unsafe {
        std::ptr::copy_nonoverlapping(strings.as_ptr(), strings_at as *mut u8, strings.len());
        std::ptr::copy_nonoverlapping(words.as_ptr(), sp as *mut u64, words.len());
    }
    Ok(InitialStack {
        sp,
        args: (addr(0), addr(env_start)),
        env: (addr(env_start), addr(env_end)),
        auxv: (sp + 8 * aux_index as u64, aux_len),
    })
}
