/* /init of the XSC test VM (cargo xtask vm-test, and the VM rows of
 * cargo xtask bench), itself an XSC program.
 *
 * Mounts /proc, /dev, /tmp and /tracing, brings up loopback, says whether
 * it sees a vDSO (`xsc-vm: vdso AT_SYSINFO_EHDR 0, [vdso] mapped`: mapped
 * for its time functions, unannounced), how many CPUs and which
 * clocksource it has (`xsc-vm: cpus N`, `xsc-vm: clocksource NAME`), then
 * runs the cases
 * listed in /cases, one per line: `ID NATIVE XSC [ARGS...]`. Each case runs
 * its native build, then its XSC build (NATIVE `-`: the XSC build only,
 * native status `none`), each with ARGS, where `{DIR}` stands for a fresh
 * scratch folder of that run, also its working directory; stdout is
 * captured and the run has a time limit. Both endings and stdouts are
 * reported on the console, between markers the host reads:
 *
 *   xsc-vm: case ID
 *   xsc-vm: native STATUS
 *   xsc-vm: xsc STATUS
 *   xsc-vm: ms NATIVE_MS XSC_MS            (wall time of each run)
 *   xsc-vm: same-stdout yes|no
 *   (if not the same, both stdouts, each line prefixed "xsc-vm: - " or "xsc-vm: + ")
 *   xsc-vm: end
 *
 * STATUS is `exit N`, `signal NAME` or `timeout`. A line `!set PATH VALUE`
 * writes VALUE to PATH (a kernel setting: `/proc/sys/kernel/xsc_poll_us`
 * turns polled mode on for the cases after it) and reports
 * `xsc-vm: set PATH VALUE ok` or `... error ERRNO`. A line `!cat PATH`
 * prints the file, each line as `xsc-vm: cat LINE` (the kernel's trace,
 * from tracefs, mounted at /tracing). A line `!timeout N` gives the runs
 * after it N seconds each (60 until then). The run ends with
 * `xsc-vm: done N` and a reboot, which ends qemu (-no-reboot). */
#define _GNU_SOURCE
#include <errno.h>
#include <fcntl.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <net/if.h>
#include <sys/ioctl.h>
#include <sys/auxv.h>
#include <sys/mount.h>
#include <sys/socket.h>
#include <sys/reboot.h>
#include <sys/stat.h>
#include <sys/wait.h>
#include <time.h>
#include <unistd.h>

/* Each run's time limit, in seconds (`!timeout N` changes it). */
static long limit_s = 60;
#define OUT_MAX (1 << 20)

struct run {
	char status[64];
	char *out;
	size_t len;
	double ms;
};

static double now_ms(void)
{
	struct timespec t;
	clock_gettime(CLOCK_MONOTONIC, &t);
	return t.tv_sec * 1e3 + t.tv_nsec / 1e6;
}

static const char *const SIGNAMES[32] = {
	[SIGHUP] = "SIGHUP", [SIGINT] = "SIGINT", [SIGQUIT] = "SIGQUIT",
	[SIGILL] = "SIGILL", [SIGTRAP] = "SIGTRAP", [SIGABRT] = "SIGABRT",
	[SIGBUS] = "SIGBUS", [SIGFPE] = "SIGFPE", [SIGKILL] = "SIGKILL",
	[SIGUSR1] = "SIGUSR1", [SIGSEGV] = "SIGSEGV", [SIGUSR2] = "SIGUSR2",
	[SIGPIPE] = "SIGPIPE", [SIGALRM] = "SIGALRM", [SIGTERM] = "SIGTERM",
	[SIGSTKFLT] = "SIGSTKFLT", [SIGCHLD] = "SIGCHLD", [SIGCONT] = "SIGCONT",
	[SIGSTOP] = "SIGSTOP", [SIGTSTP] = "SIGTSTP", [SIGTTIN] = "SIGTTIN",
	[SIGTTOU] = "SIGTTOU", [SIGURG] = "SIGURG", [SIGXCPU] = "SIGXCPU",
	[SIGXFSZ] = "SIGXFSZ", [SIGVTALRM] = "SIGVTALRM", [SIGPROF] = "SIGPROF",
	[SIGWINCH] = "SIGWINCH", [SIGIO] = "SIGIO", [SIGPWR] = "SIGPWR",
	[SIGSYS] = "SIGSYS",
};

