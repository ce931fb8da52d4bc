/* Maps MAP_FIXED over the code of xsc-run's own image (its first
 * executable mapping in /proc/self/maps, where the runner shares the
 * address space with the program), as a JIT or an emulator mapping fixed
 * memory might. Natively that address would be the program's to take;
 * under xsc-run it would destroy the kernel side, so the mapping is
 * refused with ENOMEM and a message (docs/xsc-run.md section 6) instead
 * of the process dying by SIGSEGV with no word (issue 26, item 2). Prints
 * what mmap, munmap and mprotect gave. */
#include <errno.h>
#include <stdio.h>
#include <string.h>
#include <sys/mman.h>

int main(void)
{
	FILE *f = fopen("/proc/self/maps", "r");
	if (!f)
		return 2;
	char line[512];
	unsigned long lo = 0, hi = 0;
	while (fgets(line, sizeof line, f)) {
		size_t n = strlen(line);
		if (n > 9 && strcmp(line + n - 9, "/xsc-run\n") == 0 &&
		    strstr(line, " r-xp ") && sscanf(line, "%lx-%lx", &lo, &hi) == 2)
			break;
		lo = 0;
	}
	fclose(f);
	if (!lo)
		return 3;
	void *p = mmap((void *)lo, hi - lo, PROT_READ | PROT_WRITE,
		       MAP_PRIVATE | MAP_ANONYMOUS | MAP_FIXED, -1, 0);
	printf("mmap MAP_FIXED: %s\n", p == MAP_FAILED ? (errno == ENOMEM ? "ENOMEM" : "another error") : "mapped");
	printf("munmap: %s\n", munmap((void *)lo, 4096) ? (errno == ENOMEM ? "ENOMEM" : "another error") : "unmapped");
	printf("mprotect: %s\n", mprotect((void *)lo, 4096, PROT_NONE) ? (errno == ENOMEM ? "ENOMEM" : "another error") : "changed");
	fflush(stdout);
	return 0;
}
