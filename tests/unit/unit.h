/* unit.h: the suites of the unit-test runner, one per area of the host program. */
#ifndef CLOAK_UNIT_H
#define CLOAK_UNIT_H

#include <check.h>

Suite *config_suite(void);
Suite *loader_suite(void);
Suite *boot_suite(void);
Suite *plan_suite(void);
Suite *machine_suite(void);
Suite *cvm_suite(void);
Suite *bench_suite(void);
Suite *sandbox_suite(void);
Suite *config_file_suite(void);
Suite *verifier_suite(void);
Suite *ghcb_suite(void);

/* Asserts that `msg` contains `needle`, printing both when it does not. */
#define ck_assert_msg_has(msg, needle) \
	ck_assert_msg(strstr((msg), (needle)) != NULL, "message \"%s\" lacks \"%s\"", (msg), (needle))

#endif
