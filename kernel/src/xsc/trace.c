// SPDX-License-Identifier: GPL-2.0
/*
 * What Linux's tracers and seccomp see of an operation (ABI §6.6, §6.7): each entry
 * a thread consumes, and each thread_call, is shown as the system call it
 * names, as the system-call entry and exit paths show a call
 * (kernel/entry/common.c), in their order: the tracer's syscall-entry stop
 * (PTRACE_SYSCALL; PTRACE_GET_SYSCALL_INFO reports the operation), seccomp,
 * the raw_syscalls:sys_enter tracepoint; after it, sys_exit and the
 * tracer's syscall-exit stop. While they look, the thread's registers are
 * those of that call, so a tracer may change the number, the arguments
 * (or skip it, number -1) and the result, and seccomp's recheck judges
 * the operation; the transport call's registers are put back after. The
 * transport calls themselves are shown to none of them (the entry hook in
 * kernel/entry/common.c).
 */
#include <linux/entry-common.h>
#include <linux/ptrace.h>
#include <linux/sched.h>
#include <linux/sched/signal.h>
#include <linux/seccomp.h>
#include <asm/syscall.h>
#include <trace/events/syscalls.h>

#include "xsc.h"

#define XSC_TRACE_ENTER (SYSCALL_WORK_SYSCALL_TRACE | SYSCALL_WORK_SECCOMP | \
			 SYSCALL_WORK_SYSCALL_TRACEPOINT)
#define XSC_TRACE_EXIT (SYSCALL_WORK_SYSCALL_TRACE | \
			SYSCALL_WORK_SYSCALL_TRACEPOINT)

/*
 * Before operation *nr runs as the calling thread: false, with its result
 * in *result, if it is not to run (the tracer skipped it, seccomp refused
 * it, the thread is being killed). *nr and args are what it is to run as.
 */
bool xsc_enter(u32 *nr, u64 *args, long *result)
{
	unsigned long work = READ_ONCE(current_thread_info()->syscall_work);
	struct pt_regs *regs = current_pt_regs();
	struct pt_regs transport;
	bool run = true;
	long n;

	current->xsc.trap = false;
	if (likely(!(work & XSC_TRACE_ENTER)))
		return true;
	transport = *regs;
	xsc_arch_set_call(regs, *nr, args);
	if (work & SYSCALL_WORK_SYSCALL_TRACE) {
		if (ptrace_report_syscall_entry(regs)) {
			*result = -EINTR;	/* a fatal signal: never seen */
			run = false;
			goto out;
		}
		n = syscall_get_nr(current, regs);
		if (n == -1) {
			/* Skipped by the tracer: its result, as for a call. */
			*result = syscall_get_return_value(current, regs);
			run = false;
			goto out;
		}
		*nr = n;
		xsc_arch_get_args(regs, args);
		work = READ_ONCE(current_thread_info()->syscall_work);
	}
#ifdef CONFIG_SECCOMP
	if (work & SYSCALL_WORK_SECCOMP) {
		struct seccomp_data sd = {
			.nr = *nr,
			.arch = xsc_arch_audit(),
			.instruction_pointer = instruction_pointer(&transport),
		};
		int i;

		for (i = 0; i < 6; i++)
			sd.args[i] = args[i];
		if (__secure_computing(&sd) == -1) {
			/* The filter's (or tracer's) answer, where a call's would be. */
			*result = syscall_get_return_value(current, regs);
			/*
			 * A TRAP: the registers rolled back to the call (its
			 * number in the result register), SIGSYS queued.
			 */
			current->xsc.trap = *result == *nr &&
				syscall_get_nr(current, regs) == *nr &&
				sigismember(&current->pending.signal, SIGSYS);
			run = false;
			goto out;
		}
		*nr = syscall_get_nr(current, regs);
		xsc_arch_get_args(regs, args);
	}
#endif
	if (unlikely(work & SYSCALL_WORK_SYSCALL_TRACEPOINT)) {
		trace_sys_enter(regs, *nr);
		/* A probe may have changed the call, as in syscall_trace_enter. */
		*nr = syscall_get_nr(current, regs);
		xsc_arch_get_args(regs, args);
	}
out:
	*regs = transport;
	return run;
}

/*
 * After operation nr(args) ran (or was refused) with `result`: the result
 * the thread is to see (a tracer may change it).
 */
long xsc_exit(u32 nr, const u64 *args, long result)
{
	unsigned long work = READ_ONCE(current_thread_info()->syscall_work);
	struct pt_regs *regs = current_pt_regs();
	struct pt_regs transport;

	if (likely(!(work & XSC_TRACE_EXIT)))
		return result;
	transport = *regs;
	xsc_arch_set_call(regs, nr, args);
	syscall_set_return_value(current, regs, 0, result);
	if (work & SYSCALL_WORK_SYSCALL_TRACEPOINT)
		trace_sys_exit(regs, result);
	if (work & SYSCALL_WORK_SYSCALL_TRACE)
		ptrace_report_syscall_exit(regs, 0);
	result = syscall_get_return_value(current, regs);
	*regs = transport;
	return result;
}
