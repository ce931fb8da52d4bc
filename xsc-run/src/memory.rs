//! Reading and writing the program's memory on its behalf without trusting
//! its pointers: copies go through `process_vm_readv`/`process_vm_writev`
//! on our own process, so a bad address gives EFAULT instead of crashing
//! the kernel side. Where the host has no such calls (qemu's user mode
//! answers ENOSYS), the copies are made directly, with SIGSEGV and SIGBUS
//! let through for the copy, and a fault is recovered from as the fast
//! path's reads are (arch::fix_copy_fault).

use crate::process::PROCESS;
use std::sync::atomic::Ordering;
use syscalls::Sysno;

/// Copies between the program's memory and ours with raw system calls: no
/// errno, no TLS, so it may run on the entry fast path with the program's
/// FS base loaded.
fn vm_copy(remote: u64, local: *mut u8, len: usize, write: bool) -> Result<(), i32> {
    if len == 0 {
        return Ok(());
    }
    let mut pid = PROCESS.pid();
    if pid == 0 {
        // Before the process started (unit tests).
        pid = crate::sys::getpid();
    }
    let l = libc::iovec {
        iov_base: local as *mut libc::c_void,
        iov_len: len,
    };
    let r = libc::iovec {
        iov_base: remote as *mut libc::c_void,
        iov_len: len,
    };
    if VM_CALLS.load(Ordering::Relaxed) == VM_CALLS_MISSING {
        return direct_copy(remote, local, len, write);
    }
    let call = if write {
        Sysno::process_vm_writev
    } else {
        Sysno::process_vm_readv
    };
    // SAFETY: `local` is valid for `len` bytes (callers pass their own
    // buffers); the remote side is checked by the kernel.
    let n = unsafe {
        syscalls::raw::syscall6(
            call,
            pid as usize,
            &l as *const libc::iovec as usize,
            1,
            &r as *const libc::iovec as usize,
            1,
            0,
        )
    };
    if n == len {
        Ok(())
    } else if n as i64 == -(libc::ENOSYS as i64) {
        VM_CALLS.store(VM_CALLS_MISSING, Ordering::Relaxed);
        direct_copy(remote, local, len, write)
    } else {
        Err(libc::EFAULT)
    }
}

/// Whether the host has `process_vm_readv`/`process_vm_writev`: learnt
/// from the first answer (no TLS: a plain static).
static VM_CALLS: std::sync::atomic::AtomicU8 = std::sync::atomic::AtomicU8::new(0);
const VM_CALLS_MISSING: u8 = 1;

/// [`vm_copy`] without the system calls: a direct copy, SIGSEGV and
/// SIGBUS unblocked on the thread for its duration, that recovers from a
/// fault (the signal entry is the host action of both, signals::init).
fn direct_copy(remote: u64, local: *mut u8, len: usize, write: bool) -> Result<(), i32> {
    let faults = sig_bit(libc::SIGSEGV) | sig_bit(libc::SIGBUS);
    let old = crate::sys::unblock_raw_signals(faults);
    // SAFETY: `local` is valid for `len` bytes (callers pass their own
    // buffers); SIGSEGV and SIGBUS reach this thread until the mask is put
    // back, so a fault on the program's side is recovered from.
    let ok = unsafe {
        let local = std::slice::from_raw_parts_mut(local, len);
        if write {
            crate::arch::copy_to_program(remote, local)
        } else {
            crate::arch::copy_from_program(local, remote)
        }
    };
    crate::sys::set_raw_signal_mask(old);
    if ok {
        Ok(())
    } else {
        Err(libc::EFAULT)
    }
}

fn sig_bit(sig: i32) -> u64 {
    1 << (sig - 1)
}

/// Fills `buf` from the program's memory at `addr` (no allocation, no TLS).
pub fn read_into(addr: u64, buf: &mut [u8]) -> Result<(), i32> {
    vm_copy(addr, buf.as_mut_ptr(), buf.len(), false)
}

