/* Many threads make millions of calls at once, and every completion is
 * checked against the entry it answers: each thread moves its own file's
 * offset with lseek (whose result is the new offset, different for every
 * call) and reads back one byte that names the offset. A completion lost,
 * duplicated, given to the wrong entry or read before the kernel wrote it
 * shows up as a wrong value. Run for both architectures: on aarch64 the
 * ring indices need their acquire and release instructions (ABI §2.3)
 * (issue 12: "a stress test that runs on aarch64").
 * expect: exit 0 */
#include "common.h"
#include <fcntl.h>
#include <pthread.h>

#define THREADS 8
#define CALLS 125000 /* per thread, each two calls: 2 million in all */
#define SPAN 4096

static char dir[4096];

struct job {
	int idx;
	long bad;
	long done;
};

static void *work(void *arg)
{
	struct job *j = arg;
	char path[4200];
	snprintf(path, sizeof path, "%s/file-%d", dir, j->idx);
	int fd = open(path, O_RDWR | O_CREAT | O_TRUNC, 0600);
	if (fd < 0) {
		j->bad++;
		return 0;
	}
	unsigned char page[SPAN];
	for (int k = 0; k < SPAN; k++)
		page[k] = (unsigned char)(k * 7 + j->idx);
	if (write(fd, page, SPAN) != SPAN) {
		j->bad++;
		close(fd);
		return 0;
	}
	for (long c = 0; c < CALLS; c++) {
		off_t want = (off_t)((c * 2654435761u + (unsigned long)j->idx) % SPAN);
		off_t got = lseek(fd, want, SEEK_SET);
		unsigned char b = 0;
		ssize_t n = read(fd, &b, 1);
		if (got != want || n != 1 || b != page[want])
			j->bad++;
		j->done += 2;
	}
	close(fd);
	unlink(path);
	return 0;
}

int main(int argc, char **argv)
{
	if (argc < 2) {
		say("usage: case DIR");
		return 2;
	}
	snprintf(dir, sizeof dir, "%s", argv[1]);
	pthread_t t[THREADS];
	struct job jobs[THREADS];
	for (int i = 0; i < THREADS; i++) {
		jobs[i] = (struct job){ .idx = i };
		if (pthread_create(&t[i], 0, work, &jobs[i]) != 0) {
			say("pthread_create failed");
			return 1;
		}
	}
	long bad = 0, done = 0;
	for (int i = 0; i < THREADS; i++) {
		pthread_join(t[i], 0);
		bad += jobs[i].bad;
		done += jobs[i].done;
	}
	say("calls made: %ld", done);
	say("wrong completions: %ld", bad);
	return bad == 0 ? 0 : 1;
}
