/* A C program built with `xsc-cc -no-pie` (an ET_EXEC at 0x400000): it
 * must start with crt1.o's start code (rcrt1.o's relocates a PIE and
 * faulted in this one), and run wherever xsc-run's own image leaves
 * 0x400000 free; the installed xsc-run, a static non-PIE binary there
 * itself, refuses it with a message (docs/xsc-run.md section 6). */
#include <stdio.h>

int main(void)
{
	puts("non-PIE hello");
	return 0;
}
