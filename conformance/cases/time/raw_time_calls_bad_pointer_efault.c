/* The raw time system calls (syscall(2) with SYS_clock_gettime,
 * SYS_gettimeofday, SYS_time, SYS_getcpu) given a pointer the process
 * cannot write fail with EFAULT, as every system call does; they must not
 * fault in user space, as the libc functions do when a vDSO writes the
 * result itself (issue 26, item 4: under xsc-run the raw calls reached the
 * host vDSO through the entry table and died by SIGSEGV).
 * expect: exit 0 */
#include "common.h"

#define BAD ((void *)1)

int main(void)
{
	say("clock_gettime(CLOCK_MONOTONIC, bad): %s",
	    res(syscall(SYS_clock_gettime, CLOCK_MONOTONIC, BAD)));
	say("clock_gettime(CLOCK_THREAD_CPUTIME_ID, bad): %s",
	    res(syscall(SYS_clock_gettime, CLOCK_THREAD_CPUTIME_ID, BAD)));
	say("gettimeofday(bad, NULL): %s", res(syscall(SYS_gettimeofday, BAD, NULL)));
	struct timeval tv;
	say("gettimeofday(&tv, bad): %s", res(syscall(SYS_gettimeofday, &tv, BAD)));
#ifdef SYS_time
	say("time(bad): %s", res(syscall(SYS_time, BAD)));
#endif
	unsigned node;
	say("getcpu(bad, &node, NULL): %s", res(syscall(SYS_getcpu, BAD, &node, NULL)));
	unsigned cpu;
	say("getcpu(&cpu, bad, NULL): %s", res(syscall(SYS_getcpu, &cpu, BAD, NULL)));
	/* Good pointers still work through the same path. */
	struct timespec ts;
	say("clock_gettime(CLOCK_MONOTONIC, &ts): %s",
	    res(syscall(SYS_clock_gettime, CLOCK_MONOTONIC, &ts)));
	say("gettimeofday(&tv, NULL): %s", res(syscall(SYS_gettimeofday, &tv, NULL)));
	return 0;
}
