/* sigaction called from a handler that runs nested inside another handler
 * works and does not deadlock (issue 9, defect 9).
 * expect: exit 0 */
#include "common.h"

static volatile sig_atomic_t order[8];
static volatile sig_atomic_t n;
static volatile sig_atomic_t sigaction_ok;

static void on_usr1_replaced(int sig)
{
	(void)sig;
	order[n++] = 3;
}

static void on_usr2(int sig)
{
	(void)sig;
	order[n++] = 2;
	struct sigaction sa, old;
	memset(&sa, 0, sizeof sa);
	sa.sa_handler = on_usr1_replaced;
	sigemptyset(&sa.sa_mask);
	sigaction_ok = sigaction(SIGUSR1, &sa, &old) == 0 && (old.sa_flags & SA_NODEFER) == 0;
}

static void on_usr1(int sig)
{
	(void)sig;
	order[n++] = 1;
	raise(SIGUSR2); /* runs on_usr2 now, nested in this handler */
	order[n++] = 4;
}

int main(void)
{
	on_signal(SIGUSR1, on_usr1, 0);
	on_signal(SIGUSR2, on_usr2, 0);
	CHECK(raise(SIGUSR1) == 0);
	CHECK(raise(SIGUSR1) == 0); /* now the replaced handler */
	char line[64] = "order:";
	for (int i = 0; i < n; i++)
		snprintf(line + strlen(line), sizeof line - strlen(line), " %d", (int)order[i]);
	say("%s", line);
	say("sigaction in the nested handler: %s", sigaction_ok ? "ok" : "failed");
	return 0;
}
