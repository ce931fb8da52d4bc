//! End-to-end tests of the toolchain: the musl fork, std for the XSC
//! targets, the linker wrapper and xsc-cc, run under xsc-run, compared with
//! the same sources built for the host.
//!
//! They use the installed toolchain (`cargo xtask setup` installs it into
//! `$XSC_HOME`, default `~/.xsc`, and registers the `xsc` rustup toolchain).

use std::path::{Path, PathBuf};
use std::process::{Command, Output};
use std::sync::OnceLock;
use std_xsc::testing::{run_ok, text};
use std_xsc::{repo_root, xsc_home, Arch, Sysroot};

fn require_setup() {
    let s = Sysroot::new(&xsc_home(), Arch::X86_64);
    assert!(
        s.is_built() && xsc_home().join("bin/xsc-run").is_file(),
        "the XSC toolchain is not installed in {}: run `cargo xtask setup` first",
        xsc_home().display()
    );
}

/// `cargo +xsc` with a clean environment (the outer cargo's variables must
/// not leak into the inner build).
fn cargo_xsc(dir: &Path) -> Command {
    std_xsc::toolchain::cargo_xsc(dir)
}

fn std_samples() -> PathBuf {
    repo_root().join("samples/std")
}

/// Builds samples/std for `target` (None: the host) once per test run;
/// returns the output directory.
fn build_std_samples(target: Option<&str>) -> PathBuf {
    static HOST: OnceLock<PathBuf> = OnceLock::new();
    static X86: OnceLock<PathBuf> = OnceLock::new();
    static A64: OnceLock<PathBuf> = OnceLock::new();
    let cell = match target {
        None => &HOST,
        Some("x86_64-unknown-linux-xsc") => &X86,
        Some(_) => &A64,
    };
    cell.get_or_init(|| {
        require_setup();
        let mut c = cargo_xsc(&std_samples());
        c.args(["build", "--workspace"]);
        if let Some(t) = target {
            c.args(["--target", t]);
        }
        run_ok(&mut c);
        match target {
            Some(t) => std_samples().join("target").join(t).join("debug"),
            None => std_samples().join("target/debug"),
        }
    })
    .clone()
}

fn xsc_run() -> PathBuf {
    xsc_home().join("bin/xsc-run")
}

fn tmpdir(tag: &str) -> PathBuf {
    let d = std::env::temp_dir().join(format!("xsc-toolchain-{tag}-{}", std::process::id()));
    let _ = std::fs::remove_dir_all(&d);
    std::fs::create_dir_all(&d).unwrap();
    d
}

/// stdout, stderr and the exit status of a run, for comparing.
fn observe(out: &Output) -> (String, String, Option<i32>) {
    (text(&out.stdout), text(&out.stderr), out.status.code())
}

#[test]
fn the_libc_fork_has_no_system_call_instruction() {
    require_setup();
    for arch in Arch::ALL {
        let s = Sysroot::new(&xsc_home(), arch);
        for lib in [
            s.libc(),
            s.lib().join("libxsc_rt.a"),
            s.lib().join("libunwind.a"),
        ] {
            let sites = std_xsc::verify::forbidden_instructions(arch, &lib).unwrap();
            assert!(sites.is_empty(), "{}: {sites:#?}", lib.display());
        }
    }
}

#[test]
fn hello_on_xsc_behaves_like_hello_on_the_host() {
    let host = build_std_samples(None).join("hello");
    let xsc = build_std_samples(Some("x86_64-unknown-linux-xsc")).join("hello");
    let dir = tmpdir("hello");
    let args = [dir.to_str().unwrap(), "3", "one", "two words", "ünïcödé"];
    let native = Command::new(&host)
        .args(args)
        .env("HELLO_NAME", "differential")
        .output()
        .unwrap();
    let on_xsc = Command::new(xsc_run())
        .arg(&xsc)
        .args(args)
        .env("HELLO_NAME", "differential")
        .output()
        .unwrap();
    assert_eq!(observe(&on_xsc), observe(&native));
    assert_eq!(native.status.code(), Some(3));
    assert!(text(&native.stdout).contains("a thread says"));
}

