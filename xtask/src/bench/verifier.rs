//! The verifier's throughput: xsc-elfcheck against `objdump -d` on the
//! same binary (xsc-run verifies every program it starts).

use crate::cmd::Result;
use std::process::Command;
use std::time::Instant;

/// xsc-elfcheck against `objdump -d` on the same large binary: megabytes of
/// executable code per second, best of five runs each.
pub fn elfcheck_throughput(file: &std::path::Path) -> Result {
    let data = std::fs::read(file).map_err(|e| format!("cannot read {}: {e}", file.display()))?;
    let mut best = std::time::Duration::MAX;
    let mut bytes = 0;
    for _ in 0..5 {
        let (b, d) = xsc_elfcheck::throughput(&data).map_err(|e| e.to_string())?;
        bytes = b;
        best = best.min(d);
    }
    let mut objdump = std::time::Duration::MAX;
    for _ in 0..5 {
        let t = Instant::now();
        let status = Command::new("objdump")
            .arg("-d")
            .arg(file)
            .stdout(std::process::Stdio::null())
            .status()
            .map_err(|e| format!("cannot run objdump: {e}"))?;
        if !status.success() {
            return Err("objdump -d failed".into());
        }
        objdump = objdump.min(t.elapsed());
    }
    let mbs = |d: std::time::Duration| bytes as f64 / 1e6 / d.as_secs_f64();
    println!(
        "\nverifier throughput on {} ({:.1} MB of executable code), best of 5:",
        file.display(),
        bytes as f64 / 1e6
    );
    println!("  xsc-elfcheck   {:>8.1} MB/s  ({:?})", mbs(best), best);
    println!(
        "  objdump -d     {:>8.1} MB/s  ({:?})",
        mbs(objdump),
        objdump
    );
    println!(
        "  xsc-elfcheck / objdump: {:.1}x",
        objdump.as_secs_f64() / best.as_secs_f64()
    );
    Ok(())
}
