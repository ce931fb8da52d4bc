/* send on a full socket with SO_SNDTIMEO, interrupted by an SA_RESTART
 * handler, fails with EINTR at once: Linux never restarts it (signal(7);
 * issue 9, defect 2).
 * expect: exit 0 */
#include "common.h"
#include <fcntl.h>
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
	/* Fill the socket without blocking. */
	int fl = fcntl(s[0], F_GETFL);
	CHECK(fcntl(s[0], F_SETFL, fl | O_NONBLOCK) == 0);
	static char chunk[4096];
	while (send(s[0], chunk, sizeof chunk, 0) > 0) {
	}
	CHECK(errno == EAGAIN);
	while (send(s[0], chunk, 1, 0) > 0) {
	}
	CHECK(fcntl(s[0], F_SETFL, fl) == 0);
	struct timeval tv = { 3, 0 };
	CHECK(setsockopt(s[0], SOL_SOCKET, SO_SNDTIMEO, &tv, sizeof tv) == 0);
	on_signal(SIGALRM, on_alarm, SA_RESTART);
	long long t0 = now_ms();
	alarm_ms(200);
	ssize_t n = send(s[0], chunk, 1, 0);
	long long dt = now_ms() - t0;
	say("send: %s", res(n));
	say("handler ran %d time(s)", (int)handled);
	say("returned before the 3 s send timeout: %s", dt < 2000 ? "yes" : "no");
	return 0;
}
