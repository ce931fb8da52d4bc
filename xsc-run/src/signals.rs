//! Signals: the program's handlers run in the program, through the kernel's
//! signal entry.
//!
//! The host kernel calls [`xsc_signal_entry`] (assembly) for every signal
//! the program catches. It switches the thread to kernel state (runner TLS,
//! SUD selector ALLOW) and calls [`xsc_signal_dispatch`], which runs the
//! program's handler in program state. The handler returns to the kernel's
//! signal-return trampoline, the restorer of every signal action. Every
//! call, from the ring or through `thread_call`, executes in the program
//! thread itself, so the host kernel interrupts it (EINTR) and restarts it
//! (the program's `SA_RESTART` is on the host action) with Linux's own
//! rules, at the point Linux would.
//!
//! [`xsc_signal_entry`]: crate::arch::xsc_signal_entry

use crate::arch::{self, SELECTOR_BLOCK};
use crate::memory;
use crate::sys;
use crate::thread::KernelThread;
use std::sync::atomic::{AtomicU64, Ordering};
use std::sync::Mutex;

const NSIG: usize = 65;
const SA_SIGINFO: u64 = 4;
const SA_RESTORER: u64 = 0x0400_0000;
const SA_RESETHAND: u64 = 0x8000_0000;
const SIG_DFL: u64 = 0;
const SIG_IGN: u64 = 1;
/// si_code of a SIGSYS raised by Syscall User Dispatch / by seccomp.
pub const SYS_USER_DISPATCH: i32 = 2;
pub const SYS_SECCOMP: i32 = 1;

/// The kernel's `struct sigaction` for `rt_sigaction` on x86_64.
#[repr(C)]
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq)]
pub struct KernelSigaction {
    pub handler: u64,
    pub flags: u64,
    pub restorer: u64,
    pub mask: u64,
}

/// The action the program sees for one signal.
struct ProgramAction {
    handler: AtomicU64,
    flags: AtomicU64,
    restorer: AtomicU64,
    mask: AtomicU64,
}

#[allow(clippy::declare_interior_mutable_const)]
const NO_ACTION: ProgramAction = ProgramAction {
    handler: AtomicU64::new(SIG_DFL),
    flags: AtomicU64::new(0),
    restorer: AtomicU64::new(0),
    mask: AtomicU64::new(0),
};

/// Read lock-free by the signal entry; written under [`ACTIONS_LOCK`].
static ACTIONS: [ProgramAction; NSIG] = [NO_ACTION; NSIG];
static ACTIONS_LOCK: Mutex<()> = Mutex::new(());

impl ProgramAction {
    fn get(&self) -> KernelSigaction {
        KernelSigaction {
            handler: self.handler.load(Ordering::Acquire),
            flags: self.flags.load(Ordering::Acquire),
            restorer: self.restorer.load(Ordering::Acquire),
            mask: self.mask.load(Ordering::Acquire),
        }
    }
    fn set(&self, a: &KernelSigaction) {
        self.flags.store(a.flags, Ordering::Release);
        self.restorer.store(a.restorer, Ordering::Release);
        self.mask.store(a.mask, Ordering::Release);
        self.handler.store(a.handler, Ordering::Release);
    }
}

fn kernel_sigaction(
    sig: i32,
    act: Option<&KernelSigaction>,
    old: Option<&mut KernelSigaction>,
) -> i64 {
    sys::raw_syscall(
        libc::SYS_rt_sigaction as u32,
        [
            sig as u64,
            act.map_or(0, |a| a as *const _ as u64),
            old.map_or(0, |o| o as *mut _ as u64),
            8,
            0,
            0,
        ],
    )
}

/// The signals whose host action is always the kernel's signal entry.
const KERNEL_HANDLED: [i32; 3] = [libc::SIGSYS, libc::SIGSEGV, libc::SIGBUS];

