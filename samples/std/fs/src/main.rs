//! `fs DIR`: std::fs at work in the scratch directory DIR. Files are
//! created, written, appended to, read, truncated and locked; metadata and
//! timestamps are read back; directories are made, listed (sorted), renamed
//! and removed; symbolic and hard links are followed or not; permissions
//! and owners are changed; a 64 MiB file is written, copied and checked. Everything it
//! prints is deterministic (no absolute paths, inode numbers or times), so
//! the output is the same on XSC and natively (the differential tests check
//! that, and the files it leaves behind).

use std::fs::{self, File, FileTimes, OpenOptions, Permissions};
use std::io::{self, BufRead, BufReader, Read, Seek, SeekFrom, Write};
use std::os::unix::fs::{DirBuilderExt, FileExt, MetadataExt, OpenOptionsExt, PermissionsExt};
use std::path::Path;
use std::time::{Duration, SystemTime};

/// An `io::Result` as deterministic text: the value, or the error's kind
/// and errno (not its message, which belongs to the libc).
fn res<T: std::fmt::Debug>(r: io::Result<T>) -> String {
    match r {
        Ok(v) => format!("Ok({v:?})"),
        Err(e) => format!("Err({:?}, errno {:?})", e.kind(), e.raw_os_error()),
    }
}

fn mode(p: &Path) -> String {
    format!("{:o}", fs::symlink_metadata(p).unwrap().mode() & 0o7777)
}

/// The names in a directory, sorted, each with its type.
fn listing(dir: &Path) -> Vec<String> {
    let mut names: Vec<String> = fs::read_dir(dir)
        .unwrap()
        .map(|e| {
            let e = e.unwrap();
            let t = e.file_type().unwrap();
            let kind = if t.is_symlink() {
                "link"
            } else if t.is_dir() {
                "dir"
            } else {
                "file"
            };
            format!("{}:{kind}", e.file_name().to_string_lossy())
        })
        .collect();
    names.sort();
    names
}

fn files(d: &Path) {
    println!("== files");
    let p = d.join("notes.txt");
    fs::write(&p, "first line\n").unwrap();
    let mut f = OpenOptions::new().append(true).open(&p).unwrap();
    f.write_all(b"appended line\n").unwrap();
    writeln!(f, "line {}", 3).unwrap();
    drop(f);
    println!("after append: {:?}", fs::read_to_string(&p).unwrap());
    let lines: Vec<String> = BufReader::new(File::open(&p).unwrap())
        .lines()
        .map(Result::unwrap)
        .collect();
    println!("lines: {lines:?}");

    // Read and write through one descriptor, with seeks.
    let mut f = OpenOptions::new().read(true).write(true).open(&p).unwrap();
    println!("seek end: {}", f.seek(SeekFrom::End(0)).unwrap());
    f.seek(SeekFrom::Start(0)).unwrap();
    f.write_all(b"FIRST").unwrap();
    println!("position: {}", f.stream_position().unwrap());
    f.seek(SeekFrom::Current(1)).unwrap();
    let mut word = [0u8; 4];
    f.read_exact(&mut word).unwrap();
    println!("read after seek: {:?}", String::from_utf8_lossy(&word));
    // Positioned I/O (pread/pwrite) leaves the file position alone.
    f.write_at(b"APPENDED", 11).unwrap();
    let mut buf = [0u8; 13];
    f.read_at(&mut buf, 11).unwrap();
    println!("read_at: {:?}", String::from_utf8_lossy(&buf));
    println!("position unchanged: {}", f.stream_position().unwrap());
    f.sync_all().unwrap();
    drop(f);
    println!("content: {:?}", fs::read_to_string(&p).unwrap());

    // Truncate and extend.
    let f = OpenOptions::new().write(true).open(&p).unwrap();
    f.set_len(5).unwrap();
    println!("after set_len(5): {:?}", fs::read_to_string(&p).unwrap());
    f.set_len(8).unwrap();
    println!("after set_len(8): {:?}", fs::read(&p).unwrap());
    drop(f);
    fs::write(&p, "rewritten\n").unwrap();
    println!("after fs::write: {:?}", fs::read_to_string(&p).unwrap());

    // Opening options and their errors.
    println!(
        "create_new on an existing file: {}",
        res(OpenOptions::new().write(true).create_new(true).open(&p))
    );
    let fresh = d.join("fresh.txt");
    let mut f = OpenOptions::new()
        .write(true)
        .create_new(true)
        .mode(0o600)
        .open(&fresh)
        .unwrap();
    f.write_all(b"made with create_new and mode 600\n").unwrap();
    println!("create_new mode: {}", mode(&fresh));
    println!(
        "open a missing file: {}",
        res(File::open(d.join("missing.txt")))
    );
    fs::write(d.join("latin1.txt"), b"caf\xe9\n").unwrap();
    println!(
        "read_to_string of invalid UTF-8: {}",
        res(fs::read_to_string(d.join("latin1.txt")))
    );
    println!(
        "read it as bytes: {:?}",
        fs::read(d.join("latin1.txt")).unwrap()
    );
    let mut dir_as_file = File::open(d).unwrap();
    let mut s = String::new();
    println!(
        "read a directory as a file: {}",
        res(dir_as_file.read_to_string(&mut s))
    );

    // Advisory locks (flock) between two descriptors of the same file.
    let a = File::open(&p).unwrap();
    let b = File::open(&p).unwrap();
    a.lock().unwrap();
    println!(
        "try_lock while locked elsewhere: {}",
        match b.try_lock() {
            Ok(()) => "locked".to_string(),
            Err(fs::TryLockError::WouldBlock) => "WouldBlock".to_string(),
            Err(fs::TryLockError::Error(e)) => format!("{:?}", e.kind()),
        }
    );
    a.lock_shared().unwrap();
    println!("shared try_lock_shared: {:?}", b.try_lock_shared().is_ok());
    a.unlock().unwrap();
    b.unlock().unwrap();
}

