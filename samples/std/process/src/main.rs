//! `process DIR`: std::process at work. It runs children of two kinds:
//! itself again (`std::env::current_exe()` with a child mode: on XSC, an
//! XSC child, itself run through xsc-run) and native programs (`/bin/sh
//! -c`, `tr`, `wc`). It talks to them through stdin/stdout/stderr pipes,
//! chains two of them, collects exit codes and terminating signals, kills
//! and waits, sets their environment and working directory, and spawns
//! through both of std's paths (posix_spawn, and fork/exec when a pre_exec
//! hook is set), in process groups of their own and with other
//! credentials, and replaces a child's program with `CommandExt::exec`. No pid, path or time is printed, so the output is the same
//! on XSC and natively. Children write a few files in DIR.
//!
//! `process DIR child MODE [ARGS...]` is the child side.
//! `process DIR exec-dir` tries to spawn a directory (kept apart: see the
//! differential tests).

use std::io::{Read, Write};
use std::os::unix::process::{CommandExt, ExitStatusExt};
use std::path::{Path, PathBuf};
use std::process::{Child, Command, ExitStatus, Stdio};
use std::thread;
use std::time::Duration;

fn me() -> PathBuf {
    std::env::current_exe().unwrap()
}

/// A child of ourselves in MODE.
fn child(dir: &Path, mode: &str) -> Command {
    let mut c = Command::new(me());
    c.arg(dir).arg("child").arg(mode);
    c
}

fn status(s: ExitStatus) -> String {
    format!(
        "{s} (code {:?}, signal {:?}, success {})",
        s.code(),
        s.signal(),
        s.success()
    )
}

