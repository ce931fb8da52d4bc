/* Under an address-space limit of 64 MiB (RLIMIT_AS, as `ulimit -v` and
 * containers set it) the program execs itself; the new image starts, maps
 * and touches 16 MiB and grows its break by 1 MiB, as on Linux (issue 26,
 * item 1: xsc-run reserved 1 GiB for the program break at every start,
 * which the limit counted: exit 126, "cannot reserve 0x4000d000 bytes").
 * expect: exit 0 */
#include "common.h"
#include <sys/mman.h>
#include <sys/resource.h>

int main(int argc, char **argv)
{
	if (argc > 2 && strcmp(argv[2], "child") == 0) {
		say("child ran");
		size_t n = 16 << 20;
		char *p = mmap(NULL, n, PROT_READ | PROT_WRITE, MAP_PRIVATE | MAP_ANONYMOUS, -1, 0);
		say("mmap of 16 MiB: %s", p == MAP_FAILED ? errname(errno) : "ok");
		if (p != MAP_FAILED)
			memset(p, 1, n);
		unsigned long b = (unsigned long)syscall(SYS_brk, 0);
		say("brk grows by 1 MiB: %s",
		    (unsigned long)syscall(SYS_brk, b + (1 << 20)) == b + (1 << 20) ? "yes" : "no");
		/* Far past the limit: refused, as natively. */
		p = mmap(NULL, 256 << 20, PROT_READ, MAP_PRIVATE | MAP_ANONYMOUS, -1, 0);
		say("mmap of 256 MiB: %s", p == MAP_FAILED ? errname(errno) : "ok");
		return 0;
	}
	if (argc < 2)
		return 2;
	struct rlimit r = { 64 << 20, 64 << 20 };
	CHECK(setrlimit(RLIMIT_AS, &r) == 0);
	execl("/proc/self/exe", "self", argv[1], "child", (char *)NULL);
	say("execl: -1 %s", errname(errno));
	return 1;
}
