//! Running aarch64 binaries on this x86_64 host the way Debian's
//! `qemu-user-static` does with `binfmt-support`: the kernel's
//! `binfmt_misc` hands every aarch64 ELF executable to qemu. xsc-run does
//! not need it (it starts its aarch64 runner under qemu itself), but the
//! native side of the aarch64 differential tests does, whose programs
//! start other aarch64 programs (themselves, mostly) with `execve`.
//!
//! The registration is the package's own (`/usr/share/binfmts/qemu-aarch64`:
//! magic, mask, interpreter and flags), written to
//! `/proc/sys/fs/binfmt_misc/register`, which is what `update-binfmts`
//! does; this machine runs no service that would do it at boot.

use std::path::Path;

const BINFMT: &str = "/proc/sys/fs/binfmt_misc";
/// Debian's description of the qemu-aarch64 handler (qemu-user-static).
const DESCRIPTION: &str = "/usr/share/binfmts/qemu-aarch64";
const NAME: &str = "qemu-aarch64";

/// Whether aarch64 executables run directly on this host.
pub fn aarch64_registered() -> bool {
    std::fs::read_to_string(Path::new(BINFMT).join(NAME)).is_ok_and(|s| s.starts_with("enabled"))
}

/// The `register` line for Debian's description `text` (binfmt_misc's
/// `:name:type:offset:magic:mask:interpreter:flags`).
pub fn register_line(text: &str) -> Result<String, String> {
    let field = |key: &str| {
        text.lines()
            .find_map(|l| l.strip_prefix(key).map(str::trim))
            .ok_or_else(|| format!("{DESCRIPTION} has no `{key}` line"))
    };
    let mut flags = String::new();
    for (key, flag) in [("preserve", 'P'), ("credentials", 'C'), ("fix_binary", 'F')] {
        if field(key).is_ok_and(|v| v == "yes") {
            flags.push(flag);
        }
    }
    Ok(format!(
        ":{NAME}:M:{}:{}:{}:{}:{flags}",
        field("offset").unwrap_or("0"),
        field("magic ")?,
        field("mask ")?,
        field("interpreter ")?,
    ))
}

/// Registers qemu for aarch64 executables unless that is done; says what
/// it did.
pub fn ensure_aarch64(say: &mut dyn FnMut(String)) -> Result<(), String> {
    if aarch64_registered() {
        return Ok(());
    }
    let how = "(as root: mount -t binfmt_misc binfmt_misc /proc/sys/fs/binfmt_misc; update-binfmts --enable qemu-aarch64)";
    let text = std::fs::read_to_string(DESCRIPTION)
        .map_err(|e| format!("cannot read {DESCRIPTION} (package qemu-user-static): {e}"))?;
    let line = register_line(&text)?;
    let register = Path::new(BINFMT).join("register");
    if !register.exists() {
        let status = std::process::Command::new("mount")
            .args(["-t", "binfmt_misc", "binfmt_misc", BINFMT])
            .status()
            .map_err(|e| format!("cannot run mount: {e}"))?;
        if !status.success() {
            return Err(format!("cannot mount binfmt_misc on {BINFMT} {how}"));
        }
    }
    std::fs::write(&register, line.as_bytes())
        .map_err(|e| format!("cannot register qemu for aarch64 executables: {e} {how}"))?;
    say("registered qemu-aarch64-static for aarch64 executables (binfmt_misc)".into());
    Ok(())
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn the_register_line_follows_the_description() {
        let text = "package qemu-user-static\ninterpreter /usr/libexec/qemu-binfmt/aarch64-binfmt-P\nmagic \\x7f\\x45\noffset 0\nmask \\xff\\xfe\ncredentials no\nfix_binary yes\npreserve yes\n";
        assert_eq!(
            register_line(text).unwrap(),
            ":qemu-aarch64:M:0:\\x7f\\x45:\\xff\\xfe:/usr/libexec/qemu-binfmt/aarch64-binfmt-P:PF"
        );
        assert!(register_line("package x\n").is_err());
    }
}
