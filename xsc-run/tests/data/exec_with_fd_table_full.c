/* Sets RLIMIT_NOFILE to 32 for both the soft and the hard limit, fills the
 * descriptor table, then execs itself with the argument "child". Linux's
 * exec needs no descriptor; xsc-run needs one to read the binary and
 * cannot raise the soft limit past the hard one, so the exec fails with
 * EMFILE and a message naming both limits (docs/xsc-run.md section 6).
 * Prints what the exec gave. */
#include <errno.h>
#include <stdio.h>
#include <string.h>
#include <sys/resource.h>
#include <unistd.h>

int main(int argc, char **argv)
{
	if (argc > 1 && strcmp(argv[1], "child") == 0) {
		puts("child ran");
		return 0;
	}
	struct rlimit r = { 32, 32 };
	if (setrlimit(RLIMIT_NOFILE, &r) != 0)
		return 3;
	while (dup(1) >= 0)
		;
	execl("/proc/self/exe", "self", "child", (char *)NULL);
	printf("execl: %s\n", errno == EMFILE ? "EMFILE" : "another error");
	return 1;
}
