//! The VM: qemu's command line, the program's three streams (one UNIX
//! socket each, which qemu connects to as the chardev of a virtio-serial
//! port), the console (qemu's stdout: kernel messages and the status line
//! of `/init`), the time limit and Ctrl-C.

use crate::{Failure, Options};
use std::collections::VecDeque;
use std::io::{BufRead, BufReader, Read, Write};
use std::net::Shutdown;
use std::os::unix::net::{UnixListener, UnixStream};
use std::os::unix::process::CommandExt;
use std::path::{Path, PathBuf};
use std::process::{Child, Command, Stdio};
use std::sync::atomic::{AtomicBool, AtomicI32, Ordering};
use std::sync::{Arc, Mutex};
use std::thread::JoinHandle;
use std::time::{Duration, Instant};

/// How many of the console's last lines a failure shows.
const CONSOLE_TAIL: usize = 30;

/// The signal that asked the runner to stop (SIGINT, SIGTERM, SIGHUP), or 0.
static STOP_SIGNAL: AtomicI32 = AtomicI32::new(0);

extern "C" fn on_signal(sig: libc::c_int) {
    STOP_SIGNAL.store(sig, Ordering::SeqCst);
}

fn catch_stop_signals() {
    for sig in [libc::SIGINT, libc::SIGTERM, libc::SIGHUP] {
        // SAFETY: the handler only stores to an atomic, which is
        // async-signal-safe; a zeroed sigaction with a handler and an empty
        // mask is a valid argument.
        unsafe {
            let mut sa: libc::sigaction = std::mem::zeroed();
            sa.sa_sigaction = on_signal as extern "C" fn(libc::c_int) as usize;
            libc::sigemptyset(&mut sa.sa_mask);
            libc::sigaction(sig, &sa, std::ptr::null_mut());
        }
    }
}

/// A scratch folder for the initramfs and the sockets, removed at the end.
struct Scratch(PathBuf);

impl Scratch {
    fn new() -> Result<Scratch, Failure> {
        let nanos = std::time::SystemTime::now()
            .duration_since(std::time::UNIX_EPOCH)
            .map_or(0, |d| d.subsec_nanos());
        let dir = std::env::temp_dir().join(format!("xsc-vm-{}-{nanos}", std::process::id()));
        std::fs::create_dir_all(&dir)
            .map_err(|e| Failure::new(125, format!("{}: {e}", dir.display())))?;
        Ok(Scratch(dir))
    }
}

impl Drop for Scratch {
    fn drop(&mut self) {
        let _ = std::fs::remove_dir_all(&self.0);
    }
}

/// A path in a qemu option value (a comma is written twice).
fn opt_path(p: &Path) -> String {
    p.display().to_string().replace(',', ",,")
}

/// Waits for qemu to connect to `listener`; None if `stop` is set first.
fn accept(listener: &UnixListener, stop: &AtomicBool) -> Option<UnixStream> {
    listener.set_nonblocking(true).ok()?;
    loop {
        match listener.accept() {
            Ok((s, _)) => {
                s.set_nonblocking(false).ok()?;
                return Some(s);
            }
            Err(e) if e.kind() == std::io::ErrorKind::WouldBlock => {
                if stop.load(Ordering::SeqCst) {
                    return None;
                }
                std::thread::sleep(Duration::from_millis(5));
            }
            Err(_) => return None,
        }
    }
}

/// Copies what the guest writes on a port to `out` until qemu closes it.
fn pump_out(
    listener: UnixListener,
    stop: Arc<AtomicBool>,
    mut out: impl Write + Send + 'static,
) -> JoinHandle<()> {
    std::thread::spawn(move || {
        let Some(mut s) = accept(&listener, &stop) else {
            return;
        };
        let mut buf = vec![0u8; 64 * 1024];
        loop {
            match s.read(&mut buf) {
                Ok(0) | Err(_) => break,
                Ok(n) => {
                    // A closed stdout (EPIPE) does not stop the drain.
                    let _ = out.write_all(&buf[..n]);
                    let _ = out.flush();
                }
            }
        }
    })
}

