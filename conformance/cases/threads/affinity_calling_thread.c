/* sched_setaffinity(0) sets the CPU mask of the calling thread only, as
 * seen from another thread by its tid (issue 9, defect 6).
 * expect: exit 0 */
#include "common.h"
#include <pthread.h>
#include <sched.h>

static pthread_barrier_t b;
static volatile long tid;
static int first_cpu;

static void *child(void *arg)
{
	(void)arg;
	tid = syscall(SYS_gettid);
	cpu_set_t one;
	CPU_ZERO(&one);
	CPU_SET(first_cpu, &one);
	say("sched_setaffinity(0) in the thread: %s", res(sched_setaffinity(0, sizeof one, &one)));
	cpu_set_t now;
	CHECK(sched_getaffinity(0, sizeof now, &now) == 0);
	say("CPUs of the thread, seen by itself: %d", CPU_COUNT(&now));
	pthread_barrier_wait(&b);
	pthread_barrier_wait(&b);
	return 0;
}

int main(void)
{
	cpu_set_t all;
	CHECK(sched_getaffinity(0, sizeof all, &all) == 0);
	int n = CPU_COUNT(&all);
	if (n < 2)
		SKIP("fewer than 2 CPUs");
	while (!CPU_ISSET(first_cpu, &all))
		first_cpu++;
	CHECK(pthread_barrier_init(&b, 0, 2) == 0);
	pthread_t t;
	CHECK(pthread_create(&t, 0, child, 0) == 0);
	pthread_barrier_wait(&b);
	cpu_set_t s;
	CHECK(sched_getaffinity((pid_t)tid, sizeof s, &s) == 0);
	say("CPUs of the thread, seen from main: %d", CPU_COUNT(&s));
	CHECK(sched_getaffinity(0, sizeof s, &s) == 0);
	say("main keeps all its CPUs: %s", CPU_COUNT(&s) == n ? "yes" : "no");
	pthread_barrier_wait(&b);
	CHECK(pthread_join(t, 0) == 0);
	return 0;
}
