//! The bench's inputs under target/bench/: a directory tree to search and
//! a large file to read, both deterministic (the same bytes on every
//! machine), made once and reused while their stamp matches.

use crate::cmd::Result;
use std::io::{Read, Write};
use std::path::{Path, PathBuf};

/// A small, fast, deterministic generator (xorshift64*).
pub struct Rng(u64);

impl Rng {
    pub fn new(seed: u64) -> Rng {
        Rng(seed.max(1))
    }

    pub fn next(&mut self) -> u64 {
        self.0 ^= self.0 >> 12;
        self.0 ^= self.0 << 25;
        self.0 ^= self.0 >> 27;
        self.0.wrapping_mul(0x2545_f491_4f6c_dd1d)
    }

    /// A number in `0..n`.
    pub fn below(&mut self, n: u64) -> u64 {
        self.next() % n
    }
}

fn io_err<'a>(what: &'a str, p: &'a Path) -> impl FnOnce(std::io::Error) -> String + 'a {
    move |e| format!("cannot {what} {}: {e}", p.display())
}

/// True if `stamp` holds exactly `recipe` (the input was completed with
/// that recipe).
fn stamped(stamp: &Path, recipe: &str) -> bool {
    std::fs::read_to_string(stamp).is_ok_and(|s| s == recipe)
}

/// Number of regular files under `dir` (symbolic links not followed).
pub fn count_files(dir: &Path) -> usize {
    let Ok(entries) = std::fs::read_dir(dir) else {
        return 0;
    };
    entries
        .flatten()
        .map(|e| match e.file_type() {
            Ok(t) if t.is_dir() => count_files(&e.path()),
            Ok(t) if t.is_file() => 1,
            _ => 0,
        })
        .sum()
}

const WORDS: &[&str] = &[
    "alloc", "buffer", "parse", "sort", "vector", "slice", "iter", "chunk", "index", "node",
    "tree", "map", "entry", "value", "key", "hash", "write", "read", "flush", "spawn", "task",
    "queue", "lock", "guard", "state", "error", "result", "option", "string", "bytes",
];

fn word(r: &mut Rng) -> &'static str {
    WORDS[r.below(WORDS.len() as u64) as usize]
}

/// One source-like file of about `lines` lines.
fn source_file(r: &mut Rng, lines: u64) -> String {
    let mut s = String::new();
    for _ in 0..lines {
        let n = r.below(1000);
        let line = match r.below(8) {
            0 => format!("pub fn {}_{n}(x: u64) -> u64 {{", word(r)),
            1 => format!("    let {}_{n} = {}(x, {});", word(r), word(r), r.below(64)),
            2 => format!(
                "    // {} the {} before the {} ({n})",
                word(r),
                word(r),
                word(r)
            ),
            3 => format!("    if {} > {n} {{ return {}; }}", word(r), word(r)),
            4 => format!("    {}.{}(&mut {});", word(r), word(r), word(r)),
            5 => format!("struct {}{n} {{ {}: Vec<u8> }}", word(r), word(r)),
            6 => "}".to_string(),
            _ => String::new(),
        };
        s.push_str(&line);
        s.push('\n');
    }
    s
}

