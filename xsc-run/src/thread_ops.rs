//! Thread-context operations (ABI §6.2), performed in the calling thread:
//! thread creation, thread exit, fork, execve, the thread pointer, the
//! thread id, and the calls acting on the thread's own signal state,
//! credentials or scheduling, which pass straight to the host kernel from
//! this thread.

use crate::arch::nr;
use crate::arch::{self, CallerFrame, ChildStart};
use crate::memory;
use crate::process::PROCESS;
use crate::sys::{self, raw_syscall};
use crate::thread::{self, HostEnd, KernelThread};
use crate::{config, exec_probe, loader, trace};
use std::ffi::CString;
use std::os::fd::AsRawFd;
use std::sync::atomic::Ordering;
use xsc_abi::SubmissionEntry;

const CLONE_VM: u64 = libc::CLONE_VM as u64;
const CLONE_SIGHAND: u64 = libc::CLONE_SIGHAND as u64;
const CLONE_THREAD: u64 = libc::CLONE_THREAD as u64;
const CLONE_SETTLS: u64 = libc::CLONE_SETTLS as u64;
const CLONE_PARENT_SETTID: u64 = libc::CLONE_PARENT_SETTID as u64;
const CLONE_CHILD_CLEARTID: u64 = libc::CLONE_CHILD_CLEARTID as u64;
const CLONE_CHILD_SETTID: u64 = libc::CLONE_CHILD_SETTID as u64;
const CSIGNAL: u64 = libc::CSIGNAL as u64;

fn err(e: i32) -> i64 {
    -(e as i64)
}

/// Executes a thread-context operation for the thread `kt`.
pub fn execute(kt: *mut KernelThread, sqe: &SubmissionEntry, frame: *const CallerFrame) -> i64 {
    let a = sqe.args;
    // SAFETY: kt is the calling thread's own live state.
    let k = unsafe { &*kt };
    if served_by_runner(sqe) {
        let tid = k.tid.load(Ordering::Relaxed);
        if let Some(r) = crate::filters::enforce(&k.filters, tid, sqe.opcode, a) {
            return r;
        }
    }
    match sqe.opcode {
        nr::CLONE => clone(kt, a, frame),
        op if arch::FORK_OPS.contains(&op) => fork(kt, frame, None, 0, 0),
        nr::EXIT => {
            trace::noreturn(k, sqe);
            exit_thread(kt, a[0] as i32)
        }
        nr::EXECVE => {
            trace::noreturn(k, sqe);
            execve(k, sqe, libc::AT_FDCWD, a[0], a[1], a[2], 0)
        }
        nr::EXECVEAT => {
            trace::noreturn(k, sqe);
            execve(k, sqe, a[0] as i32, a[1], a[2], a[3], a[4] as i32)
        }
        nr::CLONE3 => err(libc::ENOSYS),
        #[cfg(target_arch = "x86_64")]
        nr::ARCH_PRCTL => arch::arch_prctl(kt, a[0], a[1]),
        nr::SET_TID_ADDRESS => {
            k.clear_child_tid.store(a[0], Ordering::Release);
            k.tid.load(Ordering::Relaxed) as i64
        }
        nr::GETTID => k.tid.load(Ordering::Relaxed) as i64,
        // Only the kernel's trampoline may return from a signal handler.
        nr::RT_SIGRETURN => err(libc::EINVAL),
        // The trap guard belongs to the kernel side.
        nr::PRCTL if a[0] == thread::PR_SET_SYSCALL_USER_DISPATCH as u64 => err(libc::EPERM),
        nr::RT_SIGPROCMASK => {
            let r = raw_syscall(nr::RT_SIGPROCMASK, a);
            // Only a call that succeeded with a new set changed the mask.
            if r == 0 && a[1] != 0 {
                k.note_signal_mask(sys::current_signal_mask());
            }
            r
        }
        // A filter the kernel side must know of (crate::filters).
        nr::SECCOMP | nr::PRCTL => {
            let r = raw_syscall(sqe.opcode, a);
            crate::filters::note_install(&k.filters, sqe.opcode, a, r);
            r
        }
        op => raw_syscall(op, a),
    }
}

