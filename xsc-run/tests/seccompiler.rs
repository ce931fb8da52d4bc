//! A Rust program using the `seccompiler` crate (samples/ecosystem's
//! seccompiler-user) behaves on XSC, under xsc-run, as on the host: the
//! same calls allowed and refused, with the same errors, the same trap and
//! the same killing signal.

use std::os::unix::process::ExitStatusExt;
use std::path::PathBuf;
use std::process::{Command, Output};

fn ecosystem() -> PathBuf {
    PathBuf::from(env!("CARGO_MANIFEST_DIR"))
        .parent()
        .unwrap()
        .join("samples/ecosystem")
}

/// Builds the sample for `target` (None: the host); its path.
fn build(target: Option<&str>) -> PathBuf {
    let dir = ecosystem();
    let mut c = std_xsc::toolchain::cargo_xsc(&dir);
    c.args(["build", "-p", "seccompiler-user"]);
    let mut bin = dir.join("target");
    if let Some(t) = target {
        c.args(["--target", t]);
        bin = bin.join(t);
    }
    let out = c.output().unwrap();
    assert!(
        out.status.success(),
        "building seccompiler-user for {target:?} failed:\n{}",
        String::from_utf8_lossy(&out.stderr)
    );
    bin.join("debug/seccompiler-user")
}

fn scratch(side: &str) -> PathBuf {
    let d = PathBuf::from(env!("CARGO_TARGET_TMPDIR"))
        .join(format!("seccompiler-{side}-{}", std::process::id()));
    let _ = std::fs::remove_dir_all(&d);
    std::fs::create_dir_all(&d).unwrap();
    d
}

fn outcome(o: &Output) -> (String, Option<i32>, Option<i32>) {
    (
        String::from_utf8_lossy(&o.stdout).into_owned(),
        o.status.code(),
        o.status.signal(),
    )
}

#[test]
fn a_program_sandboxed_by_seccompiler_matches_the_host() {
    let host = build(None);
    let xsc = build(Some("x86_64-unknown-linux-xsc"));
    let native = Command::new(&host).arg(scratch("host")).output().unwrap();
    let on_xsc = Command::new(env!("CARGO_BIN_EXE_xsc-run"))
        .arg(&xsc)
        .arg(scratch("xsc"))
        .output()
        .unwrap();
    let text = String::from_utf8_lossy(&native.stdout);
    assert!(
        text.contains("applied to all threads: true"),
        "the filters did not apply on the host: {text}"
    );
    assert_eq!(
        outcome(&on_xsc),
        outcome(&native),
        "xsc-run stderr: {}",
        String::from_utf8_lossy(&on_xsc.stderr)
    );
}
