//! The XSC kernel's sources (`kernel/src`) carry the ABI in C:
//! `include/uapi/linux/xsc.h` (constants and layouts) and the list of
//! thread-context operations in `xsc/opdef.c`. These tests pin
//! both against this crate: every constant by value, every field offset and
//! size through a C program compiled with the header (`_Static_assert`s
//! generated from `offset_of!`), and the operation list by name through
//! the `syscalls` crate's table.

use std::collections::BTreeSet;
use std::mem::{offset_of, size_of};
use std::path::Path;
use xsc_abi::region::RingRegionHeader;
use xsc_abi::{CompletionEntry, EntryTable, SubmissionEntry};

/// A file of the XSC kernel's sources, by its path in the kernel tree.
fn kernel_source(file: &str) -> String {
    let path = Path::new(env!("CARGO_MANIFEST_DIR"))
        .join("../kernel/src")
        .join(file);
    std::fs::read_to_string(&path).unwrap_or_else(|e| panic!("{}: {e}", path.display()))
}

/// `#define NAME VALUE` of the header.
fn define(header: &str, name: &str) -> u64 {
    let line = header
        .lines()
        .find(|l| {
            let mut w = l.split_whitespace();
            w.next() == Some("#define") && w.next() == Some(name)
        })
        .unwrap_or_else(|| panic!("the header does not define {name}"));
    // The rest of the line after the name, without a comment.
    let rest = line.splitn(3, char::is_whitespace).nth(2).unwrap();
    let value = rest.split("/*").next().unwrap().trim();
    let value = value.trim_start_matches('(').trim_end_matches(')');
    if let Some(shift) = value.strip_prefix("1U << ") {
        return 1 << shift.parse::<u32>().unwrap();
    }
    match value.strip_prefix("0x") {
        Some(hex) => u64::from_str_radix(hex, 16).unwrap(),
        None => value
            .parse()
            .unwrap_or_else(|_| panic!("{name}: cannot read {value:?}")),
    }
}

#[test]
fn the_kernel_header_has_this_crates_constants() {
    let h = kernel_source("include/uapi/linux/xsc.h");
    use xsc_abi::region::*;
    use xsc_abi::ring_entry::*;
    let want: &[(&str, u64)] = &[
        ("XSC_ABI_VERSION", xsc_abi::ABI_VERSION as u64),
        ("XSC_NT_ABI", xsc_abi::note::NT_XSC_ABI as u64),
        ("AT_XSC_VERSION", xsc_abi::auxv::AT_XSC_VERSION),
        ("AT_XSC_RING", xsc_abi::auxv::AT_XSC_RING),
        ("AT_XSC_ENTRY", xsc_abi::auxv::AT_XSC_ENTRY),
        ("XSC_REGION_MAGIC", REGION_MAGIC as u64),
        (
            "XSC_ENTRY_TABLE_MAGIC",
            xsc_abi::entry_table::ENTRY_TABLE_MAGIC as u64,
        ),
        ("XSC_SQ_NEED_WAKEUP", SQ_NEED_WAKEUP as u64),
        ("XSC_SQ_CQ_FULL", SQ_CQ_FULL as u64),
        ("XSC_SQ_POLLED", SQ_POLLED as u64),
        ("XSC_SQE_F_THEN_EXIT", SQE_F_THEN_EXIT as u64),
        ("XSC_CQE_F_UNKNOWN_OP", CQE_F_UNKNOWN_OP as u64),
        ("XSC_CQE_F_MALFORMED", CQE_F_MALFORMED as u64),
        ("XSC_CQE_F_RING_ERROR", CQE_F_RING_ERROR as u64),
        ("XSC_CQE_F_WRONG_CONTEXT", CQE_F_WRONG_CONTEXT as u64),
        ("XSC_DEFAULT_SQ_ENTRIES", DEFAULT_SQ_ENTRIES as u64),
        ("XSC_DEFAULT_CQ_ENTRIES", DEFAULT_CQ_ENTRIES as u64),
        ("XSC_CACHE_LINE", xsc_abi::CACHE_LINE as u64),
        ("XSC_OFF_SQ_TAIL", offset_of!(RingRegion, sq_tail) as u64),
        ("XSC_OFF_SQ_HEAD", offset_of!(RingRegion, sq_head) as u64),
        (
            "XSC_OFF_SQ_FLAGS",
            (offset_of!(RingRegion, sq_status) + offset_of!(SqStatus, flags)) as u64,
        ),
        (
            "XSC_OFF_SQ_DROPPED",
            (offset_of!(RingRegion, sq_status) + offset_of!(SqStatus, dropped)) as u64,
        ),
        ("XSC_OFF_CQ_TAIL", offset_of!(RingRegion, cq_tail) as u64),
        ("XSC_OFF_CQ_HEAD", offset_of!(RingRegion, cq_head) as u64),
        (
            "XSC_REGION_HEADER_END",
            RegionLayout::default_v1().sqes_offset as u64,
        ),
    ];
    for (name, value) in want {
        assert_eq!(define(&h, name), *value, "{name}");
    }
}