/// Copies the runner's stdin to the guest's; at its end, shuts the
/// socket's write side (the guest reads end of file; closing it would make
/// qemu drop what it has not yet read).
fn pump_in(listener: UnixListener, stop: Arc<AtomicBool>) {
    std::thread::spawn(move || {
        let Some(mut s) = accept(&listener, &stop) else {
            return;
        };
        let mut stdin = std::io::stdin().lock();
        let mut buf = vec![0u8; 64 * 1024];
        loop {
            match stdin.read(&mut buf) {
                Ok(0) | Err(_) => break,
                Ok(n) => {
                    if s.write_all(&buf[..n]).is_err() {
                        break;
                    }
                }
            }
        }
        let _ = s.shutdown(Shutdown::Write);
        // Held open until the runner exits.
        std::mem::forget(s);
    });
}

/// What the console said: the status line of /init, and its last lines.
#[derive(Default)]
struct Console {
    status: Option<String>,
    tail: VecDeque<String>,
    panicked: bool,
}

fn read_console(
    out: impl Read + Send + 'static,
    echo: bool,
    into: Arc<Mutex<Console>>,
) -> JoinHandle<()> {
    std::thread::spawn(move || {
        for line in BufReader::new(out).split(b'\n') {
            let Ok(line) = line else { break };
            let line = String::from_utf8_lossy(&line)
                .trim_end_matches('\r')
                .to_string();
            if echo {
                eprintln!("{line}");
            }
            let mut c = into.lock().unwrap_or_else(|p| p.into_inner());
            if let Some(s) = line.strip_prefix("xsc-vm: ") {
                if s.starts_with("status ") || s.starts_with("error ") {
                    c.status = Some(s.to_string());
                }
            }
            if line.contains("Kernel panic") {
                c.panicked = true;
            }
            c.tail.push_back(line);
            if c.tail.len() > CONSOLE_TAIL {
                c.tail.pop_front();
            }
        }
    })
}

fn qemu_command(opts: &Options, kernel: &Path, initrd: &Path, cwd: &Path, dir: &Path) -> Command {
    let mut c = Command::new("qemu-system-x86_64");
    let cpus = opts.cpus.max(1);
    c.args([
        "-nodefaults",
        "-no-user-config",
        "-display",
        "none",
        "-no-reboot",
    ])
    .arg("-m")
    .arg(opts.memory.to_string())
    // One socket per CPU: the guest's tinyconfig kernel has no ACPI and
    // finds further CPUs in the MP table.
    .arg("-smp")
    .arg(format!("{cpus},sockets={cpus},cores=1,threads=1"))
    .arg("-kernel")
    .arg(kernel)
    .arg("-initrd")
    .arg(initrd)
    // tsc=reliable keeps the TSC clocksource with several sockets.
    .args(["-append", "console=ttyS0 panic=-1 quiet tsc=reliable"])
    .args(["-serial", "stdio"])
    .arg("-fsdev")
    .arg(format!(
        "local,id=fs0,path={},security_model=none",
        opt_path(cwd)
    ))
    .args(["-device", "virtio-9p-pci,fsdev=fs0,mount_tag=xsc"])
    .args(["-device", "virtio-serial-pci,id=vs"]);
    for name in ["stdin", "stdout", "stderr"] {
        c.arg("-chardev")
            .arg(format!(
                "socket,id={name},path={}",
                opt_path(&dir.join(name))
            ))
            .arg("-device")
            .arg(format!(
                "virtserialport,bus=vs.0,chardev={name},name=xsc.{name}"
            ));
    }
    c.args(&opts.qemu_arg);
    if opts.accel == "kvm" {
        c.args(["-enable-kvm", "-cpu", "host"]);
    } else {
        c.args(["-cpu", "max"]);
    }
    c
}

fn spawn(mut c: Command) -> Result<Child, Failure> {
    c.stdin(Stdio::null())
        .stdout(Stdio::piped())
        .stderr(Stdio::piped())
        // Its own process group: Ctrl-C reaches the runner, which stops it.
        .process_group(0);
    // SAFETY: between fork and exec the closure only calls prctl, which is
    // async-signal-safe; qemu then dies with the runner, even by SIGKILL.
    unsafe {
        c.pre_exec(|| {
            libc::prctl(libc::PR_SET_PDEATHSIG, libc::SIGKILL);
            Ok(())
        });
    }
    c.spawn().map_err(|e| {
        Failure::new(
            125,
            format!("cannot start qemu-system-x86_64: {e} (`cargo xsc setup` installs the Debian package qemu-system-x86)"),
        )
    })
}

