/* xsc_fuzz: a fuzzer of the XSC kernel through its rings, run by
 * `cargo xtask fuzz` (and a short run in `cargo xtask test`) on the debug
 * kernel, as an unprivileged user (uid/gid 65534), inline and in polled
 * mode. The oracle is the kernel itself: KASAN, UBSAN, KFENCE, lockdep,
 * the lockup and hung-task detectors and panic_on_warn report on the
 * console, which the host reads; the fuzzer's own job is to make many
 * odd calls without being stopped by the odd results.
 *
 *   xsc_fuzz syscalls SECONDS SEED   system calls with random, well-typed
 *                                    arguments (trinity-style), made through
 *                                    the C library, so every one is a ring
 *                                    entry or a thread_call
 *   xsc_fuzz ring SECONDS SEED       the ring itself: hostile entries, flags,
 *                                    tails and heads, thread_call of random
 *                                    entries, threads writing into each
 *                                    other's rings, fork and thread exit
 *                                    with entries pending
 *
 * Work is done in short-lived worker processes (a worker that dies by a
 * signal, or overruns its time and is killed, is replaced: that is the
 * fuzzer hurting itself, not a kernel finding; a worker that cannot be
 * killed hangs the fuzzer, which the host reports). Prints `calls N
 * workers N died N overran N` at the end and exits 0; on a kernel with
 * KCOV (the debug kernel instruments XSC's own code, kernel/src/xsc/),
 * also `kcov N distinct PCs`: the places in XSC's code the workers'
 * calls reached (their main threads', inline: a poller's are not seen). */
#define _GNU_SOURCE
#include <errno.h>
#include <fcntl.h>
#include <grp.h>
#include <linux/xsc.h>
#include <pthread.h>
#include <setjmp.h>
#include <signal.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/auxv.h>
#include <sys/ioctl.h>
#include <sys/mman.h>
#include <sys/mount.h>
#include <sys/prctl.h>
#include <sys/resource.h>
#include <sys/socket.h>
#include <sys/stat.h>
#include <sys/syscall.h>
#include <sys/time.h>
#include <sys/wait.h>
#include <time.h>
#include <unistd.h>

#define WORKER_SECONDS 3
#define NOBODY 65534

static uint64_t rng;

/*
 * KCOV: the area the kernel writes the PCs a worker's thread reaches
 * into (on one descriptor, opened by the parent as root and enabled by
 * each worker in turn), and the set of distinct PCs over the run, a
 * bitmap shared by all workers (hashed PCs: collisions are negligible
 * for the few thousand places XSC's code has).
 */
#define KCOV_INIT_TRACE _IOR('c', 1, unsigned long)
#define KCOV_ENABLE _IO('c', 100)
#define KCOV_TRACE_PC 0
#define KCOV_WORDS (64 << 10)
#define KCOV_FD 1000
#define COVER_BITS 20
static uint64_t *kcov_area;
static uint64_t *cover;
static const char *kcov_missing = "not tried";

/* As root, before the workers: the KCOV descriptor and area, if any. */
static void kcov_open(void)
{
	int fd;

	mkdir("/tmp/debugfs", 0700);
	if (mount("debugfs", "/tmp/debugfs", "debugfs", 0, NULL) &&
	    errno != EBUSY) {
		kcov_missing = "no debugfs";
		return;
	}
	fd = open("/tmp/debugfs/kcov", O_RDWR);
	if (fd < 0) {
		kcov_missing = "no debugfs kcov file: a kernel without CONFIG_KCOV";
		return;
	}
	if (dup2(fd, KCOV_FD) != KCOV_FD ||
	    ioctl(KCOV_FD, KCOV_INIT_TRACE, KCOV_WORDS)) {
		kcov_missing = "KCOV_INIT_TRACE failed";
		return;
	}
	close(fd);
	kcov_area = mmap(NULL, KCOV_WORDS * sizeof(uint64_t),
			 PROT_READ | PROT_WRITE, MAP_SHARED, KCOV_FD, 0);
	cover = mmap(NULL, (1 << COVER_BITS) / 8, PROT_READ | PROT_WRITE,
		     MAP_SHARED | MAP_ANONYMOUS, -1, 0);
	if (kcov_area == MAP_FAILED || cover == MAP_FAILED) {
		kcov_area = NULL;
		kcov_missing = "cannot map the KCOV area";
	}
}

