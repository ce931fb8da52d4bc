/* A write to a pipe with no reader raises SIGPIPE on the writing thread,
 * handled before write returns EPIPE (issue 9, defect 9).
 * expect: exit 0 */
#include "common.h"

static volatile sig_atomic_t handled;

static void on_pipe(int sig)
{
	(void)sig;
	handled++;
}

int main(void)
{
	on_signal(SIGPIPE, on_pipe, 0);
	int p[2];
	CHECK(pipe(p) == 0);
	CHECK(close(p[0]) == 0);
	int late = 0;
	long r = 0;
	for (int i = 0; i < 100; i++) {
		int before = handled;
		r = write(p[1], "x", 1);
		if (handled == before)
			late++;
	}
	say("write: %s", res(r));
	say("writes whose SIGPIPE handler had not run when write returned: %d", late);
	return 0;
}
