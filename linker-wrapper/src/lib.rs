//! The link step of the XSC targets and the C compiler driver.
//!
//! - [`link`]: turn a gcc-style link command into one against the XSC
//!   sysroot: musl fork crt objects, `libc.a`, `libxsc_rt.a`, libgcc, the
//!   `XSC_ABI` note object; static-pie.
//! - [`verify`]: after linking, check the output with xsc-elfcheck and name
//!   the function and input object of every offending instruction (from the
//!   linker's map); a failed check removes the output.
//! - [`linkmap`]: reading GNU ld's map file.
//! - [`blame`]: the source place and the crate that owns an offending
//!   instruction (debug info, macro invocations).

pub mod blame;
pub mod link;
pub mod linkmap;
pub mod verify;

pub use link::{Driver, LinkError};