/* In a worker: coverage of its main thread from now on. */
static void kcov_enable(void)
{
	if (kcov_area && ioctl(KCOV_FD, KCOV_ENABLE, KCOV_TRACE_PC) == 0)
		__atomic_store_n(&kcov_area[0], 0, __ATOMIC_RELAXED);
}

/* Folds the PCs reached since the last fold into the shared set. */
static void kcov_fold(void)
{
	uint64_t n, i, h;

	if (!kcov_area)
		return;
	n = __atomic_load_n(&kcov_area[0], __ATOMIC_RELAXED);
	if (n > KCOV_WORDS - 1)
		n = KCOV_WORDS - 1;
	for (i = 0; i < n; i++) {
		h = (kcov_area[i + 1] * 0x9e3779b97f4a7c15ULL) >> (64 - COVER_BITS);
		__atomic_fetch_or(&cover[h / 64], 1ULL << (h % 64),
				  __ATOMIC_RELAXED);
	}
	__atomic_store_n(&kcov_area[0], 0, __ATOMIC_RELAXED);
}

static uint64_t rnd(void)
{
	/* xorshift64*: reproducible from the seed printed at the start. */
	rng ^= rng >> 12;
	rng ^= rng << 25;
	rng ^= rng >> 27;
	return rng * 2685821657736338717ULL;
}

static uint64_t below(uint64_t n)
{
	return n ? rnd() % n : 0;
}

/* Shared with the parent: what the workers did. */
static volatile uint64_t *calls;

/* ---- argument generators (trinity-style types) ---- */

static int fds[32];
static int nfds;
static char *bufs[4];
static const size_t BUF = 1 << 16;

static uint64_t gen_fd(void)
{
	switch (below(8)) {
	case 0:
		return (uint64_t)-1;
	case 1:
		return below(1024);
	default:
		return nfds ? (uint64_t)fds[below(nfds)] : 0;
	}
}

static uint64_t gen_ptr(void)
{
	static const uint64_t odd[] = {
		0, 1, 4095, 0x7ffffffff000ULL, 0xffff800000000000ULL,
		0xffffffffffffffffULL, 0x10000,
	};

	if (below(6) == 0)
		return odd[below(sizeof(odd) / sizeof(odd[0]))];
	return (uint64_t)(bufs[below(4)] + below(BUF / 2));
}

static uint64_t gen_size(void)
{
	static const uint64_t odd[] = { 0, 1, 8, 64, 4096, 65536, 1 << 20,
					(uint64_t)-1, 0x7fffffff };

	if (below(3) == 0)
		return odd[below(sizeof(odd) / sizeof(odd[0]))];
	return below(BUF / 2);
}

static const char *const paths[] = {
	"/tmp/f/a", "/tmp/f/b", "/tmp/f/d", "/tmp/f/d/x", "/tmp/f", "/proc/self/maps",
	"/proc/self/status", "/dev/null", "/dev/zero", "/", "/etc/shadow",
	"", "/tmp/f/../f/a", "/proc/self/fd/0", "/sys/kernel", "/init",
};

static uint64_t gen_path(void)
{
	if (below(10) == 0)
		return gen_ptr();
	return (uint64_t)paths[below(sizeof(paths) / sizeof(paths[0]))];
}

static uint64_t gen_flags(void)
{
	switch (below(4)) {
	case 0:
		return 0;
	case 1:
		return 1ULL << below(32);
	case 2:
		return rnd() & 0xffff;
	default:
		return rnd();
	}
}

static uint64_t gen_int(void)
{
	switch (below(4)) {
	case 0:
		return below(4);
	case 1:
		return (uint64_t)-1;
	case 2:
		return below(64);
	default:
		return (uint32_t)rnd();
	}
}

static uint64_t gen_pid(void)
{
	switch (below(4)) {
	case 0:
		return 0;
	case 1:
		return getpid();
	case 2:
		return (uint64_t)-1 - below(2);
	default:
		return below(4096);
	}
}

/* A system call and its arguments' types: f fd, p pointer, s size,
 * P path, F flags, i int, d pid, a address of a mapping, - zero. The
 * calls that would end the worker or leave the fuzz (exit, execve,
 * kill of others, reboot, ...) are not here; signals go only to the
 * worker itself, with harmless signals. */
struct call {
	int nr;
	const char *args;
};

