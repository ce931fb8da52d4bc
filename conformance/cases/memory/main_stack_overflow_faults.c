/* Unbounded recursion on the main thread ends in SIGSEGV at the stack's
 * guard gap, without overwriting mappings made before (issue 9, defect 8).
 * expect: signal SIGSEGV */
#include "common.h"
#include <sys/mman.h>

#define MAPS 32
#define MAP_SIZE (256 * 1024)

static unsigned char *maps[MAPS];
static volatile unsigned long depth;

static void on_segv(int sig)
{
	(void)sig;
	int intact = 1;
	for (int i = 0; i < MAPS; i++)
		for (size_t k = 0; k < MAP_SIZE; k += 64)
			if (maps[i][k] != 0xa5)
				intact = 0;
	say_raw(intact ? "SIGSEGV in the recursion; earlier mappings intact: yes\n"
		       : "SIGSEGV in the recursion; earlier mappings intact: no\n");
	/* SA_RESETHAND: returning faults again, now with the default action. */
}

/* Never reached; keeps the compiler from calling the recursion infinite. */
static volatile unsigned long limit = ~0UL;

static __attribute__((noinline)) unsigned long recurse(unsigned long n)
{
	if (n == limit)
		return 0;
	volatile char frame[1024];
	frame[0] = (char)n;
	frame[sizeof frame - 1] = (char)n;
	depth = n;
	return recurse(n + 1) + frame[0] + frame[sizeof frame - 1];
}

int main(void)
{
	for (int i = 0; i < MAPS; i++) {
		maps[i] = mmap(0, MAP_SIZE, PROT_READ | PROT_WRITE, MAP_PRIVATE | MAP_ANONYMOUS, -1, 0);
		CHECK(maps[i] != MAP_FAILED);
		memset(maps[i], 0xa5, MAP_SIZE);
	}
	static char alt[64 * 1024];
	stack_t ss = { .ss_sp = alt, .ss_size = sizeof alt, .ss_flags = 0 };
	CHECK(sigaltstack(&ss, 0) == 0);
	on_signal(SIGSEGV, on_segv, SA_ONSTACK | SA_RESETHAND);
	say("recursing");
	return (int)recurse(0);
}
