/* A timer on the calling thread's CPU clock (timer_create with
 * CLOCK_THREAD_CPUTIME_ID) fires after that thread has used the CPU time
 * (issue 9, defect 6).
 * expect: exit 0 */
#include "common.h"

static volatile sig_atomic_t fired;

static void on_alarm(int sig)
{
	(void)sig;
	fired++;
}

int main(void)
{
	on_signal(SIGALRM, on_alarm, 0);
	struct sigevent sev;
	memset(&sev, 0, sizeof sev);
	sev.sigev_notify = SIGEV_SIGNAL;
	sev.sigev_signo = SIGALRM;
	timer_t tm;
	CHECK(timer_create(CLOCK_THREAD_CPUTIME_ID, &sev, &tm) == 0);
	struct itimerspec its;
	memset(&its, 0, sizeof its);
	its.it_value.tv_nsec = 50 * 1000000L;
	CHECK(timer_settime(tm, 0, &its, 0) == 0);
	/* Burns up to 1 s of this thread's CPU time waiting for it, asking the
	 * clocks only every million steps (a kernel that serves calls on other
	 * threads must not be kept busy). */
	long long start = thread_cpu_ms();
	long long wall_end = now_ms() + 5000;
	volatile unsigned long x = 0;
	while (!fired && thread_cpu_ms() - start < 1000 && now_ms() < wall_end)
		for (int i = 0; i < 1000000 && !fired; i++)
			x += (unsigned long)i;
	long long used = thread_cpu_ms() - start;
	say("the timer fired: %s", fired ? "yes" : "no");
	if (fired)
		say("after 40 ms to 500 ms of this thread's CPU time: %s", used >= 40 && used < 500 ? "yes" : "no");
	return 0;
}
