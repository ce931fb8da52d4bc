// SPDX-License-Identifier: GPL-2.0
/*
 * XSC at exec (fs/binfmt_elf.c's hooks): the XSC_ABI note, and for an XSC
 * program the entry page, the entry table, the main thread's ring region
 * and the trap guard (ABI §3, §5.2, §7.8); the regions of new threads.
 */
#include <linux/binfmts.h>
#include <linux/elf.h>
#include <linux/mman.h>
#include <linux/prctl.h>
#include <linux/sched.h>
#include <linux/sched/mm.h>
#include <linux/syscall_user_dispatch.h>
#include <linux/uaccess.h>

#include "xsc.h"

/*
 * Reads the XSC_ABI note of the binary's PT_NOTE segment `phdr`, if it has
 * one: sets *is_xsc, or fails with -ENOEXEC for a version or feature this
 * kernel does not speak.
 */
int xsc_check_note(struct linux_binprm *bprm, const struct elf64_phdr *phdr,
		   bool *is_xsc)
{
	struct {
		struct elf64_note nhdr;
		char name[4];
		u32 version;
		u32 features;
	} note;
	loff_t pos = phdr->p_offset;
	size_t off = 0;

	while (off + sizeof(struct elf64_note) <= phdr->p_filesz) {
		ssize_t n;
		size_t len;

		pos = phdr->p_offset + off;
		n = kernel_read(bprm->file, &note, sizeof(note), &pos);
		if (n < (ssize_t)sizeof(struct elf64_note))
			return 0;
		len = sizeof(struct elf64_note) + ALIGN(note.nhdr.n_namesz, 4) +
		      ALIGN(note.nhdr.n_descsz, 4);
		if (note.nhdr.n_type == XSC_NT_ABI && note.nhdr.n_namesz == 4 &&
		    n >= (ssize_t)sizeof(note) &&
		    memcmp(note.name, XSC_NOTE_NAME, 4) == 0) {
			if (note.nhdr.n_descsz != 8 ||
			    note.version != XSC_ABI_VERSION ||
			    (note.features & ~XSC_NOTE_FEATURES_KNOWN)) {
				pr_warn_ratelimited("xsc: %s: XSC ABI version %u, features %#x: this kernel runs version %u only\n",
						    bprm->filename, note.version,
						    note.features, XSC_ABI_VERSION);
				return -ENOEXEC;
			}
			*is_xsc = true;
			return 0;
		}
		off += len;
	}
	return 0;
}

/* At every exec: a new image is not XSC until xsc_exec_setup says so. */
void xsc_exec_reset(void)
{
	memset(&current->xsc, 0, sizeof(current->xsc));
}

/* Maps a region for a thread of this process (ABI §2): its address. */
unsigned long xsc_new_region(u32 tid)
{
	struct xsc_region_header h = {
		.magic = XSC_REGION_MAGIC,
		.abi_version = XSC_ABI_VERSION,
		.entry_table = current->mm->xsc.table,
		.sq_entries = XSC_DEFAULT_SQ_ENTRIES,
		.cq_entries = XSC_DEFAULT_CQ_ENTRIES,
		.sqes_offset = XSC_SQES_OFFSET,
		.cqes_offset = XSC_CQES_OFFSET,
		.region_size = XSC_REGION_SIZE,
		.tid = tid,
	};
	unsigned long addr = vm_mmap(NULL, 0, h.region_size,
				     PROT_READ | PROT_WRITE,
				     MAP_PRIVATE | MAP_ANONYMOUS, 0);

	if (IS_ERR_VALUE(addr))
		return addr;
	h.self_ptr = addr;
	if (copy_to_user((void __user *)addr, &h, sizeof(h))) {
		vm_munmap(addr, h.region_size);
		return -EFAULT;
	}
	return addr;
}

/*
 * After the new image is mapped, before the auxiliary vector is written:
 * the entry page, the entry table, the main thread's region and the guard.
 */
int xsc_exec_setup(void)
{
	struct mm_struct *mm = current->mm;
	struct xsc_entry_table t = {
		.magic = XSC_ENTRY_TABLE_MAGIC,
		.abi_version = XSC_ABI_VERSION,
		.size = sizeof(t),
	};
	unsigned long code, start, table, region;
	int ret;

	code = xsc_arch_map_code(&t, &start);
	if (IS_ERR_VALUE(code))
		return code;
	table = vm_mmap(NULL, 0, PAGE_SIZE, PROT_READ | PROT_WRITE,
			MAP_PRIVATE | MAP_ANONYMOUS, 0);
	if (IS_ERR_VALUE(table))
		return table;
	if (copy_to_user((void __user *)table, &t, sizeof(t)))
		return -EFAULT;
	mm->xsc.code_start = start;
	mm->xsc.code = code;
	mm->xsc.table = table;
	region = xsc_new_region(task_pid_vnr(current));
	if (IS_ERR_VALUE(region))
		return region;
	current->xsc.region = region;
	memset(&current->xsc.ring, 0, sizeof(current->xsc.ring));
	ret = set_syscall_user_dispatch(PR_SYS_DISPATCH_ON, code, PAGE_SIZE,
					NULL);
	return ret;
}

/* After start_thread: the region's address in the region register (ABI §3.6). */
void xsc_start_thread(void)
{
	if (current->xsc.region)
		xsc_arch_start_region(current->xsc.region);
}

/* From mm_init: a new process (exec or fork) has no poller yet. */
void xsc_mm_init(struct mm_struct *mm)
{
	atomic_set(&mm->xsc.poller_state, XSC_POLLER_NONE);
	RCU_INIT_POINTER(mm->xsc.poller, NULL);
	mm->xsc.poller_asleep = false;
	mm->xsc.poller_backoff = 0;
	mm->xsc.poller_stop = false;
	mm->xsc.poller_exit_code = 0;
}
