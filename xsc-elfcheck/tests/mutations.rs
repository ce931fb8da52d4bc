//! The no-panic property without cargo-fuzz: thousands of deterministic
//! mutations of real binaries (bit flips, byte sprays, truncations, header
//! and table fields set to hostile values). `check` must return Ok or Err,
//! and both renderers must accept whatever it returned, without panicking.

mod common;
use common::*;
use object::read::elf::{FileHeader, ProgramHeader, SectionHeader};
use object::{elf, LittleEndian as LE};
use std::panic::{catch_unwind, AssertUnwindSafe};

struct Rng(u64);

impl Rng {
    fn next(&mut self) -> u64 {
        // xorshift64*
        self.0 ^= self.0 >> 12;
        self.0 ^= self.0 << 25;
        self.0 ^= self.0 >> 27;
        self.0.wrapping_mul(0x2545_f491_4f6c_dd1d)
    }
    fn below(&mut self, n: usize) -> usize {
        (self.next() % n as u64) as usize
    }
}

/// Runs everything a caller would on `data`; returns whether check said Ok.
fn exercise(data: &[u8]) -> bool {
    let mut ok = false;
    for opts in [
        Options::default(),
        Options {
            strict: true,
            require_note: false,
        },
    ] {
        let res = check(data, &opts);
        ok |= res.is_ok();
        if let Ok(r) = &res {
            let _ = xsc_elfcheck::render_human("m", r, &opts);
        }
        let results = vec![("m".to_string(), res)];
        let _ = xsc_elfcheck::render_json(&results, &opts);
        let _ = xsc_elfcheck::exit_code(&results, &opts);
    }
    ok
}

/// Offsets of the header and table fields worth corrupting, with their size.
fn fields(data: &[u8]) -> Vec<(usize, usize)> {
    let mut v = vec![
        (0x10, 2),
        (0x12, 2),
        (0x18, 8),
        (0x20, 8),
        (0x28, 8),
        (0x36, 2),
        (0x38, 2),
        (0x3a, 2),
        (0x3c, 2),
        (0x3e, 2),
    ];
    let h = elf::FileHeader64::<LE>::parse(data).unwrap();
    let phoff = h.e_phoff(LE) as usize;
    for i in 0..h.program_headers(LE, data).unwrap().len() {
        let b = phoff + 56 * i;
        v.extend([
            (b, 4),
            (b + 4, 4),
            (b + 8, 8),
            (b + 16, 8),
            (b + 32, 8),
            (b + 40, 8),
            (b + 48, 8),
        ]);
    }
    let shoff = h.e_shoff(LE) as usize;
    if let Ok(t) = h.sections(LE, data) {
        for i in 0..t.len() {
            let b = shoff + 64 * i;
            v.extend([
                (b + 4, 4),
                (b + 8, 8),
                (b + 16, 8),
                (b + 24, 8),
                (b + 32, 8),
                (b + 40, 4),
                (b + 44, 4),
                (b + 56, 8),
            ]);
        }
        // Dynamic entries, if any.
        for s in t.iter().filter(|s| s.sh_type(LE) == elf::SHT_DYNAMIC) {
            let off = s.sh_offset(LE) as usize;
            for k in 0..(s.sh_size(LE) as usize / 16).min(20) {
                v.extend([(off + 16 * k, 8), (off + 16 * k + 8, 8)]);
            }
        }
    }
    for ph in h.program_headers(LE, data).unwrap() {
        if ph.p_type(LE) == elf::PT_NOTE {
            let off = ph.p_offset(LE) as usize;
            v.extend([
                (off, 4),
                (off + 4, 4),
                (off + 8, 4),
                (off + 16, 4),
                (off + 20, 4),
            ]);
        }
    }
    v.retain(|&(o, n)| o + n <= data.len());
    v
}