#[test]
fn hello_carries_the_note_and_no_system_call_instruction() {
    let xsc = build_std_samples(Some("x86_64-unknown-linux-xsc")).join("hello");
    let notes = run_ok(Command::new("readelf").arg("-n").arg(&xsc));
    let notes = text(&notes.stdout);
    assert!(notes.contains("XSC"), "{notes}");
    assert!(
        notes.contains("0x00000008"),
        "descriptor of 8 bytes: {notes}"
    );
    let dis = run_ok(Command::new("objdump").arg("-d").arg(&xsc));
    let sites: Vec<&str> = std::str::from_utf8(&dis.stdout)
        .unwrap()
        .lines()
        .filter(|l| {
            let f: Vec<&str> = l.split('\t').collect();
            f.len() >= 3
                && matches!(
                    f[2].split_whitespace().next(),
                    Some("syscall" | "sysenter" | "int")
                )
        })
        .collect();
    assert!(sites.is_empty(), "{sites:#?}");
}

#[test]
fn the_trace_shows_hellos_file_and_thread_operations() {
    let xsc = build_std_samples(Some("x86_64-unknown-linux-xsc")).join("hello");
    let dir = tmpdir("trace");
    let trace = dir.join("trace.txt");
    let out = Command::new(xsc_run())
        .arg(format!("--trace={}", trace.display()))
        .arg(&xsc)
        .args([dir.to_str().unwrap(), "0"])
        .output()
        .unwrap();
    assert_eq!(out.status.code(), Some(0), "{}", text(&out.stderr));
    let t = std::fs::read_to_string(&trace).unwrap();
    let file = dir.join("hello.txt");
    let file = file.display();
    for needle in [
        // The libc opens with openat, as glibc does (musl patch 0010).
        format!("openat(AT_FDCWD, \"{file}\", O_WRONLY|O_CREAT|O_TRUNC|O_LARGEFILE|O_CLOEXEC, 0666) = 3"),
        "write(3, \"written by hello\\n\", 17) = 17".to_string(),
        format!("openat(AT_FDCWD, \"{file}\", O_RDONLY|O_LARGEFILE|O_CLOEXEC, 0) = 3"),
        "read(3, \"written by hello\\n\", ".to_string(),
        format!("unlink(\"{file}\") = 0"),
        "clone(".to_string(),
        "exit(0) = ?".to_string(),
        "exit_group(0) = ?".to_string(),
    ] {
        assert!(t.contains(&needle), "missing `{needle}` in the trace:\n{t}");
    }
    // The spawned thread's own operations carry its thread id.
    let tids: std::collections::BTreeSet<&str> =
        t.lines().filter_map(|l| l.split(' ').next()).collect();
    assert!(tids.len() >= 2, "{t}");
}

fn xsc_cc() -> PathBuf {
    xsc_home().join("bin/xsc-cc")
}

#[test]
fn c_hello_built_with_xsc_cc_behaves_like_the_native_build() {
    require_setup();
    let dir = tmpdir("c");
    let src = repo_root().join("samples/c/hello.c");
    let xsc = dir.join("hello-xsc");
    let native = dir.join("hello-native");
    run_ok(
        Command::new(xsc_cc())
            .args(["-O2", "-pthread"])
            .arg(&src)
            .arg("-o")
            .arg(&xsc),
    );
    run_ok(
        Command::new("cc")
            .args(["-O2", "-pthread"])
            .arg(&src)
            .arg("-o")
            .arg(&native),
    );
    let a = Command::new(xsc_run())
        .arg(&xsc)
        .args([dir.to_str().unwrap(), "4"])
        .output()
        .unwrap();
    let b = Command::new(&native)
        .args([dir.to_str().unwrap(), "4"])
        .output()
        .unwrap();
    assert_eq!(observe(&a), observe(&b));
    assert_eq!(b.status.code(), Some(4));
}

