//! The build proves its result: no system-call instruction in the libc.
//!
//! Every member of an archive is an ELF relocatable object; its executable
//! sections (`SHF_EXECINSTR`) are decoded with `objdump -d`, the reference
//! disassembler of the binutils the libc was built with, and any `syscall`,
//! `sysenter` or `int` (x86_64) or `svc`/`hvc`/`smc` (aarch64) is reported
//! with its member and function.

use crate::Arch;
use std::path::Path;
use std::process::Command;

/// One forbidden instruction found in an archive.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Site {
    pub member: String,
    pub function: String,
    pub line: String,
}

fn is_forbidden(arch: Arch, mnemonic: &str) -> bool {
    match arch {
        // int3 is the debug breakpoint, not a way into the kernel.
        Arch::X86_64 => matches!(mnemonic, "syscall" | "sysenter" | "int" | "into" | "int1"),
        Arch::Aarch64 => matches!(mnemonic, "svc" | "hvc" | "smc"),
    }
}

/// Lists the forbidden instructions in `archive` (empty: clean).
pub fn forbidden_instructions(arch: Arch, archive: &Path) -> Result<Vec<Site>, String> {
    let objdump = format!("{}objdump", arch.binutils_prefix());
    let out = Command::new(&objdump)
        .arg("-d")
        .arg(archive)
        .output()
        .map_err(|e| format!("cannot run {objdump}: {e}"))?;
    if !out.status.success() {
        return Err(format!(
            "{objdump} -d {} failed: {}",
            archive.display(),
            String::from_utf8_lossy(&out.stderr)
        ));
    }
    Ok(parse_objdump(arch, &String::from_utf8_lossy(&out.stdout)))
}

/// Parses `objdump -d` output of an archive.
pub fn parse_objdump(arch: Arch, text: &str) -> Vec<Site> {
    let (mut member, mut function) = (String::new(), String::new());
    let mut sites = Vec::new();
    for line in text.lines() {
        if let Some(rest) = line
            .strip_suffix(":")
            .and_then(|l| l.split_once(":     file format"))
        {
            member = rest.0.to_string();
            continue;
        }
        if let Some(m) = line.find(":     file format") {
            member = line[..m].to_string();
            continue;
        }
        if line.ends_with(">:") {
            if let (Some(a), Some(b)) = (line.find('<'), line.rfind('>')) {
                function = line[a + 1..b].to_string();
            }
            continue;
        }
        // "  4005:	0f 05                	syscall" → the mnemonic is the first
        // word of the third tab-separated field.
        let fields: Vec<&str> = line.split('\t').collect();
        if fields.len() >= 3 {
            let mnemonic = fields[2].split_whitespace().next().unwrap_or("");
            if is_forbidden(arch, mnemonic) {
                sites.push(Site {
                    member: member.clone(),
                    function: function.clone(),
                    line: line.trim().to_string(),
                });
            }
        }
    }
    sites
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn finds_syscalls_with_their_member_and_function() {
        let text = "\nIn archive libc.a:\n\ngetpid.lo:     file format elf64-x86-64\n\n\nDisassembly of section .text.getpid:\n\n0000000000000000 <getpid>:\n   0:\tb8 27 00 00 00       \tmov    $0x27,%eax\n   5:\t0f 05                \tsyscall\n   7:\tc3                   \tret\n\nclean.lo:     file format elf64-x86-64\n\n0000000000000000 <f>:\n   0:\tcc                   \tint3\n   1:\tc3                   \tret\n";
        let sites = parse_objdump(Arch::X86_64, text);
        assert_eq!(sites.len(), 1);
        assert_eq!(sites[0].member, "getpid.lo");
        assert_eq!(sites[0].function, "getpid");
        assert!(sites[0].line.ends_with("syscall"));
        let a64 = "x.lo:     file format elf64-littleaarch64\n\n0000000000000000 <g>:\n   0:\td4000001 \tsvc\t#0x0\n";
        assert_eq!(parse_objdump(Arch::Aarch64, a64).len(), 1);
        assert!(
            parse_objdump(
                Arch::X86_64,
                "x.lo:     file format elf64-x86-64\n   0:\tcd 80 \tint    $0x80\n"
            )
            .len()
                == 1
        );
    }
}
