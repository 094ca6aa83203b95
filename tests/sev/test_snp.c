/* test_snp.c: the SNP parts of the VMM: host-check's SNP verdicts, and the simulated SNP firmware's rules. */
#include "sev_tests.h"

#include "sev/sev.h"
#include "sev/snp_abi.h"

#include <errno.h>
#include <stdlib.h>

/* An SNP host as a 6.12 kernel on Genoa shows it. */
static void snp_facts(struct sev_host_facts *f)
{
	memset(f, 0, sizeof(*f));
	strcpy(f->vendor, "AuthenticAMD");
	f->cpuid_amd = f->leaf_present = true;
	f->eax = 0x1b;
	f->ebx = 51 | 1 << 6;
	f->ecx = 1006;
	f->edx = 100;
	f->kvm_amd_loaded = true;
	strcpy(f->kvm_amd_sev, "Y");
	strcpy(f->kvm_amd_sev_es, "Y");
	strcpy(f->kvm_amd_sev_snp, "Y");
	f->dev_sev_exists = f->dev_sev_rw = f->status_ok = f->kvm_exists = true;
	f->status.api_major = 1;
	f->status.api_minor = 55;
	f->status.flags = SEV_STATUS_FLAGS_CONFIG_ES;
	f->snp_status_ok = f->snp_rmp_initialized = true;
	f->snp_state = 1;
	f->snp_api_major = 1;
	f->snp_api_minor = 55;
	f->vm_types = 1 << KVM_X86_SNP_VM | 1 << KVM_X86_SEV_ES_VM | 1 << KVM_X86_SEV_VM | 1;
	f->memlock_cur = f->memlock_max = 8 * MiB;
	f->cap_ipc_lock = true;
}

static bool snp_missing(const struct sev_verdict *v, const char *needle)
{
	unsigned i;

	for (i = 0; i < v->nmissing_snp; i++)
		if (strstr(v->missing_snp[i], needle))
			return true;
	return false;
}

static void verdict(const struct sev_host_facts *f, struct sev_verdict *v)
{
	sev_host_verdict(f, 128 * MiB, 129 * MiB, v);
}

START_TEST(host_check_snp_verdicts)
{
	struct sev_host_facts f;
	struct sev_verdict v;

	snp_facts(&f);
	verdict(&f, &v);
	ck_assert_msg(v.snp_ok, "%s", v.nmissing_snp ? v.missing_snp[0] : "");

	/* Debian 12's 6.1: no SNP VM type, no sev_snp parameter, a PSP driver without SNP_PLATFORM_STATUS. */
	snp_facts(&f);
	f.vm_types = 0;
	f.kvm_amd_sev_snp[0] = 0;
	f.snp_status_ok = false;
	f.snp_status_errno = EINVAL;
	verdict(&f, &v);
	ck_assert(v.sev_ok && !v.snp_ok);
	ck_assert(snp_missing(&v, "this kernel has no SNP support"));
	ck_assert(snp_missing(&v, "KVM_X86_SNP_VM"));
	ck_assert(snp_missing(&v, "no sev_snp parameter"));
	ck_assert(snp_missing(&v, "SNP_PLATFORM_STATUS on /dev/sev is unknown"));

	snp_facts(&f);
	f.eax = 0xb;
	verdict(&f, &v);
	ck_assert(!v.snp_ok && snp_missing(&v, "EAX bit 4"));

	/* min_sev_asid 1: KVM's range for SEV-ES and SNP, 1..min_sev_asid-1, is empty. */
	snp_facts(&f);
	f.edx = 1;
	verdict(&f, &v);
	ck_assert(!v.snp_ok && snp_missing(&v, "no ASID is left for SNP"));

	snp_facts(&f);
	strcpy(f.kvm_amd_sev_snp, "N");
	verdict(&f, &v);
	ck_assert(!v.snp_ok && snp_missing(&v, "sev_snp=1"));

	snp_facts(&f);
	strcpy(f.kvm_amd_sev_es, "N");
	verdict(&f, &v);
	ck_assert(!v.snp_ok && snp_missing(&v, "only together with SEV-ES"));

	snp_facts(&f);
	f.snp_rmp_initialized = false;
	f.snp_state = 0;
	verdict(&f, &v);
	ck_assert(!v.snp_ok && snp_missing(&v, "RMP NOT initialized"));

	snp_facts(&f);
	f.snp_status_ok = false;
	f.snp_status_errno = EIO;
	f.snp_status_fw_error = 0x15;
	verdict(&f, &v);
	ck_assert(!v.snp_ok && snp_missing(&v, "firmware status 0x15"));

	/* What SEV lacks, SNP lacks too. */
	snp_facts(&f);
	f.dev_sev_exists = false;
	verdict(&f, &v);
	ck_assert(!v.sev_ok && !v.snp_ok && snp_missing(&v, "SEV verdict"));
}
END_TEST

/* The report names the split and the SNP platform's status; --json carries the third verdict. */
START_TEST(host_check_snp_report)
{
	struct sev_host_facts f;
	struct sev_verdict v;
	char *buf = NULL;
	size_t len = 0;
	FILE *out;

	snp_facts(&f);
	f.snp_current_tcb = 0x1234;
	verdict(&f, &v);
	out = open_memstream(&buf, &len);
	sev_host_report(out, &f, &v, false, "/dev/sev");
	fclose(out);
	ck_assert_msg_has(buf, "SEV-ES and SNP ASIDs");
	ck_assert_msg_has(buf, "1-99 (99 guests, ES and SNP together)");
	ck_assert_msg_has(buf, "SNP API version");
	ck_assert_msg_has(buf, "KVM_X86_SNP_VM offered");
	ck_assert_msg_has(buf, "SEV-SNP: available");
	free(buf);
	buf = NULL;
	out = open_memstream(&buf, &len);
	sev_host_report(out, &f, &v, true, "/dev/sev");
	fclose(out);
	ck_assert_msg_has(buf, "\"sev_snp\": {\"available\": true");
	free(buf);
}
END_TEST

Suite *snp_suite(void)
{
	Suite *s = suite_create("snp");
	TCase *t = tcase_create("host_check");

	tcase_add_test(t, host_check_snp_verdicts);
	tcase_add_test(t, host_check_snp_report);
	suite_add_tcase(s, t);
	return s;
}
