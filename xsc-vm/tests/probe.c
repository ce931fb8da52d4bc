/* The kernel runner's probe (cargo xtask runner-test): one program, run
 * natively on the host and as XSC under xsc-vm, whose outputs must match.
 * Its `panic` mode crashes the kernel it runs on: it acts only inside
 * xsc-vm's VM (an XSC process with the runner's /xsc-vm/argv), never on
 * the host. */
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>
#include <fcntl.h>
#include <sys/auxv.h>

int main(int argc, char **argv)
{
	const char *mode = argc > 1 ? argv[1] : "io";

	if (strcmp(mode, "io") == 0) {
		char buf[4096];
		unsigned long total = 0, sum = 0;
		ssize_t n;
		char cwd[4096];

		for (int i = 0; i < argc; i++)
			printf("arg %d: %s\n", i, argv[i]);
		printf("env: %s\n", getenv("XSC_VM_PROBE") ? getenv("XSC_VM_PROBE") : "(unset)");
		printf("cwd: %s\n", getcwd(cwd, sizeof cwd) ? cwd : "?");
		while ((n = read(0, buf, sizeof buf)) > 0) {
			for (ssize_t i = 0; i < n; i++)
				sum = sum * 31 + (unsigned char)buf[i];
			total += (unsigned long)n;
		}
		printf("stdin: %lu bytes, sum %lx\n", total, sum);
		fflush(stdout);
		fprintf(stderr, "to stderr\n");
		FILE *f = fopen("written-by-probe.txt", "w");
		fprintf(f, "hello from %s\n", argv[0]);
		fclose(f);
		f = fopen("from-host.txt", "r");
		if (f && fgets(buf, sizeof buf, f))
			printf("host file: %s", buf);
		return 3;
	}
	if (strcmp(mode, "signal") == 0) {
		printf("before\n");
		fflush(stdout);
		kill(getpid(), SIGUSR1);
		return 0;
	}
	if (strcmp(mode, "panic") == 0) {
		int fd;

		/* AT_XSC_RING (ABI §3.1): only in an XSC process. */
		if (!getauxval(0x58530002) || access("/xsc-vm/argv", F_OK) != 0) {
			fprintf(stderr, "panic: only inside xsc-vm\n");
			return 2;
		}
		fd = open("/proc/sysrq-trigger", O_WRONLY);
		if (fd < 0 || write(fd, "c", 1) != 1)
			perror("/proc/sysrq-trigger");
		return 1;
	}
	if (strcmp(mode, "sleep") == 0) {
		sleep(1000);
		return 0;
	}
	return 2;
}
