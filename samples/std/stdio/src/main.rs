//! `stdio DIR`: standard input, output and error at work. It reads its
//! stdin to EOF (a line first, then the rest), copies files into and out
//! of pipes with io::copy, writes several MiB to stdout (big blocks and
//! many small lines), writes to stderr, and shows what
//! happens on a broken pipe: a write error of kind BrokenPipe while SIGPIPE
//! is ignored (std's default), a `println!` panic in a child whose reader
//! went away, and death by SIGPIPE once a child restores SIGPIPE's default
//! action. The output is deterministic, so it is the same on XSC and
//! natively. DIR receives a copy of the input's summary.
//!
//! `stdio DIR sigpipe` runs only the children that restore SIGPIPE's
//! default action (kept apart: see the differential tests).
//! `stdio DIR child MODE` is the child side.

use std::io::{self, BufRead, IsTerminal, Read, Write};
use std::os::unix::process::ExitStatusExt;
use std::process::{Command, Stdio};

/// A 64-bit FNV-1a hash, to summarise large data.
fn fnv(data: &[u8]) -> u64 {
    data.iter().fold(0xcbf2_9ce4_8422_2325u64, |h, &b| {
        (h ^ b as u64).wrapping_mul(0x0100_0000_01b3)
    })
}

fn read_stdin(dir: &std::path::Path) {
    let stdin = io::stdin();
    let mut first = String::new();
    let n = stdin.lock().read_line(&mut first).unwrap();
    let mut rest = Vec::new();
    stdin.lock().read_to_end(&mut rest).unwrap();
    let lines = rest.split(|&b| b == b'\n').count();
    let summary = format!(
        "first line: {n} bytes {first:?}\nrest: {} bytes, {lines} pieces between newlines, valid UTF-8 {}, ends with a newline {}, fnv {:016x}\n",
        rest.len(),
        std::str::from_utf8(&rest).is_ok(),
        rest.last() == Some(&b'\n'),
        fnv(&rest)
    );
    print!("{summary}");
    std::fs::write(dir.join("stdin-summary.txt"), &summary).unwrap();
    let mut more = [0u8; 8];
    println!("read after EOF: {:?}", io::stdin().read(&mut more).unwrap());
    println!(
        "terminals: stdin {} stdout {} stderr {}",
        io::stdin().is_terminal(),
        io::stdout().is_terminal(),
        io::stderr().is_terminal()
    );
}

/// About 3 MiB on stdout: 2 MiB in 64 KiB blocks, then 20000 lines.
fn large_output() {
    let out = io::stdout();
    let mut o = out.lock();
    let line = b"0123456789abcdefghijklmnopqrstuvwxyzABCDEFGHIJKLMNOPQRSTUVWXYZ!\n";
    let block: Vec<u8> = line.iter().copied().cycle().take(64 * 1024).collect();
    for i in 0..32 {
        writeln!(o, "block {i}").unwrap();
        o.write_all(&block).unwrap();
    }
    for i in 0..20_000 {
        writeln!(o, "line {i:05} of the many small ones").unwrap();
    }
    o.flush().unwrap();
}

/// io::copy between files and pipes (std uses splice, sendfile and
/// copy_file_range there): a file into `wc -c`, a child's stdout into a
/// file.
fn copies(dir: &std::path::Path) {
    let src = dir.join("copy-source.txt");
    let line = "a line to copy through pipes and files\n";
    std::fs::write(&src, line.repeat(20_000)).unwrap();
    let mut wc = Command::new("wc")
        .arg("-c")
        .stdin(Stdio::piped())
        .stdout(Stdio::piped())
        .spawn()
        .unwrap();
    let mut stdin = wc.stdin.take().unwrap();
    let n = io::copy(&mut std::fs::File::open(&src).unwrap(), &mut stdin).unwrap();
    drop(stdin);
    let out = wc.wait_with_output().unwrap();
    println!(
        "io::copy of a file into `wc -c`: copied {n}, wc counted {}",
        String::from_utf8_lossy(&out.stdout).trim()
    );
    let mut cat = Command::new("cat")
        .arg(&src)
        .stdout(Stdio::piped())
        .spawn()
        .unwrap();
    let dst = dir.join("copy-of-cat.txt");
    let n = io::copy(
        cat.stdout.as_mut().unwrap(),
        &mut std::fs::File::create(&dst).unwrap(),
    )
    .unwrap();
    cat.wait().unwrap();
    println!(
        "io::copy of `cat`'s stdout into a file: copied {n}, same content {}",
        std::fs::read(&dst).unwrap() == std::fs::read(&src).unwrap()
    );
    let n = io::copy(
        &mut std::fs::File::open(&src).unwrap(),
        &mut std::fs::File::create(dir.join("copy-of-file.txt")).unwrap(),
    )
    .unwrap();
    println!("io::copy of a file into a file: copied {n}");
    std::fs::remove_file(&src).unwrap();
}

