/* The main stack of a program started with a 2 MiB RLIMIT_STACK grows to
 * about that much: recursion faults after 1 MiB to 3 MiB (issue 9,
 * defect 8). The case lowers the limit and executes itself.
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

int main(int argc, char **argv)
{
	if (argc > 2 && strcmp(argv[2], "child") == 0) {
		volatile char here;
		top = (uintptr_t)&here;
		static char alt[64 * 1024];
		stack_t ss = { .ss_sp = alt, .ss_size = sizeof alt, .ss_flags = 0 };
		CHECK(sigaltstack(&ss, 0) == 0);
		on_signal(SIGSEGV, on_segv, SA_ONSTACK);
		return (int)recurse(0);
	}
	CHECK(argc > 1);
	struct rlimit rl;
	CHECK(getrlimit(RLIMIT_STACK, &rl) == 0);
	if (rl.rlim_max != RLIM_INFINITY && rl.rlim_max < (2u << 20))
		SKIP("hard stack limit below 2 MiB");
	rl.rlim_cur = 2u << 20;
	CHECK(setrlimit(RLIMIT_STACK, &rl) == 0);
	say("executing itself with a 2 MiB stack limit");
	char *args[] = { argv[0], argv[1], "child", 0 };
	execv("/proc/self/exe", args);
	say("execv: %s", res(-1));
	return 1;
}
