/* SIGTERM with its default action, sent to the process by a thread while
 * main is blocked in a read, kills the process with SIGTERM.
 * expect: signal SIGTERM */
#include "common.h"
#include <pthread.h>

static void *killer(void *arg)
{
	(void)arg;
	sleep_ms(100);
	say("sending SIGTERM to the process");
	kill(getpid(), SIGTERM);
	sleep_ms(2000);
	say("still alive 2 s after SIGTERM");
	return 0;
}

int main(void)
{
	int p[2];
	CHECK(pipe(p) == 0);
	pthread_t t;
	CHECK(pthread_create(&t, 0, killer, 0) == 0);
	char c;
	ssize_t n = read(p[0], &c, 1);
	say("the read returned %zd", n);
	return 0;
}
