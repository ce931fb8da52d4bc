//! What cargo-xsc needs to know about a cargo command line it forwards:
//! which subcommands take `--target` (and which take a target another way,
//! or none), the targets asked for, quiet, and the message format.
//!
//! The table follows `cargo help <command>` of the toolchain's cargo
//! (1.96). `add` and `remove` have a `--target` that means something else
//! (the target-specific dependency table), so they get no target.

/// An XSC target triple.
pub const XSC_TARGETS: [&str; 2] = ["x86_64-unknown-linux-xsc", "aarch64-unknown-linux-xsc"];
/// The target added when none is given.
pub const DEFAULT_TARGET: &str = XSC_TARGETS[0];

/// How a cargo subcommand takes a target platform.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum TargetOption {
    /// `--target <TRIPLE>`.
    Target,
    /// `cargo metadata --filter-platform <TRIPLE>`.
    FilterPlatform,
    /// No target (`new`, `init`, `search`, `login`, `update`, `add`, ...,
    /// and subcommands this table does not know).
    None,
}

/// The subcommand a cargo alias stands for (`b` is `build`, ...).
pub fn canonical(sub: &str) -> &str {
    match sub {
        "b" => "build",
        "c" => "check",
        "d" => "doc",
        "r" => "run",
        "t" => "test",
        "rm" => "remove",
        other => other,
    }
}

/// How `sub` (canonical) takes a target.
pub fn target_option(sub: &str) -> TargetOption {
    match sub {
        "build" | "check" | "clean" | "doc" | "run" | "test" | "bench" | "publish" | "install"
        | "fetch" | "fix" | "package" | "rustc" | "rustdoc" | "tree" | "clippy" => {
            TargetOption::Target
        }
        "metadata" => TargetOption::FilterPlatform,
        _ => TargetOption::None,
    }
}

/// Whether `value` of a target option names an XSC target: a triple, or
/// the path of one of their specs (`.../x86_64-unknown-linux-xsc.json`).
pub fn is_xsc_target(value: &str) -> bool {
    let name = value.rsplit('/').next().unwrap_or(value);
    let name = name.strip_suffix(".json").unwrap_or(name);
    XSC_TARGETS.contains(&name)
}

/// The arguments before the first `--` (cargo's own), and the rest.
pub fn split_ddash(args: &[String]) -> (&[String], &[String]) {
    match args.iter().position(|a| a == "--") {
        Some(i) => (&args[..i], &args[i..]),
        None => (args, &[]),
    }
}

/// Cargo's arguments without `--kernel` (cargo-xsc's own flag for `run`,
/// `test` and `bench`: run on the XSC kernel with xsc-vm), and whether it
/// was there.
pub fn take_kernel_flag(before: &[String]) -> (Vec<String>, bool) {
    let kept: Vec<String> = before
        .iter()
        .filter(|a| *a != "--kernel")
        .cloned()
        .collect();
    let found = kept.len() != before.len();
    (kept, found)
}

/// The values of option `--NAME` (as `--NAME V` or `--NAME=V`) in cargo's
/// arguments. `--NAME` last, or followed by another flag, has no value
/// (cargo's `--target` alone lists the targets).
pub fn values_of(args: &[String], name: &str) -> Vec<String> {
    let long = format!("--{name}");
    let eq = format!("--{name}=");
    let mut out = Vec::new();
    let mut it = args.iter().peekable();
    while let Some(a) = it.next() {
        if let Some(v) = a.strip_prefix(&eq) {
            out.push(v.to_string());
        } else if *a == long {
            if let Some(v) = it.peek().filter(|v| !v.starts_with('-')) {
                out.push(v.to_string());
                it.next();
            }
        }
    }
    out
}

/// Whether cargo's arguments ask for quiet output (`-q`, `--quiet`, or a
/// cluster of cargo's value-less short flags holding `q`, such as `-qr`),
/// or the environment does (`CARGO_TERM_QUIET=true`).
pub fn quiet(args: &[String]) -> bool {
    let in_args = args.iter().any(|a| {
        a == "--quiet"
            || a.strip_prefix('-').is_some_and(|s| {
                !s.starts_with('-')
                    && s.contains('q')
                    && s.chars().all(|c| matches!(c, 'q' | 'v' | 'r'))
            })
    });
    in_args || std::env::var("CARGO_TERM_QUIET").is_ok_and(|v| v == "true")
}

/// The `--message-format` values asked for (comma-separated lists split).
pub fn message_formats(args: &[String]) -> Vec<String> {
    values_of(args, "message-format")
        .iter()
        .flat_map(|v| v.split(','))
        .map(|s| s.trim().to_string())
        .filter(|s| !s.is_empty())
        .collect()
}