#[test]
fn the_link_fails_on_a_raw_system_call_and_names_it() {
    require_setup();
    let dir = tmpdir("bad");
    let src = dir.join("bad.c");
    std::fs::write(
        &src,
        "long sneaky_getpid(void) { long r; __asm__ volatile (\"syscall\" : \"=a\"(r) : \"a\"(39L) : \"rcx\", \"r11\", \"memory\"); return r; }\nint main(void) { return sneaky_getpid() > 0 ? 0 : 1; }\n",
    )
    .unwrap();
    let obj = dir.join("bad.o");
    run_ok(
        Command::new(xsc_cc())
            .arg("-c")
            .arg(&src)
            .arg("-o")
            .arg(&obj),
    );
    let out_path = dir.join("bad");
    let out = Command::new(xsc_cc())
        .arg(&obj)
        .arg("-o")
        .arg(&out_path)
        .output()
        .unwrap();
    let err = text(&out.stderr);
    assert!(!out.status.success());
    assert!(err.contains("sneaky_getpid"), "{err}");
    assert!(err.contains("bad.o"), "names the object file: {err}");
    assert!(!out_path.exists(), "no half-made binary is left behind");
}

#[test]
fn the_aarch64_target_builds_std_and_links_hello() {
    let a64 = build_std_samples(Some("aarch64-unknown-linux-xsc")).join("hello");
    let data = std::fs::read(&a64).unwrap();
    // ELF64, little-endian, e_machine = EM_AARCH64 (183), static (ET_DYN
    // static-pie with no PT_INTERP: checked by readelf below).
    assert_eq!(&data[..6], b"\x7fELF\x02\x01");
    assert_eq!(u16::from_le_bytes([data[18], data[19]]), 183);
    let hdr = run_ok(Command::new("readelf").args(["-lnW"]).arg(&a64));
    let hdr = text(&hdr.stdout);
    assert!(hdr.contains("XSC"), "{hdr}");
    assert!(!hdr.contains("INTERP"), "{hdr}");
    let sites = std_xsc::verify::forbidden_instructions(Arch::Aarch64, &a64).unwrap();
    assert!(sites.is_empty(), "{sites:#?}");
}

#[test]
fn xsc_cc_answers_questions_about_the_compiler_without_linking() {
    require_setup();
    let v = run_ok(Command::new(xsc_cc()).arg("--version"));
    assert!(!v.stdout.is_empty());
    let p = run_ok(Command::new(xsc_cc()).arg("-print-file-name=crtbeginS.o"));
    let path = PathBuf::from(text(&p.stdout).trim());
    assert!(path.is_absolute() && path.is_file(), "{}", path.display());
}

/// A new project builds for an XSC target against the toolchain's prebuilt
/// std, as a rustup target does: nothing of std is compiled into its target
/// folder, and the program runs.
#[test]
fn a_fresh_project_links_the_prebuilt_std() {
    require_setup();
    for arch in Arch::ALL {
        assert!(
            std_xsc::rust_sysroot::has_std(&xsc_home().join("toolchain"), arch),
            "no prebuilt std for {}: run `cargo xtask setup`",
            arch.xsc_target()
        );
    }
    let dir = tmpdir("fresh");
    run_ok(
        cargo_xsc(&dir)
            .args(["new", "--vcs", "none", "--name", "fresh", "-q"])
            .arg(dir.join("fresh")),
    );
    let project = dir.join("fresh");
    let target = "x86_64-unknown-linux-xsc";
    let out = run_ok(cargo_xsc(&project).args(["build", "-v", "--target", target]));
    let log = text(&out.stderr);
    assert!(
        !log.contains("--crate-name std ") && !log.contains("--crate-name core "),
        "std was compiled for the project:\n{log}"
    );
    let deps = project.join("target").join(target).join("debug/deps");
    let std_rlibs: Vec<String> = std::fs::read_dir(&deps)
        .unwrap()
        .filter_map(|e| e.ok())
        .map(|e| e.file_name().to_string_lossy().into_owned())
        .filter(|n| n.starts_with("libstd-") || n.starts_with("libcore-"))
        .collect();
    assert!(std_rlibs.is_empty(), "{std_rlibs:?} in {}", deps.display());
    let bin = project.join("target").join(target).join("debug/fresh");
    let run = run_ok(Command::new(xsc_run()).arg(&bin));
    assert_eq!(text(&run.stdout), "Hello, world!\n");
    let _ = std::fs::remove_dir_all(&dir);
}

