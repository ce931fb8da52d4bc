//! `/proc/self/exe` names the program, not the kernel that runs it.
//!
//! Under a real XSC kernel the program is the process's executable. Here
//! the process's executable is xsc-run, so calls that name
//! `/proc/self/exe` (or `/proc/<own pid>/exe`, `/proc/thread-self/exe`) are
//! rewritten to name the program's file: `open`/`openat`/`openat2`,
//! `stat`/`newfstatat`/`statx`, `access`/`faccessat`/`faccessat2` get the
//! program's path in place of the link, and `readlink`/`readlinkat` return
//! it. (Backtraces read the program's symbols this way, and
//! `std::env::current_exe` names the program.)

use crate::memory;
use std::ffi::CString;
use std::sync::OnceLock;

static PROGRAM: OnceLock<CString> = OnceLock::new();

/// Records the program's absolute path.
pub fn set_program(path: CString) {
    let _ = PROGRAM.set(path);
}

pub fn program() -> Option<&'static CString> {
    PROGRAM.get()
}

fn names_own_exe(path: &[u8]) -> bool {
    if path == b"/proc/self/exe" || path == b"/proc/thread-self/exe" {
        return true;
    }
    let Some(rest) = path
        .strip_prefix(b"/proc/")
        .and_then(|r| r.strip_suffix(b"/exe"))
    else {
        return false;
    };
    std::str::from_utf8(rest)
        .ok()
        .and_then(|s| s.parse::<i32>().ok())
        .is_some_and(|pid| pid == crate::sys::getpid())
}

/// The argument index holding the path for the calls we rewrite.
fn path_arg(opcode: u32) -> Option<usize> {
    match opcode {
        2 | 4 | 21 | 89 => Some(0), // open, stat, access, readlink
        257 | 262 | 267 | 269 | 332 | 437 | 439 => Some(1), // openat, newfstatat, readlinkat, faccessat, statx, openat2, faccessat2
        _ => None,
    }
}

/// What to do with a call that may name `/proc/self/exe`.
pub enum Rewrite {
    /// Make the call with these arguments instead.
    Args([u64; 6]),
    /// The call's result, computed here (readlink).
    Result(i64),
}

/// Rewrites the call if it names the process's executable.
pub fn rewrite(opcode: u32, a: [u64; 6]) -> Option<Rewrite> {
    let i = path_arg(opcode)?;
    let program = PROGRAM.get()?;
    let path = memory::read_cstring(a[i], 64).ok()?;
    if !names_own_exe(&path) {
        return None;
    }
    if opcode == 89 || opcode == 267 {
        // readlink(path, buf, size) / readlinkat(dirfd, path, buf, size):
        // the link's target, truncated to the buffer, no NUL.
        let (buf, size) = (a[i + 1], a[i + 2] as usize);
        let bytes = program.as_bytes();
        let n = bytes.len().min(size);
        return Some(match memory::write_bytes(buf, &bytes[..n]) {
            Ok(()) => Rewrite::Result(n as i64),
            Err(e) => Rewrite::Result(-(e as i64)),
        });
    }
    let mut b = a;
    b[i] = program.as_ptr() as u64;
    Some(Rewrite::Args(b))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn recognises_the_names_of_the_own_executable() {
        assert!(names_own_exe(b"/proc/self/exe"));
        assert!(names_own_exe(b"/proc/thread-self/exe"));
        assert!(names_own_exe(
            format!("/proc/{}/exe", std::process::id()).as_bytes()
        ));
        assert!(!names_own_exe(b"/proc/1/exe") || std::process::id() == 1);
        assert!(!names_own_exe(b"/proc/self/exe2"));
        assert!(!names_own_exe(b"/proc/self/maps"));
    }
}
