/* Probe for xsc-run --seccomp-profile: makes calls that Docker's default
 * profile allows, refuses by default, refuses with its own errno, or allows
 * only for some argument values (personality, clone's namespace flags,
 * socket's address family), and prints what each gave. The test runs it
 * natively under the same profile (loaded with libseccomp, as runc does)
 * and compares. */
#define _GNU_SOURCE
#include <errno.h>
#include <pthread.h>
#include <sched.h>
#include <signal.h>
#include <stdio.h>
#include <string.h>
#include <sys/personality.h>
#include <sys/socket.h>
#include <sys/stat.h>
#include <sys/syscall.h>
#include <sys/wait.h>
#include <unistd.h>

static void say(const char *what, long r)
{
	if (r >= 0)
		printf("%s: ok\n", what);
	else
		printf("%s: -1 errno %d\n", what, errno);
	fflush(stdout);
}

static void *thread(void *arg) { return arg; }

/* A process clone with `flags`, through the raw call (what a runtime or
 * a sandbox such as bubblewrap makes); the child exits at once. */
static long clone_with(unsigned long flags)
{
	long pid = syscall(SYS_clone, flags | SIGCHLD, 0, 0, 0, 0);
	if (pid == 0) _exit(0);
	if (pid > 0) waitpid(pid, 0, 0);
	return pid;
}

int main(void)
{
	errno = 0;
	say("getppid", syscall(SYS_getppid));
	say("unshare(CLONE_NEWUTS)", unshare(CLONE_NEWUTS));
	say("personality(query)", personality(0xffffffff));
	say("personality(PER_LINUX)", personality(PER_LINUX));
	say("personality(ADDR_NO_RANDOMIZE)", personality(ADDR_NO_RANDOMIZE));
	say("clone(SIGCHLD)", clone_with(0));
	say("clone(CLONE_NEWUTS)", clone_with(CLONE_NEWUTS));
	say("clone(CLONE_NEWUSER)", clone_with(CLONE_NEWUSER));
	say("clone3", syscall(SYS_clone3, 0, 0));
	long s = socket(AF_UNIX, SOCK_STREAM, 0);
	say("socket(AF_UNIX)", s);
	if (s >= 0) close((int)s);
	say("socket(AF_VSOCK)", socket(40, SOCK_STREAM, 0));
	say("syslog(SIZE_BUFFER)", syscall(SYS_syslog, 10, 0, 0));
	say("keyctl(GET_KEYRING_ID)", syscall(SYS_keyctl, 0, -3, 0));
	say("mkdir(/nonexistent/x)", mkdir("/nonexistent/x", 0700));
	pthread_t t;
	int e = pthread_create(&t, 0, thread, 0);
	printf("pthread_create: %s\n", e == 0 ? "ok" : "failed");
	if (e == 0) pthread_join(t, 0);
	pid_t p = fork();
	if (p == 0) _exit(7);
	int st = 0;
	if (p > 0) waitpid(p, &st, 0);
	printf("fork: %s, child exit %d\n", p > 0 ? "ok" : "failed", WIFEXITED(st) ? WEXITSTATUS(st) : -1);
	return 0;
}
