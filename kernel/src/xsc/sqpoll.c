// SPDX-License-Identifier: GPL-2.0
/*
 * The poller (polled mode, ABI §5.1), as io_uring's SQPOLL thread: an I/O
 * thread of the process that consumes the entries that cannot block and do
 * not depend on the caller, on every thread's ring, and sleeps when idle
 * (SQ_NEED_WAKEUP) until a doorbell or a thread's `wait` wakes it.
 */
#include <linux/cred.h>
#include <linux/ktime.h>
#include <linux/sched.h>
#include <linux/sched/signal.h>
#include <linux/sched/task.h>
#include <linux/seccomp.h>
#include <linux/slab.h>
#include <linux/sysctl.h>

#include "xsc.h"

/*
 * Polled mode (ABI §5.1), opt-in: with kernel.xsc_poll_us (or the boot
 * parameter xsc_poll_us=) above 0, each XSC process gets one poller at its
 * first `wait`, an io_uring-style I/O thread in the process (it shares its
 * memory, files and filesystem context, as io_uring's SQPOLL thread does).
 * The poller goes over the rings of every thread of the process and
 * consumes the entries it may take, with the submitting thread's
 * credentials; it polls for xsc_poll_us after its last work, and sleeps
 * earlier when another task wants its CPU. Asleep, it is woken by the
 * doorbell, and by a thread's `wait` (not within a tick of a sleep forced
 * by a busy CPU).
 */
static unsigned int xsc_poll_us;

static struct ctl_table xsc_sysctls[] = {
	{
		.procname = "xsc_poll_us",
		.data = &xsc_poll_us,
		.maxlen = sizeof(xsc_poll_us),
		.mode = 0644,
		.proc_handler = proc_douintvec,
	},
	{ }
};

static int __init xsc_poll_us_setup(char *arg)
{
	return !kstrtouint(arg, 0, &xsc_poll_us);
}
__setup("xsc_poll_us=", xsc_poll_us_setup);

static int __init xsc_sysctl_init(void)
{
	register_sysctl("kernel", xsc_sysctls);
	return 0;
}
late_initcall(xsc_sysctl_init);

/* Entries one pass of the poller takes from a ring, at most. */
#define XSC_POLL_BATCH 64

/*
 * May the poller execute entries for thread t at all? Only while every
 * per-thread attribute an entry could see is the same as the poller's
 * (its files, filesystem context, namespaces, personality, and what
 * places and charges the memory it allocates: memory policy, cpuset
 * nodes, cgroups), no seccomp
 * filter must judge the entries, no tracer watches, and no entry a signal
 * interrupted waits for its restart (ring order): otherwise the thread's
 * own `wait` consumes them. Called holding t's ring, for each entry after
 * it was read (the acquire of the tail orders a filter the thread installed
 * before publishing it before this check).
 */
static bool xsc_poller_serves(struct task_struct *t)
{
#ifdef CONFIG_SECCOMP
	if (READ_ONCE(t->seccomp.mode) != SECCOMP_MODE_DISABLED)
		return false;
#endif
	/*
	 * A thread whose calls are traced (ptrace's syscall stops, the
	 * raw_syscalls tracepoints) runs its entries itself, where the
	 * tracers see them as its calls (xsc/trace.c).
	 */
	if (test_task_syscall_work(t, SYSCALL_TRACE) ||
	    test_task_syscall_work(t, SYSCALL_TRACEPOINT))
		return false;
#ifdef CONFIG_NUMA
	/* Per task: equal only when both have the default (none). */
	if (READ_ONCE(t->mempolicy) != current->mempolicy)
		return false;
#endif
#ifdef CONFIG_CPUSETS
	if (!nodes_equal(t->mems_allowed, current->mems_allowed))
		return false;
#endif
#ifdef CONFIG_CGROUPS
	if (rcu_access_pointer(t->cgroups) != rcu_access_pointer(current->cgroups))
		return false;
#endif
	return !(READ_ONCE(t->flags) & (PF_EXITING | PF_IO_WORKER)) &&
	       !t->xsc.interrupted_pending && !t->ptrace &&
	       READ_ONCE(t->files) == current->files &&
	       READ_ONCE(t->fs) == current->fs &&
	       READ_ONCE(t->nsproxy) == current->nsproxy &&
	       READ_ONCE(t->personality) == current->personality;
}

