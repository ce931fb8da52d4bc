//! The XSC samples (built here with cargo, as xsc-run's tests do): the
//! clean ones pass, raw-syscall fails exactly where its source says.

mod common;
use common::*;
use std::path::{Path, PathBuf};
use std::process::Command;
use std::sync::OnceLock;

fn sample(name: &str) -> Vec<u8> {
    static BUILT: OnceLock<Result<PathBuf, String>> = OnceLock::new();
    let dir = BUILT.get_or_init(|| {
        let root = Path::new(env!("CARGO_MANIFEST_DIR"))
            .parent()
            .unwrap()
            .to_path_buf();
        let cargo = std::env::var("CARGO").unwrap_or_else(|_| "cargo".into());
        let out = Command::new(cargo)
            .current_dir(&root)
            .args(["build", "--manifest-path", "samples/Cargo.toml"])
            .output()
            .map_err(|e| e.to_string())?;
        if !out.status.success() {
            return Err(String::from_utf8_lossy(&out.stderr).into_owned());
        }
        Ok(root.join("samples/target/debug"))
    });
    match dir {
        Ok(d) => std::fs::read(d.join(name)).unwrap(),
        Err(e) => panic!("building the samples failed:\n{e}"),
    }
}

#[test]
fn the_clean_samples_pass() {
    for name in ["raw-hello", "raw-process", "ring-abuse", "ring-bench"] {
        let data = sample(name);
        let r = check(&data, &opts()).unwrap_or_else(|e| panic!("{name}: {e}"));
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
    let data = sample("raw-syscall");
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
