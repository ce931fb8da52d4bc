//! Installing the XSC toolchain into `$XSC_HOME`:
//!
//! - `bin/`: the tools (xsc-ld, xsc-cc, aarch64-xsc-cc, xsc-run, xsc-vm,
//!   xsc-elfcheck, xsc-sysroot);
//! - `libexec/aarch64/xsc-run`: the aarch64 runner, which `xsc-run` starts
//!   under qemu's user mode for aarch64 programs;
//! - `target-specs/`: the target specs;
//! - `toolchain/`: a rustup toolchain named `xsc` (linked with `rustup
//!   toolchain link`), made of Debian's rustc run with the toolchain's own
//!   sysroot (see `rust_sysroot`: the XSC targets' prebuilt std) and a
//!   `cargo` that sets what building for an XSC target needs, so that
//!   `cargo +xsc build --target x86_64-unknown-linux-xsc` works in any
//!   project (the same idea as espup's `esp` toolchain).

use crate::rust_sysroot;
use std::path::{Path, PathBuf};
use std::process::Command;

/// Where Debian's rust-web-src puts the library source.
pub const LIBRARY_SOURCE: &str = "/usr/lib/rustlib/src/rust/library";
/// The tools installed into `$XSC_HOME/bin`.
pub const TOOLS: &[&str] = &[
    "xsc-ld",
    "xsc-cc",
    "xsc-run",
    "xsc-vm",
    "xsc-elfcheck",
    "xsc-sysroot",
];
/// The name of the rustup toolchain.
pub const TOOLCHAIN: &str = "xsc";

/// Variables an outer cargo or rustup sets that must not leak into a nested
/// cargo run by the tools or tests (they would choose its toolchain,
/// compiler, flags, target or target directory).
pub const LEAKY_ENV: &[&str] = &[
    "RUSTUP_TOOLCHAIN",
    "CARGO",
    "RUSTC",
    "RUSTDOC",
    "RUSTC_WRAPPER",
    "RUSTFLAGS",
    "RUSTDOCFLAGS",
    "CARGO_ENCODED_RUSTFLAGS",
    "CARGO_TARGET_DIR",
    "CARGO_BUILD_TARGET",
];

/// Removes [`LEAKY_ENV`] from `c`.
pub fn clean_env(c: &mut Command) -> &mut Command {
    for var in LEAKY_ENV {
        c.env_remove(var);
    }
    c
}

/// `cargo +xsc` in `dir`, with a clean environment.
pub fn cargo_xsc(dir: &Path) -> Command {
    let mut c = Command::new("cargo");
    c.arg("+xsc").current_dir(dir);
    clean_env(&mut c);
    c
}

/// autoconf's site file for builds under the `xsc` toolchain (its cargo
/// sets `CONFIG_SITE`, which every `configure` reads before it
/// canonicalises the host). autoconf's `config.sub` knows no OS `xsc`; to
/// a C build an XSC target is the musl target whose libc it links (the
/// musl fork), and `xsc-cc` does the rest. Other hosts pass unchanged.
pub const CONFIG_SITE: &str = r#"# config.site of the XSC toolchain (std-xsc): configure scripts run by
# build scripts for an XSC target see the musl triple, which config.sub
# knows; the compiler (xsc-cc) makes the result an XSC program.
for v in host_alias host target_alias target; do
  eval "x=\$$v"
  case "$x" in
    *-unknown-linux-xsc) eval "$v=\${x%-unknown-linux-xsc}-unknown-linux-musl" ;;
  esac
done
"#;

