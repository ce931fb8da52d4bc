//! The XSC samples, for x86_64 and aarch64 (built here with cargo, as
//! xsc-run's tests do): the clean ones pass, raw-syscall fails exactly
//! where its source says.

mod common;
use common::*;
use std::path::PathBuf;
use std::sync::OnceLock;
use xsc_elfcheck::Arch;

/// Sample `name` built for `arch`, the samples' workspace built once per
/// test run and architecture.
fn sample(arch: Arch, name: &str) -> Vec<u8> {
    static X86_64: OnceLock<Result<PathBuf, String>> = OnceLock::new();
    static AARCH64: OnceLock<Result<PathBuf, String>> = OnceLock::new();
    let built = match arch {
        Arch::X86_64 => &X86_64,
        Arch::Aarch64 => &AARCH64,
    };
    let arch_of = match arch {
        Arch::X86_64 => std_xsc::Arch::X86_64,
        Arch::Aarch64 => std_xsc::Arch::Aarch64,
    };
    match built.get_or_init(|| std_xsc::testing::build_no_std_samples(arch_of)) {
        Ok(d) => std::fs::read(d.join(name)).unwrap(),
        Err(e) => panic!("building the samples for {arch} failed:\n{e}"),
    }
}

#[test]
fn the_clean_samples_pass() {
    clean_samples_pass(Arch::X86_64);
}

#[test]
fn the_clean_samples_pass_on_aarch64() {
    clean_samples_pass(Arch::Aarch64);
}

fn clean_samples_pass(arch: Arch) {
    for name in ["raw-hello", "raw-process", "ring-abuse", "ring-bench"] {
        let data = sample(arch, name);
        let r = check(&data, &opts()).unwrap_or_else(|e| panic!("{name}: {e}"));
        assert_eq!(r.arch, arch, "{name}");
        assert!(
            r.passed(&opts()),
            "{name}:\n{}",
            xsc_elfcheck::render_human(name, &r, &opts())
        );
        assert!(r.note.is_some(), "{name}");
        // No decoded site at all: only hidden sites may be reported.
        assert!(
            r.findings
                .iter()
                .all(|f| matches!(f.kind, FindingKind::HiddenSyscall { .. })),
            "{name}: {:#?}",
            r.findings
        );
    }
}

#[test]
fn raw_syscall_fails_in_its_two_forbidden_functions() {
    let data = sample(Arch::X86_64, "raw-syscall");
    let r = check(&data, &opts()).unwrap();
    assert!(!r.passed(&opts()));
    let v: Vec<&Finding> = r.violations(&opts()).collect();
    assert_eq!(v.len(), 2, "{v:#?}");
    let sc = v
        .iter()
        .find(|f| f.kind == FindingKind::SyscallInstruction)
        .expect("a syscall");
    assert_eq!(sc.symbol.as_deref(), Some("forbidden_getpid"));
    assert_eq!(
        sc.vaddr,
        Some(sym(&data, "forbidden_getpid") + sc.symbol_offset.unwrap())
    );
    assert_eq!(sc.bytes, [0x0f, 0x05]);
    assert_eq!(sc.section.as_deref(), Some(".text"));
    let (seg, off) = exec_segment_of(&data, sc.vaddr.unwrap());
    assert_eq!((sc.segment, sc.file_offset), (Some(seg), Some(off)));
    let int80 = v
        .iter()
        .find(|f| f.kind == FindingKind::SoftwareInterrupt)
        .expect("an int 0x80");
    assert_eq!(int80.symbol.as_deref(), Some("forbidden_int80_getpid"));
    assert_eq!(
        int80.vaddr,
        Some(sym(&data, "forbidden_int80_getpid") + int80.symbol_offset.unwrap())
    );
    assert_eq!(int80.bytes, [0xcd, 0x80]);
    assert_eq!(int80.disasm.as_deref(), Some("int 0x80"));
}

/// aarch64's raw-syscall has one forbidden function (`svc #0`; there is no
/// `int 0x80`).
#[test]
fn raw_syscall_fails_in_its_forbidden_function_on_aarch64() {
    let data = sample(Arch::Aarch64, "raw-syscall");
    let r = check(&data, &opts()).unwrap();
    assert_eq!(r.arch, Arch::Aarch64);
    assert!(!r.passed(&opts()));
    let v: Vec<&Finding> = r.violations(&opts()).collect();
    assert_eq!(v.len(), 1, "{v:#?}");
    let svc = v[0];
    assert_eq!(svc.kind, FindingKind::Svc);
    assert_eq!(svc.symbol.as_deref(), Some("forbidden_getpid"));
    assert_eq!(
        svc.vaddr,
        Some(sym(&data, "forbidden_getpid") + svc.symbol_offset.unwrap())
    );
    assert_eq!(svc.bytes, 0xd400_0001u32.to_le_bytes());
    assert_eq!(svc.disasm.as_deref(), Some("svc #0x0"));
    assert_eq!(svc.section.as_deref(), Some(".text"));
    let (seg, off) = exec_segment_of(&data, svc.vaddr.unwrap());
    assert_eq!((svc.segment, svc.file_offset), (Some(seg), Some(off)));
}
