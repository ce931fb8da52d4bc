//! xsc-ld's report names the crate whose source holds a raw system call:
//! a two-crate workspace where `rawsc` exports a macro expanding to
//! `asm!("syscall")` and `user` invokes it (qualified, and imported with
//! `use`), and, as the control, `user`'s own `asm!`.
//!
//! Builds with the `xsc` toolchain (`cargo xtask setup`) and this build's
//! xsc-ld as the linker. Tiny crates on the toolchain's prebuilt std: about
//! a second per build.

use std::path::{Path, PathBuf};
use std_xsc::testing::text;

fn write(path: &Path, body: &str) {
    std::fs::create_dir_all(path.parent().unwrap()).unwrap();
    std::fs::write(path, body).unwrap();
}

/// The workspace, made once per test process.
fn workspace() -> PathBuf {
    static MADE: std::sync::OnceLock<PathBuf> = std::sync::OnceLock::new();
    MADE.get_or_init(|| {
        let dir = std::env::temp_dir().join(format!("xsc-ld-blame-{}", std::process::id()));
        let _ = std::fs::remove_dir_all(&dir);
        write(
            &dir.join("Cargo.toml"),
            "[workspace]\nresolver = \"2\"\nmembers = [\"rawsc\", \"user\"]\n",
        );
        write(
            &dir.join("rawsc/Cargo.toml"),
            "[package]\nname = \"rawsc\"\nversion = \"0.1.0\"\nedition = \"2021\"\n",
        );
        write(
            &dir.join("rawsc/src/lib.rs"),
            r#"/// A raw getpid, as some crates still do it.
#[macro_export]
macro_rules! raw_getpid {
    () => {{
        let r: i64;
        unsafe {
            core::arch::asm!("syscall", inlateout("rax") 39i64 => r, out("rcx") _, out("r11") _);
        }
        r
    }};
}
"#,
        );
        write(
            &dir.join("user/Cargo.toml"),
            "[package]\nname = \"user\"\nversion = \"0.1.0\"\nedition = \"2021\"\n\n[dependencies]\nrawsc = { path = \"../rawsc\" }\n",
        );
        write(
            &dir.join("user/src/bin/qualified.rs"),
            "fn main() {\n    println!(\"pid {}\", rawsc::raw_getpid!());\n}\n",
        );
        write(
            &dir.join("user/src/bin/imported.rs"),
            "use rawsc::raw_getpid;\n\nfn main() {\n    let pid = raw_getpid!();\n    println!(\"pid {pid}\");\n}\n",
        );
        write(
            &dir.join("user/src/bin/own.rs"),
            "fn main() {\n    let r: i64;\n    unsafe {\n        core::arch::asm!(\"syscall\", inlateout(\"rax\") 39i64 => r, out(\"rcx\") _, out(\"r11\") _);\n    }\n    println!(\"pid {r}\");\n}\n",
        );
        dir
    })
    .clone()
}

/// Builds binary `bin` of `user` with rustc's `-C
/// collapse-macro-debuginfo=COLLAPSE`; returns xsc-ld's report.
fn report(bin: &str, collapse: &str) -> String {
    let dir = workspace();
    let out = std_xsc::toolchain::cargo_xsc(&dir)
        .args([
            "build",
            "--target",
            "x86_64-unknown-linux-xsc",
            "-p",
            "user",
            "--bin",
            bin,
        ])
        .env(
            "CARGO_TARGET_X86_64_UNKNOWN_LINUX_XSC_LINKER",
            env!("CARGO_BIN_EXE_xsc-ld"),
        )
        .env(
            "CARGO_TARGET_X86_64_UNKNOWN_LINUX_XSC_RUSTFLAGS",
            // A linker named *ld would be taken for a bare ld otherwise.
            format!("-Clinker-flavor=gcc -Ccollapse-macro-debuginfo={collapse}"),
        )
        .env("CARGO_TARGET_DIR", dir.join(format!("target-{collapse}")))
        .output()
        .unwrap();
    assert!(!out.status.success(), "the link must fail");
    let err = text(&out.stderr);
    assert!(
        err.contains("failed XSC verification and was not written"),
        "{err}"
    );
    err
}

fn blamed(err: &str) -> &str {
    let tail = err
        .split("look for a libc backend or feature in: ")
        .nth(1)
        .unwrap_or_else(|| panic!("no blame line: {err}"));
    tail.split(')').next().unwrap()
}

#[test]
fn a_dependency_macro_expanded_in_the_user_crate_is_blamed_on_the_dependency() {
    // rustc's default: the macro's code is attributed to its call site in
    // user/src/bin/qualified.rs; the invocation there names the crate.
    let err = report("qualified", "external");
    assert!(
        err.contains("in function `qualified::main`"),
        "the function is still named: {err}"
    );
    assert!(err.contains("source user/src/bin/qualified.rs:2:"), "{err}");
    assert!(
        err.contains("in the expansion of macro `rawsc::raw_getpid!` (crate `rawsc`)"),
        "{err}"
    );
    assert_eq!(blamed(&err), "rawsc", "{err}");
}

#[test]
fn an_imported_macro_is_blamed_on_the_crate_it_is_imported_from() {
    let err = report("imported", "external");
    assert!(
        err.contains("in the expansion of macro `raw_getpid!` (crate `rawsc`)"),
        "{err}"
    );
    assert_eq!(blamed(&err), "rawsc", "{err}");
}

#[test]
fn with_uncollapsed_macro_debuginfo_the_line_table_names_the_macro_file() {
    let err = report("qualified", "no");
    assert!(err.contains("source rawsc/src/lib.rs:7:"), "{err}");
    assert_eq!(blamed(&err), "rawsc", "{err}");
}

#[test]
fn the_user_crates_own_asm_is_blamed_on_the_user_crate() {
    let err = report("own", "external");
    assert!(err.contains("source user/src/bin/own.rs:4:"), "{err}");
    assert!(!err.contains("in the expansion of macro"), "{err}");
    assert_eq!(blamed(&err), "user", "{err}");
}
