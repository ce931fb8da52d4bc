/* The address space just past the program break is not mapped, as on
 * Linux: mprotect, madvise, mincore and msync there fail with ENOMEM,
 * MAP_FIXED_NOREPLACE and a plain hint get exactly that address, and a
 * touch there faults with SEGV_MAPERR (issue 26, item 6: xsc-run kept a
 * 1 GiB PROT_NONE reservation for the break there, so those calls
 * succeeded, the mapping got EEXIST, the hint was ignored and the fault
 * said SEGV_ACCERR).
 * expect: exit 0 */
#include "common.h"
#include <setjmp.h>
#include <sys/mman.h>

static sigjmp_buf back;
static volatile int code;

static void on_segv(int sig, siginfo_t *si, void *uc)
{
	(void)sig;
	(void)uc;
	code = si->si_code;
	siglongjmp(back, 1);
}

int main(void)
{
	long page = sysconf(_SC_PAGESIZE);
	unsigned long brk0 = (unsigned long)syscall(SYS_brk, 0);
	CHECK(brk0 != 0);
	/* Grow the break by a page, as malloc would, then look 16 pages past
	 * it. */
	unsigned long grown = (unsigned long)syscall(SYS_brk, brk0 + (unsigned long)page);
	say("brk grows by a page: %s", grown == brk0 + (unsigned long)page ? "yes" : "no");
	char *p = (char *)((grown + 16 * (unsigned long)page + (unsigned long)page - 1) & ~((unsigned long)page - 1));
	say("mprotect: %s", res(mprotect(p, (size_t)page, PROT_READ)));
	say("madvise: %s", res(madvise(p, (size_t)page, MADV_DONTNEED)));
	unsigned char vec[1];
	say("mincore: %s", res(mincore(p, (size_t)page, vec)));
	say("msync: %s", res(msync(p, (size_t)page, MS_ASYNC)));
	struct sigaction sa = { .sa_sigaction = on_segv, .sa_flags = SA_SIGINFO };
	CHECK(sigaction(SIGSEGV, &sa, NULL) == 0);
	if (sigsetjmp(back, 1) == 0) {
		*(volatile char *)p = 1;
		say("a write there: no fault");
	} else {
		say("a write there: SIGSEGV, %s",
		    code == SEGV_MAPERR ? "SEGV_MAPERR" : code == SEGV_ACCERR ? "SEGV_ACCERR" : "another code");
	}
	void *q = mmap(p, (size_t)page, PROT_READ | PROT_WRITE,
		       MAP_PRIVATE | MAP_ANONYMOUS | MAP_FIXED_NOREPLACE, -1, 0);
	say("MAP_FIXED_NOREPLACE there: %s", q == MAP_FAILED ? errname(errno) : q == p ? "that address" : "elsewhere");
	if (q != MAP_FAILED)
		CHECK(munmap(q, (size_t)page) == 0);
	q = mmap(p, (size_t)page, PROT_READ | PROT_WRITE, MAP_PRIVATE | MAP_ANONYMOUS, -1, 0);
	say("a hint there: %s", q == MAP_FAILED ? errname(errno) : q == p ? "that address" : "elsewhere");
	if (q != MAP_FAILED)
		CHECK(munmap(q, (size_t)page) == 0);
	/* The break shrinks back and the page it gave up is gone too. */
	say("brk shrinks: %s", (unsigned long)syscall(SYS_brk, brk0) == brk0 ? "yes" : "no");
	/* The page holding brk0 + page - 1 lies below the grown break, and
	 * wholly above brk0 only from the first page boundary after it. */
	char *gone = (char *)((brk0 + (unsigned long)page - 1) & ~((unsigned long)page - 1));
	say("mprotect of the page given up: %s", res(mprotect(gone, (size_t)page, PROT_READ)));
	return 0;
}
