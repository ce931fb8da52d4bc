// SPDX-License-Identifier: GPL-2.0
/*
 * XSC on x86_64: the entry page's code and what the architecture-neutral
 * XSC code (xsc/) asks of the registers. The entry page "[xsc]" is kernel
 * code shared by every XSC process, as the vDSO is: one 16-byte stub per
 * entry-table function, each `mov eax, NR; syscall; ret`, where NR is a
 * transport call (XSC_NR_*, outside the system-call table), a time call
 * or rt_sigreturn. The trap guard admits a system call from these call
 * sites only, each with its stub's number. GS base is the region register
 * (ABI §3.5).
 */
#include <linux/audit.h>
#include <linux/compat.h>
#include <linux/mm.h>
#include <linux/sched.h>
#include <linux/sched/task_stack.h>
#include <linux/syscalls.h>
#include <linux/uaccess.h>
#include <linux/nospec.h>
#include <asm/prctl.h>
#include <asm/proto.h>
#include <asm/syscall.h>

#include "../../../xsc/xsc.h"

/* The entry page's stubs, 16 bytes apart. */
enum {
	XSC_STUB_WAIT,
	XSC_STUB_DOORBELL,
	XSC_STUB_THREAD_CALL,
	XSC_STUB_SIGRETURN,
	XSC_STUB_CLOCK_GETTIME,
	XSC_STUB_GETTIMEOFDAY,
	XSC_STUB_TIME,
	XSC_STUB_GETCPU,
	XSC_STUBS,
};

#define XSC_STUB_SIZE 16
/* Where a stub's `syscall` instruction ends: the call site it is seen at. */
#define XSC_STUB_CALL_END 7

/* The system call each stub makes. */
static const u32 xsc_stub_nr[XSC_STUBS] = {
	[XSC_STUB_WAIT] = XSC_NR_WAIT,
	[XSC_STUB_DOORBELL] = XSC_NR_DOORBELL,
	[XSC_STUB_THREAD_CALL] = XSC_NR_THREAD_CALL,
	[XSC_STUB_SIGRETURN] = __NR_rt_sigreturn,
	[XSC_STUB_CLOCK_GETTIME] = __NR_clock_gettime,
	[XSC_STUB_GETTIMEOFDAY] = __NR_gettimeofday,
	[XSC_STUB_TIME] = __NR_time,
	[XSC_STUB_GETCPU] = __NR_getcpu,
};

static struct page *xsc_code_pages[2];

const struct vm_special_mapping xsc_code_mapping = {
	.name = "[xsc]",
	.pages = xsc_code_pages,
};

static int __init xsc_init(void)
{
	struct page *page = alloc_page(GFP_KERNEL | __GFP_ZERO);
	u8 *code;
	int i;

	if (!page)
		return -ENOMEM;
	code = page_address(page);
	/* int3 everywhere else */
	memset(code, 0xcc, PAGE_SIZE);
	for (i = 0; i < XSC_STUBS; i++) {
		u8 *s = code + i * XSC_STUB_SIZE;
		u32 nr = xsc_stub_nr[i];

		s[0] = 0xb8;			/* mov eax, nr */
		memcpy(s + 1, &nr, 4);
		s[5] = 0x0f;			/* syscall */
		s[6] = 0x05;
		if (i == XSC_STUB_SIGRETURN) {
			s[7] = 0x0f;		/* ud2: never returns */
			s[8] = 0x0b;
		} else {
			s[7] = 0xc3;		/* ret */
		}
	}
	xsc_code_pages[0] = page;
	return 0;
}
core_initcall(xsc_init);

void xsc_arch_fill_table(struct xsc_entry_table *t, unsigned long code)
{
	t->wait = code + XSC_STUB_WAIT * XSC_STUB_SIZE;
	t->doorbell = code + XSC_STUB_DOORBELL * XSC_STUB_SIZE;
	t->thread_call = code + XSC_STUB_THREAD_CALL * XSC_STUB_SIZE;
	t->sigreturn = code + XSC_STUB_SIGRETURN * XSC_STUB_SIZE;
	t->clock_gettime = code + XSC_STUB_CLOCK_GETTIME * XSC_STUB_SIZE;
	t->gettimeofday = code + XSC_STUB_GETTIMEOFDAY * XSC_STUB_SIZE;
	t->time = code + XSC_STUB_TIME * XSC_STUB_SIZE;
	t->getcpu = code + XSC_STUB_GETCPU * XSC_STUB_SIZE;
}

u32 xsc_arch_audit(void)
{
	return AUDIT_ARCH_X86_64;
}

