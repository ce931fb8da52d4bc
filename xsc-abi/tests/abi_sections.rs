//! Every `§N` or `§N.M` cited anywhere in the repository (docs, code
//! comments, the kernel's sources and hooks) names a section that exists
//! in `docs/ABI.md`, so that no citation drifts from the contract.

use std::collections::BTreeSet;
use std::path::{Path, PathBuf};

fn repo() -> PathBuf {
    Path::new(env!("CARGO_MANIFEST_DIR")).join("..")
}

/// The section numbers of docs/ABI.md's headings (`## 5.`, `### 5.4 ...`).
fn sections() -> BTreeSet<String> {
    let text = std::fs::read_to_string(repo().join("docs/ABI.md")).unwrap();
    text.lines()
        .filter(|l| l.starts_with("##"))
        .filter_map(|l| l.trim_start_matches('#').split_whitespace().next())
        .map(|n| n.trim_end_matches('.').to_string())
        .filter(|n| n.chars().next().is_some_and(|c| c.is_ascii_digit()))
        .collect()
}

fn files(dir: &Path, out: &mut Vec<PathBuf>) {
    for e in std::fs::read_dir(dir).unwrap() {
        let path = e.unwrap().path();
        let name = path.file_name().unwrap().to_string_lossy().into_owned();
        if path.is_dir() {
            if name != "target" && !name.starts_with('.') {
                files(&path, out);
            }
        } else if ["md", "rs", "c", "h", "patch", "toml", "txt"]
            .iter()
            .any(|x| name.ends_with(&format!(".{x}")))
        {
            out.push(path);
        }
    }
}

/// The `§N` and `§N.M` citations of a text.
fn citations(text: &str) -> Vec<String> {
    text.split('§')
        .skip(1)
        .map(|rest| {
            let n: String = rest
                .chars()
                .take_while(|c| c.is_ascii_digit() || *c == '.')
                .collect();
            n.trim_end_matches('.').to_string()
        })
        .filter(|n| !n.is_empty())
        .collect()
}

#[test]
fn every_cited_abi_section_exists() {
    let have = sections();
    assert!(have.contains("5.4") && have.contains("7"), "{have:?}");
    let mut all = Vec::new();
    files(&repo(), &mut all);
    let mut missing = Vec::new();
    for f in all {
        let Ok(text) = std::fs::read_to_string(&f) else {
            continue;
        };
        for c in citations(&text) {
            if !have.contains(&c) {
                missing.push(format!("{}: §{c}", f.display()));
            }
        }
    }
    assert!(
        missing.is_empty(),
        "cited but not in docs/ABI.md:\n{}",
        missing.join("\n")
    );
}

#[test]
fn citations_are_read_as_written() {
    assert_eq!(citations("see ABI §5.4, and §7."), ["5.4", "7"]);
    assert!(citations("no section").is_empty());
}
