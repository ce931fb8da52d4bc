//! Watching cargo's standard error while passing it on, to add one line
//! of advice when a package needs a newer Rust than the toolchain's
//! (cargo's "requires rustc X" errors).
//!
//! cargo colours its output and draws its progress bar only when its
//! standard error is a terminal; when ours is one, the pipe in between is
//! made to look like it through cargo's own settings (`CARGO_TERM_COLOR`,
//! `CARGO_TERM_PROGRESS_WHEN`/`_WIDTH`), unless the user set them.

use std::io::{IsTerminal, Read, Write};
use std::process::{Child, Command, Stdio};
use std::thread::JoinHandle;

/// A package cargo said needs a newer rustc.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct TooNew {
    /// `name` (and version, when cargo gave it).
    pub package: String,
    pub version: Option<String>,
    /// The rustc it requires.
    pub requires: String,
    /// Whether it came from `cargo install` (a program, not a dependency).
    pub install: bool,
}

/// Strips ANSI escape sequences (cargo's colours).
fn plain(line: &str) -> String {
    let mut out = String::with_capacity(line.len());
    let mut chars = line.chars();
    while let Some(c) = chars.next() {
        if c == '\u{1b}' {
            // CSI: ESC [ ... final byte in @..~
            if chars.next() == Some('[') {
                for d in chars.by_ref() {
                    if ('@'..='~').contains(&d) {
                        break;
                    }
                }
            }
        } else {
            out.push(c);
        }
    }
    out
}

/// Reads one line of cargo's standard error.
///
/// - `  name@1.2.3 requires rustc 1.97` (a package of the build; cargo
///   lists them after "rustc 1.96.0 is not supported by the following
///   package(s):"),
/// - ``error: cannot install package `name 1.2.3`, it requires rustc 1.97
///   or newer, while the currently active rustc version is 1.96.0``.
pub fn parse_line(line: &str) -> Option<TooNew> {
    let line = plain(line);
    let line = line.trim();
    if let Some(rest) = line
        .strip_prefix("error: cannot install package `")
        .or_else(|| line.strip_prefix("cannot install package `"))
    {
        let (pkg, rest) = rest.split_once('`')?;
        let requires = rest
            .split_once("requires rustc ")?
            .1
            .split_whitespace()
            .next()?;
        let (name, version) = match pkg.split_once(' ') {
            Some((n, v)) => (n, Some(v.to_string())),
            None => (pkg, None),
        };
        return Some(TooNew {
            package: name.to_string(),
            version,
            requires: requires.trim_end_matches(',').to_string(),
            install: true,
        });
    }
    let (pkg, requires) = line.split_once(" requires rustc ")?;
    if pkg.contains(' ') {
        return None;
    }
    let (name, version) = match pkg.split_once('@') {
        Some((n, v)) => (n, Some(v.to_string())),
        None => (pkg, None),
    };
    Some(TooNew {
        package: name.to_string(),
        version,
        requires: requires.split_whitespace().next()?.to_string(),
        install: false,
    })
}

/// The one line of advice for `t`, the toolchain being rustc `have`.
pub fn advice(t: &TooNew, have: &str) -> String {
    let what = match &t.version {
        Some(v) => format!("{}@{v}", t.package),
        None => t.package.clone(),
    };
    let fix = if t.install {
        format!(
            "install a release of it that supports {have}: `cargo xsc install --locked {}@<VERSION>`",
            t.package
        )
    } else {
        format!(
            "pin a release of it that supports {have}: `cargo xsc update -p {} --precise <VERSION>`, or let cargo choose: `CARGO_RESOLVER_INCOMPATIBLE_RUST_VERSIONS=fallback cargo xsc update`",
            t.package
        )
    };
    format!(
        "cargo-xsc: {what} requires rustc {}, but the `xsc` toolchain is rustc {have} (Debian's; rustup cannot update it): {fix}",
        t.requires
    )
}

/// Terminal columns of our standard error, if it is a terminal.
fn columns() -> Option<u16> {
    // SAFETY: TIOCGWINSZ writes a `winsize` into the one we pass.
    let mut ws: libc::winsize = unsafe { std::mem::zeroed() };
    let r = unsafe { libc::ioctl(2, libc::TIOCGWINSZ, &mut ws) };
    (r == 0 && ws.ws_col > 0).then_some(ws.ws_col)
}

