/* Once pthread_join has returned, the joined thread's task has ended or
 * is ending: /proc/self/task/TID is gone, or its flags have PF_EXITING,
 * which Linux sets at the start of the task's exit. On Linux the joiner
 * is woken by the kernel from the task's exit (glibc waits on the
 * clear-child-tid word; musl waits for its thread list lock, which that
 * word releases), so it never finds the task still running. Issue 26,
 * item 6: under xsc-run the kernel side cleared the word itself, before
 * its own thread exit had run: the joiner found the task running (its
 * CPU clock readable, tgkill(tid, 0) succeeding) in a good share of the
 * rounds. (How often the task is still there, ending, is a race on Linux
 * too, and not printed.)
 * expect: exit 0 */
#include "common.h"
#include <fcntl.h>
#include <pthread.h>

#define ROUNDS 1000
#define PF_EXITING 0x4

static volatile int tid;

static void *run(void *arg)
{
	tid = (int)syscall(SYS_gettid);
	return arg;
}

/* 1: the task is there and not exiting; 0: gone or exiting; -1: error. */
static int still_running(int t)
{
	char path[64], buf[1024];
	snprintf(path, sizeof path, "/proc/self/task/%d/stat", t);
	int fd = open(path, O_RDONLY);
	if (fd < 0)
		return errno == ENOENT ? 0 : -1;
	ssize_t n = read(fd, buf, sizeof buf - 1);
	close(fd);
	if (n <= 0)
		return n == 0 || errno == ESRCH ? 0 : -1;
	buf[n] = 0;
	/* After the command's closing parenthesis: state, ppid, pgrp,
	 * session, tty_nr, tpgid, flags. */
	char *p = strrchr(buf, ')');
	unsigned long flags;
	if (!p || sscanf(p + 1, " %*c %*d %*d %*d %*d %*d %lu", &flags) != 1)
		return -1;
	return (flags & PF_EXITING) ? 0 : 1;
}

int main(void)
{
	int running = 0, errors = 0;
	for (int i = 0; i < ROUNDS; i++) {
		pthread_t t;
		if (pthread_create(&t, NULL, run, NULL) != 0 || pthread_join(t, NULL) != 0) {
			errors++;
			continue;
		}
		int r = still_running(tid);
		if (r < 0)
			errors++;
		else
			running += r;
	}
	say("rounds with an error: %d", errors);
	say("rounds where the joined thread still ran: %s", running ? "some" : "none");
	return 0;
}
