//! `xsc-run --audit`: the audit trail of a run of a std sample, checked
//! against the `--trace` of the same run.

use serde_json::Value;
use std::collections::{BTreeMap, HashMap};
use std::path::PathBuf;
use std::process::Command;
use std_xsc::testing::run_ok;

fn repo() -> PathBuf {
    PathBuf::from(env!("CARGO_MANIFEST_DIR"))
        .parent()
        .unwrap()
        .to_path_buf()
}

fn tmpdir(tag: &str) -> PathBuf {
    let d = PathBuf::from(env!("CARGO_TARGET_TMPDIR"))
        .join(format!("audit-{tag}-{}", std::process::id()));
    let _ = std::fs::remove_dir_all(&d);
    std::fs::create_dir_all(&d).unwrap();
    d
}

/// samples/std's `threads` built for XSC (32 threads and their sync: many
/// threads auditing at once).
fn threads_sample() -> PathBuf {
    let dir = repo().join("samples/std");
    let out = std_xsc::toolchain::cargo_xsc(&dir)
        .args([
            "build",
            "--target",
            "x86_64-unknown-linux-xsc",
            "-p",
            "threads",
        ])
        .output()
        .unwrap();
    assert!(
        out.status.success(),
        "building samples/std threads for XSC failed:\n{}",
        String::from_utf8_lossy(&out.stderr)
    );
    dir.join("target/x86_64-unknown-linux-xsc/debug/threads")
}

/// A trace line's thread, name and result (`TID name(args) = result`).
fn parse_trace_line(line: &str) -> (i64, String, String) {
    let (tid, rest) = line.split_once(' ').unwrap();
    let name = &rest[..rest.find('(').unwrap()];
    let (_, result) = rest.rsplit_once(" = ").unwrap();
    let result = result.split(" [xsc:").next().unwrap();
    (tid.parse().unwrap(), name.to_string(), result.to_string())
}

/// An audit result record's result as the trace writes it.
fn trace_form(r: &Value) -> String {
    match (&r["result"], r.get("errno")) {
        (Value::Null, _) => "?".into(),
        (_, Some(Value::String(e))) => format!("-1 {e}"),
        (v, _) => {
            let n = v.as_i64().unwrap();
            if matches!(r["name"].as_str().unwrap(), "mmap" | "brk" | "mremap") {
                format!("{n:#x}")
            } else {
                n.to_string()
            }
        }
    }
}

/// The submit and result records of one entry.
type Pair<'a> = (Vec<&'a Value>, Vec<&'a Value>);

#[test]
fn audit_records_every_entry_of_a_std_sample_as_the_trace_sees_it() {
    let bin = threads_sample();
    let dir = tmpdir("threads");
    let (trace, audit) = (dir.join("trace"), dir.join("audit.jsonl"));
    let scratch = dir.join("scratch");
    std::fs::create_dir_all(&scratch).unwrap();
    run_ok(
        Command::new(env!("CARGO_BIN_EXE_xsc-run"))
            .arg(format!("--trace={}", trace.display()))
            .arg(format!("--audit={}", audit.display()))
            .arg(&bin)
            .arg(&scratch),
    );

    // Every line is a JSON object.
    let records: Vec<Value> = std::fs::read_to_string(&audit)
        .unwrap()
        .lines()
        .map(|l| serde_json::from_str(l).unwrap_or_else(|e| panic!("{e}: {l}")))
        .collect();
    assert!(records.len() > 100, "{} records", records.len());

    // Submits and results pair up one to one, by (pid, seq), and agree.
    let mut pairs: HashMap<(i64, u64), Pair> = HashMap::new();
    for r in &records {
        let key = (r["pid"].as_i64().unwrap(), r["seq"].as_u64().unwrap());
        let e = pairs.entry(key).or_default();
        match r["event"].as_str().unwrap() {
            "submit" => e.0.push(r),
            "result" => e.1.push(r),
            other => panic!("unexpected event {other}: {r}"),
        }
        for field in ["time", "tid", "arch", "nr", "name", "args", "via", "action"] {
            assert!(r.get(field).is_some(), "no {field} in {r}");
        }
        assert_eq!(r["args"].as_array().unwrap().len(), 6, "{r}");
    }
    for ((pid, seq), (submits, results)) in &pairs {
        assert!(
            submits.len() == 1 && results.len() == 1,
            "pid {pid} seq {seq}: {} submits, {} results",
            submits.len(),
            results.len()
        );
        let (s, r) = (submits[0], results[0]);
        for field in ["tid", "nr", "name", "args", "via", "action"] {
            assert_eq!(s[field], r[field], "{field}: {s} / {r}");
        }
        assert!(s.get("result").is_none() && r.get("result").is_some());
        assert!(s["time"].as_str() <= r["time"].as_str());
    }

    // The result records, thread by thread in order, are the trace's lines.
    let mut from_trace: BTreeMap<i64, Vec<(String, String)>> = BTreeMap::new();
    let trace_text = std::fs::read_to_string(&trace).unwrap();
    for line in trace_text.lines() {
        let (tid, name, result) = parse_trace_line(line);
        let result = match result.split_once(" (") {
            Some((errno, _)) if result.starts_with("-1 ") => errno.to_string(),
            _ => result,
        };
        from_trace.entry(tid).or_default().push((name, result));
    }
    let mut from_audit: BTreeMap<i64, Vec<(String, String)>> = BTreeMap::new();
    for r in records.iter().filter(|r| r["event"] == "result") {
        from_audit
            .entry(r["tid"].as_i64().unwrap())
            .or_default()
            .push((r["name"].as_str().unwrap().to_string(), trace_form(r)));
    }
    assert!(from_trace.len() > 30, "the sample's threads are traced");
    assert_eq!(from_audit, from_trace);
}