/// The thread-context operations the host never sees as the program made
/// them: the seccomp filters must judge them here (crate::filters::enforce).
fn served_by_runner(sqe: &SubmissionEntry) -> bool {
    let a0 = sqe.args[0];
    match sqe.opcode {
        nr::CLONE | nr::EXECVE | nr::EXECVEAT | nr::CLONE3 | nr::EXIT => true,
        op if arch::FORK_OPS.contains(&op) => true,
        nr::SET_TID_ADDRESS | nr::GETTID | nr::RT_SIGRETURN => true,
        #[cfg(target_arch = "x86_64")]
        nr::ARCH_PRCTL => arch::arch_prctl_is_kernel_side(a0),
        nr::PRCTL => a0 == thread::PR_SET_SYSCALL_USER_DISPATCH as u64,
        _ => false,
    }
}

fn clone(kt: *mut KernelThread, a: [u64; 6], frame: *const CallerFrame) -> i64 {
    let (flags, stack, ptid) = (a[0], a[1], a[2]);
    let (ctid, tls) = (a[nr::CLONE_CHILD_TID_ARG], a[nr::CLONE_TLS_ARG]);
    if flags & CLONE_THREAD != 0 {
        if flags & (CLONE_VM | CLONE_SIGHAND) != CLONE_VM | CLONE_SIGHAND
            || stack == 0
            || (arch::CLONE_NEEDS_SETTLS && flags & CLONE_SETTLS == 0)
        {
            return err(libc::EINVAL);
        }
        return clone_thread(kt, flags, stack, ptid, ctid, tls, frame);
    }
    // A new process. With CLONE_VM (vfork-style, as posix_spawn uses) the
    // child still gets a copy of the address space: its kernel side cannot
    // live in the parent's process.
    if flags & CSIGNAL != libc::SIGCHLD as u64 {
        return err(libc::EINVAL);
    }
    let stack = if stack != 0 { Some(stack) } else { None };
    let r = fork(kt, frame, stack, flags, ctid);
    if r > 0 && flags & CLONE_PARENT_SETTID != 0 {
        let _ = memory::write_struct(ptid, &(r as u32));
    }
    r
}

#[allow(clippy::too_many_arguments)]
fn clone_thread(
    kt: *mut KernelThread,
    flags: u64,
    stack: u64,
    ptid: u64,
    ctid: u64,
    tls: u64,
    frame: *const CallerFrame,
) -> i64 {
    // SAFETY: the caller's own state and its saved registers.
    let (parent, frame) = unsafe { (&*kt, *frame) };
    let table = crate::entry::entry_table() as *const _ as u64;
    let child = match KernelThread::new(table) {
        Ok(c) => c,
        Err(_) => return err(libc::EAGAIN),
    };
    let program_tp = if flags & CLONE_SETTLS != 0 {
        tls
    } else {
        parent.program_tp
    };
    // SAFETY: child is fresh and not yet shared.
    unsafe {
        (*child).is_clone_child = true;
        (*child).program_tp = program_tp;
        // A new thread starts with its creator's seccomp filters.
        (*child).filters.inherit(&parent.filters);
        if flags & CLONE_CHILD_CLEARTID != 0 {
            (*child).clear_child_tid.store(ctid, Ordering::Release);
        }
    }
    // SAFETY: as above.
    let region = unsafe { (*child).region as u64 };
    if let Err(e) = arch::prepare_child_tls(program_tp, region) {
        // SAFETY: the thread never started, so nothing else has child.
        unsafe { KernelThread::free(child) };
        return err(e);
    }
    let start = ChildStart::new(frame, stack, program_tp, region);
    let mask = sys::block_all_signals(); // the program's mask, for the child
    PROCESS.live_threads.fetch_add(1, Ordering::SeqCst);
    struct Ptr(*mut KernelThread);
    // SAFETY: handed to the new thread, which owns it from now on.
    unsafe impl Send for Ptr {}
    let child_ptr = Ptr(child);
    let birth = std::sync::Arc::new(Birth::default());
    let told = birth.clone();
    let spawned = std::thread::Builder::new()
        .stack_size(256 * 1024)
        .spawn(move || {
            let child_ptr = child_ptr;
            let tid = sys::gettid();
            told.tid.store(tid, Ordering::Release);
            told.make_id_stores(tid, flags, ptid, ctid);
            drop(told);
            run_clone_child(child_ptr.0, start, mask, tid)
        });
    sys::set_signal_mask(&mask);
    let handle = match spawned {
        Ok(h) => h,
        Err(_) => {
            PROCESS.live_threads.fetch_sub(1, Ordering::SeqCst);
            // SAFETY: the thread never started, so nothing else has child.
            unsafe { KernelThread::free(child) };
            return err(libc::EAGAIN);
        }
    };
    // The caller does not wait for the new thread to run, as with Linux's
    // clone: the id is known as soon as the host's clone has returned.
    let tid = host_tid(&handle).unwrap_or_else(|| {
        // It has run and ended already, so it has stored its id.
        loop {
            match birth.tid.load(Ordering::Acquire) {
                0 => std::thread::yield_now(),
                t => break t,
            }
        }
    });
    birth.make_id_stores(tid, flags, ptid, ctid);
    PROCESS.add_runner(handle);
    tid as i64
}

