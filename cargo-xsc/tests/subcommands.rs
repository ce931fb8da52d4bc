//! `cargo xsc <cargo subcommand>` behaves as cargo does for the XSC
//! target: the subcommands that take a target get the XSC one, cargo's
//! flags work (`--message-format`, `-q`, `-v`), a non-XSC target is refused
//! before anything is built, a package that needs a newer rustc gets one
//! line of advice, and `--version` names the toolchain's Rust.
//!
//! Tiny projects in temporary directories, on the toolchain's prebuilt std
//! (`cargo xtask setup`): each command takes about a second.

use std::path::{Path, PathBuf};
use std::process::{Command, Output};
use std_xsc::testing::{run_ok, text};

const XSC: &str = "x86_64-unknown-linux-xsc";

/// `cargo xsc ARGS` in `dir` (this crate's binary, invoked as cargo does).
fn cargo_xsc(dir: &Path, args: &[&str]) -> Command {
    let mut c = Command::new(env!("CARGO_BIN_EXE_cargo-xsc"));
    c.arg("xsc").args(args).current_dir(dir);
    std_xsc::toolchain::clean_env(&mut c);
    c
}

fn write(path: &Path, body: &str) {
    std::fs::create_dir_all(path.parent().unwrap()).unwrap();
    std::fs::write(path, body).unwrap();
}

/// A package `tiny` with two path dependencies, one for the XSC target
/// only (`target_env = "musl"`, as the XSC targets say) and one for the
/// host only (`target_env = "gnu"`), so that what a command shows tells
/// which target it was given. `manifest_extra` goes in `[package]`.
fn project(tag: &str, manifest_extra: &str, main_rs: &str) -> PathBuf {
    let dir = std::env::temp_dir().join(format!("cargo-xsc-sub-{tag}-{}", std::process::id()));
    let _ = std::fs::remove_dir_all(&dir);
    write(
        &dir.join("Cargo.toml"),
        &format!(
            "[package]\nname = \"tiny\"\nversion = \"0.1.0\"\nedition = \"2021\"\n{manifest_extra}\n\n\
             [target.'cfg(target_env = \"musl\")'.dependencies]\nxsc_only = {{ path = \"xsc_only\" }}\n\n\
             [target.'cfg(target_env = \"gnu\")'.dependencies]\nhost_only = {{ path = \"host_only\" }}\n"
        ),
    );
    write(&dir.join("src/main.rs"), main_rs);
    for dep in ["xsc_only", "host_only"] {
        write(
            &dir.join(dep).join("Cargo.toml"),
            &format!("[package]\nname = \"{dep}\"\nversion = \"0.1.0\"\nedition = \"2021\"\n"),
        );
        write(
            &dir.join(dep).join("src/lib.rs"),
            "/// Twice `x`.\npub fn twice(x: u32) -> u32 { x * 2 }\n",
        );
    }
    dir
}

const MAIN: &str = "fn main() {\n    println!(\"tiny {}\", xsc_only::twice(21));\n}\n";

fn failed_with(out: &Output) -> String {
    assert!(!out.status.success(), "must fail: {}", text(&out.stderr));
    text(&out.stderr)
}

#[test]
fn check_doc_tree_metadata_and_clean_run_for_the_xsc_target() {
    let dir = project("subs", "", MAIN);
    let xsc_dir = dir.join("target").join(XSC);

    let out = run_ok(&mut cargo_xsc(&dir, &["check"]));
    assert!(
        text(&out.stderr).contains("Checking tiny"),
        "{}",
        text(&out.stderr)
    );
    assert!(xsc_dir.join("debug").is_dir(), "checked for {XSC}");
    // `c` is cargo's alias for check; -v is cargo's.
    let out = run_ok(&mut cargo_xsc(&dir, &["c", "-v"]));
    assert!(
        text(&out.stderr).contains("Fresh tiny"),
        "{}",
        text(&out.stderr)
    );

    run_ok(&mut cargo_xsc(&dir, &["doc", "--no-deps"]));
    assert!(xsc_dir.join("doc/tiny/index.html").is_file());

    let out = run_ok(&mut cargo_xsc(&dir, &["tree", "--prefix", "none"]));
    let tree = text(&out.stdout);
    assert!(
        tree.contains("xsc_only v0.1.0") && !tree.contains("host_only"),
        "the tree of the XSC target: {tree}"
    );

    let out = run_ok(&mut cargo_xsc(&dir, &["metadata", "--format-version", "1"]));
    let meta: serde_json::Value = serde_json::from_slice(&out.stdout).unwrap();
    let id = meta["packages"]
        .as_array()
        .unwrap()
        .iter()
        .find(|p| p["name"] == "tiny")
        .expect("tiny's package")["id"]
        .clone();
    let node = meta["resolve"]["nodes"]
        .as_array()
        .unwrap()
        .iter()
        .find(|n| n["id"] == id)
        .expect("tiny's node");
    let deps: Vec<&str> = node["deps"]
        .as_array()
        .unwrap()
        .iter()
        .map(|d| d["name"].as_str().unwrap())
        .collect();
    assert_eq!(deps, ["xsc_only"], "metadata filtered for the XSC target");

    run_ok(&mut cargo_xsc(&dir, &["clean"]));
    assert!(!xsc_dir.exists(), "cleaned the XSC target's directory");
}

