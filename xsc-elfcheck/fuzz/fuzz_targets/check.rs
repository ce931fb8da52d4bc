//! Arbitrary bytes through everything a caller of the library does: check
//! (in both modes) and both renderers. Any panic is a bug.
#![no_main]

use libfuzzer_sys::fuzz_target;
use xsc_elfcheck::{check, exit_code, render_human, render_json, Options};

fuzz_target!(|data: &[u8]| {
    for opts in [
        Options::default(),
        Options {
            strict: true,
            require_note: false,
        },
    ] {
        let res = check(data, &opts);
        if let Ok(r) = &res {
            let _ = render_human("fuzz", r, &opts);
            assert_eq!(r.passed(&opts), r.violations(&opts).next().is_none());
        }
        let results = vec![("fuzz".to_string(), res)];
        let json = render_json(&results, &opts);
        assert!(json.starts_with('{'));
        let _ = exit_code(&results, &opts);
    }
});
