// SPDX-License-Identifier: GPL-2.0
/*
 * XSC on x86_64: the kernel's code in an XSC process and what the
 * architecture-neutral XSC code (xsc/) asks of the registers. The entry
 * page "[xsc]" is kernel code shared by every XSC process, as the vDSO is:
 * one 16-byte stub per entry-table function, each `mov eax, NR; syscall;
 * ret`, where NR is a transport call (XSC_NR_*, outside the system-call
 * table), a time call or rt_sigreturn. Right before it the process has
 * Linux's own 64-bit vDSO and its vvar data, which no AT_SYSINFO_EHDR
 * announces: the entry table's time functions are the vDSO's (ABI §5.8),
 * so reading a clock enters the kernel no more than natively. The trap
 * guard admits a system call from the stubs' call sites only, each with
 * its stub's number, and the vDSO's own fallbacks. GS base is the region
 * register (ABI §3.5).
 */
#include <linux/audit.h>
#include <linux/compat.h>
#include <linux/elf.h>
#include <linux/mm.h>
#include <linux/sched.h>
#include <linux/sched/task_stack.h>
#include <linux/syscalls.h>
#include <linux/uaccess.h>
#include <linux/nospec.h>
#include <asm/prctl.h>
#include <asm/sigframe.h>
#include <asm/proto.h>
#include <asm/syscall.h>
#include <asm/vdso.h>

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

/*
 * The 64-bit vDSO's time functions, as offsets into its text, found at
 * boot in its dynamic symbol table (0: not found, the stubs serve).
 */
static unsigned long xsc_vdso_clock_gettime, xsc_vdso_gettimeofday,
		     xsc_vdso_time, xsc_vdso_getcpu;

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

/* The text offset of a function the vDSO image exports, or 0. */
static unsigned long __init xsc_vdso_sym(const struct vdso_image *image,
					 const char *name)
{
	const u8 *data = image->data;
	const struct elf64_hdr *eh = image->data;
	const struct elf64_shdr *sh;
	unsigned int i, j;

	if (eh->e_shentsize != sizeof(*sh) ||
	    eh->e_shoff + (u64)eh->e_shnum * sizeof(*sh) > image->size)
		return 0;
	sh = (const struct elf64_shdr *)(data + eh->e_shoff);
	for (i = 0; i < eh->e_shnum; i++) {
		const struct elf64_shdr *str = &sh[sh[i].sh_link];
		const struct elf64_sym *sym = (const struct elf64_sym *)(data + sh[i].sh_offset);

		if (sh[i].sh_type != SHT_DYNSYM || sh[i].sh_link >= eh->e_shnum ||
		    sh[i].sh_offset + sh[i].sh_size > image->size ||
		    str->sh_offset + str->sh_size > image->size)
			continue;
		for (j = 0; j < sh[i].sh_size / sizeof(*sym); j++) {
			if (sym[j].st_name < str->sh_size &&
			    ELF64_ST_TYPE(sym[j].st_info) == STT_FUNC &&
			    sym[j].st_shndx != SHN_UNDEF &&
			    sym[j].st_value < image->size &&
			    !strncmp((const char *)data + str->sh_offset +
				     sym[j].st_name, name,
				     str->sh_size - sym[j].st_name))
				return sym[j].st_value;
		}
	}
	return 0;
}

static int __init xsc_vdso_init(void)
{
	const struct vdso_image *image = &vdso_image_64;
	unsigned long cg = xsc_vdso_sym(image, "__vdso_clock_gettime");
	unsigned long tod = xsc_vdso_sym(image, "__vdso_gettimeofday");
	unsigned long t = xsc_vdso_sym(image, "__vdso_time");
	unsigned long cpu = xsc_vdso_sym(image, "__vdso_getcpu");

	/* All four or none: the stubs serve a missing one no differently. */
	if (!cg || !tod || !t || !cpu) {
		pr_warn("xsc: the vDSO lacks a time function: time calls enter the kernel\n");
		return 0;
	}
	xsc_vdso_clock_gettime = cg;
	xsc_vdso_gettimeofday = tod;
	xsc_vdso_time = t;
	xsc_vdso_getcpu = cpu;
	return 0;
}
core_initcall(xsc_vdso_init);

/*
 * Maps the kernel's code into the exec'ing XSC process and fills the entry
 * table's functions: the vDSO's data and text (when vdso64_enabled), then
 * the entry page right after them, as one range that xsc_op_refuses keeps
 * in place. Returns the entry page's address and sets *start to the
 * range's; the vDSO is not announced (no AT_SYSINFO_EHDR, ABI §5.8).
 */