fn text(b: &[u8]) -> String {
    String::from_utf8_lossy(b).into_owned()
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

fn pipes_with_an_xsc_child(dir: &Path) {
    println!("== a child of ourselves, through pipes");
    let mut c = child(dir, "echo")
        .stdin(Stdio::piped())
        .stdout(Stdio::piped())
        .stderr(Stdio::piped())
        .spawn()
        .unwrap();
    let mut stdin = c.stdin.take().unwrap();
    stdin.write_all(b"hello child\nsecond line\n").unwrap();
    drop(stdin);
    let out = c.wait_with_output().unwrap();
    println!("stdout: {:?}", text(&out.stdout));
    println!("stderr: {:?}", text(&out.stderr));
    println!("status: {}", status(out.status));

    // 256 KiB on each of stdout and stderr at once, a line per write: output() reads both.
    let out = child(dir, "flood").stdin(Stdio::null()).output().unwrap();
    let lines = |b: &[u8]| text(b).lines().count();
    println!(
        "flood: stdout {} bytes {} lines, stderr {} bytes {} lines, {}",
        out.stdout.len(),
        lines(&out.stdout),
        out.stderr.len(),
        lines(&out.stderr),
        status(out.status)
    );

    let mut c = child(dir, "pid")
        .arg(std::process::id().to_string())
        .stdout(Stdio::piped())
        .spawn()
        .unwrap();
    let id = c.id();
    let mut s = String::new();
    c.stdout.take().unwrap().read_to_string(&mut s).unwrap();
    c.wait().unwrap();
    println!(
        "the child's process::id() is Child::id(): {}; its parent_id() is our process::id(): {}",
        s.contains(&format!("pid {id} ")),
        s.contains(" parent matches true")
    );

    let out = child(dir, "stdin-null")
        .stdin(Stdio::null())
        .output()
        .unwrap();
    println!("a child with stdin null: {:?}", text(&out.stdout));
}

fn exit_codes(dir: &Path) {
    println!("== exit codes and signals of children");
    for code in ["0", "1", "42", "255"] {
        let s = child(dir, "exit").arg(code).status().unwrap();
        println!("exit {code}: {}", status(s));
    }
    let out = child(dir, "main-err").output().unwrap();
    println!(
        "main returns Err: {}, stderr {:?}",
        status(out.status),
        text(&out.stderr)
    );
    let out = child(dir, "abort").output().unwrap();
    println!(
        "abort: {}, stderr {:?}",
        status(out.status),
        text(&out.stderr)
    );
    let out = child(dir, "raise-term").output().unwrap();
    println!(
        "kill(getpid(), SIGTERM): {}, stdout {:?}",
        status(out.status),
        text(&out.stdout)
    );
    for (what, script) in [
        ("exit 7", "exit 7"),
        ("kill -TERM $$", "kill -TERM $$"),
        ("kill -KILL $$", "kill -KILL $$"),
        ("kill -USR1 $$", "kill -USR1 $$"),
    ] {
        let s = Command::new("/bin/sh")
            .args(["-c", script])
            .status()
            .unwrap();
        println!("sh -c {what:?}: {}", status(s));
    }
}

fn kill_and_wait(dir: &Path) {
    println!("== kill and wait");
    let mut c = child(dir, "sleep").stdout(Stdio::piped()).spawn().unwrap();
    let mut ready = [0u8; 6];
    c.stdout.as_mut().unwrap().read_exact(&mut ready).unwrap();
    println!("child says {:?}", text(&ready));
    println!("try_wait while it sleeps: {:?}", c.try_wait().unwrap());
    c.kill().unwrap();
    println!("wait after kill: {}", status(c.wait().unwrap()));
    println!(
        "try_wait after wait: {:?}",
        c.try_wait().unwrap().map(status)
    );
    println!(
        "kill after it was reaped: {:?}",
        c.kill().map_err(|e| e.kind())
    );

    // SIGTERM from us with libc::kill.
    let mut c = child(dir, "sleep").stdout(Stdio::piped()).spawn().unwrap();
    c.stdout.as_mut().unwrap().read_exact(&mut ready).unwrap();
    // SAFETY: kill takes plain integers; the child is ours and not yet
    // reaped, so its pid names it.
    let r = unsafe { libc::kill(c.id() as libc::pid_t, libc::SIGTERM) };
    println!("kill(child, SIGTERM) = {r}: {}", status(c.wait().unwrap()));

    // A native child killed while it sleeps.
    let mut c = Command::new("/bin/sh")
        .args(["-c", "echo ready; exec sleep 30"])
        .stdout(Stdio::piped())
        .spawn()
        .unwrap();
    c.stdout.as_mut().unwrap().read_exact(&mut ready).unwrap();
    c.kill().unwrap();
    println!("native sleeper killed: {}", status(c.wait().unwrap()));

    // Several children at once, waited for in reverse order.
    let mut kids: Vec<Child> = (0..4)
        .map(|i| {
            child(dir, "exit")
                .arg((10 + i).to_string())
                .spawn()
                .unwrap()
        })
        .collect();
    let codes: Vec<Option<i32>> = kids
        .iter_mut()
        .rev()
        .map(|k| k.wait().unwrap().code())
        .collect();
    println!("four children, waited in reverse: {codes:?}");
}

fn native_children(dir: &Path) {
    println!("== native children");
    let out = Command::new("/bin/sh")
        .args([
            "-c",
            "echo \"sh says $0 $1 $GREETING\"; echo to-stderr >&2; exit 7",
            "sh-name",
            "first arg",
        ])
        .env("GREETING", "hi there")
        .output()
        .unwrap();
    println!(
        "sh: stdout {:?} stderr {:?} {}",
        text(&out.stdout),
        text(&out.stderr),
        status(out.status)
    );

    // 1 MiB through `tr`, written and read at the same time.
    let mut c = Command::new("tr")
        .arg("a-z")
        .arg("A-Z")
        .stdin(Stdio::piped())
        .stdout(Stdio::piped())
        .spawn()
        .unwrap();
    let mut stdin = c.stdin.take().unwrap();
    let writer = thread::spawn(move || {
        let line = b"the quick brown fox jumps over the lazy dog\n";
        let block: Vec<u8> = line
            .iter()
            .copied()
            .cycle()
            .take(line.len() * 1489)
            .collect();
        let mut n = 0;
        while n < 1 << 20 {
            stdin.write_all(&block).unwrap();
            n += block.len();
        }
        n
    });
    let mut out = String::new();
    c.stdout.take().unwrap().read_to_string(&mut out).unwrap();
    let sent = writer.join().unwrap();
    println!(
        "tr: sent {sent}, got {} bytes, all upper case: {}, {}",
        out.len(),
        out.lines()
            .all(|l| l == "THE QUICK BROWN FOX JUMPS OVER THE LAZY DOG"),
        status(c.wait().unwrap())
    );

    // A pipeline: our child's stdout into `wc -l`.
    let mut producer = child(dir, "lines")
        .arg("1000")
        .stdout(Stdio::piped())
        .spawn()
        .unwrap();
    let wc = Command::new("wc")
        .arg("-l")
        .stdin(Stdio::from(producer.stdout.take().unwrap()))
        .output()
        .unwrap();
    println!(
        "ours | wc -l: {:?}, producer {}",
        text(&wc.stdout).trim(),
        status(producer.wait().unwrap())
    );

    let e = Command::new("/nonexistent/program").spawn().unwrap_err();
    println!("spawn a missing program: {:?}", e.kind());
    let plain = dir.join("not-executable.sh");
    std::fs::write(&plain, "#!/bin/sh\necho should not run\n").unwrap();
    let e = Command::new(&plain).spawn().unwrap_err();
    println!("spawn a file without execute permission: {:?}", e.kind());
}

fn environment_and_directory(dir: &Path) {
    println!("== environment and working directory of children");
    let out = child(dir, "env")
        .env_clear()
        .env("ONLY_VAR", "the only one")
        .env("SECOND_VAR", "another")
        .output()
        .unwrap();
    println!("ours with env_clear: {:?}", text(&out.stdout));
    let out = child(dir, "env")
        .env_remove("PATH")
        .env("ADDED", "yes")
        .output()
        .unwrap();
    let t = text(&out.stdout);
    println!(
        "ours with PATH removed: has PATH {}, has ADDED {}",
        t.lines().any(|l| l.starts_with("PATH=")),
        t.lines().any(|l| l == "ADDED=yes")
    );
    let out = Command::new("/bin/sh")
        .args(["-c", "echo \"[$ONLY_VAR]\""])
        .env_clear()
        .env("ONLY_VAR", "x y")
        .output()
        .unwrap();
    println!("sh with env_clear: {:?}", text(&out.stdout));

    let sub = dir.join("work");
    std::fs::create_dir_all(&sub).unwrap();
    let s = child(dir, "write-here")
        .arg("from-our-child.txt")
        .current_dir(&sub)
        .status()
        .unwrap();
    println!("ours in DIR/work: {}", status(s));
    let s = Command::new("/bin/sh")
        .args(["-c", "echo written by sh > from-sh.txt"])
        .current_dir(&sub)
        .status()
        .unwrap();
    println!("sh in DIR/work: {}", status(s));
    let mut names: Vec<String> = std::fs::read_dir(&sub)
        .unwrap()
        .map(|e| e.unwrap().file_name().to_string_lossy().into_owned())
        .collect();
    names.sort();
    println!("DIR/work now holds {names:?}");
    let e = child(dir, "exit")
        .arg("0")
        .current_dir(dir.join("missing"))
        .spawn()
        .unwrap_err();
    println!("current_dir that does not exist: {:?}", e.kind());

    // pre_exec makes std fork and exec instead of posix_spawn.
    let mut c = child(dir, "echo");
    // SAFETY: the hook runs in the forked child before exec and only
    // calls async-signal-safe functions (none at all here).
    unsafe {
        c.pre_exec(|| Ok(()));
    }
    let out = c
        .stdin(Stdio::piped())
        .stdout(Stdio::piped())
        .stderr(Stdio::piped())
        .spawn()
        .and_then(|mut c| {
            c.stdin
                .take()
                .unwrap()
                .write_all(b"through fork and exec\n")?;
            c.wait_with_output()
        })
        .unwrap();
    println!(
        "ours through pre_exec: {:?} {}",
        text(&out.stdout),
        status(out.status)
    );
    let out = Command::new("/bin/sh")
        .args(["-c", "echo \"argv0 is $0\""])
        .arg0("renamed-shell")
        .output()
        .unwrap();
    println!("sh with arg0: {:?}", text(&out.stdout));
}

fn inherit_and_exec(dir: &Path) {
    println!("== inherited stdio, exec");
    // The child writes to our own stdout and stderr.
    let s = child(dir, "lines").arg("3").status().unwrap();
    println!("a child that inherited our stdout: {}", status(s));
    // CommandExt::exec replaces the child's program: ours by ours again,
    // ours by sh, and a failing exec returns its error.
    for target in ["ours", "sh", "missing"] {
        let out = child(dir, "exec").arg(target).output().unwrap();
        println!(
            "exec {target}: stdout {:?} stderr {:?} {}",
            text(&out.stdout),
            text(&out.stderr),
            status(out.status)
        );
    }
}

fn groups_and_credentials(dir: &Path) {
    println!("== process groups and credentials");
    // A shell in a process group of its own, with a background job: a
    // signal to the group reaches both.
    let mut c = Command::new("/bin/sh");
    c.args(["-c", "sleep 30 & echo ready; wait"])
        .process_group(0)
        .stdout(Stdio::piped());
    let mut c = c.spawn().unwrap();
    let mut ready = [0u8; 6];
    c.stdout.as_mut().unwrap().read_exact(&mut ready).unwrap();
    // SAFETY: getpgid and kill take plain integers.
    let own = unsafe { libc::getpgid(c.id() as libc::pid_t) } == c.id() as libc::pid_t;
    // SAFETY: as above; the group is the child's own.
    let r = unsafe { libc::kill(-(c.id() as libc::pid_t), libc::SIGTERM) };
    println!(
        "sh in its own group {own}, kill(-group, SIGTERM) = {r}: {}",
        status(c.wait().unwrap())
    );
    let mut c = child(dir, "sleep")
        .process_group(0)
        .stdout(Stdio::piped())
        .spawn()
        .unwrap();
    c.stdout.as_mut().unwrap().read_exact(&mut ready).unwrap();
    // SAFETY: getpgid and kill take plain integers.
    let own = unsafe { libc::getpgid(c.id() as libc::pid_t) } == c.id() as libc::pid_t;
    // SAFETY: as above; the group is the child's own.
    let r = unsafe { libc::kill(-(c.id() as libc::pid_t), libc::SIGTERM) };
    println!(
        "ours in its own group {own}, kill(-group, SIGTERM) = {r}: {}",
        status(c.wait().unwrap())
    );

    // Children with other credentials (this needs root; without it, both
    // runs fail the same way).
    let private = dir.join("private");
    std::fs::create_dir_all(&private).unwrap();
    use std::os::unix::fs::PermissionsExt;
    std::fs::set_permissions(&private, std::fs::Permissions::from_mode(0o700)).unwrap();
    let out = Command::new("id").uid(65534).gid(65534).output();
    println!(
        "id as 65534: {:?}",
        out.map(|o| text(&o.stdout)).map_err(|e| e.kind())
    );
    let out = child(dir, "ids").uid(65534).gid(65534).output();
    println!(
        "ours as 65534: {:?}",
        out.map(|o| (text(&o.stdout), o.status.code()))
            .map_err(|e| e.kind())
    );
}

/// Spawns a directory.
fn exec_dir(dir: &Path) {
    let e = Command::new(dir).spawn().unwrap_err();
    println!("spawn a directory: {:?}", e.kind());
    let e = Command::new(dir).arg("x").status().unwrap_err();
    println!("status() of a directory: {:?}", e.kind());
}

/// Spawns a copy of ourselves that lacks the execute permission.
fn noexec(dir: &Path) {
    let copy = dir.join("copy-without-x");
    std::fs::copy(me(), &copy).unwrap();
    use std::os::unix::fs::PermissionsExt;
    std::fs::set_permissions(&copy, std::fs::Permissions::from_mode(0o644)).unwrap();
    let r = Command::new(&copy)
        .arg(dir)
        .arg("child")
        .arg("exit")
        .arg("5")
        .status();
    println!(
        "spawn a copy of ourselves without execute permission: {:?}",
        r.map(status).map_err(|e| e.kind())
    );
    std::fs::remove_file(&copy).unwrap();
}

fn child_main(mode: &str, rest: &[String]) -> Result<(), std::io::Error> {
    match mode {
        "echo" => {
            let mut input = String::new();
            std::io::stdin().read_to_string(&mut input)?;
            print!("{}", input.to_uppercase());
            eprintln!("child read {} bytes", input.len());
            std::process::exit(3);
        }
        "flood" => {
            let out = std::io::stdout();
            let err = std::io::stderr();
            let (mut o, mut e) = (out.lock(), err.lock());
            for i in 0..1024 {
                writeln!(o, "stdout line {i:05} {}", "o".repeat(236))?;
                writeln!(e, "stderr line {i:05} {}", "e".repeat(236))?;
            }
        }
        "pid" => println!(
            "pid {} parent matches {}",
            std::process::id(),
            std::os::unix::process::parent_id().to_string() == rest[0]
        ),
        "stdin-null" => {
            let mut v = Vec::new();
            let n = std::io::stdin().read_to_end(&mut v)?;
            println!("read {n} bytes from stdin");
        }
        "exit" => std::process::exit(rest[0].parse().unwrap()),
        "main-err" => {
            return Err(std::io::Error::other("the child's main failed"));
        }
        "abort" => {
            eprintln!("about to abort");
            std::process::abort();
        }
        "raise-term" => {
            println!("raising SIGTERM");
            std::io::stdout().flush()?;
            // SAFETY: kill and getpid take and return plain integers.
            unsafe { libc::kill(libc::getpid(), libc::SIGTERM) };
            thread::sleep(Duration::from_secs(5));
            println!("still alive after SIGTERM");
        }
        "sleep" => {
            print!("ready\n");
            std::io::stdout().flush()?;
            thread::sleep(Duration::from_secs(30));
            println!("woke up, which should not happen");
        }
        "lines" => {
            for i in 0..rest[0].parse::<u32>().unwrap() {
                println!("line {i}");
            }
        }
        "env" => {
            let mut v: Vec<String> = std::env::vars().map(|(k, v)| format!("{k}={v}")).collect();
            v.sort();
            for l in v {
                println!("{l}");
            }
        }
        "exec" => {
            let dir = std::env::args_os().nth(1).unwrap();
            let e = match rest[0].as_str() {
                "ours" => Command::new(me())
                    .arg(&dir)
                    .args(["child", "exit", "9"])
                    .exec(),
                "sh" => Command::new("/bin/sh")
                    .args(["-c", "echo sh replaced $0; exit 4", "the-child"])
                    .exec(),
                _ => Command::new("/nonexistent/program").exec(),
            };
            eprintln!("exec failed: {:?}", e.kind());
            std::process::exit(1);
        }
        "ids" => {
            // SAFETY: the get*id functions take nothing and cannot fail.
            let ids = unsafe {
                (
                    libc::getuid(),
                    libc::geteuid(),
                    libc::getgid(),
                    libc::getegid(),
                )
            };
            println!("uid {} euid {} gid {} egid {}", ids.0, ids.1, ids.2, ids.3);
            let dir = Path::new(std::env::args_os().nth(1).as_deref().unwrap()).join("private");
            let r = std::fs::write(dir.join("from-nobody.txt"), "x");
            println!(
                "write into DIR/private (0700): {:?}",
                r.map_err(|e| e.kind())
            );
        }
        "write-here" => std::fs::write(&rest[0], "written by our child\n")?,
        other => panic!("unknown child mode {other}"),
    }
    Ok(())
}

fn main() -> Result<(), std::io::Error> {
    let args: Vec<String> = std::env::args().skip(1).collect();
    let (dir, rest) = match args.split_first() {
        Some(x) => x,
        None => {
            eprintln!("usage: process DIR [child MODE ARGS... | exec-dir]");
            std::process::exit(2);
        }
    };
    let dir = Path::new(dir);
    match rest {
        [c, mode, rest @ ..] if c == "child" => return child_main(mode, rest),
        [m] if m == "exec-dir" => {
            exec_dir(dir);
            return Ok(());
        }
        _ => {}
    }
    no_core_dumps();
    pipes_with_an_xsc_child(dir);
    exit_codes(dir);
    kill_and_wait(dir);
    native_children(dir);
    environment_and_directory(dir);
    inherit_and_exec(dir);
    groups_and_credentials(dir);
    noexec(dir);
    Ok(())
}
