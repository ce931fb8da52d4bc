//! The initramfs: a cpio archive in the "newc" format the kernel unpacks
//! (Documentation/driver-api/early-userspace/buffer-format.rst), written
//! from memory: directories, regular files and character devices.

use std::collections::BTreeSet;

/// An archive being written.
#[derive(Default)]
pub struct Archive {
    out: Vec<u8>,
    dirs: BTreeSet<String>,
    ino: u32,
}

const S_IFDIR: u32 = 0o040000;
const S_IFREG: u32 = 0o100000;
const S_IFCHR: u32 = 0o020000;

impl Archive {
    fn entry(&mut self, path: &str, mode: u32, rdev: (u32, u32), data: &[u8]) {
        let name = path.trim_start_matches('/');
        let name = if name.is_empty() { "." } else { name };
        self.ino += 1;
        let fields = [
            self.ino,
            mode,
            0, // uid
            0, // gid
            if mode & S_IFDIR != 0 { 2 } else { 1 },
            0, // mtime
            data.len() as u32,
            0, // dev major
            0, // dev minor
            rdev.0,
            rdev.1,
            name.len() as u32 + 1,
            0, // check
        ];
        self.out.extend_from_slice(b"070701");
        for f in fields {
            self.out.extend_from_slice(format!("{f:08X}").as_bytes());
        }
        self.out.extend_from_slice(name.as_bytes());
        self.out.push(0);
        self.pad();
        self.out.extend_from_slice(data);
        self.pad();
    }

    fn pad(&mut self) {
        while !self.out.len().is_multiple_of(4) {
            self.out.push(0);
        }
    }

    /// The directory `path` and its parents (each written once).
    pub fn dir(&mut self, path: &str) {
        let mut at = String::new();
        for part in path.split('/').filter(|p| !p.is_empty()) {
            at.push('/');
            at.push_str(part);
            if self.dirs.insert(at.clone()) {
                let p = at.clone();
                self.entry(&p, S_IFDIR | 0o755, (0, 0), &[]);
            }
        }
    }

    /// A regular file (its parent directories first).
    pub fn file(&mut self, path: &str, perm: u32, data: &[u8]) {
        if let Some((parent, _)) = path.rsplit_once('/') {
            self.dir(parent);
        }
        self.entry(path, S_IFREG | (perm & 0o7777), (0, 0), data);
    }

    /// A character device node.
    pub fn char_device(&mut self, path: &str, major: u32, minor: u32) {
        if let Some((parent, _)) = path.rsplit_once('/') {
            self.dir(parent);
        }
        self.entry(path, S_IFCHR | 0o600, (major, minor), &[]);
    }

    /// The archive, with its trailer.
    pub fn finish(mut self) -> Vec<u8> {
        self.entry("TRAILER!!!", 0, (0, 0), &[]);
        // The kernel reads the initramfs in 512-byte blocks.
        while !self.out.len().is_multiple_of(512) {
            self.out.push(0);
        }
        self.out
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_file_is_written_after_its_directories_with_newc_headers() {
        let mut a = Archive::default();
        a.file("/a/b/c", 0o755, b"hello");
        let out = a.finish();
        let text = String::from_utf8_lossy(&out);
        // Directories /a and /a/b, then the file, then the trailer.
        let names: Vec<_> = text.match_indices("070701").map(|(i, _)| i).collect();
        assert_eq!(names.len(), 4);
        for (i, want) in names
            .iter()
            .zip(["a\0", "a/b\0", "a/b/c\0", "TRAILER!!!\0"])
        {
            let name = &out[i + 110..i + 110 + want.len()];
            assert_eq!(name, want.as_bytes());
        }
        // The file's size field (7th of 13) and its data, 4-aligned.
        let f = names[2];
        let size = &out[f + 6 + 6 * 8..f + 6 + 7 * 8];
        assert_eq!(size, b"00000005");
        let data_at = (f + 110 + "a/b/c\0".len()).next_multiple_of(4);
        assert_eq!(&out[data_at..data_at + 5], b"hello");
        assert_eq!(out.len() % 512, 0);
    }

    #[test]
    fn directories_are_written_once() {
        let mut a = Archive::default();
        a.dir("/x/y");
        a.dir("/x/y/z");
        a.file("/x/f", 0o644, b"");
        let out = a.finish();
        let text = String::from_utf8_lossy(&out);
        assert_eq!(text.matches("070701").count(), 5);
    }
}
