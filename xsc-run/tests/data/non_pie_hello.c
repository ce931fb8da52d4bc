/* A C program built with `xsc-cc -no-pie` (an ET_EXEC at 0x400000): it
 * must start with crt1.o's start code (rcrt1.o's relocates a PIE and
 * faulted in this one), and run at its link address, which xsc-run, a
 * static-pie placed elsewhere by the host, leaves free (docs/xsc-run.md
 * section 6). Linked over the runner's image instead, it is refused with
 * a message. */
#include <stdio.h>

int main(void)
{
	puts("non-PIE hello");
	return 0;
}
