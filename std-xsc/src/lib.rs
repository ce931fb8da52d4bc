//! The XSC sysroot: what a binary for an XSC target links against.
//!
//! `$XSC_HOME/sysroot/<arch>/` (default `XSC_HOME` = `~/.xsc`) holds
//! - `include/`, `lib/libc.a`, the crt objects: the musl fork, built from
//!   Debian's musl 1.2.3 source with the patch set in `std-xsc/musl/patches`
//!   (its system-call layer calls xsc-rt instead of executing `syscall`);
//! - `lib/libxsc_rt.a`: xsc-rt's C ABI (`xsc_syscall6`, `xsc_clone`, ...);
//! - `lib/libunwind.a`: the unwinder Rust's std links (gcc's `libgcc_eh`,
//!   which finds unwind tables through the fork's `_dl_find_object`);
//! - `lib/xsc_note.o`: the `XSC_ABI` note object the linker wrapper adds.
//!
//! The build is cached: a stamp records a hash of everything it depends on.

pub mod arch;
pub mod binfmt;
pub mod build;
pub mod host_musl;
pub mod musl_source;
pub mod openssl;
pub mod paths;
pub mod rt_staticlib;
pub mod rust_sysroot;
pub mod setup;
pub mod testing;
pub mod toolchain;
pub mod verify;

pub use arch::Arch;
pub use paths::{repo_root, xsc_home, Sysroot};
