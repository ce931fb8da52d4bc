/* read() with a count far beyond the buffer but within the user address
 * space, into a buffer in the executable's image, reads what there is:
 * Linux checks the whole range against the end of user space (47 bits on
 * x86_64) and executables are loaded far below it (issue 9, defect 10).
 * expect: exit 0 */
#include "common.h"

static char buf[4096];
/* Through a volatile, so that the compiler does not object to the count. */
static volatile size_t huge = (size_t)1 << 44;

int main(void)
{
	int p[2];
	CHECK(pipe(p) == 0);
	CHECK(write(p[1], "hello", 5) == 5);
	CHECK(close(p[1]) == 0);
	ssize_t n = read(p[0], buf, huge);
	say("read with a 16 TiB count: %s \"%.*s\"", res(n), (int)(n > 0 ? n : 0), buf);
	return 0;
}