/// What the creating thread and a new thread share while the new one
/// starts.
#[derive(Default)]
struct Birth {
    /// The new thread's id, as it read it itself (0 until then).
    tid: std::sync::atomic::AtomicI32,
    /// The id stores of `CLONE_PARENT_SETTID` and `CLONE_CHILD_SETTID`:
    /// 0 not made, 1 being made, 2 made.
    stores: std::sync::atomic::AtomicU8,
}

impl Birth {
    /// Makes the id stores once, by whichever of the two threads comes
    /// first; the other waits until they are made. The ABI wants them made
    /// by the time clone returns (§7.3), and before the new thread runs
    /// program code, which may read them at once (musl's locks use
    /// `self->tid`) and which clears the child-tid word when it ends: a
    /// store made after that would bring the id back and hang a joiner.
    fn make_id_stores(&self, tid: i32, flags: u64, ptid: u64, ctid: u64) {
        match self
            .stores
            .compare_exchange(0, 1, Ordering::AcqRel, Ordering::Acquire)
        {
            Ok(_) => {
                if flags & CLONE_PARENT_SETTID != 0 {
                    let _ = memory::write_struct(ptid, &(tid as u32));
                }
                if flags & CLONE_CHILD_SETTID != 0 {
                    let _ = memory::write_struct(ctid, &(tid as u32));
                }
                self.stores.store(2, Ordering::Release);
            }
            Err(_) => {
                while self.stores.load(Ordering::Acquire) != 2 {
                    std::thread::yield_now();
                }
            }
        }
    }
}

/// The host's id of a thread std has just spawned, without waiting for it
/// to run. glibc's `pthread_create` has the kernel store the id in its
/// thread descriptor at clone (`CLONE_PARENT_SETTID`), and
/// `pthread_getcpuclockid` encodes that id as Linux's per-thread CPU clock
/// id, `(~tid << 3) | CPUCLOCK_PERTHREAD_MASK | CPUCLOCK_SCHED`
/// (linux/posix-timers.h, a stable part of the kernel ABI), which this
/// decodes. Neither glibc 2.36 nor std has a call that returns the id.
/// `None` once the thread has ended: the kernel then clears the id in the
/// descriptor (`CLONE_CHILD_CLEARTID`) and glibc answers ESRCH (or, if the
/// id went in the middle of its reading, encodes id 0).
fn host_tid(h: &std::thread::JoinHandle<()>) -> Option<i32> {
    use std::os::unix::thread::JoinHandleExt;
    let mut clock: libc::clockid_t = 0;
    // SAFETY: the handle keeps the thread's descriptor alive (the thread
    // is not detached before the handle is dropped); `clock` is ours.
    let r = unsafe { libc::pthread_getcpuclockid(h.as_pthread_t() as libc::pthread_t, &mut clock) };
    // glibc reads the id twice (to check it, then to encode it): an id
    // cleared in between comes back as 0.
    let tid = !(clock >> 3);
    (r == 0 && tid > 0).then_some(tid)
}

