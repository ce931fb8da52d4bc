/* Handlers that siglongjmp out, arriving while the thread is in sigaction
 * and other calls, leave nothing locked: sigaction keeps working (issue 9,
 * defect 9).
 * expect: exit 0 */
#include "common.h"
#include <pthread.h>
#include <setjmp.h>

static sigjmp_buf env;
static volatile int stop;
static volatile sig_atomic_t jumps, armed;
static pthread_t main_thread;

static void on_usr1(int sig)
{
	(void)sig;
	if (!armed)
		return;
	jumps++;
	siglongjmp(env, 1);
}

static void on_usr2(int sig)
{
	(void)sig;
}

static void *sender(void *arg)
{
	(void)arg;
	while (!__atomic_load_n(&stop, __ATOMIC_RELAXED)) {
		pthread_kill(main_thread, SIGUSR1);
		struct timespec ts = { 0, 30000 };
		nanosleep(&ts, 0);
	}
	return 0;
}

int main(void)
{
	on_signal(SIGUSR1, on_usr1, SA_RESTART);
	main_thread = pthread_self();
	pthread_t t;
	CHECK(pthread_create(&t, 0, sender, 0) == 0);
	volatile long long end = now_ms() + 500;
	volatile long i = 0;
	sigsetjmp(env, 1);
	armed = 1;
	while (now_ms() < end) {
		struct sigaction sa;
		memset(&sa, 0, sizeof sa);
		sa.sa_handler = (i++ & 1) ? on_usr2 : SIG_IGN;
		sigemptyset(&sa.sa_mask);
		sigaction(SIGUSR2, &sa, 0);
		getppid();
	}
	armed = 0;
	__atomic_store_n(&stop, 1, __ATOMIC_RELAXED);
	CHECK(pthread_join(t, 0) == 0);
	/* With the sender gone, sigaction must still work. */
	struct sigaction sa, old;
	memset(&sa, 0, sizeof sa);
	sa.sa_handler = on_usr2;
	sigemptyset(&sa.sa_mask);
	say("sigaction after the storm: %s", res(sigaction(SIGUSR2, &sa, &old)));
	say("handlers jumped out: %s", jumps > 0 ? "yes" : "no");
	return 0;
}
