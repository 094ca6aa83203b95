/* sev_main.c: runs the unit tests of the simulated PSP, the SEV formats, cloak-owner and the launch. */
#include "sev_tests.h"

#include "sev/sev.h"

#include <stdio.h>
#include <stdlib.h>
#include <sys/stat.h>

const char *fixtures_dir(void)
{
	static int warned;
	const char *d = getenv("CLOAK_FIXTURES");
	struct stat st;

	if (d && stat(d, &st) == 0 && S_ISDIR(st.st_mode))
		return d;
	if (!warned++)
		fprintf(stderr, "######## SKIPPED: no fixtures at %s (../shared/fixtures); the third-party vector tests "
				"did NOT run ########\n", d ? d : "(CLOAK_FIXTURES unset)");
	return NULL;
}

uint8_t *fixture(const char *rel, size_t *len)
{
	struct cloak_err err = { "" };
	char path[1024];
	uint8_t *d;

	snprintf(path, sizeof(path), "%s/%s", fixtures_dir(), rel);
	ck_assert_msg(sev_file_read(path, "fixture", 64 * MiB, &d, len, &err) == 0, "%s", err.msg);
	return d;
}

/* With the argument "vectors": only the third-party vectors, skipped without the fixtures. */
int main(int argc, char **argv)
{
	SRunner *sr;
	int failed;

	if (argc > 1 && !strcmp(argv[1], "vectors")) {
		/* Meson's TAP reader counts a "1..0 # SKIP" plan as skipped; it treats status 77 as an error. */
		if (!fixtures_dir()) {
			printf("1..0 # SKIP no ../shared/fixtures\n");
			return 0;
		}
		sr = srunner_create(owner_suite());
		srunner_add_suite(sr, owner_snp_vectors_suite());
	} else {
		sr = srunner_create(sim_suite());
		srunner_add_suite(sr, crypto_suite());
		srunner_add_suite(sr, launch_suite());
		srunner_add_suite(sr, owner_snp_suite());
		srunner_add_suite(sr, snp_suite());
		srunner_add_suite(sr, snp_linux_suite());
		srunner_add_suite(sr, vmsa_suite());
	}
	srunner_set_tap(sr, "-");
	srunner_run_all(sr, CK_SILENT);
	failed = srunner_ntests_failed(sr);
	srunner_free(sr);
	return failed ? EXIT_FAILURE : EXIT_SUCCESS;
}