fn broken_pipes(dir: &std::path::Path) {
    eprintln!("== broken pipes (reported on stderr)");
    // `head -c1` reads one byte and exits; our write then fails.
    let mut head = Command::new("head")
        .arg("-c1")
        .stdin(Stdio::piped())
        .stdout(Stdio::piped())
        .spawn()
        .unwrap();
    let mut stdin = head.stdin.take().unwrap();
    let chunk = vec![b'x'; 64 * 1024];
    let mut written = 0usize;
    let err = loop {
        match stdin.write(&chunk) {
            Ok(n) => written += n,
            Err(e) => break e,
        }
        assert!(written < 64 << 20, "head never went away");
    };
    drop(stdin);
    let out = head.wait_with_output().unwrap();
    eprintln!(
        "writing to `head -c1`: {:?} (errno {:?}); head printed {:?} and {}",
        err.kind(),
        err.raw_os_error(),
        String::from_utf8_lossy(&out.stdout),
        out.status
    );

    // A pipe of our own whose reader is gone.
    let (reader, mut writer) = io::pipe().unwrap();
    drop(reader);
    let e = writer.write(b"nobody reads this").unwrap_err();
    eprintln!(
        "writing to a pipe without a reader: {:?} (errno {:?})",
        e.kind(),
        e.raw_os_error()
    );

    children_with_a_closed_stdout(dir, &["println"]);
}

/// Runs a child of ourselves in each of `modes` whose stdout we close
/// after 100 bytes, and reports how it ended.
fn children_with_a_closed_stdout(dir: &std::path::Path, modes: &[&str]) {
    let me = std::env::current_exe().unwrap();
    for mode in modes {
        let mut c = Command::new(&me)
            .arg(dir)
            .arg("child")
            .arg(mode)
            .stdout(Stdio::piped())
            .stderr(Stdio::piped())
            .spawn()
            .unwrap();
        let mut first = [0u8; 100];
        let mut out = c.stdout.take().unwrap();
        out.read_exact(&mut first).unwrap();
        drop(out);
        let mut err = String::new();
        c.stderr.take().unwrap().read_to_string(&mut err).unwrap();
        let status = c.wait().unwrap();
        eprintln!(
            "child {mode}: read {:?}..., then {status} (code {:?}, signal {:?})",
            String::from_utf8_lossy(&first[..12]),
            status.code(),
            status.signal()
        );
        for l in err.lines() {
            // The panic message names the thread id and the path of std's
            // source: keep the file name and what follows it.
            let l = match l.split_once(") panicked at ") {
                Some((_, at)) => format!(
                    "  (a thread) panicked at .../{}",
                    at.rsplit('/').next().unwrap()
                ),
                None => format!("  {l}"),
            };
            eprintln!("{l}");
        }
    }
}

fn child(mode: &str) {
    match mode {
        // std ignores SIGPIPE: println! panics when the reader is gone.
        "println" => {
            for i in 0..1_000_000 {
                println!("line {i} of a child that prints until stopped");
            }
            eprintln!("the reader never went away");
        }
        "sigpipe-default" | "pipe-sigpipe-default" => {
            // SAFETY: signal takes a signal number and SIG_DFL; no handler
            // of ours is involved.
            unsafe { libc::signal(libc::SIGPIPE, libc::SIG_DFL) };
            if mode == "pipe-sigpipe-default" {
                // A pipe of our own without reader, written from a thread.
                let (reader, mut writer) = io::pipe().unwrap();
                print!("{}", "p".repeat(100));
                io::stdout().flush().unwrap();
                drop(reader);
                let r = std::thread::spawn(move || writer.write(b"x").map_err(|e| e.kind()))
                    .join()
                    .unwrap();
                eprintln!("survived a write to a pipe without reader: {r:?}");
                std::process::exit(0);
            }
            let out = io::stdout();
            let mut o = out.lock();
            for i in 0..1_000_000 {
                if let Err(e) = writeln!(o, "line {i} of a child that prints until stopped") {
                    eprintln!("survived SIGPIPE: {:?}", e.kind());
                    std::process::exit(0);
                }
            }
            eprintln!("the reader never went away");
        }
        other => panic!("unknown child mode {other}"),
    }
}

fn main() {
    let args: Vec<String> = std::env::args().skip(1).collect();
    match args.as_slice() {
        [_, c, mode] if c == "child" => child(mode),
        [dir, s] if s == "sigpipe" => {
            // Children that restore SIGPIPE's default action.
            let dir = std::path::Path::new(dir);
            children_with_a_closed_stdout(dir, &["sigpipe-default", "pipe-sigpipe-default"]);
        }
        [dir] => {
            let dir = std::path::Path::new(dir);
            read_stdin(dir);
            copies(dir);
            large_output();
            eprintln!("stderr: unbuffered, no newline yet...");
            eprint!("...");
            eprintln!(" and now one");
            broken_pipes(dir);
            println!("done");
        }
        _ => {
            eprintln!("usage: stdio DIR [sigpipe | child MODE]");
            std::process::exit(2);
        }
    }
}
