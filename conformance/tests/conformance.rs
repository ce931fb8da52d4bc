//! Runs the conformance suite (`conformance/cases`) against the installed
//! XSC toolchain: every case natively and under xsc-run, compared.
//!
//! `XSC_CONFORMANCE=signals/,proc/readlink` runs only the cases whose id
//! contains one of the comma-separated words. The full report is printed
//! (`cargo test -p conformance -- --nocapture` shows it on success too) and
//! written to `conformance-report.txt` in the test's scratch folder.

use std::path::Path;
use std_xsc::Arch;

#[test]
fn every_case_behaves_under_xsc_run_as_natively() {
    suite(Arch::X86_64);
}

/// The same cases built for aarch64, natively (glibc, static, run through
/// binfmt_misc under qemu) and for XSC (under xsc-run's aarch64 runner).
#[test]
fn every_case_behaves_under_xsc_run_as_natively_on_aarch64() {
    assert!(
        std_xsc::binfmt::aarch64_registered(),
        "aarch64 executables do not run on this host (binfmt_misc has no qemu-aarch64): run `cargo xtask setup` as root"
    );
    suite(Arch::Aarch64);
}

fn suite(arch: Arch) {
    let out = Path::new(env!("CARGO_TARGET_TMPDIR")).join(format!("conformance-{arch}"));
    let filters: Vec<String> = std::env::var("XSC_CONFORMANCE")
        .unwrap_or_default()
        .split(',')
        .filter(|s| !s.is_empty())
        .map(String::from)
        .collect();
    let suite = conformance::Suite::for_arch(arch, &out, &filters);
    if let Some(missing) = suite.toolchain_missing() {
        panic!("{missing}");
    }
    assert!(!suite.cases.is_empty(), "no case matches {filters:?}");
    let report = suite.run();
    let text = report.to_string();
    println!("{text}");
    let file = out.join("conformance-report.txt");
    std::fs::write(&file, &text).unwrap();
    assert!(
        report.ok(),
        "{}\n{}\n(the report above; also in {})",
        report.summary(),
        report.problems().join("\n"),
        file.display()
    );
}