static const struct call CALLS[] = {
	{ SYS_read, "fps" }, { SYS_write, "fps" }, { SYS_openat, "fPFi" },
	{ SYS_close, "f" }, { SYS_fstat, "fp" }, { SYS_lseek, "fii" },
	{ SYS_mmap, "asiFfi" }, { SYS_mprotect, "asi" }, { SYS_munmap, "as" },
	{ SYS_brk, "a" }, { SYS_ioctl, "fip" }, { SYS_pread64, "fpsi" },
	{ SYS_pwrite64, "fpsi" }, { SYS_readv, "fpi" }, { SYS_writev, "fpi" },
	{ SYS_pipe2, "pF" }, { SYS_sched_yield, "" }, { SYS_mremap, "assFa" },
	{ SYS_msync, "asF" }, { SYS_mincore, "asp" }, { SYS_madvise, "asi" },
	{ SYS_dup, "f" }, { SYS_dup3, "ffF" }, { SYS_nanosleep, "pp" },
	{ SYS_getitimer, "ip" }, { SYS_getpid, "" }, { SYS_socket, "iii" },
	{ SYS_connect, "fps" }, { SYS_sendto, "fpsFps" }, { SYS_recvfrom, "fpsFpp" },
	{ SYS_shutdown, "fi" }, { SYS_bind, "fps" }, { SYS_listen, "fi" },
	{ SYS_getsockname, "fpp" }, { SYS_socketpair, "iiip" },
	{ SYS_setsockopt, "fiips" }, { SYS_getsockopt, "fiipp" },
	{ SYS_wait4, "dpFp" }, { SYS_uname, "p" }, { SYS_fcntl, "fii" },
	{ SYS_flock, "fi" }, { SYS_fsync, "f" }, { SYS_ftruncate, "fs" },
	{ SYS_getdents64, "fps" }, { SYS_getcwd, "ps" }, { SYS_chdir, "P" },
	{ SYS_renameat, "fPfP" }, { SYS_mkdirat, "fPi" }, { SYS_unlinkat, "fPF" },
	{ SYS_symlinkat, "PfP" }, { SYS_readlinkat, "fPps" }, { SYS_fchmodat, "fPi" },
	{ SYS_umask, "i" }, { SYS_gettimeofday, "pp" }, { SYS_getrlimit, "ip" },
	{ SYS_getrusage, "ip" }, { SYS_sysinfo, "p" }, { SYS_times, "p" },
	{ SYS_getuid, "" }, { SYS_getppid, "" }, { SYS_getpgrp, "" },
	{ SYS_setsid, "" }, { SYS_sigaltstack, "pp" }, { SYS_statfs, "Pp" },
	{ SYS_fstatfs, "fp" }, { SYS_getpriority, "id" }, { SYS_prctl, "iiiii" },
	{ SYS_futex, "piipPi" }, { SYS_epoll_create1, "F" },
	{ SYS_epoll_ctl, "fifp" }, { SYS_epoll_wait, "fpii" },
	{ SYS_eventfd2, "iF" }, { SYS_timerfd_create, "iF" },
	{ SYS_timerfd_settime, "fFpp" }, { SYS_signalfd4, "fpsF" },
	{ SYS_inotify_init1, "F" }, { SYS_inotify_add_watch, "fPF" },
	{ SYS_memfd_create, "PF" }, { SYS_clock_gettime, "ip" },
	{ SYS_clock_getres, "ip" }, { SYS_clock_nanosleep, "iFpp" },
	{ SYS_getrandom, "psF" }, { SYS_splice, "fpfpsF" }, { SYS_tee, "ffsF" },
	{ SYS_sendfile, "ffps" }, { SYS_copy_file_range, "fpfpsF" },
	{ SYS_statx, "fPFip" }, { SYS_faccessat, "fPi" },
	{ SYS_set_robust_list, "ps" }, { SYS_get_robust_list, "dpp" },
	{ SYS_rt_sigprocmask, "ipps" }, { SYS_rt_sigpending, "ps" },
	{ SYS_sched_getaffinity, "dsp" }, { SYS_sched_setaffinity, "dsp" },
	{ SYS_getcpu, "ppp" }, { SYS_sched_getparam, "dp" },
	{ SYS_mlock, "as" }, { SYS_munlock, "as" }, { SYS_pidfd_open, "dF" },
	{ SYS_membarrier, "iFi" }, { SYS_tgkill, "ddi" },
	{ SYS_rt_sigaction, "ippi" }, { SYS_setitimer, "ipp" },
	{ SYS_arch_prctl, "ip" }, { SYS_unshare, "F" }, { SYS_setuid, "i" },
	{ SYS_capset, "pp" }, { SYS_personality, "i" }, { SYS_set_tid_address, "p" },
	{ SYS_rseq, "psFi" }, { SYS_ppoll, "pipps" }, { SYS_pselect6, "ipppp" },
	{ SYS_gettid, "" }, { SYS_vfork, "" }, { SYS_fork, "" },
};
#define NCALLS (sizeof(CALLS) / sizeof(CALLS[0]))

