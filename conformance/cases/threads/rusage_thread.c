/* getrusage(RUSAGE_THREAD) reports the calling thread's own CPU time
 * (issue 9, defect 6).
 * expect: exit 0 */
#include "common.h"
#include <pthread.h>
#include <sys/resource.h>

static long long rusage_thread_ms(void)
{
	struct rusage ru;
	CHECK(getrusage(RUSAGE_THREAD, &ru) == 0);
	return (ru.ru_utime.tv_sec + ru.ru_stime.tv_sec) * 1000LL +
	       (ru.ru_utime.tv_usec + ru.ru_stime.tv_usec) / 1000;
}

static void *burner(void *arg)
{
	(void)arg;
	/* Burns 60 ms of CPU, asking the clock only every million steps (a
	 * kernel that serves calls on other threads must not be kept busy). */
	long long start = thread_cpu_ms();
	volatile unsigned long x = 0;
	while (thread_cpu_ms() - start < 60)
		for (int i = 0; i < 1000000; i++)
			x += (unsigned long)i;
	long long ms = rusage_thread_ms();
	return (void *)(long)(ms >= 40 && ms < 1000);
}

int main(void)
{
	pthread_t t;
	CHECK(pthread_create(&t, 0, burner, 0) == 0);
	void *ret;
	CHECK(pthread_join(t, &ret) == 0);
	say("a thread that used 60 ms of CPU sees 40 ms to 1 s: %s", ret ? "yes" : "no");
	long long mine = rusage_thread_ms();
	say("the idle main thread sees less than 40 ms: %s", mine < 40 ? "yes" : "no");
	return 0;
}
