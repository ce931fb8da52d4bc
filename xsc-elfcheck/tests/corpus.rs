//! The adversarial corpus (issue 4): programs built at test time with
//! binutils or written by hand, each with a known site the checker must
//! find with the right class and location, and clean programs it must pass.

mod common;
use common::elfgen::{self, Sec, Seg, Sym, R, RX};
use common::*;
use object::elf;

const START: &str = "
    .text
    .globl _start
    .type _start, @function
_start:
    call work
    ud2
    .size _start, .-_start
";

fn x86(name: &str, body: &str) -> (std::path::PathBuf, Vec<u8>) {
    build_x86(name, &format!("{START}\n{body}"), &Link::default())
}

/// Asserts `f` is the decoded site of `kind` at `sym`+`off`, with the
/// location fields read independently from the file.
fn assert_site(
    data: &[u8],
    f: &Finding,
    kind: FindingKind,
    sym_name: &str,
    off: u64,
    bytes: &[u8],
) {
    let vaddr = sym(data, sym_name) + off;
    let (seg, file_off) = exec_segment_of(data, vaddr);
    assert_eq!(f.kind, kind, "{f:#?}");
    assert_eq!(f.severity, Severity::Violation, "{f:#?}");
    assert_eq!(f.vaddr, Some(vaddr), "{f:#?}");
    assert_eq!(f.file_offset, Some(file_off), "{f:#?}");
    assert_eq!(f.segment, Some(seg), "{f:#?}");
    assert_eq!(f.section.as_deref(), Some(".text"), "{f:#?}");
    assert_eq!(f.symbol.as_deref(), Some(sym_name), "{f:#?}");
    assert_eq!(f.symbol_offset, Some(off), "{f:#?}");
    assert_eq!(f.bytes, bytes, "{f:#?}");
}

#[test]
fn a_clean_static_binary_with_the_note_passes() {
    let (_, data) = x86(
        "clean",
        "
    .globl work
    .type work, @function
work:
    push %rbp
    mov %rsp, %rbp
    lea msg(%rip), %rsi
    mov $0x1234, %eax
    int3
    pop %rbp
    ret
    .size work, .-work
    .section .rodata
msg: .ascii \"\\x0f\\x05 \\xcd\\x80 in data is fine\"
",
    );
    let r = check(&data, &opts()).unwrap();
    assert!(r.findings.is_empty(), "{:#?}", r.findings);
    assert!(r.passed(&opts()) && r.passed(&strict()));
    assert_eq!(r.arch, xsc_elfcheck::Arch::X86_64);
    assert_eq!(
        r.note,
        Some(elf_notes::XscAbiNoteDesc {
            abi_version: elf_notes::ABI_VERSION,
            features: 0
        })
    );
    assert_eq!(r.exec_segments.len(), 1);
    assert!(r.exec_bytes >= 4096, "{}", r.exec_bytes);
}

#[test]
fn plain_syscall() {
    let (_, data) = x86(
        "syscall",
        "
    .globl work
    .type work, @function
work:
    mov $39, %eax
    syscall
    ret
    .size work, .-work
",
    );
    let r = check(&data, &opts()).unwrap();
    assert!(!r.passed(&opts()));
    let s = sites(&r);
    assert_eq!(s.len(), 1, "{s:#?}");
    assert_site(
        &data,
        s[0],
        FindingKind::SyscallInstruction,
        "work",
        5,
        &[0x0f, 0x05],
    );
    assert_eq!(s[0].disasm.as_deref(), Some("syscall"));
}

#[test]
fn sysenter() {
    let (_, data) = x86(
        "sysenter",
        "
    .globl work
    .type work, @function
work:
    nop
    sysenter
    ret
    .size work, .-work
",
    );
    let r = check(&data, &opts()).unwrap();
    let s = sites(&r);
    assert_eq!(s.len(), 1, "{s:#?}");
    assert_site(
        &data,
        s[0],
        FindingKind::SyscallInstruction,
        "work",
        1,
        &[0x0f, 0x34],
    );
}