/* Mappings the worker made: candidates for `a` arguments. */
static uint64_t maps[16];

static uint64_t gen_addr(void)
{
	if (below(4) == 0)
		return gen_ptr();
	return maps[below(16)] + 4096 * below(4);
}

static uint64_t gen_arg(char t)
{
	switch (t) {
	case 'f':
		return gen_fd();
	case 'p':
		return gen_ptr();
	case 's':
		return gen_size();
	case 'P':
		return gen_path();
	case 'F':
		return gen_flags();
	case 'i':
		return gen_int();
	case 'd':
		return gen_pid();
	case 'a':
		return gen_addr();
	default:
		return 0;
	}
}

/* Signals a worker may send itself; others it ignores. */
static int harmless_signal(int sig)
{
	return sig == 0 || sig == SIGCHLD || sig == SIGURG || sig == SIGWINCH ||
	       sig == SIGUSR1 || sig == SIGUSR2 || sig == SIGALRM;
}

static void one_syscall(void)
{
	const struct call *c = &CALLS[below(NCALLS)];
	uint64_t a[6] = { 0 };
	long r;
	int i;

	for (i = 0; c->args[i] && i < 6; i++)
		a[i] = gen_arg(c->args[i]);
	switch (c->nr) {
	case SYS_tgkill:
		a[0] = getpid();
		a[1] = syscall(SYS_gettid);
		if (!harmless_signal((int)a[2]))
			a[2] = SIGUSR1;
		break;
	case SYS_setsid:
	case SYS_unshare:
		break;
	case SYS_rt_sigaction:
		/* No handler for the signals that end the worker's control. */
		if (a[0] == SIGKILL || a[0] == SIGSTOP)
			break;
		a[1] = 0;
		break;
	case SYS_wait4:
		a[0] = (uint64_t)-1;
		a[2] |= WNOHANG;
		break;
	case SYS_nanosleep:
	case SYS_clock_nanosleep:
	case SYS_epoll_wait:
	case SYS_futex:
		/* May sleep: an interval timer interrupts it. */
		break;
	case SYS_munmap:
	case SYS_mprotect:
	case SYS_mremap:
		/* Only the worker's own mappings: not its code or stack. */
		a[0] = maps[below(16)];
		a[1] = 4096 * (1 + below(4));
		break;
	case SYS_brk:
		a[0] = 0;
		break;
	case SYS_setitimer:
		/* Not ITIMER_REAL: its alarm ends every blocking call. */
		a[0] = 1 + below(2);
		break;
	case SYS_ppoll:
		a[3] = 0;	/* no mask that could block SIGALRM */
		break;
	case SYS_pselect6:
		a[5] = 0;
		break;
	case SYS_rt_sigprocmask: {
		/* SIGALRM stays open: it ends every blocking call. */
		static uint64_t mask;

		mask = rnd() & ~(1ULL << (SIGALRM - 1));
		a[1] = below(4) ? (uint64_t)&mask : 0;
		a[3] = 8;
		break;
	}
	case SYS_prctl:
		/* Not PR_SET_SECCOMP strict, PR_SET_PDEATHSIG games are fine. */
		if (a[0] == PR_SET_SECCOMP)
			a[0] = 0;
		break;
	case SYS_sched_setaffinity:
		a[0] = 0;
		break;
	case SYS_arch_prctl: {
		/* Not ARCH_SET_FS: the worker's own TLS. */
		static const uint64_t codes[] = { 0x1001, 0x1003, 0x1004, 0x2001,
						  0x2002, 0x2003, 0x3001, 0x3002 };

		a[0] = codes[below(8)];
		break;
	}
	}
	r = syscall(c->nr, a[0], a[1], a[2], a[3], a[4], a[5]);
	__atomic_add_fetch(calls, 1, __ATOMIC_RELAXED);
	if (r >= 0 && r < 1024 && (c->nr == SYS_openat || c->nr == SYS_socket ||
				   c->nr == SYS_dup || c->nr == SYS_eventfd2 ||
				   c->nr == SYS_epoll_create1 || c->nr == SYS_memfd_create ||
				   c->nr == SYS_timerfd_create || c->nr == SYS_inotify_init1 ||
				   c->nr == SYS_signalfd4 || c->nr == SYS_pidfd_open)) {
		if (nfds < 32)
			fds[nfds++] = (int)r;
		else
			close((int)r);
	}
	if ((c->nr == SYS_fork || c->nr == SYS_vfork) && r == 0)
		_exit(0);
}

