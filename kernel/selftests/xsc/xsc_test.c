// SPDX-License-Identifier: GPL-2.0
/*
 * The XSC kernel's own rules, as kselftests (kselftest_harness.h, TAP):
 * the trap guard, what may appear on the ring and in thread_call, seccomp
 * on consume (also after a tracer's change), the entry page's place, a
 * thread's region at its end, each operation shown to ptrace and the
 * raw_syscalls tracepoints as the system call it names. Built twice, natively and with xsc-cc, and
 * both run in the VM (cargo xtask vm-test): the tests that need an XSC
 * process skip natively; the others must pass on both, native Linux being
 * the oracle.
 */
#define _GNU_SOURCE
#include <errno.h>
#include <fcntl.h>
#include <linux/audit.h>
#include <linux/filter.h>
#include <linux/seccomp.h>
#include <linux/xsc.h>
#include <pthread.h>
#include <signal.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/auxv.h>
#include <sys/mman.h>
#include <sys/prctl.h>
#include <sys/resource.h>
#include <sys/stat.h>
#include <sys/ptrace.h>
#include <sys/syscall.h>
#include <sys/user.h>
#include <sys/wait.h>
#include <time.h>
#include <unistd.h>

/* The VM captures stdout only: the logs go there, a line at a time (a
 * test's process ends with _exit, which would drop a full buffer). */
#define TH_LOG_STREAM stdout
#include "kselftest_harness.h"

static void __attribute__((constructor)) line_buffered(void)
{
	setvbuf(stdout, NULL, _IOLBF, 0);
}

#ifndef ARCH_MAP_VDSO_32
#define ARCH_MAP_VDSO_32 0x2002
#endif
#ifndef ARCH_MAP_VDSO_64
#define ARCH_MAP_VDSO_64 0x2003
#endif

typedef long (*xsc_wait_fn)(void *region, unsigned int min_complete);
typedef long (*xsc_thread_call_fn)(void *region, const struct xsc_sqe *e);

/* The calling thread's region (ABI §3.2), or NULL in a native process. */
static struct xsc_region_header *region(void)
{
	uint64_t p;

	if (!getauxval(AT_XSC_RING))
		return NULL;
	asm volatile("mov %%gs:0, %0" : "=r"(p));
	return (struct xsc_region_header *)p;
}

static const struct xsc_entry_table *table(void)
{
	return (const struct xsc_entry_table *)getauxval(AT_XSC_ENTRY);
}

#define NEED_XSC() do {							\
	if (!region())							\
		SKIP(return, "not an XSC process");			\
} while (0)

static uint32_t *word(struct xsc_region_header *r, unsigned int off)
{
	return (uint32_t *)((char *)r + off);
}

/* thread_call (ABI §5.6) of one operation. */
static long tcall(uint32_t op, uint32_t flags, uint64_t a0, uint64_t a1,
		  uint64_t a2)
{
	struct xsc_sqe e = {
		.opcode = op, .flags = flags, .args = { a0, a1, a2 },
	};

	return ((xsc_thread_call_fn)table()->thread_call)(region(), &e);
}

/*
 * One entry through the ring by hand, under the ring claim (ABI §4.7):
 * its completion.
 */
static struct xsc_cqe ring_roundtrip(const struct xsc_sqe *e)
{
	struct xsc_region_header *r = region();
	volatile uint64_t *claim = (uint64_t *)((char *)r + 0x180);
	struct xsc_sqe *sqes = (struct xsc_sqe *)((char *)r + r->sqes_offset);
	struct xsc_cqe *cqes = (struct xsc_cqe *)((char *)r + r->cqes_offset);
	uint32_t tail, head;
	struct xsc_cqe c;

	*claim = 1;
	asm volatile("" ::: "memory");
	tail = __atomic_load_n(word(r, XSC_OFF_SQ_TAIL), __ATOMIC_RELAXED);
	sqes[tail & (r->sq_entries - 1)] = *e;
	__atomic_store_n(word(r, XSC_OFF_SQ_TAIL), tail + 1, __ATOMIC_RELEASE);
	while (__atomic_load_n(word(r, XSC_OFF_CQ_TAIL), __ATOMIC_ACQUIRE) ==
	       *word(r, XSC_OFF_CQ_HEAD))
		((xsc_wait_fn)table()->wait)(r, 1);
	head = *word(r, XSC_OFF_CQ_HEAD);
	c = cqes[head & (r->cq_entries - 1)];
	__atomic_store_n(word(r, XSC_OFF_CQ_HEAD), head + 1, __ATOMIC_RELEASE);
	asm volatile("" ::: "memory");
	*claim = 0;
	return c;
}

/* The number in a stub's `mov eax, imm32` (x86_64 entry page). */
static uint32_t stub_nr(uint64_t stub)
{
	uint32_t nr;

	memcpy(&nr, (const void *)(stub + 1), 4);
	return nr;
}

/* The transport calls' numbers, as the entry page's stubs make them. */
static void transports(uint32_t nr[3])
{
	nr[0] = stub_nr(table()->wait);
	nr[1] = stub_nr(table()->doorbell);
	nr[2] = stub_nr(table()->thread_call);
}

/*
 * The transport calls are not operations (ABI §6.1): they lie outside
 * Linux's system-call numbers, and neither the ring nor thread_call
 * executes them (a thread_call of thread_call recursed until the kernel
 * stack overflowed).
 */
TEST(transports_are_outside_the_syscall_numbers)
{
	uint32_t nr[3];
	int i;

	NEED_XSC();
	transports(nr);
	TH_LOG("transport numbers %#x %#x %#x", nr[0], nr[1], nr[2]);
	for (i = 0; i < 3; i++)
		EXPECT_LE(1024, nr[i]);
}

