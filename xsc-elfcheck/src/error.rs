//! Why a file could not be checked (exit status 2).

use std::fmt;

/// A file that could not be checked: not a binary this tool understands,
/// or one too damaged to say what the loader would map. Never a pass.
#[derive(Clone, Debug, PartialEq, Eq)]
pub enum CheckError {
    /// The file could not be read.
    Io(String),
    /// Not an ELF file at all.
    NotElf(String),
    /// An ELF file of a kind XSC does not have: 32-bit, big-endian, another
    /// machine, a relocatable object or a core dump.
    Unsupported(String),
    /// An ELF file whose headers are truncated, inconsistent or
    /// implausible, so that what the loader maps cannot be known.
    Malformed(String),
}

impl fmt::Display for CheckError {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            CheckError::Io(why) => write!(f, "cannot read the file: {why}"),
            CheckError::NotElf(why) => write!(f, "not an ELF file: {why}"),
            CheckError::Unsupported(why) => write!(f, "unsupported ELF file: {why}"),
            CheckError::Malformed(why) => write!(f, "malformed ELF file: {why}"),
        }
    }
}

impl std::error::Error for CheckError {}

impl CheckError {
    /// The stable snake_case name used in the JSON output.
    pub fn kind_name(&self) -> &'static str {
        match self {
            CheckError::Io(_) => "io",
            CheckError::NotElf(_) => "not_elf",
            CheckError::Unsupported(_) => "unsupported",
            CheckError::Malformed(_) => "malformed",
        }
    }
}