static void describe(int st, char *buf, size_t n)
{
	if (WIFEXITED(st))
		snprintf(buf, n, "exit %d", WEXITSTATUS(st));
	else if (WIFSIGNALED(st) && WTERMSIG(st) < 32 && SIGNAMES[WTERMSIG(st)])
		snprintf(buf, n, "signal %s", SIGNAMES[WTERMSIG(st)]);
	else if (WIFSIGNALED(st))
		snprintf(buf, n, "signal %d", WTERMSIG(st));
	else
		snprintf(buf, n, "status %#x", st);
}

static void run_one(char *const argv[], const char *scratch, struct run *r)
{
	int p[2];
	r->out = calloc(OUT_MAX + 1, 1);
	r->len = 0;
	r->ms = 0;
	strcpy(r->status, "not run");
	if (!r->out || pipe2(p, O_CLOEXEC) != 0)
		return;
	mkdir(scratch, 0755);
	double t0 = now_ms();
	pid_t pid = fork();
	if (pid == 0) {
		dup2(p[1], 1);
		int null = open("/dev/null", O_RDONLY);
		if (null >= 0)
			dup2(null, 0);
		if (chdir(scratch) != 0)
			_exit(125);
		execv(argv[0], argv);
		_exit(127);
	}
	close(p[1]);
	time_t start = time(0);
	fcntl(p[0], F_SETFL, O_NONBLOCK);
	int st = 0, done = 0;
	while (!done) {
		ssize_t n = read(p[0], r->out + r->len, OUT_MAX - r->len);
		if (n > 0) {
			r->len += (size_t)n;
			continue;
		}
		pid_t w = waitpid(pid, &st, WNOHANG);
		if (w == pid) {
			/* the rest of the output */
			while ((n = read(p[0], r->out + r->len, OUT_MAX - r->len)) > 0)
				r->len += (size_t)n;
			describe(st, r->status, sizeof r->status);
			r->ms = now_ms() - t0;
			done = 1;
		} else if (time(0) - start > limit_s) {
			kill(pid, SIGKILL);
			waitpid(pid, &st, 0);
			strcpy(r->status, "timeout");
			done = 1;
		} else {
			struct timespec ts = { 0, 2 * 1000 * 1000 };
			nanosleep(&ts, 0);
		}
	}
	close(p[0]);
}

static void show(const char *mark, const struct run *r)
{
	const char *s = r->out, *end = r->out + r->len;
	while (s < end) {
		const char *nl = memchr(s, '\n', (size_t)(end - s));
		size_t n = nl ? (size_t)(nl - s) : (size_t)(end - s);
		printf("xsc-vm: %s %.*s\n", mark, (int)n, s);
		s += n + (nl ? 1 : 0);
	}
}

/* The loopback interface starts down. */
/* `!set PATH VALUE`: a kernel setting for the cases that follow. */
static void set(const char *path, const char *value)
{
	int fd = open(path, O_WRONLY | O_CLOEXEC);
	size_t len = strlen(value);
	int ok = fd >= 0 && write(fd, value, len) == (ssize_t)len;
	int err = errno;

	if (fd >= 0)
		close(fd);
	if (ok)
		printf("xsc-vm: set %s %s ok\n", path, value);
	else
		printf("xsc-vm: set %s %s error %d\n", path, value, err);
}

/* `!cat PATH`: a file's lines for the host. */
static void cat(const char *path)
{
	FILE *f = fopen(path, "r");
	char line[1024];

	if (!f) {
		printf("xsc-vm: cat-error %s %d\n", path, errno);
		return;
	}
	while (fgets(line, sizeof line, f)) {
		line[strcspn(line, "\n")] = 0;
		printf("xsc-vm: cat %s\n", line);
	}
	fclose(f);
}

/* An XSC program's vDSO serves its entry table's time functions and is not
 * announced (ABI §5.8): what it found (the auxiliary vector's
 * AT_SYSINFO_EHDR, a [vdso] mapping), or `xsc-vm: vdso none`. */
static void report_vdso(void)
{
	unsigned long ehdr = getauxval(AT_SYSINFO_EHDR);
	FILE *maps = fopen("/proc/self/maps", "r");
	char line[512];
	int mapped = 0;

	while (maps && fgets(line, sizeof line, maps))
		mapped |= strstr(line, "[vdso]") != 0;
	if (maps)
		fclose(maps);
	if (!ehdr && !mapped)
		printf("xsc-vm: vdso none\n");
	else
		printf("xsc-vm: vdso AT_SYSINFO_EHDR %#lx, [vdso] %s\n", ehdr,
		       mapped ? "mapped" : "not mapped");
}

