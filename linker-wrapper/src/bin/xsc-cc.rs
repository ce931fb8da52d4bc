//! `xsc-cc`: a C compiler driver for XSC (for C code, and for the `cc`
//! crate through `CC_x86_64_unknown_linux_xsc=xsc-cc`). Compiles against
//! the musl fork's headers; links like xsc-ld.

fn main() {
    let mut args: Vec<std::ffi::OsString> = std::env::args_os().skip(1).collect();
    let result = linker_wrapper::Driver::new("xsc-cc", &mut args).and_then(|d| {
        // Compile-only steps, and questions about the compiler itself
        // (`--version`, `-dumpmachine`, `-print-file-name=...`), go to the C
        // compiler without a link step.
        let compile_only = args.iter().any(|a| {
            let a = a.to_string_lossy();
            matches!(
                &*a,
                "-c" | "-S" | "-E" | "-M" | "-MM" | "--version" | "-dumpversion" | "-dumpmachine"
            ) || a.starts_with("-print-")
        });
        if compile_only {
            d.compile(&args)
        } else {
            d.link(&args, true)
        }
    });
    if let Err(e) = result {
        if !e.message.is_empty() {
            eprintln!("{e}");
        }
        std::process::exit(e.code);
    }
}
