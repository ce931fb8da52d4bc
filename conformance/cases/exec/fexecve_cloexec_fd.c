/* fexecve of a close-on-exec descriptor of this program's binary runs it,
 * as on Linux (the kernel has the file before it closes the descriptor;
 * issue 26, item 3: under xsc-run it failed with ENOENT).
 * expect: exit 0 */
#include "common.h"
#include <fcntl.h>

extern char **environ;

int main(int argc, char **argv)
{
	if (argc > 2 && strcmp(argv[2], "child") == 0) {
		say("child ran");
		return 0;
	}
	if (argc < 2)
		return 2;
	int fd = open("/proc/self/exe", O_RDONLY | O_CLOEXEC);
	CHECK(fd >= 0);
	char *args[] = { "cloexec-child", argv[1], "child", NULL };
	fexecve(fd, args, environ);
	say("fexecve: -1 %s", errname(errno));
	return 1;
}
