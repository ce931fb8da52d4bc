/* An SA_RESTART handler that siglongjmps out of a read blocked on a pipe
 * abandons that read: the data written afterwards goes to the next read
 * (issue 9, defect 1: the REPL pattern for SIGINT).
 * expect: exit 0 */
#include "common.h"
#include <poll.h>
#include <pthread.h>
#include <setjmp.h>

static sigjmp_buf env;
static int p[2];

static void on_alarm(int sig)
{
	(void)sig;
	siglongjmp(env, 1);
}

static void *writer(void *arg)
{
	(void)arg;
	CHECK(write(p[1], "after", 5) == 5);
	return 0;
}

int main(void)
{
	CHECK(pipe(p) == 0);
	on_signal(SIGALRM, on_alarm, SA_RESTART);
	char buf[64];
	if (sigsetjmp(env, 1) == 0) {
		alarm_ms(100);
		ssize_t n = read(p[0], buf, sizeof buf);
		say("the read returned %zd without the signal", n);
		return 1;
	}
	say("the handler jumped out of the blocked read");
	/* Another thread writes, so that a read still running on this
	 * thread's behalf could take the data. */
	pthread_t t;
	CHECK(pthread_create(&t, 0, writer, 0) == 0);
	CHECK(pthread_join(t, 0) == 0);
	struct pollfd pf = { p[0], POLLIN, 0 };
	int r = poll(&pf, 1, 1000);
	say("poll after the write: %s", res(r));
	if (r == 1) {
		ssize_t n = read(p[0], buf, sizeof buf);
		say("the next read: %s \"%.*s\"", res(n), (int)(n > 0 ? n : 0), buf);
	}
	return 0;
}
