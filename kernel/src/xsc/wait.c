// SPDX-License-Identifier: GPL-2.0
/*
 * `wait` and `doorbell` (ABI §5.4, §5.5): the calling thread consumes its
 * own published entries in its own context, as io_uring_enter does. Each
 * entry is judged by the thread's seccomp filters as the system call it
 * names (ABI §6), executed through the system-call table, and its
 * completion posted before the next is read; an entry a signal interrupts
 * keeps its place for the restart (ABI §5.1, §7.7).
 */
#include <linux/sched.h>
#include <linux/sched/signal.h>
#include <linux/syscalls.h>
#include <linux/uaccess.h>
#include <asm/syscall.h>

#include "xsc.h"

/*
 * The calling thread's XSC transport calls, which tracers do not see and
 * seccomp does not judge (kernel/entry/common.c): the entries they carry
 * are, one by one (xsc_enter). Only from the entry page's stubs, the one place the trap
 * guard lets a system call come from (xsc_guard_admits).
 */
bool xsc_is_transport(long nr)
{
	return current->xsc.region &&
	       (unsigned long)nr - XSC_NR_BASE < XSC_NR_COUNT;
}

/*
 * Runs operation `nr` with `args`, judged already: the kernel's own
 * refusals (xsc_op_refuses) first, then the system call.
 */
long xsc_run_op(u32 nr, const u64 *args)
{
	long r = xsc_op_refuses(nr, args);

	return r ? r : xsc_arch_dispatch(nr, args);
}

/*
 * Makes operation `nr` with `args` as the calling thread, shown to tracers
 * and judged first (xsc_enter); a tracer's change of it is checked as the
 * entry was (ABI §6.4).
 */
long xsc_syscall(u32 nr, const u64 *args, bool on_ring)
{
	u64 a[6];
	long r;

	memcpy(a, args, sizeof(a));
	if (!xsc_enter(&nr, a, &r))
		return xsc_exit(nr, a, r);
	if (nr >= NR_syscalls)
		r = -ENOSYS;
	else if (on_ring && xsc_is_thread_context(nr))
		r = -EINVAL;
	else
		r = xsc_run_op(nr, a);
	return xsc_exit(nr, a, r);
}

/* Does the result ask for a restart (a signal interrupted the call)? */
static bool xsc_wants_restart(long r)
{
	return r == -ERESTARTSYS || r == -ERESTARTNOINTR ||
	       r == -ERESTARTNOHAND || r == -ERESTART_RESTARTBLOCK;
}

/*
 * Executes entry `sqe` as the calling thread, which holds its ring: 0 when
 * its completion is posted, or the restart code its call returned, with
 * the entry kept for the restart (xsc_signal_restart decides what becomes
 * of it).
 */
static long xsc_execute(const struct xsc_sqe *sqe)
{
	struct xsc_cqe cqe = {
		.user_data = sqe->user_data,
		.opcode = sqe->opcode,
	};

	if (sqe->flags) {
		cqe.result = -EINVAL;
		cqe.flags = XSC_CQE_F_MALFORMED;
	} else if (sqe->opcode >= NR_syscalls) {
		cqe.result = -ENOSYS;
		cqe.flags = XSC_CQE_F_UNKNOWN_OP;
	} else if (xsc_is_thread_context(sqe->opcode)) {
		cqe.result = -EINVAL;
		cqe.flags = XSC_CQE_F_WRONG_CONTEXT;
	} else {
		cqe.result = xsc_syscall(sqe->opcode, sqe->args, true);
		if (current->xsc.trap) {
			/*
			 * A seccomp TRAP: completed when its SIGSYS handler
			 * returns, with the result it leaves (xsc_sigreturn).
			 * The signal pending ends this pass.
			 */
			current->xsc.trapped = *sqe;
			current->xsc.trapped_frame = 0;
			current->xsc.trapped_pending = true;
			return 0;
		}
		if (xsc_wants_restart(cqe.result)) {
			current->xsc.interrupted = *sqe;
			current->xsc.interrupted_pending = true;
			/*
			 * Restarted with its own arguments, from the start: a
			 * restart block (nanosleep's remaining time) belongs to
			 * a system call of its own.
			 */
			return cqe.result == -ERESTART_RESTARTBLOCK ?
			       -ERESTARTNOHAND : cqe.result;
		}
	}
	xsc_post(&current->xsc, &cqe);
	return 0;
}

/*
 * Consumes the calling thread's published entries, in order (ABI §5.4), at
 * most a ring's worth (XSC_DEFAULT_SQ_ENTRIES: more can only come from a
 * producer that publishes while this consumes): 0, or the restart code of
 * an entry a signal interrupted. Counts in *takeable those a poller could
 * have taken, and in *more whether it stopped at the bound.
 */
static long xsc_consume(unsigned int *takeable, bool *more)
{
	struct xsc_thread *xt = &current->xsc;
	unsigned int n = 0;
	struct xsc_sqe sqe;
	long r;

	*more = false;
	while (xsc_peek(xt, &sqe)) {
		/* A thread being killed (a seccomp KILL, say) runs nothing more. */
		if (fatal_signal_pending(current))
			return 0;
		xsc_take(xt);
		*takeable += xsc_poller_takes(&sqe);
		r = xsc_execute(&sqe);
		if (r)
			return r;
		if (signal_pending(current))
			return 0;
		if (++n == XSC_DEFAULT_SQ_ENTRIES) {
			*more = true;
			return 0;
		}
		cond_resched();
	}
	return 0;
}

bool xsc_own_region(unsigned long region)
{
	return current->xsc.region && region == current->xsc.region;
}

