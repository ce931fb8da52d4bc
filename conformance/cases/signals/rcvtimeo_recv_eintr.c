/* recv on a socket with SO_RCVTIMEO, interrupted by an SA_RESTART handler,
 * fails with EINTR at once: Linux never restarts it (signal(7); issue 9,
 * defect 2).
 * expect: exit 0 */
#include "common.h"
#include <sys/socket.h>

static volatile sig_atomic_t handled;

static void on_alarm(int sig)
{
	(void)sig;
	handled++;
}

int main(void)
{
	int s[2];
	CHECK(socketpair(AF_UNIX, SOCK_STREAM, 0, s) == 0);
	struct timeval tv = { 3, 0 };
	CHECK(setsockopt(s[0], SOL_SOCKET, SO_RCVTIMEO, &tv, sizeof tv) == 0);
	on_signal(SIGALRM, on_alarm, SA_RESTART);
	long long t0 = now_ms();
	alarm_ms(200);
	char buf[16];
	ssize_t n = recv(s[0], buf, sizeof buf, 0);
	long long dt = now_ms() - t0;
	say("recv: %s", res(n));
	say("handler ran %d time(s)", (int)handled);
	say("returned before the 3 s receive timeout: %s", dt < 2000 ? "yes" : "no");
	return 0;
}
