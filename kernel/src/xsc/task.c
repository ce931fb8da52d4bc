// SPDX-License-Identifier: GPL-2.0
/*
 * XSC and the life of a task: a new thread's or process's ring state
 * (kernel/fork.c, copy_thread; ABI §7.1, §7.3, §7.5), the poller hidden
 * from /proc (ABI §5.1), and a thread's end (kernel/exit.c; ABI §7.4).
 */
#include <linux/mm.h>
#include <linux/pid.h>
#include <linux/pid_namespace.h>
#include <linux/sched.h>
#include <linux/sched/mm.h>
#include <linux/sched/signal.h>

#include "xsc.h"

/*
 * From copy_thread. Every child starts with its ring unclaimed (a process
 * child copies the thread in fork, which holds its own ring then); a
 * thread made by thread_call's clone gets its new region and a fresh ring.
 */
void xsc_copy_thread(struct task_struct *p)
{
	if (p->flags & PF_IO_WORKER) {
		/*
		 * An I/O thread (the poller, io_uring's io-wq and SQPOLL
		 * threads): a copy of its creator, no XSC thread itself, with
		 * no region (it must not unmap its creator's at its end).
		 */
		memset(&p->xsc, 0, sizeof(p->xsc));
		p->xsc.is_poller = current->xsc.making_poller;
		return;
	}
	atomic_set(&p->xsc.consumer, XSC_CONSUMER_NONE);
	if (!current->xsc.new_region) {
		p->xsc.new_region = 0;
		return;
	}
	p->xsc.region = current->xsc.new_region;
	p->xsc.new_region = 0;
	p->xsc.interrupted_pending = false;
	p->xsc.trapped_pending = false;
	memset(&p->xsc.ring, 0, sizeof(p->xsc.ring));
	xsc_arch_child_region(p, p->xsc.region);
}

/*
 * From copy_process, once the new task has its id: the id in its region
 * header (ABI §7.1), as the task itself sees it (in its own pid
 * namespace), before it runs. A process child's sq_flags, copied with the
 * parent's region, are cleared (ABI §7.5). The region is the program's
 * own writable memory: no FOLL_FORCE.
 */
void xsc_new_task(struct task_struct *p, struct pid *pid)
{
	pid_t tid = pid_nr_ns(pid, ns_of_pid(pid));
	u32 cleared = 0;

	/* A vfork child shares its parent's memory: none (see below). */
	if (!p->xsc.region || !p->mm ||
	    (p->mm == current->mm && p->xsc.region == current->xsc.region))
		return;
	access_remote_vm(p->mm, p->xsc.region +
			 offsetof(struct xsc_region_header, tid),
			 &tid, sizeof(tid), FOLL_WRITE);
	if (p->mm != current->mm && p->xsc.ring.sq_flags) {
		access_remote_vm(p->mm, p->xsc.region + XSC_OFF_SQ_FLAGS,
				 &cleared, sizeof(cleared), FOLL_WRITE);
		p->xsc.ring.sq_flags = 0;
	}
}

/*
 * The threads of p's process that /proc leaves out of its counts and its
 * task folder: the poller, as the ABI makes the consumer of an entry
 * invisible to the program (§5.1).
 */
int xsc_hidden_threads(struct task_struct *p)
{
	struct task_struct *t;
	int n = 0;

	if (!READ_ONCE(p->group_leader->xsc.region))
		return 0;
	rcu_read_lock();
	for_each_thread(p, t)
		n += xsc_hidden_task(t);
	rcu_read_unlock();
	return n;
}

/*
 * From do_exit, before the thread's clear-child-tid word is written (ABI
 * §7.4): the thread keeps its ring claimed from now on, so no poller
 * executes its entries any more (those pending are cancelled) or touches
 * its region, which is unmapped unless the whole process is ending (its
 * memory goes then anyway): a program that makes and joins threads does
 * not grow.
 */
void xsc_exit_thread(struct task_struct *tsk)
{
	if (!tsk->xsc.region || !tsk->mm)
		return;
	/* Already held if the thread ends in its own `wait` (exit_group). */
	if (atomic_read(&tsk->xsc.consumer) != XSC_CONSUMER_OWNER)
		xsc_claim_at_exit(&tsk->xsc);
	if (!(tsk->signal->flags & SIGNAL_GROUP_EXIT) &&
	    !tsk->signal->group_exec_task)
		vm_munmap(tsk->xsc.region, XSC_REGION_SIZE);
}

/* The I/O threads of tsk's process still counted live (the poller, io-wq). */
static int xsc_io_threads_live(struct task_struct *tsk)
{
	struct task_struct *t;
	int n = 0;

	rcu_read_lock();
	for_each_thread(tsk, t)
		n += (READ_ONCE(t->flags) & (PF_IO_WORKER | PF_EXITING)) ==
		     PF_IO_WORKER;
	rcu_read_unlock();
	return n;
}

/*
 * From do_exit, once the thread is no longer counted live: when only I/O
 * threads are left (the poller, and io_uring's workers if the program
 * used io_uring), the process ends as Linux ends it when its last thread
 * exits, so the poller leaves too, with that thread's code (the last
 * thread out gives the process its status).
 */
void xsc_exit_counted(struct task_struct *tsk, long code)
{
	struct xsc_mm *xmm;

	/* An io-wq worker's end counts too: it may be the last but the poller. */
	if (!tsk->mm || !tsk->mm->xsc.code || tsk->xsc.is_poller ||
	    atomic_read(&tsk->mm->xsc.poller_state) != XSC_POLLER_RUNNING ||
	    atomic_read(&tsk->signal->live) > xsc_io_threads_live(tsk))
		return;
	xmm = &tsk->mm->xsc;
	xmm->poller_exit_code = code;
	smp_wmb();	/* the code before the stop */
	WRITE_ONCE(xmm->poller_stop, true);
	xsc_poller_wake(xmm);
}

