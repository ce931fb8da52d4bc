/* Drops root (to uid and gid 65534) if it has it, then execs argv[1], an
 * execute-only (mode 0711) XSC binary, with the argument "child". Linux
 * runs such a binary; xsc-run, which must read a binary to load it,
 * cannot, and refuses the exec with EACCES and a message naming the
 * reason (issue 26, item 3: the host used to run the XSC binary natively,
 * which died by SIGSEGV). Prints what the exec gave. */
#include <errno.h>
#include <stdio.h>
#include <string.h>
#include <unistd.h>

int main(int argc, char **argv)
{
	if (argc > 1 && strcmp(argv[1], "child") == 0) {
		puts("child ran");
		return 0;
	}
	if (argc < 2)
		return 2;
	if (getuid() == 0 && (setgid(65534) != 0 || setuid(65534) != 0))
		return 3;
	execl(argv[1], argv[1], "child", (char *)NULL);
	printf("execl: %s\n", errno == EACCES ? "EACCES" : "another error");
	return 1;
}
