//! The command line: exit codes, several files per call, human lines, and
//! `--json` output validated against schema.json.

mod common;
use common::*;
use std::path::{Path, PathBuf};
use std::process::Command;

const START: &str = "
    .text
    .globl _start
    .type _start, @function
_start:
    call work
    ud2
";

fn prog(name: &str, body: &str, link: &Link) -> PathBuf {
    build_x86(name, &format!("{START}\n    .globl work\n    .type work, @function\nwork:\n{body}\n    .size work, .-work\n"), link).0
}

fn clean() -> PathBuf {
    prog("cli-clean", "    ret", &Link::default())
}
fn syscall() -> PathBuf {
    prog(
        "cli-syscall",
        "    mov $39, %eax\n    syscall\n    ret",
        &Link::default(),
    )
}
fn hidden() -> PathBuf {
    prog(
        "cli-hidden",
        "    jmp 1f+2\n1:  mov $0xc3050f90, %eax\n    ret",
        &Link::default(),
    )
}
fn nonote() -> PathBuf {
    prog(
        "cli-nonote",
        "    ret",
        &Link {
            note: None,
            extra: vec![],
        },
    )
}
fn garbage() -> PathBuf {
    let p = workdir("cli-garbage").join("garbage");
    std::fs::write(&p, b"\x7fELF\x02\x01\x01 and then nothing useful").unwrap();
    p
}

fn cli(args: &[&Path], flags: &[&str]) -> (i32, String) {
    let out = Command::new(env!("CARGO_BIN_EXE_xsc-elfcheck"))
        .args(flags)
        .args(args)
        .output()
        .unwrap();
    (
        out.status.code().unwrap(),
        String::from_utf8(out.stdout).unwrap(),
    )
}

#[test]
fn exit_codes_over_several_files() {
    let (c, s, g) = (clean(), syscall(), garbage());
    assert_eq!(cli(&[&c], &[]).0, 0);
    assert_eq!(cli(&[&c, &c], &[]).0, 0);
    assert_eq!(cli(&[&c, &s], &[]).0, 1);
    assert_eq!(cli(&[&s, &c], &[]).0, 1);
    assert_eq!(cli(&[&c, &g], &[]).0, 2);
    assert_eq!(
        cli(&[&s, &g, &c], &[]).0,
        2,
        "could-not-check wins over violations"
    );
    assert_eq!(
        cli(&[Path::new("/nonexistent/xsc-elfcheck-test")], &[]).0,
        2
    );
    // Options.
    let h = hidden();
    assert_eq!(cli(&[&h], &[]).0, 0);
    assert_eq!(cli(&[&h], &["--strict"]).0, 1);
    let n = nonote();
    assert_eq!(cli(&[&n], &[]).0, 1);
    assert_eq!(cli(&[&n], &["--no-require-note"]).0, 0);
    // No file at all is a usage error.
    let out = Command::new(env!("CARGO_BIN_EXE_xsc-elfcheck"))
        .output()
        .unwrap();
    assert_eq!(out.status.code(), Some(2));
}

#[test]
fn human_output_names_every_field_and_summarizes_each_file() {
    let (s, g) = (syscall(), garbage());
    let (code, out) = cli(&[&s, &g], &[]);
    assert_eq!(code, 2);
    let data = std::fs::read(&s).unwrap();
    let vaddr = sym(&data, "work") + 5;
    let (seg, off) = exec_segment_of(&data, vaddr);
    let sp = s.display().to_string();
    let line = out
        .lines()
        .find(|l| l.contains("system-call instruction"))
        .expect(&out);
    let want = format!(
        "{sp}: violation: system-call instruction at {vaddr:#x} (file offset {off:#x}), in segment {seg}, \
         section .text, symbol work+0x5: 0f 05 `syscall`: "
    );
    assert!(line.starts_with(&want), "{line}\nwant: {want}");
    assert!(
        out.contains(&format!("{sp}: FAIL: 1 violation, 0 warnings; x86_64, ")),
        "{out}"
    );
    let gp = g.display().to_string();
    assert!(
        out.contains(&format!("{gp}: could not check: malformed ELF file")),
        "{out}"
    );
    // Every line says which file it is about.
    assert!(
        out.lines()
            .all(|l| l.starts_with(&sp) || l.starts_with(&gp)),
        "{out}"
    );
}

fn schema() -> jsonschema::Validator {
    let text =
        std::fs::read_to_string(concat!(env!("CARGO_MANIFEST_DIR"), "/schema.json")).unwrap();
    let schema: serde_json::Value = serde_json::from_str(&text).unwrap();
    jsonschema::validator_for(&schema).expect("schema.json is a valid JSON Schema")
}

fn assert_valid(v: &jsonschema::Validator, doc: &serde_json::Value) {
    let errors: Vec<String> = v
        .iter_errors(doc)
        .map(|e| format!("{e} at {}", e.instance_path()))
        .collect();
    assert!(errors.is_empty(), "{errors:#?}\n{doc:#}");
}