/// `-Zbuild-std` stays available: std (here core alone) is then built from
/// the toolchain's library source instead of taken from the sysroot.
#[test]
fn build_std_on_the_command_line_builds_from_the_toolchains_source() {
    require_setup();
    let dir = tmpdir("buildstd");
    run_ok(
        cargo_xsc(&dir)
            .args(["new", "--lib", "--vcs", "none", "--name", "bare", "-q"])
            .arg(dir.join("bare")),
    );
    let project = dir.join("bare");
    std::fs::write(
        project.join("src/lib.rs"),
        "#![no_std]\npub fn add(a: u32, b: u32) -> u32 { a + b }\n",
    )
    .unwrap();
    let out = run_ok(cargo_xsc(&project).args([
        "check",
        "-v",
        "-Zbuild-std=core",
        "--target",
        "x86_64-unknown-linux-xsc",
    ]));
    let log = text(&out.stderr);
    let source = std_xsc::rust_sysroot::library_source(&xsc_home().join("toolchain"));
    assert!(
        log.contains("--crate-name core ") && log.contains(&*source.to_string_lossy()),
        "core was not built from {}:\n{log}",
        source.display()
    );
    let _ = std::fs::remove_dir_all(&dir);
}

/// A release build with LTO (as many published binaries set in their
/// profile) links the prebuilt std: std carries its bitcode, as rustup's.
#[test]
fn an_lto_release_build_links_the_prebuilt_std() {
    require_setup();
    let dir = tmpdir("lto");
    run_ok(
        cargo_xsc(&dir)
            .args(["new", "--vcs", "none", "--name", "thin", "-q"])
            .arg(dir.join("thin")),
    );
    let project = dir.join("thin");
    let manifest = project.join("Cargo.toml");
    let mut m = std::fs::read_to_string(&manifest).unwrap();
    m.push_str("\n[profile.release]\nlto = true\ncodegen-units = 1\n");
    std::fs::write(&manifest, m).unwrap();
    let target = "x86_64-unknown-linux-xsc";
    run_ok(cargo_xsc(&project).args(["build", "--release", "--target", target]));
    let bin = project.join("target").join(target).join("release/thin");
    let run = run_ok(Command::new(xsc_run()).arg(&bin));
    assert_eq!(text(&run.stdout), "Hello, world!\n");
    let _ = std::fs::remove_dir_all(&dir);
}

/// The toolchain's `rustc -vV` names the prebuilt std it links: cargo
/// fingerprints that output, so after setup rebuilds std, crates compiled
/// against the old one are compiled again instead of failing with
/// "found possibly newer version of crate `std`" (E0460).
#[test]
fn rustc_names_the_prebuilt_std_so_cargo_rebuilds_after_it_changes() {
    require_setup();
    let out = run_ok(Command::new("rustc").args(["+xsc", "-vV"]));
    let v = text(&out.stdout);
    let line = v
        .lines()
        .find(|l| l.starts_with("xsc-std: "))
        .unwrap_or_else(|| panic!("no xsc-std line in:\n{v}"));
    for arch in Arch::ALL {
        let stamp =
            std_xsc::rust_sysroot::std_dir(&xsc_home().join("toolchain"), arch).join(".xsc-stamp");
        let id = std::fs::read_to_string(&stamp).unwrap();
        assert!(line.contains(id.trim()), "{line} lacks {}", stamp.display());
    }
    assert!(v.starts_with("rustc 1."), "{v}");
}
