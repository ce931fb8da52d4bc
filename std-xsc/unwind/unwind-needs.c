/* Strong references that make a static link pull in the musl fork's
 * pthread functions libgcc_eh calls through weak references (gcc's
 * gthr-posix.h assumes a libc whose pthreads are always linked, as in
 * glibc >= 2.34). Linked into libunwind.a together with libgcc_eh. */
#include <pthread.h>

__attribute__((used)) static void *const xsc_unwind_needs[] = {
	(void *)pthread_once,
	(void *)pthread_key_create,
	(void *)pthread_getspecific,
	(void *)pthread_setspecific,
	(void *)pthread_mutex_lock,
	(void *)pthread_mutex_unlock,
};