/// The `cargo` of the `xsc` toolchain (a POSIX shell script).
pub fn cargo_script(home: &Path) -> String {
    let home = home.display();
    format!(
        r#"#!/bin/sh
# cargo for the `xsc` toolchain, installed by `cargo xsc setup` (std-xsc).
# Debian's cargo and rustc (1.96) plus what building for an XSC target
# needs: nightly features (RUSTC_BOOTSTRAP), -Zjson-target-spec, the target
# spec's path for `--target <arch>-unknown-linux-xsc`, xsc-ld/xsc-cc on
# PATH, xsc-run as the runner and rustix's libc backend. std comes prebuilt
# from the toolchain's sysroot (lib/rustlib/<target>/lib); where it is
# missing, or when the command line asks for -Zbuild-std, std is built
# from the toolchain's library source, its paths remapped as in the
# host's std.
XSC_HOME="${{XSC_HOME:-{home}}}"
export XSC_HOME
export RUSTC_BOOTSTRAP=1
export RUSTC="${{RUSTC:-$XSC_HOME/toolchain/bin/rustc}}"
export RUSTDOC="${{RUSTDOC:-$XSC_HOME/toolchain/bin/rustdoc}}"
export PATH="$XSC_HOME/bin:$PATH"
rustlib="$XSC_HOME/toolchain/lib/rustlib"
ver=$({debian_rustc} --version 2>/dev/null | cut -d' ' -f2)
flags="--cfg rustix_use_libc --remap-path-prefix=$rustlib/src/rust=/usr/src/rustc-$ver"
for t in X86_64 AARCH64; do
  eval "[ -n \"\$CARGO_TARGET_${{t}}_UNKNOWN_LINUX_XSC_RUNNER\" ] || export CARGO_TARGET_${{t}}_UNKNOWN_LINUX_XSC_RUNNER=xsc-run"
  eval "[ -n \"\$CARGO_TARGET_${{t}}_UNKNOWN_LINUX_XSC_RUSTFLAGS\" ] || export CARGO_TARGET_${{t}}_UNKNOWN_LINUX_XSC_RUSTFLAGS=\"\$flags\""
done
# RUSTFLAGS, when set, would replace the per-target flags: add ours to it.
# (With --target, RUSTFLAGS applies to the target's artifacts only.)
if [ -n "$RUSTFLAGS" ]; then export RUSTFLAGS="$RUSTFLAGS $flags"; fi
export CC_x86_64_unknown_linux_xsc="${{CC_x86_64_unknown_linux_xsc:-xsc-cc}}"
export CC_aarch64_unknown_linux_xsc="${{CC_aarch64_unknown_linux_xsc:-aarch64-xsc-cc}}"
export AR_x86_64_unknown_linux_xsc="${{AR_x86_64_unknown_linux_xsc:-ar}}"
export AR_aarch64_unknown_linux_xsc="${{AR_aarch64_unknown_linux_xsc:-aarch64-linux-gnu-ar}}"
# Native builds that look the target up by name: autoconf's configure is
# told the musl triple (config.site), openssl-sys finds the OpenSSL setup
# built for each XSC target (std-xsc/src/openssl.rs).
[ -n "$CONFIG_SITE" ] || export CONFIG_SITE="$XSC_HOME/share/config.site"
for a in x86_64 aarch64; do
  T=$(echo "$a" | tr a-z A-Z)_UNKNOWN_LINUX_XSC
  o="$XSC_HOME/native/$a/openssl"
  if [ -f "$o/.xsc-stamp" ]; then
    eval "[ -n \"\${{${{T}}_OPENSSL_DIR}}\" ] || export ${{T}}_OPENSSL_DIR=\"\$o\""
    eval "[ -n \"\${{${{T}}_OPENSSL_STATIC}}\" ] || export ${{T}}_OPENSSL_STATIC=1"
    eval "[ -n \"\${{${{T}}_OPENSSL_NO_VENDOR}}\" ] || export ${{T}}_OPENSSL_NO_VENDOR=1"
  fi
done
xsc=0
prebuilt=1
userstd=0
prev=
ddash=0
for arg do
  shift
  if [ "$ddash" = 0 ]; then
    t=
    case "$arg" in
      --) ddash=1 ;;
      -Zbuild-std|-Zbuild-std=*) userstd=1 ;;
      --target=*-unknown-linux-xsc) t="${{arg#--target=}}"; arg="--target=$XSC_HOME/target-specs/$t.json" ;;
      *-unknown-linux-xsc) if [ "$prev" = --target ]; then t="$arg"; arg="$XSC_HOME/target-specs/$t.json"; fi ;;
      *-unknown-linux-xsc.json) t=$(basename "$arg" .json) ;;
    esac
    if [ "$prev" = -Z ]; then case "$arg" in build-std|build-std=*) userstd=1 ;; esac; fi
    if [ -n "$t" ]; then
      xsc=1
      [ -f "$rustlib/$t/lib/.xsc-stamp" ] || prebuilt=0
    fi
  fi
  prev="$arg"
  set -- "$@" "$arg"
done
if [ "$xsc" = 1 ]; then
  # As configuration, not -Z flags: cargo drops the -Z flags given before
  # the subcommand when others follow it (`cargo check -Zbuild-std=core`).
  export CARGO_UNSTABLE_JSON_TARGET_SPEC=true
  if [ "$prebuilt" = 0 ] || [ "$userstd" = 1 ]; then
    if [ ! -d "$rustlib/src/rust/library/std" ]; then
      echo "error: building std for an XSC target needs Rust's library source, which is missing ($rustlib/src/rust/library)." >&2
      echo "       Install it with: cargo xsc setup   (it needs the Debian package rust-web-src)" >&2
      exit 101
    fi
    [ "$userstd" = 1 ] || export CARGO_UNSTABLE_BUILD_STD="${{CARGO_UNSTABLE_BUILD_STD:-std,panic_abort}}"
  fi
fi
exec {debian_cargo} "$@"
"#,
        debian_rustc = rust_sysroot::DEBIAN_RUSTC,
        debian_cargo = rust_sysroot::DEBIAN_CARGO,
    )
}

