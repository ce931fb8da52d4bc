/* A read blocked on a pipe, interrupted by a handler without SA_RESTART,
 * fails with EINTR; the data written later is there for the next read.
 * expect: exit 0 */
#include "common.h"

static volatile sig_atomic_t handled;

static void on_alarm(int sig)
{
	(void)sig;
	handled++;
}

int main(void)
{
	int p[2];
	CHECK(pipe(p) == 0);
	on_signal(SIGALRM, on_alarm, 0);
	alarm_ms(100);
	char buf[16];
	ssize_t n = read(p[0], buf, sizeof buf);
	say("read: %s", res(n));
	say("handler ran %d time(s)", (int)handled);
	CHECK(write(p[1], "next", 4) == 4);
	n = read(p[0], buf, sizeof buf);
	say("the next read: %s \"%.*s\"", res(n), (int)(n > 0 ? n : 0), buf);
	return 0;
}
