/* A blocked signal sent to the process (kill(getpid())) is seen by a
 * signalfd.
 * expect: exit 0 */
#include "common.h"
#include <poll.h>
#include <sys/signalfd.h>

int main(void)
{
	sigset_t set;
	sigemptyset(&set);
	sigaddset(&set, SIGUSR2);
	CHECK(sigprocmask(SIG_BLOCK, &set, 0) == 0);
	int fd = signalfd(-1, &set, SFD_CLOEXEC);
	CHECK(fd >= 0);
	CHECK(kill(getpid(), SIGUSR2) == 0);
	struct pollfd pf = { fd, POLLIN, 0 };
	int r = poll(&pf, 1, 1000);
	say("poll on the signalfd: %s", res(r));
	if (r == 1) {
		struct signalfd_siginfo si;
		ssize_t n = read(fd, &si, sizeof si);
		say("read: %s", n == (ssize_t)sizeof si ? "one siginfo" : res(n));
		if (n == (ssize_t)sizeof si)
			say("signal: %s, sent by this process: %s", signame((int)si.ssi_signo),
			    si.ssi_pid == (unsigned)getpid() ? "yes" : "no");
	}
	return 0;
}
