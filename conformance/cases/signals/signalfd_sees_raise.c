/* A blocked signal a thread raises on itself (raise: tgkill) is pending on
 * that thread, and a signalfd read by that thread sees it (issue 9,
 * defect 6).
 * expect: exit 0 */
#include "common.h"
#include <poll.h>
#include <sys/signalfd.h>

int main(void)
{
	sigset_t set;
	sigemptyset(&set);
	sigaddset(&set, SIGUSR1);
	CHECK(sigprocmask(SIG_BLOCK, &set, 0) == 0);
	int fd = signalfd(-1, &set, SFD_CLOEXEC);
	CHECK(fd >= 0);
	CHECK(raise(SIGUSR1) == 0);
	sigset_t pending;
	CHECK(sigpending(&pending) == 0);
	say("pending after raise: %s", sigismember(&pending, SIGUSR1) ? "yes" : "no");
	struct pollfd pf = { fd, POLLIN, 0 };
	int r = poll(&pf, 1, 1000);
	say("poll on the signalfd: %s", res(r));
	if (r == 1) {
		struct signalfd_siginfo si;
		ssize_t n = read(fd, &si, sizeof si);
		say("read: %s", n == (ssize_t)sizeof si ? "one siginfo" : res(n));
		if (n == (ssize_t)sizeof si)
			say("signal: %s", signame((int)si.ssi_signo));
	}
	CHECK(sigpending(&pending) == 0);
	say("pending after the read: %s", sigismember(&pending, SIGUSR1) ? "yes" : "no");
	return 0;
}
