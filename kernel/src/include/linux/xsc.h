/* SPDX-License-Identifier: GPL-2.0 */
/*
 * XSC: programs that make every system call through their rings (the
 * ABI: include/uapi/linux/xsc.h). The hooks Linux calls (the code is in
 * xsc/ and arch/<arch>/kernel/xsc.c); the state is in <linux/xsc_types.h>.
 */
#ifndef _LINUX_XSC_H
#define _LINUX_XSC_H

#include <linux/xsc_types.h>

struct linux_binprm;
struct task_struct;
struct mm_struct;
struct elf64_phdr;

#ifdef CONFIG_XSC
int xsc_check_note(struct linux_binprm *bprm, const struct elf64_phdr *phdr,
		   bool *is_xsc);
void xsc_exec_reset(void);
int xsc_exec_setup(void);
void xsc_start_thread(void);
void xsc_copy_thread(struct task_struct *p);
struct pid;
void xsc_new_task(struct task_struct *p, struct pid *pid);
void xsc_mm_init(struct mm_struct *mm);
int xsc_hidden_threads(struct task_struct *p);
/* /proc leaves the poller out: who consumes an entry is invisible (ABI §5.1). */
#define xsc_hidden_task(t) ((t)->xsc.is_poller)
void xsc_exit_thread(struct task_struct *tsk);
void xsc_exit_counted(struct task_struct *tsk, long code);
struct pt_regs;
/* Is `nr` one of the calling XSC thread's transport calls? */
bool xsc_is_transport(long nr);
/* Runs transport call `nr` (before the system-call table): true if it is one. */
bool xsc_transport_call(struct pt_regs *regs, long nr);
void xsc_signal_restart(struct pt_regs *regs);
/* A SIGSYS frame for a trapped entry, and its return (ABI §6.6). */
void xsc_signal_frame(int sig, struct pt_regs *regs);
void xsc_sigreturn(struct pt_regs *regs, unsigned long frame);
/*
 * The trap guard (ABI §7.8) is Syscall User Dispatch's work bit, which an
 * XSC thread's children keep; for an XSC task the dispatch admits only
 * the entry page's own call sites, each with its stub's number.
 */
#define xsc_guarded(t) ((t)->xsc.region != 0)
#define xsc_keeps_dispatch(t) xsc_guarded(t)
bool xsc_guard_admits(struct pt_regs *regs);
#define XSC_AUXV_ENTRIES 3
/* An XSC process: its vDSO serves the entry table, unannounced (§5.8). */
#define xsc_process(mm) ((mm)->xsc.code != 0)
#else
#define xsc_process(mm) false
#define xsc_keeps_dispatch(t) false
static inline void xsc_mm_init(struct mm_struct *mm) { }
static inline int xsc_hidden_threads(struct task_struct *p) { return 0; }
#define xsc_hidden_task(t) false
static inline void xsc_exit_thread(struct task_struct *tsk) { }
static inline void xsc_exit_counted(struct task_struct *tsk, long code) { }
static inline bool xsc_is_transport(long nr) { return false; }
static inline bool xsc_transport_call(struct pt_regs *regs, long nr)
{
	return false;
}

#define xsc_guarded(t) false
static inline bool xsc_guard_admits(struct pt_regs *regs) { return true; }
static inline void xsc_signal_restart(struct pt_regs *regs) { }
static inline void xsc_signal_frame(int sig, struct pt_regs *regs) { }
static inline void xsc_sigreturn(struct pt_regs *regs, unsigned long frame) { }
#define XSC_AUXV_ENTRIES 0
#endif

#endif /* _LINUX_XSC_H */