/* ---- the ring level ---- */

static struct xsc_region_header *my_region(void)
{
	uint64_t p;

	asm volatile("mov %%gs:0, %0" : "=r"(p));
	return (struct xsc_region_header *)p;
}

static uint32_t *word(struct xsc_region_header *r, unsigned int off)
{
	return (uint32_t *)((char *)r + off);
}

typedef long (*wait_fn)(void *, unsigned int);
typedef long (*thread_call_fn)(void *, const struct xsc_sqe *);

static const struct xsc_entry_table *table(void)
{
	return (const struct xsc_entry_table *)getauxval(AT_XSC_ENTRY);
}

/* Regions of the worker's threads: any thread may scribble on another's. */
static struct xsc_region_header *volatile regions[4];

/*
 * A sibling's region is unmapped when the sibling ends, which it may do
 * between another thread's reading its address and writing into it: that
 * write's SIGSEGV comes back here (the fuzzer's own fault, not the
 * kernel's), any other SIGSEGV ends the worker as before.
 */
static __thread sigjmp_buf *volatile sibling_write;

static void on_segv(int sig)
{
	if (sibling_write)
		siglongjmp(*sibling_write, 1);
	signal(sig, SIG_DFL);
	raise(sig);
}

static void random_entry(struct xsc_sqe *e)
{
	const struct call *c = &CALLS[below(NCALLS)];
	int i;

	memset(e, 0, sizeof(*e));
	switch (below(8)) {
	case 0:
		e->opcode = (uint32_t)rnd();
		break;
	case 1:
		e->opcode = XSC_NR_BASE + below(6);
		e->args[0] = (uint64_t)my_region();
		e->args[1] = below(2) ? (uint64_t)e : 1;
		break;
	case 2:
		e->opcode = 440 + below(30);
		break;
	default:
		e->opcode = c->nr;
		for (i = 0; c->args[i] && i < 6; i++)
			e->args[i] = gen_arg(c->args[i]);
		/* Keep the worker's memory and life as they are. */
		if (c->nr == SYS_munmap || c->nr == SYS_mprotect ||
		    c->nr == SYS_mremap) {
			e->args[0] = maps[below(16)];
			e->args[1] = 4096;
		}
		if (c->nr == SYS_tgkill)
			e->args[2] = 0;
		if (c->nr == SYS_brk)
			e->args[0] = 0;
		if (c->nr == SYS_rt_sigaction)
			e->args[1] = 0;
	}
	if (e->opcode == SYS_arch_prctl && e->args[0] == 0x1002)
		e->args[0] = 0x1003;	/* not ARCH_SET_FS */
	if (below(8) == 0)
		e->flags = below(2) ? XSC_SQE_F_THEN_EXIT : (uint32_t)rnd();
	/*
	 * A thread ending by SQE_F_THEN_EXIT would skip the C library's
	 * bookkeeping: only the main thread tries it (where it is -EINVAL).
	 */
	if (my_region() != regions[0])
		e->flags &= ~XSC_SQE_F_THEN_EXIT;
	e->user_data = rnd();
}

