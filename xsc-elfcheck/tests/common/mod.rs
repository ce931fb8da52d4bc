//! Helpers for the end-to-end tests: building ELF files at test time with
//! binutils (`as`, `ld`, and the aarch64 cross binutils) and by hand, and
//! reading them back independently of the checker (with `object`).
#![allow(dead_code)] // each test file uses a different subset

use object::read::elf::{FileHeader, ProgramHeader};
use object::{elf, LittleEndian as LE, Object, ObjectSymbol};
use std::path::{Path, PathBuf};
use std::process::Command;
use std::sync::atomic::{AtomicUsize, Ordering};

#[allow(unused_imports)]
pub use xsc_elfcheck::{check, CheckError, Finding, FindingKind, Options, Report, Severity};

/// A fresh directory for one test's files.
pub fn workdir(name: &str) -> PathBuf {
    static N: AtomicUsize = AtomicUsize::new(0);
    let d = Path::new(env!("CARGO_TARGET_TMPDIR"))
        .join("xsc-elfcheck-corpus")
        .join(format!(
            "{name}-{}-{}",
            std::process::id(),
            N.fetch_add(1, Ordering::Relaxed)
        ));
    let _ = std::fs::remove_dir_all(&d);
    std::fs::create_dir_all(&d).unwrap();
    d
}

/// Runs a build tool; panics with its output (and how to get the tool) if
/// it is missing or fails.
pub fn run(cmd: &str, args: &[&str], dir: &Path) {
    let out = Command::new(cmd).args(args).current_dir(dir).output().unwrap_or_else(|e| {
        panic!("cannot run {cmd} ({e}); the corpus is built with binutils (x86_64) and binutils-aarch64-linux-gnu")
    });
    assert!(
        out.status.success(),
        "{cmd} {args:?} failed:\n{}{}",
        String::from_utf8_lossy(&out.stdout),
        String::from_utf8_lossy(&out.stderr)
    );
}

/// The XSC_ABI note as a relocatable object for the given arch.
pub fn note_object(dir: &Path, arch: elf_notes::Arch, version: u32, features: u32) -> PathBuf {
    let bytes = elf_notes::note_object(
        arch,
        elf_notes::XscAbiNoteDesc {
            abi_version: version,
            features,
        },
    )
    .unwrap();
    let p = dir.join(format!("note-{version}-{features}.o"));
    std::fs::write(&p, bytes).unwrap();
    p
}

/// How to link a test program.
#[derive(Clone)]
pub struct Link {
    /// `Some((version, features))`: link the XSC_ABI note in.
    pub note: Option<(u32, u32)>,
    pub extra: Vec<&'static str>,
}

impl Default for Link {
    fn default() -> Self {
        Link {
            note: Some((elf_notes::ABI_VERSION, 0)),
            extra: Vec::new(),
        }
    }
}

/// Assembles and links an x86_64 static program (GNU as syntax).
pub fn build_x86(name: &str, asm: &str, link: &Link) -> (PathBuf, Vec<u8>) {
    let dir = workdir(name);
    std::fs::write(dir.join("prog.s"), asm).unwrap();
    run("as", &["--64", "-o", "prog.o", "prog.s"], &dir);
    let mut args: Vec<String> = [
        "-static",
        "-nostdlib",
        "-z",
        "noexecstack",
        "-e",
        "_start",
        "-o",
        "prog",
        "prog.o",
    ]
    .iter()
    .map(|s| s.to_string())
    .collect();
    if let Some((v, f)) = link.note {
        args.push(
            note_object(&dir, elf_notes::Arch::X86_64, v, f)
                .to_string_lossy()
                .into_owned(),
        );
    }
    args.extend(link.extra.iter().map(|s| s.to_string()));
    let args: Vec<&str> = args.iter().map(String::as_str).collect();
    run("ld", &args, &dir);
    let p = dir.join("prog");
    let data = std::fs::read(&p).unwrap();
    (p, data)
}

/// Assembles and links an aarch64 static program with the cross binutils.
pub fn build_aarch64(name: &str, asm: &str) -> (PathBuf, Vec<u8>) {
    let dir = workdir(name);
    std::fs::write(dir.join("prog.s"), asm).unwrap();
    run("aarch64-linux-gnu-as", &["-o", "prog.o", "prog.s"], &dir);
    let note = note_object(&dir, elf_notes::Arch::Aarch64, elf_notes::ABI_VERSION, 0);
    run(
        "aarch64-linux-gnu-ld",
        &[
            "-static",
            "-nostdlib",
            "-e",
            "_start",
            "-o",
            "prog",
            "prog.o",
            note.to_str().unwrap(),
        ],
        &dir,
    );
    let p = dir.join("prog");
    let data = std::fs::read(&p).unwrap();
    (p, data)
}

/// A symbol's address, read with `object` (not with the checker).
pub fn sym(data: &[u8], name: &str) -> u64 {
    let f = object::File::parse(data).unwrap();
    f.symbols()
        .find(|s| s.name() == Ok(name))
        .unwrap_or_else(|| panic!("no symbol {name}"))
        .address()
}

