/* A non-PIE program (ET_EXEC, linked at 0x400000: what `-no-pie` builds,
 * as does Rust's -C relocation-model=static) starts at its link address,
 * its break lies after its image and grows, and low fixed addresses (as a
 * JIT or an emulator maps them) are free for it, as on Linux (issue 26,
 * item 2: xsc-run, itself a non-PIE binary at 0x400000 then, refused it
 * with exit 126, "cannot reserve ... at 0x400000: File exists"). Every
 * harness builds it with its `build:` flags: built as a static-pie instead,
 * its break would not lie after its image on Linux (the kernel puts a
 * static-pie's break apart from its image), natively too.
 * build: -no-pie
 * expect: exit 0 */
#include "common.h"
#include <elf.h>
#include <sys/mman.h>

extern const Elf64_Ehdr __ehdr_start;

static const char *yes(int c)
{
	return c ? "yes" : "no";
}

/* MAP_FIXED_NOREPLACE of a page at `at`, written and read back. */
static const char *fixed_page(unsigned long at)
{
	volatile char *p = mmap((void *)at, 4096, PROT_READ | PROT_WRITE,
				MAP_PRIVATE | MAP_ANONYMOUS | MAP_FIXED_NOREPLACE, -1, 0);
	if (p == MAP_FAILED)
		return errname(errno);
	if ((unsigned long)p != at)
		return "elsewhere";
	p[0] = 42;
	int ok = p[0] == 42;
	munmap((void *)p, 4096);
	return ok ? "ok" : "lost its contents";
}

int main(void)
{
	const Elf64_Ehdr *eh = &__ehdr_start;
	say("ELF header mapped: %s", yes(memcmp(eh->e_ident, ELFMAG, SELFMAG) == 0));
	const Elf64_Phdr *ph = (const Elf64_Phdr *)((const char *)eh + eh->e_phoff);
	unsigned long first = 0, end = 0, code = (unsigned long)&main;
	int found_first = 0, in_code = 0;
	for (int i = 0; i < eh->e_phnum; i++) {
		if (ph[i].p_type != PT_LOAD)
			continue;
		if (ph[i].p_offset == 0 && !found_first) {
			first = ph[i].p_vaddr;
			found_first = 1;
		}
	}
	unsigned long bias = (unsigned long)eh - first;
	for (int i = 0; i < eh->e_phnum; i++) {
		if (ph[i].p_type != PT_LOAD)
			continue;
		unsigned long lo = bias + ph[i].p_vaddr, hi = lo + ph[i].p_memsz;
		if (hi > end)
			end = hi;
		if ((ph[i].p_flags & PF_X) && lo <= code && code < hi)
			in_code = 1;
	}
	say("segments found: %s", yes(found_first && end > 0));
	/* ET_EXEC: where it was linked; ET_DYN: wherever it was put. */
	say("at its link address if not PIE: %s",
	    yes(eh->e_type == ET_DYN || (eh->e_type == ET_EXEC && bias == 0)));
	say("main in an executable segment: %s", yes(in_code));
	unsigned long brk0 = (unsigned long)syscall(SYS_brk, 0);
	say("break after the image: %s", yes(brk0 >= end));
	unsigned long want = brk0 + (64 << 10);
	int grew = (unsigned long)syscall(SYS_brk, want) == want;
	if (grew)
		memset((void *)brk0, 7, 64 << 10);
	say("break grows by 64 KiB: %s", yes(grew));
	say("page at 1 MiB: %s", fixed_page(1 << 20));
	say("page at 2 MiB: %s", fixed_page(2 << 20));
	say("page at 4 GiB: %s", fixed_page(1UL << 32));
	return 0;
}
