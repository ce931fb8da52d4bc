//! Architecture specifics of the kernel side. Only x86_64 hosts run XSC
//! programs so far.

#[cfg(target_arch = "x86_64")]
mod x86_64;
#[cfg(target_arch = "x86_64")]
pub use self::x86_64::*;

#[cfg(not(target_arch = "x86_64"))]
compile_error!("xsc-run runs on x86_64 Linux hosts only (see docs/ABI.md)");
