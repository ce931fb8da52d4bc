/* A program sandboxing itself with libseccomp, as real users do: a default
 * of allow, then rules with ERRNO (with and without argument conditions),
 * TRAP (to the program's own SIGSYS handler), LOG and KILL_PROCESS, loaded
 * with SCMP_FLTATR_CTL_TSYNC onto a thread that already runs. It prints
 * what each call gave; the test compares this program linked with the
 * host's libseccomp (natively) and with libseccomp built for XSC (under
 * xsc-run). The last call is killed, so it ends by SIGSYS. */
#define _GNU_SOURCE
#include <errno.h>
#include <fcntl.h>
#include <pthread.h>
#include <seccomp.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <sys/syscall.h>
#include <unistd.h>

static void say(const char *what, long r)
{
	if (r >= 0)
		printf("%s: ok\n", what);
	else
		printf("%s: -1 errno %d\n", what, errno);
	fflush(stdout);
}

static volatile int trapped_nr = -1, trapped_code, trapped_errno;
static volatile unsigned trapped_arch;

static void on_sigsys(int sig, siginfo_t *si, void *uc)
{
	(void)sig;
	(void)uc;
	trapped_nr = si->si_syscall;
	trapped_arch = si->si_arch;
	trapped_code = si->si_code;
	trapped_errno = si->si_errno;
}

static pthread_mutex_t lock = PTHREAD_MUTEX_INITIALIZER;
static pthread_cond_t cond = PTHREAD_COND_INITIALIZER;
static int loaded;

/* Started before the filter is loaded; TSYNC must put it under it too. */
static void *other_thread(void *arg)
{
	(void)arg;
	pthread_mutex_lock(&lock);
	while (!loaded)
		pthread_cond_wait(&cond, &lock);
	pthread_mutex_unlock(&lock);
	errno = 0;
	say("thread: getpgid(7)", syscall(SYS_getpgid, 7));
	return 0;
}

int main(void)
{
	const char *scratch = getenv("SCRATCH");
	if (!scratch) return 2;
	char path[512];
	snprintf(path, sizeof path, "%s/file", scratch);
	int fd = open(path, O_CREAT | O_WRONLY | O_TRUNC, 0600);
	if (fd < 0) return 3;
	close(fd);

	struct sigaction sa;
	memset(&sa, 0, sizeof sa);
	sa.sa_sigaction = on_sigsys;
	sa.sa_flags = SA_SIGINFO;
	sigaction(SIGSYS, &sa, 0);

	pthread_t t;
	if (pthread_create(&t, 0, other_thread, 0) != 0) return 4;

	printf("api level above 0: %s\n", seccomp_api_get() > 0 ? "yes" : "no");
	scmp_filter_ctx ctx = seccomp_init(SCMP_ACT_ALLOW);
	if (!ctx) return 5;
	int rc = 0;
	/* getpgid refused for one argument value only. */
	rc |= seccomp_rule_add(ctx, SCMP_ACT_ERRNO(EPERM), SCMP_SYS(getpgid), 1, SCMP_A0(SCMP_CMP_EQ, 7));
	/* Opening for writing refused, by either call a C library uses. */
	rc |= seccomp_rule_add(ctx, SCMP_ACT_ERRNO(EROFS), SCMP_SYS(open), 1,
			       SCMP_A1(SCMP_CMP_MASKED_EQ, O_ACCMODE, O_WRONLY));
	rc |= seccomp_rule_add(ctx, SCMP_ACT_ERRNO(EROFS), SCMP_SYS(openat), 1,
			       SCMP_A2(SCMP_CMP_MASKED_EQ, O_ACCMODE, O_WRONLY));
	/* 64-bit argument comparison. */
	rc |= seccomp_rule_add(ctx, SCMP_ACT_ERRNO(E2BIG), SCMP_SYS(getsid), 1,
			       SCMP_A0(SCMP_CMP_GT, 0x100000000ULL));
	rc |= seccomp_rule_add(ctx, SCMP_ACT_TRAP, SCMP_SYS(getppid), 0);
	rc |= seccomp_rule_add(ctx, SCMP_ACT_LOG, SCMP_SYS(getpriority), 0);
	rc |= seccomp_rule_add(ctx, SCMP_ACT_KILL_PROCESS, SCMP_SYS(umask), 0);
	rc |= seccomp_attr_set(ctx, SCMP_FLTATR_CTL_TSYNC, 1);
	if (rc != 0) return 6;
	printf("load: %d\n", seccomp_load(ctx));
	seccomp_release(ctx);
	pthread_mutex_lock(&lock);
	loaded = 1;
	pthread_cond_broadcast(&cond);
	pthread_mutex_unlock(&lock);
	pthread_join(t, 0);

	errno = 0;
	say("getpgid(0)", syscall(SYS_getpgid, 0));
	say("getpgid(7)", syscall(SYS_getpgid, 7));
	say("open for reading", fd = open(path, O_RDONLY));
	if (fd >= 0) close(fd);
	say("open for writing", open(path, O_WRONLY));
	say("getsid(0)", syscall(SYS_getsid, 0));
	say("getsid(1 << 33)", syscall(SYS_getsid, 1ULL << 33));
	long r = syscall(SYS_getppid);
	printf("getppid trapped: %s, si_syscall getppid: %s, x86_64: %s, SYS_SECCOMP: %s, si_errno %d, returned the number: %s\n",
	       trapped_nr >= 0 ? "yes" : "no", trapped_nr == SYS_getppid ? "yes" : "no",
	       trapped_arch == SCMP_ARCH_X86_64 ? "yes" : "no", trapped_code == 1 ? "yes" : "no",
	       trapped_errno, r == SYS_getppid ? "yes" : "no");
	errno = 0;
	say("getpriority (logged)", syscall(SYS_getpriority, 0, 0));
	fflush(stdout);
	syscall(SYS_umask, 022);
	printf("still alive after umask\n");
	return 0;
}
