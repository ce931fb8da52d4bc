/* A thread whose handler siglongjmps out of a blocked read and which then
 * ends leaves nothing running on its behalf: after the join, the pipe's
 * data stays for the next reader and memory reused after the thread is
 * untouched (issue 9, defects 1 and 3).
 * expect: exit 0 */
#include "common.h"
#include <poll.h>
#include <pthread.h>
#include <setjmp.h>
#include <sys/mman.h>

#define STACK (128 * 1024) /* glibc's PTHREAD_STACK_MIN on aarch64 */
#define CANARIES 16

static int p[2];
static __thread sigjmp_buf env;

static void on_usr1(int sig)
{
	(void)sig;
	siglongjmp(env, 1);
}

static void *reader(void *arg)
{
	(void)arg;
	char buf[4096];
	if (sigsetjmp(env, 1) == 0) {
		ssize_t n = read(p[0], buf, sizeof buf);
		say("the read returned %zd without the signal", n);
		return (void *)1;
	}
	return 0;
}

int main(void)
{
	CHECK(pipe(p) == 0);
	on_signal(SIGUSR1, on_usr1, SA_RESTART);
	pthread_attr_t attr;
	CHECK(pthread_attr_init(&attr) == 0);
	CHECK(pthread_attr_setstacksize(&attr, STACK) == 0);
	pthread_t t;
	CHECK(pthread_create(&t, &attr, reader, 0) == 0);
	sleep_ms(150);
	CHECK(pthread_kill(t, SIGUSR1) == 0);
	void *ret;
	CHECK(pthread_join(t, &ret) == 0);
	say("the thread left its read and ended: %s", ret == 0 ? "yes" : "no");
	unsigned char *c[CANARIES];
	for (int i = 0; i < CANARIES; i++) {
		c[i] = mmap(0, STACK * 2, PROT_READ | PROT_WRITE, MAP_PRIVATE | MAP_ANONYMOUS, -1, 0);
		CHECK(c[i] != MAP_FAILED);
		memset(c[i], 0xc3, STACK * 2);
	}
	static char data[4096];
	memset(data, 'Z', sizeof data);
	CHECK(write(p[1], data, sizeof data) == (ssize_t)sizeof data);
	sleep_ms(200);
	struct pollfd pf = { p[0], POLLIN, 0 };
	int r = poll(&pf, 1, 500);
	say("data still in the pipe: %s", r == 1 ? "yes" : "no");
	if (r == 1) {
		static char got[8192];
		ssize_t n = read(p[0], got, sizeof got);
		say("the next read: %s", res(n));
	}
	int corrupted = 0;
	for (int i = 0; i < CANARIES; i++)
		for (size_t k = 0; k < STACK * 2; k += 64)
			if (c[i][k] != 0xc3) {
				corrupted++;
				break;
			}
	say("corrupted mappings: %d", corrupted);
	return 0;
}