/// The directory tree the search row walks, and how many files it has.
/// Rust's library source if it has at least `min_files` files, otherwise
/// a generated tree of `fanout`³ files under `dir` (`fanout` directories
/// of `fanout` directories of `fanout` files, 4 to 120 lines each).
pub fn search_tree(dir: &Path, min_files: usize, fanout: u64) -> Result<(PathBuf, usize)> {
    let library = Path::new(std_xsc::toolchain::LIBRARY_SOURCE);
    let in_library = count_files(library);
    if in_library >= min_files {
        return Ok((library.to_path_buf(), in_library));
    }
    let tree = dir.join("tree");
    let stamp = dir.join("tree.stamp");
    let recipe = format!("search tree v1, fanout {fanout}\n");
    let files = (fanout * fanout * fanout) as usize;
    if stamped(&stamp, &recipe) {
        return Ok((tree, files));
    }
    eprintln!(
        "xtask: bench: {} has {in_library} files (fewer than {min_files}); generating {files} files under {}",
        library.display(),
        tree.display()
    );
    let _ = std::fs::remove_file(&stamp);
    if tree.exists() {
        std::fs::remove_dir_all(&tree).map_err(io_err("remove", &tree))?;
    }
    let mut r = Rng::new(0x5eed_0001);
    for a in 0..fanout {
        for b in 0..fanout {
            let d = tree
                .join(format!("{}{a:02}", word(&mut r)))
                .join(format!("m{b:02}"));
            std::fs::create_dir_all(&d).map_err(io_err("create", &d))?;
            for c in 0..fanout {
                let lines = 4 + r.below(117);
                let f = d.join(format!("{}_{c:02}.rs", word(&mut r)));
                std::fs::write(&f, source_file(&mut r, lines)).map_err(io_err("write", &f))?;
            }
        }
    }
    std::fs::write(&stamp, &recipe).map_err(io_err("write", &stamp))?;
    Ok((tree, files))
}

/// A file of `bytes` pseudo-random bytes under `dir`.
pub fn big_file(dir: &Path, bytes: u64) -> Result<PathBuf> {
    let name = format!("read-{}m.bin", bytes >> 20);
    let file = dir.join(&name);
    let stamp = dir.join(format!("{name}.stamp"));
    let recipe = format!("xorshift64* seed 0x5eed0002, {bytes} bytes\n");
    let complete = std::fs::metadata(&file).is_ok_and(|m| m.len() == bytes);
    if complete && stamped(&stamp, &recipe) {
        return Ok(file);
    }
    eprintln!(
        "xtask: bench: writing {} MiB to {}",
        bytes >> 20,
        file.display()
    );
    let _ = std::fs::remove_file(&stamp);
    let mut out = std::fs::File::create(&file).map_err(io_err("create", &file))?;
    let mut r = Rng::new(0x5eed_0002);
    let mut block = vec![0u8; 1 << 20];
    let mut left = bytes;
    while left > 0 {
        for w in block.chunks_exact_mut(8) {
            w.copy_from_slice(&r.next().to_le_bytes());
        }
        let n = left.min(block.len() as u64) as usize;
        out.write_all(&block[..n]).map_err(io_err("write", &file))?;
        left -= n as u64;
    }
    out.sync_all().map_err(io_err("write", &file))?;
    std::fs::write(&stamp, &recipe).map_err(io_err("write", &stamp))?;
    Ok(file)
}

/// Reads `file` once so that the timed reads find it in the page cache.
pub fn warm(file: &Path) -> Result {
    let mut f = std::fs::File::open(file).map_err(io_err("open", file))?;
    let mut buf = vec![0u8; 1 << 20];
    while f.read(&mut buf).map_err(io_err("read", file))? > 0 {}
    Ok(())
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn the_generator_is_deterministic() {
        let (mut a, mut b) = (Rng::new(7), Rng::new(7));
        let x: Vec<u64> = (0..100).map(|_| a.next()).collect();
        let y: Vec<u64> = (0..100).map(|_| b.next()).collect();
        assert_eq!(x, y);
        assert_eq!(
            source_file(&mut Rng::new(3), 50),
            source_file(&mut Rng::new(3), 50)
        );
    }

    #[test]
    fn a_generated_tree_has_fanout_cubed_files() {
        let dir = std::env::temp_dir().join(format!("xtask-bench-tree-{}", std::process::id()));
        let _ = std::fs::remove_dir_all(&dir);
        // Rust's library source has fewer files than this.
        let (tree, files) = search_tree(&dir, usize::MAX, 3).unwrap();
        assert_eq!(files, 27);
        assert_eq!(count_files(&tree), 27);
        // Reused while the stamp matches.
        assert_eq!(search_tree(&dir, usize::MAX, 3).unwrap(), (tree, 27));
        std::fs::remove_dir_all(&dir).unwrap();
    }
}