#[test]
fn clippy_lints_for_the_xsc_target() {
    let dir = project(
        "clippy",
        "",
        "fn f() -> u32 {\n    let x = xsc_only::twice(1);\n    return x;\n}\nfn main() {\n    println!(\"{}\", f());\n}\n",
    );
    let out = run_ok(&mut cargo_xsc(&dir, &["clippy"]));
    let err = text(&out.stderr);
    assert!(err.contains("clippy::needless_return"), "{err}");
    assert!(dir.join("target").join(XSC).is_dir());
}

#[test]
fn message_format_json_gives_json_lines_and_quiet_silences_verification() {
    let dir = project("json", "", MAIN);
    let out = run_ok(&mut cargo_xsc(&dir, &["build", "--message-format=json"]));
    let stdout = text(&out.stdout);
    let lines: Vec<serde_json::Value> = stdout
        .lines()
        .map(|l| serde_json::from_str(l).unwrap_or_else(|e| panic!("not JSON ({e}): {l}")))
        .collect();
    assert!(
        lines.iter().any(|m| m["reason"] == "compiler-artifact"
            && m["executable"]
                .as_str()
                .is_some_and(|e| e.ends_with("/tiny"))),
        "{stdout}"
    );
    assert_eq!(lines.last().unwrap()["reason"], "build-finished");
    assert!(text(&out.stderr).contains("cargo-xsc: verified"));
    // The same with the format given twice, as cargo allows.
    run_ok(&mut cargo_xsc(
        &dir,
        &[
            "build",
            "--message-format",
            "json",
            "--message-format=json-diagnostic-short",
        ],
    ));

    let out = run_ok(&mut cargo_xsc(&dir, &["build", "-q"]));
    assert_eq!(text(&out.stderr), "", "-q: nothing on stderr");
    let out = run_ok(&mut cargo_xsc(&dir, &["-q", "build"]));
    assert_eq!(
        text(&out.stderr),
        "",
        "-q before the subcommand, as cargo allows"
    );
    let out = run_ok(&mut cargo_xsc(&dir, &["run", "--quiet"]));
    assert_eq!(text(&out.stdout), "tiny 42\n");
    assert_eq!(text(&out.stderr), "");
    let out = run_ok(&mut cargo_xsc(&dir, &["build"]));
    assert!(
        text(&out.stderr).contains("cargo-xsc: verified"),
        "without -q the lines are there: {}",
        text(&out.stderr)
    );
}

#[test]
fn a_non_xsc_target_is_refused_before_anything_is_built() {
    let dir = project("refuse", "", MAIN);
    for args in [
        &["build", "--target", "x86_64-unknown-linux-gnu"][..],
        &["check", "--target=x86_64-unknown-linux-gnu"],
        &[
            "test",
            "--target",
            XSC,
            "--target",
            "aarch64-unknown-linux-gnu",
        ],
        &["metadata", "--filter-platform", "x86_64-unknown-linux-gnu"],
    ] {
        let out = cargo_xsc(&dir, args).output().unwrap();
        let err = failed_with(&out);
        assert_eq!(err.lines().count(), 1, "one line: {err}");
        assert!(
            err.starts_with("cargo-xsc: error: `--")
                && err.contains("is not an XSC target")
                && err.contains("x86_64-unknown-linux-xsc")
                && err.contains("aarch64-unknown-linux-xsc"),
            "{err}"
        );
        assert!(out.stdout.is_empty());
    }
    assert!(!dir.join("target").exists(), "nothing was built");
    assert!(!dir.join("Cargo.lock").exists(), "cargo did not even run");
}

#[test]
fn a_package_needing_a_newer_rustc_gets_one_line_of_advice() {
    let dir = project("rustver", "rust-version = \"1.999\"", MAIN);
    let out = cargo_xsc(&dir, &["check"]).output().unwrap();
    let err = failed_with(&out);
    assert!(
        err.contains("tiny@0.1.0 requires rustc 1.999"),
        "cargo's error: {err}"
    );
    let advice: Vec<&str> = err
        .lines()
        .filter(|l| l.starts_with("cargo-xsc:"))
        .collect();
    assert_eq!(advice.len(), 1, "{err}");
    assert!(
        advice[0].contains("requires rustc 1.999")
            && advice[0].contains("cargo xsc update -p tiny --precise"),
        "{err}"
    );
    let out = cargo_xsc(
        &dir,
        &[
            "install",
            "--path",
            ".",
            "--root",
            dir.join("root").to_str().unwrap(),
        ],
    )
    .output()
    .unwrap();
    let err = failed_with(&out);
    assert!(
        err.contains("cargo xsc install --locked tiny@<VERSION>"),
        "{err}"
    );
}

#[test]
fn version_names_the_toolchains_rust_and_how_to_pin() {
    let rustc = run_ok(Command::new("rustc").args(["+xsc", "--version"]));
    let rustc = text(&rustc.stdout);
    let out = run_ok(&mut cargo_xsc(Path::new("/"), &["--version"]));
    let v = text(&out.stdout);
    assert!(v.starts_with("cargo-xsc "), "{v}");
    assert!(v.contains(rustc.trim()), "names {rustc}: {v}");
    assert!(
        v.contains("cargo xsc update -p CRATE --precise VERSION"),
        "{v}"
    );
    assert!(
        v.contains("cargo xsc install --locked CRATE@VERSION"),
        "{v}"
    );
}
