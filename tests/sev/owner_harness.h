/* owner_harness.h: what the SEV test programs share to run cloak-owner: a scratch directory per test and the runner. */
#ifndef CLOAK_OWNER_HARNESS_H
#define CLOAK_OWNER_HARNESS_H

#include <stddef.h>

/* The current test's scratch directory, made by test_dir_setup and removed by test_dir_teardown. */
extern char test_dir[64];

/* A Check fixture: a fresh directory under /tmp for each test, removed with all it holds afterwards. */
void test_dir_setup(void);
void test_dir_teardown(void);
/* test_dir/name, into out. */
void test_path(char *out, size_t len, const char *name);
/*
 * Runs the cloak-owner under test ($CLOAK_OWNER) with a printf-style shell fragment of arguments; its
 * stdout and stderr land in `out` (NUL-terminated, cut to n - 1 bytes; `out` may be NULL). Returns its exit status.
 */
int owner_run(char *out, size_t n, const char *fmt, ...) __attribute__((format(printf, 3, 4)));

#endif