TEST(transport_in_thread_call_is_enosys)
{
	uint32_t nr[3];
	struct xsc_sqe inner = { .opcode = 0 };
	int i;

	NEED_XSC();
	transports(nr);
	/* An entry whose operation is thread_call of itself. */
	inner.opcode = nr[2];
	inner.args[0] = (uint64_t)region();
	inner.args[1] = (uint64_t)&inner;
	EXPECT_EQ(-ENOSYS, ((xsc_thread_call_fn)table()->thread_call)(region(), &inner));
	for (i = 0; i < 3; i++)
		EXPECT_EQ(-ENOSYS, tcall(nr[i], 0, (uint64_t)region(), 1, 0));
	/* The numbers the transports once had (451-454): not operations. */
	for (i = 451; i <= 454; i++)
		EXPECT_EQ(-ENOSYS, tcall(i, 0, (uint64_t)region(), 1, 0));
}

TEST(transport_on_the_ring_is_unknown)
{
	uint32_t nr[3];
	int i;

	NEED_XSC();
	transports(nr);
	for (i = 0; i < 3; i++) {
		struct xsc_sqe e = {
			.opcode = nr[i],
			.args = { (uint64_t)region(), 1 },
			.user_data = 0x100 + i,
		};
		struct xsc_cqe c = ring_roundtrip(&e);

		EXPECT_EQ(-ENOSYS, c.result);
		EXPECT_EQ(XSC_CQE_F_UNKNOWN_OP, c.flags);
		EXPECT_EQ(0x100 + i, c.user_data);
	}
}

/* A thread-context operation inside a ring entry gets no further. */
TEST(thread_context_through_ring_thread_call_is_refused)
{
	struct xsc_sqe inner = { .opcode = SYS_gettid };
	uint32_t nr[3];

	NEED_XSC();
	transports(nr);
	{
		struct xsc_sqe e = {
			.opcode = nr[2],
			.args = { (uint64_t)region(), (uint64_t)&inner },
		};
		struct xsc_cqe c = ring_roundtrip(&e);

		EXPECT_EQ(-ENOSYS, c.result);
		EXPECT_EQ(XSC_CQE_F_UNKNOWN_OP, c.flags);
	}
}

/*
 * The trap guard admits a system call only from a stub's own call site
 * with that stub's number (ABI §7.8): jumping into a stub after its
 * `mov` with another number in eax raises SIGSYS.
 */
TEST_SIGNAL(guard_refuses_a_chosen_number_at_a_stub, SIGSYS)
{
	long r;

	NEED_XSC();
	asm volatile("call *%2"
		     : "=a"(r)
		     : "a"((long)SYS_getpid), "r"(table()->wait + 5)
		     : "rcx", "r11", "memory");
	TH_LOG("getpid through the wait stub returned %ld", r);
}

TEST_SIGNAL(guard_refuses_a_number_at_the_sigreturn_stub, SIGSYS)
{
	NEED_XSC();
	/* syscall; ud2: any other number than rt_sigreturn is refused. */
	asm volatile("call *%1"
		     :
		     : "a"((long)SYS_getppid), "r"(table()->sigreturn + 5)
		     : "rcx", "r11", "memory");
}

/*
 * getpid by a `syscall` instruction in a page written at run time: the
 * trap guard, not the verifier, must stop it. -1 if no page.
 */
static long raw_getpid(void)
{
	static const unsigned char code[] = { 0x0f, 0x05, 0xc3 };	/* syscall; ret */
	unsigned char *page = mmap(NULL, 4096, PROT_READ | PROT_WRITE,
				   MAP_PRIVATE | MAP_ANONYMOUS, -1, 0);
	long r;

	if (page == MAP_FAILED)
		return -1;
	memcpy(page, code, sizeof(code));
	if (mprotect(page, 4096, PROT_READ | PROT_EXEC))
		return -1;
	asm volatile("call *%1" : "=a"(r) : "r"(page), "a"((long)SYS_getpid)
		     : "rcx", "r11", "memory");
	return r;
}

/*
 * prctl's option is an int: a value with upper bits set is still
 * PR_SET_SYSCALL_USER_DISPATCH to prctl, and must be refused as it is.
 */
TEST_SIGNAL(guard_cannot_be_switched_off_with_upper_bits, SIGSYS)
{
	long r;

	NEED_XSC();
	r = tcall(SYS_prctl, 0, (1ULL << 32) | PR_SET_SYSCALL_USER_DISPATCH,
		  PR_SYS_DISPATCH_OFF, 0);
	EXPECT_EQ(-EPERM, r);
	/*
	 * Still guarded: a raw system call, from code written at run time
	 * (the verifier refuses one in the binary), raises SIGSYS.
	 */
	r = raw_getpid();
	TH_LOG("a raw getpid returned %ld", r);
}

/* The entry page stays where exec put it (ABI §5.2). */
TEST(entry_page_cannot_be_unmapped_or_moved)
{
	void *page, *moved;

	NEED_XSC();
	page = (void *)(table()->wait & ~4095UL);
	EXPECT_EQ(-1, munmap(page, 4096));
	EXPECT_EQ(EPERM, errno);
	moved = mremap(page, 4096, 4096, MREMAP_MAYMOVE | MREMAP_FIXED,
		       (char *)page + (64 << 20));
	EXPECT_EQ(MAP_FAILED, moved);
	EXPECT_EQ(EPERM, errno);
	EXPECT_EQ(MAP_FAILED, mmap(page, 4096, PROT_READ | PROT_WRITE,
				   MAP_PRIVATE | MAP_ANONYMOUS | MAP_FIXED,
				   -1, 0));
	EXPECT_EQ(EPERM, errno);
	EXPECT_EQ(-1, mprotect(page, 4096, PROT_READ));
	EXPECT_EQ(EPERM, errno);
	/* Still there and working. */
	EXPECT_EQ(getppid(), syscall(SYS_getppid));
}