#[test]
fn int_0x80_and_other_int_n_but_not_int3() {
    let (_, data) = x86(
        "int80",
        "
    .globl work
    .type work, @function
work:
    mov $20, %eax
    int $0x80
    .byte 0xcd, 0x03 # int $3 in two bytes (as writes `int $3` as int3)
    int3
    int1
    ret
    .size work, .-work
",
    );
    let r = check(&data, &opts()).unwrap();
    let s = sites(&r);
    assert_eq!(s.len(), 2, "{s:#?}");
    assert_site(
        &data,
        s[0],
        FindingKind::SoftwareInterrupt,
        "work",
        5,
        &[0xcd, 0x80],
    );
    assert_eq!(s[0].disasm.as_deref(), Some("int 0x80"));
    assert_site(
        &data,
        s[1],
        FindingKind::SoftwareInterrupt,
        "work",
        7,
        &[0xcd, 0x03],
    );
}

#[test]
fn far_transfers() {
    let (_, data) = x86(
        "far",
        "
    .globl work
    .type work, @function
work:
    lcall *(%rax)
    ljmp *(%rbx)
    lret
    iretq
    rex64 lcall *8(%rcx)
    ret
    .size work, .-work
",
    );
    let r = check(&data, &opts()).unwrap();
    let s = sites(&r);
    // lcall *(%rax) = ff 18; ljmp *(%rbx) = ff 2b; lret = cb; iretq = 48 cf;
    // rex.w lcall *8(%rcx) = 48 ff 59 08.
    let want: [(u64, &[u8]); 5] = [
        (0, &[0xff, 0x18]),
        (2, &[0xff, 0x2b]),
        (4, &[0xcb]),
        (5, &[0x48, 0xcf]),
        (7, &[0x48, 0xff, 0x59, 0x08]),
    ];
    assert_eq!(s.len(), want.len(), "{s:#?}");
    for (f, (off, bytes)) in s.iter().zip(want) {
        assert_site(&data, f, FindingKind::FarTransfer, "work", off, bytes);
    }
}

const HIDDEN: &str = "
    .globl work
    .type work, @function
work:
    jmp inner+1
    .globl inner
    .type inner, @function
inner:
    mov $0xc3050f90, %eax
    ret
    .size inner, .-inner
    .size work, .-work
";

#[test]
fn a_syscall_hidden_in_an_immediate_and_reached_by_a_jump_into_it() {
    let (_, data) = x86("hidden", HIDDEN);
    let inner = sym(&data, "inner");
    // b8 90 0f 05 c3: jumping to inner+1 runs nop; syscall; ret.
    let r = check(&data, &opts()).unwrap();
    let s = sites(&r);
    assert_eq!(s.len(), 1, "{s:#?}");
    let f = s[0];
    assert_eq!(f.vaddr, Some(inner + 2));
    assert_eq!(f.symbol.as_deref(), Some("inner"));
    assert_eq!(f.symbol_offset, Some(2));
    assert_eq!(f.segment, Some(exec_segment_of(&data, inner).0));
    match &f.kind {
        FindingKind::HiddenSyscall { inside } => assert_eq!(inside, "mov eax, 0xc3050f90"),
        k => panic!("{k:?}"),
    }
    assert_eq!(f.bytes, [0xb8, 0x90, 0x0f, 0x05, 0xc3]);
    assert_eq!(f.disasm.as_deref(), Some("syscall"));
    // A warning by default, a violation with --strict.
    assert_eq!(f.severity, Severity::Warning);
    assert!(r.passed(&opts()));
    assert!(!r.passed(&strict()));
    let rs = check(&data, &strict()).unwrap();
    assert_eq!(rs.violations(&strict()).count(), 1);
    assert_eq!(rs.findings[0].severity, Severity::Violation);
}

/// Clears the section header table fields of the ELF header.
fn drop_section_headers(data: &mut [u8]) {
    data[0x28..0x30].fill(0); // e_shoff
    data[0x3c..0x40].fill(0); // e_shnum, e_shstrndx
}

const SYSCALL_WORK: &str = "
    .globl work
    .type work, @function
work:
    mov $39, %eax
    syscall
    ret
    .size work, .-work
";