/// `args` without any `--message-format` option.
pub fn without_message_format(args: &[String]) -> Vec<String> {
    let mut out = Vec::new();
    let mut skip_next = false;
    for a in args {
        if skip_next {
            skip_next = false;
        } else if a == "--message-format" {
            skip_next = true;
        } else if !a.starts_with("--message-format=") {
            out.push(a.clone());
        }
    }
    out
}

/// `cargo xsc -q build` as `cargo xsc build -q`: cargo's global options
/// given before the subcommand (as `cargo -q build` allows) moved after
/// it. `argv` is the whole command line (`cargo-xsc xsc ...`).
pub fn globals_after_subcommand(argv: Vec<String>) -> Vec<String> {
    const WITH_VALUE: [&str; 4] = ["--color", "--config", "-Z", "-C"];
    let Some(xsc) = argv.iter().position(|a| a == "xsc") else {
        return argv;
    };
    let mut globals = Vec::new();
    let mut i = xsc + 1;
    while let Some(a) = argv.get(i) {
        let ours = matches!(a.as_str(), "-V" | "--version" | "-h" | "--help");
        if !a.starts_with('-') || a == "--" || ours {
            break;
        }
        globals.push(a.clone());
        if WITH_VALUE.contains(&a.as_str()) {
            if let Some(v) = argv.get(i + 1) {
                globals.push(v.clone());
                i += 1;
            }
        }
        i += 1;
    }
    if globals.is_empty()
        || i >= argv.len()
        || ["setup", "--version", "-V", "-h", "--help"].contains(&argv[i].as_str())
    {
        return argv;
    }
    let mut out = argv[..=xsc].to_vec();
    out.push(argv[i].clone());
    out.extend(globals);
    out.extend_from_slice(&argv[i + 1..]);
    out
}

/// What to do with the target of a forwarded command.
#[derive(Debug, PartialEq, Eq)]
pub enum Targeting {
    /// Add these arguments (the default target).
    Add(Vec<String>),
    /// The command line already names XSC targets (or the subcommand
    /// takes none): nothing to add.
    Keep,
    /// A target that is not XSC: refuse, with this one-line message.
    Refuse(String),
}

/// Decides the target of `sub` (canonical) with cargo's arguments `before`
/// (those before `--`). `spec_dir` is where the target specs are (for
/// `--filter-platform`, which the toolchain's cargo does not map to a spec).
pub fn targeting(sub: &str, before: &[String], spec_dir: &std::path::Path) -> Targeting {
    let option = match target_option(sub) {
        TargetOption::None => return Targeting::Keep,
        TargetOption::Target => "target",
        TargetOption::FilterPlatform => "filter-platform",
    };
    let given = values_of(before, option);
    for v in &given {
        // `cargo tree --target all` shows every platform's dependencies.
        if !(is_xsc_target(v) || (sub == "tree" && v == "all")) {
            return Targeting::Refuse(format!(
                "`--{option} {v}` is not an XSC target: cargo xsc builds for {} (the default) and {} only; use plain cargo for other targets",
                XSC_TARGETS[0], XSC_TARGETS[1]
            ));
        }
    }
    let bare = before.iter().any(|a| *a == format!("--{option}"));
    if !given.is_empty() || bare {
        return Targeting::Keep;
    }
    match option {
        "target" => Targeting::Add(vec!["--target".into(), DEFAULT_TARGET.into()]),
        _ => Targeting::Add(vec![
            "--filter-platform".into(),
            spec_dir
                .join(format!("{DEFAULT_TARGET}.json"))
                .to_string_lossy()
                .into_owned(),
        ]),
    }
}

/// `cargo metadata --filter-platform TRIPLE`: the toolchain's cargo maps
/// `--target TRIPLE` to the spec file, not `--filter-platform`; do it here.
pub fn filter_platform_to_spec(before: &[String], spec_dir: &std::path::Path) -> Vec<String> {
    let spec = |t: &str| {
        if XSC_TARGETS.contains(&t) {
            spec_dir
                .join(format!("{t}.json"))
                .to_string_lossy()
                .into_owned()
        } else {
            t.to_string()
        }
    };
    let mut out = Vec::new();
    let mut next_is_value = false;
    for a in before {
        if next_is_value {
            out.push(spec(a));
            next_is_value = false;
        } else if a == "--filter-platform" {
            out.push(a.clone());
            next_is_value = true;
        } else if let Some(v) = a.strip_prefix("--filter-platform=") {
            out.push(format!("--filter-platform={}", spec(v)));
        } else {
            out.push(a.clone());
        }
    }
    out
}

#[cfg(test)]
mod tests {
    use super::*;
    use std::path::Path;

    fn v(args: &[&str]) -> Vec<String> {
        args.iter().map(|s| s.to_string()).collect()
    }

