//! Program start for binaries built on xsc-rt alone (feature `start`):
//! apply the static-pie binary's own relative relocations, then call the
//! program's `xsc_main(argc, argv, envp)` and end the process with its
//! return value. Like musl's `rcrt1`, the code before relocation touches no
//! data that needs relocating: only the stack, the auxiliary vector and
//! the program headers, through raw pointers.

const AT_NULL: usize = 0;
const AT_PHDR: usize = 3;
const AT_PHNUM: usize = 5;
const PT_DYNAMIC: u32 = 2;
const PT_PHDR: u32 = 6;
const DT_NULL: u64 = 0;
const DT_RELA: u64 = 7;
const DT_RELASZ: u64 = 8;
const DT_RELAENT: u64 = 9;

extern "C" {
    fn xsc_main(argc: isize, argv: *const *const u8, envp: *const *const u8) -> i32;
}

#[repr(C)]
struct Phdr {
    p_type: u32,
    p_flags: u32,
    p_offset: u64,
    p_vaddr: u64,
    p_paddr: u64,
    p_filesz: u64,
    p_memsz: u64,
    p_align: u64,
}

/// # Safety
/// Called once, by `_start`, with the initial stack pointer the kernel set.
pub(crate) unsafe extern "C" fn start_c(sp: *const usize) -> ! {
    let argc = *sp;
    let argv = sp.add(1) as *const *const u8;
    let envp = argv.add(argc + 1);
    let mut p = envp;
    while !(*p).is_null() {
        p = p.add(1);
    }
    let mut aux = p.add(1) as *const usize;
    let (mut phdr, mut phnum) = (0usize, 0usize);
    while *aux != AT_NULL {
        match *aux {
            AT_PHDR => phdr = *aux.add(1),
            AT_PHNUM => phnum = *aux.add(1),
            _ => {}
        }
        aux = aux.add(2);
    }
    relocate(phdr as *const Phdr, phnum);
    // Keep the note alive through --gc-sections.
    #[cfg(feature = "note")]
    core::ptr::read_volatile(&crate::note::XSC_ABI_NOTE.namesz);
    let code = xsc_main(argc as isize, argv, envp);
    crate::sys::exit_group(code)
}

unsafe fn relocate(phdr: *const Phdr, phnum: usize) {
    let (mut base, mut dynamic) = (None, None);
    for i in 0..phnum {
        let ph = &*phdr.add(i);
        match ph.p_type {
            PT_PHDR => base = Some(phdr as u64 - ph.p_vaddr),
            PT_DYNAMIC => dynamic = Some(ph.p_vaddr),
            _ => {}
        }
    }
    // A non-PIE binary has no PT_PHDR-derived base to apply; nothing to do.
    let (Some(base), Some(dynamic)) = (base, dynamic) else {
        return;
    };
    let mut d = (base + dynamic) as *const [u64; 2];
    let (mut rela, mut relasz, mut relaent) = (0, 0, 24);
    while (*d)[0] != DT_NULL {
        match (*d)[0] {
            DT_RELA => rela = (*d)[1],
            DT_RELASZ => relasz = (*d)[1],
            DT_RELAENT => relaent = (*d)[1],
            _ => {}
        }
        d = d.add(1);
    }
    let mut off = 0;
    while off + 24 <= relasz {
        let r = (base + rela + off) as *const [u64; 3];
        if (*r)[1] & 0xffff_ffff == crate::arch::R_RELATIVE {
            *((base + (*r)[0]) as *mut u64) = base.wrapping_add((*r)[2]);
        }
        off += relaent;
    }
}