unsigned long xsc_arch_map_code(struct xsc_entry_table *t, unsigned long *start)
{
	const struct vdso_image *image = &vdso_image_64;
	struct mm_struct *mm = current->mm;
	unsigned long vdso_len = 0, code, text;
	struct vm_area_struct *vma;
	int ret;

	if (vdso64_enabled && xsc_vdso_clock_gettime)
		vdso_len = image->size - image->sym_vvar_start;
	if (mmap_write_lock_killable(mm))
		return -EINTR;
	*start = get_unmapped_area(NULL, 0, vdso_len + PAGE_SIZE, 0, 0);
	if (IS_ERR_VALUE(*start)) {
		mmap_write_unlock(mm);
		return *start;
	}
	code = *start + vdso_len;
	vma = _install_special_mapping(mm, code, PAGE_SIZE,
				       VM_READ | VM_EXEC | VM_MAYREAD |
				       VM_MAYEXEC,
				       &xsc_code_mapping);
	mmap_write_unlock(mm);
	if (IS_ERR(vma))
		return PTR_ERR(vma);
	t->wait = code + XSC_STUB_WAIT * XSC_STUB_SIZE;
	t->doorbell = code + XSC_STUB_DOORBELL * XSC_STUB_SIZE;
	t->thread_call = code + XSC_STUB_THREAD_CALL * XSC_STUB_SIZE;
	t->sigreturn = code + XSC_STUB_SIGRETURN * XSC_STUB_SIZE;
	t->clock_gettime = code + XSC_STUB_CLOCK_GETTIME * XSC_STUB_SIZE;
	t->gettimeofday = code + XSC_STUB_GETTIMEOFDAY * XSC_STUB_SIZE;
	t->time = code + XSC_STUB_TIME * XSC_STUB_SIZE;
	t->getcpu = code + XSC_STUB_GETCPU * XSC_STUB_SIZE;
	if (!vdso_len)
		return code;
	/* The free range below the entry page: the hint is taken as it is. */
	ret = map_vdso_once(image, *start);
	if (ret)
		return ret;
	text = (unsigned long)mm->context.vdso;
	if (text + image->size != code)
		return -ENOMEM;
	t->clock_gettime = text + xsc_vdso_clock_gettime;
	t->gettimeofday = text + xsc_vdso_gettimeofday;
	t->time = text + xsc_vdso_time;
	t->getcpu = text + xsc_vdso_getcpu;
	return code;
}

u32 xsc_arch_audit(void)
{
	return AUDIT_ARCH_X86_64;
}

void xsc_arch_set_args(struct pt_regs *regs, const u64 *args)
{
	regs->di = args[0];
	regs->si = args[1];
	regs->dx = args[2];
	regs->r10 = args[3];
	regs->r8 = args[4];
	regs->r9 = args[5];
}

void xsc_arch_set_call(struct pt_regs *regs, u32 nr, const u64 *args)
{
	xsc_arch_set_args(regs, args);
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
 * and the restarted `wait`); or the vDSO's fallback to the system call
 * (clocks it cannot read in user space), from its text, with one of the
 * time numbers. Anything else raises SIGSYS.
 */
bool xsc_guard_admits(struct pt_regs *regs)
{
	unsigned long off = regs->ip - current->mm->xsc.code - XSC_STUB_CALL_END;
	unsigned long vdso = (unsigned long)current->mm->context.vdso;
	unsigned long nr = regs->orig_ax;
	unsigned int i;

	if (in_ia32_syscall())
		return false;
	if (vdso && regs->ip - vdso < vdso_image_64.size)
		return nr == __NR_clock_gettime || nr == __NR_gettimeofday ||
		       nr == __NR_clock_getres;
	if (off >= XSC_STUBS * XSC_STUB_SIZE || off % XSC_STUB_SIZE)
		return false;
	i = off / XSC_STUB_SIZE;
	return nr == xsc_stub_nr[i] || nr == __NR_restart_syscall ||
	       (i == XSC_STUB_WAIT && nr == XSC_NR_WAIT_RESTART);
}

/*
 * A seccomp TRAP stopped a ring entry (ABI §6.6): the SIGSYS handler's
 * frame, just set up at regs->sp (handle_signal), shows the call's
 * registers as a trapped system call's frame does (its number in the
 * result register, rolled back), and is remembered, so that its
 * rt_sigreturn completes the entry (xsc_sigreturn).
 */
void xsc_signal_frame(int sig, struct pt_regs *regs)
{
	struct xsc_thread *xt = &current->xsc;
	struct rt_sigframe __user *frame = (void __user *)regs->sp;
	struct sigcontext __user *sc = &frame->uc.uc_mcontext;
	const u64 *a = xt->trapped.args;

	if (!xt->trapped_pending || xt->trapped_frame || sig != SIGSYS ||
	    in_ia32_syscall())
		return;
	if (!user_access_begin(sc, sizeof(*sc)))
		return;
	unsafe_put_user(xt->trapped.opcode, &sc->ax, fault);
	unsafe_put_user(a[0], &sc->di, fault);
	unsafe_put_user(a[1], &sc->si, fault);
	unsafe_put_user(a[2], &sc->dx, fault);
	unsafe_put_user(a[3], &sc->r10, fault);
	unsafe_put_user(a[4], &sc->r8, fault);
	unsafe_put_user(a[5], &sc->r9, fault);
	user_access_end();
	xt->trapped_frame = regs->sp;
	return;
fault:
	/* The handler sees the transport's registers; the entry stays. */
	user_access_end();
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