fn metadata(d: &Path) {
    println!("== metadata");
    let p = d.join("meta.bin");
    fs::write(&p, vec![7u8; 12345]).unwrap();
    let m = fs::metadata(&p).unwrap();
    println!(
        "len {} file {} dir {} symlink {} nlink {} blocks>0 {}",
        m.len(),
        m.is_file(),
        m.is_dir(),
        m.is_symlink(),
        m.nlink(),
        m.blocks() > 0
    );
    let dm = fs::metadata(d).unwrap();
    println!(
        "dir: file {} dir {} same device {} same owner {}",
        dm.is_file(),
        dm.is_dir(),
        dm.dev() == m.dev(),
        dm.uid() == m.uid()
    );
    let now = SystemTime::now();
    let age = now.duration_since(m.modified().unwrap());
    println!(
        "modified within a minute of now: {}",
        age.map_or(true, |a| a < Duration::from_secs(60))
    );

    // Timestamps set and read back exactly.
    let mtime = SystemTime::UNIX_EPOCH + Duration::new(1_000_000_000, 123_456_789);
    let atime = SystemTime::UNIX_EPOCH + Duration::new(1_500_000_000, 987_654_321);
    let f = File::options().write(true).open(&p).unwrap();
    f.set_times(FileTimes::new().set_modified(mtime).set_accessed(atime))
        .unwrap();
    drop(f);
    let m = fs::metadata(&p).unwrap();
    let since = |t: SystemTime| t.duration_since(SystemTime::UNIX_EPOCH).unwrap();
    println!(
        "mtime {:?} atime {:?}",
        since(m.modified().unwrap()),
        since(m.accessed().unwrap())
    );
    println!(
        "mtime/atime through MetadataExt: {} {} {} {}",
        m.mtime(),
        m.mtime_nsec(),
        m.atime(),
        m.atime_nsec()
    );
    println!(
        "metadata of a missing path: {}",
        res(fs::metadata(d.join("nope")))
    );
    println!(
        "exists: {:?} {:?}",
        fs::exists(&p).unwrap(),
        fs::exists(d.join("nope")).unwrap()
    );
}