/*
 * No other vDSO can be mapped into an XSC process (the 32-bit one's
 * sigreturn would be a gate).
 */
TEST(arch_map_vdso_is_refused)
{
	NEED_XSC();
	EXPECT_EQ(-EPERM, tcall(SYS_arch_prctl, 0, ARCH_MAP_VDSO_32, 0x10000000, 0));
	EXPECT_EQ(-EPERM, tcall(SYS_arch_prctl, 0, ARCH_MAP_VDSO_64, 0x10000000, 0));
	/* The option is an int: upper bits do not make it another. */
	EXPECT_EQ(-EPERM, tcall(SYS_arch_prctl, 0, (1ULL << 32) | ARCH_MAP_VDSO_64,
				0x10000000, 0));
}

/*
 * SQE_F_THEN_EXIT is for threads made by clone: the main thread gets
 * -EINVAL, and the operation is not performed (ABI §5.6).
 */
TEST_SIGNAL(then_exit_from_the_main_thread_is_einval, SIGUSR1)
{
	char *p;

	NEED_XSC();
	p = mmap(NULL, 4096, PROT_READ | PROT_WRITE,
		 MAP_PRIVATE | MAP_ANONYMOUS, -1, 0);
	ASSERT_NE(MAP_FAILED, p);
	p[0] = 7;
	EXPECT_EQ(-EINVAL, tcall(SYS_munmap, XSC_SQE_F_THEN_EXIT,
				 (uint64_t)p, 4096, 0));
	EXPECT_EQ(7, p[0]);
	/* Still alive: end by the signal the test expects. */
	raise(SIGUSR1);
}

static void install_filter(struct __test_metadata *_metadata, int nr,
			   unsigned int action)
{
	struct sock_filter f[] = {
		BPF_STMT(BPF_LD | BPF_W | BPF_ABS, offsetof(struct seccomp_data, nr)),
		BPF_JUMP(BPF_JMP | BPF_JEQ | BPF_K, nr, 0, 1),
		BPF_STMT(BPF_RET | BPF_K, action),
		BPF_STMT(BPF_RET | BPF_K, SECCOMP_RET_ALLOW),
	};
	struct sock_fprog prog = { .len = 4, .filter = f };

	ASSERT_EQ(0, prctl(PR_SET_NO_NEW_PRIVS, 1, 0, 0, 0));
	ASSERT_EQ(0, prctl(PR_SET_SECCOMP, SECCOMP_MODE_FILTER, &prog));
}

static void install_errno_filter(struct __test_metadata *_metadata, int nr,
				 int err)
{
	install_filter(_metadata, nr, SECCOMP_RET_ERRNO | err);
}

/* What a SIGSYS handler saw: si_syscall, then rax, rdi, rsi, rdx, r10, r8. */
static volatile long trap_seen[7];

/* Records the trapped call and emulates it: its result is 4242. */
static void trap_handler(int sig, siginfo_t *si, void *ucontext)
{
	greg_t *g = ((ucontext_t *)ucontext)->uc_mcontext.gregs;

	trap_seen[0] = si->si_syscall;
	trap_seen[1] = g[REG_RAX];
	trap_seen[2] = g[REG_RDI];
	trap_seen[3] = g[REG_RSI];
	trap_seen[4] = g[REG_RDX];
	trap_seen[5] = g[REG_R10];
	trap_seen[6] = g[REG_R8];
	g[REG_RAX] = 4242;
}

/*
 * In a child: a TRAP filter on kcmp, the handler above, then `call` (which
 * makes kcmp(11, 22, 33, 44, 55)); exits 0 if the handler saw the call's
 * number and arguments as a trapped system call shows them (the number in
 * the result register) and its result, 4242, is the call's.
 */
static int trap_case(struct __test_metadata *_metadata, long (*call)(void))
{
	struct sigaction sa = { .sa_sigaction = trap_handler,
				.sa_flags = SA_SIGINFO };
	long want[7] = { SYS_kcmp, SYS_kcmp, 11, 22, 33, 44, 55 };
	int status, i;
	pid_t child = fork();

	if (child == 0) {
		if (sigaction(SIGSYS, &sa, NULL))
			_exit(1);
		install_filter(_metadata, SYS_kcmp, SECCOMP_RET_TRAP);
		if (call() != 4242)
			_exit(2);
		for (i = 0; i < 7; i++)
			if (trap_seen[i] != want[i])
				_exit(10 + i);
		_exit(0);
	}
	if (child < 0 || waitpid(child, &status, 0) != child)
		return -1;
	return WIFEXITED(status) ? WEXITSTATUS(status) : 128 + WTERMSIG(status);
}

static long kcmp_by_syscall(void)
{
	return syscall(SYS_kcmp, 11, 22, 33, 44, 55);
}

/*
 * A seccomp TRAP: the SIGSYS handler sees the call's registers and may
 * emulate it by setting the result register, natively and for a ring
 * entry (ABI §6.6) alike.
 */
TEST(seccomp_trap_handler_sees_and_sets_the_call)
{
	EXPECT_EQ(0, trap_case(_metadata, kcmp_by_syscall));
}

static long kcmp_by_thread_call(void)
{
	struct xsc_sqe e = {
		.opcode = SYS_kcmp, .args = { 11, 22, 33, 44, 55 },
	};

	return ((xsc_thread_call_fn)table()->thread_call)(region(), &e);
}

/* The same through thread_call: what the handler leaves is its result. */
TEST(seccomp_trap_handler_sets_a_thread_call_result)
{
	NEED_XSC();
	EXPECT_EQ(0, trap_case(_metadata, kcmp_by_thread_call));
}

