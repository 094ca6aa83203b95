/* owner_plan.c: the SEV launch digest of cloak's own plan, from `cloak run` arguments, by cloak's plan code. */
#include "owner.h"

#include <stdio.h>

static void print_region(void *ctx, const struct plan_region *r, uint64_t gpa, uint64_t len)
{
	(void)ctx;
	fprintf(stderr, "cloak-owner: measured %-22s guest 0x%08llx + 0x%llx (%llu bytes)\n", r->name,
		(unsigned long long)gpa, (unsigned long long)len, (unsigned long long)len);
}

int owner_plan_digest(int argc, char **argv, int cbit, bool verbose, uint8_t digest[32], struct cloak_err *err)
{
	struct plan_inputs in;
	struct launch_plan plan;
	struct vm_config cfg;
	uint64_t bytes;
	int rc;

	config_defaults(&cfg);
	/* The plan is measured, so confidential whether or not the arguments say --sev (--measured-boot needs it). */
	cfg.sev = true;
	/*
	 * The device options are recorded as text and counted, which is all the
	 * DMA budget (the measured swiotlb=) needs; their grammar is the devices'
	 * own, which `cloak run` checks and this tool does not link.
	 */
	rc = config_parse_run(argc, argv, &cfg, err);
	if (rc == 1)
		return err_set(err, "--cloak-plan: --help is not a launch; see `cloak run --help`");
	if (rc < 0)
		return err_prefix(err, "--cloak-plan: ");
	if (plan_inputs_open(&in, &cfg, err) < 0)
		return err_prefix(err, "--cloak-plan: ");
	in.cbit = cbit;
	if (plan_build(&in, &plan, err) < 0) {
		plan_inputs_close(&in);
		return err_prefix(err, "--cloak-plan: ");
	}
	rc = sev_plan_digest(&plan, digest, &bytes, err);
	if (rc == 0 && verbose) {
		sev_plan_measured(&plan, print_region, NULL);
		fprintf(stderr, "cloak-owner: %llu bytes measured in all (%s guest, %s, C-bit %d)\n",
			(unsigned long long)bytes, plan_kind_name(plan.kind), plan.kernel_name, cbit);
		if (plan.verifier)
			fprintf(stderr, "cloak-owner: --measured-boot verifier: the kernel, initrd and command line are "
					"staged unmeasured at 0x%llx + 0x%llx; the measured verifier checks their hashes\n",
				(unsigned long long)plan.staging_gpa, (unsigned long long)plan.staging_size);
	}
	plan_free(&plan);
	plan_inputs_close(&in);
	return rc;
}
