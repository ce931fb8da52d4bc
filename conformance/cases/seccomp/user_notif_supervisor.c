/* SECCOMP_RET_USER_NOTIF with a supervisor in another process (issue 10):
 * the program installs a filter with SECCOMP_FILTER_FLAG_NEW_LISTENER that
 * sends getppid, getpgid and getuid to a listener, passes the listener fd
 * over a unix socket to a supervisor process (forked before the filter),
 * and the supervisor answers: a chosen value for getppid, a chosen errno
 * for getpgid, SECCOMP_USER_NOTIF_FLAG_CONTINUE for getuid (the call then
 * runs). The supervisor checks that each notification names the calling
 * thread, the x86_64 arch and the call's arguments, and reports what it
 * saw once the program is done.
 * expect: exit 0 */
#include "common.h"
#include <linux/audit.h>
#include <linux/filter.h>
#include <linux/seccomp.h>
#include <stddef.h>
#include <sys/ioctl.h>
#include <sys/prctl.h>
#include <sys/socket.h>
#include <sys/wait.h>

static int send_fd(int sock, int fd)
{
	char byte = 'F';
	struct iovec iov = { &byte, 1 };
	union { struct cmsghdr h; char buf[CMSG_SPACE(sizeof(int))]; } u;
	struct msghdr m = { 0 };
	m.msg_iov = &iov;
	m.msg_iovlen = 1;
	m.msg_control = u.buf;
	m.msg_controllen = sizeof u.buf;
	struct cmsghdr *c = CMSG_FIRSTHDR(&m);
	c->cmsg_level = SOL_SOCKET;
	c->cmsg_type = SCM_RIGHTS;
	c->cmsg_len = CMSG_LEN(sizeof(int));
	memcpy(CMSG_DATA(c), &fd, sizeof(int));
	return sendmsg(sock, &m, 0) == 1 ? 0 : -1;
}

static int recv_fd(int sock)
{
	char byte;
	struct iovec iov = { &byte, 1 };
	union { struct cmsghdr h; char buf[CMSG_SPACE(sizeof(int))]; } u;
	struct msghdr m = { 0 };
	m.msg_iov = &iov;
	m.msg_iovlen = 1;
	m.msg_control = u.buf;
	m.msg_controllen = sizeof u.buf;
	if (recvmsg(sock, &m, 0) != 1) return -1;
	struct cmsghdr *c = CMSG_FIRSTHDR(&m);
	if (!c || c->cmsg_type != SCM_RIGHTS) return -1;
	int fd;
	memcpy(&fd, CMSG_DATA(c), sizeof(int));
	return fd;
}

/* The supervisor: answers three notifications, then reports on `sock`. */
static int supervise(int sock, pid_t program)
{
	int listener = recv_fd(sock);
	if (listener < 0) return 10;
	struct seccomp_notif_sizes sizes;
	if (syscall(SYS_seccomp, SECCOMP_GET_NOTIF_SIZES, 0, &sizes) != 0) return 11;
	char report[256] = "";
	for (int i = 0; i < 3; i++) {
		struct seccomp_notif *req = calloc(1, sizes.seccomp_notif > sizeof *req ? sizes.seccomp_notif : sizeof *req);
		struct seccomp_notif_resp *resp = calloc(1, sizes.seccomp_notif_resp > sizeof *resp ? sizes.seccomp_notif_resp : sizeof *resp);
		if (ioctl(listener, SECCOMP_IOCTL_NOTIF_RECV, req) != 0) return 12;
		int valid = ioctl(listener, SECCOMP_IOCTL_NOTIF_ID_VALID, &req->id) == 0;
		const char *name = req->data.nr == SYS_getppid ? "getppid"
			: req->data.nr == SYS_getpgid ? "getpgid"
			: req->data.nr == SYS_getuid ? "getuid" : "other";
		char line[96];
		snprintf(line, sizeof line, "%s: from the program: %s, x86_64: %s, arg0 %s, id valid: %s\n",
			 name,
			 req->pid == (unsigned)program ? "yes" : "no",
			 req->data.arch == AUDIT_ARCH_X86_64 ? "yes" : "no",
			 req->data.nr != SYS_getpgid ? "-" : req->data.args[0] == 7 ? "7" : "wrong",
			 valid ? "yes" : "no");
		strncat(report, line, sizeof report - strlen(report) - 1);
		resp->id = req->id;
		if (req->data.nr == SYS_getppid) {
			resp->val = 4242;
		} else if (req->data.nr == SYS_getpgid) {
			resp->error = -EXDEV;
		} else {
			resp->flags = SECCOMP_USER_NOTIF_FLAG_CONTINUE;
		}
		if (ioctl(listener, SECCOMP_IOCTL_NOTIF_SEND, resp) != 0) return 13;
		free(req);
		free(resp);
	}
	if (write(sock, report, strlen(report)) < 0) return 14;
	return 0;
}

