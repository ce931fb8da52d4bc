//! The time functions of the entry table (ABI v2, §5.8): `clock_gettime`,
//! `gettimeofday`, `time` and `getcpu` served in user space by kernel-provided
//! code, without a ring round trip, as Linux's vDSO serves them.

use crate::ring::Ring;
use xsc_abi::entry_table::{ClockGettimeFn, GetcpuFn, GettimeofdayFn, TimeFn};
use xsc_abi::ops::TimeFunction;

/// The address of the entry table's function for `f`, or `None` if the
/// kernel's table does not provide it.
pub fn address(ring: &Ring, f: TimeFunction) -> Option<u64> {
    let table = ring.entry_table();
    let addr = match f {
        TimeFunction::ClockGettime => table.clock_gettime,
        TimeFunction::Gettimeofday => table.gettimeofday,
        TimeFunction::Time => table.time,
        TimeFunction::Getcpu => table.getcpu,
    };
    (table.size >= xsc_abi::entry_table::ENTRY_TABLE_SIZE && addr != 0).then_some(addr)
}

/// The time function a vDSO exports as `name` (`__vdso_clock_gettime` on
/// x86_64, `__kernel_clock_gettime` on aarch64, and so on for
/// `gettimeofday`, `time` and `getcpu`).
pub fn by_vdso_name(name: &[u8]) -> Option<TimeFunction> {
    let base = name
        .strip_prefix(b"__vdso_")
        .or_else(|| name.strip_prefix(b"__kernel_"))?;
    match base {
        b"clock_gettime" => Some(TimeFunction::ClockGettime),
        b"gettimeofday" => Some(TimeFunction::Gettimeofday),
        b"time" => Some(TimeFunction::Time),
        b"getcpu" => Some(TimeFunction::Getcpu),
        _ => None,
    }
}

/// Calls the entry table's function for `f` with the system call's
/// arguments; `None` if the kernel's table does not provide it (then the
/// call goes through the ring).
///
/// # Safety
/// As for the system call: the pointer arguments must be valid for it.
pub unsafe fn call(ring: &Ring, f: TimeFunction, a: [usize; 3]) -> Option<isize> {
    let addr = address(ring, f)?;
    // SAFETY (all four): the kernel stores in its entry table the address of
    // a function with the signature ABI §5.8 gives for that slot; the
    // arguments are the system call's, which the caller vouches for.
    let r = match f {
        TimeFunction::ClockGettime => {
            let g: ClockGettimeFn = core::mem::transmute(addr as usize);
            g(a[0] as i32, a[1] as *mut [i64; 2])
        }
        TimeFunction::Gettimeofday => {
            let g: GettimeofdayFn = core::mem::transmute(addr as usize);
            g(a[0] as *mut [i64; 2], a[1] as *mut [i32; 2])
        }
        TimeFunction::Time => {
            let g: TimeFn = core::mem::transmute(addr as usize);
            g(a[0] as *mut i64)
        }
        TimeFunction::Getcpu => {
            let g: GetcpuFn = core::mem::transmute(addr as usize);
            g(a[0] as *mut u32, a[1] as *mut u32, a[2] as *mut u8)
        }
    };
    Some(r as isize)
}
