//! `cargo xsc` end to end: a fresh project outside the repository, the
//! ecosystem samples (rustix through tempfile, a -sys crate, tokio) against
//! their host builds, and a crate that still brings a raw system call.
//!
//! Needs the toolchain installed (`cargo xtask setup`).

use std::path::{Path, PathBuf};
use std::process::Command;
use std::sync::OnceLock;
use std_xsc::testing::{run_ok, text};
use std_xsc::Arch;

fn repo() -> PathBuf {
    Path::new(env!("CARGO_MANIFEST_DIR"))
        .parent()
        .unwrap()
        .to_path_buf()
}

fn xsc_run() -> PathBuf {
    std_xsc::xsc_home().join("bin/xsc-run")
}

/// `cargo xsc ARGS` (this crate's binary, invoked as cargo invokes it).
fn cargo_xsc(dir: &Path, args: &[&str]) -> Command {
    let mut c = Command::new(env!("CARGO_BIN_EXE_cargo-xsc"));
    c.arg("xsc").args(args).current_dir(dir);
    std_xsc::toolchain::clean_env(&mut c);
    c
}

fn tmpdir(tag: &str) -> PathBuf {
    let d = std::env::temp_dir().join(format!("cargo-xsc-{tag}-{}", std::process::id()));
    let _ = std::fs::remove_dir_all(&d);
    std::fs::create_dir_all(&d).unwrap();
    d
}

#[test]
fn a_fresh_project_outside_the_repository_builds_runs_and_tests() {
    fresh_project(Arch::X86_64)
}

/// The same for aarch64: `--target aarch64-unknown-linux-xsc` on each
/// command; `cargo xsc run` and `test` go through the target's runner
/// (xsc-run, which starts its aarch64 build under qemu).
#[test]
fn a_fresh_project_builds_runs_and_tests_for_aarch64() {
    fresh_project(Arch::Aarch64)
}

/// `cargo new`, then `cargo xsc build`, `run` and `test` for `arch` (the
/// default target, given no `--target`, for x86_64).
fn fresh_project(arch: Arch) {
    let dir = tmpdir(&format!("fresh-{arch}"));
    let status = Command::new("cargo")
        .args(["new", "--quiet", "fresh"])
        .current_dir(&dir)
        .status()
        .unwrap();
    assert!(status.success());
    let proj = dir.join("fresh");
    std::fs::write(
        proj.join("src/main.rs"),
        r#"fn double(x: u32) -> u32 { x * 2 }
fn main() {
    let args: Vec<String> = std::env::args().skip(1).collect();
    println!("fresh: double of {} is {}", args.len(), double(args.len() as u32));
    std::process::exit(double(3) as i32);
}
#[cfg(test)]
mod tests {
    #[test]
    fn doubles() { assert_eq!(super::double(21), 42); }
    #[test]
    fn in_a_thread() {
        println!("captured by libtest");
        assert_eq!(std::thread::spawn(|| super::double(1)).join().unwrap(), 2);
    }
    #[test]
    #[ignore]
    fn fails_when_asked() { assert_eq!(super::double(1), 3, "this one fails"); }
}
"#,
    )
    .unwrap();
    // Share the std build of the samples' target directory (std is built
    // once per target directory; cargo's fingerprints keep them apart).
    let target_dir = repo().join("samples/std/target");
    let td = target_dir.to_str().unwrap();
    let target = arch.xsc_target();
    let cmd = |sub: &str, rest: &[&str]| {
        let mut args = vec![sub, "--target-dir", td];
        if arch != Arch::X86_64 {
            args.extend(["--target", &target]);
        }
        args.extend(rest);
        cargo_xsc(&proj, &args)
    };
    let out = run_ok(&mut cmd("build", &[]));
    assert!(
        text(&out.stderr).contains("cargo-xsc: verified"),
        "{}",
        text(&out.stderr)
    );
    let exe = target_dir.join(&target).join("debug/fresh");
    let machine = {
        use object::Object;
        object::read::File::parse(&*std::fs::read(&exe).unwrap())
            .unwrap()
            .architecture()
    };
    assert_eq!(
        machine,
        match arch {
            Arch::X86_64 => object::Architecture::X86_64,
            Arch::Aarch64 => object::Architecture::Aarch64,
        }
    );
    let out = Command::new(xsc_run())
        .arg(&exe)
        .args(["a", "b"])
        .output()
        .unwrap();
    assert_eq!(text(&out.stdout), "fresh: double of 2 is 4\n");
    assert_eq!(out.status.code(), Some(6));

    let out = cmd("run", &["--", "x"]).output().unwrap();
    assert_eq!(text(&out.stdout), "fresh: double of 1 is 2\n");
    assert_eq!(
        out.status.code(),
        Some(6),
        "cargo xsc run passes the exit status on"
    );

    let out = run_ok(&mut cmd("test", &[]));
    let stdout = text(&out.stdout);
    assert!(
        stdout.contains("test result: ok. 2 passed; 0 failed; 1 ignored"),
        "{stdout}"
    );
    assert!(
        !stdout.contains("captured by libtest"),
        "output capture works: {stdout}"
    );
    let out = cmd("test", &["--", "--ignored"]).output().unwrap();
    assert!(!out.status.success());
    assert!(
        text(&out.stdout).contains("this one fails"),
        "{}",
        text(&out.stdout)
    );
}

