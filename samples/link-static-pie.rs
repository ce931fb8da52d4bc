// The build script of every no_std sample (`build = "../link-static-pie.rs"`):
// a static-pie binary with no libc; xsc-rt provides _start, memcpy & co.
// separate-code (as xsc-ld links): read-only data gets its own
// non-executable segment, so no constant can look like a system-call
// instruction in executable memory (the default on x86_64, not on aarch64).
fn main() {
    for arg in [
        "-nostartfiles",
        "-nostdlib",
        "-static-pie",
        "-Wl,-z,noexecstack",
        "-Wl,-z,separate-code",
        "-Wl,--build-id=none",
    ] {
        println!("cargo:rustc-link-arg-bins={arg}");
    }
}
