//! A small library with real tests, to show `cargo test --target
//! x86_64-unknown-linux-xsc`: libtest runs the unit tests below, the
//! integration tests in `tests/` and the doc test, each test on a thread of
//! its own, with its output captured.
//!
//! ```
//! assert_eq!(testable::word_count("one two  three"), 3);
//! ```

use std::collections::BTreeMap;

/// The number of whitespace-separated words in `s`.
pub fn word_count(s: &str) -> usize {
    s.split_whitespace().count()
}

/// Parses `key=value` lines (blank lines and `#` comments skipped).
pub fn parse_kv(text: &str) -> Result<BTreeMap<String, String>, String> {
    let mut map = BTreeMap::new();
    for (n, line) in text.lines().enumerate() {
        let line = line.trim();
        if line.is_empty() || line.starts_with('#') {
            continue;
        }
        let (k, v) = line
            .split_once('=')
            .ok_or_else(|| format!("line {}: no '=' in {line:?}", n + 1))?;
        map.insert(k.trim().to_string(), v.trim().to_string());
    }
    Ok(map)
}

/// The sum of `data`, computed by `threads` scoped threads.
pub fn parallel_sum(data: &[u64], threads: usize) -> u64 {
    let chunk = data.len().div_ceil(threads.max(1)).max(1);
    std::thread::scope(|s| {
        let parts: Vec<_> = data
            .chunks(chunk)
            .map(|c| s.spawn(move || c.iter().sum::<u64>()))
            .collect();
        parts.into_iter().map(|p| p.join().unwrap()).sum()
    })
}

/// The n-th Fibonacci number (fib(0) = 0).
pub fn fib(n: u32) -> u64 {
    let (mut a, mut b) = (0u64, 1u64);
    for _ in 0..n {
        (a, b) = (b, a + b);
    }
    a
}

/// Divides, refusing a zero divisor with a panic.
pub fn checked_div(a: i64, b: i64) -> i64 {
    if b == 0 {
        panic!("division by zero");
    }
    a / b
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn counts_words() {
        assert_eq!(word_count(""), 0);
        assert_eq!(word_count("  a\tb\nc  "), 3);
    }

    #[test]
    fn parses_key_values() {
        let m = parse_kv("# settings\nname = xsc\n\nrings=2\n").unwrap();
        assert_eq!(m["name"], "xsc");
        assert_eq!(m["rings"], "2");
        assert_eq!(parse_kv("oops").unwrap_err(), "line 1: no '=' in \"oops\"");
    }

    #[test]
    fn sums_with_threads() {
        let data: Vec<u64> = (1..=100_000).collect();
        for threads in [1, 2, 7, 16] {
            assert_eq!(parallel_sum(&data, threads), 5_000_050_000);
        }
        // libtest runs each test on a thread named after it.
        assert_eq!(
            std::thread::current().name(),
            Some("tests::sums_with_threads")
        );
    }

    #[test]
    fn prints_output_that_libtest_captures() {
        println!("captured: stdout of a passing test");
        eprintln!("captured: stderr of a passing test");
        std::thread::spawn(|| println!("captured: stdout of a thread of a passing test"))
            .join()
            .unwrap();
        assert_eq!(fib(10), 55);
    }

    #[test]
    #[should_panic(expected = "division by zero")]
    fn refuses_division_by_zero() {
        checked_div(1, 0);
    }

    /// Fails on purpose: `cargo test -- --ignored` shows a failing test
    /// (its captured output included).
    #[test]
    #[ignore = "fails on purpose; run with --ignored"]
    fn deliberately_failing() {
        println!("output of the deliberately failing test");
        assert_eq!(fib(10), 56, "fib(10) is not 56");
    }
}
