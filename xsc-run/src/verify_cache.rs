//! A cache of verification results, so that starting a verified binary
//! again (every `cargo run`, every `exec` in a shell script) does not
//! re-scan its code (docs/xsc-run.md, section 5).
//!
//! The key is a BLAKE3 hash of everything the verdict depends on, taken
//! from the very bytes xsc-run then loads (the buffer read once from the
//! file, so a file changed after it was checked gets a new key): the ELF
//! header and program-header table, and the file contents of every segment
//! (code, data, the note, the dynamic section). Also in the key: the
//! verifier's options and the identity of this xsc-run binary (its size and
//! modification time), so rebuilding the verifier invalidates old entries.
//! Only passes are cached: a binary that fails is checked again and gets
//! its full report every time. Symbols and section headers, which only name
//! things in reports, are not part of the verdict and not hashed.
//!
//! A second, cheaper key skips even the hash for a file seen before (and
//! is itself named by SipHash, not BLAKE3; see [`identity_key`]): the
//! file's identity (device, inode, size, modification and change times),
//! recorded only for a file whose change time was at least two seconds in
//! the past when it was verified. Any write to the file moves its change
//! time (which only the kernel sets), so the identity of a changed file is
//! new; the two seconds rule out a write within the timestamp granularity
//! of the check (git's "racily clean" rule).
//!
//! An entry is an empty file named by the hex key under
//! `$XDG_CACHE_HOME/xsc/verified/` (default `~/.cache/xsc/verified/`).
//! The cache belongs to the user: it saves time, it is not a trust
//! boundary (the trap guard still stops a raw system call at run time, and
//! `XSC_NO_VERIFY_CACHE=1` turns the cache off). Any failure to read or
//! write it just means verifying again.

use crate::loader::Segment;
use std::os::unix::ffi::OsStrExt;
use std::os::unix::fs::MetadataExt;
use std::path::PathBuf;

/// The key for the binary whose headers are in `headers` (the file as
/// loader::read_headers read it) and whose loadable segments `loaded`
/// gives as they were loaded, checked with `require_note`; `None` if the
/// ELF headers cannot be read (the verifier then reports why).
pub fn key<'a>(
    headers: &[u8],
    require_note: bool,
    loaded: impl Fn(&Segment) -> &'a [u8],
) -> Option<blake3::Hash> {
    use object::read::elf::{FileHeader, ProgramHeader};
    let mut h = blake3::Hasher::new();
    h.update(b"xsc-run verification v2\0");
    h.update(&[require_note as u8]);
    for v in verifier_identity()? {
        h.update(&v.to_le_bytes());
    }
    let header = object::elf::FileHeader64::<object::Endianness>::parse(headers).ok()?;
    let e = header.endian().ok()?;
    let phoff = header.e_phoff(e) as usize;
    let phsize = header.e_phnum(e) as usize * header.e_phentsize(e) as usize;
    let mut part = |bytes: &[u8]| {
        h.update(&(bytes.len() as u64).to_le_bytes());
        h.update(bytes);
    };
    part(headers.get(..size_of::<object::elf::FileHeader64<object::Endianness>>())?);
    part(headers.get(phoff..phoff.checked_add(phsize)?)?);
    for ph in header.program_headers(e, headers).ok()? {
        let (offset, filesz) = (ph.p_offset(e), ph.p_filesz(e));
        if ph.p_type(e) == object::elf::PT_LOAD {
            part(loaded(&Segment {
                vaddr: ph.p_vaddr(e),
                memsz: ph.p_memsz(e),
                offset,
                filesz,
                flags: ph.p_flags(e),
            }));
        } else {
            let start = usize::try_from(offset).ok()?;
            part(headers.get(start..start.checked_add(usize::try_from(filesz).ok()?)?)?);
        }
    }
    Some(h.finalize())
}

fn dir() -> Option<PathBuf> {
    if std::env::var_os("XSC_NO_VERIFY_CACHE").is_some_and(|v| v == "1") {
        return None;
    }
    let base = match std::env::var_os("XDG_CACHE_HOME").filter(|v| !v.is_empty()) {
        Some(d) => PathBuf::from(d),
        None => home()?.join(".cache"),
    };
    Some(base.join("xsc/verified"))
}

/// This xsc-run binary's identity (size, modification time): a rebuilt
/// verifier makes new keys. Read once per process.
fn verifier_identity() -> Option<[u64; 3]> {
    static ID: std::sync::OnceLock<Option<[u64; 3]>> = std::sync::OnceLock::new();
    *ID.get_or_init(|| {
        let exe = std::fs::metadata("/proc/self/exe").ok()?;
        Some([exe.size(), exe.mtime() as u64, exe.mtime_nsec() as u64])
    })
}

