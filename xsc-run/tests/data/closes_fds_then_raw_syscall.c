/* Closes every descriptor above 2 (as daemons and sandboxes do), then makes
 * a raw system call hidden inside another instruction (so that the link's
 * verifier lets it through as a warning): the trap guard must still report
 * it. */
#include <unistd.h>

int main(void)
{
	for (int fd = 3; fd < 1024; fd++)
		close(fd);
	__asm__ volatile("mov $39, %%eax\n"
			 "jmp 1f+1\n"
			 "1: .byte 0xb9, 0x0f, 0x05, 0x90, 0x90\n" ::: "rax", "rcx", "r11", "memory");
	return 0;
}