#[test]
fn a_binary_without_section_headers_is_checked_the_same() {
    let (_, mut data) = x86("noshdr", SYSCALL_WORK);
    let vaddr = sym(&data, "work") + 5;
    drop_section_headers(&mut data);
    assert!(object::File::parse(&*data).is_ok_and(|f| object::Object::sections(&f).count() == 0));
    let r = check(&data, &opts()).unwrap();
    let s = sites(&r);
    assert_eq!(s.len(), 1, "{s:#?}");
    assert_eq!(s[0].kind, FindingKind::SyscallInstruction);
    assert_eq!(s[0].vaddr, Some(vaddr));
    assert_eq!(s[0].section, None);
    assert_eq!(s[0].symbol, None);
    assert!(
        r.remarks.iter().any(|m| m.contains("no section headers")),
        "{:?}",
        r.remarks
    );
}

#[test]
fn a_syscall_in_an_executable_segment_that_no_section_covers() {
    // Segment 0: the note; segment 2: .text (clean, covered by a section);
    // segment 3: executable, no section header mentions it.
    let mut segs = Seg::note(0x400000, elf_notes::ABI_VERSION, 0);
    segs.push(Seg::load(RX, 0x401000, vec![0x90, 0x90, 0xc3]));
    segs.push(Seg::load(RX, 0x500000, vec![0x31, 0xc0, 0x0f, 0x05, 0xc3]));
    let secs = [Sec {
        name: ".text",
        sh_type: elf::SHT_PROGBITS,
        flags: 6,
        addr: 0x401000,
        size: 3,
    }];
    let syms = [Sym {
        name: "clean",
        value: 0x401000,
        size: 3,
    }];
    let data = elfgen::build(elf::EM_X86_64, &segs, &secs, &syms, true);
    let r = check(&data, &opts()).unwrap();
    let f = at(&r, 0x500002);
    assert_eq!(f.kind, FindingKind::SyscallInstruction);
    assert_eq!(f.segment, Some(3));
    assert_eq!(f.file_offset, Some(exec_segment_of(&data, 0x500002).1));
    assert_eq!(f.section, None);
    assert_eq!(f.symbol, None);
    assert_eq!(sites(&r).len(), 1);
}

#[test]
fn a_stripped_binary() {
    let (_, full) = x86("stripped-full", SYSCALL_WORK);
    let (_, data) = build_x86(
        "stripped",
        &format!("{START}\n{SYSCALL_WORK}"),
        &Link {
            extra: vec!["-s"],
            ..Link::default()
        },
    );
    assert!(object::File::parse(&*data).is_ok_and(|f| object::Object::symbols(&f).count() == 0));
    let vaddr = sym(&full, "work") + 5; // stripping does not move code
    let r = check(&data, &opts()).unwrap();
    let s = sites(&r);
    assert_eq!(s.len(), 1, "{s:#?}");
    assert_eq!(s[0].kind, FindingKind::SyscallInstruction);
    assert_eq!(s[0].vaddr, Some(vaddr));
    assert_eq!(s[0].segment, Some(exec_segment_of(&data, vaddr).0));
    assert_eq!(s[0].section.as_deref(), Some(".text"));
    assert_eq!(s[0].symbol, None);
}

/// Finds a section header by name with `object` and returns the file
/// offset of its sh_flags field.
fn sh_flags_offset(data: &[u8], name: &str) -> usize {
    use object::read::elf::{FileHeader, SectionHeader};
    let h = elf::FileHeader64::<object::LittleEndian>::parse(data).unwrap();
    let t = h.sections(object::LittleEndian, data).unwrap();
    let shoff = h.e_shoff(object::LittleEndian) as usize;
    let i = t
        .iter()
        .position(|s| t.section_name(object::LittleEndian, s) == Ok(name.as_bytes()))
        .unwrap();
    let _ = t
        .section(object::SectionIndex(i))
        .unwrap()
        .sh_flags(object::LittleEndian);
    shoff + 64 * i + 8
}

#[test]
fn a_section_table_that_says_text_is_not_executable() {
    let (_, mut data) = x86("lying-text", SYSCALL_WORK);
    let at_flags = sh_flags_offset(&data, ".text");
    data[at_flags..at_flags + 8].copy_from_slice(&(elf::SHF_ALLOC as u64).to_le_bytes());
    let r = check(&data, &opts()).unwrap();
    let s = sites(&r);
    assert_eq!(s.len(), 1, "{s:#?}");
    assert_eq!(s[0].kind, FindingKind::SyscallInstruction);
    assert_eq!(s[0].vaddr, Some(sym(&data, "work") + 5));
    assert_eq!(s[0].section.as_deref(), Some(".text"));
}

