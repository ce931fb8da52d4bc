/* In seccomp strict mode write and exit are allowed: a program whose only
 * thread writes and then ends with the exit system call exits with that
 * status, as on Linux (issue 26, item 6: under xsc-run the kernel side's
 * exit path made calls strict mode forbids, rt_sigprocmask first, and the
 * process was killed by SIGKILL).
 * expect: exit 7 */
#include "common.h"
#include <sys/prctl.h>

int main(void)
{
	say("entering strict mode");
	if (prctl(PR_SET_SECCOMP, SECCOMP_MODE_STRICT, 0, 0, 0) != 0)
		SKIP("no seccomp strict mode on this host");
	say_raw("in strict mode\n");
	syscall(SYS_exit, 7);
	return 1;
}
