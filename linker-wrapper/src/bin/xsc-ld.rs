//! `xsc-ld`: the linker the XSC target specs name. rustc calls it as it
//! would call `cc`; it links against the XSC sysroot and verifies the
//! result.

fn main() {
    let mut args: Vec<std::ffi::OsString> = std::env::args_os().skip(1).collect();
    let result =
        linker_wrapper::Driver::new("xsc-ld", &mut args).and_then(|d| d.link(&args, false));
    if let Err(e) = result {
        if !e.message.is_empty() {
            eprintln!("{e}");
        }
        std::process::exit(e.code);
    }
}
