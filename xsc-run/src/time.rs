//! The entry table's time functions (ABI §5.8): `clock_gettime`,
//! `gettimeofday`, `time` and `getcpu` without a ring round trip.
//!
//! The reference kernel serves them with the host's own vDSO, the code Linux
//! maps into every process for exactly these calls: it reads the kernel's
//! time data in user space. The entry stubs (crate::arch) only mark the
//! thread as running kernel code (the dispatch selector, so that a fallback
//! system call inside the vDSO is allowed, and the saved FS base a signal
//! handler needs) and call the function found here; they do not switch TLS,
//! since neither the vDSO nor the fallbacks below use it. Where the host has
//! no vDSO, the fallbacks make the system call directly.
//!
//! The functions run in the calling program thread, so per-thread clocks
//! (`CLOCK_THREAD_CPUTIME_ID`) and `getcpu` describe that thread.

use std::sync::atomic::{AtomicU64, Ordering};
use syscalls::Sysno;

/// The function each entry stub calls (read by the stubs in crate::arch).
pub static CLOCK_GETTIME: AtomicU64 = AtomicU64::new(0);
pub static GETTIMEOFDAY: AtomicU64 = AtomicU64::new(0);
pub static TIME: AtomicU64 = AtomicU64::new(0);
pub static GETCPU: AtomicU64 = AtomicU64::new(0);

/// Finds the host's vDSO functions (arch::VDSO_NAMES; an empty name is
/// one the host's vDSO never has); falls back to the system calls for any
/// the host does not provide. Called once before the program starts.
pub fn init() {
    let found = host_vdso().map_or([None; 4], |v| v.symbols(crate::arch::VDSO_NAMES));
    let fallbacks = [
        fallback_clock_gettime as *const () as u64,
        fallback_gettimeofday as *const () as u64,
        fallback_time_address(),
        fallback_getcpu as *const () as u64,
    ];
    for ((slot, found), fallback) in [&CLOCK_GETTIME, &GETTIMEOFDAY, &TIME, &GETCPU]
        .into_iter()
        .zip(found)
        .zip(fallbacks)
    {
        slot.store(found.unwrap_or(fallback), Ordering::Release);
    }
}

/// The host's vDSO image, as the kernel mapped it into this process.
struct Vdso {
    base: u64,
    image: &'static [u8],
}

fn host_vdso() -> Option<Vdso> {
    // SAFETY: getauxval only reads the auxiliary vector.
    let base = unsafe { libc::getauxval(libc::AT_SYSINFO_EHDR) };
    if base == 0 {
        return None;
    }
    // The vDSO is a complete ELF image in memory; its extent is that of the
    // file it was built from: the section headers come last.
    // SAFETY: the kernel maps at least the ELF header at AT_SYSINFO_EHDR.
    let ehdr = unsafe { &*(base as *const libc::Elf64_Ehdr) };
    let len = ehdr.e_shoff as usize + ehdr.e_shnum as usize * ehdr.e_shentsize as usize;
    // SAFETY: the vDSO mapping covers its whole image and stays mapped (and
    // unchanged) for the life of the process.
    let image = unsafe { std::slice::from_raw_parts(base as *const u8, len) };
    Some(Vdso { base, image })
}

impl Vdso {
    /// The addresses of the dynamic symbols `names`. The vDSO is linked at
    /// 0, so symbol values are offsets from its base. Names are compared
    /// against the string table here rather than read through `object`'s
    /// string lookup, which calls `memchr`: its first call probes the CPU
    /// with CPUID, which on a virtual machine traps to the hypervisor, and
    /// this runs at every start of xsc-run.
    fn symbols<const N: usize>(&self, names: [&str; N]) -> [Option<u64>; N] {
        use object::read::elf::{ElfFile64, SectionHeader, Sym};
        let mut out = [None; N];
        let Ok(file) = ElfFile64::<object::Endianness>::parse(self.image) else {
            return out;
        };
        let endian = file.endian();
        let table = file.elf_dynamic_symbol_table();
        let Some(strings) = file
            .elf_section_table()
            .section(table.string_section())
            .ok()
            .and_then(|s| s.data(endian, self.image).ok())
        else {
            return out;
        };
        for sym in table.symbols() {
            let (at, value) = (sym.st_name(endian) as usize, sym.st_value(endian));
            for (slot, name) in out.iter_mut().zip(names) {
                let end = at + name.len();
                if value != 0
                    && !name.is_empty()
                    && strings.get(at..end) == Some(name.as_bytes())
                    && strings.get(end) == Some(&0)
                {
                    *slot = Some(self.base + value);
                }
            }
        }
        out
    }
}

