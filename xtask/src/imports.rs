//! The import graph of xsc-run and std-xsc (issue 21), run by `cargo
//! xtask test`: a ratchet that lets the circles only shrink.
//!
//! How imports are counted: a node is a crate's top-level module (the
//! first path segment after `crate::`: `arch/x86_64.rs` belongs to `arch`;
//! `main.rs` and `lib.rs` are the root, left out). An edge A -> B is any
//! `crate::B` path written in a file of A, in a `use` or inline, once per
//! pair (a `use crate::{B, C}` group counts for each). Circles are the
//! strongly connected components with more than one module. The figures
//! that may not grow are in `xtask/imports-baseline.txt`: per crate, the
//! number of modules in circles and the number of edges inside circles.

use crate::cmd::{self, Result};
use std::collections::{BTreeMap, BTreeSet};
use std::path::Path;

/// The crates whose layering is watched, by their folder.
const CRATES: &[&str] = &["xsc-run", "std-xsc"];

type Graph = BTreeMap<String, BTreeSet<String>>;

/// The module a source file belongs to (None: the crate root).
fn module_of(src: &Path, file: &Path) -> Option<String> {
    let rel = file.strip_prefix(src).ok()?;
    let first = rel
        .components()
        .next()?
        .as_os_str()
        .to_string_lossy()
        .into_owned();
    let name = first.trim_end_matches(".rs").to_string();
    (name != "main" && name != "lib").then_some(name)
}

/// The modules named by `crate::` paths in `text`, `use crate::{a, b}`
/// groups included.
fn referenced(text: &str) -> BTreeSet<String> {
    let mut out = BTreeSet::new();
    let ident = |s: &str| -> String {
        s.chars()
            .take_while(|c| c.is_alphanumeric() || *c == '_')
            .collect()
    };
    for (i, _) in text.match_indices("crate::") {
        // Not `xsc_abi::crate::` nor `$crate::`.
        if text[..i].ends_with('$') || text[..i].ends_with(':') {
            continue;
        }
        let rest = &text[i + "crate::".len()..];
        if let Some(group) = rest.strip_prefix('{') {
            let end = group.find('}').unwrap_or(group.len());
            for part in group[..end].split(',') {
                let m = ident(part.trim());
                if !m.is_empty() && m != "self" {
                    out.insert(m);
                }
            }
        } else {
            let m = ident(rest);
            if !m.is_empty() {
                out.insert(m);
            }
        }
    }
    out
}

fn rust_files(dir: &Path, out: &mut Vec<std::path::PathBuf>) -> Result {
    for e in std::fs::read_dir(dir).map_err(|e| format!("{}: {e}", dir.display()))? {
        let path = e.map_err(|e| e.to_string())?.path();
        if path.is_dir() {
            rust_files(&path, out)?;
        } else if path.extension().is_some_and(|x| x == "rs") {
            out.push(path);
        }
    }
    Ok(())
}

/// The module graph of the crate whose sources are in `src`.
fn graph(src: &Path) -> Result<Graph> {
    let mut files = Vec::new();
    rust_files(src, &mut files)?;
    let mut g = Graph::new();
    for f in &files {
        if let Some(m) = module_of(src, f) {
            g.entry(m).or_default();
        }
    }
    for f in &files {
        let Some(from) = module_of(src, f) else {
            continue;
        };
        let text = std::fs::read_to_string(f).map_err(|e| format!("{}: {e}", f.display()))?;
        for to in referenced(&text) {
            if to != from && g.contains_key(&to) {
                g.entry(from.clone()).or_default().insert(to);
            }
        }
    }
    Ok(g)
}

