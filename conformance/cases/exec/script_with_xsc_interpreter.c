/* A `#!` script whose interpreter is an XSC binary (this program) runs as
 * Linux runs it: the interpreter gets the script's one `#!` argument, the
 * script's path and the exec's arguments after argv[0] (issue 26, item 3:
 * under xsc-run the host ran the XSC interpreter natively: SIGSEGV).
 * expect: exit 0 */
#include "common.h"
#include <sys/stat.h>

static const char *base(const char *p)
{
	const char *s = strrchr(p, '/');
	return s ? s + 1 : p;
}

int main(int argc, char **argv)
{
	if (argc > 1 && strcmp(argv[1], "as-interpreter") == 0) {
		say("interpreter ran, argc %d", argc);
		for (int i = 2; i < argc; i++)
			say("argv[%d]: %s", i, base(argv[i]));
		return 0;
	}
	if (argc < 2)
		return 2;
	char self[4096];
	ssize_t n = readlink("/proc/self/exe", self, sizeof self - 1);
	CHECK(n > 0);
	self[n] = 0;
	char script[4096];
	snprintf(script, sizeof script, "%s/script.sh", argv[1]);
	FILE *f = fopen(script, "w");
	CHECK(f != NULL);
	fprintf(f, "#! %s  as-interpreter \n", self);
	CHECK(fclose(f) == 0);
	CHECK(chmod(script, 0755) == 0);
	execl(script, "script-argv0", "one", "two", (char *)NULL);
	say("execl: -1 %s", errname(errno));
	return 1;
}
