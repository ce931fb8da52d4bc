/* A handler that interrupts a thread anywhere, also in the middle of its
 * calls, runs with that thread's own thread-local storage (issue 9,
 * defect 9: the FS base saved too late in the entry stubs).
 * expect: exit 0 */
#include "common.h"
#include <pthread.h>

static __thread volatile int me;
static volatile int stop;
static volatile int wrong, handled, ready;
static pthread_t targets[2];

static void on_usr1(int sig)
{
	(void)sig;
	int e = errno;
	pthread_t self = pthread_self();
	int expected = pthread_equal(self, targets[0]) ? 1 : 2;
	if (me != expected)
		__atomic_add_fetch(&wrong, 1, __ATOMIC_RELAXED);
	__atomic_add_fetch(&handled, 1, __ATOMIC_RELAXED);
	errno = e;
}

static void *caller(void *arg)
{
	me = (int)(long)arg;
	__atomic_add_fetch(&ready, 1, __ATOMIC_SEQ_CST);
	while (!__atomic_load_n(&stop, __ATOMIC_RELAXED)) {
		getppid();
		if (me != (int)(long)arg)
			__atomic_add_fetch(&wrong, 1, __ATOMIC_RELAXED);
	}
	return 0;
}

int main(void)
{
	on_signal(SIGUSR1, on_usr1, SA_RESTART);
	for (long i = 0; i < 2; i++)
		CHECK(pthread_create(&targets[i], 0, caller, (void *)(i + 1)) == 0);
	while (__atomic_load_n(&ready, __ATOMIC_SEQ_CST) < 2)
		sleep_ms(1);
	long long end = now_ms() + 500;
	while (now_ms() < end) {
		for (int i = 0; i < 2; i++)
			pthread_kill(targets[i], SIGUSR1);
		struct timespec ts = { 0, 20000 };
		nanosleep(&ts, 0);
	}
	__atomic_store_n(&stop, 1, __ATOMIC_RELAXED);
	for (int i = 0; i < 2; i++)
		CHECK(pthread_join(targets[i], 0) == 0);
	say("handlers ran: %s", handled > 0 ? "yes" : "no");
	say("handlers or code that saw another thread's TLS: %d", wrong);
	return 0;
}
