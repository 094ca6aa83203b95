/* owner_plan.c: the SEV, SEV-ES and SEV-SNP launch digests of cloak's own plan, from `cloak run` arguments, by cloak's plan code. */
#include "owner.h"

#include "sev/snp_measure.h"

#include <stdio.h>

static void print_region(void *ctx, const struct plan_region *r, uint64_t gpa, uint64_t len)
{
	(void)ctx;
	fprintf(stderr, "cloak-owner: measured %-22s guest 0x%08llx + 0x%llx (%llu bytes)\n", r->name,
		(unsigned long long)gpa, (unsigned long long)len, (unsigned long long)len);
}

int owner_plan_digest(int argc, char **argv, int cbit, const struct owner_plan_es *es, bool verbose,
		      uint8_t digest[32], struct cloak_err *err)
{
	struct plan_inputs in;
	struct launch_plan plan;
	struct vm_config cfg;
	uint64_t bytes;
	int rc;

	config_defaults(&cfg);
	/*
	 * The plan is measured, so confidential whether or not the arguments say
	 * --sev (--measured-boot needs it), and of the mode being measured unless
	 * the arguments name another (the defaults, --measured-boot's among
	 * them, follow the mode).
	 */
	cfg.sev = true;
	cfg.sev_mode = es ? SEV_LAUNCH_ES : SEV_LAUNCH_SEV;
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
	/* A plan that names its mode must name the one being measured: SEV and SEV-ES digests differ. */
	if ((cfg.sev_mode == SEV_LAUNCH_ES) != !!es)
		return err_set(err, "--cloak-plan: the `cloak run` arguments launch --sev-mode %s, but --mode %s is "
				    "measured; give the mode cloak launched", config_sev_mode_name(cfg.sev_mode),
			       es ? "seves" : "sev");
	if (es && es->vcpus && es->vcpus != cfg.cpus)
		return err_set(err, "--vcpus %u: the `cloak run` arguments start %u vCPUs (--cpus), and each VMSA "
				    "is measured; drop --vcpus or make them agree", es->vcpus, cfg.cpus);
	if (plan_inputs_open(&in, &cfg, err) < 0)
		return err_prefix(err, "--cloak-plan: ");
	in.cbit = cbit;
	if (es)
		in.vmsa = (struct plan_vmsa_inputs){ .on = true, .features = es->features, .vcpu_sig = es->vcpu_sig,
						     .fpu_synced = es->init2 };
	if (plan_build(&in, &plan, err) < 0) {
		plan_inputs_close(&in);
		return err_prefix(err, "--cloak-plan: ");
	}
	rc = sev_plan_digest(&plan, digest, &bytes, err);
	if (rc == 0 && verbose) {
		sev_plan_measured(&plan, print_region, NULL);
		if (plan.vmsas)
			fprintf(stderr, "cloak-owner: measured %u VMSA page(s), one per vCPU\n", plan.cpus);
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

static int print_page(void *ctx, enum snp_page_type type, uint64_t gpa, const uint8_t *page, struct cloak_err *err)
{
	static const char *const names[] = { [SNP_PAGE_NORMAL] = "normal", [SNP_PAGE_VMSA] = "vmsa",
					     [SNP_PAGE_ZERO] = "zero", [SNP_PAGE_UNMEASURED] = "unmeasured",
					     [SNP_PAGE_SECRETS] = "secrets", [SNP_PAGE_CPUID] = "cpuid" };

	(void)ctx;
	(void)page;
	(void)err;
	fprintf(stderr, "cloak-owner: snp page 0x%08llx %s\n", (unsigned long long)gpa, names[type]);
	return 0;
}

/* KVM sets it in every SNP VMSA (SVM_SEV_FEAT_SNP_ACTIVE); --guest-features gives what INIT2 got. */
#define SNP_FEAT_SNP_ACTIVE 1ull

int owner_plan_snp_digest(int argc, char **argv, int cbit, const struct owner_plan_es *snp, bool verbose,
			  uint8_t digest[48], struct cloak_err *err)
{
	struct plan_inputs in;
	struct launch_plan plan;
	struct vm_config cfg;
	int rc;

	config_defaults(&cfg);
	cfg.sev = true;  /* as in owner_plan_digest: measured, and of the mode measured unless the arguments differ */
	cfg.sev_mode = SEV_LAUNCH_SNP;
	rc = config_parse_run(argc, argv, &cfg, err);
	if (rc == 1)
		return err_set(err, "--cloak-plan: --help is not a launch; see `cloak run --help`");
	if (rc < 0)
		return err_prefix(err, "--cloak-plan: ");
	if (cfg.sev_mode != SEV_LAUNCH_SNP)
		return err_set(err, "--cloak-plan: the `cloak run` arguments launch --sev-mode %s, but --mode snp is "
				    "measured; give the mode cloak launched", config_sev_mode_name(cfg.sev_mode));
	if (snp->vcpus && snp->vcpus != cfg.cpus)
		return err_set(err, "--vcpus %u: the `cloak run` arguments start %u vCPUs (--cpus), and each VMSA "
				    "is measured; drop --vcpus or make them agree", snp->vcpus, cfg.cpus);
	if (!snp->init2)
		return err_set(err, "--kvm-sev-init legacy: SNP guests are always made with KVM_SEV_INIT2");
	if (plan_inputs_open(&in, &cfg, err) < 0)
		return err_prefix(err, "--cloak-plan: ");
	in.cbit = cbit;
	in.vmsa = (struct plan_vmsa_inputs){ .on = true, .features = snp->features | SNP_FEAT_SNP_ACTIVE,
					     .vcpu_sig = snp->vcpu_sig, .fpu_synced = true };
	if (plan_build(&in, &plan, err) < 0) {
		plan_inputs_close(&in);
		return err_prefix(err, "--cloak-plan: ");
	}
	rc = snp_plan_digest(&plan, true, digest, err);
	if (rc == 0 && verbose) {
		snp_plan_pages(&plan, print_page, NULL, err);
		fprintf(stderr, "cloak-owner: then %u VMSA page(s), one per vCPU (%s guest, %s, C-bit %d)\n", plan.cpus,
			plan_kind_name(plan.kind), plan.kernel_name, cbit);
	}
	plan_free(&plan);
	plan_inputs_close(&in);
	return rc;
}
