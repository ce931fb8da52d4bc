/* With its descriptor table full (every slot under a soft RLIMIT_NOFILE of
 * 32, below a higher hard limit, taken), the program execs itself: Linux's
 * exec needs no descriptor, so the new image runs (issue 26, item 3: under
 * xsc-run the probe could not open the binary, took it for a native one,
 * and the host ran the XSC binary natively: SIGSEGV, no message).
 * expect: exit 0 */
#include "common.h"
#include <sys/resource.h>

int main(int argc, char **argv)
{
	if (argc > 2 && strcmp(argv[2], "child") == 0) {
		say("child ran");
		struct rlimit r;
		CHECK(getrlimit(RLIMIT_NOFILE, &r) == 0);
		say("child's soft limit: %ld", (long)r.rlim_cur);
		say("child can open no descriptor: %s", dup(1) < 0 && errno == EMFILE ? "yes" : "no");
		return 0;
	}
	if (argc < 2)
		return 2;
	struct rlimit r;
	CHECK(getrlimit(RLIMIT_NOFILE, &r) == 0);
	if (r.rlim_max != RLIM_INFINITY && r.rlim_max <= 64)
		SKIP("hard RLIMIT_NOFILE too low");
	r.rlim_cur = 32;
	CHECK(setrlimit(RLIMIT_NOFILE, &r) == 0);
	while (dup(1) >= 0)
		;
	say("table full: %s", errname(errno));
	execl("/proc/self/exe", "self", argv[1], "child", (char *)NULL);
	say("execl: -1 %s", errname(errno));
	return 1;
}
