//! xsc-rt: the user side of the XSC ABI.
//!
//! A thread finds its ring region through the architecture's thread-region
//! register ([`arch::current_region`]); no initialisation is needed, so the
//! very first instruction of a program may make an OS call. Every call is
//! either a submission on the thread's ring ([`ring`]) or, for the
//! thread-context operations the ABI lists, a call through the kernel's entry
//! table. This crate never contains a system-call instruction.
//!
//! - [`syscall`]: one OS call, the way a libc makes it (`syscall6`).
//! - [`ring`]: the submission and completion rings (a small liburing).
//! - [`batch`]: submit many entries, reap many completions.
//! - [`thread`]: start a thread (clone through the entry table).
//! - [`time`]: the clock and CPU functions served without a ring round trip.
//! - `c_abi` (feature `c-abi`): `xsc_syscall6` and friends for C callers.
#![no_std]

pub mod arch;
pub mod batch;
#[cfg(feature = "c-abi")]
pub mod c_abi;
pub mod ring;
#[cfg(feature = "start")]
mod start;
pub mod sys;
pub mod syscall;
pub mod thread;
pub mod time;

#[cfg(feature = "note")]
mod note;

pub use ring::Ring;
pub use syscall::{
    ring_syscall6, syscall0, syscall1, syscall2, syscall3, syscall4, syscall5, syscall6,
};
pub use xsc_abi as abi;
