//! After linking: the output must pass xsc-elfcheck (no system-call
//! instruction, a well-formed `XSC_ABI` note). Failures name the function
//! and the input object (from the link map) and say what to do.

use crate::linkmap;
use std::path::Path;
use xsc_elfcheck::{check, Options};

/// Checks `out`; `Err` carries the whole message for the user.
pub fn verify(tool: &str, out: &Path, map: Option<&Path>) -> Result<(), String> {
    let data = std::fs::read(out).map_err(|e| {
        format!(
            "{tool}: cannot read the linked output {}: {e}",
            out.display()
        )
    })?;
    let opts = Options {
        strict: false,
        require_note: true,
    };
    let report =
        check(&data, &opts).map_err(|e| format!("{tool}: cannot verify {}: {e}", out.display()))?;
    if report.passed(&opts) {
        return Ok(());
    }
    let pieces = map
        .and_then(|m| std::fs::read_to_string(m).ok())
        .map(|t| linkmap::parse(&t))
        .unwrap_or_default();
    let mut msg = format!(
        "{tool}: error: {} failed XSC verification and was not written:\n",
        out.display()
    );
    let mut crates = Vec::new();
    for f in report.violations(&opts) {
        msg.push_str("  ");
        msg.push_str(&f.message);
        if let Some(a) = f.vaddr {
            msg.push_str(&format!(" at {a:#x}"));
        }
        if let Some(s) = &f.symbol {
            msg.push_str(&format!(" in function `{s}`"));
        }
        // The symbol names the crate the code comes from; the object file
        // may belong to another crate when the code was inlined there.
        let mut from = f.crate_name.clone();
        if let Some(p) = f.vaddr.and_then(|a| linkmap::find(&pieces, a)) {
            msg.push_str(&format!(", from object file {}", p.object));
            from = from.or_else(|| linkmap::rlib_crate(&p.object));
        }
        if let Some(c) = from {
            msg.push_str(&format!(" (crate `{c}`)"));
            crates.push(c);
        }
        msg.push('\n');
    }
    crates.sort();
    crates.dedup();
    if crates.iter().any(|c| c == "rustix") {
        msg.push_str("  rustix's default linux_raw backend executes system calls itself; build with `--cfg rustix_use_libc` (cargo xsc does) so it calls the libc\n");
    }
    msg.push_str("  XSC binaries must make every OS call through the rings: code that executes system-call instructions itself has to call the libc (or xsc-rt) instead");
    if !crates.is_empty() {
        msg.push_str(&format!(
            " (look for a libc backend or feature in: {})",
            crates.join(", ")
        ));
    }
    msg.push('\n');
    Err(msg)
}
