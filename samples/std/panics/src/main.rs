//! `panics DIR`: panics and unwinding at work. Panics are caught with
//! catch_unwind (string, formatted and non-string payloads), unwind through
//! many frames running destructors, cross threads (join returns the
//! payload; a scoped thread's panic reaches the scope), go through a custom
//! hook and the default one (which writes to stderr). Children of ourselves
//! abort in several ways (std::process::abort, a panic while panicking, a
//! panic in a function that cannot unwind, a panic hook that aborts, a
//! spawned thread's and the main thread's stack overflow) and die of
//! SIGABRT, and one
//! panics with RUST_BACKTRACE=1: the names of our own frames in its
//! backtrace are printed, and those of a backtrace captured in-process. The
//! output is deterministic (thread ids and paths of std's sources are left
//! out), so it is the same on XSC and natively. DIR is not used.
//!
//! `panics DIR child MODE` is the child side.

use std::any::Any;
use std::backtrace::Backtrace;
use std::os::unix::process::ExitStatusExt;
use std::panic::{self, AssertUnwindSafe};
use std::process::Command;
use std::sync::atomic::{AtomicUsize, Ordering};
use std::sync::{Arc, Mutex};
use std::thread;

fn payload(p: &(dyn Any + Send)) -> String {
    if let Some(s) = p.downcast_ref::<&str>() {
        format!("&str {s:?}")
    } else if let Some(s) = p.downcast_ref::<String>() {
        format!("String {s:?}")
    } else if let Some(n) = p.downcast_ref::<i32>() {
        format!("i32 {n}")
    } else {
        "something else".to_string()
    }
}

static DROPS: Mutex<Vec<String>> = Mutex::new(Vec::new());

struct Guard(String);
impl Drop for Guard {
    fn drop(&mut self) {
        DROPS
            .lock()
            .unwrap()
            .push(format!("{} (unwinding: {})", self.0, thread::panicking()));
    }
}

#[inline(never)]
fn recurse(depth: u32, counter: &AtomicUsize) -> u32 {
    struct Count<'a>(&'a AtomicUsize);
    impl Drop for Count<'_> {
        fn drop(&mut self) {
            self.0.fetch_add(1, Ordering::SeqCst);
        }
    }
    let _c = Count(counter);
    if depth == 0 {
        panic!("bottom of the recursion");
    }
    recurse(depth - 1, counter) + 1
}

fn catching() {
    println!("== catch_unwind");
    let r = panic::catch_unwind(|| -> u32 { panic!("a plain message") });
    println!("literal: {}", payload(&*r.unwrap_err()));
    let n = 42;
    let r = panic::catch_unwind(|| -> u32 { panic!("formatted {n}") });
    println!("formatted: {}", payload(&*r.unwrap_err()));
    let r = panic::catch_unwind(|| panic::panic_any(17i32));
    println!("panic_any: {}", payload(&*r.unwrap_err()));
    let r = panic::catch_unwind(|| 5);
    println!("no panic: {r:?}");

    let r = panic::catch_unwind(|| {
        let _a = Guard("outer guard".into());
        let _b = Guard("inner guard".into());
        let v: Vec<u8> = Vec::new();
        #[allow(clippy::unnecessary_operation)]
        v[3]
    });
    println!("index out of bounds: {}", payload(&*r.unwrap_err()));
    for d in DROPS.lock().unwrap().drain(..) {
        println!("  dropped: {d}");
    }
    let counter = AtomicUsize::new(0);
    let r = panic::catch_unwind(AssertUnwindSafe(|| recurse(100, &counter)));
    println!(
        "through 101 frames: {}, destructors run {}",
        payload(&*r.unwrap_err()),
        counter.load(Ordering::SeqCst)
    );
    let r = panic::catch_unwind(|| {
        let caught = panic::catch_unwind(|| panic!("inner"));
        panic::resume_unwind(caught.unwrap_err());
    });
    println!(
        "resume_unwind of a caught panic: {}",
        payload(&*r.unwrap_err())
    );
    let r: Result<u8, _> = panic::catch_unwind(|| None::<u8>.expect("expected a value"));
    println!("expect: {}", payload(&*r.unwrap_err()));
}