/// A wrapper that runs Debian's `tool` with this sysroot, unless the
/// caller chose one.
pub fn wrapper_script(tool: &str, toolchain: &Path) -> String {
    format!(
        r#"#!/bin/sh
# {tool} of the `xsc` toolchain (std-xsc): Debian's, with this toolchain's
# sysroot, which holds the XSC targets' prebuilt std beside the host's.
for a do
  case "$a" in --sysroot|--sysroot=*) exec {debian} "$@" ;; esac
done
if [ "$*" = "-vV" ]; then
  # The XSC targets' prebuilt std and libc are part of this compiler:
  # cargo fingerprints what `rustc -vV` prints, so naming their builds here
  # makes cargo rebuild (and relink) what was built with older ones.
  {debian} -vV || exit
  printf 'xsc-std:'
  for f in "{sysroot}"/lib/rustlib/*-unknown-linux-xsc/lib/.xsc-stamp "{sysroot}"/../sysroot/*/.xsc-stamp; do
    [ -f "$f" ] && printf ' %s' "$(cat "$f")"
  done
  echo
  exit 0
fi
exec {debian} --sysroot "{sysroot}" "$@"
"#,
        debian = if tool == "rustdoc" {
            rust_sysroot::DEBIAN_RUSTDOC
        } else {
            rust_sysroot::DEBIAN_RUSTC
        },
        sysroot = toolchain.display()
    )
}

/// The toolchain's `clippy-driver`: Debian's with this sysroot. Cargo runs
/// it as a wrapper, with the rustc path as its first argument, which must
/// stay first.
pub fn clippy_driver_script(toolchain: &Path) -> String {
    format!(
        r#"#!/bin/sh
# clippy-driver of the `xsc` toolchain (std-xsc): Debian's, with this
# toolchain's sysroot.
for a do
  case "$a" in --sysroot|--sysroot=*) exec {debian} "$@" ;; esac
done
case "$1" in
  */rustc|rustc) r="$1"; shift; exec {debian} "$r" --sysroot "{sysroot}" "$@" ;;
esac
exec {debian} --sysroot "{sysroot}" "$@"
"#,
        debian = rust_sysroot::DEBIAN_CLIPPY_DRIVER,
        sysroot = toolchain.display()
    )
}

/// Makes `lib/rustlib` a directory of its own: the host's entries of
/// Debian's sysroot linked, `src/` and the XSC targets ours.
pub fn install_layout(toolchain: &Path) -> Result<(), String> {
    let rl = rust_sysroot::rustlib(toolchain);
    // An older install linked all of lib/rustlib to Debian's.
    if rl.is_symlink() {
        std::fs::remove_file(&rl).map_err(|e| format!("cannot replace {}: {e}", rl.display()))?;
    }
    std::fs::create_dir_all(&rl).map_err(|e| format!("cannot create {}: {e}", rl.display()))?;
    let entries = std::fs::read_dir(rust_sysroot::DEBIAN_RUSTLIB).map_err(|e| {
        format!(
            "cannot read {}: {e} (install rustc-web and rust-web-src)",
            rust_sysroot::DEBIAN_RUSTLIB
        )
    })?;
    for e in entries {
        let e = e.map_err(|e| e.to_string())?;
        let name = e.file_name();
        if name == "src" {
            continue;
        }
        let link = rl.join(&name);
        let _ = std::fs::remove_file(&link);
        std::os::unix::fs::symlink(e.path(), &link)
            .map_err(|e| format!("cannot link {}: {e}", link.display()))?;
    }
    Ok(())
}

fn copy(from: &Path, to: &Path) -> Result<(), String> {
    // Replace rather than overwrite: the old file may be running.
    let _ = std::fs::remove_file(to);
    std::fs::copy(from, to)
        .map(|_| ())
        .map_err(|e| format!("cannot copy {} to {}: {e}", from.display(), to.display()))
}

fn symlink(target: &Path, link: &Path) -> Result<(), String> {
    let _ = std::fs::remove_file(link);
    std::os::unix::fs::symlink(target, link)
        .map_err(|e| format!("cannot link {}: {e}", link.display()))
}

pub(crate) fn make_executable(p: &Path) -> Result<(), String> {
    use std::os::unix::fs::PermissionsExt;
    std::fs::set_permissions(p, std::fs::Permissions::from_mode(0o755)).map_err(|e| e.to_string())
}

