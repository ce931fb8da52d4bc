/* exit() from main while other threads are blocked in calls ends the
 * whole process at once with main's status.
 * expect: exit 7 */
#include "common.h"
#include <pthread.h>

static int p[2];

static void *blocked(void *arg)
{
	(void)arg;
	char c;
	ssize_t n = read(p[0], &c, 1);
	say("a blocked read returned %zd", n);
	return 0;
}

int main(void)
{
	CHECK(pipe(p) == 0);
	pthread_t t[4];
	for (int i = 0; i < 4; i++)
		CHECK(pthread_create(&t[i], 0, blocked, 0) == 0);
	sleep_ms(100);
	say("exiting with 7");
	exit(7);
}
