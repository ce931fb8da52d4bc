/* The C library's allocator under threads: waves of threads allocate
 * blocks of many sizes (small ones, which a per-thread cache keeps, and
 * large ones), fill each with a pattern of its own, grow some with
 * realloc, take some from aligned_alloc, and hand half of them through a
 * shared mailbox to be checked and freed by another thread, possibly
 * after their owner has exited (its cached chunks then belong to the
 * bins again). Every block's contents are checked before it is freed and
 * every block is freed exactly once: a lost, shared or corrupted chunk
 * shows as a bad pattern or a crash. malloc_usable_size is not compared
 * (the libraries round differently).
 * expect: exit 0 */
#include "common.h"
#include <pthread.h>

#define WAVES 6
#define PER_WAVE 4
#define OPS 6000
#define WINDOW 48
#define MAILBOX 4096

struct block {
	unsigned char *p;
	size_t n;
	unsigned char tag;
};

static struct block mailbox[MAILBOX];
static int mail_n;
static pthread_mutex_t mail_lock = PTHREAD_MUTEX_INITIALIZER;
static long checked, bad;

static size_t pick(unsigned *seed)
{
	*seed = *seed * 1103515245 + 12345;
	unsigned r = *seed >> 8;
	if (r % 512 == 0)
		return 300000; /* beyond both libraries' mmap thresholds */
	switch (r % 8) {
	case 0: return 2048 + r % 40000; /* large, from the bins */
	case 1: return 1 + r % 4;
	default: return 1 + r % 1100; /* around the cache's largest size */
	}
}

static int intact(const struct block *b)
{
	for (size_t k = 0; k < b->n; k++)
		if (b->p[k] != (unsigned char)(b->tag + k * 13))
			return 0;
	return 1;
}

static void fill(struct block *b)
{
	for (size_t k = 0; k < b->n; k++)
		b->p[k] = (unsigned char)(b->tag + k * 13);
}

static void retire(struct block *b, long *ok, long *wrong)
{
	if (intact(b))
		(*ok)++;
	else
		(*wrong)++;
	free(b->p);
}

static void *work(void *arg)
{
	unsigned seed = (unsigned)(uintptr_t)arg * 2654435761u;
	struct block window[WINDOW];
	int live = 0;
	long ok = 0, wrong = 0;
	for (int i = 0; i < OPS; i++) {
		struct block b = { 0, pick(&seed), (unsigned char)(i * 7 + (int)(uintptr_t)arg) };
		if (i % 11 == 0)
			b.p = aligned_alloc(64, (b.n + 63) & ~(size_t)63);
		else
			b.p = malloc(b.n);
		if (!b.p) { wrong++; continue; }
		if ((i % 11 == 0) && ((uintptr_t)b.p & 63)) wrong++;
		fill(&b);
		if (i % 5 == 0) {
			size_t n = b.n * 2 + 1;
			unsigned char *q = realloc(b.p, n);
			if (!q) { wrong++; free(b.p); continue; }
			b.p = q;
			if (!intact(&b)) wrong++;
			b.n = n;
			fill(&b);
		}
		if (live == WINDOW) {
			int v = (int)((seed >> 4) % WINDOW);
			struct block old = window[v];
			window[v] = window[--live];
			if (i % 2 == 0) {
				pthread_mutex_lock(&mail_lock);
				if (mail_n < MAILBOX) {
					mailbox[mail_n++] = old;
					old.p = 0;
				}
				pthread_mutex_unlock(&mail_lock);
			} else {
				/* Someone else's block, if there is one. */
				struct block theirs = { 0, 0, 0 };
				pthread_mutex_lock(&mail_lock);
				if (mail_n > 0)
					theirs = mailbox[--mail_n];
				pthread_mutex_unlock(&mail_lock);
				if (theirs.p)
					retire(&theirs, &ok, &wrong);
			}
			if (old.p)
				retire(&old, &ok, &wrong);
		}
		window[live++] = b;
	}
	/* Half of what is left outlives this thread in the mailbox. */
	for (int v = 0; v < live; v++) {
		int kept = 0;
		if (v % 2 == 0) {
			pthread_mutex_lock(&mail_lock);
			if (mail_n < MAILBOX) {
				mailbox[mail_n++] = window[v];
				kept = 1;
			}
			pthread_mutex_unlock(&mail_lock);
		}
		if (!kept)
			retire(&window[v], &ok, &wrong);
	}
	__atomic_add_fetch(&checked, ok, __ATOMIC_RELAXED);
	__atomic_add_fetch(&bad, wrong, __ATOMIC_RELAXED);
	return 0;
}

int main(void)
{
	long started = 0;
	for (int w = 0; w < WAVES; w++) {
		pthread_t t[PER_WAVE];
		for (int k = 0; k < PER_WAVE; k++) {
			CHECK(pthread_create(&t[k], 0, work, (void *)(uintptr_t)(w * PER_WAVE + k + 1)) == 0);
			started++;
		}
		for (int k = 0; k < PER_WAVE; k++)
			CHECK(pthread_join(t[k], 0) == 0);
	}
	long left = 0, wrong = 0;
	while (mail_n > 0)
		retire(&mailbox[--mail_n], &left, &wrong);
	say("threads: %ld", started);
	say("blocks checked and freed: %s", checked + left > (long)WAVES * PER_WAVE * (OPS / 4) ? "yes" : "no");
	say("corrupted blocks: %ld", bad + wrong);
	return 0;
}
