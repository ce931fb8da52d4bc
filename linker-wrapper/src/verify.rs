//! After linking: the output must pass xsc-elfcheck (no system-call
//! instruction, a well-formed `XSC_ABI` note). Failures name the function,
//! the input object (from the link map), the source place and the crate
//! that owns the code (from the debug info, see [`crate::blame`]) and say
//! what to do.

use crate::{blame, linkmap};
use std::path::Path;
use xsc_elfcheck::{check, Options};

/// Checks `out`; `Err` carries the whole message for the user. `linked`
/// are the crates whose rlibs were linked (see [`blame::linked_crates`]).
pub fn verify(tool: &str, out: &Path, map: Option<&Path>, linked: &[String]) -> Result<(), String> {
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
    let debug = blame::Debug::load(&data);
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
        // The symbol names the crate of the function the instruction was
        // compiled into, the object file may belong to yet another crate
        // (inlining); the debug info says whose source holds it (a macro
        // of another crate expanded here, inlined code).
        let mut from = f.crate_name.clone();
        if let Some(p) = f.vaddr.and_then(|a| linkmap::find(&pieces, a)) {
            msg.push_str(&format!(", from object file {}", p.object));
            from = from.or_else(|| linkmap::rlib_crate(&p.object));
        }
        if let Some(a) = f.vaddr {
            let owner = blame::owner(debug.as_ref(), a, linked);
            if let Some(s) = &owner.source {
                msg.push_str(&format!(
                    ", source {}:{}:{}",
                    blame::shown(&s.file),
                    s.line,
                    s.column
                ));
            }
            if let Some(m) = &owner.macro_path {
                msg.push_str(&format!(", in the expansion of macro `{m}!`"));
            }
            from = owner.crate_name.or(from);
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