/* The [lo, hi) of the mapping named `name` in /proc/self/maps, or 0. */
static int find_mapping(const char *name, unsigned long *lo, unsigned long *hi)
{
	FILE *f = fopen("/proc/self/maps", "r");
	char line[512];
	int found = 0;

	while (f && !found && fgets(line, sizeof(line), f))
		found = strstr(line, name) &&
			sscanf(line, "%lx-%lx", lo, hi) == 2;
	if (f)
		fclose(f);
	return found;
}

/*
 * The time functions read the clock in user space, as the vDSO does
 * natively (ABI §5.8): a filter that fails clock_gettime does not see
 * CLOCK_MONOTONIC read, and does see CLOCK_PROCESS_CPUTIME_ID's fallback
 * to the system call. Natively and on XSC alike.
 */
TEST(clock_gettime_makes_no_system_call)
{
	struct timespec a, b;
	int status;
	pid_t child = fork();

	ASSERT_LE(0, child);
	if (child == 0) {
		install_errno_filter(_metadata, SYS_clock_gettime, 99);
		if (clock_gettime(CLOCK_MONOTONIC, &a) ||
		    clock_gettime(CLOCK_MONOTONIC, &b))
			_exit(1);
		if (b.tv_sec < a.tv_sec ||
		    (b.tv_sec == a.tv_sec && b.tv_nsec < a.tv_nsec))
			_exit(2);
		errno = 0;
		if (clock_gettime(CLOCK_PROCESS_CPUTIME_ID, &a) != -1 ||
		    errno != 99)
			_exit(3);
		_exit(0);
	}
	ASSERT_EQ(child, waitpid(child, &status, 0));
	EXPECT_TRUE(WIFEXITED(status));
	EXPECT_EQ(0, WEXITSTATUS(status));
}

/*
 * The table's time functions are the vDSO's own, which no AT_SYSINFO_EHDR
 * announces; the guard admits its fallbacks, and it stays where exec put
 * it, as the entry page does (ABI §5.2, §5.8).
 */
TEST(vdso_serves_the_time_functions_unannounced)
{
	unsigned long lo, hi, vlo, vhi;
	struct timespec ts;

	NEED_XSC();
	EXPECT_EQ(0, getauxval(AT_SYSINFO_EHDR));
	ASSERT_TRUE(find_mapping("[vdso]", &lo, &hi));
	ASSERT_TRUE(find_mapping("[vvar]", &vlo, &vhi));
	EXPECT_LT(table()->clock_gettime - lo, hi - lo);
	EXPECT_LT(table()->gettimeofday - lo, hi - lo);
	EXPECT_LT(table()->time - lo, hi - lo);
	EXPECT_LT(table()->getcpu - lo, hi - lo);
	/* A clock the vDSO cannot read: its fallback, admitted. */
	EXPECT_EQ(0, clock_gettime(CLOCK_PROCESS_CPUTIME_ID, &ts));
	EXPECT_EQ(-1, munmap((void *)lo, hi - lo));
	EXPECT_EQ(EPERM, errno);
	EXPECT_EQ(-1, munmap((void *)vlo, 4096));
	EXPECT_EQ(EPERM, errno);
	EXPECT_EQ(-1, mprotect((void *)lo, 4096, PROT_READ | PROT_WRITE));
	EXPECT_EQ(EPERM, errno);
	EXPECT_EQ(MAP_FAILED, mremap((void *)lo, hi - lo, hi - lo,
				     MREMAP_MAYMOVE | MREMAP_FIXED,
				     (char *)lo + (64 << 20)));
	EXPECT_EQ(EPERM, errno);
	EXPECT_EQ(0, clock_gettime(CLOCK_MONOTONIC, &ts));
}

/*
 * From the vDSO's text the guard admits only its fallbacks' time calls:
 * getpid made at a `syscall` there raises SIGSYS.
 */
TEST_SIGNAL(guard_refuses_other_calls_from_the_vdso, SIGSYS)
{
	unsigned long lo, hi, p;

	NEED_XSC();
	ASSERT_TRUE(find_mapping("[vdso]", &lo, &hi));
	for (p = lo; p + 1 < hi; p++)
		if (((unsigned char *)p)[0] == 0x0f &&
		    ((unsigned char *)p)[1] == 0x05)
			break;
	ASSERT_LT(p + 1, hi);
	asm volatile("call *%1"
		     :
		     : "a"((long)SYS_getpid), "r"(p)
		     : "rcx", "r11", "memory");
	TH_LOG("getpid from the vDSO's text was admitted");
}

/*
 * Linux judges a system call after its tracer's syscall-entry stop, so a
 * tracer that changes the call gets the new one judged: whatever the
 * traced thread's first call after its stop was (a transport call, for an
 * XSC thread), changed into getppid, a filter refusing getppid refuses
 * it.
 */
TEST(seccomp_judges_the_call_a_tracer_rewrote)
{
	struct user_regs_struct regs;
	int status;
	pid_t child = fork();

	ASSERT_LE(0, child);
	if (child == 0) {
		install_errno_filter(_metadata, SYS_getppid, 99);
		ptrace(PTRACE_TRACEME, 0, 0, 0);
		raise(SIGSTOP);
		getpid();
		_exit(0);
	}
	ASSERT_EQ(child, waitpid(child, &status, 0));
	ASSERT_TRUE(WIFSTOPPED(status));
	ASSERT_EQ(0, ptrace(PTRACE_SETOPTIONS, child, 0, PTRACE_O_TRACESYSGOOD));
	ASSERT_EQ(0, ptrace(PTRACE_SYSCALL, child, 0, 0));
	ASSERT_EQ(child, waitpid(child, &status, 0));
	ASSERT_EQ(SIGTRAP | 0x80, WSTOPSIG(status));
	ASSERT_EQ(0, ptrace(PTRACE_GETREGS, child, 0, &regs));
	regs.orig_rax = SYS_getppid;
	ASSERT_EQ(0, ptrace(PTRACE_SETREGS, child, 0, &regs));
	ASSERT_EQ(0, ptrace(PTRACE_SYSCALL, child, 0, 0));
	ASSERT_EQ(child, waitpid(child, &status, 0));
	ASSERT_EQ(SIGTRAP | 0x80, WSTOPSIG(status));
	ASSERT_EQ(0, ptrace(PTRACE_GETREGS, child, 0, &regs));
	EXPECT_EQ(-99, (long)regs.rax);
	kill(child, SIGKILL);
	waitpid(child, &status, 0);
}

