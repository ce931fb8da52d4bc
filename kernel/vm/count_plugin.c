// SPDX-License-Identifier: GPL-2.0-or-later
/*
 * A QEMU TCG plugin (qemu 7.2's API, include/qemu/qemu-plugin.h) that counts
 * what a marked region of a guest program costs: the guest instructions
 * executed at user addresses and at kernel addresses, and the kernel
 * entries, told apart as system calls (`syscall`, `sysenter`, `int 0x80`
 * just executed at a user address) and other entries (interrupts, faults).
 * It is the deterministic measure of `cargo xtask bench --only vm`.
 *
 * The region is marked in the guest program by two instructions the
 * plugin recognises, harmless NOPs to the CPU:
 *   nopl 0x5853_0000 + ID * 16 + 1 (%rax)   starts region ID (0..4095)
 *   nopl 0x5853_0000 + ID * 16 + 2 (%rax)   ends it
 * (bytes 0f 1f 80 and the 32-bit displacement). Between them every
 * instruction executed on any vCPU is counted, the marks excluded; at the
 * end a line goes to the file named by the plugin's `out=` argument:
 *   xsc-count: ID user U kernel K syscalls S other-entries E
 *
 * How: the plugin API has no register reads and no interrupt callback, so
 * everything is inferred from the translated blocks. Each block is known
 * to be user or kernel code by its address (kernel addresses have bit 63
 * set) and whether its last instruction is a system-call instruction. A
 * kernel block that a vCPU executes right after a user block is a kernel
 * entry: a system call if that user block ended in one, else an interrupt
 * or a fault (timer ticks among them: counted, as the kernel work they
 * are, in other-entries and kernel instructions). A block is counted as a
 * whole when it starts; the marks correct for the part of their own block
 * outside the region. A block left early by a fault is counted whole (an
 * instruction or two too many per fault).
 *
 * With `profile=N` the line is followed by the N kernel blocks that ran
 * the most instructions in the region, hottest first:
 *   xsc-count-hot: ID ADDRESS INSTRUCTIONS
 * (their addresses, to look up in the kernel's System.map).
 */
#include <inttypes.h>
#include <pthread.h>
#include <stdbool.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <qemu-plugin.h>

QEMU_PLUGIN_EXPORT int qemu_plugin_version = QEMU_PLUGIN_VERSION;

#define MARK_BASE 0x58530000u
#define MAX_VCPUS 64

/* What is known of a translated block. */
struct block {
	uint64_t vaddr;
	uint64_t ran;		/* instructions run in the open region */
	uint32_t insns;
	bool kernel;
	bool ends_in_syscall;
};

/* Every kernel block translated, for the profile. */
static struct block **kernel_blocks;
static size_t n_kernel_blocks, cap_kernel_blocks;
static unsigned int profile;
/* vCPUs translate concurrently (MTTCG): the list is kept under a lock. */
static pthread_mutex_t blocks_lock = PTHREAD_MUTEX_INITIALIZER;

/* A mark inside a block: start or end of region `id`. */
struct mark {
	uint32_t id;
	bool start;
	uint32_t after;		/* instructions of its block after it */
	uint32_t from;		/* the mark and those after it */
};

struct vcpu {
	bool last_user;		/* the last block it ran was user code */
	bool last_syscall;	/* ... and ended in a system-call instruction */
};

static struct vcpu vcpus[MAX_VCPUS];
static FILE *out;

/* The open region (one at a time), counted over all vCPUs. */
static volatile bool open_region;
static uint32_t region_id;
static uint64_t user_insns, kernel_insns, syscalls, other_entries;

static void add(uint64_t *counter, uint64_t n)
{
	__atomic_fetch_add(counter, n, __ATOMIC_RELAXED);
}

static void sub(uint64_t *counter, uint64_t n)
{
	__atomic_fetch_sub(counter, n, __ATOMIC_RELAXED);
}

static void block_exec(unsigned int cpu, void *udata)
{
	const struct block *b = udata;
	struct vcpu *v = &vcpus[cpu % MAX_VCPUS];

	if (open_region) {
		if (b->kernel && v->last_user)
			add(v->last_syscall ? &syscalls : &other_entries, 1);
		add(b->kernel ? &kernel_insns : &user_insns, b->insns);
		if (profile && b->kernel)
			add(&((struct block *)b)->ran, b->insns);
	}
	v->last_user = !b->kernel;
	v->last_syscall = b->ends_in_syscall;
}

static int hotter(const void *a, const void *b)
{
	const struct block *x = *(struct block *const *)a;
	const struct block *y = *(struct block *const *)b;

	return x->ran < y->ran ? 1 : x->ran > y->ran ? -1 : 0;
}

/* The region's hottest kernel blocks (a block translated twice counts
 * twice, each copy with its own share). */
static void print_profile(void)
{
	size_t i;

	if (!profile)
		return;
	pthread_mutex_lock(&blocks_lock);
	qsort(kernel_blocks, n_kernel_blocks, sizeof(*kernel_blocks), hotter);
	for (i = 0; i < n_kernel_blocks && i < profile; i++) {
		if (!kernel_blocks[i]->ran)
			break;
		fprintf(out, "xsc-count-hot: %u %#" PRIx64 " %" PRIu64 "\n",
			region_id, kernel_blocks[i]->vaddr,
			kernel_blocks[i]->ran);
	}
	pthread_mutex_unlock(&blocks_lock);
}

