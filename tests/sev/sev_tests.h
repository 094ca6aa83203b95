/* sev_tests.h: the suites of the SEV unit-test runner. */
#ifndef CLOAK_SEV_TESTS_H
#define CLOAK_SEV_TESTS_H

#include <check.h>
#include <string.h>

Suite *sim_suite(void);
Suite *crypto_suite(void);
Suite *owner_suite(void);
Suite *launch_suite(void);
Suite *owner_snp_suite(void);
Suite *owner_snp_vectors_suite(void);
Suite *snp_suite(void);
Suite *snp_linux_suite(void);
Suite *vmsa_suite(void);

/* The shared fixtures directory, or NULL (after one loud line) when it is missing. */
const char *fixtures_dir(void);
/* A fixture file's bytes (malloc'd), read from fixtures_dir()/rel; the test fails when it cannot be read. */
uint8_t *fixture(const char *rel, size_t *len);

#define ck_assert_msg_has(msg, needle) \
	ck_assert_msg(strstr((msg), (needle)) != NULL, "message \"%s\" lacks \"%s\"", (msg), (needle))

#endif