/*
 * SECCOMP_RET_TRACE: the tracer's seccomp stop shows the call the filter
 * judged (the entry, for an XSC thread), and the tracer may change it:
 * getppid turned into getpid returns the caller's pid.
 */
TEST(seccomp_trace_shows_and_changes_the_call)
{
	struct sock_filter f[] = {
		BPF_STMT(BPF_LD | BPF_W | BPF_ABS, offsetof(struct seccomp_data, nr)),
		BPF_JUMP(BPF_JMP | BPF_JEQ | BPF_K, SYS_getppid, 0, 1),
		BPF_STMT(BPF_RET | BPF_K, SECCOMP_RET_TRACE),
		BPF_STMT(BPF_RET | BPF_K, SECCOMP_RET_ALLOW),
	};
	struct sock_fprog prog = { .len = 4, .filter = f };
	struct user_regs_struct regs;
	int status;
	pid_t child = fork();

	ASSERT_LE(0, child);
	if (child == 0) {
		if (prctl(PR_SET_NO_NEW_PRIVS, 1, 0, 0, 0) ||
		    prctl(PR_SET_SECCOMP, SECCOMP_MODE_FILTER, &prog))
			_exit(3);
		ptrace(PTRACE_TRACEME, 0, 0, 0);
		raise(SIGSTOP);
		_exit(syscall(SYS_getppid) == syscall(SYS_getpid) ? 0 : 1);
	}
	ASSERT_EQ(child, waitpid(child, &status, 0));
	ASSERT_TRUE(WIFSTOPPED(status));
	ASSERT_EQ(0, ptrace(PTRACE_SETOPTIONS, child, 0, PTRACE_O_TRACESECCOMP));
	ASSERT_EQ(0, ptrace(PTRACE_CONT, child, 0, 0));
	ASSERT_EQ(child, waitpid(child, &status, 0));
	ASSERT_EQ(SIGTRAP | (PTRACE_EVENT_SECCOMP << 8), status >> 8);
	ASSERT_EQ(0, ptrace(PTRACE_GETREGS, child, 0, &regs));
	EXPECT_EQ(SYS_getppid, (long)regs.orig_rax);
	regs.orig_rax = SYS_getpid;
	ASSERT_EQ(0, ptrace(PTRACE_SETREGS, child, 0, &regs));
	ASSERT_EQ(0, ptrace(PTRACE_CONT, child, 0, 0));
	ASSERT_EQ(child, waitpid(child, &status, 0));
	ASSERT_TRUE(WIFEXITED(status));
	EXPECT_EQ(0, WEXITSTATUS(status));
}

/* A filter sees vfork as vfork, before anything is made of it. */
TEST(seccomp_sees_vfork_as_made)
{
	install_errno_filter(_metadata, SYS_vfork, 98);
	errno = 0;
	EXPECT_EQ(-1, syscall(SYS_vfork));
	EXPECT_EQ(98, errno);
}

/*
 * Polled mode: a filter installed while the poller serves the thread
 * judges every entry published after it (the poller checked once per pass
 * of up to 64 entries).
 */
TEST(seccomp_judges_entries_the_poller_would_take)
{
	int round;

	for (round = 0; round < 20; round++) {
		int status, i;
		pid_t child = fork();

		ASSERT_LE(0, child);
		if (child == 0) {
			/* Keep a poller busy with this thread's entries. */
			for (i = 0; i < 2000; i++)
				getpid();
			install_errno_filter(_metadata, SYS_getppid, 99);
			for (i = 0; i < 200; i++)
				if (syscall(SYS_getppid) != -1 || errno != 99)
					_exit(1);
			_exit(0);
		}
		ASSERT_EQ(child, waitpid(child, &status, 0));
		ASSERT_TRUE(WIFEXITED(status));
		ASSERT_EQ(0, WEXITSTATUS(status)) TH_LOG("round %d", round);
	}
}

/* Publishes one entry on the claimed ring, without waiting. */
static void ring_publish(const struct xsc_sqe *e)
{
	struct xsc_region_header *r = region();
	struct xsc_sqe *sqes = (struct xsc_sqe *)((char *)r + r->sqes_offset);
	uint32_t tail = __atomic_load_n(word(r, XSC_OFF_SQ_TAIL), __ATOMIC_RELAXED);

	sqes[tail & (r->sq_entries - 1)] = *e;
	__atomic_store_n(word(r, XSC_OFF_SQ_TAIL), tail + 1, __ATOMIC_RELEASE);
}

/* Takes the next completion of the claimed ring, waiting for it. */
static struct xsc_cqe ring_reap(void)
{
	struct xsc_region_header *r = region();
	struct xsc_cqe *cqes = (struct xsc_cqe *)((char *)r + r->cqes_offset);
	uint32_t head = *word(r, XSC_OFF_CQ_HEAD);
	struct xsc_cqe c;

	while (__atomic_load_n(word(r, XSC_OFF_CQ_TAIL), __ATOMIC_ACQUIRE) == head)
		((xsc_wait_fn)table()->wait)(r, 1);
	c = cqes[head & (r->cq_entries - 1)];
	__atomic_store_n(word(r, XSC_OFF_CQ_HEAD), head + 1, __ATOMIC_RELEASE);
	return c;
}

