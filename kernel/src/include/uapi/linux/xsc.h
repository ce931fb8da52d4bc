/* SPDX-License-Identifier: GPL-2.0 WITH Linux-syscall-note */
/*
 * The XSC ABI, version 3 (docs/ABI.md of the XSC toolchain): programs
 * that never execute a system-call instruction. Each thread writes its
 * requests into a submission ring in a shared region and the kernel posts
 * the results to a completion ring; the kernel's code in the entry page
 * is the only place a system call may come from.
 *
 * Offsets and values here are pinned against the toolchain's `xsc-abi`
 * crate by its tests.
 */
#ifndef _UAPI_LINUX_XSC_H
#define _UAPI_LINUX_XSC_H

#include <linux/types.h>

#define XSC_ABI_VERSION		3

/* The ELF note (ABI §8): name "XSC\0", type 1, descriptor 8 bytes. */
#define XSC_NOTE_NAME		"XSC"
#define XSC_NT_ABI		1
#define XSC_NOTE_FEATURES_KNOWN	0

/* Auxiliary vector entries (ABI §3.1). */
#define AT_XSC_VERSION		0x58530001
#define AT_XSC_RING		0x58530002
#define AT_XSC_ENTRY		0x58530003

#define XSC_REGION_MAGIC	0x52435358	/* "XSCR" */
#define XSC_ENTRY_TABLE_MAGIC	0x45435358	/* "XSCE" */

/* sq_status.flags (ABI §4.1, §4.5, §5.1) */
#define XSC_SQ_NEED_WAKEUP	(1U << 0)
#define XSC_SQ_CQ_FULL		(1U << 1)
#define XSC_SQ_POLLED		(1U << 2)

/* Submission flags (ABI §2.5) */
#define XSC_SQE_F_THEN_EXIT	(1U << 0)

/* Completion flags (ABI §2.6) */
#define XSC_CQE_F_UNKNOWN_OP	(1U << 0)
#define XSC_CQE_F_MALFORMED	(1U << 1)
#define XSC_CQE_F_RING_ERROR	(1U << 2)
#define XSC_CQE_F_WRONG_CONTEXT	(1U << 3)

/*
 * The transport calls the entry page's stubs make (ABI §5.2): the kernel's
 * own business, not part of the ABI, since programs reach them only
 * through the entry table. They lie outside Linux's system-call numbers
 * (which ring opcodes are, ABI §6.1), so that no operation is ever a
 * transport call, and are recognised before the system-call table.
 */
#define XSC_NR_BASE		0x58530000	/* "XS" */
#define XSC_NR_WAIT		(XSC_NR_BASE + 0)
#define XSC_NR_THREAD_CALL	(XSC_NR_BASE + 1)
#define XSC_NR_DOORBELL		(XSC_NR_BASE + 2)
#define XSC_NR_WAIT_RESTART	(XSC_NR_BASE + 3)	/* wait, restarted */
#define XSC_NR_COUNT		4

#define XSC_DEFAULT_SQ_ENTRIES	64
#define XSC_DEFAULT_CQ_ENTRIES	128
#define XSC_CACHE_LINE		64

struct xsc_region_header {		/* ABI §2.2, 64 bytes */
	__u64 self_ptr;
	__u32 magic;
	__u32 abi_version;
	__u64 entry_table;
	__u32 sq_entries;
	__u32 cq_entries;
	__u32 sqes_offset;
	__u32 cqes_offset;
	__u32 region_size;
	__u32 tid;
	__u64 kernel_private;
	__u64 reserved;
};

/* Where the indices sit: each on a cache line of its own (ABI §2.1). */
#define XSC_OFF_SQ_TAIL		64
#define XSC_OFF_SQ_HEAD		128
#define XSC_OFF_SQ_FLAGS	192
#define XSC_OFF_SQ_DROPPED	196
#define XSC_OFF_CQ_TAIL		256
#define XSC_OFF_CQ_HEAD		320
#define XSC_REGION_HEADER_END	448	/* the default sqes_offset */

struct xsc_sqe {			/* ABI §2.5, 64 bytes */
	__u32 opcode;
	__u32 flags;
	__u64 args[6];
	__u64 user_data;
};

struct xsc_cqe {			/* ABI §2.6, 32 bytes */
	__u64 user_data;
	__s64 result;
	__u32 flags;
	__u32 opcode;
	__u64 reserved;
};

struct xsc_entry_table {		/* ABI §5.2, 80 bytes */
	__u32 magic;
	__u32 abi_version;
	__u32 size;
	__u32 reserved;
	__u64 wait;
	__u64 doorbell;
	__u64 thread_call;
	__u64 sigreturn;
	__u64 clock_gettime;
	__u64 gettimeofday;
	__u64 time;
	__u64 getcpu;
};

#endif /* _UAPI_LINUX_XSC_H */
