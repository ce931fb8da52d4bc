/* A futex wait without a timeout, interrupted by an SA_RESTART handler,
 * is restarted and returns when woken later.
 * expect: exit 0 */
#include "common.h"
#include <pthread.h>

static volatile sig_atomic_t handled;
static int word;
static pthread_t main_thread;

static void on_usr1(int sig)
{
	(void)sig;
	handled++;
}

static void *helper(void *arg)
{
	(void)arg;
	sleep_ms(100);
	CHECK(pthread_kill(main_thread, SIGUSR1) == 0);
	sleep_ms(150);
	__atomic_store_n(&word, 1, __ATOMIC_SEQ_CST);
	futex(&word, FUTEX_WAKE, 1, 0);
	return 0;
}

int main(void)
{
	on_signal(SIGUSR1, on_usr1, SA_RESTART);
	main_thread = pthread_self();
	pthread_t t;
	CHECK(pthread_create(&t, 0, helper, 0) == 0);
	long r = futex(&word, FUTEX_WAIT, 0, 0);
	/* Woken (0), or the word had changed when the wait was made again. */
	say("futex wait: %s", r == 0 || (r == -1 && errno == EAGAIN) ? "woken" : res(r));
	say("word: %d", __atomic_load_n(&word, __ATOMIC_SEQ_CST));
	say("handler ran %d time(s)", (int)handled);
	CHECK(pthread_join(t, 0) == 0);
	return 0;
}