/*
 * Polled mode, deterministically: while the poller works through slow
 * entries it took (munmap of 8 MiB of touched memory each), the thread installs a
 * filter refusing getppid and publishes getppid entries. The poller
 * checked the thread's seccomp mode once per pass and ran them unjudged;
 * each entry must be judged (ABI §6.4, §6.6). The test turns polled mode
 * on for itself (the VM runs it as root).
 */
TEST(seccomp_judges_entries_published_during_a_poller_pass)
{
	const size_t size = 8 << 20;
	volatile uint64_t *claim;
	char old[32] = { 0 };
	char *area[8];
	int fd, i;

	NEED_XSC();
	fd = open("/proc/sys/kernel/xsc_poll_us", O_RDWR);
	ASSERT_LE(0, fd);
	ASSERT_LT(0, read(fd, old, sizeof(old) - 1));
	ASSERT_EQ(5, pwrite(fd, "5000\n", 5, 0));
	for (i = 0; i < 8; i++) {
		area[i] = mmap(NULL, size, PROT_READ | PROT_WRITE,
			       MAP_PRIVATE | MAP_ANONYMOUS, -1, 0);
		ASSERT_NE(MAP_FAILED, area[i]);
		memset(area[i], 1, size);
	}
	/* The first `wait` in polled mode starts the process's poller. */
	getpid();
	getpid();
	claim = (uint64_t *)((char *)region() + 0x180);
	*claim = 1;
	asm volatile("" ::: "memory");
	for (i = 0; i < 8; i++) {
		struct xsc_sqe e = {
			.opcode = SYS_munmap,
			.args = { (uint64_t)area[i], size },
			.user_data = i,
		};

		ring_publish(&e);
	}
	((long (*)(void *))table()->doorbell)(region());
	install_errno_filter(_metadata, SYS_getppid, 99);
	for (i = 0; i < 4; i++) {
		struct xsc_sqe e = { .opcode = SYS_getppid, .user_data = 100 + i };

		ring_publish(&e);
	}
	for (i = 0; i < 12; i++) {
		struct xsc_cqe c = ring_reap();

		if (c.user_data >= 100) {
			EXPECT_EQ(-99, c.result) {
				TH_LOG("getppid entry %d", (int)c.user_data - 100);
			}
		} else {
			EXPECT_EQ(0, c.result);
		}
	}
	asm volatile("" ::: "memory");
	*claim = 0;
	pwrite(fd, old, strlen(old), 0);
	close(fd);
}

/*
 * Feeds a ring it does not own (another thread's), keeping it full, with
 * an operation no poller takes (getpriority), so that in polled mode too
 * every completion is the waiting thread's own work.
 */
struct feeder {
	struct xsc_region_header *r;
	volatile int go, stop;
	unsigned long published;
};

static void *feed(void *arg)
{
	struct feeder *f = arg;
	struct xsc_region_header *r = f->r;
	struct xsc_sqe *sqes = (struct xsc_sqe *)((char *)r + r->sqes_offset);
	struct xsc_sqe e = { .opcode = SYS_getpriority, .args = { PRIO_PROCESS, 0 } };

	while (!f->stop) {
		uint32_t tail = __atomic_load_n(word(r, XSC_OFF_SQ_TAIL), __ATOMIC_RELAXED);
		uint32_t head = __atomic_load_n(word(r, XSC_OFF_SQ_HEAD), __ATOMIC_ACQUIRE);

		/* Room for completions too: reap them as they come. */
		__atomic_store_n(word(r, XSC_OFF_CQ_HEAD),
				 __atomic_load_n(word(r, XSC_OFF_CQ_TAIL), __ATOMIC_ACQUIRE),
				 __ATOMIC_RELEASE);
		if (tail - head >= r->sq_entries) {
			f->go = 1;
			continue;
		}
		sqes[tail & (r->sq_entries - 1)] = e;
		__atomic_store_n(word(r, XSC_OFF_SQ_TAIL), tail + 1, __ATOMIC_RELEASE);
		f->published++;
	}
	return NULL;
}

/*
 * One `wait` consumes a bounded batch (ABI §5.4): a sibling that keeps
 * publishing into this thread's ring cannot hold it in the kernel (it held
 * one `wait` for seconds, on a kernel that does not preempt).
 */
TEST(wait_consumes_a_bounded_batch)
{
	struct xsc_region_header *r;
	volatile uint64_t *claim;
	struct feeder f = { 0 };
	uint32_t before, after;
	pthread_t t;

	NEED_XSC();
	r = region();
	claim = (uint64_t *)((char *)r + 0x180);
	f.r = r;
	*claim = 1;
	asm volatile("" ::: "memory");
	ASSERT_EQ(0, pthread_create(&t, NULL, feed, &f));
	while (!f.go)
		;
	before = __atomic_load_n(word(r, XSC_OFF_CQ_TAIL), __ATOMIC_ACQUIRE);
	((xsc_wait_fn)table()->wait)(r, 0);
	after = __atomic_load_n(word(r, XSC_OFF_CQ_TAIL), __ATOMIC_ACQUIRE);
	f.stop = 1;
	pthread_join(t, NULL);
	/* Drain what the feeder left, so that the C library finds it idle. */
	while (__atomic_load_n(word(r, XSC_OFF_SQ_HEAD), __ATOMIC_ACQUIRE) !=
	       __atomic_load_n(word(r, XSC_OFF_SQ_TAIL), __ATOMIC_RELAXED)) {
		__atomic_store_n(word(r, XSC_OFF_CQ_HEAD),
				 __atomic_load_n(word(r, XSC_OFF_CQ_TAIL), __ATOMIC_ACQUIRE),
				 __ATOMIC_RELEASE);
		((xsc_wait_fn)table()->wait)(r, 0);
	}
	__atomic_store_n(word(r, XSC_OFF_CQ_HEAD),
			 __atomic_load_n(word(r, XSC_OFF_CQ_TAIL), __ATOMIC_ACQUIRE),
			 __ATOMIC_RELEASE);
	asm volatile("" ::: "memory");
	*claim = 0;
	EXPECT_GE(r->sq_entries, after - before) {
		TH_LOG("one wait(0) consumed %u entries (the feeder published %lu)",
		       after - before, f.published);
	}
}

