/* A signal a single-threaded process sends itself with kill(getpid()) is
 * delivered before kill returns (POSIX; issue 9, defect 9).
 * expect: exit 0 */
#include "common.h"

static volatile sig_atomic_t handled;

static void on_usr1(int sig)
{
	(void)sig;
	handled++;
}

int main(void)
{
	on_signal(SIGUSR1, on_usr1, 0);
	int late = 0;
	for (int i = 0; i < 200; i++) {
		int before = handled;
		CHECK(kill(getpid(), SIGUSR1) == 0);
		if (handled == before)
			late++;
	}
	say("kills whose handler had not run when kill returned: %d", late);
	return 0;
}