/* Executes an entry the poller took, with the submitter's credentials. */
static long xsc_poller_execute(struct task_struct *t, const struct xsc_sqe *sqe)
{
	const struct cred *cred, *old;
	long r;

	/* Threads share one credentials object until one of them changes. */
	if (rcu_access_pointer(t->real_cred) == current_cred())
		return xsc_run_op(sqe->opcode, sqe->args);
	cred = get_task_cred(t);
	old = override_creds(cred);
	r = xsc_run_op(sqe->opcode, sqe->args);
	revert_creds(old);
	put_cred(cred);
	return r;
}

/*
 * One pass over thread t's ring, if it is free: polling, consumes what
 * the poller may take (SQ_POLLED set while it can go on; cleared at an
 * entry left to the thread, so that the thread does not spin for it);
 * going to sleep, sets SQ_NEED_WAKEUP and tells whether an entry it
 * would take is pending. Returns the number of entries consumed, or 1 for
 * such an entry found going to sleep.
 */
static unsigned int xsc_poll_ring(struct task_struct *t, bool sleeping)
{
	struct xsc_thread *xt = &t->xsc;
	struct xsc_sqe sqe;
	unsigned int done = 0;

	if (!xsc_try_claim(xt, XSC_CONSUMER_POLLER))
		return 0;
	if (!xsc_poller_serves(t)) {
		xsc_set_flags(xt, 0, XSC_SQ_POLLED | XSC_SQ_NEED_WAKEUP);
	} else if (sleeping) {
		/*
		 * ABI §5.1: the flag, a full barrier, the tail once more. Only
		 * an entry the poller would take keeps it awake: one left to
		 * the thread waits for the thread's `wait`.
		 */
		xsc_set_flags(xt, XSC_SQ_NEED_WAKEUP, XSC_SQ_POLLED);
		smp_mb();	/* the flag before the tail, read once more */
		done = xsc_peek(xt, &sqe) && xsc_poller_takes(&sqe);
	} else {
		bool left = false;

		while (done < XSC_POLL_BATCH && xsc_peek(xt, &sqe)) {
			struct xsc_cqe cqe = {
				.user_data = sqe.user_data,
				.opcode = sqe.opcode,
			};

			/*
			 * An operation that takes the mmap lock is left to
			 * the thread while the lock is held, so that the
			 * poller does not wait behind its holder (a fault on
			 * a slow file, say) with other threads' entries.
			 */
			if (!xsc_poller_takes(&sqe) || !xsc_poller_serves(t) ||
			    (xsc_op_takes_mmap_lock(sqe.opcode) &&
			     rwsem_is_locked(&current->mm->mmap_lock))) {
				left = true;
				break;
			}
			/* Polling this ring, before the entry completes. */
			xsc_set_flags(xt, XSC_SQ_POLLED, XSC_SQ_NEED_WAKEUP);
			xsc_take(xt);
			cqe.result = xsc_poller_execute(t, &sqe);
			xsc_post(xt, &cqe);
			done++;
		}
		if (left)
			xsc_set_flags(xt, 0, XSC_SQ_POLLED | XSC_SQ_NEED_WAKEUP);
		else
			xsc_set_flags(xt, XSC_SQ_POLLED, XSC_SQ_NEED_WAKEUP);
	}
	xsc_release(xt);
	return done;
}

/* The threads of the process whose rings one pass visits. */
struct xsc_poll_set {
	struct task_struct **t;
	unsigned int n, cap;
};

/* One pass over every XSC thread's ring of the process (see xsc_poll_ring). */
static unsigned int xsc_poll_pass(struct xsc_poll_set *set, bool sleeping)
{
	unsigned int want = READ_ONCE(current->signal->nr_threads), i, done = 0;
	struct task_struct *t;

	if (want > set->cap) {
		struct task_struct **more = krealloc(set->t, want * sizeof(*more),
						     GFP_KERNEL);
		if (more) {
			set->t = more;
			set->cap = want;
		}
	}
	set->n = 0;
	rcu_read_lock();
	for_each_thread(current, t) {
		if (set->n == set->cap)
			break;
		if (t->xsc.region && !(t->flags & PF_IO_WORKER)) {
			get_task_struct(t);
			set->t[set->n++] = t;
		}
	}
	rcu_read_unlock();
	for (i = 0; i < set->n; i++) {
		done += xsc_poll_ring(set->t[i], sleeping);
		put_task_struct(set->t[i]);
	}
	return done;
}