#[test]
fn a_section_table_that_claims_data_is_code_and_code_is_data() {
    // The real code (with a syscall) is in segment 2 (R-X); the data in
    // segment 3 (R) holds syscall bytes too. The section table swaps them.
    let mut segs = Seg::note(0x400000, elf_notes::ABI_VERSION, 0);
    segs.push(Seg::load(RX, 0x401000, vec![0x90, 0x0f, 0x05, 0xc3]));
    segs.push(Seg::load(
        R,
        0x402000,
        vec![0x0f, 0x05, 0xcd, 0x80, 0x0f, 0x34],
    ));
    let secs = [
        Sec {
            name: ".text",
            sh_type: elf::SHT_PROGBITS,
            flags: 6,
            addr: 0x402000,
            size: 6,
        },
        Sec {
            name: ".rodata",
            sh_type: elf::SHT_PROGBITS,
            flags: 2,
            addr: 0x401000,
            size: 4,
        },
    ];
    let data = elfgen::build(elf::EM_X86_64, &segs, &secs, &[], true);
    let r = check(&data, &opts()).unwrap();
    let s = sites(&r);
    assert_eq!(s.len(), 1, "only the real code counts: {s:#?}");
    assert_eq!(s[0].kind, FindingKind::SyscallInstruction);
    assert_eq!(s[0].vaddr, Some(0x401001));
    assert_eq!(s[0].segment, Some(2));
    assert_eq!(
        s[0].section.as_deref(),
        Some(".rodata"),
        "named by the (lying) table"
    );
}

#[test]
fn a_section_table_pointing_outside_the_file_costs_names_not_coverage() {
    let (_, mut data) = x86("bad-shoff", SYSCALL_WORK);
    let vaddr = sym(&data, "work") + 5;
    data[0x28..0x30].copy_from_slice(&0xffff_ff00u64.to_le_bytes());
    let r = check(&data, &opts()).unwrap();
    assert_eq!(at(&r, vaddr).kind, FindingKind::SyscallInstruction);
    assert!(
        r.remarks
            .iter()
            .any(|m| m.contains("section headers unreadable")),
        "{:?}",
        r.remarks
    );
}

/// Two executable segments, adjacent in memory (the first ends on a page
/// boundary where the second starts), from distant places in the file.
fn split(first_tail: &[u8], second_head: &[u8]) -> Vec<u8> {
    let mut a = vec![0x90; 0x1000 - first_tail.len()];
    a.extend_from_slice(first_tail);
    let mut b = second_head.to_vec();
    b.push(0xc3);
    let mut segs = Seg::note(0x400000, elf_notes::ABI_VERSION, 0);
    segs.push(Seg::load(RX, 0x401000, a));
    segs.push(Seg::load(R, 0x600000, vec![0; 64])); // file bytes in between
    segs.push(Seg::load(RX, 0x402000, b));
    elfgen::build(elf::EM_X86_64, &segs, &[], &[], true)
}

#[test]
fn a_syscall_split_across_two_adjacent_executable_segments() {
    let data = split(&[0x0f], &[0x05]);
    // The two halves are far apart in the file.
    let (s2, off2) = exec_segment_of(&data, 0x401fff);
    let (s4, off4) = exec_segment_of(&data, 0x402000);
    assert_eq!((s2, s4), (2, 4));
    assert_ne!(off2 + 1, off4);
    let r = check(&data, &opts()).unwrap();
    let f = at(&r, 0x401fff);
    assert_eq!(f.kind, FindingKind::SyscallInstruction);
    assert_eq!(f.segment, Some(2));
    assert_eq!(f.file_offset, Some(off2));
    assert_eq!(f.bytes, [0x0f, 0x05]);
    assert_eq!(sites(&r).len(), 1);
}

#[test]
fn hidden_syscall_bytes_split_across_two_adjacent_executable_segments() {
    // mov eax, 0x0f909090 ends the first segment; the second starts with 05.
    let data = split(&[0xb8, 0x90, 0x90, 0x90, 0x0f], &[0x05, 0, 0, 0, 0]);
    let r = check(&data, &opts()).unwrap();
    let f = at(&r, 0x401fff);
    assert!(
        matches!(&f.kind, FindingKind::HiddenSyscall { inside } if inside == "mov eax, 0xf909090"),
        "{f:#?}"
    );
    assert!(f.message.contains("last byte of"), "{}", f.message);
    assert!(!check(&data, &strict()).unwrap().passed(&strict()));
}

