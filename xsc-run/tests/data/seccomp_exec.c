/* Native reference for the container-profile test: does what a container
 * runtime (runc, with libseccomp) does before it starts a program, then
 * execs the program.
 *
 *   seccomp_exec [--rules FILE] -- PROGRAM ARGS...
 *
 * Always drops CAP_SYS_ADMIN from the bounding and effective sets (as
 * Docker does for a default container; ignored where we lack it). With
 * --rules, loads a seccomp filter built with libseccomp from FILE, one
 * item per line, as the test derived them from the OCI profile:
 *
 *   default ACTION ERRNO
 *   arch NAME
 *   rule ACTION ERRNO SYSCALL N [INDEX OP VALUE VALUETWO]...
 *
 * ACTION is allow, errno, kill_thread, kill_process, trap, trace or log;
 * OP is ne, lt, le, eq, ge, gt or masked_eq. */
#define _GNU_SOURCE
#include <errno.h>
#include <seccomp.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/prctl.h>
#include <unistd.h>
#include <linux/capability.h>
#include <sys/syscall.h>

static uint32_t action(const char *name, unsigned data)
{
	if (!strcmp(name, "allow")) return SCMP_ACT_ALLOW;
	if (!strcmp(name, "errno")) return SCMP_ACT_ERRNO(data);
	if (!strcmp(name, "kill_thread")) return SCMP_ACT_KILL_THREAD;
	if (!strcmp(name, "kill_process")) return SCMP_ACT_KILL_PROCESS;
	if (!strcmp(name, "trap")) return SCMP_ACT_TRAP;
	if (!strcmp(name, "trace")) return SCMP_ACT_TRACE(data);
	if (!strcmp(name, "log")) return SCMP_ACT_LOG;
	fprintf(stderr, "seccomp_exec: unknown action %s\n", name);
	exit(125);
}

static enum scmp_compare op(const char *name)
{
	static const struct { const char *n; enum scmp_compare c; } ops[] = {
		{ "ne", SCMP_CMP_NE }, { "lt", SCMP_CMP_LT }, { "le", SCMP_CMP_LE },
		{ "eq", SCMP_CMP_EQ }, { "ge", SCMP_CMP_GE }, { "gt", SCMP_CMP_GT },
		{ "masked_eq", SCMP_CMP_MASKED_EQ },
	};
	for (size_t i = 0; i < sizeof ops / sizeof ops[0]; i++)
		if (!strcmp(name, ops[i].n)) return ops[i].c;
	fprintf(stderr, "seccomp_exec: unknown operator %s\n", name);
	exit(125);
}

static void drop_sys_admin(void)
{
	prctl(PR_CAPBSET_DROP, CAP_SYS_ADMIN, 0, 0, 0);
	struct __user_cap_header_struct h = { _LINUX_CAPABILITY_VERSION_3, 0 };
	struct __user_cap_data_struct d[2];
	if (syscall(SYS_capget, &h, d) != 0) return;
	d[0].effective &= ~(1u << CAP_SYS_ADMIN);
	d[0].permitted &= ~(1u << CAP_SYS_ADMIN);
	d[0].inheritable &= ~(1u << CAP_SYS_ADMIN);
	syscall(SYS_capset, &h, d);
}

static void load(const char *file)
{
	FILE *f = fopen(file, "r");
	if (!f) { perror(file); exit(125); }
	scmp_filter_ctx ctx = 0;
	char kind[32], act[32], name[64];
	unsigned data;
	while (fscanf(f, "%31s", kind) == 1) {
		if (!strcmp(kind, "default")) {
			if (fscanf(f, "%31s %u", act, &data) != 2) exit(125);
			ctx = seccomp_init(action(act, data));
			if (!ctx) exit(125);
		} else if (!strcmp(kind, "arch")) {
			if (fscanf(f, "%63s", name) != 1 || !ctx) exit(125);
			uint32_t a = seccomp_arch_resolve_name(name);
			int rc = a ? seccomp_arch_add(ctx, a) : -EINVAL;
			if (rc != 0 && rc != -EEXIST) { fprintf(stderr, "seccomp_exec: arch %s: %d\n", name, rc); exit(125); }
		} else if (!strcmp(kind, "rule")) {
			unsigned n;
			if (fscanf(f, "%31s %u %63s %u", act, &data, name, &n) != 4 || !ctx || n > 6) exit(125);
			struct scmp_arg_cmp cmp[6];
			for (unsigned i = 0; i < n; i++) {
				char o[32];
				unsigned long long v, v2;
				if (fscanf(f, "%u %31s %llu %llu", &cmp[i].arg, o, &v, &v2) != 4) exit(125);
				cmp[i].op = op(o);
				cmp[i].datum_a = v;
				/* MASKED_EQ: the mask, then the value (as OCI's
				 * value and valueTwo). */
				cmp[i].datum_b = v2;
			}
			int nr = seccomp_syscall_resolve_name(name);
			if (nr == __NR_SCMP_ERROR) continue; /* not on this architecture */
			int rc = seccomp_rule_add_array(ctx, action(act, data), nr, n, cmp);
			/* Same action as the default: nothing to add (as runc). */
			if (rc != 0 && rc != -EACCES) { fprintf(stderr, "seccomp_exec: rule %s: %d\n", name, rc); exit(125); }
		} else {
			fprintf(stderr, "seccomp_exec: bad line %s\n", kind);
			exit(125);
		}
	}
	fclose(f);
	if (!ctx || seccomp_load(ctx) != 0) { fprintf(stderr, "seccomp_exec: load failed\n"); exit(125); }
	seccomp_release(ctx);
}

int main(int argc, char **argv)
{
	int i = 1;
	const char *rules = 0;
	if (i + 1 < argc && !strcmp(argv[i], "--rules")) {
		rules = argv[i + 1];
		i += 2;
	}
	if (i >= argc || strcmp(argv[i], "--")) { fprintf(stderr, "usage: seccomp_exec [--rules FILE] -- PROGRAM ARGS...\n"); return 125; }
	i++;
	drop_sys_admin();
	if (rules) load(rules);
	execv(argv[i], argv + i);
	perror(argv[i]);
	return 127;
}