/// Sets up signals before the program starts: records the dispositions the
/// program inherits and installs the kernel's SIGSYS handler (the trap
/// guard's reporter).
pub fn init() -> std::io::Result<()> {
    for sig in 1..NSIG as i32 {
        let mut old = KernelSigaction::default();
        if kernel_sigaction(sig, None, Some(&mut old)) == 0 {
            ACTIONS[sig as usize].set(&old);
        }
    }
    let sigsys = KernelSigaction {
        handler: arch::xsc_signal_entry as *const () as u64,
        flags: SA_SIGINFO | SA_RESTORER,
        restorer: arch::xsc_sigreturn as *const () as u64,
        mask: 0,
    };
    // SIGSYS reports raw system calls; SIGSEGV and SIGBUS recover from a
    // fault in the kernel side's direct copies of program memory. The
    // program's own actions for them are emulated behind this entry.
    for sig in KERNEL_HANDLED {
        sys::check(kernel_sigaction(sig, Some(&sigsys), None))
            .map_err(std::io::Error::from_raw_os_error)?;
    }
    Ok(())
}

/// `rt_sigaction(sig, act, oact, sigsetsize)` for the program.
pub fn rt_sigaction(sig: i32, act: u64, oact: u64, sigsetsize: u64) -> i64 {
    let einval = -(libc::EINVAL as i64);
    if sigsetsize != 8 || !(1..NSIG as i32).contains(&sig) {
        return einval;
    }
    let new = if act != 0 {
        match memory::read_struct::<KernelSigaction>(act) {
            Ok(a) => Some(a),
            Err(e) => return -(e as i64),
        }
    } else {
        None
    };
    if new.is_some() && (sig == libc::SIGKILL || sig == libc::SIGSTOP) {
        return einval;
    }
    // Kernel code that no handler may interrupt: a handler that called
    // sigaction itself would wait for the lock forever, and one that left
    // by longjmp would leave it held. The mask is the thread's own and is
    // restored on the way out.
    let mask = sys::block_all_signals();
    let old = {
        let _guard = ACTIONS_LOCK.lock().unwrap_or_else(|e| e.into_inner());
        let old = ACTIONS[sig as usize].get();
        match new.map(|new| install(sig, &old, &new)) {
            Some(r) if r < 0 => {
                sys::set_signal_mask(&mask);
                return r;
            }
            _ => old,
        }
    };
    sys::set_signal_mask(&mask);
    if oact != 0 {
        if let Err(e) = memory::write_struct(oact, &old) {
            return -(e as i64);
        }
    }
    0
}

/// Records `new` as the program's action for `sig` and installs the host
/// action that serves it; if the host refuses, the old record is put back.
fn install(sig: i32, old: &KernelSigaction, new: &KernelSigaction) -> i64 {
    let restorer = arch::xsc_sigreturn as *const () as u64;
    let kernel_act = if sig == libc::SIGSYS {
        // The kernel's own entry stays installed: it reports raw system
        // calls and forwards other SIGSYS to the program's action.
        None
    } else if KERNEL_HANDLED.contains(&sig) {
        // The kernel's entry stays (it recovers from faults of its own
        // copies) with the program's flags and mask; SA_RESETHAND is done
        // by the dispatcher, so that the entry is never taken away.
        let custom = new.handler != SIG_DFL && new.handler != SIG_IGN;
        Some(KernelSigaction {
            handler: arch::xsc_signal_entry as *const () as u64,
            flags: if custom { new.flags & !SA_RESETHAND } else { 0 } | SA_SIGINFO | SA_RESTORER,
            restorer,
            mask: if custom { new.mask } else { 0 },
        })
    } else if new.handler == SIG_DFL || new.handler == SIG_IGN {
        Some(KernelSigaction {
            flags: new.flags | SA_RESTORER,
            restorer,
            ..*new
        })
    } else {
        Some(KernelSigaction {
            handler: arch::xsc_signal_entry as *const () as u64,
            flags: new.flags | SA_SIGINFO | SA_RESTORER,
            restorer,
            mask: new.mask,
        })
    };
    // Another thread may take the signal at any moment. While the host
    // action is the signal entry, the record must already say what to do;
    // so the record goes first when the entry is installed, and last when
    // the host's own SIG_DFL or SIG_IGN replaces it.
    let entry = arch::xsc_signal_entry as *const () as u64;
    let record_first = kernel_act.is_none_or(|k| k.handler == entry);
    if record_first {
        ACTIONS[sig as usize].set(new);
    }
    if let Some(k) = kernel_act {
        let r = kernel_sigaction(sig, Some(&k), None);
        if r < 0 {
            ACTIONS[sig as usize].set(old);
            return r;
        }
    }
    if !record_first {
        ACTIONS[sig as usize].set(new);
    }
    0
}