fn directories(d: &Path) {
    println!("== directories");
    let tree = d.join("tree");
    fs::create_dir_all(tree.join("a/b/c")).unwrap();
    fs::create_dir_all(tree.join("a/b/c")).unwrap();
    println!("create_dir_all twice: ok");
    println!(
        "create_dir on an existing one: {}",
        res(fs::create_dir(tree.join("a")))
    );
    println!(
        "create_dir with a missing parent: {}",
        res(fs::create_dir(tree.join("x/y")))
    );
    for name in ["zeta.txt", "alpha.txt", "Mid.txt", "b.txt"] {
        fs::write(tree.join(name), name).unwrap();
    }
    fs::create_dir(tree.join("empty")).unwrap();
    println!("tree: {:?}", listing(&tree));
    println!(
        "read_dir of a file: {}",
        res(fs::read_dir(tree.join("b.txt")).map(|_| ()))
    );
    println!(
        "read_dir of a missing directory: {}",
        res(fs::read_dir(tree.join("missing")).map(|_| ()))
    );

    // Enough entries for several getdents batches.
    let many = d.join("many");
    fs::create_dir(&many).unwrap();
    for i in 0..300 {
        fs::write(many.join(format!("entry-{i:04}")), i.to_string()).unwrap();
    }
    let l = listing(&many);
    println!(
        "many: {} entries, first {:?}, last {:?}",
        l.len(),
        &l[..2],
        &l[l.len() - 2..]
    );
    let total: usize = fs::read_dir(&many)
        .unwrap()
        .map(|e| fs::read(e.unwrap().path()).unwrap().len())
        .sum();
    println!("many: {total} bytes in all");

    // Rename files and directories, over existing targets too.
    fs::rename(tree.join("zeta.txt"), tree.join("omega.txt")).unwrap();
    fs::rename(tree.join("alpha.txt"), tree.join("b.txt")).unwrap();
    println!(
        "b.txt after a rename over it: {:?}",
        fs::read_to_string(tree.join("b.txt")).unwrap()
    );
    fs::rename(tree.join("a"), tree.join("renamed-a")).unwrap();
    println!(
        "rename a missing file: {}",
        res(fs::rename(tree.join("ghost"), tree.join("g2")))
    );
    println!(
        "rename a directory over a non-empty one: {}",
        res(fs::rename(tree.join("empty"), tree.join("renamed-a")))
    );
    println!("tree after renames: {:?}", listing(&tree));

    // Removal.
    println!(
        "remove_dir of a non-empty directory: {}",
        res(fs::remove_dir(tree.join("renamed-a")))
    );
    println!(
        "remove_file of a directory: {}",
        res(fs::remove_file(tree.join("empty")))
    );
    fs::remove_dir(tree.join("empty")).unwrap();
    fs::remove_file(tree.join("Mid.txt")).unwrap();
    println!(
        "remove_file of a missing file: {}",
        res(fs::remove_file(tree.join("Mid.txt")))
    );
    fs::remove_dir_all(tree.join("renamed-a")).unwrap();
    println!("tree after removals: {:?}", listing(&tree));
    fs::remove_dir_all(&many).unwrap();
}