/// The life of a cloned program thread, on a runner thread of its own.
fn run_clone_child(kt: *mut KernelThread, start: ChildStart, mask: libc::sigset_t, tid: i32) {
    // SAFETY: kt is ours until this thread frees it when it ends.
    let k = unsafe { &*kt };
    k.set_tid(tid);
    // SAFETY: only this thread writes its runner_tp, before entering.
    unsafe { (*kt).runner_tp = arch::thread_pointer() };
    // SAFETY: sigset_t holds the kernel's 64-bit mask first.
    k.note_signal_mask(unsafe { std::ptr::read(&mask as *const libc::sigset_t as *const u64) });
    if let Err(e) = thread::enable_guard(kt) {
        // The main thread turned the same guard on at start, so this does
        // not happen; if it does, no program thread runs unguarded.
        eprintln!("xsc-run: cannot turn on the trap guard for a new thread: {e}");
        crate::signals::die_by_signal(libc::SIGABRT);
    }
    // SAFETY: GS must point at the region before any signal can reach the
    // thread (the signal entry finds the thread through it); the mask is
    // restored only after.
    let code = unsafe {
        arch::set_thread_region((*kt).region as u64);
        sys::set_signal_mask(&mask);
        arch::xsc_enter_child(&start, kt)
    };
    // The program thread called exit: we are back on the runner's stack.
    sys::block_all_signals();
    // SAFETY: only this thread touches exit_op.
    if k.exit_op_pending {
        raw_syscall(k.exit_op.opcode, k.exit_op.args);
    }
    // SAFETY: no program code runs on this thread any more.
    unsafe { arch::set_thread_region(0) };
    thread::disable_guard();
    // Entries still pending on the ring are cancelled with it (ABI §7.4):
    // nothing consumes them any more, and the region goes before the tid
    // word is cleared, so a joiner never sees a half-finished call.
    // SAFETY: no program code runs on this thread; nothing else uses kt.
    unsafe { KernelThread::free_and_clear_tid(kt, HostEnd::ThreadExit) };
    if PROCESS.live_threads.fetch_sub(1, Ordering::SeqCst) == 1 {
        // The last thread out is not the main thread, which has exited
        // before: the process ends with the main thread's code, as on Linux.
        let _ = code;
        trace::flush();
        let status = PROCESS.main_exit_code.load(Ordering::SeqCst);
        raw_syscall(nr::EXIT_GROUP, [status as u64, 0, 0, 0, 0, 0]);
    }
}

/// `SQE_F_THEN_EXIT`: leave the thread's stack, perform the operation, end
/// the thread (a thread unmapping its own stack). Only a cloned thread has
/// a kernel stack to go back to; others get -EINVAL.
pub fn then_exit(kt: *mut KernelThread, sqe: &SubmissionEntry) -> i64 {
    // SAFETY: the calling thread's own state.
    let k = unsafe { &*kt };
    // Only what a thread freeing its own stack needs: anything else (a raw
    // clone or execve, say) would bypass the kernel's handling of it.
    if !k.is_clone_child || sqe.opcode != nr::MUNMAP {
        return err(libc::EINVAL);
    }
    trace::noreturn(k, sqe);
    // SAFETY: exit_op is only touched by the owning thread; kt.runner_sp
    // was saved by xsc_enter_child on this thread.
    unsafe {
        (*kt).exit_op = *sqe;
        (*kt).exit_op_pending = true;
        arch::xsc_resume_runner(kt, 0)
    }
}

/// `exit(code)`: ends the calling thread; the last thread ends the process.
fn exit_thread(kt: *mut KernelThread, code: i32) -> ! {
    // SAFETY: the calling thread's own state.
    let k = unsafe { &*kt };
    if k.filters.strict() {
        // Strict mode lets the thread make no call but exit: none of the
        // clean-up below (the signal mask, the guard, the region, the
        // clear-tid wake) can be done, and the host would kill the process
        // for trying. Linux's exit is allowed there and ends the thread
        // (the process, for its last one) with `code`; its region and
        // state stay behind, as the host reclaims them with the process.
        PROCESS.live_threads.fetch_sub(1, Ordering::SeqCst);
        raw_syscall(nr::EXIT, [code as u64, 0, 0, 0, 0, 0]);
        unreachable!("exit returned");
    }
    if k.is_clone_child {
        // SAFETY: kt.runner_sp was saved by xsc_enter_child on this thread.
        unsafe { arch::xsc_resume_runner(kt, code) }
    }
    // The main thread (or a forked child's only thread).
    PROCESS.main_exit_code.store(code, Ordering::SeqCst);
    sys::block_all_signals();
    // SAFETY: no program code runs on this thread any more, and its region
    // is about to go.
    unsafe { arch::set_thread_region(0) };
    thread::disable_guard();
    let _ = k;
    // SAFETY: as in run_clone_child: pending entries are cancelled.
    unsafe { KernelThread::free_and_clear_tid(kt, HostEnd::RawExit) };
    if PROCESS.live_threads.fetch_sub(1, Ordering::SeqCst) == 1 {
        trace::flush();
        raw_syscall(nr::EXIT_GROUP, [code as u64, 0, 0, 0, 0, 0]);
    }
    raw_syscall(nr::EXIT, [code as u64, 0, 0, 0, 0, 0]);
    unreachable!("exit returned")
}