static void xsc_poller_sleep(struct xsc_mm *xmm, struct xsc_poll_set *set)
{
	unsigned int pending;

	WRITE_ONCE(xmm->poller_asleep, true);
	smp_mb();	/* asleep before the flags the submitters look at */
	pending = xsc_poll_pass(set, true);
	for (;;) {
		set_current_state(TASK_INTERRUPTIBLE);
		if (pending || !READ_ONCE(xmm->poller_asleep) ||
		    signal_pending(current) || READ_ONCE(xmm->poller_stop))
			break;
		schedule();
	}
	__set_current_state(TASK_RUNNING);
	WRITE_ONCE(xmm->poller_asleep, false);
}

static int xsc_poller(void *unused)
{
	struct xsc_mm *xmm = &current->mm->xsc;
	struct xsc_poll_set set = { };
	u64 last = ktime_get_ns();

	set_task_comm(current, "xsc-poller");
	while (!READ_ONCE(xmm->poller_stop)) {
		u64 idle = (u64)READ_ONCE(xsc_poll_us) * NSEC_PER_USEC;

		if (signal_pending(current)) {
			struct ksignal ksig;

			if (!get_signal(&ksig))
				continue;
			break;
		}
		if (xsc_poll_pass(&set, false))
			last = ktime_get_ns();
		if (need_resched()) {
			/*
			 * Another task wants this CPU: sleep (SQ_POLLED
			 * cleared) rather than be preempted with the flag
			 * set, and let no `wait` wake the poller for a tick.
			 */
			WRITE_ONCE(xmm->poller_backoff, jiffies + 1);
		} else if (ktime_get_ns() - last < idle) {
			cpu_relax();
			continue;
		}
		xsc_poller_sleep(xmm, &set);
		last = ktime_get_ns();
	}
	kfree(set.t);
	RCU_INIT_POINTER(xmm->poller, NULL);
	smp_rmb();	/* pairs with xsc_exit_counted's: the code after the stop */
	do_exit(READ_ONCE(xmm->poller_stop) ? xmm->poller_exit_code : 0);
}

/*
 * At a thread's `wait`: starts the process's poller; wakes it when the
 * thread rang the doorbell, or consumed entries the poller would have
 * taken (not within a tick of a sleep forced by a busy CPU).
 */
void xsc_poller_kick(bool doorbell, unsigned int takeable)
{
	struct xsc_mm *xmm = &current->mm->xsc;
	struct task_struct *t;

	if (!READ_ONCE(xsc_poll_us))
		return;
	if (atomic_read(&xmm->poller_state) == XSC_POLLER_NONE &&
	    atomic_cmpxchg(&xmm->poller_state, XSC_POLLER_NONE,
			   XSC_POLLER_STARTING) == XSC_POLLER_NONE) {
		current->xsc.making_poller = true;
		t = create_io_thread(xsc_poller, NULL, NUMA_NO_NODE);
		current->xsc.making_poller = false;
		if (IS_ERR(t)) {
			/* A pending signal: the next `wait` tries again. */
			atomic_set(&xmm->poller_state,
				   PTR_ERR(t) == -ERESTARTNOINTR || PTR_ERR(t) == -EINTR ?
				   XSC_POLLER_NONE : XSC_POLLER_FAILED);
			return;
		}
		rcu_assign_pointer(xmm->poller, t);
		atomic_set(&xmm->poller_state, XSC_POLLER_RUNNING);
		wake_up_new_task(t);
		return;
	}
	if (!READ_ONCE(xmm->poller_asleep) ||
	    (!doorbell && (!takeable ||
			   time_before(jiffies, READ_ONCE(xmm->poller_backoff)))))
		return;
	WRITE_ONCE(xmm->poller_asleep, false);
	xsc_poller_wake(xmm);
}

/* Wakes the process's poller, if it has one. */
void xsc_poller_wake(struct xsc_mm *xmm)
{
	struct task_struct *t;

	rcu_read_lock();
	t = rcu_dereference(xmm->poller);
	if (t)
		wake_up_process(t);
	rcu_read_unlock();
}

