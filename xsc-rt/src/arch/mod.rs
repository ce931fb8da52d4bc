//! Architecture specifics: where the thread's ring region is found, how to
//! relax in a spin loop, and the assembly the rest of the crate needs.

#[cfg(target_arch = "x86_64")]
mod x86_64;
#[cfg(target_arch = "x86_64")]
pub use self::x86_64::*;

#[cfg(target_arch = "aarch64")]
mod aarch64;
#[cfg(target_arch = "aarch64")]
pub use self::aarch64::*;

/// The architecture this runtime was built for, in the ABI's terms.
pub const ARCH: xsc_abi::ops::Arch = match xsc_abi::ops::Arch::current() {
    Some(a) => a,
    None => panic!("XSC is defined for x86_64 and aarch64 only"),
};