/// fork (and clone without CLONE_THREAD): the child is a copy of this
/// process with only the calling thread, so it gets a kernel side of its
/// own (its guard; the thread goes on consuming its ring inline).
fn fork(
    kt: *mut KernelThread,
    frame: *const CallerFrame,
    stack: Option<u64>,
    flags: u64,
    ctid: u64,
) -> i64 {
    trace::flush();
    // Released on both sides (by the drop below).
    let locks = PROCESS.lock_for_fork();
    // SAFETY: glibc's fork runs its atfork handlers and leaves a child with
    // a usable runner (malloc, stdio) on this thread.
    let pid = unsafe { libc::fork() };
    drop(locks);
    if pid < 0 {
        return err(std::io::Error::last_os_error()
            .raw_os_error()
            .unwrap_or(libc::EAGAIN));
    }
    if pid > 0 {
        return pid as i64;
    }
    // The child.
    // SAFETY: the only thread now; its own state.
    // The child's only thread is its main thread now: it ends by exit, not
    // by returning to a clone trampoline (even if it was made by clone in
    // the parent).
    // SAFETY: as above.
    unsafe { (*kt).is_clone_child = false };
    let k = unsafe { &*kt };
    PROCESS.forked_child(sys::getpid());
    k.set_tid(sys::gettid());
    k.clear_child_tid.store(
        if flags & CLONE_CHILD_CLEARTID != 0 {
            ctid
        } else {
            0
        },
        Ordering::SeqCst,
    );
    if flags & CLONE_CHILD_SETTID != 0 {
        let _ = memory::write_struct(ctid, &(sys::gettid() as u32));
    }
    k.region().sq_status.0.flags.store(0, Ordering::SeqCst);
    if thread::enable_guard(kt).is_err() {
        eprintln!("xsc-run: cannot start the kernel side of a forked child");
        // SAFETY: ending the child process.
        unsafe { libc::_exit(127) };
    }
    if let Some(stack) = stack {
        // SAFETY: the caller's saved registers; the child resumes on the
        // stack it asked for, as clone does.
        let start = ChildStart::new(unsafe { *frame }, stack, k.program_tp, k.region as u64);
        // SAFETY: never returns: is_clone_child is false for this thread
        // (set above), so its exit does not come back here.
        unsafe { arch::xsc_enter_child(&start, kt) };
        unreachable!("forked child returned to the kernel");
    }
    0
}

