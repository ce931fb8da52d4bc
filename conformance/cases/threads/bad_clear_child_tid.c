/* A thread that sets an unwritable clear-child-tid address and exits: Linux
 * ignores the failed write, and the process lives on (issue 9, defect 10).
 * expect: exit 0 */
#include "common.h"
#include <pthread.h>

static void *child(void *arg)
{
	(void)arg;
	syscall(SYS_set_tid_address, (void *)8);
	syscall(SYS_exit, 0);
	return 0;
}

int main(void)
{
	pthread_t t;
	CHECK(pthread_create(&t, 0, child, 0) == 0);
	/* Not joinable any more: its tid word is never cleared. */
	sleep_ms(300);
	say("the process lives on after the thread ended");
	return 0;
}
