/* Probe for xsc-run --seccomp-profile: makes calls a Docker-style profile
 * allows, refuses by default, refuses with a chosen errno, or allows only
 * for some argument values, and prints what each gave. */
#define _GNU_SOURCE
#include <errno.h>
#include <pthread.h>
#include <sched.h>
#include <stdio.h>
#include <string.h>
#include <sys/personality.h>
#include <sys/stat.h>
#include <unistd.h>

static const char *name(long r)
{
	if (r >= 0) return "ok";
	switch (errno) {
	case EPERM: return "EPERM";
	case EACCES: return "EACCES";
	default: return "other";
	}
}

static void *thread(void *arg) { return arg; }

int main(void)
{
	printf("getppid: %s\n", name(getppid() > 0 ? 0 : -1));
	printf("unshare(CLONE_NEWUTS): %s\n", name(unshare(CLONE_NEWUTS)));
	printf("personality(query): %s\n", name(personality(0xffffffff)));
	printf("personality(ADDR_NO_RANDOMIZE): %s\n", name(personality(ADDR_NO_RANDOMIZE)));
	printf("mkdir: %s\n", name(mkdir("/nonexistent-dir-for-probe", 0700)));
	pthread_t t;
	int e = pthread_create(&t, 0, thread, 0);
	printf("pthread_create: %s\n", e == 0 ? "ok" : "failed");
	if (e == 0) pthread_join(t, 0);
	return 0;
}