static void *nothing(void *arg)
{
	return arg;
}

static long vm_size_kb(void)
{
	char buf[4096];
	long kb = -1;
	int fd = open("/proc/self/status", O_RDONLY);
	ssize_t n;
	char *p;

	if (fd < 0)
		return -1;
	n = read(fd, buf, sizeof(buf) - 1);
	close(fd);
	if (n <= 0)
		return -1;
	buf[n] = 0;
	p = strstr(buf, "VmSize:");
	if (p)
		kb = strtol(p + 7, NULL, 10);
	return kb;
}

/* An ended thread's region is unmapped (ABI §7.4): memory stays flat. */
TEST(thread_regions_do_not_accumulate)
{
	long before, after;
	pthread_t t;
	int i;

	for (i = 0; i < 50; i++) {
		ASSERT_EQ(0, pthread_create(&t, NULL, nothing, NULL));
		ASSERT_EQ(0, pthread_join(t, NULL));
	}
	before = vm_size_kb();
	ASSERT_LT(0, before);
	for (i = 0; i < 2000; i++) {
		ASSERT_EQ(0, pthread_create(&t, NULL, nothing, NULL));
		ASSERT_EQ(0, pthread_join(t, NULL));
	}
	after = vm_size_kb();
	EXPECT_GT(before + 1024, after) TH_LOG("VmSize %ld kB -> %ld kB", before, after);
}

/*
 * PTRACE_GET_SYSCALL_INFO's answer (linux/ptrace.h: neither musl 1.2.3 nor
 * every glibc declares it).
 */
#define GET_SYSCALL_INFO 0x420e
#define SYSCALL_INFO_ENTRY 1
#define SYSCALL_INFO_EXIT 2

struct syscall_info {
	uint8_t op;
	uint8_t pad[3];
	uint32_t arch;
	uint64_t instruction_pointer;
	uint64_t stack_pointer;
	union {
		struct {
			uint64_t nr;
			uint64_t args[6];
		} entry;
		struct {
			int64_t rval;
			uint8_t is_error;
		} exit;
		struct {
			uint64_t nr;
			uint64_t args[6];
			uint32_t ret_data;
		} seccomp;
	};
};

/* Is this system call number one of XSC's transport calls? */
static int is_transport(unsigned long long nr)
{
	return nr >= XSC_NR_BASE && nr < XSC_NR_BASE + 16;
}

/*
 * Runs `child` traced with PTRACE_SYSCALL and PTRACE_O_TRACESYSGOOD to its
 * end; at each syscall stop, `stop` gets PTRACE_GET_SYSCALL_INFO's answer
 * and may change the registers. Returns the child's wait status; a
 * transport call shown to the tracer fails the test.
 */
static int trace_syscalls(struct __test_metadata *_metadata, pid_t child,
			  void (*stop)(pid_t, struct syscall_info *, void *),
			  void *data)
{
	struct syscall_info info;
	int status;

	ASSERT_EQ(child, waitpid(child, &status, 0));
	ASSERT_TRUE(WIFSTOPPED(status));
	ASSERT_EQ(0, ptrace(PTRACE_SETOPTIONS, child, 0, PTRACE_O_TRACESYSGOOD));
	for (;;) {
		ASSERT_EQ(0, ptrace(PTRACE_SYSCALL, child, 0, 0));
		ASSERT_EQ(child, waitpid(child, &status, 0));
		if (WIFEXITED(status) || WIFSIGNALED(status))
			return status;
		if (WSTOPSIG(status) != (SIGTRAP | 0x80))
			continue;
		memset(&info, 0, sizeof(info));
		ASSERT_LT(0, ptrace(GET_SYSCALL_INFO, child,
				    sizeof(info), &info));
		if (info.op == SYSCALL_INFO_ENTRY)
			EXPECT_FALSE(is_transport(info.entry.nr)) {
				TH_LOG("the tracer saw transport call %#llx",
				       (unsigned long long)info.entry.nr);
			}
		stop(child, &info, data);
	}
}

struct seen {
	int entries, exits, last_was_getppid;
	long long rval;
};

static void count_getppid(pid_t child, struct syscall_info *info,
			  void *data)
{
	struct seen *s = data;

	if (info->op == SYSCALL_INFO_ENTRY) {
		s->last_was_getppid = info->entry.nr == SYS_getppid;
		s->entries += s->last_was_getppid;
	} else if (info->op == SYSCALL_INFO_EXIT && s->last_was_getppid) {
		s->exits++;
		s->rval = info->exit.rval;
		s->last_was_getppid = 0;
	}
}

/*
 * A tracer sees each operation as the system call it names (ABI §6.7), as
 * strace does: getppid stops at its entry and its exit,
 * PTRACE_GET_SYSCALL_INFO names it and gives its result, and no transport
 * call (wait, thread_call) is ever shown.
 */
TEST(ptrace_shows_each_operation_as_its_call)
{
	struct seen s = { 0 };
	int status;
	pid_t child = fork();

	ASSERT_LE(0, child);
	if (child == 0) {
		ptrace(PTRACE_TRACEME, 0, 0, 0);
		raise(SIGSTOP);
		syscall(SYS_getppid);
		syscall(SYS_getppid);
		_exit(0);
	}
	status = trace_syscalls(_metadata, child, count_getppid, &s);
	ASSERT_TRUE(WIFEXITED(status));
	EXPECT_EQ(2, s.entries);
	EXPECT_EQ(2, s.exits);
	EXPECT_EQ(getpid(), s.rval);
}

