/* readlink of /proc/self/exe with a size of 0 or a negative size fails
 * with EINVAL, as for any link (issue 9, defect 10). The raw call: musl's
 * readlink() turns a size of 0 into a 1-byte read itself.
 * expect: exit 0 */
#include "common.h"

#ifdef SYS_readlink
#define READLINK(path, buf, size) syscall(SYS_readlink, path, buf, size)
#else /* aarch64 has readlinkat only */
#define READLINK(path, buf, size) syscall(SYS_readlinkat, -100, path, buf, size)
#endif

int main(void)
{
	char buf[64];
	say("readlink /proc/self/exe, size 0: %s", res(READLINK("/proc/self/exe", buf, 0)));
	say("readlink /proc/self/exe, size -1: %s", res(READLINK("/proc/self/exe", buf, -1)));
	say("readlinkat /proc/self/exe, size 0: %s", res(syscall(SYS_readlinkat, -100, "/proc/self/exe", buf, 0)));
	say("readlink /proc/self/cwd, size 0: %s", res(READLINK("/proc/self/cwd", buf, 0)));
	return 0;
}
