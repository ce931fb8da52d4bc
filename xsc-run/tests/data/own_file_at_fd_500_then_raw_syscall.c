/* Opens a file of its own under descriptor 500 (where xsc-run keeps its
 * copy of the standard error it started with: the program closes that
 * first, as a program that manages its descriptor numbers may), writes one
 * line to it, then makes a raw system call hidden inside another
 * instruction (so that the link's verifier lets it through as a warning).
 * The trap guard's report must go to the program's standard error, never
 * into its file (issue 26, item 5). argv[1]: the file. */
#include <fcntl.h>
#include <string.h>
#include <unistd.h>

int main(int argc, char **argv)
{
	if (argc < 2)
		return 2;
	close(500);
	int fd = open(argv[1], O_WRONLY | O_CREAT | O_TRUNC, 0644);
	if (fd < 0 || dup2(fd, 500) != 500)
		return 3;
	close(fd);
	const char line[] = "program data\n";
	if (write(500, line, strlen(line)) != (long)strlen(line))
		return 4;
	__asm__ volatile("mov $39, %%eax\n"
			 "jmp 1f+1\n"
			 "1: .byte 0xb9, 0x0f, 0x05, 0x90, 0x90\n" ::: "rax", "rcx", "r11", "memory");
	return 0;
}
