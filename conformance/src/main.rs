//! `cargo run -p conformance -- [WORD...]`: runs the conformance cases
//! whose id contains one of the words (all without any) and prints the
//! report; exits with 1 if the suite fails.

fn main() {
    let filters: Vec<String> = std::env::args().skip(1).collect();
    let out = std::env::temp_dir().join(format!("xsc-conformance-{}", std::process::id()));
    let suite = conformance::Suite::new(&out, &filters);
    if let Some(missing) = suite.toolchain_missing() {
        eprintln!("conformance: {missing}");
        std::process::exit(2);
    }
    let report = suite.run();
    println!("{report}");
    let _ = std::fs::remove_dir_all(&out);
    std::process::exit(if report.ok() { 0 } else { 1 });
}
