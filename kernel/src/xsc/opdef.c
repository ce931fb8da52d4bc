// SPDX-License-Identifier: GPL-2.0
/*
 * What the kernel knows about each operation (as io_uring/opdef.c), the
 * rules of docs/ABI.md §6.4: the operations are Linux's system-call
 * numbers below NR_syscalls (the transport calls, XSC_NR_*, are outside
 * them and never operations); those that act on the calling thread itself
 * are made only through thread_call, never on the ring; a poller takes
 * only those that cannot block and do not depend on the caller; and the
 * kernel refuses what would undo the process's XSC state. Pinned against
 * the toolchain's xsc-abi crate by its tests
 * (xsc-abi/tests/kernel_header.rs).
 */
#include <linux/bitmap.h>
#include <linux/cache.h>
#include <linux/fcntl.h>
#include <linux/init.h>
#include <linux/kernel.h>
#include <linux/mm.h>
#include <linux/mman.h>
#include <linux/prctl.h>
#include <linux/sched.h>
#include <linux/time.h>
#include <asm/unistd.h>

#include "xsc.h"

/*
 * The operations that act on the calling thread itself (ABI §6.2): only
 * through thread_call; on the ring they complete with
 * XSC_CQE_F_WRONG_CONTEXT. Pinned against xsc-abi's list by its tests.
 */
static const u32 xsc_thread_context[] = {
	__NR_rt_sigprocmask, __NR_rt_sigreturn, __NR_sched_yield, __NR_clone,
	__NR_fork, __NR_vfork, __NR_execve, __NR_exit, __NR_setuid,
	__NR_setgid, __NR_setreuid, __NR_setregid, __NR_setgroups,
	__NR_setresuid, __NR_setresgid, __NR_setfsuid, __NR_setfsgid,
	__NR_capset, __NR_rt_sigpending, __NR_rt_sigtimedwait,
	__NR_rt_sigsuspend, __NR_sigaltstack, __NR_personality, __NR_prctl,
	__NR_arch_prctl, __NR_gettid, __NR_sched_setaffinity,
	__NR_sched_getaffinity, __NR_set_tid_address, __NR_pselect6,
	__NR_ppoll, __NR_unshare, __NR_set_robust_list, __NR_get_robust_list,
	__NR_epoll_pwait, __NR_getcpu, __NR_seccomp, __NR_execveat, __NR_rseq,
	__NR_clone3, __NR_epoll_pwait2,
};

/*
 * The list above as a bitmap over the system-call numbers, filled once at
 * boot: every entry asks, so the answer is one bit test rather than a walk
 * of the list (which was about a fifth of an entry's kernel instructions).
 */
static DECLARE_BITMAP(xsc_thread_context_map, NR_syscalls) __ro_after_init;

static int __init xsc_opdef_init(void)
{
	int i;

	for (i = 0; i < ARRAY_SIZE(xsc_thread_context); i++)
		__set_bit(xsc_thread_context[i], xsc_thread_context_map);
	return 0;
}
core_initcall(xsc_opdef_init);

bool xsc_is_thread_context(u32 nr)
{
	return nr < NR_syscalls && test_bit(nr, xsc_thread_context_map);
}

/*
 * Does a poller take this entry? Only operations that never block and do
 * not depend on the calling task (ABI §5.1; xsc_abi::ops::depends_on_caller
 * lists the latter): the identity getters and clocks (categories process
 * and time), anonymous memory (memory), and a descriptor's offset, status
 * and duplication (fs). Any other entry, and those after it, stay for the
 * thread's own `wait`.
 */
bool xsc_poller_takes(const struct xsc_sqe *sqe)
{
	const u64 *a = sqe->args;

	if (sqe->flags)
		return false;
	switch (sqe->opcode) {
	case __NR_getpid:
	case __NR_getppid:
	case __NR_getuid:
	case __NR_geteuid:
	case __NR_getgid:
	case __NR_getegid:
	case __NR_getresuid:
	case __NR_getresgid:
	case __NR_getgroups:
	case __NR_getpgrp:
	case __NR_getpgid:
	case __NR_getsid:
	case __NR_uname:
	case __NR_umask:
	case __NR_getcwd:
	case __NR_getrlimit:
	case __NR_gettimeofday:
	case __NR_time:
	case __NR_munmap:
	case __NR_mprotect:
	case __NR_mremap:
	case __NR_madvise:
	case __NR_brk:
	case __NR_lseek:
	case __NR_fstat:
	case __NR_dup:
		return true;
	case __NR_clock_gettime:
	case __NR_clock_getres:
		/* Not the caller's CPU clocks (negative ids name CPU clocks). */
		return (s64)(s32)a[0] >= 0 && a[0] != CLOCK_THREAD_CPUTIME_ID;
	case __NR_mmap:
		return a[3] & MAP_ANONYMOUS;
	case __NR_fcntl:
		/* Not the lock waits (the command is an unsigned int). */
		return (u32)a[1] != F_SETLKW && (u32)a[1] != F_OFD_SETLKW;
	}
	return false;
}

/* Does operation nr take the process's mmap lock (a poller's concern)? */
bool xsc_op_takes_mmap_lock(u32 nr)
{
	switch (nr) {
	case __NR_mmap:
	case __NR_munmap:
	case __NR_mprotect:
	case __NR_mremap:
	case __NR_madvise:
	case __NR_brk:
		return true;
	}
	return false;
}

/*
 * Does [addr, addr + len) meet the kernel's code in the process: the entry
 * page and what lies right before it (the vDSO and its data, on x86_64)?
 */
static bool xsc_meets_entry_page(u64 addr, u64 len)
{
	struct xsc_mm *x = &current->mm->xsc;

	len = PAGE_ALIGN(len) ?: PAGE_SIZE;
	return x->code && addr < x->code + PAGE_SIZE &&
	       x->code_start < addr + len;
}

/*
 * The kernel's own refusals, wherever an operation comes from (ring,
 * thread_call, poller), after seccomp judged it: -errno, or 0 to run it.
 * The entry page stays where exec put it, as the code the trap guard
 * admits (ABI §5.2, §7.8); only the trampoline returns from a handler;
 * the guard and the region register belong to the kernel.
 */
long xsc_op_refuses(u32 nr, const u64 *a)
{
	switch (nr) {
	case __NR_munmap:
	case __NR_mprotect:
	case __NR_pkey_mprotect:
		if (xsc_meets_entry_page(a[0], a[1]))
			return -EPERM;
		break;
	case __NR_mremap:
		if (xsc_meets_entry_page(a[0], a[1]) ||
		    ((a[3] & MREMAP_FIXED) && xsc_meets_entry_page(a[4], a[2])))
			return -EPERM;
		break;
	case __NR_mmap:
		if ((a[3] & MAP_FIXED) &&
		    xsc_meets_entry_page(a[0], a[1]))
			return -EPERM;
		break;
	case __NR_rt_sigreturn:
		return -EINVAL;
	case __NR_prctl:
		/* The option is an int: prctl ignores the upper bits. */
		if ((int)a[0] == PR_SET_SYSCALL_USER_DISPATCH)
			return -EPERM;
		break;
	case __NR_clone3:
		/* Not yet: its arguments are a structure (ABI §7.3). */
		return -ENOSYS;
	}
	return xsc_arch_op_refuses(nr, a);
}