/// Starts `c` with its standard error passed on through us and watched;
/// `install`: it is `cargo install` (the advice is then to install an older
/// release, whatever package cargo names).
pub fn spawn(c: &mut Command, args: &[String], install: bool) -> std::io::Result<Watched> {
    if std::io::stderr().is_terminal() {
        let set = |v: &str| std::env::var_os(v).is_some();
        if !set("CARGO_TERM_COLOR") && !args.iter().any(|a| a.starts_with("--color")) {
            c.env("CARGO_TERM_COLOR", "always");
        }
        if !set("CARGO_TERM_PROGRESS_WHEN") {
            if let Some(cols) = columns() {
                c.env("CARGO_TERM_PROGRESS_WHEN", "always")
                    .env("CARGO_TERM_PROGRESS_WIDTH", cols.to_string());
            }
        }
    }
    c.stderr(Stdio::piped());
    let mut child = c.spawn()?;
    let mut err = child.stderr.take().expect("stderr is piped");
    let reader = std::thread::spawn(move || {
        let mut found = Vec::new();
        let mut line = Vec::new();
        let mut buf = [0u8; 8192];
        let mut out = std::io::stderr();
        loop {
            let n = match err.read(&mut buf) {
                Ok(0) | Err(_) => break,
                Ok(n) => n,
            };
            let _ = out.write_all(&buf[..n]);
            let _ = out.flush();
            for &b in &buf[..n] {
                if b == b'\n' || b == b'\r' {
                    if let Some(mut t) = parse_line(&String::from_utf8_lossy(&line)) {
                        t.install |= install;
                        if !found.contains(&t) {
                            found.push(t);
                        }
                    }
                    line.clear();
                } else if line.len() < 4096 {
                    line.push(b);
                }
            }
        }
        found
    });
    Ok(Watched { child, reader })
}

/// A running cargo whose standard error is watched.
pub struct Watched {
    pub child: Child,
    reader: JoinHandle<Vec<TooNew>>,
}

impl Watched {
    /// Waits for cargo; on failure, prints the advice for what it found.
    pub fn wait(mut self) -> std::io::Result<std::process::ExitStatus> {
        let status = self.child.wait()?;
        let found = self.reader.join().unwrap_or_default();
        if !status.success() && !found.is_empty() {
            let have = crate::toolchain_rustc()
                .and_then(|v| v.split_whitespace().nth(1).map(str::to_string))
                .unwrap_or_else(|| "of the toolchain".into());
            for t in &found {
                eprintln!("{}", advice(t, &have));
            }
        }
        Ok(status)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn reads_cargos_rust_version_errors() {
        assert_eq!(
            parse_line("  rv@0.1.0 requires rustc 1.99"),
            Some(TooNew {
                package: "rv".into(),
                version: Some("0.1.0".into()),
                requires: "1.99".into(),
                install: false
            })
        );
        assert_eq!(
            parse_line("    \u{1b}[1mhyperfine@2.0.0\u{1b}[0m requires rustc 1.97.0"),
            Some(TooNew {
                package: "hyperfine".into(),
                version: Some("2.0.0".into()),
                requires: "1.97.0".into(),
                install: false
            })
        );
        let t = parse_line("error: cannot install package `hyperfine 2.0.0`, it requires rustc 1.97 or newer, while the currently active rustc version is 1.96.0").unwrap();
        assert_eq!(
            (
                t.package.as_str(),
                t.version.as_deref(),
                t.requires.as_str(),
                t.install
            ),
            ("hyperfine", Some("2.0.0"), "1.97", true)
        );
        assert!(advice(&t, "1.96.0").contains("cargo xsc install --locked hyperfine@<VERSION>"));
        assert_eq!(parse_line("   Compiling rv v0.1.0 (/tmp/rv)"), None);
        assert_eq!(
            parse_line("note: this crate requires rustc 1.97 for foo"),
            None,
            "only cargo's forms"
        );
    }
}