fn links(d: &Path) {
    println!("== links");
    use std::os::unix::fs::symlink;
    let l = d.join("links");
    fs::create_dir(&l).unwrap();
    fs::write(l.join("target.txt"), "the target\n").unwrap();
    symlink("target.txt", l.join("rel-link")).unwrap();
    symlink("rel-link", l.join("link-to-link")).unwrap();
    symlink("nowhere", l.join("dangling")).unwrap();
    symlink("sub", l.join("dir-link")).unwrap();
    fs::create_dir(l.join("sub")).unwrap();
    fs::write(l.join("sub/inner.txt"), "inner\n").unwrap();
    symlink("loop-b", l.join("loop-a")).unwrap();
    symlink("loop-a", l.join("loop-b")).unwrap();
    println!("listing: {:?}", listing(&l));
    println!(
        "read_link: {:?} {:?}",
        fs::read_link(l.join("rel-link")).unwrap(),
        fs::read_link(l.join("link-to-link")).unwrap()
    );
    println!(
        "read_link of a regular file: {}",
        res(fs::read_link(l.join("target.txt")))
    );
    println!(
        "through two links: {:?}",
        fs::read_to_string(l.join("link-to-link")).unwrap()
    );
    println!(
        "through a directory link: {:?}",
        fs::read_to_string(l.join("dir-link/inner.txt")).unwrap()
    );
    let sm = fs::symlink_metadata(l.join("rel-link")).unwrap();
    let m = fs::metadata(l.join("rel-link")).unwrap();
    println!(
        "symlink_metadata: symlink {} len {}; metadata: file {} len {}",
        sm.is_symlink(),
        sm.len(),
        m.is_file(),
        m.len()
    );
    println!(
        "metadata of a dangling link: {}",
        res(fs::metadata(l.join("dangling")).map(|_| ()))
    );
    println!(
        "symlink_metadata of a dangling link: {}",
        res(fs::symlink_metadata(l.join("dangling")).map(|m| m.is_symlink()))
    );
    println!(
        "open a symlink loop: {}",
        res(File::open(l.join("loop-a")).map(|_| ()))
    );
    let canon_dir = fs::canonicalize(&l).unwrap();
    let canon = fs::canonicalize(l.join("link-to-link")).unwrap();
    println!(
        "canonicalize through links: {:?}",
        canon.strip_prefix(&canon_dir).unwrap()
    );
    println!(
        "canonicalize a dangling link: {}",
        res(fs::canonicalize(l.join("dangling")).map(|_| ()))
    );

    // Hard links share the inode.
    fs::hard_link(l.join("target.txt"), l.join("hard.txt")).unwrap();
    let a = fs::metadata(l.join("target.txt")).unwrap();
    let b = fs::metadata(l.join("hard.txt")).unwrap();
    println!(
        "hard link: nlink {} same inode {}",
        a.nlink(),
        a.ino() == b.ino()
    );
    fs::remove_file(l.join("loop-a")).unwrap();
    fs::remove_file(l.join("loop-b")).unwrap();
    // Removing a link leaves its target.
    fs::remove_file(l.join("rel-link")).unwrap();
    println!(
        "target after removing its link: {:?}",
        fs::read_to_string(l.join("target.txt")).unwrap()
    );
    println!("listing at the end: {:?}", listing(&l));
}

fn permissions(d: &Path) {
    println!("== permissions");
    let p = d.join("perm.txt");
    fs::write(&p, "permissions\n").unwrap();
    for m in [0o644, 0o600, 0o755, 0o4711, 0o444, 0o000] {
        fs::set_permissions(&p, Permissions::from_mode(m)).unwrap();
        let got = fs::metadata(&p).unwrap().permissions();
        println!(
            "set {:o}: mode {:o} readonly {}",
            m,
            got.mode() & 0o7777,
            got.readonly()
        );
    }
    let mut perms = fs::metadata(&p).unwrap().permissions();
    perms.set_readonly(false);
    fs::set_permissions(&p, perms).unwrap();
    println!("set_readonly(false): {}", mode(&p));
    let f = File::open(&p).unwrap();
    f.set_permissions(Permissions::from_mode(0o640)).unwrap();
    println!("fchmod 640: {}", mode(&p));
    let x = d.join("script.sh");
    fs::write(&x, "#!/bin/sh\necho hi\n").unwrap();
    fs::set_permissions(&x, Permissions::from_mode(0o750)).unwrap();
    println!("script: {}", mode(&x));
    // Directories made with a mode (the umask applies, the same for both
    // runs), ownership changes (they need root; without it both runs fail
    // alike), and O_NOFOLLOW.
    std::fs::DirBuilder::new()
        .mode(0o750)
        .create(d.join("made-750"))
        .unwrap();
    println!("DirBuilder mode 750: {}", mode(&d.join("made-750")));
    let owned = d.join("owned.txt");
    fs::write(&owned, "owned by 65534 if we may\n").unwrap();
    let r = std::os::unix::fs::chown(&owned, Some(65534), Some(65534));
    let m = fs::metadata(&owned).unwrap();
    println!(
        "chown to 65534: {}; uid {} gid {}",
        res(r),
        m.uid(),
        m.gid()
    );
    std::os::unix::fs::symlink("owned.txt", d.join("owned-link")).unwrap();
    let r = std::os::unix::fs::lchown(d.join("owned-link"), Some(1234), None);
    println!(
        "lchown of a link: {}; the link's uid {}, the target's still {}",
        res(r),
        fs::symlink_metadata(d.join("owned-link")).unwrap().uid(),
        fs::metadata(&owned).unwrap().uid()
    );
    println!(
        "open a symlink with O_NOFOLLOW: {}",
        res(OpenOptions::new()
            .read(true)
            .custom_flags(libc_o_nofollow())
            .open(d.join("owned-link"))
            .map(|_| ()))
    );
    println!(
        "chmod of a missing file: {}",
        res(fs::set_permissions(
            d.join("nope"),
            Permissions::from_mode(0o600)
        ))
    );
}

