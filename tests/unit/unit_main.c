/* unit_main.c: runs every unit-test suite of the host program. */
#include "unit.h"

#include <stdlib.h>

int main(void)
{
	SRunner *sr = srunner_create(config_suite());
	int failed;

	srunner_add_suite(sr, loader_suite());
	srunner_add_suite(sr, boot_suite());
	srunner_add_suite(sr, plan_suite());
	srunner_add_suite(sr, machine_suite());
	srunner_add_suite(sr, cvm_suite());
	srunner_add_suite(sr, bench_suite());
	srunner_add_suite(sr, sandbox_suite());
	srunner_add_suite(sr, config_file_suite());
	srunner_add_suite(sr, verifier_suite());
	srunner_add_suite(sr, ghcb_suite());
	/* TAP on stdout, so meson and the test command count every check. */
	srunner_set_tap(sr, "-");
	srunner_run_all(sr, CK_SILENT);
	failed = srunner_ntests_failed(sr);
	srunner_free(sr);
	return failed ? EXIT_FAILURE : EXIT_SUCCESS;
}
