/* Issue 10's probe: a program sets no_new_privs and installs a seccomp
 * filter returning EACCES for openat, then opens /etc/hostname with
 * openat; the open must be refused as natively, wherever the kernel
 * consumes the call. (The call is made with syscall(): the two C
 * libraries open files with different calls.) A thread created before the
 * filter without TSYNC keeps its freedom, one created after inherits it.
 * expect: exit 0 */
#include "common.h"
#include <fcntl.h>
#include <linux/audit.h>
#include <linux/filter.h>
#include <linux/seccomp.h>
#include <pthread.h>
#include <stddef.h>
#include <sys/prctl.h>

static long open_hostname(void)
{
	long fd = syscall(SYS_openat, AT_FDCWD, "/etc/hostname", O_RDONLY);
	if (fd >= 0) close((int)fd);
	return fd >= 0 ? 0 : -1;
}

static pthread_mutex_t m = PTHREAD_MUTEX_INITIALIZER;
static pthread_cond_t c = PTHREAD_COND_INITIALIZER;
static int installed;

static void *before(void *arg)
{
	(void)arg;
	pthread_mutex_lock(&m);
	while (!installed) pthread_cond_wait(&c, &m);
	pthread_mutex_unlock(&m);
	say("thread created before the filter: openat %s", res(open_hostname()));
	return 0;
}

static void *after(void *arg)
{
	(void)arg;
	say("thread created after the filter: openat %s", res(open_hostname()));
	return 0;
}

int main(void)
{
	pthread_t t1, t2;
	CHECK(pthread_create(&t1, 0, before, 0) == 0);
	struct sock_filter f[] = {
		BPF_STMT(BPF_LD | BPF_W | BPF_ABS, offsetof(struct seccomp_data, nr)),
		BPF_JUMP(BPF_JMP | BPF_JEQ | BPF_K, SYS_openat, 0, 1),
		BPF_STMT(BPF_RET | BPF_K, SECCOMP_RET_ERRNO | EACCES),
		BPF_STMT(BPF_RET | BPF_K, SECCOMP_RET_ALLOW),
	};
	struct sock_fprog prog = { sizeof f / sizeof f[0], f };
	say("openat before: %s", res(open_hostname()));
	say("filter without no_new_privs: %s", res(syscall(SYS_seccomp, SECCOMP_SET_MODE_FILTER, 0, &prog)));
	CHECK(prctl(PR_SET_NO_NEW_PRIVS, 1, 0, 0, 0) == 0);
	say("filter: %s", res(syscall(SYS_seccomp, SECCOMP_SET_MODE_FILTER, 0, &prog)));
	say("openat after: %s", res(open_hostname()));
	pthread_mutex_lock(&m);
	installed = 1;
	pthread_cond_broadcast(&c);
	pthread_mutex_unlock(&m);
	pthread_join(t1, 0);
	CHECK(pthread_create(&t2, 0, after, 0) == 0);
	pthread_join(t2, 0);
	return 0;
}