/// Installs the tools from `tools_dir` (a cargo output directory), the
/// target specs and the `xsc` toolchain into `home`; returns what it did.
pub fn install(home: &Path, repo: &Path, tools_dir: &Path) -> Result<Vec<String>, String> {
    let mut log = Vec::new();
    let bin = home.join("bin");
    std::fs::create_dir_all(&bin).map_err(|e| e.to_string())?;
    for tool in TOOLS {
        copy(&crate::setup::built_tool(tools_dir, tool), &bin.join(tool))?;
    }
    symlink(&bin.join("xsc-cc"), &bin.join("aarch64-xsc-cc"))?;
    // The aarch64 runner, which bin/xsc-run starts under qemu for aarch64
    // programs (xsc-run's `foreign`).
    let libexec = home.join("libexec/aarch64");
    std::fs::create_dir_all(&libexec).map_err(|e| e.to_string())?;
    copy(
        &crate::setup::built_runner(tools_dir, crate::Arch::Aarch64),
        &libexec.join("xsc-run"),
    )?;
    log.push(format!(
        "installed {} into {}",
        TOOLS.join(", "),
        bin.display()
    ));

    let specs = home.join("target-specs");
    std::fs::create_dir_all(&specs).map_err(|e| e.to_string())?;
    for e in std::fs::read_dir(repo.join("target-specs")).map_err(|e| e.to_string())? {
        let p = e.map_err(|e| e.to_string())?.path();
        if p.extension().is_some_and(|x| x == "json") {
            copy(&p, &specs.join(p.file_name().unwrap_or_default()))?;
        }
    }
    log.push(format!(
        "installed the target specs into {}",
        specs.display()
    ));

    let tc = home.join("toolchain");
    let tc_bin = tc.join("bin");
    std::fs::create_dir_all(&tc_bin).map_err(|e| e.to_string())?;
    // rustc and rustdoc run Debian's with this toolchain's sysroot, which
    // holds the XSC targets' prebuilt std (rust_sysroot).
    for tool in ["rustc", "rustdoc"] {
        let path = tc_bin.join(tool);
        let _ = std::fs::remove_file(&path);
        std::fs::write(&path, wrapper_script(tool, &tc))
            .map_err(|e| format!("cannot write {}: {e}", path.display()))?;
        make_executable(&path)?;
    }
    install_layout(&tc)?;
    // clippy: Debian's cargo-clippy runs the clippy-driver beside its own
    // path, so it is copied (not linked) next to a driver wrapper that adds
    // the sysroot (after the rustc path cargo passes first).
    if Path::new(rust_sysroot::DEBIAN_CARGO_CLIPPY).is_file() {
        copy(
            Path::new(rust_sysroot::DEBIAN_CARGO_CLIPPY),
            &tc_bin.join("cargo-clippy"),
        )?;
        make_executable(&tc_bin.join("cargo-clippy"))?;
        let driver = tc_bin.join("clippy-driver");
        let _ = std::fs::remove_file(&driver);
        std::fs::write(&driver, clippy_driver_script(&tc))
            .map_err(|e| format!("cannot write {}: {e}", driver.display()))?;
        make_executable(&driver)?;
    }
    let share = home.join("share");
    std::fs::create_dir_all(&share).map_err(|e| e.to_string())?;
    std::fs::write(share.join("config.site"), CONFIG_SITE)
        .map_err(|e| format!("cannot write {}: {e}", share.join("config.site").display()))?;
    let cargo = tc_bin.join("cargo");
    let _ = std::fs::remove_file(&cargo);
    std::fs::write(&cargo, cargo_script(home)).map_err(|e| e.to_string())?;
    make_executable(&cargo)?;
    log.push(format!(
        "wrote the `{TOOLCHAIN}` toolchain into {}",
        tc.display()
    ));
    if let Some(rustup) = find_rustup() {
        let out = Command::new(&rustup)
            .args(["toolchain", "link", TOOLCHAIN])
            .arg(&tc)
            .output()
            .map_err(|e| format!("cannot run rustup: {e}"))?;
        if !out.status.success() {
            return Err(format!(
                "rustup toolchain link failed: {}",
                String::from_utf8_lossy(&out.stderr)
            ));
        }
        log.push(format!(
            "registered it with rustup: `cargo +{TOOLCHAIN} ...` now uses it"
        ));
    } else {
        log.push(format!(
            "rustup not found: use {} directly",
            cargo.display()
        ));
    }
    Ok(log)
}

/// `$CARGO_HOME`, or `~/.cargo`.
pub fn cargo_home() -> Option<PathBuf> {
    std::env::var_os("CARGO_HOME")
        .map(PathBuf::from)
        .or_else(|| std::env::var_os("HOME").map(|h| PathBuf::from(h).join(".cargo")))
}

fn find_rustup() -> Option<PathBuf> {
    let candidate = cargo_home()?.join("bin/rustup");
    if candidate.is_file() {
        return Some(candidate);
    }
    std::env::var_os("PATH")?
        .to_str()?
        .split(':')
        .map(|d| Path::new(d).join("rustup"))
        .find(|p| p.is_file())
}
