/* Every name of the process's exe link names this program (issue 9,
 * defect 10).
 * expect: exit 0 */
#include "common.h"
#include <limits.h>

static char self[PATH_MAX];

/* `label` is `name` with the pid and tid written as PID and TID. */
static void check(const char *name, const char *label)
{
	char buf[PATH_MAX];
	ssize_t n = readlink(name, buf, sizeof buf - 1);
	if (n < 0) {
		say("%s: %s", label, res(n));
		return;
	}
	buf[n] = 0;
	say("%s names this program: %s", label, strcmp(buf, self) == 0 ? "yes" : "no");
}

int main(int argc, char **argv)
{
	(void)argc;
	CHECK(realpath(argv[0], self) != 0);
	char name[128];
	check("/proc/self/exe", "/proc/self/exe");
	check("/proc/thread-self/exe", "/proc/thread-self/exe");
	check("/proc/self//exe", "/proc/self//exe");
	check("/proc/./self/exe", "/proc/./self/exe");
	check("/proc//self/exe", "/proc//self/exe");
	snprintf(name, sizeof name, "/proc/%d/exe", (int)getpid());
	check(name, "/proc/PID/exe");
	snprintf(name, sizeof name, "/proc/self/task/%ld/exe", (long)syscall(SYS_gettid));
	check(name, "/proc/self/task/TID/exe");
	snprintf(name, sizeof name, "/proc/%d/task/%ld/exe", (int)getpid(), (long)syscall(SYS_gettid));
	check(name, "/proc/PID/task/TID/exe");
	snprintf(name, sizeof name, "/proc/%d/./exe", (int)getpid());
	check(name, "/proc/PID/./exe");
	return 0;
}
