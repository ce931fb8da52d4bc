//! The `XSC_ABI` note (ABI §8), placed in a `.note` section so the linker
//! puts it in a `PT_NOTE` segment. `_start` refers to it so that
//! `--gc-sections` keeps it.

use xsc_abi::note::XscAbiNote;

#[used]
#[no_mangle]
#[link_section = ".note.xsc.abi"]
pub static XSC_ABI_NOTE: XscAbiNote = XscAbiNote::current();
