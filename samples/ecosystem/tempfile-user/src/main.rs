//! `tempfile-user DIR`: temporary files and directories with `tempfile`,
//! plus a direct `rustix` call. rustix's default Linux backend executes
//! system calls itself; on the XSC targets `--cfg rustix_use_libc` (set by
//! the `xsc` toolchain) makes it call the libc instead.

use std::io::{Read, Seek, SeekFrom, Write};

fn main() {
    let dir = std::env::args().nth(1).expect("usage: tempfile-user DIR");
    let mut f = tempfile::tempfile_in(&dir).expect("tempfile");
    f.write_all(b"anonymous temporary file").unwrap();
    f.seek(SeekFrom::Start(0)).unwrap();
    let mut s = String::new();
    f.read_to_string(&mut s).unwrap();
    println!("tempfile: {s:?}");

    let named = tempfile::Builder::new()
        .prefix("xsc-")
        .suffix(".txt")
        .tempfile_in(&dir)
        .unwrap();
    std::fs::write(named.path(), "named").unwrap();
    let name = named
        .path()
        .file_name()
        .unwrap()
        .to_string_lossy()
        .into_owned();
    println!(
        "named file starts with xsc- and ends with .txt: {}",
        name.starts_with("xsc-") && name.ends_with(".txt")
    );
    let path = named.path().to_path_buf();
    drop(named);
    println!("removed on drop: {}", !path.exists());

    let tdir = tempfile::tempdir_in(&dir).unwrap();
    std::fs::write(tdir.path().join("inner"), "x").unwrap();
    let stat = rustix::fs::stat(tdir.path().join("inner")).unwrap();
    println!("rustix stat size: {}", stat.st_size);
    let p = tdir.path().to_path_buf();
    tdir.close().unwrap();
    println!("tempdir removed: {}", !p.exists());
}
