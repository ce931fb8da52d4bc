/* Handlers that call sigaction, run while the thread itself is inside
 * sigaction, neither deadlock nor break the actions (issue 9, defect 9).
 * expect: exit 0 */
#include "common.h"
#include <pthread.h>

static volatile sig_atomic_t handled;
static volatile int stop;
static pthread_t main_thread;

static void on_usr2(int sig)
{
	(void)sig;
}

static void on_usr1(int sig)
{
	(void)sig;
	struct sigaction sa, old;
	memset(&sa, 0, sizeof sa);
	sa.sa_handler = on_usr2;
	sigemptyset(&sa.sa_mask);
	if (sigaction(SIGUSR2, 0, &old) == 0 && sigaction(SIGUSR2, &sa, 0) == 0)
		handled++;
}

static void *sender(void *arg)
{
	(void)arg;
	while (!__atomic_load_n(&stop, __ATOMIC_RELAXED)) {
		pthread_kill(main_thread, SIGUSR1);
		struct timespec ts = { 0, 20000 };
		nanosleep(&ts, 0);
	}
	return 0;
}

int main(void)
{
	on_signal(SIGUSR1, on_usr1, SA_RESTART);
	on_signal(SIGUSR2, on_usr2, 0);
	main_thread = pthread_self();
	pthread_t t;
	CHECK(pthread_create(&t, 0, sender, 0) == 0);
	long long end = now_ms() + 700;
	long calls = 0;
	int bad = 0;
	while (now_ms() < end) {
		struct sigaction sa, old;
		memset(&sa, 0, sizeof sa);
		sa.sa_handler = (calls & 1) ? on_usr2 : SIG_IGN;
		sigemptyset(&sa.sa_mask);
		if (sigaction(SIGUSR2, &sa, &old) != 0)
			bad++;
		calls++;
	}
	__atomic_store_n(&stop, 1, __ATOMIC_RELAXED);
	CHECK(pthread_join(t, 0) == 0);
	say("sigaction loop finished, failures: %d", bad);
	say("handlers ran: %s", handled > 0 ? "yes" : "no");
	return 0;
}
