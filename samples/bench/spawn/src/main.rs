//! `bench-spawn CHILD N`: N times, fork, execute CHILD (no arguments) in
//! the child and wait for it; every child must exit with status 0.
//! Prints `spawned N` and `us_per_spawn X` (wall time per fork + exec +
//! wait, measured inside the program).

use std::ffi::CString;
use std::time::Instant;

fn usage() -> ! {
    eprintln!("usage: bench-spawn CHILD N");
    std::process::exit(2)
}

fn main() {
    let args: Vec<String> = std::env::args().skip(1).collect();
    let [child, n] = <[String; 2]>::try_from(args).unwrap_or_else(|_| usage());
    let n: u64 = n.parse().unwrap_or_else(|_| usage());
    let path = CString::new(child).unwrap_or_else(|_| usage());
    let argv = [path.as_ptr(), std::ptr::null()];
    let envp = [std::ptr::null()];
    let t = Instant::now();
    for i in 0..n {
        // SAFETY: this program has one thread, so the child may run any
        // code; it only calls execve and _exit, with pointers built before
        // the fork (path, argv and envp outlive the loop).
        let pid = unsafe { libc::fork() };
        if pid == 0 {
            // SAFETY: as above; execve returns only on failure.
            unsafe {
                libc::execve(path.as_ptr(), argv.as_ptr(), envp.as_ptr());
                libc::_exit(127)
            }
        }
        if pid < 0 {
            eprintln!("bench-spawn: fork {i}: {}", std::io::Error::last_os_error());
            std::process::exit(1)
        }
        let mut status = 0;
        // SAFETY: pid is our child; status is a valid int.
        let r = unsafe { libc::waitpid(pid, &mut status, 0) };
        if r != pid || !libc::WIFEXITED(status) || libc::WEXITSTATUS(status) != 0 {
            eprintln!("bench-spawn: child {i} (pid {pid}): waitpid {r}, status {status:#x}");
            std::process::exit(1)
        }
    }
    let us = t.elapsed().as_secs_f64() * 1e6 / n.max(1) as f64;
    println!("spawned {n}");
    println!("us_per_spawn {us:.1}");
}
