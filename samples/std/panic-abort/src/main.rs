//! `panic-abort DIR`: a panic in a program built with `panic = "abort"`.
//! The panic strategy is a profile setting, the same for a whole
//! workspace, so the differential tests build this one binary with
//! `cargo rustc -p panic-abort -- -C panic=abort` (a plain `cargo build`
//! gives the unwinding variant, and the first line says which it is).
//! Built with abort, the panic message is printed, catch_unwind catches
//! nothing, no destructor runs and the process dies of SIGABRT. DIR is not
//! used.

struct Guard(&'static str);
impl Drop for Guard {
    fn drop(&mut self) {
        println!("{} dropped (only when unwinding)", self.0);
    }
}

fn main() {
    if std::env::args_os().nth(1).is_none() {
        eprintln!("usage: panic-abort DIR");
        std::process::exit(2);
    }
    let lim = libc::rlimit {
        rlim_cur: 0,
        rlim_max: 0,
    };
    // SAFETY: setrlimit reads the struct we pass; a failure is reported
    // through its return value. No core file, wherever this runs.
    let r = unsafe { libc::setrlimit(libc::RLIMIT_CORE, &lim) };
    assert_eq!(r, 0, "setrlimit(RLIMIT_CORE)");
    println!("built with panic=abort: {}", cfg!(panic = "abort"));
    let _outer = Guard("main's guard");
    let r = std::panic::catch_unwind(|| {
        let _inner = Guard("the closure's guard");
        println!("about to panic");
        panic!("a panic with panic=abort");
    });
    println!("catch_unwind returned, caught: {}", r.is_err());
}
