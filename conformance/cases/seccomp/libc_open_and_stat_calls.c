/* A seccomp filter written for the native build of a program judges the
 * same calls under XSC: the C library opens files with openat and
 * stats them with newfstatat, as glibc does, so a filter refusing openat
 * and newfstatat refuses fopen, open and stat too (XSC's musl-based
 * libc would otherwise use the older open and stat system calls on
 * x86_64, which such a filter lets through).
 * expect: exit 0 */
#include "common.h"
#include <fcntl.h>
#include <linux/filter.h>
#include <linux/seccomp.h>
#include <stddef.h>
#include <stdio.h>
#include <sys/prctl.h>
#include <sys/stat.h>

int main(void)
{
	struct stat st;
	struct sock_filter f[] = {
		BPF_STMT(BPF_LD | BPF_W | BPF_ABS, offsetof(struct seccomp_data, nr)),
		BPF_JUMP(BPF_JMP | BPF_JEQ | BPF_K, SYS_openat, 0, 1),
		BPF_STMT(BPF_RET | BPF_K, SECCOMP_RET_ERRNO | EACCES),
		BPF_JUMP(BPF_JMP | BPF_JEQ | BPF_K, SYS_newfstatat, 0, 1),
		BPF_STMT(BPF_RET | BPF_K, SECCOMP_RET_ERRNO | EPERM),
		BPF_STMT(BPF_RET | BPF_K, SECCOMP_RET_ALLOW),
	};
	struct sock_fprog prog = { sizeof f / sizeof f[0], f };
	CHECK(prctl(PR_SET_NO_NEW_PRIVS, 1, 0, 0, 0) == 0);
	CHECK(syscall(SYS_seccomp, SECCOMP_SET_MODE_FILTER, 0, &prog) == 0);
	FILE *fp = fopen("/etc/hostname", "r");
	say("fopen: %s", fp ? "ok" : errname(errno));
	if (fp) fclose(fp);
	int fd = open("/etc/hostname", O_RDONLY);
	say("open: %s", fd >= 0 ? "ok" : errname(errno));
	if (fd >= 0) close(fd);
	say("stat: %s", res(stat("/etc/hostname", &st)));
	say("lstat: %s", res(lstat("/etc/hostname", &st)));
	return 0;
}
