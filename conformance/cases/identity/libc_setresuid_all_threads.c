/* The C library's setresuid changes every thread's credentials: another
 * thread can no longer open a root-only file. Needs root.
 * expect: exit 0 */
#include "common.h"
#include <fcntl.h>
#include <pthread.h>

static pthread_barrier_t b;
static char path[4096];

static void *other(void *arg)
{
	(void)arg;
	pthread_barrier_wait(&b);
	say("other thread: euid %ld", (long)syscall(SYS_geteuid));
	int fd = open(path, O_RDONLY);
	say("other thread: open the root-only file: %s", fd >= 0 ? "ok" : res(fd));
	return 0;
}

int main(int argc, char **argv)
{
	if (geteuid() != 0)
		SKIP("not root");
	CHECK(argc > 1);
	snprintf(path, sizeof path, "%s/root-only", argv[1]);
	int fd = open(path, O_CREAT | O_EXCL | O_WRONLY | O_CLOEXEC, 0600);
	CHECK(fd >= 0);
	CHECK(close(fd) == 0);
	CHECK(pthread_barrier_init(&b, 0, 2) == 0);
	pthread_t t;
	CHECK(pthread_create(&t, 0, other, 0) == 0);
	say("main: setresuid(65534): %s", res(setresuid(65534, 65534, 65534)));
	pthread_barrier_wait(&b);
	CHECK(pthread_join(t, 0) == 0);
	fd = open(path, O_RDONLY);
	say("main: open the root-only file: %s", fd >= 0 ? "ok" : res(fd));
	return 0;
}
