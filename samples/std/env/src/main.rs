//! `env DIR [ARGS...]`: std::env at work. Prints its arguments (non-UTF-8
//! ones too, as bytes), its whole environment (sorted), reads, sets and
//! removes variables (non-UTF-8 ones too), and changes its current
//! directory: absolute and relative, with files made through relative
//! paths. With ENV_SAMPLE_TRY_ARGS set it also calls env::args() (which
//! panics inside std on a non-UTF-8 argument), with ENV_SAMPLE_PROC_SELF
//! it prints what /proc/self says about the process. Nothing that varies
//! between runs is printed (the binary's path and DIR's are compared, not
//! shown), so the output is the same on XSC and natively when the
//! environment is.

use std::ffi::{OsStr, OsString};
use std::os::unix::ffi::{OsStrExt, OsStringExt};
use std::path::{Path, PathBuf};

/// An OsStr as text: UTF-8 as is, anything else as its bytes.
fn show(s: &OsStr) -> String {
    match s.to_str() {
        Some(t) => format!("{t:?}"),
        None => format!("non-UTF-8 {:?}", s.as_bytes()),
    }
}

fn args() {
    println!("== args");
    let all: Vec<OsString> = std::env::args_os().collect();
    println!("count (program and DIR included): {}", all.len());
    let argv0 = Path::new(&all[0]);
    println!("argv[0] file name: {}", show(argv0.file_name().unwrap()));
    for (i, a) in all.iter().enumerate().skip(2) {
        println!("arg {i}: {} ({} bytes)", show(a), a.len());
    }
    // env::args() panics on a non-UTF-8 argument, at a location inside
    // std (so the panic message names std's source path): only when asked.
    if std::env::var_os("ENV_SAMPLE_TRY_ARGS").is_some() {
        let utf8 = std::panic::catch_unwind(|| std::env::args().count());
        println!(
            "env::args() (which panics on non-UTF-8): {}",
            match utf8 {
                Ok(n) => format!("{n} arguments"),
                Err(_) => "panicked".to_string(),
            }
        );
    }
    let exe = std::env::current_exe().unwrap();
    println!(
        "current_exe: absolute {}, exists {}, file name {}",
        exe.is_absolute(),
        exe.is_file(),
        show(exe.file_name().unwrap())
    );
    let canon0 = std::fs::canonicalize(argv0).unwrap();
    println!(
        "current_exe is argv[0] canonicalized: {}",
        std::fs::canonicalize(&exe).unwrap() == canon0
    );
}

fn vars() {
    println!("== environment");
    let mut all: Vec<(OsString, OsString)> = std::env::vars_os().collect();
    all.sort();
    println!("{} variables:", all.len());
    for (k, v) in &all {
        println!("  {}={}", show(k), show(v));
    }
    for name in [
        "ENV_SAMPLE_GREETING",
        "ENV_SAMPLE_BYTES",
        "ENV_SAMPLE_UNSET",
    ] {
        println!(
            "var({name}): {:?}; var_os: {:?}",
            std::env::var(name),
            std::env::var_os(name).map(|v| show(&v))
        );
    }
    println!("home_dir: {:?}", std::env::home_dir());
    println!("temp_dir: {:?}", std::env::temp_dir());

    // set_var and remove_var are sound here: the program has a single
    // thread, so nothing reads the environment concurrently.
    std::env::set_var("ENV_SAMPLE_NEW", "made at run time");
    std::env::set_var("ENV_SAMPLE_GREETING", "overwritten");
    std::env::set_var(
        "ENV_SAMPLE_RAW",
        OsString::from_vec(b"raw \xff\xfe bytes".to_vec()),
    );
    std::env::remove_var("ENV_SAMPLE_BYTES");
    for name in [
        "ENV_SAMPLE_NEW",
        "ENV_SAMPLE_GREETING",
        "ENV_SAMPLE_RAW",
        "ENV_SAMPLE_BYTES",
    ] {
        println!(
            "after changes, {name}: {:?}",
            std::env::var_os(name).map(|v| show(&v))
        );
    }
    let n = std::env::vars_os().count();
    println!("now {n} variables");
    let paths: Vec<PathBuf> = std::env::split_paths("/usr/local/bin:/usr/bin::/bin").collect();
    println!("split_paths: {paths:?}");
    println!(
        "join_paths: {:?}; with a colon inside: {}",
        std::env::join_paths(["/a", "/b c"]).unwrap(),
        std::env::join_paths(["/a:b"]).is_err()
    );
    println!(
        "consts: {} {} {}",
        std::env::consts::OS,
        std::env::consts::FAMILY,
        std::env::consts::ARCH
    );
}

