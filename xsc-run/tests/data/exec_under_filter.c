/* Installs a seccomp filter (getpgid refused with EXDEV), then execs
 * itself: the filter stays on in the new image, as on Linux. */
#define _GNU_SOURCE
#include <errno.h>
#include <linux/filter.h>
#include <linux/seccomp.h>
#include <stddef.h>
#include <stdio.h>
#include <sys/prctl.h>
#include <sys/syscall.h>
#include <unistd.h>

int main(int argc, char **argv)
{
	if (argc > 1) {
		long r = syscall(SYS_getpgid, 7);
		printf("after exec: getpgid(7) = %ld, errno %d\n", r, r < 0 ? errno : 0);
		return 0;
	}
	struct sock_filter f[] = {
		BPF_STMT(BPF_LD | BPF_W | BPF_ABS, offsetof(struct seccomp_data, nr)),
		BPF_JUMP(BPF_JMP | BPF_JEQ | BPF_K, SYS_getpgid, 0, 1),
		BPF_STMT(BPF_RET | BPF_K, SECCOMP_RET_ERRNO | EXDEV),
		BPF_STMT(BPF_RET | BPF_K, SECCOMP_RET_ALLOW),
	};
	struct sock_fprog p = { sizeof f / sizeof f[0], f };
	if (prctl(PR_SET_NO_NEW_PRIVS, 1, 0, 0, 0) != 0) return 2;
	if (syscall(SYS_seccomp, SECCOMP_SET_MODE_FILTER, 0, &p) != 0) return 3;
	execl("/proc/self/exe", argv[0], "again", (char *)0);
	return 4;
}