#[test]
fn json_output_validates_against_the_schema_for_every_kind_of_result() {
    // Files that between them produce every finding kind and every error kind.
    let far = prog(
        "cli-far",
        "    lcall *(%rax)\n    int $0x80\n    sysenter\n    ret",
        &Link::default(),
    );
    let wx = prog(
        "cli-wx",
        "    ret",
        &Link {
            extra: vec!["-N", "-z", "execstack"],
            ..Link::default()
        },
    );
    let bad = prog(
        "cli-badnote",
        "    ret",
        &Link {
            note: Some((7, 0)),
            extra: vec![],
        },
    );
    let dir = workdir("cli-dynamic");
    std::fs::write(dir.join("d.c"), "int main(void) { return 0; }\n").unwrap();
    run("cc", &["-o", "d", "d.c"], &dir);
    let dynamic = dir.join("d");
    let (a64, _) = build_aarch64(
        "cli-aarch64",
        ".globl _start\n_start:\n    svc #0\n    hvc #0\n    smc #0\n    ret\n",
    );
    let unsupported = workdir("cli-unsupported").join("x");
    let mut d = std::fs::read(clean()).unwrap();
    d[5] = 2;
    std::fs::write(&unsupported, d).unwrap();
    let files: Vec<PathBuf> = vec![
        clean(),
        syscall(),
        hidden(),
        nonote(),
        far,
        wx,
        bad,
        dynamic,
        a64,
        garbage(),
        unsupported,
        PathBuf::from("/etc/hostname"),
        PathBuf::from("/nonexistent/xsc-elfcheck-test"),
    ];
    let paths: Vec<&Path> = files.iter().map(PathBuf::as_path).collect();
    let v = schema();
    for flags in [&[][..], &["--strict"][..], &["--no-require-note"][..]] {
        let (code, out) = cli(&paths, &[&["--json"][..], flags].concat());
        let doc: serde_json::Value = serde_json::from_str(&out).unwrap();
        assert_valid(&v, &doc);
        assert_eq!(code, 2);
        assert_eq!(doc["exit_code"], 2);
        assert_eq!(doc["strict"], flags.contains(&"--strict"));
        assert_eq!(doc["files"].as_array().unwrap().len(), files.len());
        let mut kinds: Vec<&str> = doc["files"]
            .as_array()
            .unwrap()
            .iter()
            .flat_map(|f| f["findings"].as_array().unwrap())
            .map(|f| f["kind"].as_str().unwrap())
            .collect();
        kinds.sort_unstable();
        kinds.dedup();
        assert_eq!(
            kinds,
            [
                "bad_note",
                "dt_needed",
                "far_transfer",
                "hidden_syscall",
                "hvc",
                "interp",
                "missing_note",
                "smc",
                "software_interrupt",
                "svc",
                "syscall_instruction",
                "writable_executable"
            ]
        );
        let mut errors: Vec<&str> = doc["files"]
            .as_array()
            .unwrap()
            .iter()
            .filter_map(|f| f["error"]["kind"].as_str())
            .collect();
        errors.sort_unstable();
        assert_eq!(errors, ["io", "malformed", "not_elf", "unsupported"]);
    }
}

#[test]
fn json_fields_carry_the_same_data_as_the_library() {
    let s = syscall();
    let data = std::fs::read(&s).unwrap();
    let vaddr = sym(&data, "work") + 5;
    let (seg, off) = exec_segment_of(&data, vaddr);
    let (code, out) = cli(&[&s], &["--json"]);
    assert_eq!(code, 1);
    let doc: serde_json::Value = serde_json::from_str(&out).unwrap();
    assert_valid(&schema(), &doc);
    let f = &doc["files"][0];
    assert_eq!(f["status"], "fail");
    assert_eq!(f["violations"], 1);
    assert_eq!(f["arch"], "x86_64");
    assert_eq!(f["note"]["abi_version"], elf_notes::ABI_VERSION);
    let site = &f["findings"][0];
    assert_eq!(site["kind"], "syscall_instruction");
    assert_eq!(site["severity"], "violation");
    assert_eq!(site["vaddr"], vaddr);
    assert_eq!(site["file_offset"], off);
    assert_eq!(site["segment"], seg);
    assert_eq!(site["section"], ".text");
    assert_eq!(site["symbol"], "work");
    assert_eq!(site["symbol_offset"], 5);
    assert_eq!(site["crate"], serde_json::Value::Null);
    assert_eq!(site["bytes"], "0f05");
    assert_eq!(site["disasm"], "syscall");
    assert_eq!(site["inside"], serde_json::Value::Null);
}

#[test]
fn the_schema_rejects_documents_that_break_it() {
    // So that the validation above means something.
    let (_, out) = cli(&[&syscall()], &["--json"]);
    let good: serde_json::Value = serde_json::from_str(&out).unwrap();
    let v = schema();
    assert!(v.is_valid(&good));
    let mut bad = good.clone();
    bad["files"][0]["findings"][0]["vaddr"] = serde_json::json!("0x401005");
    assert!(!v.is_valid(&bad));
    let mut bad = good.clone();
    bad["files"][0]["findings"][0]["kind"] = serde_json::json!("syscall");
    assert!(!v.is_valid(&bad));
    let mut bad = good.clone();
    bad["files"][0].as_object_mut().unwrap().remove("findings");
    assert!(!v.is_valid(&bad));
    let mut bad = good;
    bad["files"][0]["findings"][0]["bytes"] = serde_json::json!("0F 05");
    assert!(!v.is_valid(&bad));
}
