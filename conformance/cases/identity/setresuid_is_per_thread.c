/* The raw setresuid system call changes the credentials of the calling
 * thread only: another thread, still root, can open a root-only file
 * (issue 9, defect 5). Needs root.
 * expect: exit 0 */
#include "common.h"
#include <fcntl.h>
#include <pthread.h>

static pthread_barrier_t b;
static char path[4096];

static void *dropper(void *arg)
{
	(void)arg;
	say("thread A: raw setresuid(65534): %s", res(syscall(SYS_setresuid, 65534, 65534, 65534)));
	say("thread A: euid now %ld", (long)syscall(SYS_geteuid));
	int fd = open(path, O_RDONLY);
	say("thread A: open the root-only file: %s", fd >= 0 ? "ok" : res(fd));
	pthread_barrier_wait(&b);
	pthread_barrier_wait(&b);
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
	CHECK(write(fd, "secret", 6) == 6);
	CHECK(close(fd) == 0);
	CHECK(pthread_barrier_init(&b, 0, 2) == 0);
	pthread_t t;
	CHECK(pthread_create(&t, 0, dropper, 0) == 0);
	pthread_barrier_wait(&b);
	say("thread B: euid %ld", (long)syscall(SYS_geteuid));
	fd = open(path, O_RDONLY);
	say("thread B: open the root-only file: %s", fd >= 0 ? "ok" : res(fd));
	char buf[16] = { 0 };
	if (fd >= 0)
		say("thread B: read: %s \"%s\"", res(read(fd, buf, sizeof buf - 1)), buf);
	say("thread B: unlink: %s", res(unlink(path)));
	pthread_barrier_wait(&b);
	CHECK(pthread_join(t, 0) == 0);
	return 0;
}