fn current_dir(dir: &Path) {
    println!("== current directory");
    let start = std::env::current_dir().unwrap();
    let canon_dir = std::fs::canonicalize(dir).unwrap();
    println!(
        "started in DIR: {}",
        std::fs::canonicalize(&start).unwrap() == canon_dir
    );
    std::env::set_current_dir(dir).unwrap();
    println!(
        "after set_current_dir(DIR), current_dir is DIR: {}",
        std::env::current_dir().unwrap() == canon_dir
    );
    std::fs::create_dir_all("nested/deeper").unwrap();
    std::env::set_current_dir("nested").unwrap();
    std::fs::write("made-in-nested.txt", "written through a relative path\n").unwrap();
    std::env::set_current_dir("deeper").unwrap();
    println!(
        "relative chdir twice, now DIR/nested/deeper: {}",
        std::env::current_dir().unwrap() == canon_dir.join("nested/deeper")
    );
    println!(
        "../made-in-nested.txt: {:?}",
        std::fs::read_to_string("../made-in-nested.txt").unwrap()
    );
    std::env::set_current_dir("../..").unwrap();
    println!(
        "back up with ../..: {}",
        std::env::current_dir().unwrap() == canon_dir
    );
    let e = std::env::set_current_dir("does-not-exist").unwrap_err();
    println!(
        "chdir to a missing directory: {:?} (errno {:?})",
        e.kind(),
        e.raw_os_error()
    );
    std::fs::write("plain-file", "").unwrap();
    let e = std::env::set_current_dir("plain-file").unwrap_err();
    println!(
        "chdir to a file: {:?} (errno {:?})",
        e.kind(),
        e.raw_os_error()
    );
    println!(
        "still in DIR: {}",
        std::env::current_dir().unwrap() == canon_dir
    );
    std::env::set_current_dir("/").unwrap();
    println!("chdir to /: {:?}", std::env::current_dir().unwrap());
    println!(
        "relative read from /: {:?}",
        std::fs::metadata("etc").map(|m| m.is_dir()).ok()
    );
}

/// What /proc says about this process: its command line, its name, the
/// name of the calling thread. Only when ENV_SAMPLE_PROC_SELF is set.
fn proc_self() {
    println!("== /proc/self");
    let cmdline = std::fs::read("/proc/self/cmdline").unwrap();
    let parts: Vec<&[u8]> = cmdline
        .strip_suffix(b"\0")
        .unwrap_or(&cmdline)
        .split(|&b| b == 0)
        .collect();
    println!(
        "cmdline: {} parts, the first's file name {}, then {:?}",
        parts.len(),
        show(Path::new(OsStr::from_bytes(parts[0])).file_name().unwrap()),
        parts[1..]
            .iter()
            .skip(1) // DIR
            .map(|p| show(OsStr::from_bytes(p)))
            .collect::<Vec<_>>()
    );
    let comm = |p: &str| std::fs::read_to_string(p).map(|s| s.trim_end().to_string());
    println!("comm: {:?}", comm("/proc/self/comm"));
    println!("thread-self comm: {:?}", comm("/proc/thread-self/comm"));
    let named = std::thread::Builder::new()
        .name("proc-reader".into())
        .spawn(move || comm("/proc/thread-self/comm"))
        .unwrap();
    println!(
        "thread-self comm of a thread named proc-reader: {:?}",
        named.join().unwrap()
    );
}

fn main() {
    let Some(dir) = std::env::args_os().nth(1) else {
        eprintln!("usage: env DIR [ARGS...]");
        std::process::exit(2);
    };
    args();
    vars();
    current_dir(Path::new(&dir));
    if std::env::var_os("ENV_SAMPLE_PROC_SELF").is_some() {
        proc_self();
    }
}
