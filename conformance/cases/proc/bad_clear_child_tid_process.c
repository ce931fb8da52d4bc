/* A process that sets an unwritable clear-child-tid address and exits ends
 * with its own status: Linux ignores the failed write (issue 9,
 * defect 10).
 * expect: exit 0 */
#include "common.h"
#include <sys/wait.h>

int main(void)
{
	pid_t pid = fork();
	CHECK(pid >= 0);
	if (pid == 0) {
		syscall(SYS_set_tid_address, (void *)8);
		_exit(3);
	}
	int st;
	CHECK(waitpid(pid, &st, 0) == pid);
	if (WIFEXITED(st))
		say("the child exited with %d", WEXITSTATUS(st));
	else if (WIFSIGNALED(st))
		say("the child was killed by %s", signame(WTERMSIG(st)));
	return 0;
}