/// Holds the signal-action lock (fork takes it so that the child does not
/// inherit it held by another thread).
pub fn lock_actions() -> std::sync::MutexGuard<'static, ()> {
    ACTIONS_LOCK.lock().unwrap_or_else(|e| e.into_inner())
}

/// Called by the signal entry in kernel state.
///
/// # Safety
/// Called only by `xsc_signal_entry` with the kernel's arguments.
pub unsafe extern "C" fn xsc_signal_dispatch(
    sig: i32,
    info: *mut libc::siginfo_t,
    uctx: *mut libc::c_void,
    kt: *mut KernelThread,
    interrupted_tp: u64,
    interrupted_selector: u64,
) {
    let code = (*info).si_code;
    if (sig == libc::SIGSEGV || sig == libc::SIGBUS) && arch::fix_copy_fault(uctx) {
        return; // the kernel side's own copy faulted: it reports EFAULT
    }
    if sig == libc::SIGSYS
        && (code == SYS_USER_DISPATCH || code == SYS_SECCOMP)
        && !crate::guard::is_program_filter_trap(info)
    {
        crate::guard::report_raw_syscall(info, uctx);
    }
    // A fault the hardware raised (si_code > 0) cannot be ignored: as Linux
    // does, the default action is restored and the faulting instruction
    // runs again, which ends the process with the real fault.
    let fault = code > 0 && (sig == libc::SIGSEGV || sig == libc::SIGBUS);
    if kt.is_null() {
        // Not a program thread: nothing of the program's to run.
        if fault {
            kernel_sigaction(sig, Some(&KernelSigaction::default()), None);
        }
        return;
    }
    let action = ACTIONS[sig as usize].get();
    // Here with SIG_DFL or SIG_IGN for the kernel-handled signals (SIGSYS,
    // SIGSEGV, SIGBUS), or for a signal taken just as another thread
    // changed its action.
    match action.handler {
        SIG_DFL | SIG_IGN if fault => {
            kernel_sigaction(sig, Some(&KernelSigaction::default()), None);
            return;
        }
        // A signal whose default is to be ignored, taken while another
        // thread switches its action: ignored, as the default says.
        SIG_DFL if default_is_ignore(sig) => return,
        SIG_DFL => die_by_signal(sig),
        SIG_IGN => return,
        _ => {}
    }
    if action.flags & SA_RESETHAND != 0 {
        ACTIONS[sig as usize]
            .handler
            .store(SIG_DFL, Ordering::Release);
    }
    let kt_ref = &*kt;
    let program_tp = if interrupted_selector == SELECTOR_BLOCK as u64 {
        interrupted_tp
    } else {
        kt_ref.program_tp
    };
    // While a program handler runs, its mask (sa_mask) may block SIGSEGV
    // or SIGBUS: no direct reads of program memory (memory::read_into_fast).
    let fault_reads = kt_ref.fault_reads.swap(false, Ordering::Relaxed);
    arch::xsc_call_program_handler(action.handler, sig, info, uctx, program_tp, kt);
    kt_ref.fault_reads.store(fault_reads, Ordering::Relaxed);
}

/// Signals whose default action is to ignore them (signal(7)); SIGCONT's
/// "continue" has nothing left to do once the process runs.
fn default_is_ignore(sig: i32) -> bool {
    matches!(
        sig,
        libc::SIGCHLD | libc::SIGURG | libc::SIGWINCH | libc::SIGCONT
    )
}

/// Ends the process as killed by `sig` (with the default action).
pub fn die_by_signal(sig: i32) -> ! {
    crate::trace::flush();
    let dfl = KernelSigaction::default();
    kernel_sigaction(sig, Some(&dfl), None);
    // SAFETY: plain signal-set manipulation and raising a signal.
    unsafe {
        let mut set: libc::sigset_t = std::mem::zeroed();
        libc::sigemptyset(&mut set);
        libc::sigaddset(&mut set, sig);
        sys::tgkill(sys::gettid(), sig);
        libc::pthread_sigmask(libc::SIG_UNBLOCK, &set, std::ptr::null_mut());
        libc::_exit(128 + sig)
    }
}