fn threads() {
    println!("== panics in threads");
    let h = thread::Builder::new()
        .name("doomed".into())
        .spawn(|| {
            let _g = Guard("doomed thread's guard".into());
            panic!("the doomed thread gives up");
        })
        .unwrap();
    let r = h.join();
    println!("join: {}", payload(&*r.unwrap_err()));
    for d in DROPS.lock().unwrap().drain(..) {
        println!("  dropped: {d}");
    }
    let results: Vec<String> = (0..6)
        .map(|i| {
            thread::spawn(move || {
                if i % 2 == 1 {
                    panic::panic_any(i);
                }
                i * 10
            })
        })
        .collect::<Vec<_>>()
        .into_iter()
        .map(|h| match h.join() {
            Ok(v) => format!("ok {v}"),
            Err(p) => format!("panicked with {}", payload(&*p)),
        })
        .collect();
    println!("six threads: {results:?}");
    let r = panic::catch_unwind(|| {
        thread::scope(|s| {
            s.spawn(|| panic::panic_any(7i32));
            s.spawn(|| 1);
        })
    });
    println!(
        "a scope with a panicking thread: {}",
        payload(&*r.unwrap_err())
    );
    let shared = Arc::new(Mutex::new(0));
    let s2 = Arc::clone(&shared);
    let _ = thread::spawn(move || {
        let mut g = s2.lock().unwrap();
        *g += 1;
        panic::resume_unwind(Box::new("poison it"));
    })
    .join();
    println!(
        "mutex poisoned by the panicking thread: {}",
        shared.lock().is_err()
    );
}

fn hooks() {
    println!("== hooks");
    let seen = Arc::new(Mutex::new(Vec::new()));
    let s2 = Arc::clone(&seen);
    panic::set_hook(Box::new(move |info| {
        let loc = info.location().unwrap();
        s2.lock().unwrap().push(format!(
            "hook: {:?} at {}:{} on {:?}",
            info.payload_as_str(),
            loc.file(),
            loc.line(),
            thread::current().name()
        ));
    }));
    let _ = panic::catch_unwind(|| panic!("seen by the hook"));
    let _ = thread::Builder::new()
        .name("hooked".into())
        .spawn(|| panic!("also seen, from a thread"))
        .unwrap()
        .join();
    let _ = panic::take_hook();
    for l in seen.lock().unwrap().iter() {
        println!("{l}");
    }
    // The default hook again: it writes to stderr.
    let _ = panic::catch_unwind(|| panic!("through the default hook"));
    let _ = thread::Builder::new()
        .name("default-hooked".into())
        .spawn(|| panic!("from a named thread, through the default hook"))
        .unwrap()
        .join();
    println!("the default hook wrote to stderr");
}

#[inline(never)]
fn level_three() -> usize {
    let bt = Backtrace::force_capture();
    let s = bt.to_string();
    if std::env::var_os("PANICS_PANIC_HERE").is_some() {
        panic!("deep down in level_three");
    }
    s.len() + own_frames(&s).len()
}
#[inline(never)]
fn level_two() -> usize {
    level_three() + 1
}
#[inline(never)]
fn level_one() -> usize {
    level_two() + 1
}

/// The names of our own frames (`panics::...`) in a printed backtrace,
/// short or full format, with the line and column they are at (not the
/// file's path, nor addresses or crate hashes).
fn own_frames(bt: &str) -> Vec<String> {
    let lines: Vec<&str> = bt.lines().collect();
    let mut out = Vec::new();
    for (i, l) in lines.iter().enumerate() {
        let Some((num, name)) = l.trim_start().split_once(": ") else {
            continue;
        };
        if num.parse::<u32>().is_err() {
            continue;
        }
        // Full format: `0x55d1c0a2 - panics[0123abcd]::child`.
        let name = name.split_once(" - ").map_or(name, |(_, n)| n);
        let name = without_hashes(name);
        if !name.starts_with("panics::") && !name.starts_with("<panics::") {
            continue;
        }
        let at = lines
            .get(i + 1)
            .and_then(|n| n.trim_start().strip_prefix("at "))
            .and_then(|p| p.rsplit_once("main.rs:"))
            .map(|(_, lc)| format!(" at main.rs:{lc}"))
            .unwrap_or_default();
        out.push(format!("{name}{at}"));
    }
    out
}

/// `panics[0123abcd]::child` as `panics::child`.
fn without_hashes(name: &str) -> String {
    let mut out = String::new();
    let mut rest = name;
    while let Some(i) = rest.find('[') {
        out.push_str(&rest[..i]);
        match rest[i..].find(']') {
            Some(j) if rest[i + 1..i + j].chars().all(|c| c.is_ascii_hexdigit()) => {
                rest = &rest[i + j + 1..];
            }
            _ => {
                out.push('[');
                rest = &rest[i + 1..];
            }
        }
    }
    out.push_str(rest);
    out
}

