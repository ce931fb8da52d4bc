/* After main has ended with pthread_exit, the last thread's exit() status
 * is the process's.
 * expect: exit 5 */
#include "common.h"
#include <pthread.h>

static void *last(void *arg)
{
	(void)arg;
	sleep_ms(100);
	say("the last thread exits with 5");
	exit(5);
}

int main(void)
{
	pthread_t t;
	CHECK(pthread_create(&t, 0, last, 0) == 0);
	say("main ends with pthread_exit");
	pthread_exit(0);
}
