/* fexecve of a memfd holding this program's binary runs it, as on Linux:
 * its /proc/self/exe names the memfd and AT_EXECFN is /dev/fd/N (issue 26,
 * item 3: under xsc-run execveat with a descriptor gave ENOSYS, the libc
 * fell back to /proc/self/fd/N, and the new runner refused the memfd with
 * exit 126, "cannot resolve its absolute path").
 * expect: exit 0 */
#include "common.h"
#include <fcntl.h>
#include <sys/auxv.h>
#include <sys/mman.h>

extern char **environ;

int main(int argc, char **argv)
{
	if (argc > 2 && strcmp(argv[2], "child") == 0) {
		say("child ran");
		char link[256];
		ssize_t n = readlink("/proc/self/exe", link, sizeof link - 1);
		CHECK(n > 0);
		link[n] = 0;
		say("/proc/self/exe names the memfd: %s",
		    strncmp(link, "/memfd:case-binary", 18) == 0 ? "yes" : "no");
		const char *fn = (const char *)getauxval(AT_EXECFN);
		say("AT_EXECFN is /dev/fd/N: %s", fn && strncmp(fn, "/dev/fd/", 8) == 0 ? "yes" : "no");
		return 0;
	}
	if (argc < 2)
		return 2;
	int src = open("/proc/self/exe", O_RDONLY | O_CLOEXEC);
	CHECK(src >= 0);
	int mfd = memfd_create("case-binary", 0);
	CHECK(mfd >= 0);
	char buf[65536];
	ssize_t n;
	while ((n = read(src, buf, sizeof buf)) > 0)
		CHECK(write(mfd, buf, (size_t)n) == n);
	CHECK(n == 0);
	close(src);
	char *args[] = { "memfd-child", argv[1], "child", NULL };
	fexecve(mfd, args, environ);
	say("fexecve: -1 %s", errname(errno));
	return 1;
}
