/* RLIMIT_STACK lowered while the program runs still limits how far the
 * main stack grows (Linux checks it at every growth): recursion faults
 * after about that much stack (issue 9, defect 8).
 * expect: exit 0 */
#include "common.h"
#include <sys/resource.h>

static volatile uintptr_t top, lowest;

static void on_segv(int sig)
{
	(void)sig;
	uintptr_t used = top - lowest;
	say_raw(used >= (1u << 20) && used < (3u << 20)
			? "overflowed after 1 MiB to 3 MiB of recursion: yes\n"
			: "overflowed after 1 MiB to 3 MiB of recursion: no\n");
	_exit(0);
}

/* Never reached; keeps the compiler from calling the recursion infinite. */
static volatile unsigned long limit = ~0UL;

static __attribute__((noinline)) unsigned long recurse(unsigned long n)
{
	if (n == limit)
		return 0;
	volatile char frame[1024];
	frame[0] = (char)n;
	lowest = (uintptr_t)&frame[0];
	return recurse(n + 1) + frame[0];
}

int main(void)
{
	struct rlimit rl;
	CHECK(getrlimit(RLIMIT_STACK, &rl) == 0);
	if (rl.rlim_max != RLIM_INFINITY && rl.rlim_max < (2u << 20))
		SKIP("hard stack limit below 2 MiB");
	rl.rlim_cur = 2u << 20;
	CHECK(setrlimit(RLIMIT_STACK, &rl) == 0);
	volatile char here;
	top = (uintptr_t)&here;
	static char alt[64 * 1024];
	stack_t ss = { .ss_sp = alt, .ss_size = sizeof alt, .ss_flags = 0 };
	CHECK(sigaltstack(&ss, 0) == 0);
	on_signal(SIGSEGV, on_segv, SA_ONSTACK);
	return (int)recurse(0);
}