#[test]
fn segments_that_are_not_adjacent_are_not_joined() {
    // Same bytes, but the second segment starts a page later.
    let mut a = vec![0x90; 0xfff];
    a.push(0x0f);
    let mut segs = Seg::note(0x400000, elf_notes::ABI_VERSION, 0);
    segs.push(Seg::load(RX, 0x401000, a));
    segs.push(Seg::load(RX, 0x403000, vec![0x05, 0xc3]));
    let data = elfgen::build(elf::EM_X86_64, &segs, &[], &[], true);
    let r = check(&data, &opts()).unwrap();
    assert!(sites(&r).is_empty(), "{:#?}", r.findings);
}

#[test]
fn bytes_in_the_page_slack_of_an_executable_segment_are_checked() {
    // The segment is 3 bytes at 0x401100, but its whole page is mapped
    // executable, including the file bytes right after it: 0f 05.
    let mut segs = Seg::note(0x400000, elf_notes::ABI_VERSION, 0);
    let mut s = Seg::load(RX, 0x401100, vec![0x90, 0x90, 0xc3, 0x0f, 0x05]);
    s.data.truncate(3);
    s.memsz = 3;
    segs.push(s);
    let mut data = elfgen::build(elf::EM_X86_64, &segs, &[], &[], true);
    let (_, off) = exec_segment_of(&data, 0x401100);
    data[off as usize + 3..off as usize + 5].copy_from_slice(&[0x0f, 0x05]);
    let r = check(&data, &opts()).unwrap();
    let f = at(&r, 0x401103);
    assert!(
        matches!(f.kind, FindingKind::HiddenSyscall { .. }),
        "{f:#?}"
    );
    assert_eq!(f.segment, Some(2));
    assert_eq!(f.file_offset, Some(off + 3));
    assert!(f.message.contains("page slack"), "{}", f.message);
    assert!(r.passed(&opts()), "{:#?}", r.findings);
    assert!(!r.passed(&strict()));
}

#[test]
fn overlapping_executable_segments_must_agree() {
    let mut segs = Seg::note(0x400000, elf_notes::ABI_VERSION, 0);
    segs.push(Seg::load(RX, 0x401000, vec![0x90; 16]));
    segs.push(Seg::load(RX, 0x401008, vec![0x0f, 0x05, 0xc3]));
    let data = elfgen::build(elf::EM_X86_64, &segs, &[], &[], true);
    match check(&data, &opts()) {
        Err(CheckError::Malformed(m)) => assert!(m.contains("overlap"), "{m}"),
        other => panic!("{other:?}"),
    }
}

const AARCH64: &str = "
    .text
    .globl _start
    .type _start, %function
_start:
    bl work
    brk #0
    .size _start, .-_start
    .globl work
    .type work, %function
work:
    mov x8, #172
    svc #0
    hvc #0x1
    smc #0x2
    ret
    .size work, .-work
";

#[test]
fn aarch64_svc_hvc_smc() {
    let (_, data) = build_aarch64("aarch64", AARCH64);
    let work = sym(&data, "work");
    let r = check(&data, &opts()).unwrap();
    assert_eq!(r.arch, xsc_elfcheck::Arch::Aarch64);
    let s = sites(&r);
    assert_eq!(s.len(), 3, "{s:#?}");
    let want = [
        (FindingKind::Svc, 4, "svc #0x0", 0xd4000001u32),
        (FindingKind::Hvc, 8, "hvc #0x1", 0xd4000022),
        (FindingKind::Smc, 12, "smc #0x2", 0xd4000043),
    ];
    for (f, (kind, off, text, word)) in s.iter().zip(want) {
        assert_eq!(f.kind, kind);
        assert_eq!(f.vaddr, Some(work + off));
        assert_eq!(f.symbol.as_deref(), Some("work"));
        assert_eq!(f.symbol_offset, Some(off));
        assert_eq!(f.section.as_deref(), Some(".text"));
        let (seg, file_off) = exec_segment_of(&data, work + off);
        assert_eq!((f.segment, f.file_offset), (Some(seg), Some(file_off)));
        assert_eq!(f.disasm.as_deref(), Some(text));
        assert_eq!(f.bytes, word.to_le_bytes());
        assert_eq!(f.severity, Severity::Violation);
    }
}