static void one_ring_step(void)
{
	struct xsc_region_header *r = my_region();
	volatile uint64_t *claim = (uint64_t *)((char *)r + 0x180);
	struct xsc_sqe *sqes = (struct xsc_sqe *)((char *)r + r->sqes_offset);
	uint32_t tail, n, i;
	struct xsc_sqe e;

	*claim = 1;
	asm volatile("" ::: "memory");
	switch (below(10)) {
	case 0: {
		/* A hostile tail or head, then a wait. */
		uint32_t off = below(2) ? XSC_OFF_SQ_TAIL : XSC_OFF_CQ_HEAD;

		__atomic_store_n(word(r, off), (uint32_t)rnd(), __ATOMIC_RELEASE);
		((wait_fn)table()->wait)(r, below(3));
		break;
	}
	case 1: {
		/* Into a sibling's ring (which may be gone: on_segv). */
		struct xsc_region_header *o = regions[below(4)];
		sigjmp_buf jb;

		random_entry(&e);
		if (o && !sigsetjmp(jb, 1)) {
			struct xsc_sqe *os;

			sibling_write = &jb;
			os = (struct xsc_sqe *)((char *)o + o->sqes_offset);
			tail = __atomic_load_n(word(o, XSC_OFF_SQ_TAIL), __ATOMIC_RELAXED);
			os[tail & (o->sq_entries - 1)] = e;
			__atomic_store_n(word(o, XSC_OFF_SQ_TAIL), tail + 1 + below(2),
					 __ATOMIC_RELEASE);
		}
		sibling_write = NULL;
		break;
	}
	case 2:
		/* thread_call of a random entry (THEN_EXIT among them). */
		random_entry(&e);
		if (e.opcode == SYS_fork || e.opcode == SYS_vfork ||
		    e.opcode == SYS_clone || e.opcode == 56)
			break;
		((thread_call_fn)table()->thread_call)(r, &e);
		__atomic_add_fetch(calls, 1, __ATOMIC_RELAXED);
		break;
	case 3:
		/* Entries pending across a fork. */
		n = 1 + below(8);
		tail = __atomic_load_n(word(r, XSC_OFF_SQ_TAIL), __ATOMIC_RELAXED);
		for (i = 0; i < n; i++) {
			random_entry(&e);
			e.flags = 0;
			if (e.opcode == SYS_fork || e.opcode == SYS_vfork)
				e.opcode = SYS_getpid;
			sqes[(tail + i) & (r->sq_entries - 1)] = e;
		}
		__atomic_store_n(word(r, XSC_OFF_SQ_TAIL), tail + n, __ATOMIC_RELEASE);
		if (below(2)) {
			pid_t c = fork();

			if (c == 0) {
				((wait_fn)table()->wait)(my_region(), 0);
				_exit(0);
			}
			if (c > 0)
				waitpid(c, NULL, 0);
		}
		((wait_fn)table()->wait)(r, 0);
		break;
	case 4:
		((long (*)(void *))table()->doorbell)(r);
		break;
	default:
		/* A batch of random entries, then a wait for some. */
		n = 1 + below(r->sq_entries + 4);
		tail = __atomic_load_n(word(r, XSC_OFF_SQ_TAIL), __ATOMIC_RELAXED);
		for (i = 0; i < n; i++) {
			random_entry(&e);
			sqes[(tail + i) & (r->sq_entries - 1)] = e;
		}
		__atomic_store_n(word(r, XSC_OFF_SQ_TAIL), tail + n, __ATOMIC_RELEASE);
		((wait_fn)table()->wait)(r, below(4));
		__atomic_add_fetch(calls, n, __ATOMIC_RELAXED);
	}
	/*
	 * Consume and drop whatever is there (the kernel resynchronises a
	 * corrupt tail), so that the C library finds the rings idle.
	 */
	for (i = 0; i < 8; i++) {
		__atomic_store_n(word(r, XSC_OFF_CQ_HEAD),
				 __atomic_load_n(word(r, XSC_OFF_CQ_TAIL), __ATOMIC_ACQUIRE),
				 __ATOMIC_RELEASE);
		((wait_fn)table()->wait)(r, 0);
		if (__atomic_load_n(word(r, XSC_OFF_SQ_HEAD), __ATOMIC_ACQUIRE) ==
		    __atomic_load_n(word(r, XSC_OFF_SQ_TAIL), __ATOMIC_RELAXED))
			break;
	}
	__atomic_store_n(word(r, XSC_OFF_CQ_HEAD),
			 __atomic_load_n(word(r, XSC_OFF_CQ_TAIL), __ATOMIC_ACQUIRE),
			 __ATOMIC_RELEASE);
	asm volatile("" ::: "memory");
	*claim = 0;
}