/// execve, and execveat(dirfd, path, argv, envp, flags): an XSC binary
/// (or the XSC interpreter of a `#!` script) runs through xsc-run again,
/// which loads it from the descriptor opened here; anything else is the
/// host's `execveat` as the program made it. On success this does not
/// return.
fn execve(
    k: &KernelThread,
    sqe: &SubmissionEntry,
    dirfd: i32,
    path: u64,
    argv: u64,
    envp: u64,
    flags: i32,
) -> i64 {
    let cfg = config::get();
    if cfg.guard == config::Guard::Seccomp {
        // The filter stays on across execve and allows system calls only
        // from this image's code: any new image would be killed.
        crate::trace::diagnostic(
            b"xsc-run: execve refused: the seccomp guard cannot follow a program into a new image (run without --guard=seccomp)\n",
        );
        return err(libc::EPERM);
    }
    if flags & !(libc::AT_EMPTY_PATH | libc::AT_SYMLINK_NOFOLLOW) != 0 {
        return err(libc::EINVAL);
    }
    let path = match memory::read_cstring(path, 4096) {
        Ok(p) if crate::procfs::names_own_exe(&p) => match crate::procfs::program() {
            Some(program) => program.as_bytes().to_vec(),
            None => p,
        },
        Ok(p) => p,
        Err(e) => return err(e),
    };
    let (argv, envp) = match (
        memory::read_string_array(argv),
        memory::read_string_array(envp),
    ) {
        (Ok(a), Ok(e)) => (a, e),
        (Err(e), _) | (_, Err(e)) => return err(e),
    };
    let cstr = |v: Vec<u8>| CString::new(v).map_err(|_| libc::EINVAL);
    let classify = |f: &std::fs::File| match loader::read_headers(f) {
        Ok(data) if data.starts_with(b"\x7fELF") => match loader::inspect(&data) {
            Ok(info) if info.note.is_some() => exec_probe::Found::Xsc,
            Ok(_) => exec_probe::Found::Plain,
            Err(_) => exec_probe::Found::Other,
        },
        _ => exec_probe::Found::Other,
    };
    // The file, kept open (close-on-exec cleared just before the exec) for
    // the new runner to load, and the descriptors made for it, closed when
    // dropped (if the exec fails).
    let mut program_file = None;
    let mut filter_fds = Vec::new();
    // The host's own execveat, or the runner started again.
    let mut host_at = None;
    let (exe, args): (Vec<u8>, Vec<Vec<u8>>) =
        match exec_probe::probe(dirfd, &path, flags, &argv, classify) {
            exec_probe::Exec::Refused { errno, why } => {
                crate::trace::diagnostic(why.as_bytes());
                return err(errno);
            }
            exec_probe::Exec::Xsc {
                file,
                filename,
                argv,
            } => {
                let mut args = match &cfg.emulator {
                    // The host cannot start this runner by itself.
                    Some(q) => vec![
                        q.clone(),
                        crate::foreign::runner_path(cfg.runner_fd.unwrap_or(-1)),
                    ],
                    None => vec![cfg.runner_argv0.clone()],
                };
                args.extend(cfg.forwarded_options());
                args.extend(crate::audit::exec_options(k, sqe));
                if let Some((opt, fd)) = crate::filters::exec_option(&k.filters) {
                    args.push(opt);
                    filter_fds.push(fd);
                }
                if let Some(a0) = argv.first() {
                    args.push(b"--argv0".to_vec());
                    args.push(a0.clone());
                }
                args.push(format!("--program-fd={}", file.as_raw_fd()).into_bytes());
                program_file = Some(file);
                args.push(b"--".to_vec());
                args.push(filename);
                args.extend(argv.into_iter().skip(1));
                match &cfg.emulator {
                    Some(q) => (q.clone(), args),
                    None => (b"/proc/self/exe".to_vec(), args),
                }
            }
            exec_probe::Exec::Host { plain } => match &cfg.emulator {
                Some(q) if plain => {
                    // The emulator opens the binary by name.
                    let named = exec_probe::name_at("/proc/self/fd", dirfd, &path);
                    crate::foreign::under_emulator(q, &named, argv)
                }
                _ => {
                    // Plain execve where it is one (qemu's user mode, under
                    // which the aarch64 runner runs, has no execveat).
                    if dirfd != libc::AT_FDCWD || flags != 0 {
                        host_at = Some((dirfd, flags));
                    }
                    (path.clone(), argv)
                }
            },
        };
    let conv = |v: Vec<Vec<u8>>| v.into_iter().map(cstr).collect::<Result<Vec<_>, _>>();
    let (exe, args, env) = match (cstr(exe), conv(args), conv(envp)) {
        (Ok(x), Ok(a), Ok(e)) => (x, a, e),
        _ => return err(libc::EINVAL),
    };
    let ptrs = |v: &[CString]| {
        v.iter()
            .map(|c| c.as_ptr())
            .chain(std::iter::once(std::ptr::null()))
            .collect::<Vec<_>>()
    };
    let (argp, envpp) = (ptrs(&args), ptrs(&env));
    trace::flush();
    let keep = trace::prepare_exec();
    if let Some(fd) = cfg.runner_fd {
        crate::foreign::prepare_exec(fd, true);
    }
    if let Some(f) = &program_file {
        // SAFETY: clearing FD_CLOEXEC on the descriptor we opened, for the
        // new runner (if the exec fails, the File's drop closes it).
        unsafe { libc::fcntl(f.as_raw_fd(), libc::F_SETFD, 0) };
    }
    // SAFETY: NUL-terminated strings and NULL-terminated pointer arrays that
    // live across the call.
    unsafe {
        match host_at {
            Some((dirfd, flags)) => libc::syscall(
                libc::SYS_execveat,
                dirfd,
                exe.as_ptr(),
                argp.as_ptr(),
                envpp.as_ptr(),
                flags,
            ),
            None => libc::execve(exe.as_ptr(), argp.as_ptr(), envpp.as_ptr()) as libc::c_long,
        }
    };
    let e = std::io::Error::last_os_error()
        .raw_os_error()
        .unwrap_or(libc::ENOEXEC);
    trace::exec_failed(keep);
    if let Some(fd) = cfg.runner_fd {
        crate::foreign::prepare_exec(fd, false);
    }
    drop(filter_fds);
    drop(program_file);
    err(e)
}