void xsc_arch_set_call(struct pt_regs *regs, u32 nr, const u64 *args)
{
	regs->di = args[0];
	regs->si = args[1];
	regs->dx = args[2];
	regs->r10 = args[3];
	regs->r8 = args[4];
	regs->r9 = args[5];
	regs->orig_ax = nr;
	regs->ax = -ENOSYS;
}

void xsc_arch_set_nr(struct pt_regs *regs, u32 nr)
{
	regs->orig_ax = nr;
}

void xsc_arch_get_args(struct pt_regs *regs, u64 *args)
{
	args[0] = regs->di;
	args[1] = regs->si;
	args[2] = regs->dx;
	args[3] = regs->r10;
	args[4] = regs->r8;
	args[5] = regs->r9;
}

/* As do_syscall_64 does: x64_sys_call's switch, no indirect call. */
long xsc_arch_dispatch(u32 nr, const u64 *args)
{
	struct pt_regs regs = *current_pt_regs();

	xsc_arch_set_call(&regs, nr, args);
	return x64_sys_call(&regs, array_index_nospec(nr, NR_syscalls));
}

void xsc_arch_start_region(unsigned long region)
{
	do_arch_prctl_64(current, ARCH_SET_GS, region);
}

void xsc_arch_child_region(struct task_struct *p, unsigned long region)
{
	p->thread.gsindex = 0;
	p->thread.gsbase = region;
}

long xsc_arch_op_refuses(u32 nr, const u64 *args)
{
	if (nr != __NR_arch_prctl)
		return 0;
	/* The option is an int: arch_prctl ignores the upper bits. */
	switch ((int)args[0]) {
	case ARCH_SET_GS:	/* GS base is the region register */
	case ARCH_MAP_VDSO_32:	/* no vDSO: its sigreturn would be a gate */
	case ARCH_MAP_VDSO_X32:
	case ARCH_MAP_VDSO_64:
		return -EPERM;
	}
	return 0;
}

/*
 * The trap guard (ABI §7.8), from Syscall User Dispatch's check: a 64-bit
 * system call from one of the entry page's call sites, with that stub's
 * number; or Linux's restart of an interrupted call there (restart_syscall,
 * and the restarted `wait`). Anything else raises SIGSYS.
 */
bool xsc_guard_admits(struct pt_regs *regs)
{
	unsigned long off = regs->ip - current->mm->xsc.code - XSC_STUB_CALL_END;
	unsigned long nr = regs->orig_ax;
	unsigned int i;

	if (in_ia32_syscall() || off >= XSC_STUBS * XSC_STUB_SIZE ||
	    off % XSC_STUB_SIZE)
		return false;
	i = off / XSC_STUB_SIZE;
	return nr == xsc_stub_nr[i] || nr == __NR_restart_syscall ||
	       (i == XSC_STUB_WAIT && nr == XSC_NR_WAIT_RESTART);
}

/* The transport calls, before the system-call table (do_syscall_64). */
bool xsc_transport_call(struct pt_regs *regs, long nr)
{
	if (!xsc_is_transport(nr))
		return false;
	regs->ax = xsc_transport(nr, regs->di, regs->si);
	return true;
}

/* thread_call's caller: the return address is on top of its stack. */
int xsc_arch_clone_return(unsigned long *ret_addr)
{
	return get_user(*ret_addr, (unsigned long __user *)current_pt_regs()->sp);
}

unsigned long xsc_arch_set_ip(unsigned long ip)
{
	struct pt_regs *regs = current_pt_regs();
	unsigned long old = regs->ip;

	regs->ip = ip;
	return old;
}

/*
 * After the signal code's decision about an interrupted ring entry
 * (arch/x86/kernel/signal.c, once regs->ax says whether the call
 * restarts): restarted, `wait` comes back as xsc_wait_restart, which runs
 * the entry again; not restarted, the entry completes with -EINTR now,
 * before the handler runs, as the system call would have.
 */
void xsc_signal_restart(struct pt_regs *regs)
{
	if (!current->xsc.interrupted_pending ||
	    (regs->orig_ax != XSC_NR_WAIT &&
	     regs->orig_ax != XSC_NR_WAIT_RESTART))
		return;
	/* Restarted, now or by an earlier pass of the signal code. */
	if (regs->ax == regs->orig_ax || regs->ax == XSC_NR_WAIT_RESTART) {
		regs->ax = XSC_NR_WAIT_RESTART;
		return;
	}
	xsc_interrupted_complete();
}