/*
 * An alarm every 20 ms on this thread itself (SIGEV_THREAD_ID), so that a
 * thread blocked in an entry, or in `wait` for more completions than can
 * come, gets EINTR: a process-wide alarm reaches only one thread.
 */
static void thread_alarm(void)
{
	struct {
		uint64_t value;
		int signo, notify, tid, pad[11];
	} sev = { .signo = SIGALRM, .notify = 4 /* SIGEV_THREAD_ID */ };
	struct itimerspec its = { { 0, 20000000 }, { 0, 20000000 } };
	int id;

	sev.tid = (int)syscall(SYS_gettid);
	if (syscall(SYS_timer_create, CLOCK_MONOTONIC, &sev, &id) == 0)
		syscall(SYS_timer_settime, id, 0, &its, NULL);
}

static int ring_mode;
static volatile int stop;

static void *ring_thread(void *arg)
{
	long slot = (long)arg;

	regions[slot] = my_region();
	rng += slot * 7919;
	thread_alarm();
	while (!stop) {
		one_ring_step();
		/* Sometimes end with entries pending. */
		if (below(200) == 0) {
			struct xsc_region_header *r = my_region();
			struct xsc_sqe *sqes = (struct xsc_sqe *)((char *)r + r->sqes_offset);
			uint32_t tail = __atomic_load_n(word(r, XSC_OFF_SQ_TAIL), __ATOMIC_RELAXED);
			struct xsc_sqe e = { .opcode = SYS_getpid };

			sqes[tail & (r->sq_entries - 1)] = e;
			__atomic_store_n(word(r, XSC_OFF_SQ_TAIL), tail + 1, __ATOMIC_RELEASE);
			regions[slot] = NULL;
			return NULL;
		}
	}
	regions[slot] = NULL;
	return NULL;
}

static void on_alarm(int sig)
{
	(void)sig;
}

static void worker(void)
{
	struct itimerval it = { { 0, 20000 }, { 0, 20000 } };
	struct rlimit lim;
	time_t end = time(NULL) + WORKER_SECONDS;
	pthread_t t[3];
	int i, p[2];

	/*
	 * Its standard streams go nowhere: a random write to descriptor 1
	 * or 2 would otherwise land in the VM's console, where the host reads
	 * the reports (the parent prints the summary).
	 */
	i = open("/dev/null", O_RDWR);
	if (i >= 0) {
		dup2(i, 0);
		dup2(i, 1);
		dup2(i, 2);
		if (i > 2)
			close(i);
	}
	/* No SA_RESTART: the alarm interrupts every blocking call. */
	sigaction(SIGALRM, &(struct sigaction){ .sa_handler = on_alarm }, NULL);
	sigaction(SIGSEGV, &(struct sigaction){ .sa_handler = on_segv }, NULL);
	signal(SIGPIPE, SIG_IGN);
	signal(SIGUSR1, SIG_IGN);
	signal(SIGUSR2, SIG_IGN);
	signal(SIGTTOU, SIG_IGN);
	signal(SIGTTIN, SIG_IGN);
	signal(SIGXFSZ, SIG_IGN);
	signal(SIGVTALRM, SIG_IGN);
	signal(SIGPROF, SIG_IGN);
	setitimer(ITIMER_REAL, &it, NULL);
	lim.rlim_cur = lim.rlim_max = 64;
	setrlimit(RLIMIT_NPROC, &lim);
	lim.rlim_cur = lim.rlim_max = 1 << 20;
	setrlimit(RLIMIT_FSIZE, &lim);
	/*
	 * Each buffer is followed by 4 MiB of PROT_NONE, so that a call told
	 * to write more than the buffer holds faults in the kernel (EFAULT)
	 * instead of overwriting the worker's other memory.
	 */
	for (i = 0; i < 4; i++) {
		bufs[i] = mmap(NULL, BUF + (4 << 20), PROT_NONE,
			       MAP_PRIVATE | MAP_ANONYMOUS, -1, 0);
		mprotect(bufs[i], BUF, PROT_READ | PROT_WRITE);
	}
	for (i = 0; i < 16; i++)
		maps[i] = (uint64_t)mmap(NULL, 4 * 4096, PROT_READ | PROT_WRITE,
					 MAP_PRIVATE | MAP_ANONYMOUS, -1, 0);
	fds[nfds++] = open("/tmp/f/a", O_RDWR | O_CREAT, 0600);
	fds[nfds++] = open("/dev/null", O_RDWR);
	if (pipe(p) == 0) {
		fds[nfds++] = p[0];
		fds[nfds++] = p[1];
	}
	if (socketpair(AF_UNIX, SOCK_STREAM, 0, p) == 0) {
		fds[nfds++] = p[0];
		fds[nfds++] = p[1];
	}
	kcov_enable();
	if (ring_mode) {
		regions[0] = my_region();
		thread_alarm();
		while (time(NULL) < end) {
			for (i = 0; i < 3; i++)
				pthread_create(&t[i], NULL, ring_thread, (void *)(long)(i + 1));
			for (i = 0; i < 50; i++) {
				one_ring_step();
				kcov_fold();
			}
			stop = 1;
			for (i = 0; i < 3; i++)
				pthread_join(t[i], NULL);
			stop = 0;
		}
	} else {
		while (time(NULL) < end) {
			one_syscall();
			kcov_fold();
		}
	}
	_exit(0);
}

