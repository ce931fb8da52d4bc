//! `native-builds`: three crates whose native build looks the target up by
//! name, each working for an XSC target as for the host:
//! - jemalloc, built by tikv-jemalloc-sys with autoconf's `configure
//!   --host=<target>` (the XSC toolchain's config.site gives configure the
//!   musl triple), is the global allocator;
//! - OpenSSL through the `openssl` crate with `vendored` (for an XSC
//!   target, openssl-sys takes the OpenSSL the toolchain built);
//! - a C library built by CMake through the `cmake` crate (build.rs).

use openssl::symm::{encrypt, Cipher};

#[global_allocator]
static ALLOC: tikv_jemallocator::Jemalloc = tikv_jemallocator::Jemalloc;

unsafe extern "C" {
    fn weave_fnv1a(p: *const u8, n: usize) -> u64;
}

fn hex(b: &[u8]) -> String {
    b.iter().map(|x| format!("{x:02x}")).collect()
}

fn main() {
    // jemalloc answers its own control interface: it is the allocator.
    let version = tikv_jemalloc_ctl::version::read().expect("jemalloc version");
    println!("jemalloc {version}");
    let v: Vec<Vec<u64>> = (0..2000).map(|i| vec![i; 1 + (i as usize % 300)]).collect();
    let total: u64 = v.iter().map(|x| x.iter().sum::<u64>()).sum();
    println!("allocated and summed: {total}");

    let data = b"exception-less system calls, for every call";
    println!("sha256 {}", hex(&openssl::sha::sha256(data)));
    let key = *b"0123456789abcdef";
    let iv = *b"fedcba9876543210";
    let ct = encrypt(Cipher::aes_128_cbc(), &key, Some(&iv), data).expect("aes");
    println!("aes-128-cbc {}", hex(&ct));

    // SAFETY: weave_fnv1a reads exactly `len` bytes from the pointer.
    let h = unsafe { weave_fnv1a(data.as_ptr(), data.len()) };
    println!("fnv1a from the cmake-built library {h:016x}");
}
