//! `bench-spawn-child`: the small program bench-spawn executes. It starts
//! std's runtime and returns at once (exit status 0).

fn main() {}