#[test]
fn aarch64_clean_binary_passes() {
    let (_, data) = build_aarch64(
        "aarch64-clean",
        &AARCH64.replace("    svc #0\n    hvc #0x1\n    smc #0x2\n", "    brk #1\n"),
    );
    let r = check(&data, &opts()).unwrap();
    assert!(r.findings.is_empty(), "{:#?}", r.findings);
}

#[test]
fn aarch64_only_aligned_words_of_executable_segments_count() {
    let svc = 0xd400_0001u32.to_le_bytes();
    let mut code = vec![0x1f, 0x20, 0x03, 0xd5]; // nop
    code.extend_from_slice(&[0, 0]);
    code.extend_from_slice(&svc); // at offset 6: not an aligned word
    code.extend_from_slice(&[0, 0]);
    code.extend_from_slice(&0xd400_0002u32.to_le_bytes()); // hvc at offset 12
    let mut segs = Seg::note(0x400000, elf_notes::ABI_VERSION, 0);
    segs.push(Seg::load(RX, 0x410000, code));
    segs.push(Seg::load(R, 0x420000, svc.to_vec())); // data: not executable
    let data = elfgen::build(elf::EM_AARCH64, &segs, &[], &[], false);
    let r = check(&data, &opts()).unwrap();
    let s = sites(&r);
    assert_eq!(s.len(), 1, "{s:#?}");
    assert_eq!(s[0].kind, FindingKind::Hvc);
    assert_eq!(s[0].vaddr, Some(0x41000c));
}

#[test]
fn missing_note() {
    let (_, data) = build_x86(
        "nonote",
        &format!("{START}\nwork: ret\n"),
        &Link {
            note: None,
            extra: vec![],
        },
    );
    let r = check(&data, &opts()).unwrap();
    assert_eq!(r.findings.len(), 1, "{:#?}", r.findings);
    assert_eq!(r.findings[0].kind, FindingKind::MissingNote);
    assert!(!r.passed(&opts()));
    let lax = Options {
        strict: false,
        require_note: false,
    };
    let r = check(&data, &lax).unwrap();
    assert_eq!(r.findings[0].severity, Severity::Warning);
    assert!(r.passed(&lax));
}

#[test]
fn bad_notes_fail_even_when_the_note_is_not_required() {
    let lax = Options {
        strict: false,
        require_note: false,
    };
    let current = elf_notes::ABI_VERSION;
    for (v, f, want) in [
        (current + 1, 0, format!("version {}", current + 1)),
        (current, 4, "unknown features 0x4".to_string()),
    ] {
        let (_, data) = build_x86(
            &format!("badnote-{v}-{f}"),
            &format!("{START}\nwork: ret\n"),
            &Link {
                note: Some((v, f)),
                extra: vec![],
            },
        );
        let r = check(&data, &lax).unwrap();
        assert_eq!(r.findings.len(), 1, "{:#?}", r.findings);
        assert_eq!(r.findings[0].kind, FindingKind::BadNote);
        assert!(
            r.findings[0].message.contains(&want),
            "{}",
            r.findings[0].message
        );
        assert!(!r.passed(&lax));
    }
    // A descriptor that is not 8 bytes.
    let mut segs = vec![Seg {
        p_type: elf::PT_NOTE,
        flags: R,
        vaddr: 0x400000,
        memsz: 20,
        data: [4u32, 4, 1]
            .iter()
            .flat_map(|w| w.to_le_bytes())
            .chain(*b"XSC\0")
            .chain([1, 0, 0, 0])
            .collect(),
        offset: None,
    }];
    segs.push(Seg::load(RX, 0x401000, vec![0xc3]));
    let data = elfgen::build(elf::EM_X86_64, &segs, &[], &[], false);
    let r = check(&data, &opts()).unwrap();
    assert_eq!(
        r.findings[0].kind,
        FindingKind::BadNote,
        "{:#?}",
        r.findings
    );
}

