/* setpriority(PRIO_PROCESS, 0) changes the nice value of the calling
 * thread only, as seen from another thread by its tid (issue 9, defect 6).
 * expect: exit 0 */
#include "common.h"
#include <pthread.h>
#include <sys/resource.h>

static pthread_barrier_t b;
static volatile long tid;

static void *child(void *arg)
{
	(void)arg;
	tid = syscall(SYS_gettid);
	errno = 0;
	int r = setpriority(PRIO_PROCESS, 0, 7);
	say("setpriority in the thread: %s", res(r));
	errno = 0;
	int p = getpriority(PRIO_PROCESS, 0);
	say("getpriority(0) in the thread: %d", p);
	pthread_barrier_wait(&b);
	pthread_barrier_wait(&b);
	return 0;
}

int main(void)
{
	errno = 0;
	if (getpriority(PRIO_PROCESS, 0) != 0)
		SKIP("started with a nice value other than 0");
	CHECK(pthread_barrier_init(&b, 0, 2) == 0);
	pthread_t t;
	CHECK(pthread_create(&t, 0, child, 0) == 0);
	pthread_barrier_wait(&b);
	errno = 0;
	int p = getpriority(PRIO_PROCESS, (id_t)tid);
	say("the thread's nice value seen from main: %d", p);
	errno = 0;
	say("main's own nice value: %d", getpriority(PRIO_PROCESS, 0));
	pthread_barrier_wait(&b);
	CHECK(pthread_join(t, 0) == 0);
	return 0;
}
