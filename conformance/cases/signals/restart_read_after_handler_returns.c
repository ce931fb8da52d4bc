/* A read blocked on a pipe, interrupted by an SA_RESTART handler that
 * returns, is restarted and gets the data written later.
 * expect: exit 0 */
#include "common.h"
#include <pthread.h>

static int p[2];
static volatile sig_atomic_t handled;
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
	sleep_ms(100);
	CHECK(write(p[1], "data", 4) == 4);
	return 0;
}

int main(void)
{
	CHECK(pipe(p) == 0);
	on_signal(SIGUSR1, on_usr1, SA_RESTART);
	main_thread = pthread_self();
	pthread_t t;
	CHECK(pthread_create(&t, 0, helper, 0) == 0);
	char buf[16];
	ssize_t n = read(p[0], buf, sizeof buf);
	say("read: %s \"%.*s\"", res(n), (int)(n > 0 ? n : 0), buf);
	say("handler ran %d time(s)", (int)handled);
	CHECK(pthread_join(t, 0) == 0);
	return 0;
}
