//! What a check produces: the report, its findings and their kinds.

use std::fmt;

/// The instruction set of a checked binary.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Arch {
    X86_64,
    Aarch64,
}

impl Arch {
    pub fn name(self) -> &'static str {
        match self {
            Arch::X86_64 => "x86_64",
            Arch::Aarch64 => "aarch64",
        }
    }
}

impl fmt::Display for Arch {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(self.name())
    }
}

/// Whether a finding fails the check.
#[derive(Clone, Copy, Debug, PartialEq, Eq, PartialOrd, Ord)]
pub enum Severity {
    /// Reported, but the binary still passes.
    Warning,
    /// The binary fails the check.
    Violation,
}

impl Severity {
    pub fn name(self) -> &'static str {
        match self {
            Severity::Warning => "warning",
            Severity::Violation => "violation",
        }
    }
}

/// The class of a finding.
#[derive(Clone, Debug, PartialEq, Eq)]
pub enum FindingKind {
    /// x86_64: a `syscall` or `sysenter` that linear decoding reached.
    SyscallInstruction,
    /// x86_64: the bytes of `syscall` (`0f 05`), `sysenter` (`0f 34`) or
    /// `int 0x80` (`cd 80`) at an offset linear decoding did not reach as
    /// an instruction start: they would execute if control jumped there.
    /// `inside` is the decoded instruction they sit in.
    HiddenSyscall { inside: String },
    /// x86_64: `call far`, `jmp far`, `retf` or `iret`/`iretd`/`iretq`.
    FarTransfer,
    /// x86_64: `int n` (`cd ib`), including `int 0x80`.
    SoftwareInterrupt,
    /// aarch64: `svc #imm`.
    Svc,
    /// aarch64: `hvc #imm`.
    Hvc,
    /// aarch64: `smc #imm`.
    Smc,
    /// No `XSC_ABI` note in a `PT_NOTE` segment.
    MissingNote,
    /// A malformed `XSC_ABI` note, or one naming an unsupported ABI
    /// version or unknown feature bits.
    BadNote,
    /// A `PT_INTERP` segment (a dynamic binary).
    Interp,
    /// A `DT_NEEDED` entry (a dynamic binary needing a shared library).
    DtNeeded,
    /// A segment that is both writable and executable (or an executable
    /// stack requested by `PT_GNU_STACK`).
    WritableExecutable,
}

impl FindingKind {
    /// The stable snake_case name used in the JSON output.
    pub fn name(&self) -> &'static str {
        match self {
            FindingKind::SyscallInstruction => "syscall_instruction",
            FindingKind::HiddenSyscall { .. } => "hidden_syscall",
            FindingKind::FarTransfer => "far_transfer",
            FindingKind::SoftwareInterrupt => "software_interrupt",
            FindingKind::Svc => "svc",
            FindingKind::Hvc => "hvc",
            FindingKind::Smc => "smc",
            FindingKind::MissingNote => "missing_note",
            FindingKind::BadNote => "bad_note",
            FindingKind::Interp => "interp",
            FindingKind::DtNeeded => "dt_needed",
            FindingKind::WritableExecutable => "writable_executable",
        }
    }

    /// A short human description.
    pub fn describe(&self) -> &'static str {
        match self {
            FindingKind::SyscallInstruction => "system-call instruction",
            FindingKind::HiddenSyscall { .. } => "hidden system-call bytes",
            FindingKind::FarTransfer => "far control transfer",
            FindingKind::SoftwareInterrupt => "software interrupt",
            FindingKind::Svc => "svc (supervisor call)",
            FindingKind::Hvc => "hvc (hypervisor call)",
            FindingKind::Smc => "smc (secure monitor call)",
            FindingKind::MissingNote => "missing XSC_ABI note",
            FindingKind::BadNote => "bad XSC_ABI note",
            FindingKind::Interp => "PT_INTERP (dynamic binary)",
            FindingKind::DtNeeded => "DT_NEEDED (shared library dependency)",
            FindingKind::WritableExecutable => "writable and executable memory",
        }
    }

    /// Whether this is an instruction site (as opposed to a property of
    /// the file such as its note or its dynamic section).
    pub fn is_instruction(&self) -> bool {
        matches!(
            self,
            FindingKind::SyscallInstruction
                | FindingKind::HiddenSyscall { .. }
                | FindingKind::FarTransfer
                | FindingKind::SoftwareInterrupt
                | FindingKind::Svc
                | FindingKind::Hvc
                | FindingKind::Smc
        )
    }
}

/// One reported site or property.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct Finding {
    pub kind: FindingKind,
    pub severity: Severity,
    /// Virtual address of the site (for segment findings: the segment's).
    pub vaddr: Option<u64>,
    /// Where the site's first byte is in the file (`None` for bytes that
    /// exist only in memory, such as zero fill).
    pub file_offset: Option<u64>,
    /// Index of the program header the site belongs to.
    pub segment: Option<usize>,
    /// The allocated section whose address range holds the site, if the
    /// section table names one (informative only: sections can lie).
    pub section: Option<String>,
    /// The symbol holding the site, demangled, without the hash.
    pub symbol: Option<String>,
    /// `vaddr - symbol address`.
    pub symbol_offset: Option<u64>,
    /// The crate the symbol comes from, when its Rust mangling says so.
    pub crate_name: Option<String>,
    /// The instruction's bytes (for hidden sites: the bytes of the
    /// instruction they sit inside, or the site bytes when none was decoded).
    pub bytes: Vec<u8>,
    /// Disassembly of what executes at `vaddr`.
    pub disasm: Option<String>,
    /// A sentence saying what was found and why it matters.
    pub message: String,
}

/// An executable segment that was checked.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct SegmentInfo {
    /// Index in the program header table.
    pub index: usize,
    pub vaddr: u64,
    pub memsz: u64,
    pub offset: u64,
    pub filesz: u64,
    /// `PF_*` flags.
    pub flags: u32,
}

/// The result of checking one binary that could be checked.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct Report {
    pub arch: Arch,
    /// Bytes of executable memory checked: every page the loader maps
    /// executable for a `PT_LOAD` segment with `PF_X`.
    pub exec_bytes: u64,
    /// The executable `PT_LOAD` segments.
    pub exec_segments: Vec<SegmentInfo>,
    /// The note's descriptor, when present and well-formed.
    pub note: Option<elf_notes::XscAbiNoteDesc>,
    /// Every finding, sorted by severity (violations first), then address.
    pub findings: Vec<Finding>,
    /// Things that limit the report without being findings (for example an
    /// unreadable section table, which only costs names).
    pub remarks: Vec<String>,
}

impl Report {
    /// The findings that fail the check under `opts`.
    pub fn violations<'a>(
        &'a self,
        opts: &crate::Options,
    ) -> impl Iterator<Item = &'a Finding> + 'a {
        let opts = *opts;
        self.findings.iter().filter(move |f| crate::fails(f, &opts))
    }

    /// The findings that are reported but do not fail the check under `opts`.
    pub fn warnings<'a>(&'a self, opts: &crate::Options) -> impl Iterator<Item = &'a Finding> + 'a {
        let opts = *opts;
        self.findings
            .iter()
            .filter(move |f| !crate::fails(f, &opts))
    }

    /// Whether the binary passes under `opts`.
    pub fn passed(&self, opts: &crate::Options) -> bool {
        self.violations(opts).next().is_none()
    }
}
