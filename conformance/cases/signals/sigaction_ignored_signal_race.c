/* A signal whose default action is to ignore it (SIGWINCH), arriving while
 * its action is being changed between SIG_DFL and a handler, never ends
 * the process (issue 9, defect 9).
 * expect: exit 0 */
#include "common.h"
#include <pthread.h>

static volatile int stop;
static volatile sig_atomic_t handled;

static void on_winch(int sig)
{
	(void)sig;
	handled++;
}

static void *sender(void *arg)
{
	(void)arg;
	pid_t pid = getpid();
	while (!__atomic_load_n(&stop, __ATOMIC_RELAXED)) {
		kill(pid, SIGWINCH);
		struct timespec ts = { 0, 20000 };
		nanosleep(&ts, 0);
	}
	return 0;
}

int main(void)
{
	pthread_t t;
	CHECK(pthread_create(&t, 0, sender, 0) == 0);
	long long end = now_ms() + 700;
	long i = 0;
	while (now_ms() < end) {
		struct sigaction sa;
		memset(&sa, 0, sizeof sa);
		sa.sa_handler = (i++ & 1) ? on_winch : SIG_DFL;
		sa.sa_flags = SA_RESTART;
		sigemptyset(&sa.sa_mask);
		CHECK(sigaction(SIGWINCH, &sa, 0) == 0);
	}
	__atomic_store_n(&stop, 1, __ATOMIC_RELAXED);
	CHECK(pthread_join(t, 0) == 0);
	say("the process survived the storm");
	return 0;
}