/// Builds samples/ecosystem for the XSC target of `arch` (with cargo xsc)
/// and natively, once per architecture: for x86_64 the host's own build;
/// for aarch64 `aarch64-unknown-linux-musl` with std built from the
/// toolchain's source and linked with plain musl, run under qemu through
/// binfmt_misc (as the std samples' differential tests do).
fn ecosystem(arch: Arch) -> &'static (PathBuf, PathBuf) {
    static BUILT: [OnceLock<(PathBuf, PathBuf)>; 2] = [OnceLock::new(), OnceLock::new()];
    BUILT[arch as usize].get_or_init(|| {
        let dir = repo().join("samples/ecosystem");
        let xsc_target = arch.xsc_target();
        let out = run_ok(&mut cargo_xsc(
            &dir,
            &["build", "--workspace", "--target", &xsc_target],
        ));
        let verified = text(&out.stderr).matches("cargo-xsc: verified").count();
        let meta = cargo_metadata::MetadataCommand::new()
            .current_dir(&dir)
            .no_deps()
            .exec()
            .unwrap();
        let bins = meta
            .workspace_packages()
            .iter()
            .flat_map(|p| &p.targets)
            .filter(|t| t.is_bin())
            .count();
        assert!(bins >= 3);
        assert_eq!(
            verified,
            bins,
            "every binary verified: {}",
            text(&out.stderr)
        );
        let mut native = std_xsc::toolchain::cargo_xsc(&dir);
        native.args(["build", "--workspace"]);
        let native_dir = match arch {
            Arch::X86_64 => dir.join("target/debug"),
            Arch::Aarch64 => {
                assert!(
                    std_xsc::binfmt::aarch64_registered(),
                    "aarch64 executables do not run on this host: run `cargo xtask setup` as root"
                );
                let target = std_xsc::host_musl::rust_target(arch);
                // A target folder of its own: its build scripts run with
                // other variables than the XSC build's and the host's, and
                // would otherwise make each other's stale.
                let own = dir.join("target/native-aarch64");
                native.args(["--target", &target, "-Zbuild-std=std,panic_abort"]);
                native.arg("--target-dir").arg(&own);
                for (k, v) in std_xsc::host_musl::native_cargo_env(&std_xsc::xsc_home(), arch)
                    .unwrap_or_else(|e| panic!("{e}"))
                {
                    native.env(k, v);
                }
                own.join(target).join("debug")
            }
        };
        run_ok(&mut native);
        (
            dir.join("target").join(xsc_target).join("debug"),
            native_dir,
        )
    })
}

fn differential(arch: Arch, bin: &str, with_dir: bool) {
    let (xsc, host) = ecosystem(arch);
    let dir = tmpdir(&format!("{bin}-{arch}"));
    let args: Vec<&str> = if with_dir {
        vec![dir.to_str().unwrap()]
    } else {
        vec![]
    };
    let native = Command::new(host.join(bin)).args(&args).output().unwrap();
    let on_xsc = Command::new(xsc_run())
        .arg(xsc.join(bin))
        .args(&args)
        .output()
        .unwrap();
    assert_eq!(
        (
            text(&on_xsc.stdout),
            text(&on_xsc.stderr),
            on_xsc.status.code()
        ),
        (
            text(&native.stdout),
            text(&native.stderr),
            native.status.code()
        )
    );
    assert_eq!(native.status.code(), Some(0), "{}", text(&native.stderr));
    assert!(!native.stdout.is_empty());
}

/// Each ecosystem sample, natively and on XSC, for both architectures.
/// (seccompiler-user builds for both; it runs in xsc-run's own tests, for
/// x86_64 only: qemu has no seccomp.)
macro_rules! ecosystem_tests {
    ($($name:ident: $bin:literal, $with_dir:expr, $doc:literal;)*) => {
        mod ecosystem_x86_64 {
            $(#[doc = $doc] #[test] fn $name() { super::differential(std_xsc::Arch::X86_64, $bin, $with_dir) })*
        }
        mod ecosystem_aarch64 {
            $(#[doc = $doc] #[test] fn $name() { super::differential(std_xsc::Arch::Aarch64, $bin, $with_dir) })*
        }
    };
}

ecosystem_tests! {
    rustix_through_tempfile_matches_native: "tempfile-user", true,
        "rustix (libc backend) through tempfile.";
    a_sys_crate_compiled_by_xsc_cc_matches_native: "zstd-user", false,
        "zstd-sys, C compiled by xsc-cc.";
    autoconf_openssl_and_cmake_builds_match_native: "native-builds", false,
        "Native builds that look the target up by name (autoconf's config.sub, openssl-src's table, the cmake crate) work for an XSC target unchanged.";
    tokio_echo_on_the_multi_threaded_runtime_matches_native: "tokio-echo", false,
        "tokio's multi-threaded runtime, TCP and timers.";
}

#[test]
fn a_crate_issuing_raw_system_calls_fails_the_link_with_advice() {
    // rustix with its default backend (the xsc toolchain's
    // `--cfg rustix_use_libc` overridden): the link must fail and say why.
    let dir = repo().join("samples/ecosystem");
    let target_dir = repo().join("target/xsc-rustix-raw");
    let out = cargo_xsc(
        &dir,
        &[
            "build",
            "-p",
            "tempfile-user",
            "--target-dir",
            target_dir.to_str().unwrap(),
        ],
    )
    .env(
        "CARGO_TARGET_X86_64_UNKNOWN_LINUX_XSC_RUSTFLAGS",
        "-Cdebuginfo=1",
    )
    .output()
    .unwrap();
    assert!(!out.status.success());
    let err = text(&out.stderr);
    assert!(
        err.contains("failed XSC verification and was not written"),
        "{err}"
    );
    assert!(
        err.contains("in function `rustix::backend::"),
        "names the function: {err}"
    );
    assert!(err.contains("(crate `rustix`)"), "names the crate: {err}");
    assert!(
        err.contains("--cfg rustix_use_libc"),
        "says what to do: {err}"
    );
    assert!(!target_dir
        .join("x86_64-unknown-linux-xsc/debug/tempfile-user")
        .exists());
}