/// The strongly connected components of more than one module (Tarjan).
fn circles(g: &Graph) -> Vec<BTreeSet<String>> {
    struct T<'a> {
        g: &'a Graph,
        index: BTreeMap<&'a str, usize>,
        low: BTreeMap<&'a str, usize>,
        stack: Vec<&'a str>,
        on: BTreeSet<&'a str>,
        next: usize,
        out: Vec<BTreeSet<String>>,
    }
    fn visit<'a>(t: &mut T<'a>, v: &'a str) {
        t.index.insert(v, t.next);
        t.low.insert(v, t.next);
        t.next += 1;
        t.stack.push(v);
        t.on.insert(v);
        for w in t.g.get(v).into_iter().flatten() {
            let w = w.as_str();
            if !t.index.contains_key(w) {
                visit(t, w);
                let lw = t.low[w];
                let lv = t.low[v];
                t.low.insert(v, lv.min(lw));
            } else if t.on.contains(w) {
                let iw = t.index[w];
                let lv = t.low[v];
                t.low.insert(v, lv.min(iw));
            }
        }
        if t.low[v] == t.index[v] {
            let mut c = BTreeSet::new();
            while let Some(w) = t.stack.pop() {
                t.on.remove(w);
                c.insert(w.to_string());
                if w == v {
                    break;
                }
            }
            if c.len() > 1 {
                t.out.push(c);
            }
        }
    }
    let mut t = T {
        g,
        index: BTreeMap::new(),
        low: BTreeMap::new(),
        stack: Vec::new(),
        on: BTreeSet::new(),
        next: 0,
        out: Vec::new(),
    };
    for v in g.keys() {
        if !t.index.contains_key(v.as_str()) {
            visit(&mut t, v);
        }
    }
    t.out
}

/// (modules in circles, edges inside circles) of a graph.
fn figures(g: &Graph) -> (usize, usize) {
    let cs = circles(g);
    let modules = cs.iter().map(BTreeSet::len).sum();
    let edges = cs
        .iter()
        .map(|c| {
            c.iter()
                .map(|m| g[m].iter().filter(|to| c.contains(*to)).count())
                .sum::<usize>()
        })
        .sum();
    (modules, edges)
}

/// The baseline: `crate modules edges` lines.
fn baseline() -> Result<BTreeMap<String, (usize, usize)>> {
    let path = cmd::root().join("xtask/imports-baseline.txt");
    let text = std::fs::read_to_string(&path).map_err(|e| format!("{}: {e}", path.display()))?;
    let mut out = BTreeMap::new();
    for l in text
        .lines()
        .filter(|l| !l.starts_with('#') && !l.trim().is_empty())
    {
        let w: Vec<&str> = l.split_whitespace().collect();
        match w[..] {
            [name, m, e] => {
                let n = |s: &str| {
                    s.parse::<usize>()
                        .map_err(|_| format!("{}: {l}", path.display()))
                };
                out.insert(name.to_string(), (n(m)?, n(e)?));
            }
            _ => return Err(format!("{}: cannot read `{l}`", path.display())),
        }
    }
    Ok(out)
}

/// Prints each crate's circles and fails if they grew past the baseline.
pub fn check() -> Result {
    let base = baseline()?;
    let mut worse = Vec::new();
    for krate in CRATES {
        let g = graph(&cmd::root().join(krate).join("src"))?;
        let (modules, edges) = figures(&g);
        let edge_count: usize = g.values().map(BTreeSet::len).sum();
        println!(
            "imports: {krate}: {} modules, {edge_count} imports between them; {modules} modules in circles, {edges} imports inside circles",
            g.len()
        );
        for c in circles(&g) {
            println!("imports: {krate}: circle of {}: {c:?}", c.len());
        }
        let (bm, be) = base.get(*krate).copied().unwrap_or((0, 0));
        if modules > bm || edges > be {
            worse.push(format!(
                "{krate}: {modules} modules / {edges} imports in circles, above the baseline {bm} / {be}"
            ));
        }
    }
    if worse.is_empty() {
        Ok(())
    } else {
        Err(format!(
            "the import circles grew (xtask/imports-baseline.txt): {}",
            worse.join("; ")
        ))
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn paths_and_groups_are_counted_and_macros_are_not() {
        let r = referenced(
            "use crate::{arch::x86_64, sys, self};\nlet x = crate::ops::reject(e);\n$crate::nothing\n",
        );
        assert_eq!(r, ["arch", "ops", "sys"].map(String::from).into());
    }

    #[test]
    fn a_circle_is_found_and_a_chain_is_not() {
        let mut g = Graph::new();
        let edge = |g: &mut Graph, a: &str, b: &str| {
            g.entry(a.into()).or_default().insert(b.into());
            g.entry(b.into()).or_default();
        };
        edge(&mut g, "a", "b");
        edge(&mut g, "b", "c");
        assert!(circles(&g).is_empty());
        edge(&mut g, "c", "a");
        edge(&mut g, "c", "d");
        assert_eq!(circles(&g), vec![["a", "b", "c"].map(String::from).into()]);
        assert_eq!(figures(&g), (3, 3));
    }
}
