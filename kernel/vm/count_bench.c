/* The counted rows of `cargo xtask bench --only vm`: one source, built
 * natively (gcc -static) and with xsc-cc -DXSC, run in the same VM under
 * the QEMU plugin count_plugin.c, which counts the instructions and kernel
 * entries between the marks around each row's loop (region ROW * 2, + 1
 * for the XSC build). Usage:
 *   count_bench call N          N getppid calls
 *   count_bench batch N         N getppid entries in batches of 64 (XSC:
 *                               xsc_submit_and_reap; natively N calls)
 *   count_bench clock N         N clock_gettime(CLOCK_MONOTONIC)
 *   count_bench threads T N     T threads making N/T getppid calls each
 *                               (creation and join included)
 *   count_bench run PROG ARGS   PROG run to its end (fork, exec, wait)
 * Each loop is warmed up first; the program prints a checksum. */
#define _GNU_SOURCE
#include <pthread.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/syscall.h>
#include <sys/wait.h>
#include <time.h>
#include <unistd.h>

#ifdef XSC
#include <linux/xsc.h>
int xsc_submit_and_reap(const struct xsc_sqe *sqes, struct xsc_cqe *cqes,
			size_t n);
#define SIDE 1
#else
#define SIDE 0
#endif

#define MARK_START(r) __asm__ volatile(".byte 0x0f,0x1f,0x80; .long %c0" \
	:: "i"(0x58530000 + (r) * 16 + 1) : "memory")
#define MARK_END(r) __asm__ volatile(".byte 0x0f,0x1f,0x80; .long %c0" \
	:: "i"(0x58530000 + (r) * 16 + 2) : "memory")
/* Region of row ROW for this build. */
#define REGION(row) ((row) * 2 + SIDE)

static volatile long sink;

static void calls(long n)
{
	for (long i = 0; i < n; i++)
		sink += getppid();
}

static void batch(long n)
{
#ifdef XSC
	struct xsc_sqe e[64];
	struct xsc_cqe c[64];

	memset(e, 0, sizeof(e));
	for (int i = 0; i < 64; i++) {
		e[i].opcode = SYS_getppid;
		e[i].user_data = i;
	}
	for (long done = 0; done < n; done += 64) {
		if (xsc_submit_and_reap(e, c, 64) != 0)
			exit(3);
		sink += c[63].result;
	}
#else
	calls(n);
#endif
}

static void clocks(long n)
{
	struct timespec ts;

	for (long i = 0; i < n; i++) {
		clock_gettime(CLOCK_MONOTONIC, &ts);
		sink += ts.tv_nsec & 1;
	}
}

static long per_thread;

static void *thread_calls(void *arg)
{
	calls(per_thread);
	return arg;
}

static void threads(int t, long n)
{
	pthread_t th[64];

	per_thread = n / t;
	for (int i = 0; i < t; i++)
		if (pthread_create(&th[i], NULL, thread_calls, NULL))
			exit(4);
	for (int i = 0; i < t; i++)
		pthread_join(th[i], NULL);
}

static void run(char **argv)
{
	int st;
	pid_t pid = fork();

	if (pid == 0) {
		execv(argv[0], argv);
		_exit(127);
	}
	if (pid < 0 || waitpid(pid, &st, 0) != pid || st != 0)
		exit(5);
}

/* One row: warmed up, then counted between its marks. */
#define ROW(row, body) do { body; MARK_START(REGION(row)); body; \
	MARK_END(REGION(row)); } while (0)

int main(int argc, char **argv)
{
	const char *what = argc > 1 ? argv[1] : "";
	long n = argc > 2 ? atol(argv[2]) : 0;

	if (!strcmp(what, "call") && n > 0)
		ROW(1, calls(n));
	else if (!strcmp(what, "batch") && n > 0)
		ROW(2, batch(n));
	else if (!strcmp(what, "clock") && n > 0)
		ROW(3, clocks(n));
	else if (!strcmp(what, "threads") && argc > 3 && n > 0 && n <= 64) {
		long calls_total = atol(argv[3]);

		if (n == 1)
			ROW(4, threads(1, calls_total));
		else if (n == 4)
			ROW(5, threads(4, calls_total));
		else
			ROW(6, threads((int)n, calls_total));
	} else if (!strcmp(what, "run") && argc > 2) {
		/* Warming up runs it twice: the second is counted. */
		ROW(7, run(argv + 2));
	} else {
		fprintf(stderr, "usage: count_bench call|batch|clock N | threads T N | run PROG ARGS\n");
		return 2;
	}
	printf("checksum %ld\n", sink & 1);
	return 0;
}
