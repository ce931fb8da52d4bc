//! Builds the C library in `c/` with CMake through the `cmake` crate, which
//! chooses CMake's system and compiler from the target.

fn main() {
    let dst = cmake::build("c");
    println!("cargo:rustc-link-search=native={}/lib", dst.display());
    println!("cargo:rustc-link-lib=static=weave");
    println!("cargo:rerun-if-changed=c");
}
