/* Many short-lived threads that make calls into their own stacks right up
 * to their exit, joined in waves: every call's result lands where it
 * should, and memory reused after the joins is left alone (issue 9,
 * defects 3 and 4).
 * expect: exit 0 */
#include "common.h"
#include <fcntl.h>
#include <pthread.h>
#include <sys/mman.h>

#define WAVES 40
#define PER_WAVE 12
#define CALLS 6
#define STACK (128 * 1024) /* glibc's PTHREAD_STACK_MIN on aarch64 */
#define CANARIES 24
#define CANARY_SIZE (128 * 1024)

static int zero_fd;
static int pipe_w;

struct job {
	int idx;
	int bad;
};

static void *work(void *arg)
{
	struct job *j = arg;
	char buf[1024];
	for (int k = 0; k < CALLS; k++) {
		memset(buf, 0x5a, sizeof buf);
		if (read(zero_fd, buf, sizeof buf) != (ssize_t)sizeof buf)
			j->bad++;
		for (size_t i = 0; i < sizeof buf; i++)
			if (buf[i] != 0) {
				j->bad++;
				break;
			}
		if (getpid() <= 0)
			j->bad++;
	}
	if (write(pipe_w, &j->idx, sizeof j->idx) != (ssize_t)sizeof j->idx)
		j->bad++;
	return 0;
}

static unsigned char *canary[CANARIES];

static int canary_ok(unsigned char *c)
{
	for (size_t i = 0; i < CANARY_SIZE; i += 64)
		if (c[i] != 0xc3)
			return 0;
	return 1;
}

int main(void)
{
	zero_fd = open("/dev/zero", O_RDONLY | O_CLOEXEC);
	CHECK(zero_fd >= 0);
	int p[2];
	CHECK(pipe(p) == 0);
	pipe_w = p[1];
	pthread_attr_t attr;
	CHECK(pthread_attr_init(&attr) == 0);
	CHECK(pthread_attr_setstacksize(&attr, STACK) == 0);
	int bad = 0, seen = 0, corrupted = 0, next = 0;
	for (int w = 0; w < WAVES; w++) {
		pthread_t t[PER_WAVE];
		struct job jobs[PER_WAVE];
		for (int i = 0; i < PER_WAVE; i++) {
			jobs[i].idx = w * PER_WAVE + i;
			jobs[i].bad = 0;
			CHECK(pthread_create(&t[i], &attr, work, &jobs[i]) == 0);
		}
		for (int i = 0; i < PER_WAVE; i++) {
			CHECK(pthread_join(t[i], 0) == 0);
			bad += jobs[i].bad;
		}
		for (int i = 0; i < PER_WAVE; i++) {
			int idx;
			CHECK(read(p[0], &idx, sizeof idx) == (ssize_t)sizeof idx);
			if (idx / PER_WAVE == w)
				seen++;
		}
		/* Memory freed by the joins is likely handed out again here. */
		for (int k = 0; k < 4; k++) {
			unsigned char **c = &canary[next++ % CANARIES];
			if (*c) {
				corrupted += !canary_ok(*c);
				munmap(*c, CANARY_SIZE);
			}
			*c = mmap(0, CANARY_SIZE, PROT_READ | PROT_WRITE, MAP_PRIVATE | MAP_ANONYMOUS, -1, 0);
			CHECK(*c != MAP_FAILED);
			memset(*c, 0xc3, CANARY_SIZE);
		}
	}
	sleep_ms(50);
	for (int k = 0; k < CANARIES; k++)
		if (canary[k])
			corrupted += !canary_ok(canary[k]);
	say("threads: %d, each one's results seen: %s", WAVES * PER_WAVE, seen == WAVES * PER_WAVE ? "yes" : "no");
	say("bad results: %d", bad);
	say("corrupted mappings: %d", corrupted);
	return 0;
}
