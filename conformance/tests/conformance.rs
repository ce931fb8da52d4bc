//! Runs the conformance suite (`conformance/cases`) against the installed
//! XSC toolchain: every case natively and under xsc-run, compared.
//!
//! `XSC_CONFORMANCE=signals/,proc/readlink` runs only the cases whose id
//! contains one of the comma-separated words. The full report is printed
//! (`cargo test -p conformance -- --nocapture` shows it on success too) and
//! written to `conformance-report.txt` in the test's scratch folder.

use std::path::Path;

#[test]
fn every_case_behaves_under_xsc_run_as_natively() {
    let out = Path::new(env!("CARGO_TARGET_TMPDIR")).join("conformance");
    let filters: Vec<String> = std::env::var("XSC_CONFORMANCE")
        .unwrap_or_default()
        .split(',')
        .filter(|s| !s.is_empty())
        .map(String::from)
        .collect();
    let suite = conformance::Suite::new(&out, &filters);
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