/// [`read_into`] for the entry fast path: a direct copy that recovers from
/// a fault (no system call, no TLS) when the thread's signal mask allows
/// it, else `process_vm_readv`.
pub fn read_into_fast(
    kt: &crate::thread::KernelThread,
    addr: u64,
    buf: &mut [u8],
) -> Result<(), i32> {
    if kt.fault_reads.load(Ordering::Relaxed) {
        // SAFETY: fault_reads says SIGSEGV and SIGBUS reach this thread, and
        // the signal entry handles both (signals::init).
        if unsafe { crate::arch::copy_from_program(buf, addr) } {
            Ok(())
        } else {
            Err(libc::EFAULT)
        }
    } else {
        read_into(addr, buf)
    }
}

/// Copies `len` bytes from the program.
pub fn read_bytes(addr: u64, len: usize) -> Result<Vec<u8>, i32> {
    let mut v = vec![0u8; len];
    vm_copy(addr, v.as_mut_ptr(), len, false)?;
    Ok(v)
}

/// Copies as much of `[addr, addr+len)` as is readable (for tracing).
pub fn read_prefix(addr: u64, len: usize) -> Vec<u8> {
    read_bytes(addr, len).unwrap_or_default()
}

/// Copies `bytes` into the program.
pub fn write_bytes(addr: u64, bytes: &[u8]) -> Result<(), i32> {
    let mut copy = bytes.to_vec();
    vm_copy(addr, copy.as_mut_ptr(), copy.len(), true)
}

/// Reads a plain-data struct from the program.
pub fn read_struct<T: Copy + Default>(addr: u64) -> Result<T, i32> {
    let mut v = T::default();
    vm_copy(
        addr,
        &mut v as *mut T as *mut u8,
        std::mem::size_of::<T>(),
        false,
    )?;
    Ok(v)
}

/// Writes a plain-data struct into the program.
pub fn write_struct<T: Copy>(addr: u64, v: &T) -> Result<(), i32> {
    let mut copy = *v;
    vm_copy(
        addr,
        &mut copy as *mut T as *mut u8,
        std::mem::size_of::<T>(),
        true,
    )
}

/// Reads a NUL-terminated string of at most `max` bytes (without the NUL).
pub fn read_cstring(addr: u64, max: usize) -> Result<Vec<u8>, i32> {
    let mut out = Vec::new();
    let mut chunk = [0u8; 256];
    let mut at = addr;
    while out.len() < max {
        // Never cross a page boundary in one read: the next page may be
        // unmapped even though the string ends before it.
        let to_page = 4096 - (at as usize % 4096);
        let n = chunk.len().min(to_page);
        vm_copy(at, chunk.as_mut_ptr(), n, false)?;
        if let Some(end) = chunk[..n].iter().position(|&b| b == 0) {
            out.extend_from_slice(&chunk[..end]);
            return Ok(out);
        }
        out.extend_from_slice(&chunk[..n]);
        at += n as u64;
    }
    Err(libc::ENAMETOOLONG)
}

/// Reads a NULL-terminated array of string pointers (argv, envp).
pub fn read_string_array(addr: u64) -> Result<Vec<Vec<u8>>, i32> {
    let mut out = Vec::new();
    if addr == 0 {
        return Ok(out);
    }
    for i in 0.. {
        let p: u64 = read_struct(addr + 8 * i)?;
        if p == 0 {
            break;
        }
        out.push(read_cstring(p, 128 * 1024)?);
        if out.len() > 1 << 20 {
            return Err(libc::E2BIG);
        }
    }
    Ok(out)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn reads_and_writes_own_memory() {
        let s = b"hello\0world";
        assert_eq!(read_cstring(s.as_ptr() as u64, 100).unwrap(), b"hello");
        let mut x: u64 = 5;
        write_struct(&mut x as *mut u64 as u64, &42u64).unwrap();
        assert_eq!(x, 42);
        assert_eq!(read_struct::<u64>(&x as *const u64 as u64).unwrap(), 42);
    }

    #[test]
    fn bad_addresses_give_efault() {
        assert_eq!(read_struct::<u64>(8), Err(libc::EFAULT));
        assert_eq!(read_cstring(16, 10), Err(libc::EFAULT));
        assert_eq!(write_struct(24, &1u32), Err(libc::EFAULT));
    }
}
