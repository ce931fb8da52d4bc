/* common.h: helpers shared by the conformance cases.
 *
 * Every case is built twice, with glibc (gcc, natively) and with the XSC
 * musl fork (xsc-cc), so it may use only what both C libraries provide, and
 * it must print the same text on both when the kernel behaves the same:
 * no addresses, pids, times or libc-specific strings (strerror and
 * strsignal differ between the libraries), only results, errno names,
 * signal names and coarse timing classes. */
#ifndef CONFORMANCE_COMMON_H
#define CONFORMANCE_COMMON_H

#ifndef _GNU_SOURCE
#define _GNU_SOURCE
#endif
#include <errno.h>
#include <signal.h>
#include <stdarg.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/syscall.h>
#include <sys/time.h>
#include <time.h>
#include <unistd.h>

/* Kernel constants the XSC sysroot has no <linux/...> header for. */
#ifndef FUTEX_WAIT
#define FUTEX_WAIT 0
#endif
#ifndef FUTEX_WAKE
#define FUTEX_WAKE 1
#endif
#ifndef SECCOMP_MODE_STRICT
#define SECCOMP_MODE_STRICT 1
#endif

#define UNUSED __attribute__((unused))

/* One observation per line, flushed at once: a case may die by a signal
 * right after, and what it printed before must still be seen. */
static UNUSED __attribute__((format(printf, 1, 2))) void say(const char *fmt, ...)
{
	va_list ap;
	va_start(ap, fmt);
	vprintf(fmt, ap);
	va_end(ap);
	putchar('\n');
	fflush(stdout);
}

/* For signal handlers: write(2) only. */
static UNUSED void say_raw(const char *s)
{
	size_t n = strlen(s);
	while (n > 0) {
		ssize_t w = write(1, s, n);
		if (w <= 0) return;
		s += w;
		n -= (size_t)w;
	}
}

/* The case cannot run on this host: both builds print the same line. */
#define SKIP(reason) do { say("skip: %s", reason); exit(0); } while (0)

/* A step that must work for the case to mean anything. */
#define CHECK(cond) do { if (!(cond)) { say("setup failed at line %d: %s (errno %s)", __LINE__, #cond, errname(errno)); exit(99); } } while (0)

static UNUSED const char *errname(int e)
{
	switch (e) {
	case 0: return "0";
	case EPERM: return "EPERM";
	case ENOENT: return "ENOENT";
	case ESRCH: return "ESRCH";
	case EINTR: return "EINTR";
	case EIO: return "EIO";
	case EBADF: return "EBADF";
	case ECHILD: return "ECHILD";
	case EAGAIN: return "EAGAIN";
	case ENOMEM: return "ENOMEM";
	case EACCES: return "EACCES";
	case EFAULT: return "EFAULT";
	case EBUSY: return "EBUSY";
	case EEXIST: return "EEXIST";
	case EINVAL: return "EINVAL";
	case ENOSPC: return "ENOSPC";
	case EMFILE: return "EMFILE";
	case ENFILE: return "ENFILE";
	case ENOEXEC: return "ENOEXEC";
	case ELOOP: return "ELOOP";
	case EPIPE: return "EPIPE";
	case ERANGE: return "ERANGE";
	case EDEADLK: return "EDEADLK";
	case ENAMETOOLONG: return "ENAMETOOLONG";
	case ENOSYS: return "ENOSYS";
	case ETIMEDOUT: return "ETIMEDOUT";
	case EOWNERDEAD: return "EOWNERDEAD";
	case ENOTSUP: return "ENOTSUP";
	default: {
		static char buf[32];
		snprintf(buf, sizeof buf, "errno %d", e);
		return buf;
	}
	}
}

/* "ok" or "-1 ENAME" for a call returning 0 / -1 with errno. */
static UNUSED const char *res(long r)
{
	static char buf[48];
	if (r >= 0) {
		snprintf(buf, sizeof buf, "%ld", r);
		return buf;
	}
	snprintf(buf, sizeof buf, "-1 %s", errname(errno));
	return buf;
}

/* Same for the pthread functions, which return the error number. */
static UNUSED const char *pres(int r)
{
	return r == 0 ? "0" : errname(r);
}

static UNUSED const char *signame(int s)
{
	switch (s) {
	case SIGHUP: return "SIGHUP";
	case SIGINT: return "SIGINT";
	case SIGQUIT: return "SIGQUIT";
	case SIGILL: return "SIGILL";
	case SIGABRT: return "SIGABRT";
	case SIGBUS: return "SIGBUS";
	case SIGFPE: return "SIGFPE";
	case SIGKILL: return "SIGKILL";
	case SIGUSR1: return "SIGUSR1";
	case SIGSEGV: return "SIGSEGV";
	case SIGUSR2: return "SIGUSR2";
	case SIGPIPE: return "SIGPIPE";
	case SIGALRM: return "SIGALRM";
	case SIGTERM: return "SIGTERM";
	case SIGCHLD: return "SIGCHLD";
	case SIGSYS: return "SIGSYS";
	case SIGWINCH: return "SIGWINCH";
	default: {
		static char buf[32];
		snprintf(buf, sizeof buf, "signal %d", s);
		return buf;
	}
	}
}

static UNUSED long long now_ms(void)
{
	struct timespec ts;
	clock_gettime(CLOCK_MONOTONIC, &ts);
	return (long long)ts.tv_sec * 1000 + ts.tv_nsec / 1000000;
}

static UNUSED long long thread_cpu_ms(void)
{
	struct timespec ts;
	clock_gettime(CLOCK_THREAD_CPUTIME_ID, &ts);
	return (long long)ts.tv_sec * 1000 + ts.tv_nsec / 1000000;
}

static UNUSED void sleep_ms(long ms)
{
	struct timespec ts = { ms / 1000, (ms % 1000) * 1000000L };
	while (nanosleep(&ts, &ts) != 0 && errno == EINTR) {
	}
}

/* Installs `fn` for `sig` with `flags` (an empty mask). */
static UNUSED void on_signal(int sig, void (*fn)(int), int flags)
{
	struct sigaction sa;
	memset(&sa, 0, sizeof sa);
	sa.sa_handler = fn;
	sa.sa_flags = flags;
	sigemptyset(&sa.sa_mask);
	CHECK(sigaction(sig, &sa, 0) == 0);
}

/* A one-shot ITIMER_REAL (SIGALRM to the process) after `ms`. */
static UNUSED void alarm_ms(long ms)
{
	struct itimerval it;
	memset(&it, 0, sizeof it);
	it.it_value.tv_sec = ms / 1000;
	it.it_value.tv_usec = (ms % 1000) * 1000;
	CHECK(setitimer(ITIMER_REAL, &it, 0) == 0);
}

static UNUSED long futex(int *addr, int op, int val, const struct timespec *ts)
{
	return syscall(SYS_futex, addr, op, val, ts, 0, 0);
}

#endif
