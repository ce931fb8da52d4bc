// The build script of every no_std sample (`build = "../link-static-pie.rs"`):
// a static-pie binary with no libc; xsc-rt provides _start, memcpy & co.
fn main() {
    for arg in [
        "-nostartfiles",
        "-nostdlib",
        "-static-pie",
        "-Wl,-z,noexecstack",
        "-Wl,--build-id=none",
    ] {
        println!("cargo:rustc-link-arg-bins={arg}");
    }
}