// The fallbacks: the system call itself, made from the runner's code (which
// the trap guard allows while the selector says ALLOW). No TLS, no errno:
// the raw result is the entry's result.

/// Turns the raw result of `syscalls::raw` (an unsigned word) into `i64`.
fn raw(r: usize) -> i64 {
    r as i64
}

extern "C" fn fallback_clock_gettime(clock: i32, ts: *mut [i64; 2]) -> i64 {
    // SAFETY: the program's arguments, passed on as the system call takes
    // them; the kernel checks the pointer.
    raw(unsafe { syscalls::raw::syscall2(Sysno::clock_gettime, clock as usize, ts as usize) })
}

extern "C" fn fallback_gettimeofday(tv: *mut [i64; 2], tz: *mut [i32; 2]) -> i64 {
    // SAFETY: as above.
    raw(unsafe { syscalls::raw::syscall2(Sysno::gettimeofday, tv as usize, tz as usize) })
}

/// aarch64 has no `time` system call, nor an entry-table `time` (ABI
/// §5.8).
fn fallback_time_address() -> u64 {
    #[cfg(target_arch = "x86_64")]
    return fallback_time as *const () as u64;
    #[cfg(not(target_arch = "x86_64"))]
    return 0;
}

#[cfg(target_arch = "x86_64")]
extern "C" fn fallback_time(t: *mut i64) -> i64 {
    // SAFETY: as above.
    raw(unsafe { syscalls::raw::syscall1(Sysno::time, t as usize) })
}

extern "C" fn fallback_getcpu(cpu: *mut u32, node: *mut u32, unused: *mut u8) -> i64 {
    // SAFETY: as above.
    raw(unsafe {
        syscalls::raw::syscall3(Sysno::getcpu, cpu as usize, node as usize, unused as usize)
    })
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn the_host_vdso_provides_the_time_functions() {
        // Linux maps a vDSO on x86_64 unless booted with vdso=0.
        let v = host_vdso().expect("the host maps a vDSO");
        let found = v.symbols([
            "__vdso_clock_gettime",
            "__vdso_gettimeofday",
            "__vdso_time",
            "__vdso_getcpu",
            "no_such_symbol",
            "__vdso_tim",
        ]);
        assert!(found[..4].iter().all(Option::is_some), "{found:?}");
        assert_eq!(found[4..], [None, None]);
    }

    #[test]
    fn vdso_lookup_agrees_with_object() {
        use object::{Object, ObjectSymbol};
        let v = host_vdso().expect("the host maps a vDSO");
        let file = object::File::parse(v.image).unwrap();
        let mut seen = 0;
        for sym in file.dynamic_symbols() {
            let Ok(name) = sym.name() else { continue };
            if name.is_empty() {
                continue;
            }
            let expected = (sym.address() != 0).then(|| v.base + sym.address());
            assert_eq!(v.symbols([name]), [expected], "{name}");
            seen += 1;
        }
        assert!(seen >= 4, "only {seen} named symbols");
    }

    #[test]
    fn functions_and_fallbacks_agree_with_the_system_calls() {
        init();
        type Cgt = extern "C" fn(i32, *mut [i64; 2]) -> i64;
        // SAFETY: init stored functions of this signature.
        let cgt: Cgt = unsafe { std::mem::transmute(CLOCK_GETTIME.load(Ordering::Acquire)) };
        for f in [cgt, fallback_clock_gettime as Cgt] {
            let mut a = [0i64; 2];
            let mut b = [0i64; 2];
            assert_eq!(f(libc::CLOCK_MONOTONIC, &mut a), 0);
            // SAFETY: a valid timespec.
            unsafe { libc::clock_gettime(libc::CLOCK_MONOTONIC, b.as_mut_ptr().cast()) };
            assert!((b[0] - a[0]).abs() <= 1);
            assert_eq!(f(-1000, &mut a), -(libc::EINVAL as i64));
        }
        let mut cpu = u32::MAX;
        assert_eq!(
            fallback_getcpu(&mut cpu, std::ptr::null_mut(), std::ptr::null_mut()),
            0
        );
        assert!(cpu < 4096);
        let mut t = 0i64;
        let now = fallback_time(&mut t);
        assert!(now > 1_600_000_000 && t == now);
    }
}
