/* SPDX-License-Identifier: GPL-2.0 */
/*
 * XSC's internal interfaces: what the files of xsc/ share with each other
 * and what each architecture provides (arch/<arch>/kernel/xsc.c). The
 * state types are in include/linux/xsc.h, the ABI in
 * include/uapi/linux/xsc.h.
 */
#ifndef _XSC_INTERNAL_H
#define _XSC_INTERNAL_H

#include <linux/mm.h>
#include <linux/xsc.h>
#include <uapi/linux/xsc.h>

/* The layout of every region this kernel makes (ABI §2.4's defaults). */
#define XSC_SQES_OFFSET XSC_REGION_HEADER_END
#define XSC_CQES_OFFSET \
	(XSC_SQES_OFFSET + XSC_DEFAULT_SQ_ENTRIES * sizeof(struct xsc_sqe))
#define XSC_REGION_SIZE \
	PAGE_ALIGN(XSC_CQES_OFFSET + XSC_DEFAULT_CQ_ENTRIES * sizeof(struct xsc_cqe))

/* A word of the thread's region header, as a user pointer. */
#define XSC_IDX(xt, field) ((u32 __user *)((xt)->region + (field)))

struct pt_regs;

/* opdef.c: what is known about each operation. */
bool xsc_is_thread_context(u32 nr);
bool xsc_poller_takes(const struct xsc_sqe *sqe);
long xsc_op_refuses(u32 nr, const u64 *args);
bool xsc_op_takes_mmap_lock(u32 nr);

/* exec.c */
unsigned long xsc_new_region(u32 tid);

/* ring.c: the ring's consumer side (ABI §2.3, §4). */
bool xsc_try_claim(struct xsc_thread *xt, int who);
bool xsc_claim(struct xsc_thread *xt);
void xsc_claim_at_exit(struct xsc_thread *xt);
void xsc_release(struct xsc_thread *xt);
void xsc_set_flags(struct xsc_thread *xt, u32 set, u32 clear);
bool xsc_post(struct xsc_thread *xt, const struct xsc_cqe *cqe);
bool xsc_peek(struct xsc_thread *xt, struct xsc_sqe *sqe);
void xsc_take(struct xsc_thread *xt);

/*
 * trace.c: an operation as tracers and seccomp see it, before it runs and
 * after.
 */
bool xsc_enter(u32 *nr, u64 *args, long *result);
long xsc_exit(u32 nr, const u64 *args, long result);

/* wait.c: executing entries as the calling thread; the transport calls. */
long xsc_run_op(u32 nr, const u64 *args);
long xsc_syscall(u32 nr, const u64 *args, bool on_ring);
long xsc_transport(long nr, unsigned long a0, unsigned long a1);
bool xsc_own_region(unsigned long region);
void xsc_interrupted_complete(void);

/* thread_call.c */
long xsc_thread_call(unsigned long region, unsigned long entry);

/* sqpoll.c: the poller (polled mode, ABI §5.1). */
void xsc_poller_kick(bool doorbell, unsigned int takeable);
void xsc_poller_wake(struct xsc_mm *xmm);

/*
 * What each architecture provides (arch/<arch>/kernel/xsc.c): the entry
 * page's code and the registers of a system call.
 */
extern const struct vm_special_mapping xsc_code_mapping;
/*
 * Maps the kernel's code into the exec'ing process (the entry page, and
 * what its time functions need) and fills the table's functions: the entry
 * page's address, with *start the start of the whole range, or -errno.
 */
unsigned long xsc_arch_map_code(struct xsc_entry_table *t, unsigned long *start);
/* The audit architecture of the XSC programs (seccomp_data.arch). */
u32 xsc_arch_audit(void);
/* Runs system call `nr` with `args` through the table, as current. */
long xsc_arch_dispatch(u32 nr, const u64 *args);
/* A system call's number and arguments in (and the arguments out of) regs. */
void xsc_arch_set_call(struct pt_regs *regs, u32 nr, const u64 *args);
/* The system call's number alone (what a tracer reads as the call made). */
void xsc_arch_set_nr(struct pt_regs *regs, u32 nr);
void xsc_arch_get_args(struct pt_regs *regs, u64 *args);
void xsc_arch_set_args(struct pt_regs *regs, const u64 *args);
/* The region register (ABI §3.5): of the calling thread, of a new one. */
void xsc_arch_start_region(unsigned long region);
void xsc_arch_child_region(struct task_struct *p, unsigned long region);
/* This arch's refusal of an operation's arguments, or 0 (xsc_op_refuses). */
long xsc_arch_op_refuses(u32 nr, const u64 *args);
/*
 * A clone returning to the caller's return address (ABI §7.3): the
 * address of `thread_call`'s caller, and the registers' ip set for the
 * child (returning the ip to restore).
 */
int xsc_arch_clone_return(unsigned long *ret_addr);
unsigned long xsc_arch_set_ip(unsigned long ip);

#endif /* _XSC_INTERNAL_H */
