/* A thread created after others were joined starts with its own state
 * fresh: thread-local variables at their initial values (.tdata) or zero
 * (.tbss), no thread-specific data, the default cancel state, and a usable
 * stack. glibc and the XSC musl both reuse joined threads' stacks, and
 * must clear what the old thread left there.
 * expect: exit 0 */
#include "common.h"
#include <pthread.h>

#define ROUNDS 6
#define THREADS 4

static __thread int tdata = 7;
static __thread long tbss[64];
static pthread_key_t key;

struct seen {
	int tdata, tbss_clean, key_null, cancel_enabled, stack_ok;
};

static void *work(void *arg)
{
	struct seen *s = arg;
	s->tdata = tdata;
	s->tbss_clean = 1;
	for (int i = 0; i < 64; i++)
		if (tbss[i])
			s->tbss_clean = 0;
	s->key_null = pthread_getspecific(key) == 0;
	int old;
	pthread_setcancelstate(PTHREAD_CANCEL_ENABLE, &old);
	s->cancel_enabled = old == PTHREAD_CANCEL_ENABLE;
	/* Leave state behind for the next thread on this stack. */
	tdata = 1000;
	for (int i = 0; i < 64; i++)
		tbss[i] = -1;
	pthread_setspecific(key, s);
	pthread_setcancelstate(PTHREAD_CANCEL_DISABLE, 0);
	volatile char deep[32 * 1024];
	for (size_t i = 0; i < sizeof deep; i += 512)
		deep[i] = (char)i;
	s->stack_ok = deep[512] == (char)512;
	return 0;
}

int main(void)
{
	CHECK(pthread_key_create(&key, 0) == 0);
	int bad = 0;
	for (int r = 0; r < ROUNDS; r++) {
		pthread_t t[THREADS];
		struct seen s[THREADS];
		memset(s, 0, sizeof s);
		for (int i = 0; i < THREADS; i++)
			CHECK(pthread_create(&t[i], 0, work, &s[i]) == 0);
		for (int i = 0; i < THREADS; i++) {
			CHECK(pthread_join(t[i], 0) == 0);
			if (s[i].tdata != 7 || !s[i].tbss_clean || !s[i].key_null ||
			    !s[i].cancel_enabled || !s[i].stack_ok)
				bad++;
		}
	}
	say("threads created after joins: %d", ROUNDS * THREADS);
	say("threads that started with state left by an earlier one: %d", bad);
	return bad ? 1 : 0;
}
