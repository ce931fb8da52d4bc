//! Architecture specifics of the kernel side: x86_64 (native on this
//! host) and aarch64 (run under qemu's user mode here, docs/xsc-run.md).

#[cfg(target_arch = "x86_64")]
mod x86_64;
#[cfg(target_arch = "x86_64")]
pub use self::x86_64::*;

#[cfg(target_arch = "aarch64")]
mod aarch64;
#[cfg(target_arch = "aarch64")]
pub use self::aarch64::*;

#[cfg(not(any(target_arch = "x86_64", target_arch = "aarch64")))]
compile_error!("xsc-run runs on x86_64 and aarch64 Linux hosts only (see docs/ABI.md)");