/// The index of the executable PT_LOAD holding `vaddr` and the file offset
/// of that byte, read from the program headers with `object`.
pub fn exec_segment_of(data: &[u8], vaddr: u64) -> (usize, u64) {
    let h = elf::FileHeader64::<LE>::parse(data).unwrap();
    for (i, ph) in h.program_headers(LE, data).unwrap().iter().enumerate() {
        let (va, sz) = (ph.p_vaddr(LE), ph.p_memsz(LE));
        if ph.p_type(LE) == elf::PT_LOAD
            && ph.p_flags(LE) & elf::PF_X != 0
            && vaddr >= va
            && vaddr < va + sz
        {
            return (i, ph.p_offset(LE) + (vaddr - va));
        }
    }
    panic!("{vaddr:#x} is in no executable segment")
}

pub fn opts() -> Options {
    Options::default()
}

pub fn strict() -> Options {
    Options {
        strict: true,
        require_note: true,
    }
}

/// The instruction findings (not file-level ones).
pub fn sites(r: &Report) -> Vec<&Finding> {
    r.findings
        .iter()
        .filter(|f| f.kind.is_instruction())
        .collect()
}

/// The one finding at `vaddr`; panics listing all findings otherwise.
pub fn at(r: &Report, vaddr: u64) -> &Finding {
    let v: Vec<&Finding> = r
        .findings
        .iter()
        .filter(|f| f.vaddr == Some(vaddr))
        .collect();
    assert_eq!(
        v.len(),
        1,
        "expected one finding at {vaddr:#x}, got: {:#?}",
        r.findings
    );
    v[0]
}

/// Writes an ELF64 little-endian executable by hand, for layouts no linker
/// makes: segments anywhere, section tables that lie, no section headers.
pub mod elfgen {
    use object::elf;

    pub struct Seg {
        pub p_type: u32,
        pub flags: u32,
        pub vaddr: u64,
        pub data: Vec<u8>,
        pub memsz: u64,
        /// Where the data goes in the file; `None`: a fresh page, at the
        /// offset congruent to `vaddr` modulo 4 KiB.
        pub offset: Option<u64>,
    }

    impl Seg {
        pub fn load(flags: u32, vaddr: u64, data: Vec<u8>) -> Seg {
            let memsz = data.len() as u64;
            Seg {
                p_type: elf::PT_LOAD,
                flags,
                vaddr,
                data,
                memsz,
                offset: None,
            }
        }
        pub fn note(vaddr: u64, version: u32, features: u32) -> Vec<Seg> {
            let bytes = elf_notes::write::note_bytes(elf_notes::XscAbiNoteDesc {
                abi_version: version,
                features,
            });
            vec![
                Seg::load(elf::PF_R, vaddr, bytes.clone()),
                Seg {
                    p_type: elf::PT_NOTE,
                    flags: elf::PF_R,
                    vaddr,
                    memsz: bytes.len() as u64,
                    data: bytes,
                    offset: None,
                },
            ]
        }
    }

    pub struct Sec {
        pub name: &'static str,
        pub sh_type: u32,
        pub flags: u64,
        pub addr: u64,
        pub size: u64,
    }

    pub struct Sym {
        pub name: &'static str,
        pub value: u64,
        pub size: u64,
    }

    pub const RX: u32 = elf::PF_R | elf::PF_X;
    pub const R: u32 = elf::PF_R;
    pub const RW: u32 = elf::PF_R | elf::PF_W;

    fn put16(v: &mut Vec<u8>, x: u16) {
        v.extend_from_slice(&x.to_le_bytes());
    }
    fn put32(v: &mut Vec<u8>, x: u32) {
        v.extend_from_slice(&x.to_le_bytes());
    }
    fn put64(v: &mut Vec<u8>, x: u64) {
        v.extend_from_slice(&x.to_le_bytes());
    }

