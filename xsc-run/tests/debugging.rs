//! Debugging an XSC program under xsc-run as README.md shows: without
//! address randomisation (gdb turns it off, as `setarch -R` does) the
//! program is loaded at a fixed place, and gdb, given the program's symbols
//! there, stops in it and unwinds from xsc-run's entry stubs into it.

use std::path::PathBuf;
use std::process::Command;
use std_xsc::testing::run_ok;
use std_xsc::xsc_home;

/// Where xsc-run loads a program when randomisation is off (README.md).
const NO_RANDOMIZE_BASE: u64 = 0x5556_5555_4000;

fn build(name: &str, source: &str) -> PathBuf {
    let dir = PathBuf::from(env!("CARGO_TARGET_TMPDIR"))
        .join(format!("debugging-{}", std::process::id()));
    std::fs::create_dir_all(&dir).unwrap();
    let c = dir.join(format!("{name}.c"));
    std::fs::write(&c, source).unwrap();
    let exe = dir.join(name);
    run_ok(
        Command::new(xsc_home().join("bin/xsc-cc"))
            .args(["-g", "-O0", "-o"])
            .arg(&exe)
            .arg(&c),
    );
    exe
}

const WHERE_AM_I: &str = r#"#include <stdio.h>
int main(void) { printf("%p\n", (void *)main); return 0; }
"#;

fn main_address(exe: &PathBuf, no_randomize: bool) -> u64 {
    let mut c = Command::new("setarch");
    c.arg("x86_64");
    if no_randomize {
        c.arg("-R");
    }
    let out = c
        .arg(xsc_home().join("bin/xsc-run"))
        .arg(exe)
        .output()
        .unwrap();
    assert!(
        out.status.success(),
        "{}",
        String::from_utf8_lossy(&out.stderr)
    );
    let s = String::from_utf8_lossy(&out.stdout);
    u64::from_str_radix(s.trim().trim_start_matches("0x"), 16).unwrap()
}

#[test]
fn without_randomisation_the_program_is_loaded_at_the_documented_base() {
    let exe = build("where", WHERE_AM_I);
    let size = std::fs::metadata(&exe).unwrap().len();
    let a = main_address(&exe, true);
    let b = main_address(&exe, true);
    assert_eq!(a, b, "the same place twice");
    assert!(
        (NO_RANDOMIZE_BASE..NO_RANDOMIZE_BASE + size).contains(&a),
        "main at {a:#x}, outside the image at {NO_RANDOMIZE_BASE:#x}"
    );
    // With randomisation, as on Linux, the place changes between runs.
    let runs: Vec<u64> = (0..4).map(|_| main_address(&exe, false)).collect();
    assert!(runs.windows(2).any(|w| w[0] != w[1]), "{runs:x?}");
}

#[test]
fn gdb_stops_in_the_program_and_unwinds_from_the_kernel_side() {
    if Command::new("gdb").arg("--version").output().is_err() {
        panic!("gdb is missing: `cargo xtask setup` installs it (package gdb)");
    }
    let exe = build(
        "debugged",
        r#"#include <unistd.h>
void say(void) { write(1, "hi\n", 3); }
int main(void) { say(); return 0; }
"#,
    );
    let script = format!(
        "set pagination off\nadd-symbol-file {exe} -o {NO_RANDOMIZE_BASE:#x}\nstarti\nhbreak say\ncontinue\nbt\ncatch syscall write\ncontinue\nbt\n",
        exe = exe.display()
    );
    let script_path = exe.with_extension("gdb");
    std::fs::write(&script_path, script).unwrap();
    let out = Command::new("gdb")
        .args(["-q", "-batch", "-nx", "-x"])
        .arg(&script_path)
        .arg("--args")
        .arg(xsc_home().join("bin/xsc-run"))
        .arg(&exe)
        .output()
        .unwrap();
    let text = String::from_utf8_lossy(&out.stdout);
    assert!(text.contains("Breakpoint 1, say () at"), "{text}");
    assert!(text.contains("main () at"), "{text}");
    // At the write, the backtrace goes from xsc-run's entry stub into the
    // program's code (musl's write has no unwind tables, as natively).
    let at_write = text.rsplit("Catchpoint 2 (call to").next().unwrap_or("");
    assert!(at_write.contains("in xsc_entry_wait"), "{text}");
    assert!(at_write.contains(" in write ("), "{text}");
}