static void change_getppid(pid_t child, struct syscall_info *info,
			   void *data)
{
	struct user_regs_struct regs;
	struct seen *s = data;

	count_getppid(child, info, data);
	if (info->op == SYSCALL_INFO_ENTRY && s->entries == 2 &&
	    s->last_was_getppid) {
		/* The second getppid becomes getpid. */
		ptrace(PTRACE_GETREGS, child, 0, &regs);
		regs.orig_rax = SYS_getpid;
		ptrace(PTRACE_SETREGS, child, 0, &regs);
	} else if (info->op == SYSCALL_INFO_EXIT && s->exits == 1 &&
		   s->rval == getpid()) {
		/* The first one's result becomes 4242. */
		ptrace(PTRACE_GETREGS, child, 0, &regs);
		regs.rax = 4242;
		ptrace(PTRACE_SETREGS, child, 0, &regs);
		s->rval = 0;
	}
}

/*
 * A tracer changes an operation as it changes a system call: the result at
 * the exit stop, the number at the entry stop.
 */
TEST(ptrace_changes_an_operation_and_its_result)
{
	struct seen s = { 0 };
	int status;
	pid_t child = fork();

	ASSERT_LE(0, child);
	if (child == 0) {
		long first, second;

		ptrace(PTRACE_TRACEME, 0, 0, 0);
		raise(SIGSTOP);
		first = syscall(SYS_getppid);
		second = syscall(SYS_getppid);
		_exit(first == 4242 && second == getpid() ? 0 : 1);
	}
	status = trace_syscalls(_metadata, child, change_getppid, &s);
	ASSERT_TRUE(WIFEXITED(status));
	EXPECT_EQ(0, WEXITSTATUS(status));
}

/*
 * A trace instance of this test's own under tracefs (the VM's /init mounts
 * it at /tracing): its buffer and events are apart from everyone else's,
 * so clearing it loses no one's trace. Its path in `dir`.
 */
static int trace_instance(char *dir, size_t n)
{
	static const char *const where[] = { "/sys/kernel/tracing", "/tracing" };
	char path[256];
	unsigned int i;

	for (i = 0; i < 2; i++) {
		snprintf(path, sizeof(path), "%s/instances", where[i]);
		if (access(path, W_OK) != 0)
			continue;
		snprintf(dir, n, "%s/instances/xsc_test_%d", where[i], getpid());
		if (mkdir(dir, 0700) == 0)
			return 0;
	}
	return -1;
}

static int write_file(const char *dir, const char *file, const char *text)
{
	char path[256];
	int fd, ok;

	snprintf(path, sizeof(path), "%s/%s", dir, file);
	fd = open(path, O_WRONLY | O_TRUNC | O_CLOEXEC);
	if (fd < 0)
		return -1;
	ok = write(fd, text, strlen(text)) == (ssize_t)strlen(text);
	close(fd);
	return ok ? 0 : -1;
}

/* How many lines of the instance's trace buffer hold `text`. */
static int count_in_trace(const char *dir, const char *text)
{
	char path[256], line[512];
	int n = 0;
	FILE *f;

	snprintf(path, sizeof(path), "%s/trace", dir);
	f = fopen(path, "r");
	if (!f)
		return -1;
	while (fgets(line, sizeof(line), f))
		n += strstr(line, text) != NULL;
	fclose(f);
	return n;
}

/*
 * The raw_syscalls tracepoints (perf trace, tracefs) show each operation
 * as the system call it names, with its result, in the calling thread:
 * three getppid calls are three sys_enter and three sys_exit events of
 * that thread.
 */
TEST(tracepoints_show_each_operation_as_its_call)
{
	char dir[128], filter[128], text[64];
	int go[2], status, enters, exits;
	pid_t child;

	if (trace_instance(dir, sizeof(dir)))
		SKIP(return, "no writable tracefs");
	ASSERT_EQ(0, pipe(go));
	child = fork();
	ASSERT_LE(0, child);
	if (child == 0) {
		char c;

		close(go[1]);
		if (read(go[0], &c, 1) != 1)
			_exit(2);
		syscall(SYS_getppid);
		syscall(SYS_getppid);
		syscall(SYS_getppid);
		_exit(0);
	}
	close(go[0]);
	snprintf(filter, sizeof(filter), "common_pid == %d && id == %d",
		 child, SYS_getppid);
	ASSERT_EQ(0, write_file(dir, "events/raw_syscalls/sys_enter/filter", filter));
	ASSERT_EQ(0, write_file(dir, "events/raw_syscalls/sys_exit/filter", filter));
	ASSERT_EQ(0, write_file(dir, "events/raw_syscalls/enable", "1"));
	ASSERT_EQ(1, write(go[1], "g", 1));
	ASSERT_EQ(child, waitpid(child, &status, 0));
	ASSERT_EQ(0, write_file(dir, "events/raw_syscalls/enable", "0"));
	EXPECT_TRUE(WIFEXITED(status) && WEXITSTATUS(status) == 0);
	snprintf(text, sizeof(text), "sys_enter: NR %d (", SYS_getppid);
	enters = count_in_trace(dir, text);
	snprintf(text, sizeof(text), "sys_exit: NR %d = %d", SYS_getppid, getpid());
	exits = count_in_trace(dir, text);
	EXPECT_EQ(3, enters);
	EXPECT_EQ(3, exits);
	/* Nothing of a transport call, from any thread. */
	snprintf(text, sizeof(text), "NR %d ", XSC_NR_BASE);
	EXPECT_EQ(0, count_in_trace(dir, text));
	rmdir(dir);
}

TEST_HARNESS_MAIN
