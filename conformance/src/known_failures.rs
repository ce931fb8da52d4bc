//! Cases that are known to differ from Linux under the installed
//! `xsc-run`, each with the defect it tracks.
//!
//! The suite fails on any difference that is not listed here, and also on
//! a listed case that now behaves as natively: remove its line then, so
//! that the list stays honest.

/// A case that fails today, and why.
#[derive(Clone, Copy, Debug)]
pub struct KnownFailure {
    /// The case's id, `area/name`.
    pub case: &'static str,
    /// What it tracks: the issue and defect, and what goes wrong.
    pub tracks: &'static str,
}

/// The list. Keep it sorted by case id.
pub const KNOWN_FAILURES: &[KnownFailure] = &[];
