/* Runs a list of commands one after the other, an XSC program for the
 * kernel runner (xsc-vm): each line of LIST is a command's words, separated
 * by spaces; each runs with stdin, stdout and stderr on /dev/null, and its
 * wait status is printed (`STATUS LINE`). Used by the counted VM rows of
 * `cargo xtask bench` (xtask/src/count.rs). Usage: run_list LIST. */
#define _GNU_SOURCE
#include <fcntl.h>
#include <stdio.h>
#include <string.h>
#include <sys/wait.h>
#include <unistd.h>

int main(int argc, char **argv)
{
	char line[4096], copy[4096];
	FILE *list;

	if (argc != 2 || !(list = fopen(argv[1], "r"))) {
		fprintf(stderr, "usage: run_list LIST\n");
		return 2;
	}
	while (fgets(line, sizeof(line), list)) {
		char *words[64], *save = NULL, *w;
		int n = 0, st;
		pid_t pid;

		line[strcspn(line, "\n")] = 0;
		strcpy(copy, line);
		for (w = strtok_r(line, " ", &save); w && n < 63;
		     w = strtok_r(NULL, " ", &save))
			words[n++] = w;
		words[n] = NULL;
		if (!n)
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
		if (pid < 0 || waitpid(pid, &st, 0) != pid)
			return 1;
		printf("%#x %s\n", st, copy);
		fflush(stdout);
	}
	return 0;
}
