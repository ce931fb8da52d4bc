/* SPDX-License-Identifier: GPL-2.0 */
/*
 * XSC's state in the task and the mm (struct xsc_thread in task_struct,
 * struct xsc_mm in mm_struct): the types only, for sched.h and
 * mm_types.h. The hooks into Linux are in <linux/xsc.h>, the ABI in
 * <uapi/linux/xsc.h>.
 */
#ifndef _LINUX_XSC_TYPES_H
#define _LINUX_XSC_TYPES_H

#include <linux/types.h>
#include <uapi/linux/xsc.h>

struct task_struct;

/*
 * A ring's kernel-side state: the kernel's own copies of what the program
 * could overwrite in its shared region (ABI §2.3). Read and written only
 * by the ring's consumer of the moment, the thread itself or a poller
 * (struct xsc_thread's `consumer`).
 */
struct xsc_ring {
	u32 sq_head;			/* the next entry to consume */
	u32 cq_tail;			/* the next completion slot */
	u32 cq_head_seen;		/* the program's cq_head, last read */
	u32 sq_flags;			/* what the kernel wrote in sq_flags */
};

/* Who consumes a ring now (struct xsc_thread's `consumer`). */
enum {
	XSC_CONSUMER_NONE,
	XSC_CONSUMER_OWNER,		/* the thread, in wait or fork */
	XSC_CONSUMER_POLLER,		/* the process's poller */
};

/* Per thread, in task_struct. */
struct xsc_thread {
	unsigned long region;		/* 0: not an XSC thread */
	/* Shared with the poller: the claim, and what it protects. */
	atomic_t consumer;
	struct xsc_ring ring;
	/*
	 * A ring entry a signal interrupted (its call asked for a restart):
	 * executed again if Linux restarts the call, completed with -EINTR
	 * if it does not, dropped if the handler never returns (ABI §5.1).
	 * While it is pending no poller takes the entries after it.
	 */
	bool interrupted_pending;
	struct xsc_sqe interrupted;
	/*
	 * A ring entry a seccomp TRAP stopped (ABI §6.6): its SIGSYS handler
	 * sees the call's registers in its frame (trapped_frame, once set
	 * up), and the result register it leaves completes the entry when it
	 * returns; dropped if it never returns, as an interrupted entry is.
	 * trap is set by xsc_enter for the operation it just refused so.
	 */
	bool trapped_pending;
	bool trap;
	unsigned long trapped_frame;
	struct xsc_sqe trapped;
	/* The thread's own. */
	unsigned long new_region;	/* the region of a thread being cloned */
	bool is_poller;			/* the process's poller (not XSC itself) */
	bool making_poller;		/* in create_io_thread for the poller */
};

/* Per process, in mm_struct. */
struct xsc_mm {
	unsigned long code;		/* the entry page: 0, not an XSC process */
	unsigned long code_start;	/* its start: the vDSO's, or code */
	unsigned long table;		/* the entry table */
	/* The poller (polled mode, ABI §5.1): one per process, at most. */
	atomic_t poller_state;		/* XSC_POLLER_* */
	struct task_struct __rcu *poller;
	bool poller_asleep;		/* waits for the doorbell */
	unsigned long poller_backoff;	/* jiffies: no wake-up by wait before */
	bool poller_stop;		/* the last program thread has ended */
	long poller_exit_code;		/* ... with this code */
};

enum {
	XSC_POLLER_NONE,
	XSC_POLLER_STARTING,
	XSC_POLLER_RUNNING,
	XSC_POLLER_FAILED,		/* could not be made: inline only */
};

#endif /* _LINUX_XSC_TYPES_H */
