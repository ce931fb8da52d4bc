//! `signals DIR`: SIGINT and SIGTERM handled with the `signal-hook` crate,
//! the way command-line programs and servers do it. In-process, signals
//! raised at ourselves set flags and reach a `Signals` iterator on another
//! thread, and handlers interrupt a sleep and blocking reads (restarted
//! with SA_RESTART, EINTR without). Children of ourselves wait for a signal sent by the parent
//! (`kill`): one with an iterator, one polling a flag in its main loop, one
//! that exits on the second SIGINT (`register_conditional_shutdown`), one
//! that raises SIGTERM at itself; each cleans up (a file in DIR) and exits
//! cleanly. The output is deterministic, so it is the same on XSC and
//! natively.
//!
//! `signals DIR child MODE` is the child side.

use signal_hook::consts::{SIGHUP, SIGINT, SIGTERM, SIGUSR1, SIGUSR2};
use signal_hook::iterator::Signals;
use signal_hook::low_level;
use std::io::{BufRead, BufReader, Write};
use std::path::Path;
use std::process::{Command, Stdio};
use std::sync::atomic::{AtomicBool, AtomicUsize, Ordering};
use std::sync::{mpsc, Arc};
use std::thread;
use std::time::Duration;

fn name(sig: i32) -> &'static str {
    match sig {
        SIGINT => "SIGINT",
        SIGTERM => "SIGTERM",
        SIGHUP => "SIGHUP",
        SIGUSR1 => "SIGUSR1",
        SIGUSR2 => "SIGUSR2",
        _ => "another signal",
    }
}

/// Waits (at most 10 s) until `cond` holds.
fn wait_for(cond: impl Fn() -> bool) -> bool {
    for _ in 0..1000 {
        if cond() {
            return true;
        }
        thread::sleep(Duration::from_millis(10));
    }
    false
}

fn in_process() {
    println!("== in-process");
    let usr1 = Arc::new(AtomicBool::new(false));
    signal_hook::flag::register(SIGUSR1, Arc::clone(&usr1)).unwrap();
    low_level::raise(SIGUSR1).unwrap();
    println!(
        "flag set by SIGUSR1 raised at ourselves: {}",
        wait_for(|| usr1.load(Ordering::SeqCst))
    );

    let count = Arc::new(AtomicUsize::new(0));
    let c2 = Arc::clone(&count);
    // SAFETY: the action only does an atomic add, which is
    // async-signal-safe.
    let id = unsafe {
        low_level::register(SIGUSR2, move || {
            c2.fetch_add(1, Ordering::SeqCst);
        })
    }
    .unwrap();
    for _ in 0..3 {
        low_level::raise(SIGUSR2).unwrap();
    }
    println!(
        "a low-level action ran for 3 SIGUSR2: {}",
        wait_for(|| count.load(Ordering::SeqCst) == 3)
    );
    println!("unregistered: {}", low_level::unregister(id));

    // Signals delivered to a thread blocked in the iterator.
    let mut signals = Signals::new([SIGHUP, SIGUSR2]).unwrap();
    let handle = signals.handle();
    let (tx, rx) = mpsc::channel();
    let t = thread::spawn(move || {
        for sig in signals.forever() {
            tx.send(name(sig)).unwrap();
        }
        "the iterator ended"
    });
    low_level::raise(SIGHUP).unwrap();
    println!(
        "iterator thread got {:?}",
        rx.recv_timeout(Duration::from_secs(10))
    );
    low_level::raise(SIGUSR2).unwrap();
    println!(
        "iterator thread got {:?}",
        rx.recv_timeout(Duration::from_secs(10))
    );
    handle.close();
    println!("after close: {}", t.join().unwrap());

    // SIGCHLD when a child ends.
    let mut chld = Signals::new([signal_hook::consts::SIGCHLD]).unwrap();
    let mut c = Command::new("/bin/sh")
        .args(["-c", "exit 3"])
        .spawn()
        .unwrap();
    let got = chld.forever().next();
    println!(
        "SIGCHLD after a child ended: {}, the child {}",
        got == Some(signal_hook::consts::SIGCHLD),
        c.wait().unwrap()
    );
}

static ALARMS: AtomicUsize = AtomicUsize::new(0);

extern "C" fn on_alarm(_: libc::c_int) {
    ALARMS.fetch_add(1, Ordering::SeqCst);
}

