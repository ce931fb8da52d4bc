//! aarch64: not yet implemented. The ABI reserves the mechanism (ABI §3:
//! the ring region address lives in the thread's TLS block at a slot the
//! libc defines); the runtime and the reference kernel run x86_64 only for
//! now, so building xsc-rt for aarch64 fails here with a clear message.

compile_error!(
    "xsc-rt does not support aarch64 yet: ring discovery for aarch64 threads is not implemented (see docs/ABI.md §3)"
);
