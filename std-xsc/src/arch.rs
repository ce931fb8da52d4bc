//! The architectures the sysroot is built for.

use std::fmt;

#[derive(Clone, Copy, Debug, PartialEq, Eq, clap::ValueEnum)]
pub enum Arch {
    #[value(name = "x86_64")]
    X86_64,
    #[value(name = "aarch64")]
    Aarch64,
}

impl Arch {
    pub const ALL: [Arch; 2] = [Arch::X86_64, Arch::Aarch64];

    /// The name used in paths, musl's `--target` and the XSC target triple.
    pub fn name(self) -> &'static str {
        match self {
            Arch::X86_64 => "x86_64",
            Arch::Aarch64 => "aarch64",
        }
    }

    /// The XSC target this sysroot serves.
    pub fn xsc_target(self) -> String {
        format!("{}-unknown-linux-xsc", self.name())
    }

    /// The C compiler that builds the libc for this architecture.
    pub fn cc(self) -> &'static str {
        match self {
            Arch::X86_64 => "gcc",
            Arch::Aarch64 => "aarch64-linux-gnu-gcc",
        }
    }

    /// The archiver for this architecture's objects.
    pub fn ar(self) -> &'static str {
        match self {
            Arch::X86_64 => "ar",
            Arch::Aarch64 => "aarch64-linux-gnu-ar",
        }
    }

    /// Where the host keeps the Linux UAPI headers for this architecture
    /// (Debian's `linux-libc-dev`, and its cross version): the
    /// `linux`/`asm-generic` directory and the `asm` directory.
    pub fn uapi_headers(self) -> (&'static str, &'static str) {
        match self {
            Arch::X86_64 => ("/usr/include", "/usr/include/x86_64-linux-gnu/asm"),
            Arch::Aarch64 => (
                "/usr/aarch64-linux-gnu/include",
                "/usr/aarch64-linux-gnu/include/asm",
            ),
        }
    }

    /// Prefix of the binutils for this architecture.
    pub fn binutils_prefix(self) -> &'static str {
        match self {
            Arch::X86_64 => "",
            Arch::Aarch64 => "aarch64-linux-gnu-",
        }
    }

    /// The Rust target xsc-rt is compiled for as a C library (its code does
    /// not depend on the OS part of the target).
    pub fn rust_target(self) -> &'static str {
        match self {
            Arch::X86_64 => "x86_64-unknown-linux-gnu",
            Arch::Aarch64 => "aarch64-unknown-linux-gnu",
        }
    }

    /// Debian packages providing the compiler for this architecture.
    pub fn compiler_packages(self) -> &'static [&'static str] {
        match self {
            Arch::X86_64 => &["gcc", "binutils"],
            Arch::Aarch64 => &[
                "gcc-aarch64-linux-gnu",
                "binutils-aarch64-linux-gnu",
                "libc6-dev-arm64-cross",
            ],
        }
    }

    pub fn note_arch(self) -> elf_notes::Arch {
        match self {
            Arch::X86_64 => elf_notes::Arch::X86_64,
            Arch::Aarch64 => elf_notes::Arch::Aarch64,
        }
    }
}

impl fmt::Display for Arch {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(self.name())
    }
}
