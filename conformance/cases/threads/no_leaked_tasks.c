/* Threads that are created, make a call and are joined leave no task
 * behind: /proc/self/task is back to its starting size (issue 9, defect 4:
 * a lost shutdown wake-up leaks a thread).
 * expect: exit 0 */
#include "common.h"
#include <dirent.h>
#include <pthread.h>

static int tasks(void)
{
	DIR *d = opendir("/proc/self/task");
	CHECK(d != 0);
	int n = 0;
	struct dirent *e;
	while ((e = readdir(d)) != 0)
		if (e->d_name[0] != '.')
			n++;
	closedir(d);
	return n;
}

static void *work(void *arg)
{
	(void)arg;
	return (void *)(long)getppid();
}

int main(void)
{
	int before = tasks();
	for (int i = 0; i < 300; i++) {
		pthread_t t;
		CHECK(pthread_create(&t, 0, work, 0) == 0);
		CHECK(pthread_join(t, 0) == 0);
	}
	int after = tasks();
	for (int i = 0; i < 100 && after != before; i++) {
		sleep_ms(10);
		after = tasks();
	}
	say("tasks back to the starting number: %s", after == before ? "yes" : "no");
	return 0;
}
