/* Mappings made without a hint leave room below the main stack for its
 * limit and the guard gap (issue 9, defect 8).
 * expect: exit 0 */
#include "common.h"
#include <sys/mman.h>
#include <sys/resource.h>

extern char **environ;

/* The top of the main stack: the page end above the argument and
 * environment strings, which are stored at its top. */
static uintptr_t stack_top(char **argv)
{
	uintptr_t top = 0;
	for (char **v = argv; *v; v++)
		if ((uintptr_t)*v + strlen(*v) + 1 > top)
			top = (uintptr_t)*v + strlen(*v) + 1;
	for (char **v = environ; *v; v++)
		if ((uintptr_t)*v + strlen(*v) + 1 > top)
			top = (uintptr_t)*v + strlen(*v) + 1;
	return (top + 4095) & ~(uintptr_t)4095;
}

int main(int argc, char **argv)
{
	(void)argc;
	struct rlimit rl;
	CHECK(getrlimit(RLIMIT_STACK, &rl) == 0);
	if (rl.rlim_cur == RLIM_INFINITY)
		SKIP("unlimited stack: the legacy layout");
	volatile char here;
	uintptr_t sp = (uintptr_t)&here;
	uintptr_t top = stack_top(argv);
	CHECK(top > sp);
	/* The stack may grow to its limit below its top; Linux keeps a 1 MiB
	 * guard gap (stack_guard_gap) below that. */
	uintptr_t lowest = top - rl.rlim_cur - (1 << 20);
	int close_calls = 0;
	for (int i = 0; i < 64; i++) {
		size_t len = (size_t)(i % 8 + 1) << 20;
		char *p = mmap(0, len, PROT_READ | PROT_WRITE, MAP_PRIVATE | MAP_ANONYMOUS, -1, 0);
		CHECK(p != MAP_FAILED);
		uintptr_t lo = (uintptr_t)p, hi = lo + len;
		if (hi > lowest && lo < top)
			close_calls++;
	}
	say("mappings in the stack's room: %d", close_calls);
	return 0;
}
