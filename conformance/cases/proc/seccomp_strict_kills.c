/* In seccomp strict mode, a call other than read, write, exit and
 * sigreturn kills the process with SIGKILL; it must end, not hang
 * (issue 9, defect 7).
 * expect: signal SIGKILL */
#include "common.h"
#include <sys/prctl.h>

int main(void)
{
	say("entering strict mode");
	if (prctl(PR_SET_SECCOMP, SECCOMP_MODE_STRICT, 0, 0, 0) != 0)
		SKIP("no seccomp strict mode on this host");
	say_raw("in strict mode\n");
	syscall(SYS_getppid);
	say_raw("still alive after a forbidden call\n");
	syscall(SYS_exit, 1);
	return 1;
}