fn hostile_values(len: usize, rng: &mut Rng) -> Vec<u64> {
    let l = len as u64;
    vec![
        0,
        1,
        4,
        8,
        0xfff,
        0x1000,
        l - 1,
        l,
        l + 1,
        1 << 32,
        u64::MAX,
        i64::MAX as u64,
        rng.next(),
    ]
}

fn mutate_all(name: &str, data: &[u8], seed: u64) -> (usize, usize) {
    let mut rng = Rng(seed);
    let mut cases: Vec<(String, Vec<u8>)> = Vec::new();
    // Field corruption.
    for (off, size) in fields(data) {
        for v in hostile_values(data.len(), &mut rng) {
            let mut d = data.to_vec();
            d[off..off + size].copy_from_slice(&v.to_le_bytes()[..size]);
            cases.push((format!("field {off:#x}/{size} = {v:#x}"), d));
        }
    }
    // Bit flips, anywhere and in the headers.
    for i in 0..1500 {
        let mut d = data.to_vec();
        let at = if i % 2 == 0 {
            rng.below(d.len())
        } else {
            rng.below(d.len().min(0x400))
        };
        let bit = rng.below(8);
        d[at] ^= 1 << bit;
        cases.push((format!("flip {at:#x} bit {bit}"), d));
    }
    // Byte sprays.
    for _ in 0..500 {
        let mut d = data.to_vec();
        let n = 1 + rng.below(16);
        let mut what = String::new();
        for _ in 0..n {
            let at = rng.below(d.len());
            d[at] = rng.next() as u8;
            what.push_str(&format!("{at:#x} "));
        }
        cases.push((format!("spray {what}"), d));
    }
    // Truncations.
    for cut in (0..200).chain((0..300).map(|_| rng.below(data.len()))) {
        cases.push((
            format!("truncate to {cut}"),
            data[..cut.min(data.len())].to_vec(),
        ));
    }
    let mut oks = 0;
    let mut failures = Vec::new();
    let total = cases.len();
    for (what, d) in cases {
        match catch_unwind(AssertUnwindSafe(|| exercise(&d))) {
            Ok(ok) => oks += ok as usize,
            Err(_) => failures.push(what),
        }
    }
    assert!(
        failures.is_empty(),
        "{name}: {} mutations panicked: {failures:#?}",
        failures.len()
    );
    (oks, total)
}

fn both(oks: usize, total: usize, name: &str) {
    // The mutations must exercise both outcomes, or they test little.
    assert!(
        oks > total / 10 && oks < total,
        "{name}: {oks} of {total} mutations checked Ok"
    );
}

#[test]
fn mutations_of_a_static_binary_never_panic() {
    let (_, data) = build_x86(
        "mut-static",
        "
    .globl _start
    .type _start, @function
_start:
    mov $39, %eax
    syscall
    jmp 1f+1
1:  mov $0xc3050f90, %eax
    int $0x80
    lret
    ud2
    .size _start, .-_start
",
        &Link::default(),
    );
    let (oks, total) = mutate_all("static", &data, 0x5eed_0001);
    both(oks, total, "static");
}

#[test]
fn mutations_of_a_dynamic_binary_never_panic() {
    let dir = workdir("mut-dynamic");
    std::fs::write(
        dir.join("d.c"),
        "#include <stdio.h>\nint main(int c, char **v) { puts(v[0]); return c; }\n",
    )
    .unwrap();
    run("cc", &["-O1", "-o", "d", "d.c"], &dir);
    let data = std::fs::read(dir.join("d")).unwrap();
    let (oks, total) = mutate_all("dynamic", &data, 0x5eed_0002);
    both(oks, total, "dynamic");
}

#[test]
fn mutations_of_an_aarch64_binary_never_panic() {
    let (_, data) = build_aarch64(
        "mut-aarch64",
        ".globl _start\n.type _start, %function\n_start:\n    svc #0\n    hvc #1\n    ret\n.size _start, .-_start\n",
    );
    let (oks, total) = mutate_all("aarch64", &data, 0x5eed_0003);
    both(oks, total, "aarch64");
}