/// The identity key of the opened program file, and whether the file is
/// old enough for its identity to be recorded (see the module comment).
pub fn identity_key(file: &std::fs::Metadata, require_note: bool) -> Option<(blake3::Hash, bool)> {
    // Not BLAKE3: creating a blake3::Hasher probes the CPU with CPUID,
    // which on a virtual machine traps to the hypervisor, and this runs at
    // every start. The identity is a dozen integers; four SipHash words
    // over them, each with its own index, name a cache entry well enough.
    use std::hash::{Hash, Hasher};
    let words: Vec<u64> = verifier_identity()?
        .into_iter()
        .chain([
            file.dev(),
            file.ino(),
            file.size(),
            file.mtime() as u64,
            file.mtime_nsec() as u64,
            file.ctime() as u64,
            file.ctime_nsec() as u64,
        ])
        .collect();
    let mut key = [0u8; 32];
    for (i, part) in key.chunks_mut(8).enumerate() {
        let mut h = std::hash::DefaultHasher::new();
        ("xsc-run verified file identity v2", i, require_note, &words).hash(&mut h);
        part.copy_from_slice(&h.finish().to_le_bytes());
    }
    let now = std::time::SystemTime::now()
        .duration_since(std::time::UNIX_EPOCH)
        .ok()?
        .as_secs() as i64;
    Some((blake3::Hash::from_bytes(key), file.ctime() < now - 2))
}

/// `$HOME`, or, for a program started with an empty environment (an exec
/// with `envp = {NULL}`), the user's home directory from `/etc/passwd`
/// (read directly: xsc-run is linked statically, without NSS).
fn home() -> Option<PathBuf> {
    if let Some(h) = std::env::var_os("HOME").filter(|v| !v.is_empty()) {
        return Some(PathBuf::from(h));
    }
    // SAFETY: getuid has no arguments and cannot fail.
    let uid = unsafe { libc::getuid() }.to_string();
    let passwd = std::fs::read("/etc/passwd").ok()?;
    passwd.split(|&b| b == b'\n').find_map(|line| {
        let f: Vec<&[u8]> = line.split(|&b| b == b':').collect();
        (f.len() >= 7 && f[2] == uid.as_bytes())
            .then(|| PathBuf::from(std::ffi::OsStr::from_bytes(f[5])))
    })
}

/// Has a binary with this key passed before?
pub fn passed_before(key: &blake3::Hash) -> bool {
    dir().is_some_and(|d| d.join(key.to_hex().as_str()).exists())
}

/// Records that a binary with this key passed.
pub fn record_pass(key: &blake3::Hash) {
    if let Some(d) = dir() {
        let _ = std::fs::create_dir_all(&d);
        let _ = std::fs::File::create(d.join(key.to_hex().as_str()));
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    /// A minimal ELF64 header with one program header covering bytes
    /// 120..130 of the file.
    fn tiny_elf() -> Vec<u8> {
        let mut d = vec![0u8; 140];
        d[..4].copy_from_slice(b"\x7fELF");
        d[4] = 2; // 64-bit
        d[5] = 1; // little-endian
        d[6] = 1; // version
        d[16] = 2; // ET_EXEC
        d[18] = 62; // EM_X86_64
        d[20] = 1;
        d[32] = 64; // e_phoff
        d[52] = 64; // e_ehsize
        d[54] = 56; // e_phentsize
        d[56] = 1; // e_phnum
        let ph = 64;
        d[ph] = 1; // PT_LOAD
        d[ph + 8] = 120; // p_offset
        d[ph + 32] = 10; // p_filesz
        d
    }

    /// The key with each loadable segment as a loader would have read it
    /// from `file`.
    fn file_key(file: &[u8], note: bool) -> Option<blake3::Hash> {
        key(file, note, |s: &Segment| {
            &file[s.offset as usize..(s.offset + s.filesz) as usize]
        })
    }

    #[test]
    fn the_key_covers_segments_and_headers_but_not_the_rest() {
        let base = tiny_elf();
        let key = file_key;
        let k = key(&base, true).unwrap();
        assert_eq!(key(&base, true), Some(k), "stable");
        assert_ne!(key(&base, false), Some(k), "options are in the key");
        let mut code = base.clone();
        code[125] ^= 1;
        assert_ne!(key(&code, true), Some(k), "segment bytes are in the key");
        let mut header = base.clone();
        header[24] ^= 1; // e_entry
        assert_ne!(key(&header, true), Some(k), "the header is in the key");
        let mut outside = base.clone();
        outside[135] ^= 1; // after the segment: sections, symbols
        assert_eq!(key(&outside, true), Some(k));
        assert_eq!(key(b"not an elf", true), None);
        // For a loadable segment, what counts is what was loaded.
        let other = [0xccu8; 10];
        assert_ne!(super::key(&base, true, |_| &other[..]), Some(k));
    }
}
