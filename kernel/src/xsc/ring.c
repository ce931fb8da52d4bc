// SPDX-License-Identifier: GPL-2.0
/*
 * The consumer's side of a thread's rings (ABI §2.3, §4): the claim that
 * keeps one consumer at a time, reading published entries, posting
 * completions, the region's flags and counts. The kernel keeps its own
 * indices (struct xsc_ring) and never trusts the shared ones.
 */
#include <linux/sched.h>
#include <linux/sched/signal.h>
#include <linux/uaccess.h>
#include <linux/wait_bit.h>

#include "xsc.h"

#define CREATE_TRACE_POINTS
#include <trace/events/xsc.h>

/*
 * The ring's consumer (ABI §5.1: one at a time per ring) is the thread
 * itself or the process's poller; whoever holds `consumer` reads and
 * writes `ring` and the region's indices, flags and completions.
 */
bool xsc_try_claim(struct xsc_thread *xt, int who)
{
	return atomic_cmpxchg_acquire(&xt->consumer, XSC_CONSUMER_NONE, who) ==
	       XSC_CONSUMER_NONE;
}

/*
 * The thread claims its own ring, sleeping while the poller holds it (for
 * a few entries, any of which may block: a fault on a userfaultfd page).
 * Killable: false, unclaimed, if a fatal signal came first.
 */
bool xsc_claim(struct xsc_thread *xt)
{
	return !wait_var_event_killable(&xt->consumer,
					xsc_try_claim(xt, XSC_CONSUMER_OWNER));
}

/* The same at the thread's end, where a fatal signal may be pending. */
void xsc_claim_at_exit(struct xsc_thread *xt)
{
	wait_var_event(&xt->consumer, xsc_try_claim(xt, XSC_CONSUMER_OWNER));
}

void xsc_release(struct xsc_thread *xt)
{
	/*
	 * Fully ordered (the xchg): the release is visible before
	 * wake_up_var() looks for a sleeping claimant, which pairs with the
	 * barrier in wait_var_event()'s prepare_to_wait_event().
	 */
	atomic_xchg(&xt->consumer, XSC_CONSUMER_NONE);
	wake_up_var(&xt->consumer);
}

/* Adds `n` to the region's count of dropped entries and completions. */
static void xsc_count_dropped(struct xsc_thread *xt, u32 n)
{
	u32 dropped;

	if (!get_user(dropped, XSC_IDX(xt, XSC_OFF_SQ_DROPPED)))
		put_user(dropped + n, XSC_IDX(xt, XSC_OFF_SQ_DROPPED));
}

/*
 * Sets and clears bits of the region's sq_flags, writing the word only on
 * a change. The kernel is its only writer (its consumers one at a time),
 * so its own copy is the truth; the full barrier after a change orders the
 * flag before the indices read next (SQ_NEED_WAKEUP, ABI §5.1).
 */
void xsc_set_flags(struct xsc_thread *xt, u32 set, u32 clear)
{
	u32 flags = (xt->ring.sq_flags | set) & ~clear;

	if (flags == xt->ring.sq_flags ||
	    put_user(flags, XSC_IDX(xt, XSC_OFF_SQ_FLAGS)))
		return;
	xt->ring.sq_flags = flags;
	smp_mb();	/* the flag before the indices read next */
}

/*
 * Is there a free completion slot? Reads the program's cq_head only when
 * the value seen last does not already prove there is room (the head only
 * moves forward).
 */
static bool xsc_cq_room(struct xsc_thread *xt)
{
	u32 head;

	if (xt->ring.cq_tail - xt->ring.cq_head_seen < XSC_DEFAULT_CQ_ENTRIES)
		return true;
	if (get_user(head, XSC_IDX(xt, XSC_OFF_CQ_HEAD)))
		return false;
	smp_mb();	/* acquire: the program's reads of the slots come first */
	xt->ring.cq_head_seen = head;
	return xt->ring.cq_tail - head < XSC_DEFAULT_CQ_ENTRIES;
}

/*
 * Posts a completion. Room was checked before the entry was taken; only a
 * signal handler that consumed entries of this ring meanwhile (against
 * ABI §4.7) can have filled it since: then the completion is dropped and
 * counted.
 */
bool xsc_post(struct xsc_thread *xt, const struct xsc_cqe *cqe)
{
	u32 tail = xt->ring.cq_tail;
	u32 __user *slot;

	if (!xsc_cq_room(xt)) {
		xsc_count_dropped(xt, 1);
		return false;
	}
	slot = (u32 __user *)(xt->region + XSC_CQES_OFFSET +
		(tail & (XSC_DEFAULT_CQ_ENTRIES - 1)) * sizeof(*cqe));
	if (copy_to_user(slot, cqe, sizeof(*cqe)))
		return false;
	xt->ring.cq_tail = ++tail;
	smp_wmb();	/* release: the completion before the tail */
	put_user(tail, XSC_IDX(xt, XSC_OFF_CQ_TAIL));
	trace_xsc_complete(xt->region, cqe->opcode, cqe->user_data,
			   cqe->result, cqe->flags, current->xsc.is_poller);
	return true;
}

/*
 * The next published entry, copied into *sqe and not yet taken: true, or
 * false when there is none or no room for its completion (SQ_CQ_FULL, ABI
 * §4.5). A corrupt tail drops what it claims (ABI §4.6).
 */
bool xsc_peek(struct xsc_thread *xt, struct xsc_sqe *sqe)
{
	unsigned long sqes = xt->region + XSC_SQES_OFFSET;
	int corrupt = 0;

	for (;;) {
		u32 head = xt->ring.sq_head, tail;
		struct xsc_cqe cqe = {
			.result = -EINVAL,
			.flags = XSC_CQE_F_RING_ERROR,
		};

		if (get_user(tail, XSC_IDX(xt, XSC_OFF_SQ_TAIL)))
			return false;
		smp_rmb();	/* acquire: the entries below the tail */
		if (head == tail) {
			xsc_set_flags(xt, 0, XSC_SQ_CQ_FULL);
			return false;
		}
		if (!xsc_cq_room(xt)) {
			xsc_set_flags(xt, XSC_SQ_CQ_FULL, 0);
			return false;
		}
		xsc_set_flags(xt, 0, XSC_SQ_CQ_FULL);
		if (tail - head <= XSC_DEFAULT_SQ_ENTRIES)
			return !copy_from_user(sqe, (void __user *)(sqes +
				(head & (XSC_DEFAULT_SQ_ENTRIES - 1)) *
				sizeof(*sqe)), sizeof(*sqe));
		xsc_count_dropped(xt, tail - head);
		xt->ring.sq_head = tail;
		smp_wmb();	/* release: the dropped slots are the producer's */
		put_user(tail, XSC_IDX(xt, XSC_OFF_SQ_HEAD));
		xsc_post(xt, &cqe);
		/*
		 * A producer that keeps corrupting the tail holds no CPU, and
		 * no consumer for long: the next `wait` goes on.
		 */
		if (fatal_signal_pending(current) || ++corrupt == 16)
			return false;
		cond_resched();
	}
}

/* Takes the entry xsc_peek copied: its slot is the producer's again. */
void xsc_take(struct xsc_thread *xt)
{
	xt->ring.sq_head++;
	smp_mb();	/* release: the entry's copy is read before the slot is freed */
	put_user(xt->ring.sq_head, XSC_IDX(xt, XSC_OFF_SQ_HEAD));
}