/// O_NOFOLLOW on Linux (x86_64 and aarch64 differ; std has no constant).
fn libc_o_nofollow() -> i32 {
    if cfg!(target_arch = "aarch64") {
        0o100000
    } else {
        0o400000
    }
}

/// A deterministic 1 MiB block (xorshift from a per-block seed).
fn block(i: u64, buf: &mut [u8]) {
    let mut x = 0x9E37_79B9_7F4A_7C15u64 ^ (i + 1).wrapping_mul(0xD1B5_4A32_D192_ED03);
    for chunk in buf.chunks_mut(8) {
        x ^= x << 13;
        x ^= x >> 7;
        x ^= x << 17;
        chunk.copy_from_slice(&x.to_le_bytes()[..chunk.len()]);
    }
}

/// The length of a file and an FNV-style hash of its 8-byte words, read
/// in 256 KiB pieces (the file's length is a multiple of 8).
fn hash_file(p: &Path) -> (u64, u64) {
    let mut f = File::open(p).unwrap();
    let mut buf = vec![0u8; 256 * 1024];
    let (mut h, mut n) = (0xcbf2_9ce4_8422_2325u64, 0u64);
    loop {
        let k = f.read(&mut buf).unwrap();
        if k == 0 {
            break;
        }
        assert_eq!(k % 8, 0, "reads come in multiples of 8 bytes here");
        for w in buf[..k].chunks_exact(8) {
            let w = u64::from_le_bytes(w.try_into().unwrap());
            h = (h ^ w).wrapping_mul(0x0100_0000_01b3);
        }
        n += k as u64;
    }
    (n, h)
}

fn large(d: &Path) {
    println!("== large file");
    const MIB: usize = 1024 * 1024;
    let src = d.join("big.bin");
    let mut f = File::create(&src).unwrap();
    let mut buf = vec![0u8; MIB];
    for i in 0..64 {
        block(i, &mut buf);
        f.write_all(&buf).unwrap();
    }
    drop(f);
    fs::set_permissions(&src, Permissions::from_mode(0o640)).unwrap();
    let copy = d.join("big-copy.bin");
    let copied = fs::copy(&src, &copy).unwrap();
    println!("copied {copied} bytes");
    let a = hash_file(&src);
    let b = hash_file(&copy);
    println!("source: {} bytes, hash {:016x}", a.0, a.1);
    println!("copy:   {} bytes, hash {:016x}", b.0, b.1);
    println!("copy keeps the mode: {}", mode(&copy));
    // Spot checks with positioned reads.
    let f = File::open(&copy).unwrap();
    let mut got = [0u8; 16];
    let mut want = vec![0u8; MIB];
    for i in [0u64, 17, 63] {
        f.read_exact_at(&mut got, i * MIB as u64 + 4096).unwrap();
        block(i, &mut want);
        println!("block {i} matches: {}", got[..] == want[4096..4096 + 16]);
    }
    println!(
        "read past the end: {}",
        res(f.read_at(&mut got, 64 * MIB as u64))
    );
    fs::remove_file(&src).unwrap();
    // The copy stays for the differential test to compare, truncated to
    // keep that cheap.
    OpenOptions::new()
        .write(true)
        .open(&copy)
        .unwrap()
        .set_len(MIB as u64)
        .unwrap();
}

fn main() {
    let Some(dir) = std::env::args_os().nth(1) else {
        eprintln!("usage: fs DIR");
        std::process::exit(2);
    };
    let d = Path::new(&dir);
    files(d);
    metadata(d);
    directories(d);
    links(d);
    permissions(d);
    large(d);
    println!("== left in the directory: {:?}", listing(d));
}