int main(void)
{
	int sv[2];
	CHECK(socketpair(AF_UNIX, SOCK_STREAM, 0, sv) == 0);
	pid_t program = getpid();
	uid_t uid = getuid(); /* before the filter: the real one */
	pid_t sup = fork();
	CHECK(sup >= 0);
	if (sup == 0) {
		close(sv[0]);
		_exit(supervise(sv[1], program));
	}
	close(sv[1]);

	struct sock_filter f[] = {
		BPF_STMT(BPF_LD | BPF_W | BPF_ABS, offsetof(struct seccomp_data, arch)),
		BPF_JUMP(BPF_JMP | BPF_JEQ | BPF_K, AUDIT_ARCH_X86_64, 1, 0),
		BPF_STMT(BPF_RET | BPF_K, SECCOMP_RET_KILL_PROCESS),
		BPF_STMT(BPF_LD | BPF_W | BPF_ABS, offsetof(struct seccomp_data, nr)),
		BPF_JUMP(BPF_JMP | BPF_JEQ | BPF_K, SYS_getppid, 3, 0),
		BPF_JUMP(BPF_JMP | BPF_JEQ | BPF_K, SYS_getpgid, 2, 0),
		BPF_JUMP(BPF_JMP | BPF_JEQ | BPF_K, SYS_getuid, 1, 0),
		BPF_STMT(BPF_RET | BPF_K, SECCOMP_RET_ALLOW),
		BPF_STMT(BPF_RET | BPF_K, SECCOMP_RET_USER_NOTIF),
	};
	struct sock_fprog prog = { sizeof f / sizeof f[0], f };
	CHECK(prctl(PR_SET_NO_NEW_PRIVS, 1, 0, 0, 0) == 0);
	long listener = syscall(SYS_seccomp, SECCOMP_SET_MODE_FILTER, SECCOMP_FILTER_FLAG_NEW_LISTENER, &prog);
	if (listener < 0 && errno == EINVAL)
		SKIP("no SECCOMP_FILTER_FLAG_NEW_LISTENER on this host");
	CHECK(listener >= 0);
	say("listener: a descriptor: %s", listener > 2 ? "yes" : "no");
	CHECK(send_fd(sv[0], (int)listener) == 0);
	close((int)listener);

	long r = syscall(SYS_getppid);
	say("getppid: %s", res(r));
	errno = 0;
	r = syscall(SYS_getpgid, 7);
	say("getpgid(7): %s", res(r));
	r = syscall(SYS_getuid);
	say("getuid (continued): %s", r == (long)uid ? "the real uid" : "something else");

	char report[256] = "";
	ssize_t n = read(sv[0], report, sizeof report - 1);
	if (n > 0) report[n] = 0;
	fputs(report, stdout);
	int st;
	CHECK(waitpid(sup, &st, 0) == sup);
	say("supervisor: %s %d", WIFEXITED(st) ? "exit" : "signal", WIFEXITED(st) ? WEXITSTATUS(st) : WTERMSIG(st));
	return 0;
}
