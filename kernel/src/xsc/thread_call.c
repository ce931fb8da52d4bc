// SPDX-License-Identifier: GPL-2.0
/*
 * `thread_call` (ABI §5.3, §7): one operation in the calling thread, with
 * Linux's restart rules; the thread-context operations, a new thread's
 * region (ABI §7.3), a new process's copy of the caller's ring (ABI §7.5),
 * and a thread freeing its own stack then ending (ABI §5.6).
 */
#include <linux/mman.h>
#include <linux/prctl.h>
#include <linux/sched.h>
#include <linux/sched/task.h>
#include <linux/syscalls.h>
#include <linux/uaccess.h>
#include <asm/syscall.h>

#include "xsc.h"

/*
 * clone on a new stack (ABI §7.3, §7.5): the child returns from
 * thread_call to the caller's return address, on its new stack, with the
 * caller's callee-saved registers, as the child of Linux's clone resumes
 * after its system-call instruction. A new thread also gets a region of
 * its own; a new process keeps its copy of the caller's.
 */
static long xsc_clone(const struct xsc_sqe *sqe, bool thread)
{
	unsigned long ip, ret_addr, region = 0;
	long r;

	if (xsc_arch_clone_return(&ret_addr))
		return -EFAULT;
	if (thread) {
		region = xsc_new_region(0);
		if (IS_ERR_VALUE(region))
			return region;
		current->xsc.new_region = region;
	}
	/* The child's registers are a copy of these (copy_thread). */
	ip = xsc_arch_set_ip(ret_addr);
	r = xsc_run_op(sqe->opcode, sqe->args);
	xsc_arch_set_ip(ip);
	current->xsc.new_region = 0;
	if (r < 0 && region)
		vm_munmap(region, XSC_REGION_SIZE);
	return r;
}

/*
 * The operation of a thread_call, shown to tracers and judged already:
 * its result.
 */
static long xsc_thread_op(struct xsc_sqe *sqe)
{
	bool fork = false;
	long r;

	if (sqe->opcode >= NR_syscalls)
		return -ENOSYS;
	switch (sqe->opcode) {
	case __NR_clone:
		if (sqe->args[0] & CLONE_THREAD)
			return xsc_clone(sqe, true);
		/*
		 * A new process gets a copy of the memory even if it asks to
		 * share it (vfork, posix_spawn): a child sharing the parent's
		 * rings would consume the parent's entries with indices the
		 * kernel keeps per thread. As the reference kernel does.
		 */
		sqe->args[0] &= ~(u64)(CLONE_VM | CLONE_VFORK);
		/* A new process reports its end with SIGCHLD (ABI §7.5). */
		if ((sqe->args[0] & CSIGNAL) != SIGCHLD)
			return -EINVAL;
		fork = true;
		break;
	case __NR_vfork:
		sqe->opcode = __NR_fork;
		fork = true;
		break;
	case __NR_fork:
		fork = true;
		break;
	}
	if (!fork)
		return xsc_run_op(sqe->opcode, sqe->args);
	/*
	 * A new process copies this thread's ring state: held meanwhile, so
	 * that no poller changes it during the copy.
	 */
	if (!xsc_claim(&current->xsc))
		return -EINTR;	/* a fatal signal: the thread ends */
	if (sqe->args[1] && sqe->opcode == __NR_clone)
		r = xsc_clone(sqe, false);
	else
		r = xsc_run_op(sqe->opcode, sqe->args);
	xsc_release(&current->xsc);
	return r;
}

long xsc_thread_call(unsigned long region, unsigned long entry)
{
	struct xsc_sqe sqe;
	u64 args[6];
	u32 nr;
	long r;

	if (!xsc_own_region(region))
		return -EINVAL;
	if (copy_from_user(&sqe, (void __user *)entry, sizeof(sqe)))
		return -EFAULT;
	if (sqe.flags & ~XSC_SQE_F_THEN_EXIT)
		return -EINVAL;
	if (sqe.opcode >= NR_syscalls)
		return -ENOSYS;
	if (sqe.flags & XSC_SQE_F_THEN_EXIT) {
		/*
		 * A thread made by clone freeing its own stack, then ending
		 * (ABI §5.6): the munmap judged as any other, its result
		 * discarded.
		 */
		if (sqe.opcode != __NR_munmap || thread_group_leader(current))
			return -EINVAL;
		xsc_syscall(sqe.opcode, sqe.args, false);
		do_exit(0);
	}
	/*
	 * Shown to tracers and judged as the caller made it, before anything
	 * is made of it (a tracer may change it: checked again).
	 */
	if (!xsc_enter(&sqe.opcode, sqe.args, &r)) {
		r = xsc_exit(sqe.opcode, sqe.args, r);
		/*
		 * A seccomp TRAP: the SIGSYS handler sees the call's registers
		 * (its number is r, rolled back; the arguments as made), and
		 * the result register it leaves is what thread_call returns,
		 * as for a trapped system call (ABI §6.6).
		 */
		if (current->xsc.trap)
			xsc_arch_set_args(current_pt_regs(), sqe.args);
		return r;
	}
	/* As the tracer saw it (vfork is run as fork). */
	nr = sqe.opcode;
	memcpy(args, sqe.args, sizeof(args));
	r = xsc_thread_op(&sqe);
	/* A new program's registers say which call made it, as Linux's do. */
	if (r == 0 && (nr == __NR_execve || nr == __NR_execveat))
		xsc_arch_set_nr(current_pt_regs(), nr);
	/*
	 * New registers (a new program's, a signal frame's): no longer the
	 * transport call's, so the system-call exit path reports the end as
	 * Linux's does (kernel/entry/common.c).
	 */
	if (!xsc_is_transport(syscall_get_nr(current, current_pt_regs())))
		return r;
	return xsc_exit(nr, args, r);
}
