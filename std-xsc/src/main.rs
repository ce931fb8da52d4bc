//! `xsc-sysroot`: builds the XSC sysroot (the musl fork, xsc-rt's C
//! library, the unwinder, the note object) for one or all architectures.

use clap::{Parser, Subcommand};
use std_xsc::{build, xsc_home, Arch};

#[derive(Parser)]
#[command(
    name = "xsc-sysroot",
    version,
    about = "Build the XSC sysroot (libc fork, xsc-rt, unwinder, note)"
)]
struct Cli {
    #[command(subcommand)]
    command: Cmd,
}

#[derive(Subcommand)]
enum Cmd {
    /// Build the sysroot (cached: rebuilt only when an input changed).
    Build {
        /// The architecture (default: all).
        #[arg(long, value_enum)]
        arch: Option<Arch>,
        /// Rebuild even if the cached sysroot is up to date.
        #[arg(long)]
        force: bool,
    },
    /// Print where the sysroot of an architecture is.
    Path {
        #[arg(long, value_enum, default_value = "x86_64")]
        arch: Arch,
    },
}

fn main() {
    let cli = Cli::parse();
    let home = xsc_home();
    match cli.command {
        Cmd::Path { arch } => println!("{}", std_xsc::Sysroot::new(&home, arch).dir.display()),
        Cmd::Build { arch, force } => {
            let arches = arch.map(|a| vec![a]).unwrap_or(Arch::ALL.to_vec());
            for a in arches {
                match build::build(a, &home, force) {
                    Ok(b) if !b.rebuilt => println!(
                        "xsc-sysroot: {a}: up to date in {}",
                        b.sysroot.dir.display()
                    ),
                    Ok(b) => {
                        for line in &b.log {
                            println!("xsc-sysroot: {a}: {line}");
                        }
                        println!("xsc-sysroot: {a}: built {}", b.sysroot.dir.display());
                    }
                    Err(e) => {
                        eprintln!("xsc-sysroot: {a}: {e}");
                        std::process::exit(1);
                    }
                }
            }
        }
    }
}