    #[test]
    fn subcommands_and_their_target_option() {
        for sub in [
            "build", "check", "clean", "doc", "tree", "clippy", "install", "bench",
        ] {
            assert_eq!(target_option(sub), TargetOption::Target, "{sub}");
        }
        assert_eq!(target_option("metadata"), TargetOption::FilterPlatform);
        for sub in [
            "new", "init", "search", "login", "add", "remove", "update", "nextest",
        ] {
            assert_eq!(target_option(sub), TargetOption::None, "{sub}");
        }
        assert_eq!(canonical("c"), "check");
        assert_eq!(canonical("clippy"), "clippy");
    }

    #[test]
    fn targets_added_kept_and_refused() {
        let specs = Path::new("/h/target-specs");
        assert_eq!(
            targeting("check", &v(&["-p", "x"]), specs),
            Targeting::Add(v(&["--target", DEFAULT_TARGET]))
        );
        assert_eq!(
            targeting(
                "build",
                &v(&["--target", "aarch64-unknown-linux-xsc"]),
                specs
            ),
            Targeting::Keep
        );
        assert_eq!(
            targeting(
                "build",
                &v(&["--target=/x/x86_64-unknown-linux-xsc.json"]),
                specs
            ),
            Targeting::Keep
        );
        let Targeting::Refuse(msg) = targeting(
            "build",
            &v(&[
                "--target",
                DEFAULT_TARGET,
                "--target=x86_64-unknown-linux-gnu",
            ]),
            specs,
        ) else {
            panic!("a non-XSC target is refused")
        };
        assert!(msg.contains("x86_64-unknown-linux-gnu") && !msg.contains('\n'));
        assert_eq!(
            targeting("tree", &v(&["--target", "all"]), specs),
            Targeting::Keep
        );
        assert!(matches!(
            targeting("check", &v(&["--target", "all"]), specs),
            Targeting::Refuse(_)
        ));
        assert_eq!(
            targeting("new", &v(&["--target", "whatever"]), specs),
            Targeting::Keep
        );
        assert_eq!(
            targeting("metadata", &v(&["--format-version", "1"]), specs),
            Targeting::Add(v(&[
                "--filter-platform",
                "/h/target-specs/x86_64-unknown-linux-xsc.json"
            ]))
        );
        assert!(matches!(
            targeting(
                "metadata",
                &v(&["--filter-platform=x86_64-unknown-linux-gnu"]),
                specs
            ),
            Targeting::Refuse(_)
        ));
        assert_eq!(
            filter_platform_to_spec(
                &v(&["--filter-platform", "aarch64-unknown-linux-xsc"]),
                specs
            ),
            v(&[
                "--filter-platform",
                "/h/target-specs/aarch64-unknown-linux-xsc.json"
            ])
        );
    }

    #[test]
    fn global_options_before_the_subcommand() {
        assert_eq!(
            globals_after_subcommand(v(&[
                "cargo-xsc",
                "xsc",
                "-q",
                "--color",
                "never",
                "build",
                "-p",
                "x"
            ])),
            v(&[
                "cargo-xsc",
                "xsc",
                "build",
                "-q",
                "--color",
                "never",
                "-p",
                "x"
            ])
        );
        for same in [
            &["cargo-xsc", "xsc", "build", "-q"][..],
            &["cargo-xsc", "xsc", "--version"],
            &["cargo-xsc", "xsc", "-q"],
            &["cargo-xsc", "xsc", "-v", "setup"],
        ] {
            assert_eq!(globals_after_subcommand(v(same)), v(same));
        }
    }

    #[test]
    fn the_kernel_flag_is_taken_before_the_double_dash_only() {
        let (rest, found) = take_kernel_flag(&v(&["--release", "--kernel", "-p", "x"]));
        assert!(found);
        assert_eq!(rest, v(&["--release", "-p", "x"]));
        let all = v(&["-q", "--", "--kernel"]);
        let (before, after) = split_ddash(&all);
        let (rest, found) = take_kernel_flag(before);
        assert!(!found);
        assert_eq!(rest, v(&["-q"]));
        assert_eq!(after, v(&["--", "--kernel"]));
    }

    #[test]
    fn quiet_and_message_formats() {
        assert!(quiet(&v(&["build", "-q"])));
        assert!(quiet(&v(&["--quiet"])));
        assert!(quiet(&v(&["-rq"])));
        assert!(!quiet(&v(&["-p", "quux"])));
        assert!(!quiet(&v(&["-pq"])), "-p takes a value");
        assert_eq!(
            message_formats(&v(&[
                "--message-format",
                "json",
                "--message-format=short,json-diagnostic-short"
            ])),
            v(&["json", "short", "json-diagnostic-short"])
        );
        assert_eq!(
            without_message_format(&v(&[
                "-v",
                "--message-format",
                "json",
                "--message-format=short",
                "-p",
                "x"
            ])),
            v(&["-v", "-p", "x"])
        );
    }
}
