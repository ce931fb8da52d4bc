/* /init of the kernel runner's VM (xsc-vm), itself an XSC program: it
 * runs one program on the XSC kernel as the host asked and reports how it
 * ended.
 *
 * The host's initramfs holds, besides this /init, the program at its
 * host path and four files in /xsc-vm/:
 *   argv  the arguments, argv[0] first, each ended by a NUL;
 *   env   the environment, NAME=VALUE each ended by a NUL;
 *   cwd   the host's working directory (an absolute path, no NUL);
 *   prog  the program's path;
 *   poll_us  (only in polled mode) the value for
 *         /proc/sys/kernel/xsc_poll_us.
 * It mounts /proc, /sys, /dev, /tmp, mounts the host's working directory
 * (virtio-9p, tag `xsc`) at the same path, opens the virtio-serial ports
 * named xsc.stdin, xsc.stdout and xsc.stderr as the program's fds 0, 1
 * and 2, runs it there and waits. On the console (the first serial port)
 * it then writes one line the host reads:
 *   xsc-vm: status exit N | xsc-vm: status signal N | xsc-vm: error TEXT
 * and reboots, which ends qemu (-no-reboot). As process 1 it also reaps
 * the program's orphans; those still running when the program ends die
 * with the VM. */
#define _GNU_SOURCE
#include <dirent.h>
#include <errno.h>
#include <fcntl.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/mount.h>
#include <sys/reboot.h>
#include <sys/stat.h>
#include <sys/wait.h>
#include <unistd.h>

#define MAX_STRINGS 4096

static void finish(void)
{
	fflush(stdout);
	sync();
	reboot(RB_AUTOBOOT);
	for (;;)
		pause();
}

static void fail(const char *what, const char *detail)
{
	printf("xsc-vm: error %s: %s: %s\n", what, detail, strerror(errno));
	finish();
}

/* The whole of a small file, NUL-terminated; its length in *len. */
static char *slurp(const char *path, size_t *len)
{
	int fd = open(path, O_RDONLY | O_CLOEXEC);
	size_t cap = 4096, n = 0;
	char *buf = malloc(cap + 1);
	ssize_t got;

	if (fd < 0 || !buf)
		fail("cannot read", path);
	while ((got = read(fd, buf + n, cap - n)) > 0) {
		n += (size_t)got;
		if (n == cap) {
			cap *= 2;
			buf = realloc(buf, cap + 1);
			if (!buf)
				fail("out of memory reading", path);
		}
	}
	if (got < 0)
		fail("cannot read", path);
	close(fd);
	buf[n] = 0;
	*len = n;
	return buf;
}

/* NUL-separated strings as a NULL-terminated vector. */
static char **split(char *buf, size_t len)
{
	char **v = calloc(MAX_STRINGS + 1, sizeof *v);
	size_t i = 0, at = 0;

	if (!v)
		fail("out of memory", "split");
	while (at < len && i < MAX_STRINGS) {
		v[i++] = buf + at;
		at += strlen(buf + at) + 1;
	}
	return v;
}

static void mkdir_p(const char *path)
{
	char *p = strdup(path);

	for (char *s = p + 1; p && *s; s++) {
		if (*s != '/')
			continue;
		*s = 0;
		mkdir(p, 0755);
		*s = '/';
	}
	if (p)
		mkdir(p, 0755);
	free(p);
}

/* The device node of the virtio-serial port called `name`
 * (/sys/class/virtio-ports/vportNpM/name), opened with `flags`. */
static int open_port(const char *name, int flags)
{
	DIR *d = opendir("/sys/class/virtio-ports");
	struct dirent *e;
	char path[300], text[64];
	int fd = -1;

	while (d && (e = readdir(d))) {
		if (e->d_name[0] == '.')
			continue;
		snprintf(path, sizeof path, "/sys/class/virtio-ports/%s/name", e->d_name);
		int nf = open(path, O_RDONLY | O_CLOEXEC);
		ssize_t n = nf >= 0 ? read(nf, text, sizeof text - 1) : -1;

		if (nf >= 0)
			close(nf);
		if (n <= 0)
			continue;
		text[n] = 0;
		text[strcspn(text, "\n")] = 0;
		if (strcmp(text, name) == 0) {
			snprintf(path, sizeof path, "/dev/%s", e->d_name);
			fd = open(path, flags);
			break;
		}
	}
	if (d)
		closedir(d);
	if (fd < 0)
		fail("cannot open the virtio-serial port", name);
	return fd;
}

int main(void)
{
	size_t n;

	setvbuf(stdout, NULL, _IOLBF, 0);
	mount("proc", "/proc", "proc", 0, NULL);
	mount("sysfs", "/sys", "sysfs", 0, NULL);
	mount("devtmpfs", "/dev", "devtmpfs", 0, NULL);
	mount("tmpfs", "/tmp", "tmpfs", 0, NULL);

	char *argbuf = slurp("/xsc-vm/argv", &n);
	char **argv = split(argbuf, n);
	char *envbuf = slurp("/xsc-vm/env", &n);
	char **envp = split(envbuf, n);
	char *cwd = slurp("/xsc-vm/cwd", &n);
	char *prog = slurp("/xsc-vm/prog", &n);

	if (access("/xsc-vm/poll_us", F_OK) == 0) {
		char *us = slurp("/xsc-vm/poll_us", &n);
		int fd = open("/proc/sys/kernel/xsc_poll_us", O_WRONLY | O_CLOEXEC);

		if (fd < 0 || write(fd, us, n) != (ssize_t)n)
			fail("cannot turn polled mode on", us);
		close(fd);
	}
	mkdir_p(cwd);
	if (mount("xsc", cwd, "9p", 0,
		  "trans=virtio,version=9p2000.L,msize=262144") != 0)
		fail("cannot mount the host's directory at", cwd);

	int in = open_port("xsc.stdin", O_RDONLY);
	int out = open_port("xsc.stdout", O_WRONLY);
	int err = open_port("xsc.stderr", O_WRONLY);

	pid_t pid = fork();

	if (pid < 0)
		fail("cannot fork for", prog);
	if (pid == 0) {
		setsid();
		dup2(in, 0);
		dup2(out, 1);
		dup2(err, 2);
		if (chdir(cwd) != 0) {
			dprintf(2, "xsc-vm: cannot enter %s: %s\n", cwd, strerror(errno));
			_exit(126);
		}
		execve(prog, argv, envp);
		dprintf(2, "xsc-vm: cannot run %s: %s\n", prog, strerror(errno));
		_exit(errno == ENOENT ? 127 : 126);
	}
	close(in);
	close(out);
	close(err);
	for (;;) {
		int st;
		pid_t w = waitpid(-1, &st, 0);

		if (w < 0 && errno == EINTR)
			continue;
		if (w < 0)
			fail("cannot wait for", prog);
		if (w != pid)
			continue;
		if (WIFEXITED(st))
			printf("xsc-vm: status exit %d\n", WEXITSTATUS(st));
		else if (WIFSIGNALED(st))
			printf("xsc-vm: status signal %d\n", WTERMSIG(st));
		else
			continue;
		finish();
	}
}