    /// Builds the file. Sections get the file offset of the segment bytes
    /// at their address (0 if none); with `symbols`, a `.symtab` naming
    /// them (STT_FUNC, in section 1) is added; with `section_headers`
    /// false, there is no section header table at all.
    pub fn build(
        machine: u16,
        segs: &[Seg],
        secs: &[Sec],
        syms: &[Sym],
        section_headers: bool,
    ) -> Vec<u8> {
        let phoff = 64u64;
        let mut file = vec![0u8; (phoff + 56 * segs.len() as u64) as usize];
        let mut offsets = Vec::new();
        for s in segs {
            let off = match s.offset {
                Some(o) => o,
                None => {
                    let page = (file.len() as u64).div_ceil(4096) * 4096;
                    page + s.vaddr % 4096
                }
            };
            if (file.len() as u64) < off + s.data.len() as u64 {
                file.resize((off + s.data.len() as u64) as usize, 0);
            }
            file[off as usize..off as usize + s.data.len()].copy_from_slice(&s.data);
            offsets.push(off);
        }
        // Program headers.
        let mut ph = Vec::new();
        for (s, &off) in segs.iter().zip(&offsets) {
            put32(&mut ph, s.p_type);
            put32(&mut ph, s.flags);
            put64(&mut ph, off);
            put64(&mut ph, s.vaddr);
            put64(&mut ph, s.vaddr);
            put64(&mut ph, s.data.len() as u64);
            put64(&mut ph, s.memsz);
            put64(&mut ph, if s.p_type == elf::PT_NOTE { 4 } else { 0x1000 });
        }
        file[64..64 + ph.len()].copy_from_slice(&ph);
        let file_off_of = |addr: u64| {
            segs.iter()
                .zip(&offsets)
                .find(|(s, _)| {
                    s.p_type == elf::PT_LOAD
                        && addr >= s.vaddr
                        && addr < s.vaddr + s.data.len() as u64
                })
                .map_or(0, |(s, o)| o + (addr - s.vaddr))
        };
        let (mut shoff, mut shnum, mut shstrndx) = (0u64, 0u16, 0u16);
        if section_headers {
            // String tables and the symbol table go after everything.
            let mut shstr = vec![0u8];
            let name_of = |n: &str, t: &mut Vec<u8>| {
                let at = t.len() as u32;
                t.extend_from_slice(n.as_bytes());
                t.push(0);
                at
            };
            let mut headers: Vec<[u64; 10]> = vec![[0; 10]]; // name,type,flags,addr,off,size,link,info,align,entsize
            for s in secs {
                let n = name_of(s.name, &mut shstr) as u64;
                headers.push([
                    n,
                    s.sh_type as u64,
                    s.flags,
                    s.addr,
                    file_off_of(s.addr),
                    s.size,
                    0,
                    0,
                    16,
                    0,
                ]);
            }
            if !syms.is_empty() {
                let mut strtab = vec![0u8];
                let mut symtab = vec![0u8; 24];
                for s in syms {
                    let n = name_of(s.name, &mut strtab);
                    put32(&mut symtab, n);
                    symtab.push((elf::STB_GLOBAL << 4) | elf::STT_FUNC);
                    symtab.push(0);
                    put16(&mut symtab, 1);
                    put64(&mut symtab, s.value);
                    put64(&mut symtab, s.size);
                }
                let strtab_idx = headers.len() as u64 + 1;
                let sym_off = file.len() as u64;
                file.extend_from_slice(&symtab);
                let n = name_of(".symtab", &mut shstr) as u64;
                headers.push([
                    n,
                    elf::SHT_SYMTAB as u64,
                    0,
                    0,
                    sym_off,
                    symtab.len() as u64,
                    strtab_idx,
                    1,
                    8,
                    24,
                ]);
                let str_off = file.len() as u64;
                file.extend_from_slice(&strtab);
                let n = name_of(".strtab", &mut shstr) as u64;
                headers.push([
                    n,
                    elf::SHT_STRTAB as u64,
                    0,
                    0,
                    str_off,
                    strtab.len() as u64,
                    0,
                    0,
                    1,
                    0,
                ]);
            }
            let n = name_of(".shstrtab", &mut shstr) as u64;
            let shstr_off = file.len() as u64;
            headers.push([n, elf::SHT_STRTAB as u64, 0, 0, shstr_off, 0, 0, 0, 1, 0]);
            let last = headers.len() - 1;
            file.extend_from_slice(&shstr);
            headers[last][5] = shstr.len() as u64;
            while !file.len().is_multiple_of(8) {
                file.push(0);
            }
            shoff = file.len() as u64;
            for h in &headers {
                put32(&mut file, h[0] as u32);
                put32(&mut file, h[1] as u32);
                put64(&mut file, h[2]);
                put64(&mut file, h[3]);
                put64(&mut file, h[4]);
                put64(&mut file, h[5]);
                put32(&mut file, h[6] as u32);
                put32(&mut file, h[7] as u32);
                put64(&mut file, h[8]);
                put64(&mut file, h[9]);
            }
            shnum = headers.len() as u16;
            shstrndx = last as u16;
        }
        // ELF header.
        let mut h = Vec::new();
        h.extend_from_slice(&[0x7f, b'E', b'L', b'F', 2, 1, 1, 0]);
        h.extend_from_slice(&[0; 8]);
        put16(&mut h, elf::ET_EXEC);
        put16(&mut h, machine);
        put32(&mut h, 1);
        put64(
            &mut h,
            segs.iter()
                .find(|s| s.flags & elf::PF_X != 0)
                .map_or(0, |s| s.vaddr),
        );
        put64(&mut h, phoff);
        put64(&mut h, shoff);
        put32(&mut h, 0);
        put16(&mut h, 64);
        put16(&mut h, 56);
        put16(&mut h, segs.len() as u16);
        put16(&mut h, 64);
        put16(&mut h, shnum);
        put16(&mut h, shstrndx);
        file[..64].copy_from_slice(&h);
        file
    }
}
