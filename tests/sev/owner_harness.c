/* owner_harness.c: the scratch directory and the cloak-owner runner the SEV test programs share. */
#include "owner_harness.h"

#include <check.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <sys/wait.h>

char test_dir[64];

void test_dir_setup(void)
{
	snprintf(test_dir, sizeof(test_dir), "/tmp/cloak-sev-testXXXXXX");
	ck_assert_ptr_nonnull(mkdtemp(test_dir));
}

void test_dir_teardown(void)
{
	char cmd[128];

	snprintf(cmd, sizeof(cmd), "rm -rf '%s'", test_dir);
	ck_assert_int_eq(system(cmd), 0);
}

void test_path(char *out, size_t len, const char *name)
{
	ck_assert_int_lt(snprintf(out, len, "%s/%s", test_dir, name), (int)len);
}

int owner_run(char *out, size_t n, const char *fmt, ...)
{
	char args[2048], cmd[2100], sink[4096], *to;
	size_t got = 0, room, r;
	va_list ap;
	FILE *p;
	int st;

	ck_assert_msg(getenv("CLOAK_OWNER") != NULL, "CLOAK_OWNER (the cloak-owner binary) is not set");
	va_start(ap, fmt);
	ck_assert_int_lt(vsnprintf(args, sizeof(args), fmt, ap), (int)sizeof(args));
	va_end(ap);
	snprintf(cmd, sizeof(cmd), "\"$CLOAK_OWNER\" %s 2>&1", args);
	p = popen(cmd, "r");
	ck_assert_ptr_nonnull(p);
	/* Read to the end even past what `out` holds, so the tool never dies of a closed pipe. */
	for (;;) {
		to = sink;
		room = sizeof(sink);
		if (out && got + 1 < n) {
			to = out + got;
			room = n - 1 - got;
		}
		r = fread(to, 1, room, p);
		if (!r)
			break;
		if (to != sink)
			got += r;
	}
	if (out && n)
		out[got] = 0;
	st = pclose(p);
	ck_assert(st != -1 && WIFEXITED(st));
	return WEXITSTATUS(st);
}