/// Installs `on_alarm` for SIGALRM, with or without SA_RESTART.
fn on_sigalrm(restart: bool) {
    // SAFETY: a zeroed sigaction is valid; the handler only does an atomic
    // add, which is async-signal-safe; failures are reported by the return
    // value.
    unsafe {
        let mut sa: libc::sigaction = std::mem::zeroed();
        sa.sa_sigaction = on_alarm as extern "C" fn(libc::c_int) as usize;
        sa.sa_flags = if restart { libc::SA_RESTART } else { 0 };
        libc::sigemptyset(&mut sa.sa_mask);
        let r = libc::sigaction(libc::SIGALRM, &sa, std::ptr::null_mut());
        assert_eq!(r, 0, "sigaction");
    }
}

/// Sends SIGALRM to the thread of `h`.
fn alarm_thread<T>(h: &thread::JoinHandle<T>) {
    use std::os::unix::thread::JoinHandleExt;
    // SAFETY: the thread has not been joined, so its pthread_t is valid.
    let r = unsafe { libc::pthread_kill(h.as_pthread_t() as _, libc::SIGALRM) };
    assert_eq!(r, 0, "pthread_kill");
}

fn interrupted_calls() {
    println!("== calls interrupted by a handler (EINTR, SA_RESTART)");
    // thread::sleep goes on sleeping for what is left after each signal.
    on_sigalrm(false);
    ALARMS.store(0, Ordering::SeqCst);
    let sleeper = thread::spawn(|| {
        let t = std::time::Instant::now();
        thread::sleep(Duration::from_millis(400));
        t.elapsed()
    });
    for _ in 0..10 {
        thread::sleep(Duration::from_millis(20));
        alarm_thread(&sleeper);
    }
    let slept = sleeper.join().unwrap();
    println!(
        "a 400 ms sleep with 10 signals: at least 400 ms {}, less than 1 s {}, the handler ran 10 times {}",
        slept >= Duration::from_millis(400),
        slept < Duration::from_secs(1),
        ALARMS.load(Ordering::SeqCst) == 10
    );
    // A blocking read: restarted with SA_RESTART, EINTR without.
    for restart in [true, false] {
        on_sigalrm(restart);
        ALARMS.store(0, Ordering::SeqCst);
        let (mut r, mut w) = std::io::pipe().unwrap();
        let done = Arc::new(AtomicBool::new(false));
        let d2 = Arc::clone(&done);
        let reader = thread::spawn(move || {
            let mut buf = [0u8; 16];
            let res = std::io::Read::read(&mut r, &mut buf)
                .map(|n| String::from_utf8_lossy(&buf[..n]).into_owned())
                .map_err(|e| e.kind());
            d2.store(true, Ordering::SeqCst);
            res
        });
        for _ in 0..5 {
            thread::sleep(Duration::from_millis(20));
            if done.load(Ordering::SeqCst) {
                break;
            }
            alarm_thread(&reader);
        }
        // Without SA_RESTART the reader is gone by now: ignore EPIPE.
        let _ = w.write_all(b"data");
        println!(
            "a blocking pipe read, SA_RESTART {restart}: {:?}, the handler ran: {}",
            reader.join().unwrap(),
            ALARMS.load(Ordering::SeqCst) > 0
        );
    }
}

/// Runs `child MODE`, waits for its "ready", sends it `sigs` one after
/// the other (each after the child's next line), and reports.
fn signal_a_child(dir: &Path, mode: &str, sigs: &[i32]) {
    let mut c = Command::new(std::env::current_exe().unwrap())
        .arg(dir)
        .arg("child")
        .arg(mode)
        .stdin(Stdio::null())
        .stdout(Stdio::piped())
        .stderr(Stdio::piped())
        .spawn()
        .unwrap();
    let mut out = BufReader::new(c.stdout.take().unwrap());
    let mut lines = Vec::new();
    for &sig in sigs {
        let mut l = String::new();
        out.read_line(&mut l).unwrap();
        lines.push(l.trim_end().to_string());
        // SAFETY: kill takes plain integers; the child is ours and not yet
        // reaped, so its pid names it.
        let r = unsafe { libc::kill(c.id() as libc::pid_t, sig) };
        assert_eq!(r, 0, "kill");
    }
    for l in out.lines() {
        lines.push(l.unwrap());
    }
    let mut err = String::new();
    std::io::Read::read_to_string(&mut c.stderr.take().unwrap(), &mut err).unwrap();
    let status = c.wait().unwrap();
    let sent: Vec<&str> = sigs.iter().map(|&s| name(s)).collect();
    println!("child {mode}, sent {sent:?}: {status}");
    for l in lines {
        println!("  stdout: {l}");
    }
    for l in err.lines() {
        println!("  stderr: {l}");
    }
}

