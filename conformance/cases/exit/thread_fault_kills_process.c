/* A thread's fault (SIGSEGV, default action) kills the whole process, also
 * while main is blocked in a call.
 * expect: signal SIGSEGV */
#include "common.h"
#include <pthread.h>

static void *faulty(void *arg)
{
	(void)arg;
	sleep_ms(100);
	say("the thread writes through a null pointer");
	*(volatile int *)arg = 1;
	return 0;
}

int main(void)
{
	int p[2];
	CHECK(pipe(p) == 0);
	pthread_t t;
	CHECK(pthread_create(&t, 0, faulty, 0) == 0);
	char c;
	ssize_t n = read(p[0], &c, 1);
	say("the read returned %zd", n);
	return 0;
}