int main(int argc, char **argv)
{
	uint64_t workers = 0, died = 0, overran = 0, by[65] = { 0 };
	time_t end;
	int seconds;

	if (argc != 4 || (strcmp(argv[1], "syscalls") && strcmp(argv[1], "ring"))) {
		fprintf(stderr, "usage: xsc_fuzz syscalls|ring SECONDS SEED\n");
		return 2;
	}
	if (!getauxval(AT_XSC_RING)) {
		fprintf(stderr, "xsc_fuzz: not an XSC process: build it with xsc-cc\n");
		return 2;
	}
	ring_mode = !strcmp(argv[1], "ring");
	seconds = atoi(argv[2]);
	/* Odd and distinct for neighbouring seeds (xorshift needs nonzero). */
	rng = strtoull(argv[3], NULL, 0) * 2 + 1;
	calls = mmap(NULL, 4096, PROT_READ | PROT_WRITE, MAP_SHARED | MAP_ANONYMOUS, -1, 0);
	mkdir("/tmp/f", 0777);
	mkdir("/tmp/f/d", 0777);
	chmod("/tmp/f", 0777);
	chown("/tmp/f", NOBODY, NOBODY);
	kcov_open();
	/* Unprivileged from here on. */
	if (setgroups(0, NULL) || setgid(NOBODY) || setuid(NOBODY)) {
		perror("xsc_fuzz: cannot become uid 65534");
		return 2;
	}
	printf("xsc_fuzz %s: %d s, seed %#llx, uid %d\n", argv[1], seconds,
	       (unsigned long long)rng, (int)getuid());
	end = time(NULL) + seconds;
	while (time(NULL) < end) {
		int st = 0, waited = 0;
		pid_t w;

		rng = rnd();
		w = fork();
		if (w < 0) {
			sleep(1);
			continue;
		}
		if (w == 0)
			worker();
		workers++;
		/* A worker that outlives its time by 10 s is killed. */
		while (waitpid(w, &st, WNOHANG) == 0) {
			if (++waited > 100 * (WORKER_SECONDS + 10)) {
				kill(w, SIGKILL);
				waitpid(w, &st, 0);
				overran++;
				break;
			}
			usleep(10000);
		}
		if (WIFSIGNALED(st) && WTERMSIG(st) != SIGKILL) {
			died++;
			by[WTERMSIG(st) & 63]++;
		}
		/* Its children, if any escaped. */
		while (waitpid(-1, NULL, WNOHANG) > 0)
			;
	}
	printf("xsc_fuzz %s: calls %llu workers %llu died %llu overran %llu\n", argv[1],
	       (unsigned long long)*calls, (unsigned long long)workers,
	       (unsigned long long)died, (unsigned long long)overran);
	if (kcov_area) {
		uint64_t pcs = 0;

		for (int w = 0; w < (1 << COVER_BITS) / 64; w++)
			pcs += __builtin_popcountll(cover[w]);
		printf("xsc_fuzz %s: kcov %llu distinct PCs in XSC's code\n",
		       argv[1], (unsigned long long)pcs);
	} else {
		printf("xsc_fuzz %s: kcov none (%s)\n", argv[1], kcov_missing);
	}
	for (int sig = 1; sig < 65; sig++)
		if (by[sig])
			printf("xsc_fuzz %s: %llu workers died by %s\n", argv[1],
			       (unsigned long long)by[sig], strsignal(sig));
	return 0;
}