static void mark_exec(unsigned int cpu, void *udata)
{
	const struct mark *m = udata;

	(void)cpu;
	if (m->start) {
		size_t i;

		pthread_mutex_lock(&blocks_lock);
		for (i = 0; i < n_kernel_blocks; i++)
			kernel_blocks[i]->ran = 0;
		pthread_mutex_unlock(&blocks_lock);
		user_insns = kernel_insns = syscalls = other_entries = 0;
		region_id = m->id;
		/* This block was not counted: the part after the mark is in. */
		user_insns = m->after;
		__atomic_store_n(&open_region, true, __ATOMIC_SEQ_CST);
		return;
	}
	if (!open_region || m->id != region_id)
		return;
	__atomic_store_n(&open_region, false, __ATOMIC_SEQ_CST);
	/* This block was counted whole: the mark and what follows are out. */
	sub(&user_insns, m->from);
	if (out) {
		fprintf(out, "xsc-count: %u user %" PRIu64 " kernel %" PRIu64
			" syscalls %" PRIu64 " other-entries %" PRIu64 "\n",
			region_id, user_insns, kernel_insns, syscalls,
			other_entries);
		print_profile();
		fflush(out);
	}
}

/* Is this instruction a mark? Its region and kind in *m. */
static bool is_mark(const uint8_t *p, size_t n, struct mark *m)
{
	uint32_t disp;

	if (n != 7 || p[0] != 0x0f || p[1] != 0x1f || p[2] != 0x80)
		return false;
	memcpy(&disp, p + 3, 4);
	if ((disp & 0xffff0000u) != MARK_BASE || (disp & 0xf) == 0 ||
	    (disp & 0xf) > 2)
		return false;
	m->id = (disp & 0xfff0) >> 4;
	m->start = (disp & 0xf) == 1;
	return true;
}

static bool is_syscall(const uint8_t *p, size_t n)
{
	return n == 2 && ((p[0] == 0x0f && (p[1] == 0x05 || p[1] == 0x34)) ||
			  (p[0] == 0xcd && p[1] == 0x80));
}

static void block_trans(qemu_plugin_id_t id, struct qemu_plugin_tb *tb)
{
	size_t n = qemu_plugin_tb_n_insns(tb);
	struct block *b = calloc(1, sizeof(*b));
	size_t i;

	(void)id;
	if (!b)
		return;
	b->insns = n;
	b->vaddr = qemu_plugin_tb_vaddr(tb);
	b->kernel = b->vaddr >> 63;
	if (profile && b->kernel) {
		pthread_mutex_lock(&blocks_lock);
		if (n_kernel_blocks == cap_kernel_blocks) {
			size_t cap = cap_kernel_blocks ? 2 * cap_kernel_blocks : 4096;
			struct block **more = realloc(kernel_blocks,
						      cap * sizeof(*more));

			if (more) {
				kernel_blocks = more;
				cap_kernel_blocks = cap;
			}
		}
		if (n_kernel_blocks < cap_kernel_blocks)
			kernel_blocks[n_kernel_blocks++] = b;
		pthread_mutex_unlock(&blocks_lock);
	}
	for (i = 0; i < n; i++) {
		struct qemu_plugin_insn *insn = qemu_plugin_tb_get_insn(tb, i);
		const uint8_t *p = qemu_plugin_insn_data(insn);
		size_t len = qemu_plugin_insn_size(insn);
		struct mark m;

		if (i == n - 1)
			b->ends_in_syscall = !b->kernel && is_syscall(p, len);
		if (b->kernel || !is_mark(p, len, &m))
			continue;
		m.after = n - i - 1;
		m.from = n - i;
		{
			struct mark *copy = malloc(sizeof(*copy));

			if (!copy)
				continue;
			*copy = m;
			qemu_plugin_register_vcpu_insn_exec_cb(insn, mark_exec,
							       QEMU_PLUGIN_CB_NO_REGS,
							       copy);
		}
	}
	/* Blocks are retranslated after a flush: each keeps its own copy. */
	qemu_plugin_register_vcpu_tb_exec_cb(tb, block_exec,
					     QEMU_PLUGIN_CB_NO_REGS, b);
}

QEMU_PLUGIN_EXPORT int qemu_plugin_install(qemu_plugin_id_t id,
					   const qemu_info_t *info, int argc,
					   char **argv)
{
	int i;

	(void)info;
	for (i = 0; i < argc; i++) {
		if (strncmp(argv[i], "profile=", 8) == 0)
			profile = (unsigned int)atoi(argv[i] + 8);
		else if (strncmp(argv[i], "out=", 4) == 0) {
			out = fopen(argv[i] + 4, "w");
			if (!out) {
				fprintf(stderr, "xsc-count: cannot write %s\n",
					argv[i] + 4);
				return -1;
			}
		}
	}
	if (!out) {
		fprintf(stderr, "xsc-count: needs out=FILE\n");
		return -1;
	}
	qemu_plugin_register_vcpu_tb_trans_cb(id, block_trans);
	return 0;
}