/// A child's stderr without what varies between runs and builds: thread
/// ids, the paths of std's sources, and backtraces (but for our own frames).
fn deterministic_stderr(err: &str) -> Vec<String> {
    let mut out = Vec::new();
    let mut backtrace: Option<String> = None;
    for l in err.lines() {
        if let Some(bt) = backtrace.as_mut() {
            let t = l.trim_start();
            let frame = t
                .split_once(": ")
                .is_some_and(|(n, _)| n.parse::<u32>().is_ok());
            if frame || t.starts_with("at ") || t.starts_with("note: Some details") {
                bt.push_str(l);
                bt.push('\n');
                continue;
            }
            for f in own_frames(bt) {
                out.push(format!("  our frame: {f}"));
            }
            backtrace = None;
        }
        if l == "stack backtrace:" {
            backtrace = Some(String::new());
            out.push(l.to_string());
            continue;
        }
        out.push(match l.split_once(") panicked at ") {
            Some((_, at)) => format!(
                "(a thread) panicked at .../{}",
                at.rsplit('/').next().unwrap()
            ),
            // `thread 'deep' (1234) has overflowed its stack`
            None => match l.split_once(" has overflowed its stack") {
                Some((who, rest)) => format!(
                    "{} has overflowed its stack{rest}",
                    who.rsplit_once(" (").map_or(who, |(w, _)| w)
                ),
                None => l.to_string(),
            },
        });
    }
    for f in own_frames(&backtrace.unwrap_or_default()) {
        out.push(format!("  our frame: {f}"));
    }
    out
}

fn backtraces(dir: &str) {
    println!("== backtraces");
    let bt = {
        #[inline(never)]
        fn capture() -> String {
            Backtrace::force_capture().to_string()
        }
        capture()
    };
    println!("in-process, our frames:");
    for f in own_frames(&bt) {
        println!("  {f}");
    }
    println!(
        "Backtrace::capture() without RUST_BACKTRACE: {:?}",
        Backtrace::capture().status()
    );
    let out = Command::new(std::env::current_exe().unwrap())
        .args([dir, "child", "backtrace"])
        .env("RUST_BACKTRACE", "1")
        .env("PANICS_PANIC_HERE", "1")
        .output()
        .unwrap();
    let err = String::from_utf8_lossy(&out.stderr);
    println!(
        "child with RUST_BACKTRACE=1: code {:?}, its stderr:",
        out.status.code()
    );
    for l in deterministic_stderr(&err) {
        println!("  {l}");
    }
}

fn aborts(dir: &str) {
    println!("== aborts");
    for mode in [
        "abort",
        "double-panic",
        "nounwind",
        "hook-then-abort",
        "thread-stack-overflow",
        "main-stack-overflow",
    ] {
        let out = Command::new(std::env::current_exe().unwrap())
            .args([dir, "child", mode])
            .output()
            .unwrap();
        println!(
            "{mode}: code {:?} signal {:?}",
            out.status.code(),
            out.status.signal()
        );
        for l in deterministic_stderr(&String::from_utf8_lossy(&out.stderr)) {
            println!("  stderr: {l}");
        }
    }
}

fn no_core_dumps() {
    let lim = libc::rlimit {
        rlim_cur: 0,
        rlim_max: 0,
    };
    // SAFETY: setrlimit reads the struct we pass; a failure is reported
    // through its return value.
    let r = unsafe { libc::setrlimit(libc::RLIMIT_CORE, &lim) };
    assert_eq!(r, 0, "setrlimit(RLIMIT_CORE)");
}

struct PanicOnDrop;
impl Drop for PanicOnDrop {
    fn drop(&mut self) {
        panic!("a destructor panics during unwinding");
    }
}

extern "C" fn cannot_unwind() {
    panic!("a panic in an extern \"C\" function");
}

fn child(mode: &str) {
    match mode {
        "abort" => {
            eprintln!("calling std::process::abort");
            std::process::abort();
        }
        "double-panic" => {
            let _p = PanicOnDrop;
            panic!("the first panic");
        }
        "nounwind" => cannot_unwind(),
        // What `panic = "abort"` does at run time: the hook, then abort.
        "hook-then-abort" => {
            let default = panic::take_hook();
            panic::set_hook(Box::new(move |info| {
                default(info);
                std::process::abort();
            }));
            panic!("hooked, then aborted");
        }
        // std reports a stack overflow and aborts, on a spawned thread (its
        // guard page is below the stack pthread made) and on the main one
        // (its guard is where RLIMIT_STACK stops the stack's growth, which
        // std learns from pthread_getattr_np).
        "thread-stack-overflow" => {
            let h = thread::Builder::new()
                .name("deep".into())
                .stack_size(256 * 1024)
                .spawn(|| deep(1))
                .unwrap();
            println!("{:?}", h.join());
        }
        "main-stack-overflow" => println!("{}", deep(1)),
        "backtrace" => {
            println!("{}", level_one());
        }
        other => panic!("unknown child mode {other}"),
    }
}

#[inline(never)]
#[allow(unconditional_recursion)]
fn deep(n: u64) -> u64 {
    let pad = std::hint::black_box([n; 64]);
    deep(n.wrapping_add(pad[3])).wrapping_add(pad[9])
}

fn main() {
    let args: Vec<String> = std::env::args().skip(1).collect();
    match args.as_slice() {
        [_, c, mode] if c == "child" => child(mode),
        [dir] => {
            no_core_dumps();
            catching();
            threads();
            hooks();
            backtraces(dir);
            aborts(dir);
        }
        _ => {
            eprintln!("usage: panics DIR [child MODE]");
            std::process::exit(2);
        }
    }
}
