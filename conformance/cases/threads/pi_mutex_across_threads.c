/* A priority-inheritance mutex (PTHREAD_PRIO_INHERIT: FUTEX_LOCK_PI and
 * FUTEX_UNLOCK_PI) locked and unlocked by two threads, contended, works
 * (issue 9, defect 6).
 * expect: exit 0 */
#include "common.h"
#include <pthread.h>

static pthread_mutex_t m;
static volatile int holding;
static int counter;
static int failures;

static int timedlock(void)
{
	struct timespec ts;
	clock_gettime(CLOCK_REALTIME, &ts);
	ts.tv_sec += 2;
	return pthread_mutex_timedlock(&m, &ts);
}

static void *holder(void *arg)
{
	(void)arg;
	int r = pthread_mutex_lock(&m);
	__atomic_store_n(&holding, 1, __ATOMIC_SEQ_CST);
	sleep_ms(200);
	counter++;
	int u = pthread_mutex_unlock(&m);
	return (void *)(long)(r * 1000 + u);
}

static void *contender(void *arg)
{
	(void)arg;
	for (int i = 0; i < 2000; i++) {
		if (timedlock() != 0) {
			__atomic_add_fetch(&failures, 1, __ATOMIC_SEQ_CST);
			continue;
		}
		counter++;
		if (pthread_mutex_unlock(&m) != 0)
			__atomic_add_fetch(&failures, 1, __ATOMIC_SEQ_CST);
	}
	return 0;
}

int main(void)
{
	pthread_mutexattr_t a;
	CHECK(pthread_mutexattr_init(&a) == 0);
	CHECK(pthread_mutexattr_setprotocol(&a, PTHREAD_PRIO_INHERIT) == 0);
	CHECK(pthread_mutex_init(&m, &a) == 0);
	pthread_t t;
	CHECK(pthread_create(&t, 0, holder, 0) == 0);
	while (!__atomic_load_n(&holding, __ATOMIC_SEQ_CST))
		sleep_ms(1);
	int r = timedlock();
	say("lock while the other thread holds it: %s", pres(r));
	say("counter after the other thread's unlock: %d", counter);
	if (r == 0)
		say("unlock: %s", pres(pthread_mutex_unlock(&m)));
	void *ret;
	CHECK(pthread_join(t, &ret) == 0);
	say("the other thread's lock and unlock: %s, %s", pres((int)(long)ret / 1000), pres((int)(long)ret % 1000));
	counter = 0;
	pthread_t c[2];
	for (int i = 0; i < 2; i++)
		CHECK(pthread_create(&c[i], 0, contender, 0) == 0);
	for (int i = 0; i < 2; i++)
		CHECK(pthread_join(c[i], 0) == 0);
	say("contended: counter %d, failures %d", counter, failures);
	return 0;
}
