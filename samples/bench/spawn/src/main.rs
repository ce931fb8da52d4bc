//! `bench-spawn [--command] CHILD N`: N times, fork, execute CHILD (no
//! arguments) in the child and wait for it; every child must exit with
//! status 0. With `--command`, each spawn is std's
//! `Command::new(CHILD).status()` instead, as real programs spawn (on
//! Linux a vfork-style `clone(CLONE_VM | CLONE_VFORK)` in the C library's
//! `posix_spawn`). Prints `spawned N` and `us_per_spawn X` (wall time per
//! spawn + exec + wait, measured inside the program).
//!
//! `bench-spawn --thread N`: N times, `std::thread::spawn` a thread that
//! returns a number, and join it; prints `spawned N` and `us_per_spawn X`.

use std::ffi::CString;
use std::time::Instant;

fn usage() -> ! {
    eprintln!("usage: bench-spawn [--command] CHILD N | --thread N");
    std::process::exit(2)
}

fn main() {
    let mut args: Vec<String> = std::env::args().skip(1).collect();
    if args.len() == 2 && args[0] == "--thread" {
        let n: u64 = args[1].parse().unwrap_or_else(|_| usage());
        let t = Instant::now();
        for i in 0..n {
            let got = std::thread::spawn(move || i + 1).join();
            if got.ok() != Some(i + 1) {
                eprintln!("bench-spawn: thread {i} did not return {}", i + 1);
                std::process::exit(1)
            }
        }
        report(n, t);
        return;
    }
    let command = args.first().is_some_and(|a| a == "--command");
    if command {
        args.remove(0);
    }
    let [child, n] = <[String; 2]>::try_from(args).unwrap_or_else(|_| usage());
    let n: u64 = n.parse().unwrap_or_else(|_| usage());
    if command {
        let t = Instant::now();
        for i in 0..n {
            match std::process::Command::new(&child).status() {
                Ok(s) if s.success() => {}
                r => {
                    eprintln!("bench-spawn: child {i}: {r:?}");
                    std::process::exit(1)
                }
            }
        }
        report(n, t);
        return;
    }
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
    report(n, t);
}

fn report(n: u64, t: Instant) {
    let us = t.elapsed().as_secs_f64() * 1e6 / n.max(1) as f64;
    println!("spawned {n}");
    println!("us_per_spawn {us:.1}");
}