fn children(dir: &Path) {
    println!("== children that are sent signals");
    signal_a_child(dir, "iterator", &[SIGINT]);
    signal_a_child(dir, "iterator", &[SIGTERM]);
    signal_a_child(dir, "flag-loop", &[SIGTERM]);
    signal_a_child(dir, "flag-loop", &[SIGINT]);
    signal_a_child(dir, "second-sigint-exits", &[SIGINT, SIGINT]);
    signal_a_child(dir, "raise-term", &[]);
    // Without a handler, SIGTERM's default action ends the child.
    signal_a_child(dir, "no-handler", &[SIGTERM]);
    let mut files: Vec<String> = std::fs::read_dir(dir)
        .unwrap()
        .map(|e| e.unwrap().file_name().to_string_lossy().into_owned())
        .collect();
    files.sort();
    println!("files the children left: {files:?}");
}

fn clean_up(dir: &Path, what: &str) {
    std::fs::write(
        dir.join(format!("cleaned-up-{what}.txt")),
        format!("{what}: cleaned up before exiting\n"),
    )
    .unwrap();
}

fn ready() {
    println!("ready");
    std::io::stdout().flush().unwrap();
}

fn child(dir: &Path, mode: &str) {
    match mode {
        "iterator" => {
            let mut signals = Signals::new([SIGINT, SIGTERM]).unwrap();
            ready();
            if let Some(sig) = signals.forever().next() {
                println!("got {}, shutting down", name(sig));
                clean_up(dir, &format!("iterator-{}", name(sig)));
                println!("clean exit");
                std::process::exit(0);
            }
        }
        "flag-loop" => {
            let stop = Arc::new(AtomicBool::new(false));
            signal_hook::flag::register(SIGTERM, Arc::clone(&stop)).unwrap();
            signal_hook::flag::register(SIGINT, Arc::clone(&stop)).unwrap();
            ready();
            let mut rounds = 0u64;
            while !stop.load(Ordering::SeqCst) {
                // The "work" of each round.
                thread::sleep(Duration::from_millis(5));
                rounds += 1;
                assert!(rounds < 2000, "no signal came");
            }
            println!("the main loop saw the flag and stops");
            clean_up(dir, "flag-loop");
            println!("clean exit");
        }
        "second-sigint-exits" => {
            let term = Arc::new(AtomicBool::new(false));
            // The second SIGINT (with `term` set) exits at once with 7.
            signal_hook::flag::register_conditional_shutdown(SIGINT, 7, Arc::clone(&term)).unwrap();
            signal_hook::flag::register(SIGINT, Arc::clone(&term)).unwrap();
            ready();
            assert!(wait_for(|| term.load(Ordering::SeqCst)), "no SIGINT came");
            clean_up(dir, "second-sigint");
            println!("first SIGINT: cleaned up, another one exits at once");
            thread::sleep(Duration::from_secs(10));
            println!("still here, which should not happen");
        }
        "raise-term" => {
            let mut signals = Signals::new([SIGTERM]).unwrap();
            low_level::raise(SIGTERM).unwrap();
            let sig = signals.forever().next().unwrap();
            println!("raised and got {}", name(sig));
            clean_up(dir, "raise-term");
            println!("clean exit");
        }
        "no-handler" => {
            ready();
            thread::sleep(Duration::from_secs(10));
            println!("still here, which should not happen");
        }
        other => panic!("unknown child mode {other}"),
    }
}

fn main() {
    let args: Vec<String> = std::env::args().skip(1).collect();
    match args.as_slice() {
        [dir, c, mode] if c == "child" => child(Path::new(dir), mode),
        [dir] => {
            in_process();
            interrupted_calls();
            children(Path::new(dir));
        }
        _ => {
            eprintln!("usage: signals DIR [child MODE]");
            std::process::exit(2);
        }
    }
}
