//! `cargo xtask setup`: the machine setup of `cargo xsc setup`
//! (std-xsc's `setup`), run from this repository.

use crate::cmd::Result;

pub fn run() -> Result {
    std_xsc::setup::setup_all(&mut |line| eprintln!("xtask: {line}"))
}
