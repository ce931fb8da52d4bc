/* The ring protocol under stress, bounded in time: threads come and go in
 * waves while their calls are in flight, each moving data through its own
 * pipe and checking every byte; a storm of signals lands on them at random
 * points (inside calls, between calls, while they start and end), and the
 * handler itself makes calls, which then cannot use the interrupted ring
 * (ABI §4.7) and go through thread_call. Nothing may be lost, duplicated,
 * misdelivered or hang (issue 9: "a stress test of the ring protocol").
 * expect: exit 0 */
#include "common.h"
#include <fcntl.h>
#include <pthread.h>

#define WAVES 20
#define PER_WAVE 6
#define ROUNDS 2000
#define MSG 64

static volatile int storm_on = 1;
static pthread_t live[PER_WAVE];
static volatile int live_n;
static pthread_mutex_t live_lock = PTHREAD_MUTEX_INITIALIZER;
static int null_fd;

static void on_usr1(int sig)
{
	(void)sig;
	int saved = errno;
	/* Calls from a handler that interrupted a ring call. */
	(void)getppid();
	char c = 'x';
	if (write(null_fd, &c, 1) != 1)
		say_raw("handler write failed\n");
	errno = saved;
}

struct job {
	int idx;
	long checked;
	int bad;
};

static void *work(void *arg)
{
	struct job *j = arg;
	int p[2];
	if (pipe(p) != 0) {
		j->bad++;
		return 0;
	}
	unsigned char out[MSG], in[MSG];
	for (int r = 0; r < ROUNDS; r++) {
		for (int k = 0; k < MSG; k++)
			out[k] = (unsigned char)(j->idx * 31 + r * 7 + k);
		size_t done = 0;
		while (done < MSG) {
			ssize_t w = write(p[1], out + done, MSG - done);
			if (w < 0 && errno == EINTR) continue;
			if (w <= 0) { j->bad++; break; }
			done += (size_t)w;
		}
		done = 0;
		while (done < MSG) {
			ssize_t n = read(p[0], in + done, MSG - done);
			if (n < 0 && errno == EINTR) continue;
			if (n <= 0) { j->bad++; break; }
			done += (size_t)n;
		}
		if (memcmp(in, out, MSG) != 0)
			j->bad++;
		j->checked += MSG;
	}
	close(p[0]);
	close(p[1]);
	return 0;
}

static void *storm(void *arg)
{
	(void)arg;
	unsigned seed = 12345;
	while (__atomic_load_n(&storm_on, __ATOMIC_RELAXED)) {
		pthread_mutex_lock(&live_lock);
		if (live_n > 0) {
			seed = seed * 1103515245 + 12345;
			pthread_kill(live[(seed >> 8) % (unsigned)live_n], SIGUSR1);
		}
		pthread_mutex_unlock(&live_lock);
		struct timespec ts = { 0, 50000 };
		nanosleep(&ts, 0);
	}
	return 0;
}

int main(void)
{
	null_fd = open("/dev/null", O_WRONLY);
	CHECK(null_fd >= 0);
	struct sigaction sa;
	memset(&sa, 0, sizeof sa);
	sa.sa_handler = on_usr1;
	sigemptyset(&sa.sa_mask);
	/* No SA_RESTART: interrupted calls fail with EINTR and are retried. */
	CHECK(sigaction(SIGUSR1, &sa, 0) == 0);
	pthread_t s;
	CHECK(pthread_create(&s, 0, storm, 0) == 0);
	long total = 0;
	int bad = 0;
	for (int w = 0; w < WAVES; w++) {
		struct job jobs[PER_WAVE];
		pthread_t t[PER_WAVE];
		pthread_mutex_lock(&live_lock);
		for (int i = 0; i < PER_WAVE; i++) {
			jobs[i] = (struct job){ .idx = w * PER_WAVE + i };
			CHECK(pthread_create(&t[i], 0, work, &jobs[i]) == 0);
			live[i] = t[i];
		}
		live_n = PER_WAVE;
		pthread_mutex_unlock(&live_lock);
		for (int i = 0; i < PER_WAVE; i++) {
			/* Stop aiming at a thread before it is joined (its id is
			 * invalid after that); the others stay targets. */
			pthread_mutex_lock(&live_lock);
			for (int k = 0; k < live_n; k++) {
				if (pthread_equal(live[k], t[i])) {
					live[k] = live[live_n - 1];
					live_n--;
					break;
				}
			}
			pthread_mutex_unlock(&live_lock);
			CHECK(pthread_join(t[i], 0) == 0);
			total += jobs[i].checked;
			bad += jobs[i].bad;
		}
	}
	__atomic_store_n(&storm_on, 0, __ATOMIC_RELAXED);
	CHECK(pthread_join(s, 0) == 0);
	say("bytes checked: %ld", total);
	say("bad transfers: %d", bad);
	return bad != 0;
}