#[test]
fn dynamic_binaries_are_reported() {
    let dir = workdir("dynamic");
    std::fs::write(
        dir.join("hello.c"),
        "#include <stdio.h>\nint main(void) { puts(\"hi\"); return 0; }\n",
    )
    .unwrap();
    run("cc", &["-o", "hello", "hello.c"], &dir);
    let data = std::fs::read(dir.join("hello")).unwrap();
    let r = check(&data, &opts()).unwrap();
    let kinds: Vec<&FindingKind> = r.findings.iter().map(|f| &f.kind).collect();
    assert!(kinds.contains(&&FindingKind::Interp), "{kinds:?}");
    assert!(kinds.contains(&&FindingKind::MissingNote), "{kinds:?}");
    let needed: Vec<&Finding> = r
        .findings
        .iter()
        .filter(|f| f.kind == FindingKind::DtNeeded)
        .collect();
    assert!(
        needed.iter().any(|f| f.message.contains("libc.so.6")),
        "{needed:#?}"
    );
    let interp = r
        .findings
        .iter()
        .find(|f| f.kind == FindingKind::Interp)
        .unwrap();
    assert!(interp.message.contains("ld-linux"), "{}", interp.message);
}

#[test]
fn writable_executable_memory() {
    // ld -N makes one RWX segment; -z execstack asks for an executable stack.
    let (_, data) = build_x86(
        "omagic",
        &format!("{START}\nwork: ret\n"),
        &Link {
            extra: vec!["-N"],
            ..Link::default()
        },
    );
    let r = check(&data, &opts()).unwrap();
    assert!(
        r.findings
            .iter()
            .any(|f| f.kind == FindingKind::WritableExecutable && f.segment.is_some()),
        "{:#?}",
        r.findings
    );
    let (_, data) = build_x86(
        "execstack",
        &format!("{START}\nwork: ret\n"),
        &Link {
            extra: vec!["-z", "execstack"],
            ..Link::default()
        },
    );
    let r = check(&data, &opts()).unwrap();
    let f: Vec<&Finding> = r
        .findings
        .iter()
        .filter(|f| f.kind == FindingKind::WritableExecutable)
        .collect();
    assert_eq!(f.len(), 1, "{:#?}", r.findings);
    assert!(f[0].message.contains("PT_GNU_STACK"));
}

#[test]
fn files_that_cannot_be_checked() {
    let (_, good) = x86("errors", "work: ret\n");
    assert!(check(&good, &opts()).unwrap().passed(&opts()));
    let err = |d: &[u8]| check(d, &opts()).unwrap_err();
    assert!(matches!(err(b""), CheckError::NotElf(_)));
    assert!(matches!(
        err(b"#!/bin/sh\necho hi\n"),
        CheckError::NotElf(_)
    ));
    assert!(matches!(err(&good[..40]), CheckError::Malformed(_)));
    // Cut inside the code segment.
    let (_, off) = exec_segment_of(&good, sym(&good, "work"));
    assert!(
        matches!(err(&good[..off as usize]), CheckError::Malformed(m) if m.contains("past the end of the file"))
    );
    let mut d = good.clone();
    d[4] = 1; // ELFCLASS32
    assert!(matches!(err(&d), CheckError::Unsupported(m) if m.contains("32-bit")));
    let mut d = good.clone();
    d[5] = 2; // ELFDATA2MSB
    assert!(matches!(err(&d), CheckError::Unsupported(m) if m.contains("big-endian")));
    let mut d = good.clone();
    d[0x12..0x14].copy_from_slice(&elf::EM_RISCV.to_le_bytes());
    assert!(matches!(err(&d), CheckError::Unsupported(m) if m.contains("RISC-V")));
    let mut d = good.clone();
    d[0x38..0x3a].fill(0); // e_phnum = 0
    assert!(matches!(err(&d), CheckError::Malformed(m) if m.contains("no PT_LOAD")));
    // A relocatable object.
    let dir = workdir("relocatable");
    std::fs::write(dir.join("a.s"), "nop\n").unwrap();
    run("as", &["--64", "-o", "a.o", "a.s"], &dir);
    let obj = std::fs::read(dir.join("a.o")).unwrap();
    assert!(matches!(err(&obj), CheckError::Unsupported(m) if m.contains("ET_REL")));
    // A 32-bit program made by the real tools.
    std::fs::write(dir.join("b.s"), ".globl _start\n_start: int $0x80\n").unwrap();
    run("as", &["--32", "-o", "b.o", "b.s"], &dir);
    run("ld", &["-m", "elf_i386", "-o", "b", "b.o"], &dir);
    let b = std::fs::read(dir.join("b")).unwrap();
    assert!(matches!(err(&b), CheckError::Unsupported(_)));
}