/// Boots the VM, streams the program's I/O, returns its exit status as
/// the runner's.
pub fn run(opts: &Options, kernel: &Path, initrd: Vec<u8>, cwd: &Path) -> Result<u8, Failure> {
    catch_stop_signals();
    let scratch = Scratch::new()?;
    let dir = scratch.0.clone();
    let initrd_path = dir.join("initrd.cpio");
    std::fs::write(&initrd_path, initrd)
        .map_err(|e| Failure::new(125, format!("{}: {e}", initrd_path.display())))?;
    let listen = |name: &str| {
        UnixListener::bind(dir.join(name))
            .map_err(|e| Failure::new(125, format!("{}: {e}", dir.join(name).display())))
    };
    let (lin, lout, lerr) = (listen("stdin")?, listen("stdout")?, listen("stderr")?);
    let mut child = spawn(qemu_command(opts, kernel, &initrd_path, cwd, &dir))?;
    let stop = Arc::new(AtomicBool::new(false));
    pump_in(lin, stop.clone());
    let out = pump_out(lout, stop.clone(), std::io::stdout());
    let err = pump_out(lerr, stop.clone(), std::io::stderr());
    let console = Arc::new(Mutex::new(Console::default()));
    let con = read_console(
        child.stdout.take().expect("qemu's stdout is piped"),
        opts.console,
        console.clone(),
    );
    let mut qemu_err = child.stderr.take().expect("qemu's stderr is piped");
    let qemu_err = std::thread::spawn(move || {
        let mut s = String::new();
        let _ = qemu_err.read_to_string(&mut s);
        s
    });
    let start = Instant::now();
    let limit = opts.timeout.map(Duration::from_secs_f64);
    let mut timed_out = false;
    let mut interrupted = 0;
    loop {
        if let Ok(Some(_)) = child.try_wait() {
            break;
        }
        let sig = STOP_SIGNAL.load(Ordering::SeqCst);
        if sig != 0 || limit.is_some_and(|l| start.elapsed() > l) {
            timed_out = sig == 0;
            interrupted = sig;
            let _ = child.kill();
            let _ = child.wait();
            break;
        }
        std::thread::sleep(Duration::from_millis(10));
    }
    stop.store(true, Ordering::SeqCst);
    let _ = con.join();
    let _ = out.join();
    let _ = err.join();
    let qemu_err = qemu_err.join().unwrap_or_default();
    let console = console.lock().unwrap_or_else(|p| p.into_inner());
    let tail = || console.tail.iter().cloned().collect::<Vec<_>>().join("\n");
    if interrupted != 0 {
        return Err(Failure::new(
            (128 + interrupted) as u8,
            format!("interrupted (signal {interrupted}): the VM was stopped"),
        ));
    }
    if timed_out {
        return Err(Failure::new(
            124,
            format!(
                "{} did not finish within {} s (--timeout): the VM was stopped",
                opts.program.display(),
                opts.timeout.unwrap_or(0.0)
            ),
        ));
    }
    match console.status.as_deref() {
        Some(s) if s.starts_with("status exit ") => s["status exit ".len()..]
            .trim()
            .parse::<u8>()
            .map_err(|_| Failure::new(125, format!("the guest reported a bad status: {s}"))),
        Some(s) if s.starts_with("status signal ") => s["status signal ".len()..]
            .trim()
            .parse::<u8>()
            .map(|n| 128u8.saturating_add(n))
            .map_err(|_| Failure::new(125, format!("the guest reported a bad status: {s}"))),
        Some(s) => Err(Failure::new(
            125,
            format!("the VM's /init failed: {}", s.trim_start_matches("error ")),
        )),
        None if console.panicked => Err(Failure::new(
            125,
            format!(
                "the guest kernel panicked while running {}; the console's last lines:\n{}",
                opts.program.display(),
                tail()
            ),
        )),
        None => Err(Failure::new(
            125,
            format!(
                "the VM ended without reporting how {} ended{}; the console's last lines:\n{}",
                opts.program.display(),
                if qemu_err.trim().is_empty() {
                    String::new()
                } else {
                    format!(" (qemu: {})", qemu_err.trim())
                },
                tail()
            ),
        )),
    }
}