/*
 * Completes an entry of the calling thread's that its `wait` held back
 * (interrupted, or trapped) with `result`, outside `wait`: under the ring
 * claim. False if the thread is being killed: it ends, its entries with
 * it (§7.4).
 */
static bool xsc_complete_held(const struct xsc_sqe *sqe, s64 result)
{
	struct xsc_cqe cqe = {
		.user_data = sqe->user_data,
		.result = result,
		.opcode = sqe->opcode,
	};

	if (!xsc_claim(&current->xsc))
		return false;
	xsc_post(&current->xsc, &cqe);
	xsc_release(&current->xsc);
	return true;
}

/*
 * The signal code decided not to restart an interrupted ring entry: it
 * completes with -EINTR now, before the handler runs, as the system call
 * would have (the arch's xsc_signal_restart calls this).
 */
void xsc_interrupted_complete(void)
{
	current->xsc.interrupted_pending = false;
	xsc_complete_held(&current->xsc.interrupted, -EINTR);
}

/*
 * rt_sigreturn from the SIGSYS handler whose frame showed a trapped entry
 * (the arch's xsc_signal_frame): the entry completes with the result
 * register the handler left, as a trapped system call returns it (ABI
 * §6.6), and the `wait` the signal interrupted returns 0.
 */
void xsc_sigreturn(struct pt_regs *regs, unsigned long frame)
{
	struct xsc_thread *xt = &current->xsc;

	if (!xt->trapped_pending || xt->trapped_frame != frame)
		return;
	xt->trapped_pending = false;
	xt->trapped_frame = 0;
	if (xsc_complete_held(&xt->trapped, regs_return_value(regs)))
		regs_set_return_value(regs, 0);
}

/* What `wait` does holding the thread's ring: 0, or a restart code. */
static long xsc_wait_consume(bool restart, unsigned int *takeable, bool *more)
{
	/*
	 * A trapped entry whose handler has not returned, at a new `wait`:
	 * the handler left by longjmp, the call is abandoned (ABI §5.1).
	 */
	current->xsc.trapped_pending = false;
	if (current->xsc.interrupted_pending) {
		/*
		 * Restarted: the interrupted entry first. A plain `wait`
		 * instead means the handler left by longjmp: the call is
		 * abandoned, its completion never posted (ABI §5.1).
		 */
		current->xsc.interrupted_pending = false;
		if (restart) {
			struct xsc_sqe sqe = current->xsc.interrupted;
			long r = xsc_execute(&sqe);

			if (r)
				return r;
			/* A signal it raised first (a seccomp KILL or TRAP). */
			if (signal_pending(current))
				return 0;
		}
	}
	return xsc_consume(takeable, more);
}

static long xsc_wait(unsigned long region, unsigned int min_complete,
		     bool restart)
{
	unsigned int takeable = 0;
	bool more;
	u32 head, tail;
	long r;

	if (!xsc_own_region(region))
		return -EINVAL;
consume:
	if (!xsc_claim(&current->xsc))
		return -EINTR;	/* a fatal signal: the thread ends */
	r = xsc_wait_consume(restart, &takeable, &more);
	restart = false;
	xsc_release(&current->xsc);
	/*
	 * A poller that went to sleep while this thread held its ring could
	 * not set the ring's flags: the thread does. Either the poller's
	 * claim saw the release, or this sees it asleep (full barriers on
	 * both sides).
	 */
	smp_mb();
	if (READ_ONCE(current->mm->xsc.poller_asleep) &&
	    xsc_try_claim(&current->xsc, XSC_CONSUMER_OWNER)) {
		xsc_set_flags(&current->xsc, XSC_SQ_NEED_WAKEUP, XSC_SQ_POLLED);
		xsc_release(&current->xsc);
	}
	xsc_poller_kick(false, takeable);
	takeable = 0;
	if (r)
		return r;
	if (!min_complete && !more)
		return 0;
	for (;;) {
		if (get_user(head, XSC_IDX(&current->xsc, XSC_OFF_CQ_HEAD)) ||
		    get_user(tail, XSC_IDX(&current->xsc, XSC_OFF_CQ_TAIL)))
			return -EFAULT;
		if (tail - head >= min_complete)
			return 0;
		if (more) {
			/* Stopped at the bound: others run, then more. */
			if (fatal_signal_pending(current))
				return -EINTR;
			cond_resched();
			goto consume;
		}
		/*
		 * Everything published has been consumed and nothing else
		 * posts to this ring: sleep until a signal (ABI §5.4).
		 */
		set_current_state(TASK_INTERRUPTIBLE);
		if (signal_pending(current)) {
			__set_current_state(TASK_RUNNING);
			return -EINTR;
		}
		schedule();
	}
}

/* Wakes the process's sleeping poller (ABI §5.5). */
static long xsc_doorbell(unsigned long region)
{
	if (!xsc_own_region(region))
		return -EINVAL;
	xsc_poller_kick(true, 0);
	return 0;
}

/*
 * The transport calls (XSC_NR_*, outside the system-call table): the
 * arch's xsc_transport_call passes the first two argument registers.
 */
long xsc_transport(long nr, unsigned long a0, unsigned long a1)
{
	switch (nr) {
	case XSC_NR_WAIT:
		return xsc_wait(a0, a1, false);
	case XSC_NR_WAIT_RESTART:
		/* `wait` again after a signal interrupted one of its entries. */
		return xsc_wait(a0, a1, true);
	case XSC_NR_THREAD_CALL:
		return xsc_thread_call(a0, a1);
	case XSC_NR_DOORBELL:
		return xsc_doorbell(a0);
	}
	return -ENOSYS;
}