#[test]
fn implausible_zero_fill_is_refused_without_allocating_it() {
    let mut segs = Seg::note(0x400000, elf_notes::ABI_VERSION, 0);
    let mut s = Seg::load(RX, 0x401000, vec![0xc3]);
    s.memsz = 1 << 40;
    segs.push(s);
    let data = elfgen::build(elf::EM_X86_64, &segs, &[], &[], false);
    assert!(
        matches!(check(&data, &opts()), Err(CheckError::Malformed(m)) if m.contains("implausibly"))
    );
}

#[test]
fn rust_symbols_are_demangled_with_their_crate() {
    let mut segs = Seg::note(0x400000, elf_notes::ABI_VERSION, 0);
    segs.push(Seg::load(RX, 0x401000, vec![0x90, 0x0f, 0x05, 0xc3]));
    let secs = [Sec {
        name: ".text",
        sh_type: elf::SHT_PROGBITS,
        flags: 6,
        addr: 0x401000,
        size: 4,
    }];
    let syms = [Sym {
        name: "_ZN9somecrate6module4func17h0123456789abcdefE",
        value: 0x401000,
        size: 4,
    }];
    let data = elfgen::build(elf::EM_X86_64, &segs, &secs, &syms, true);
    let r = check(&data, &opts()).unwrap();
    let f = at(&r, 0x401001);
    assert_eq!(f.symbol.as_deref(), Some("somecrate::module::func"));
    assert_eq!(f.symbol_offset, Some(1));
    assert_eq!(f.crate_name.as_deref(), Some("somecrate"));
    let text = xsc_elfcheck::render_human("f", &r, &opts());
    assert!(
        text.contains("symbol somecrate::module::func+0x1 [crate somecrate]"),
        "{text}"
    );
}

#[test]
fn a_clean_handmade_binary_passes() {
    // The hand-written files above are well-formed apart from what each
    // test plants: the same writer with clean code gives a clean report.
    let mut segs = Seg::note(0x400000, elf_notes::ABI_VERSION, 0);
    segs.push(Seg::load(
        RX,
        0x401000,
        vec![0x55, 0x48, 0x89, 0xe5, 0x5d, 0xc3],
    ));
    segs.push(Seg::load(R, 0x402000, vec![0x0f, 0x05]));
    let secs = [Sec {
        name: ".text",
        sh_type: elf::SHT_PROGBITS,
        flags: 6,
        addr: 0x401000,
        size: 6,
    }];
    let syms = [Sym {
        name: "f",
        value: 0x401000,
        size: 6,
    }];
    for shdrs in [true, false] {
        let data = elfgen::build(elf::EM_X86_64, &segs, &secs, &syms, shdrs);
        let r = check(&data, &strict()).unwrap();
        assert!(r.findings.is_empty(), "{:#?}", r.findings);
        assert_eq!(
            r.note,
            Some(elf_notes::XscAbiNoteDesc {
                abi_version: elf_notes::ABI_VERSION,
                features: 0
            })
        );
        assert_eq!(r.exec_bytes, 4096);
        assert_eq!(r.exec_segments.len(), 1);
        assert_eq!(r.exec_segments[0].index, 2);
    }
}

#[test]
fn zero_filled_executable_segments_whose_page_starts_before_the_file() {
    // Found by the fuzzer: no file bytes, an address in the middle of a
    // page, a file offset smaller than that page offset. Once with memsz 0
    // (maps nothing), once with zero fill.
    for memsz in [0u64, 16] {
        let mut segs = Seg::note(0x400000, elf_notes::ABI_VERSION, 0);
        segs.push(Seg {
            p_type: elf::PT_LOAD,
            flags: RX,
            vaddr: 0x4014e8,
            data: Vec::new(),
            memsz,
            offset: Some(0xe8),
        });
        let data = elfgen::build(elf::EM_X86_64, &segs, &[], &[], false);
        let r = check(&data, &strict()).unwrap();
        assert!(r.findings.is_empty(), "{:#?}", r.findings);
        assert_eq!(r.exec_bytes, if memsz == 0 { 0 } else { 4096 });
    }
}
