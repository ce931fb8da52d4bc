/* A futex wait with a timeout, interrupted by an SA_RESTART handler, fails
 * with EINTR at once: Linux never restarts it (issue 9, defect 2).
 * expect: exit 0 */
#include "common.h"

static volatile sig_atomic_t handled;
static int word;

static void on_alarm(int sig)
{
	(void)sig;
	handled++;
}

int main(void)
{
	on_signal(SIGALRM, on_alarm, SA_RESTART);
	struct timespec ts = { 3, 0 };
	long long t0 = now_ms();
	alarm_ms(200);
	long r = futex(&word, FUTEX_WAIT, 0, &ts);
	long long dt = now_ms() - t0;
	say("futex wait: %s", res(r));
	say("handler ran %d time(s)", (int)handled);
	say("returned before the 3 s timeout: %s", dt < 2000 ? "yes" : "no");
	return 0;
}
