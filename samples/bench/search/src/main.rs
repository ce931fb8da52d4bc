//! `bench-search [-jN] PATTERN DIR`: a small ripgrep. `ignore` walks DIR
//! in parallel (N threads; 0 or no `-j`: ignore's default, one per CPU up
//! to 12) and each walker thread searches the files it visits with
//! `grep-searcher` and a `grep-regex` matcher, counting matching lines.
//!
//! Prints `files F`, `matched_files M`, `lines L` and `errors E`: the same
//! for every thread count and natively and on XSC.

use grep_regex::RegexMatcher;
use grep_searcher::{BinaryDetection, Searcher, SearcherBuilder, Sink, SinkMatch};
use ignore::{WalkBuilder, WalkState};
use std::sync::atomic::{AtomicU64, Ordering};

/// Counts the matching lines of one file.
struct CountLines(u64);

impl Sink for CountLines {
    type Error = std::io::Error;

    fn matched(&mut self, _: &Searcher, _: &SinkMatch<'_>) -> Result<bool, std::io::Error> {
        self.0 += 1;
        Ok(true)
    }
}

#[derive(Default)]
struct Totals {
    files: AtomicU64,
    matched_files: AtomicU64,
    lines: AtomicU64,
    errors: AtomicU64,
}

fn usage() -> ! {
    eprintln!("usage: bench-search [-jN] PATTERN DIR");
    std::process::exit(2)
}

fn main() {
    let mut threads = 0;
    let mut rest = Vec::new();
    for a in std::env::args().skip(1) {
        match a.strip_prefix("-j") {
            Some(n) => threads = n.parse().unwrap_or_else(|_| usage()),
            None => rest.push(a),
        }
    }
    let [pattern, dir] = <[String; 2]>::try_from(rest).unwrap_or_else(|_| usage());
    let matcher = RegexMatcher::new_line_matcher(&pattern).unwrap_or_else(|e| {
        eprintln!("bench-search: bad pattern: {e}");
        std::process::exit(2)
    });
    let totals = Totals::default();
    // No ignore files above DIR: the tree alone decides what is searched.
    let walker = WalkBuilder::new(&dir)
        .parents(false)
        .threads(threads)
        .build_parallel();
    walker.run(|| {
        let matcher = matcher.clone();
        let totals = &totals;
        let mut searcher = SearcherBuilder::new()
            .binary_detection(BinaryDetection::quit(0))
            .line_number(false)
            .build();
        Box::new(move |entry| {
            let entry = match entry {
                Ok(e) => e,
                Err(_) => {
                    totals.errors.fetch_add(1, Ordering::Relaxed);
                    return WalkState::Continue;
                }
            };
            if !entry.file_type().is_some_and(|t| t.is_file()) {
                return WalkState::Continue;
            }
            let mut sink = CountLines(0);
            match searcher.search_path(&matcher, entry.path(), &mut sink) {
                Ok(()) => {
                    totals.files.fetch_add(1, Ordering::Relaxed);
                    if sink.0 > 0 {
                        totals.matched_files.fetch_add(1, Ordering::Relaxed);
                        totals.lines.fetch_add(sink.0, Ordering::Relaxed);
                    }
                }
                Err(_) => {
                    totals.errors.fetch_add(1, Ordering::Relaxed);
                }
            }
            WalkState::Continue
        })
    });
    println!("files {}", totals.files.load(Ordering::Relaxed));
    println!(
        "matched_files {}",
        totals.matched_files.load(Ordering::Relaxed)
    );
    println!("lines {}", totals.lines.load(Ordering::Relaxed));
    println!("errors {}", totals.errors.load(Ordering::Relaxed));
}
