/* The strace comparison's driver (cargo xtask strace-test), an XSC program
 * run on the XSC kernel by xsc-vm: for each line of the list file
 * (`OUT PROGRAM [ARGS...]`, words separated by spaces) it runs
 * `STRACE -f -o OUT PROGRAM ARGS...` with the program's stdin, stdout and
 * stderr on /dev/null, one after the other, and prints each one's wait
 * status. Usage: strace_driver STRACE LIST. */
#define _GNU_SOURCE
#include <fcntl.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/wait.h>
#include <unistd.h>

int main(int argc, char **argv)
{
	char line[4096];
	FILE *list;

	if (argc != 3) {
		fprintf(stderr, "usage: %s STRACE LIST\n", argv[0]);
		return 2;
	}
	list = fopen(argv[2], "r");
	if (!list) {
		perror(argv[2]);
		return 2;
	}
	while (fgets(line, sizeof(line), list)) {
		char *words[64], *save = NULL, *w;
		int n = 0, st;
		pid_t pid;

		line[strcspn(line, "\n")] = 0;
		words[n++] = argv[1];
		words[n++] = "-f";
		words[n++] = "-o";
		for (w = strtok_r(line, " ", &save); w && n < 63;
		     w = strtok_r(NULL, " ", &save))
			words[n++] = w;
		words[n] = NULL;
		if (n < 5)
			continue;
		pid = fork();
		if (pid == 0) {
			int null = open("/dev/null", O_RDWR);

			dup2(null, 0);
			dup2(null, 1);
			dup2(null, 2);
			execv(words[0], words);
			_exit(127);
		}
		if (pid < 0 || waitpid(pid, &st, 0) != pid) {
			perror("strace");
			return 1;
		}
		printf("%s %#x\n", words[3], st);
	}
	return 0;
}
