//! `xsc-elfcheck [--strict] [--json] [--no-require-note] FILE...`: a thin
//! shell over the library. Exit status: 0 every file is clean, 1 some file
//! has violations, 2 some file could not be checked.

use clap::Parser;
use std::io::Write;
use std::process::ExitCode;
use xsc_elfcheck::{check_file, exit_code, render_error, render_human, render_json, Options};

/// Verifies that ELF binaries contain no raw system-call instructions (XSC).
///
/// Exit status: 0 all files clean, 1 violations found, 2 a file could not
/// be checked.
#[derive(Parser)]
#[command(name = "xsc-elfcheck", version)]
struct Cli {
    /// Fail on hidden sites too (system-call bytes inside other
    /// instructions, reachable only by a jump into their middle).
    #[arg(long)]
    strict: bool,
    /// Print one JSON document (see schema.json) instead of text.
    #[arg(long)]
    json: bool,
    /// Do not fail a binary that has no XSC_ABI note (a bad note still fails).
    #[arg(long)]
    no_require_note: bool,
    /// The binaries to check.
    #[arg(required = true, value_name = "FILE")]
    files: Vec<String>,
}

fn main() -> ExitCode {
    let cli = Cli::parse();
    let opts = Options {
        strict: cli.strict,
        require_note: !cli.no_require_note,
    };
    let results: Vec<_> = cli
        .files
        .iter()
        .map(|p| (p.clone(), check_file(p, &opts)))
        .collect();
    let mut text = String::new();
    if cli.json {
        text = render_json(&results, &opts);
    } else {
        for (path, res) in &results {
            match res {
                Ok(report) => text.push_str(&render_human(path, report, &opts)),
                Err(e) => text.push_str(&render_error(path, e)),
            }
        }
    }
    let mut stdout = std::io::stdout().lock();
    // A closed pipe (`| head`) is not an error of the check.
    let _ = stdout.write_all(text.as_bytes());
    let _ = stdout.flush();
    ExitCode::from(exit_code(&results, &opts) as u8)
}