/* The CPUs the guest brought up and its clocksource (`xsc-vm: cpus N`,
 * `xsc-vm: clocksource NAME`): the host checks for 2 CPUs, so that the
 * poller and the ring claim race in parallel, and for the TSC, so that
 * native clock_gettime stays in the vDSO. */
static void report_machine(void)
{
	char name[64] = "unknown";
	FILE *f = fopen("/sys/devices/system/clocksource/clocksource0/current_clocksource", "r");

	if (f) {
		if (fgets(name, sizeof name, f))
			name[strcspn(name, "\n")] = 0;
		fclose(f);
	}
	printf("xsc-vm: cpus %ld\n", sysconf(_SC_NPROCESSORS_ONLN));
	printf("xsc-vm: clocksource %s\n", name);
}

static void loopback_up(void)
{
	struct ifreq r = { 0 };
	int s = socket(AF_INET, SOCK_DGRAM | SOCK_CLOEXEC, 0);
	if (s < 0)
		return;
	strcpy(r.ifr_name, "lo");
	if (ioctl(s, SIOCGIFFLAGS, &r) == 0) {
		r.ifr_flags |= IFF_UP;
		ioctl(s, SIOCSIFFLAGS, &r);
	}
	close(s);
}

int main(void)
{
	loopback_up();
	mount("proc", "/proc", "proc", 0, 0);
	mount("devtmpfs", "/dev", "devtmpfs", 0, 0);
	mount("tmpfs", "/tmp", "tmpfs", 0, 0);
	mount("tracefs", "/tracing", "tracefs", 0, 0);
	mkdir("/sys", 0755);
	mount("sysfs", "/sys", "sysfs", 0, 0);
	setvbuf(stdout, 0, _IOLBF, 0);
	printf("xsc-vm: start\n");
	report_vdso();
	report_machine();
	FILE *f = fopen("/cases", "r");
	char line[4096];
	int n = 0;
	while (f && fgets(line, sizeof line, f)) {
		char *argv[64], *native[64], *xsc[64];
		int argc = 0;
		for (char *t = strtok(line, " \n"); t && argc < 60; t = strtok(0, " \n"))
			argv[argc++] = t;
		if (argc == 3 && strcmp(argv[0], "!set") == 0) {
			set(argv[1], argv[2]);
			continue;
		}
		if (argc == 2 && strcmp(argv[0], "!timeout") == 0) {
			limit_s = atol(argv[1]) > 0 ? atol(argv[1]) : limit_s;
			printf("xsc-vm: timeout %ld\n", limit_s);
			continue;
		}
		if (argc == 2 && strcmp(argv[0], "!cat") == 0) {
			cat(argv[1]);
			continue;
		}
		if (argc < 3)
			continue;
		char scratch[2][256];
		struct run a, b;
		for (int side = 0; side < 2; side++) {
			char **v = side ? xsc : native;
			snprintf(scratch[side], sizeof scratch[side], "/tmp/%d-%s", n,
				 side ? "xsc" : "native");
			v[0] = argv[1 + side];
			for (int i = 3; i < argc; i++)
				v[i - 2] = strcmp(argv[i], "{DIR}") == 0 ? scratch[side] : argv[i];
			v[argc - 2] = 0;
		}
		if (strcmp(argv[1], "-") == 0) {
			/* no native build: the host checks this one */
			a.out = calloc(1, 1);
			a.len = 0;
			a.ms = 0;
			strcpy(a.status, "none");
		} else {
			run_one(native, scratch[0], &a);
		}
		run_one(xsc, scratch[1], &b);
		int same = a.len == b.len && memcmp(a.out, b.out, a.len) == 0;
		printf("\nxsc-vm: case %s\nxsc-vm: native %s\nxsc-vm: xsc %s\nxsc-vm: ms %.1f %.1f\nxsc-vm: same-stdout %s\n",
		       argv[0], a.status, b.status, a.ms, b.ms, same ? "yes" : "no");
		if (!same) {
			show("-", &a);
			show("+", &b);
		}
		printf("xsc-vm: end\n");
		free(a.out);
		free(b.out);
		n++;
	}
	printf("xsc-vm: done %d\n", n);
	sync();
	reboot(RB_AUTOBOOT);
	return 0;
}