#[test]
fn the_kernel_headers_structs_have_this_crates_layout() {
    let h = kernel_source("include/uapi/linux/xsc.h");
    let dir = Path::new(env!("CARGO_TARGET_TMPDIR")).join("kernel-header");
    std::fs::create_dir_all(dir.join("linux")).unwrap();
    // The header includes <linux/types.h>: the host's UAPI one.
    std::fs::write(dir.join("linux/xsc.h"), &h).unwrap();
    let mut c = String::from("#include <stddef.h>\n#include <linux/xsc.h>\n");
    let mut check = |s: &str, field: &str, off: usize| {
        c.push_str(&format!(
            "_Static_assert(offsetof(struct {s}, {field}) == {off}, \"{s}.{field}\");\n"
        ));
    };
    macro_rules! fields {
        ($c:expr, $t:ty, $s:literal, [$($f:ident),*]) => {
            $( $c($s, stringify!($f), offset_of!($t, $f)); )*
        };
    }
    fields!(
        check,
        RingRegionHeader,
        "xsc_region_header",
        [
            self_ptr,
            magic,
            abi_version,
            entry_table,
            sq_entries,
            cq_entries,
            sqes_offset,
            cqes_offset,
            region_size,
            tid,
            kernel_private,
            reserved
        ]
    );
    fields!(
        check,
        SubmissionEntry,
        "xsc_sqe",
        [opcode, flags, args, user_data]
    );
    fields!(
        check,
        CompletionEntry,
        "xsc_cqe",
        [user_data, result, flags, opcode, reserved]
    );
    fields!(
        check,
        EntryTable,
        "xsc_entry_table",
        [
            magic,
            abi_version,
            size,
            reserved,
            wait,
            doorbell,
            thread_call,
            sigreturn,
            clock_gettime,
            gettimeofday,
            time,
            getcpu
        ]
    );
    for (s, size) in [
        ("xsc_region_header", size_of::<RingRegionHeader>()),
        ("xsc_sqe", size_of::<SubmissionEntry>()),
        ("xsc_cqe", size_of::<CompletionEntry>()),
        ("xsc_entry_table", size_of::<EntryTable>()),
    ] {
        c.push_str(&format!(
            "_Static_assert(sizeof(struct {s}) == {size}, \"sizeof {s}\");\n"
        ));
    }
    let src = dir.join("layout.c");
    std::fs::write(&src, c).unwrap();
    let out = std::process::Command::new("cc")
        .args(["-fsyntax-only", "-I"])
        .arg(&dir)
        .arg(&src)
        .output()
        .expect("a C compiler (cc)");
    assert!(
        out.status.success(),
        "the kernel header's layout differs:\n{}",
        String::from_utf8_lossy(&out.stderr)
    );
}

#[test]
fn the_kernel_refuses_the_same_operations_on_the_ring() {
    let code = kernel_source("xsc/opdef.c");
    let start = code
        .find("xsc_thread_context[] = {")
        .expect("the thread-context list");
    let list = &code[start..start + code[start..].find("};").unwrap()];
    let kernel: BTreeSet<u32> = list
        .split(|c: char| !(c.is_alphanumeric() || c == '_'))
        .filter_map(|w| w.strip_prefix("__NR_"))
        .map(|name| {
            name.parse::<syscalls::x86_64::Sysno>()
                .unwrap_or_else(|_| panic!("{name} is not an x86_64 system call"))
                as u32
        })
        .collect();
    let ours: BTreeSet<u32> = xsc_abi::ops::x86_64::THREAD_CONTEXT
        .iter()
        .copied()
        .collect();
    assert_eq!(kernel, ours);
}

/// The opcodes of the case labels of a C function's switch in `code`.
fn case_labels(code: &str, function: &str) -> BTreeSet<u32> {
    let start = code
        .find(function)
        .unwrap_or_else(|| panic!("{function} in the kernel's sources"));
    let body = &code[start..];
    let end = body.find("\n}\n").expect("the end of the function");
    body[..end]
        .lines()
        .filter_map(|l| l.trim().strip_prefix("case __NR_"))
        .map(|l| {
            let name = l.trim_end_matches(':');
            name.parse::<syscalls::x86_64::Sysno>()
                .unwrap_or_else(|_| panic!("{name} is not an x86_64 system call"))
                as u32
        })
        .collect()
}

#[test]
fn the_kernels_poller_takes_the_same_operations() {
    let code = kernel_source("xsc/opdef.c");
    let kernel = case_labels(&code, "bool xsc_poller_takes(");
    let ours: BTreeSet<u32> = xsc_abi::ops::x86_64::POLLER_TAKES.iter().copied().collect();
    assert_eq!(kernel, ours);
}
