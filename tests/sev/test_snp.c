/* test_snp.c: the SNP parts of the VMM: host-check's SNP verdicts, and the simulated SNP firmware's rules. */
#include "sev_tests.h"

#include "owner_harness.h"

#include "sev/sev.h"
#include "sev/snp.h"
#include "sev/snp_abi.h"
#include "plan.h"

#include <errno.h>
#include <openssl/ec.h>
#include <openssl/evp.h>
#include <openssl/x509.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

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


/* ---- the simulated SNP firmware ---- */

#define POLICY (SNP_POLICY_RSVD_MBO | SNP_POLICY_SMT)

static struct snp_sim *sim_open(void)
{
	struct cloak_err err = { "" };
	struct snp_sim_params p;
	struct snp_sim *s;

	snp_sim_default_params(&p);
	s = snp_sim_open(&p, &err);
	ck_assert_msg(s != NULL, "%s", err.msg);
	return s;
}

static struct snp_sim_guest *started(struct snp_sim *s, uint64_t policy)
{
	static const uint8_t gosvw[16] = { 0x5a };
	struct snp_sim_guest *g = NULL;

	ck_assert_uint_eq(snp_fw_launch_start(s, policy, gosvw, &g), 0);
	ck_assert_ptr_nonnull(g);
	return g;
}

START_TEST(snp_launch_start_policy_rules)
{
	struct snp_sim_params p;
	struct cloak_err err = { "" };
	struct snp_sim *s = sim_open(), *two;
	struct snp_sim_guest *g = NULL;
	uint8_t gosvw[16] = { 0 };

	/* The guest's lowest acceptable ABI (bits 15:8 major, 7:0 minor) above the firmware's 1.55. */
	ck_assert_uint_eq(snp_fw_launch_start(s, POLICY | 0x0138, gosvw, &g), SEV_RET_POLICY_FAILURE);
	ck_assert_uint_eq(snp_fw_launch_start(s, POLICY | 0x0200, gosvw, &g), SEV_RET_POLICY_FAILURE);
	ck_assert_ptr_null(g);
	/* Bit 17 must be one; bits above 20 are reserved. */
	ck_assert_uint_eq(snp_fw_launch_start(s, SNP_POLICY_SMT, gosvw, &g), SEV_RET_INVALID_PARAM);
	ck_assert_uint_eq(snp_fw_launch_start(s, POLICY | 1ull << 40, gosvw, &g), SEV_RET_INVALID_PARAM);
	/* SMT is on in the simulated platform: a guest that forbids it cannot launch here. */
	ck_assert_uint_eq(snp_fw_launch_start(s, SNP_POLICY_RSVD_MBO, gosvw, &g), SEV_RET_POLICY_FAILURE);
	ck_assert_uint_eq(snp_fw_launch_start(s, POLICY | SNP_POLICY_MIGRATE_MA, gosvw, &g), SEV_RET_POLICY_FAILURE);
	g = started(s, POLICY | SNP_POLICY_SINGLE_SOCKET | SNP_POLICY_DEBUG | 0x0137);
	ck_assert_int_eq(snp_fw_guest_state(g), SNP_GSTATE_LAUNCH);
	{
		uint8_t major, minor, state;
		uint32_t build, guests;
		uint64_t tcb;

		snp_sim_status(s, &major, &minor, &state, &build, &guests, &tcb);
		ck_assert_uint_eq(major, 1);
		ck_assert_uint_eq(minor, 55);
		ck_assert_uint_eq(guests, 1);
		snp_fw_guest_free(g);
		snp_sim_status(s, &major, &minor, &state, &build, &guests, &tcb);
		ck_assert_uint_eq(guests, 0);
	}

	snp_sim_default_params(&p);
	p.sockets = 2;
	p.smt = false;
	two = snp_sim_open(&p, &err);
	ck_assert_uint_eq(snp_fw_launch_start(two, POLICY | SNP_POLICY_SINGLE_SOCKET, gosvw, &g), SEV_RET_POLICY_FAILURE);
	g = started(two, SNP_POLICY_RSVD_MBO);
	snp_fw_guest_free(g);
	snp_sim_close(two);
	snp_sim_close(s);
}
END_TEST

/* The owner's policy through the simulated kernel: KVM's bits, the firmware's SMT rule, the report's copy. */
START_TEST(snp_policy_reaches_the_report)
{
	static const uint8_t zero32[32], rd[64];
	struct cloak_err err = { "" };
	struct snp_sim_params p;
	struct snp_sim *fw;
	struct snp_ksim *k;
	struct kvm_sev_init init = { .ghcb_version = 2 };
	struct kvm_sev_snp_launch_start st = { .policy = SNP_POLICY_RSVD_MBO | SNP_POLICY_DEBUG | 0x0102 };
	struct snp_report r;
	uint32_t fw_error;

	snp_sim_default_params(&p);
	fw = snp_sim_open(&p, &err);
	k = snp_ksim_open(fw, &err);
	ck_assert_int_eq(snp_ksim_init2(k, &init), 0);
	/* A 6.12 KVM passes bits 0-20 only: CIPHERTEXT_HIDING is its EINVAL, before the firmware. */
	st.policy |= SNP_POLICY_CIPHERTEXT_HIDING;
	ck_assert_int_eq(snp_ksim_launch_start(k, &st, &fw_error), -EINVAL);
	ck_assert_uint_eq(fw_error, 0);
	st.policy &= ~SNP_POLICY_CIPHERTEXT_HIDING;
	/* SMT is on in the simulated platform: a no-SMT policy is the firmware's POLICY_FAILURE. */
	ck_assert_int_eq(snp_ksim_launch_start(k, &st, &fw_error), -EIO);
	ck_assert_uint_eq(fw_error, SEV_RET_POLICY_FAILURE);
	snp_ksim_close(k);
	snp_sim_close(fw);
	/* With SMT off it launches, and the report shows the policy as given. */
	p.smt = false;
	fw = snp_sim_open(&p, &err);
	k = snp_ksim_open(fw, &err);
	ck_assert_int_eq(snp_ksim_init2(k, &init), 0);
	ck_assert_int_eq(snp_ksim_launch_start(k, &st, &fw_error), 0);
	ck_assert_uint_eq(snp_fw_launch_finish(snp_ksim_guest(k), NULL, NULL, false, zero32, false), 0);
	ck_assert_uint_eq(snp_fw_guest_report(snp_ksim_guest(k), rd, 0, &r), 0);
	ck_assert_uint_eq(r.policy, SNP_POLICY_RSVD_MBO | SNP_POLICY_DEBUG | 0x0102);
	ck_assert_uint_eq(r.platform_info & 1, 0);
	snp_ksim_close(k);
	snp_sim_close(fw);
}
END_TEST

/* One PAGE_INFO step written out by hand, so the shared chaining code is checked against the ABI's layout. */
static void page_info_step(uint8_t ld[48], uint8_t type, uint64_t gpa, const uint8_t contents[48])
{
	uint8_t pi[0x70] = { 0 };
	unsigned int n;

	memcpy(pi, ld, 48);
	memcpy(pi + 0x30, contents, 48);
	pi[0x60] = 0x70;
	pi[0x62] = type;
	memcpy(pi + 0x68, &gpa, 8);
	ck_assert_int_eq(EVP_Digest(pi, sizeof(pi), ld, &n, EVP_sha384(), NULL), 1);
}

START_TEST(snp_launch_update_page_types_and_digest)
{
	static const uint8_t zeros[48];
	struct snp_sim *s = sim_open();
	struct snp_sim_guest *g = started(s, POLICY);
	uint8_t *page = malloc(SNP_PAGE_SIZE), want[48] = { 0 }, h[48], ld[48];
	unsigned int n;

	/* NORMAL: the page's SHA-384 is chained. */
	memset(page, 0xab, SNP_PAGE_SIZE);
	ck_assert_int_eq(EVP_Digest(page, SNP_PAGE_SIZE, h, &n, EVP_sha384(), NULL), 1);
	ck_assert_uint_eq(snp_fw_launch_update(g, 0x100000, SNP_PAGE_NORMAL, page), 0);
	page_info_step(want, SNP_PAGE_NORMAL, 0x100000, h);
	ck_assert_uint_eq(page[0], 0xab);
	/* ZERO: the firmware zeroes the page; nothing of it is hashed. */
	ck_assert_uint_eq(snp_fw_launch_update(g, 0x101000, SNP_PAGE_ZERO, page), 0);
	page_info_step(want, SNP_PAGE_ZERO, 0x101000, zeros);
	ck_assert_uint_eq(page[0], 0);
	ck_assert_uint_eq(page[SNP_PAGE_SIZE - 1], 0);
	/* UNMEASURED: kept as given, chained without its contents. */
	memset(page, 0x77, SNP_PAGE_SIZE);
	ck_assert_uint_eq(snp_fw_launch_update(g, 0x102000, SNP_PAGE_UNMEASURED, page), 0);
	page_info_step(want, SNP_PAGE_UNMEASURED, 0x102000, zeros);
	ck_assert_uint_eq(page[100], 0x77);
	/* SECRETS: the firmware writes version, GOSVW and the VMPCKs. */
	memset(page, 0x11, SNP_PAGE_SIZE);
	ck_assert_uint_eq(snp_fw_launch_update(g, 0x103000, SNP_PAGE_SECRETS, page), 0);
	page_info_step(want, SNP_PAGE_SECRETS, 0x103000, zeros);
	ck_assert_uint_eq(page[SNP_SECRETS_OFF_VERSION], 2);
	ck_assert_uint_eq(page[SNP_SECRETS_OFF_GOSVW], 0x5a);
	{
		uint8_t k[SNP_VMPCK_LEN];

		snp_fw_guest_vmpck0(g, k);
		ck_assert_mem_eq(page + SNP_SECRETS_OFF_VMPCK0, k, SNP_VMPCK_LEN);
		ck_assert_uint_eq(page[0x500], 0);
	}
	/* CPUID: without a hardware table to check against, accepted and chained without contents. */
	memset(page, 0, SNP_PAGE_SIZE);
	ck_assert_uint_eq(snp_fw_launch_update(g, 0x104000, SNP_PAGE_CPUID, page), 0);
	page_info_step(want, SNP_PAGE_CPUID, 0x104000, zeros);

	snp_fw_guest_digest(g, ld);
	ck_assert_mem_eq(ld, want, 48);

	/* Each page once; 4 KiB aligned; never a VMSA from the VMM; one secrets page. */
	memset(page, 0xab, SNP_PAGE_SIZE);
	ck_assert_uint_eq(snp_fw_launch_update(g, 0x100000, SNP_PAGE_NORMAL, page), SEV_RET_INVALID_PAGE_STATE);
	ck_assert_uint_eq(snp_fw_launch_update(g, 0x105800, SNP_PAGE_NORMAL, page), SEV_RET_INVALID_ADDRESS);
	ck_assert_uint_eq(snp_fw_launch_update(g, 0x105000, SNP_PAGE_VMSA, page), SEV_RET_INVALID_PARAM);
	ck_assert_uint_eq(snp_fw_launch_update(g, 0x105000, 7, page), SEV_RET_INVALID_PARAM);
	ck_assert_uint_eq(snp_fw_launch_update(g, 0x105000, SNP_PAGE_SECRETS, page), SEV_RET_INVALID_PARAM);
	snp_fw_guest_digest(g, ld);
	ck_assert_mem_eq(ld, want, 48);   /* refused pages leave the digest alone */

	/* After FINISH, no more updates. */
	ck_assert_uint_eq(snp_fw_launch_finish(g, NULL, NULL, false, zeros, false), 0);
	ck_assert_int_eq(snp_fw_guest_state(g), SNP_GSTATE_RUNNING);
	ck_assert_uint_eq(snp_fw_launch_update(g, 0x106000, SNP_PAGE_NORMAL, page), SEV_RET_INVALID_GUEST_STATE);
	ck_assert_uint_eq(snp_fw_launch_finish(g, NULL, NULL, false, zeros, false), SEV_RET_INVALID_GUEST_STATE);
	snp_fw_guest_free(g);
	snp_sim_close(s);
	free(page);
}
END_TEST

START_TEST(snp_cpuid_page_is_corrected_to_the_hardware)
{
	struct kvm_cpuid_entry2 hw[2] = {
		{ .function = 1, .ecx = 0x0000ffff, .edx = 0xffffffff },
		{ .function = 7, .index = 0, .flags = KVM_CPUID_FLAG_SIGNIFCANT_INDEX, .ebx = 0xf0 },
	};
	struct cloak_err err = { "" };
	struct snp_sim_params p;
	struct snp_sim *s;
	struct snp_sim_guest *g;
	struct snp_cpuid_page *t = calloc(1, SNP_PAGE_SIZE);
	uint8_t ld[48], before[48];

	snp_sim_default_params(&p);
	p.hw_cpuid = hw;
	p.hw_ncpuid = 2;
	s = snp_sim_open(&p, &err);
	g = started(s, POLICY);
	t->count = 3;
	t->fn[0] = (struct snp_cpuid_fn){ .eax_in = 1, .eax = 0xa10f11, .ecx = 0x8000ff00, .edx = 0x1 };
	t->fn[1] = (struct snp_cpuid_fn){ .eax_in = 7, .ecx_in = 0, .ebx = 0x1f0 };
	t->fn[2] = (struct snp_cpuid_fn){ .eax_in = 0x40000000, .ebx = 0x4b4d564b };   /* unchecked leaf */
	snp_fw_guest_digest(g, before);
	ck_assert_uint_eq(snp_fw_launch_update(g, 0x9000, SNP_PAGE_CPUID, (uint8_t *)t), SEV_RET_INVALID_PARAM);
	/* The page comes back with what the hardware allows; the rest untouched; nothing measured. */
	ck_assert_uint_eq(t->fn[0].ecx, 0x0000ff00);
	ck_assert_uint_eq(t->fn[0].edx, 0x1);
	ck_assert_uint_eq(t->fn[0].eax, 0xa10f11);
	ck_assert_uint_eq(t->fn[1].ebx, 0xf0);
	ck_assert_uint_eq(t->fn[2].ebx, 0x4b4d564b);
	snp_fw_guest_digest(g, ld);
	ck_assert_mem_eq(ld, before, 48);
	/* The corrected page is accepted at the same address. */
	ck_assert_uint_eq(snp_fw_launch_update(g, 0x9000, SNP_PAGE_CPUID, (uint8_t *)t), 0);
	/* More entries than the table holds. */
	memset(t, 0, SNP_PAGE_SIZE);
	t->count = 65;
	ck_assert_uint_eq(snp_fw_launch_update(g, 0xa000, SNP_PAGE_CPUID, (uint8_t *)t), SEV_RET_INVALID_PARAM);
	ck_assert_uint_eq(t->count, 64);
	snp_fw_guest_free(g);
	snp_sim_close(s);
	free(t);
}
END_TEST

static EVP_PKEY *p384(void)
{
	EVP_PKEY *k = EVP_EC_gen("P-384");

	ck_assert_ptr_nonnull(k);
	return k;
}

static void id_block(const uint8_t ld[48], uint64_t policy, EVP_PKEY *id, EVP_PKEY *author, struct snp_id_outputs *o)
{
	struct cloak_err err = { "" };
	struct snp_id_inputs in = { .guest_svn = 7, .policy = policy, .id_key = id, .author_key = author };

	memcpy(in.launch_digest, ld, 48);
	memset(in.family_id, 0xf1, 16);
	memset(in.image_id, 0x1d, 16);
	ck_assert_msg(snp_id_block_build(&in, o, &err) == 0, "%s", err.msg);
}

/* A guest with one measured page, ready to finish. */
static struct snp_sim_guest *one_page_guest(struct snp_sim *s, uint8_t ld[48])
{
	struct snp_sim_guest *g = started(s, POLICY);
	uint8_t page[SNP_PAGE_SIZE];

	memset(page, 0x42, sizeof(page));
	ck_assert_uint_eq(snp_fw_launch_update(g, 0x200000, SNP_PAGE_NORMAL, page), 0);
	snp_fw_guest_digest(g, ld);
	return g;
}

START_TEST(snp_launch_finish_id_block_rules)
{
	static const uint8_t host_data[32] = { 0x48, 0x44 };
	struct snp_sim *s = sim_open();
	EVP_PKEY *id = p384(), *author = p384();
	struct snp_id_outputs *o = malloc(sizeof(*o));
	struct snp_sim_guest *g;
	struct snp_report r;
	uint8_t ld[48], rd[64] = { 1 };

	g = one_page_guest(s, ld);
	/* An ID block for another launch digest. */
	ld[0] ^= 1;
	id_block(ld, POLICY, id, NULL, o);
	ck_assert_uint_eq(snp_fw_launch_finish(g, o->id_block, o->id_auth, false, host_data, false),
			  SEV_RET_BAD_MEASUREMENT);
	ld[0] ^= 1;
	/* ... for another policy. */
	id_block(ld, POLICY | SNP_POLICY_DEBUG, id, NULL, o);
	ck_assert_uint_eq(snp_fw_launch_finish(g, o->id_block, o->id_auth, false, host_data, false),
			  SEV_RET_POLICY_FAILURE);
	/* A block changed after it was signed. */
	id_block(ld, POLICY, id, NULL, o);
	o->id_block[84] ^= 1;
	ck_assert_uint_eq(snp_fw_launch_finish(g, o->id_block, o->id_auth, false, host_data, false),
			  SEV_RET_BAD_SIGNATURE);
	/* An author key claimed but none signed the ID key. */
	id_block(ld, POLICY, id, NULL, o);
	ck_assert_uint_eq(snp_fw_launch_finish(g, o->id_block, o->id_auth, true, host_data, false),
			  SEV_RET_INVALID_PARAM);
	/* An author key flag without an ID block. */
	ck_assert_uint_eq(snp_fw_launch_finish(g, NULL, NULL, true, host_data, false), SEV_RET_INVALID_PARAM);
	/* A tampered ID-key signature by the author key. */
	id_block(ld, POLICY, id, author, o);
	o->id_auth[SNP_AUTH_OFF_ID_KEY_SIG + 3] ^= 1;
	ck_assert_uint_eq(snp_fw_launch_finish(g, o->id_block, o->id_auth, true, host_data, false),
			  SEV_RET_BAD_SIGNATURE);
	ck_assert_int_eq(snp_fw_guest_state(g), SNP_GSTATE_LAUNCH);
	/* The good one; the report names both keys, the block's IDs and SVN, and the host data. */
	id_block(ld, POLICY, id, author, o);
	ck_assert_uint_eq(snp_fw_launch_finish(g, o->id_block, o->id_auth, true, host_data, false), 0);
	ck_assert_uint_eq(snp_fw_guest_report(g, rd, 4, &r), SEV_RET_INVALID_PARAM);
	ck_assert_uint_eq(snp_fw_guest_report(g, rd, 0, &r), 0);
	ck_assert_mem_eq(r.measurement, ld, 48);
	ck_assert_mem_eq(r.id_key_digest, o->id_key_digest, 48);
	ck_assert_mem_eq(r.author_key_digest, o->author_key_digest, 48);
	ck_assert_mem_eq(r.host_data, host_data, 32);
	ck_assert_mem_eq(r.report_data, rd, 64);
	ck_assert_uint_eq(r.guest_svn, 7);
	ck_assert_uint_eq(r.family_id[0], 0xf1);
	ck_assert_uint_eq(r.flags & 1, 1);
	ck_assert_uint_eq(r.policy, POLICY);
	snp_fw_guest_free(g);

	/* vcek_disabled: a VLEK would sign, and the simulator has none. */
	g = one_page_guest(s, ld);
	ck_assert_uint_eq(snp_fw_guest_report(g, rd, 0, &r), SEV_RET_INVALID_GUEST_STATE);
	ck_assert_uint_eq(snp_fw_launch_finish(g, NULL, NULL, false, host_data, true), 0);
	ck_assert_uint_eq(snp_fw_guest_report(g, rd, 0, &r), SEV_RET_INVALID_PARAM);
	snp_fw_guest_free(g);
	EVP_PKEY_free(id);
	EVP_PKEY_free(author);
	free(o);
	snp_sim_close(s);
}
END_TEST

/* The simulator's report and exported chain pass cloak-owner's checks; a tampered report does not. */
START_TEST(snp_sim_reports_verify_with_cloak_owner)
{
	static const uint8_t host_data[32] = { 0 };
	struct cloak_err err = { "" };
	struct snp_sim *s = sim_open();
	struct snp_sim_guest *g;
	struct snp_report r, parsed;
	struct snp_ca ca;
	char ca_pem[64], vcek[64], rep[64], args[512];
	uint8_t ld[48], rd[64] = { 0xee };
	X509 *v;
	FILE *f;

	test_dir_setup();
	test_path(ca_pem, sizeof(ca_pem), "ca.pem");
	test_path(vcek, sizeof(vcek), "vcek.der");
	test_path(rep, sizeof(rep), "report.bin");
	g = one_page_guest(s, ld);
	ck_assert_uint_eq(snp_fw_launch_finish(g, NULL, NULL, false, host_data, false), 0);
	ck_assert_uint_eq(snp_fw_guest_report(g, rd, 0, &r), 0);
	ck_assert_msg(snp_sim_export_chain(s, ca_pem, vcek, &err) == 0, "%s", err.msg);

	/* In process: the library's checks, link by link. */
	ck_assert_msg(snp_report_parse((const uint8_t *)&r, sizeof(r), &parsed, &err) == 0, "%s", err.msg);
	ck_assert_msg(snp_ca_load(ca_pem, &ca, &err) == 0, "%s", err.msg);
	ck_assert_msg(snp_ca_verify(&ca, NULL, &err) == 0, "%s", err.msg);
	f = fopen(vcek, "rb");
	v = d2i_X509_fp(f, NULL);
	fclose(f);
	ck_assert_ptr_nonnull(v);
	ck_assert_msg(snp_vcek_verify(&ca, v, NULL, &err) == 0, "%s", err.msg);
	ck_assert_msg(snp_vcek_matches_report(v, &parsed, NULL, &err) == 0, "%s", err.msg);
	ck_assert_msg(snp_report_verify_sig(&parsed, X509_get0_pubkey(v), &err) == 0, "%s", err.msg);
	X509_free(v);
	snp_ca_free(&ca);

	/* The owner's tool, as an owner runs it. */
	ck_assert_msg(sev_file_write(rep, "report", &r, sizeof(r), 0600, &err) == 0, "%s", err.msg);
	/* The simulator's ARK is not AMD's: refused unless the owner says this is a test chain. */
	snprintf(args, sizeof(args), "report verify --ca %s --vcek %s --report %s", ca_pem, vcek, rep);
	ck_assert_int_eq(owner_run(NULL, 0, "%s", args), 1);
	snprintf(args, sizeof(args), "report verify --allow-unknown-ark --ca %s --vcek %s --report %s", ca_pem, vcek,
		 rep);
	ck_assert_int_eq(owner_run(NULL, 0, "%s", args), 0);
	r.measurement[5] ^= 1;
	ck_assert_msg(sev_file_write(rep, "report", &r, sizeof(r), 0600, &err) == 0, "%s", err.msg);
	ck_assert_int_ne(owner_run(NULL, 0, "%s", args), 0);
	snp_fw_guest_free(g);
	snp_sim_close(s);
	test_dir_teardown();
}
END_TEST


/* ---- the simulated kernel side: sev.c's argument rules over cloak-kept slots and attributes ---- */

struct ksim_world {
	struct snp_sim *fw;
	struct snp_ksim *k;
	uint8_t *ram;   /* 64 pages of "guest memory" at GPA 0x100000 */
};

static void ksim_world(struct ksim_world *w, bool start)
{
	struct cloak_err err = { "" };
	struct kvm_sev_init init = { .ghcb_version = 2 };
	struct kvm_sev_snp_launch_start st = { .policy = POLICY };
	uint32_t fw_error;

	w->fw = sim_open();
	w->k = snp_ksim_open(w->fw, &err);
	ck_assert_ptr_nonnull(w->k);
	w->ram = aligned_alloc(4096, 64 * 4096);
	memset(w->ram, 0, 64 * 4096);
	/* Not an SNP guest before INIT2. */
	ck_assert_int_eq(snp_ksim_launch_start(w->k, &st, &fw_error), -ENOTTY);
	ck_assert_int_eq(snp_ksim_init2(w->k, &init), 0);
	ck_assert_int_eq(snp_ksim_set_slot(w->k, 0, 0x100000, 64 * 4096, w->ram), 0);
	if (start)
		ck_assert_int_eq(snp_ksim_launch_start(w->k, &st, &fw_error), 0);
}

static void ksim_world_free(struct ksim_world *w)
{
	snp_ksim_close(w->k);
	snp_sim_close(w->fw);
	free(w->ram);
}

START_TEST(snp_ksim_init2_start_and_attributes)
{
	struct ksim_world w;
	struct kvm_sev_init init = { .ghcb_version = 2 };
	struct kvm_sev_snp_launch_start st = { .policy = POLICY };
	uint32_t fw_error;

	ksim_world(&w, false);
	ck_assert_int_eq(snp_ksim_init2(w.k, &init), -EINVAL);   /* once */
	/* KVM's own policy checks come before the firmware's: reserved bits above 20, bit 17, flags. */
	st.policy = POLICY | 1ull << 21;
	ck_assert_int_eq(snp_ksim_launch_start(w.k, &st, &fw_error), -EINVAL);
	st.policy = SNP_POLICY_SMT;
	ck_assert_int_eq(snp_ksim_launch_start(w.k, &st, &fw_error), -EINVAL);
	st.policy = POLICY;
	st.flags = 1;
	ck_assert_int_eq(snp_ksim_launch_start(w.k, &st, &fw_error), -EINVAL);
	st.flags = 0;
	/* The firmware's: an ABI newer than its own. */
	st.policy = POLICY | 0x0200;
	ck_assert_int_eq(snp_ksim_launch_start(w.k, &st, &fw_error), -EIO);
	ck_assert_uint_eq(fw_error, SEV_RET_POLICY_FAILURE);
	st.policy = POLICY;
	ck_assert_int_eq(snp_ksim_launch_start(w.k, &st, &fw_error), 0);
	ck_assert_int_eq(snp_ksim_launch_start(w.k, &st, &fw_error), -EINVAL);   /* one context per VM */

	/* Attributes: page-aligned, non-empty, PRIVATE or nothing, no flags, inside a slot. */
	ck_assert_int_eq(snp_ksim_set_attributes(w.k, 0x100800, 4096, KVM_MEMORY_ATTRIBUTE_PRIVATE, 0), -EINVAL);
	ck_assert_int_eq(snp_ksim_set_attributes(w.k, 0x100000, 0, KVM_MEMORY_ATTRIBUTE_PRIVATE, 0), -EINVAL);
	ck_assert_int_eq(snp_ksim_set_attributes(w.k, 0x100000, 4096, 1, 0), -EINVAL);
	ck_assert_int_eq(snp_ksim_set_attributes(w.k, 0x100000, 4096, KVM_MEMORY_ATTRIBUTE_PRIVATE, 1), -EINVAL);
	ck_assert_int_eq(snp_ksim_set_attributes(w.k, 0x200000, 4096, KVM_MEMORY_ATTRIBUTE_PRIVATE, 0), -EINVAL);
	ck_assert_int_eq(snp_ksim_set_attributes(w.k, 0x100000, 8 * 4096, KVM_MEMORY_ATTRIBUTE_PRIVATE, 0), 0);
	ck_assert(snp_ksim_is_private(w.k, 0x100000, 8 * 4096));
	ck_assert(!snp_ksim_is_private(w.k, 0x100000, 9 * 4096));
	ck_assert_int_eq(snp_ksim_set_attributes(w.k, 0x101000, 4096, 0, 0), 0);
	ck_assert(!snp_ksim_is_private(w.k, 0x101000, 4096));
	ck_assert(snp_ksim_is_private(w.k, 0x102000, 4096));
	ksim_world_free(&w);
}
END_TEST

START_TEST(snp_ksim_launch_update_rules)
{
	struct ksim_world w;
	uint8_t *src = aligned_alloc(4096, 2 * 4096), ld[48], want[48] = { 0 }, h[48];
	struct kvm_sev_snp_launch_update u;
	unsigned int n;
	uint32_t fw_error;

	ksim_world(&w, true);
	memset(src, 0x5c, 2 * 4096);
	ck_assert_int_eq(snp_ksim_set_attributes(w.k, 0x100000, 16 * 4096, KVM_MEMORY_ATTRIBUTE_PRIVATE, 0), 0);
#define UPD(gfn, addr, length, ty) (u = (struct kvm_sev_snp_launch_update){ .gfn_start = (gfn), \
	.uaddr = (uint64_t)(uintptr_t)(addr), .len = (length), .type = (ty) }, snp_ksim_launch_update(w.k, &u, &fw_error))
	/* Lengths in whole pages, known types, no flags, a page-aligned source. */
	ck_assert_int_eq(UPD(0x100, src, 0, KVM_SEV_SNP_PAGE_TYPE_NORMAL), -EINVAL);
	ck_assert_int_eq(UPD(0x100, src, 100, KVM_SEV_SNP_PAGE_TYPE_NORMAL), -EINVAL);
	ck_assert_int_eq(UPD(0x100, src, 4096, 2), -EINVAL);   /* VMSA: KVM's own, never userspace's */
	ck_assert_int_eq(UPD(0x100, src + 8, 4096, KVM_SEV_SNP_PAGE_TYPE_NORMAL), -EINVAL);
	u.flags = 1;
	ck_assert_int_eq((u.gfn_start = 0x100, u.uaddr = (uintptr_t)src, u.len = 4096, u.type = 1,
			  snp_ksim_launch_update(w.k, &u, &fw_error)), -EINVAL);
	/* Outside any guest_memfd slot; a page not made private; both before the firmware is reached. */
	ck_assert_int_eq(UPD(0x300, src, 4096, KVM_SEV_SNP_PAGE_TYPE_NORMAL), -EINVAL);
	ck_assert_int_eq(UPD(0x120, src, 4096, KVM_SEV_SNP_PAGE_TYPE_NORMAL), -EIO);
	ck_assert_uint_eq(fw_error, 0);
	/* Two NORMAL pages: copied into guest memory, measured, and the arguments advance as KVM's do. */
	ck_assert_int_eq(UPD(0x100, src, 2 * 4096, KVM_SEV_SNP_PAGE_TYPE_NORMAL), 0);
	ck_assert_uint_eq(u.gfn_start, 0x102);
	ck_assert_uint_eq(u.len, 0);
	ck_assert_uint_eq(u.uaddr, (uintptr_t)src + 2 * 4096);
	ck_assert_uint_eq(w.ram[4096 + 7], 0x5c);
	ck_assert_int_eq(EVP_Digest(src, 4096, h, &n, EVP_sha384(), NULL), 1);
	page_info_step(want, 1, 0x100000, h);
	page_info_step(want, 1, 0x101000, h);
	snp_fw_guest_digest(snp_ksim_guest(w.k), ld);
	ck_assert_mem_eq(ld, want, 48);
	/* The same page again: its RMP entry is the guest's now (-EEXIST inside KVM, -EIO outside). */
	ck_assert_int_eq(UPD(0x101, src, 4096, KVM_SEV_SNP_PAGE_TYPE_NORMAL), -EIO);
	ck_assert_uint_eq(fw_error, 0);
	/* ZERO ignores the source: even NULL. */
	w.ram[2 * 4096] = 0xee;
	ck_assert_int_eq(UPD(0x102, NULL, 4096, KVM_SEV_SNP_PAGE_TYPE_ZERO), 0);
	ck_assert_uint_eq(w.ram[2 * 4096], 0);
	ck_assert_int_eq(UPD(0x103, NULL, 4096, KVM_SEV_SNP_PAGE_TYPE_NORMAL), -EFAULT);
	/* A page made shared again is the host's: it may be given anew. */
	ck_assert_int_eq(snp_ksim_set_attributes(w.k, 0x102000, 4096, 0, 0), 0);
	ck_assert_int_eq(UPD(0x102, NULL, 4096, KVM_SEV_SNP_PAGE_TYPE_ZERO), -EIO);
	ck_assert_int_eq(snp_ksim_set_attributes(w.k, 0x102000, 4096, KVM_MEMORY_ATTRIBUTE_PRIVATE, 0), 0);
	ck_assert_int_eq(UPD(0x102, NULL, 4096, KVM_SEV_SNP_PAGE_TYPE_ZERO), -EIO);   /* the firmware's RMP says not */
	ck_assert_uint_eq(fw_error, SEV_RET_INVALID_PAGE_STATE);
#undef UPD
	ksim_world_free(&w);
	free(src);
}
END_TEST

/* More than 64 CPUID leaves: the ones Linux's SNP code needs are kept, the dropped ones named. */
START_TEST(snp_cpuid_page_keeps_the_leaves_linux_needs)
{
	struct kvm_cpuid_entry2 e[90];
	struct snp_cpuid_page t;
	char dropped[2048];
	unsigned n = 0, i, k, fillers = 0;
	bool seen_1f = false, seen_80 = false, seen_d1 = false;

	memset(e, 0, sizeof(e));
	e[n++] = (struct kvm_cpuid_entry2){ .function = 0x0, .eax = 0xd };
	e[n++] = (struct kvm_cpuid_entry2){ .function = 0x1, .ecx = 0x80000000 };
	/* 70 leaves KVM lists before the extended ones (sub-leaves of 0x12 here). */
	for (i = 0; i < 70; i++, fillers++)
		e[n++] = (struct kvm_cpuid_entry2){ .function = 0x12, .index = i, .flags = KVM_CPUID_FLAG_SIGNIFCANT_INDEX };
	e[n++] = (struct kvm_cpuid_entry2){ .function = 0xd, .index = 0, .flags = KVM_CPUID_FLAG_SIGNIFCANT_INDEX, .eax = 7 };
	e[n++] = (struct kvm_cpuid_entry2){ .function = 0xd, .index = 1, .flags = KVM_CPUID_FLAG_SIGNIFCANT_INDEX, .eax = 1 };
	e[n++] = (struct kvm_cpuid_entry2){ .function = 0x80000000, .eax = 0x8000001f };
	e[n++] = (struct kvm_cpuid_entry2){ .function = 0x8000001f, .eax = 0x1b, .ebx = 0x33 };
	/* Within 64, everything goes in, in the guest's order. */
	ck_assert_uint_eq(snp_cpuid_table_fill(&t, e, 40, dropped, sizeof(dropped)), 0);
	ck_assert_uint_eq(t.count, 40);
	ck_assert_str_eq(dropped, "");
	ck_assert_uint_eq(t.fn[2].eax_in, 0x12);
	/* 76: the six Linux needs first, then 58 of the 0x12 sub-leaves; the last 12 are dropped and named. */
	ck_assert_uint_eq(snp_cpuid_table_fill(&t, e, n, dropped, sizeof(dropped)), n - 64);
	ck_assert_uint_eq(t.count, 64);
	for (k = 0; k < t.count; k++) {
		seen_1f |= t.fn[k].eax_in == 0x8000001f && t.fn[k].ebx == 0x33;
		seen_80 |= t.fn[k].eax_in == 0x80000000;
		seen_d1 |= t.fn[k].eax_in == 0xd && t.fn[k].ecx_in == 1 && t.fn[k].xcr0_in == 1;
	}
	ck_assert(seen_1f && seen_80 && seen_d1);
	ck_assert_uint_eq(t.fn[0].eax_in, 0x0);
	ck_assert_uint_eq(t.fn[6].eax_in, 0x12);
	ck_assert_uint_eq(t.fn[6].ecx_in, 0);
	ck_assert_ptr_nonnull(strstr(dropped, "0x12.58 "));
	ck_assert_ptr_nonnull(strstr(dropped, "0x12.69"));
	ck_assert_ptr_null(strstr(dropped, "0x12.57 "));
	ck_assert_ptr_null(strstr(dropped, "0x8000001f"));
	ck_assert_uint_eq(fillers, 70);
	/* A short name buffer truncates the names, never the count. */
	ck_assert_uint_eq(snp_cpuid_table_fill(&t, e, n, dropped, 8), n - 64);
	ck_assert_uint_lt(strlen(dropped), 8);
}
END_TEST

/* The pages of a launch, given one call per page or in ranges: the same digest and the same guest memory. */
START_TEST(snp_ksim_ranges_measure_as_pages)
{
	struct ksim_world one, many;
	uint8_t *src = aligned_alloc(4096, 64 * 4096), a[48], b[48];
	struct kvm_sev_snp_launch_update u;
	uint32_t fw_error;
	unsigned i;
	/* NORMAL 0-9, ZERO 10-40, UNMEASURED 41-43, NORMAL 44-63. */
	static const struct { unsigned first, n; uint8_t type; } runs[] = {
		{ 0, 10, KVM_SEV_SNP_PAGE_TYPE_NORMAL }, { 10, 31, KVM_SEV_SNP_PAGE_TYPE_ZERO },
		{ 41, 3, KVM_SEV_SNP_PAGE_TYPE_UNMEASURED }, { 44, 20, KVM_SEV_SNP_PAGE_TYPE_NORMAL },
	};

	for (i = 0; i < 64 * 4096; i++)
		src[i] = (uint8_t)(i * 7 + i / 4096);
	ksim_world(&one, true);
	ksim_world(&many, true);
	ck_assert_int_eq(snp_ksim_set_attributes(one.k, 0x100000, 64 * 4096, KVM_MEMORY_ATTRIBUTE_PRIVATE, 0), 0);
	ck_assert_int_eq(snp_ksim_set_attributes(many.k, 0x100000, 64 * 4096, KVM_MEMORY_ATTRIBUTE_PRIVATE, 0), 0);
	memset(one.ram, 0xaa, 64 * 4096);
	memset(many.ram, 0xaa, 64 * 4096);
	for (i = 0; i < sizeof(runs) / sizeof(runs[0]); i++) {
		unsigned p;

		for (p = runs[i].first; p < runs[i].first + runs[i].n; p++) {
			u = (struct kvm_sev_snp_launch_update){ .gfn_start = 0x100 + p, .uaddr = (uintptr_t)(src + p * 4096),
								.len = 4096, .type = runs[i].type };
			ck_assert_int_eq(snp_ksim_launch_update(one.k, &u, &fw_error), 0);
		}
		u = (struct kvm_sev_snp_launch_update){ .gfn_start = 0x100 + runs[i].first,
							.uaddr = (uintptr_t)(src + runs[i].first * 4096),
							.len = runs[i].n * 4096ull, .type = runs[i].type };
		ck_assert_int_eq(snp_ksim_launch_update(many.k, &u, &fw_error), 0);
		/* One call did the whole run: the arguments point past it (uaddr stays for ZERO). */
		ck_assert_uint_eq(u.len, 0);
		ck_assert_uint_eq(u.gfn_start, 0x100 + runs[i].first + runs[i].n);
		ck_assert_uint_eq(u.uaddr, (uintptr_t)(src + (runs[i].type == KVM_SEV_SNP_PAGE_TYPE_ZERO ? runs[i].first :
							     runs[i].first + runs[i].n) * 4096));
	}
	snp_fw_guest_digest(snp_ksim_guest(one.k), a);
	snp_fw_guest_digest(snp_ksim_guest(many.k), b);
	ck_assert_mem_eq(a, b, 48);
	ck_assert_mem_eq(one.ram, many.ram, 64 * 4096);
	ck_assert_uint_eq(many.ram[20 * 4096 + 5], 0);                 /* ZERO pages zeroed */
	ck_assert_uint_eq(many.ram[50 * 4096 + 5], src[50 * 4096 + 5]);   /* NORMAL pages copied */
	ksim_world_free(&one);
	ksim_world_free(&many);
	free(src);
}
END_TEST

/*
 * A range KVM stops part way: the pages done are success with the arguments
 * advanced past them and no firmware status, the failing page is the first of
 * the next call and only there an error; a range ends at its slot's end.
 */
START_TEST(snp_ksim_range_resumes_after_a_partial_update)
{
	struct ksim_world w;
	struct kvm_cpuid_entry2 hw[1] = { { .function = 1, .ecx = 0xff } };
	uint8_t *src = aligned_alloc(4096, 8 * 4096), *ram2 = aligned_alloc(4096, 4 * 4096), want[48], got[48];
	struct snp_cpuid_page *t;
	struct kvm_sev_snp_launch_update u;
	struct snp_gctx ref;
	struct cloak_err err = { "" };
	uint32_t fw_error;
	unsigned i;

	ksim_world(&w, true);
	memset(src, 0x3c, 8 * 4096);
	ck_assert_int_eq(snp_ksim_set_attributes(w.k, 0x100000, 64 * 4096, KVM_MEMORY_ATTRIBUTE_PRIVATE, 0), 0);
	/* A signal after 3 pages of 8: 3 done, resumed for the other 5. */
	snp_ksim_test_signal_after(w.k, 3);
	u = (struct kvm_sev_snp_launch_update){ .gfn_start = 0x100, .uaddr = (uintptr_t)src, .len = 8 * 4096,
						.type = KVM_SEV_SNP_PAGE_TYPE_NORMAL };
	fw_error = 0xdead;
	ck_assert_int_eq(snp_ksim_launch_update(w.k, &u, &fw_error), 0);
	ck_assert_uint_eq(fw_error, 0);
	ck_assert_uint_eq(u.gfn_start, 0x103);
	ck_assert_uint_eq(u.len, 5 * 4096);
	ck_assert_uint_eq(u.uaddr, (uintptr_t)(src + 3 * 4096));
	/* A signal before the first page: an error, nothing advanced, no firmware status. */
	snp_ksim_test_signal_after(w.k, 0);
	ck_assert_int_eq(snp_ksim_launch_update(w.k, &u, &fw_error), -EIO);
	ck_assert_uint_eq(fw_error, 0);
	ck_assert_uint_eq(u.gfn_start, 0x103);
	ck_assert_int_eq(snp_ksim_launch_update(w.k, &u, &fw_error), 0);
	ck_assert_uint_eq(u.len, 0);
	ck_assert_uint_eq(u.gfn_start, 0x108);
	/* The digest is the 8 pages', in order, as if each had been its own call. */
	snp_gctx_init(&ref, NULL);
	ck_assert_int_eq(snp_gctx_normal_pages(&ref, 0x100000, src, 8 * 4096, &err), 0);
	snp_fw_guest_digest(snp_ksim_guest(w.k), got);
	memcpy(want, ref.ld, 48);
	ck_assert_mem_eq(got, want, 48);
	/* A page already given in the middle (0x10c): 0x10a-0x10b are done, then the error on the next call. */
	u = (struct kvm_sev_snp_launch_update){ .gfn_start = 0x10c, .len = 4096, .type = KVM_SEV_SNP_PAGE_TYPE_ZERO };
	ck_assert_int_eq(snp_ksim_launch_update(w.k, &u, &fw_error), 0);
	u = (struct kvm_sev_snp_launch_update){ .gfn_start = 0x10a, .len = 4 * 4096, .type = KVM_SEV_SNP_PAGE_TYPE_ZERO };
	ck_assert_int_eq(snp_ksim_launch_update(w.k, &u, &fw_error), 0);
	ck_assert_uint_eq(u.gfn_start, 0x10c);
	ck_assert_uint_eq(u.len, 2 * 4096);
	ck_assert_int_eq(snp_ksim_launch_update(w.k, &u, &fw_error), -EIO);
	ck_assert_uint_eq(u.gfn_start, 0x10c);
	/* A range past its slot's end stops there: the rest is in another slot, a call of its own. */
	ck_assert_int_eq(snp_ksim_set_slot(w.k, 1, 0x140000, 4 * 4096, ram2), 0);
	ck_assert_int_eq(snp_ksim_set_attributes(w.k, 0x140000, 4 * 4096, KVM_MEMORY_ATTRIBUTE_PRIVATE, 0), 0);
	u = (struct kvm_sev_snp_launch_update){ .gfn_start = 0x13e, .len = 4 * 4096, .type = KVM_SEV_SNP_PAGE_TYPE_ZERO };
	ck_assert_int_eq(snp_ksim_launch_update(w.k, &u, &fw_error), 0);
	ck_assert_uint_eq(u.gfn_start, 0x140);
	ck_assert_uint_eq(u.len, 2 * 4096);
	ck_assert_int_eq(snp_ksim_launch_update(w.k, &u, &fw_error), 0);
	ck_assert_uint_eq(u.len, 0);
	/* A CPUID page refused as the second page of a range: the first is done and the corrected page comes back. */
	snp_sim_set_hw_cpuid(w.fw, hw, 1);
	for (i = 0; i < 2; i++) {
		t = (struct snp_cpuid_page *)(src + i * 4096);
		memset(t, 0, 4096);
		t->count = 1;
		t->fn[0] = (struct snp_cpuid_fn){ .eax_in = 1, .ecx = i ? 0x1ff : 0x0f };
	}
	u = (struct kvm_sev_snp_launch_update){ .gfn_start = 0x120, .uaddr = (uintptr_t)src, .len = 2 * 4096,
						.type = KVM_SEV_SNP_PAGE_TYPE_CPUID };
	ck_assert_int_eq(snp_ksim_launch_update(w.k, &u, &fw_error), 0);
	ck_assert_uint_eq(fw_error, 0);   /* a partial update carries no firmware status */
	ck_assert_uint_eq(u.gfn_start, 0x121);
	ck_assert_uint_eq(((struct snp_cpuid_page *)(src + 4096))->fn[0].ecx, 0xff);
	ck_assert_int_eq(snp_ksim_launch_update(w.k, &u, &fw_error), 0);   /* the corrected page is taken */
	ck_assert_uint_eq(u.len, 0);
	ksim_world_free(&w);
	free(src);
	free(ram2);
}
END_TEST

/* A CPUID page asking more than the hardware: the corrected page comes back in the VMM's buffer, as in sev.c. */
START_TEST(snp_ksim_cpuid_page_comes_back_corrected)
{
	struct kvm_cpuid_entry2 hw[1] = { { .function = 1, .ecx = 0xff } };
	struct cloak_err err = { "" };
	struct snp_sim_params p;
	struct snp_sim *fw;
	struct snp_ksim *k;
	struct kvm_sev_init init = { 0 };
	struct kvm_sev_snp_launch_start st = { .policy = POLICY };
	struct kvm_sev_snp_launch_update u;
	struct snp_cpuid_page *t = aligned_alloc(4096, 4096);
	uint8_t *ram = aligned_alloc(4096, 4 * 4096);
	uint32_t fw_error;

	snp_sim_default_params(&p);
	p.hw_cpuid = hw;
	p.hw_ncpuid = 1;
	fw = snp_sim_open(&p, &err);
	k = snp_ksim_open(fw, &err);
	ck_assert_int_eq(snp_ksim_init2(k, &init), 0);
	ck_assert_int_eq(snp_ksim_set_slot(k, 0, 0, 4 * 4096, ram), 0);
	ck_assert_int_eq(snp_ksim_set_attributes(k, 0, 4 * 4096, KVM_MEMORY_ATTRIBUTE_PRIVATE, 0), 0);
	ck_assert_int_eq(snp_ksim_launch_start(k, &st, &fw_error), 0);
	memset(t, 0, 4096);
	t->count = 1;
	t->fn[0] = (struct snp_cpuid_fn){ .eax_in = 1, .ecx = 0x1ff };
	u = (struct kvm_sev_snp_launch_update){ .gfn_start = 3, .uaddr = (uintptr_t)t, .len = 4096,
						.type = KVM_SEV_SNP_PAGE_TYPE_CPUID };
	ck_assert_int_eq(snp_ksim_launch_update(k, &u, &fw_error), -EIO);
	ck_assert_uint_eq(fw_error, SEV_RET_INVALID_PARAM);
	ck_assert_uint_eq(t->fn[0].ecx, 0xff);
	ck_assert_uint_eq(u.gfn_start, 3);   /* nothing advanced */
	ck_assert_int_eq(snp_ksim_launch_update(k, &u, &fw_error), 0);
	snp_ksim_close(k);
	snp_sim_close(fw);
	free(t);
	free(ram);
}
END_TEST

START_TEST(snp_ksim_launch_finish_rules)
{
	struct ksim_world w;
	struct kvm_sev_snp_launch_finish fin = { 0 };
	uint32_t fw_error;

	ksim_world(&w, false);
	ck_assert_int_eq(snp_ksim_launch_finish(w.k, &fin, NULL, 0, &fw_error), -EINVAL);   /* before START */
	ksim_world_free(&w);
	ksim_world(&w, true);
	fin.flags = 1;
	ck_assert_int_eq(snp_ksim_launch_finish(w.k, &fin, NULL, 0, &fw_error), -EINVAL);
	fin.flags = 0;
	fin.id_block_en = 1;   /* an ID block without addresses */
	ck_assert_int_eq(snp_ksim_launch_finish(w.k, &fin, NULL, 0, &fw_error), -EFAULT);
	fin.id_block_en = 0;
	fin.host_data[0] = 0x99;
	ck_assert_int_eq(snp_ksim_launch_finish(w.k, &fin, NULL, 0, &fw_error), 0);
	ck_assert_int_eq(snp_fw_guest_state(snp_ksim_guest(w.k)), SNP_GSTATE_RUNNING);
	ck_assert_int_eq(snp_ksim_launch_finish(w.k, &fin, NULL, 0, &fw_error), -EIO);
	ck_assert_uint_eq(fw_error, SEV_RET_INVALID_GUEST_STATE);
	ksim_world_free(&w);
}
END_TEST

/* The plan's SNP pages: every region page with its type, then the secrets and CPUID pages; the owner's digest. */
START_TEST(snp_plan_pages_of_the_demo)
{
	struct cloak_err err = { "" };
	struct plan_inputs in;
	struct launch_plan plan;
	struct vm_config cfg;
	uint8_t a[48], b[48];

	config_defaults(&cfg);
	cfg.sev = true;
	cfg.sev_mode = SEV_LAUNCH_SNP;
	cfg.cpus = 2;
	ck_assert_int_eq(plan_inputs_open(&in, &cfg, &err), 0);
	in.cbit = PSP_SIM_CBIT;
	in.vmsa = (struct plan_vmsa_inputs){ .on = true, .features = 0x21, .vcpu_sig = 0xa00f11, .fpu_synced = true };
	ck_assert_msg(plan_build(&in, &plan, &err) == 0, "%s", err.msg);
	ck_assert_int_eq(snp_plan_digest(&plan, false, a, &err), 0);
	ck_assert_int_eq(snp_plan_digest(&plan, true, b, &err), 0);
	ck_assert(memcmp(a, b, 48) != 0);   /* the VMSAs count */
	/* A changed byte of a measured region (one the plan owns, so writable) changes the digest. */
	{
		unsigned i;

		const unsigned want = PLAN_MEASURED | PLAN_OWNED;

		for (i = 0; i < plan.nregions && ((plan.regions[i].flags & want) != want || !plan.regions[i].data_len); i++)
			;
		ck_assert_uint_lt(i, plan.nregions);
		((uint8_t *)plan.regions[i].data)[0] ^= 1;
		ck_assert_int_eq(snp_plan_digest(&plan, true, a, &err), 0);
		ck_assert(memcmp(a, b, 48) != 0);
		((uint8_t *)plan.regions[i].data)[0] ^= 1;
	}
	plan_free(&plan);
	plan_inputs_close(&in);
}
END_TEST

Suite *snp_suite(void)
{
	Suite *s = suite_create("snp");
	TCase *t = tcase_create("host_check");

	tcase_add_test(t, host_check_snp_verdicts);
	tcase_add_test(t, host_check_snp_report);
	suite_add_tcase(s, t);
	t = tcase_create("firmware");
	tcase_set_timeout(t, 60);
	tcase_add_test(t, snp_launch_start_policy_rules);
	tcase_add_test(t, snp_policy_reaches_the_report);
	tcase_add_test(t, snp_launch_update_page_types_and_digest);
	tcase_add_test(t, snp_cpuid_page_is_corrected_to_the_hardware);
	tcase_add_test(t, snp_launch_finish_id_block_rules);
	tcase_add_test(t, snp_sim_reports_verify_with_cloak_owner);
	suite_add_tcase(s, t);
	t = tcase_create("kernel_side");
	tcase_add_test(t, snp_ksim_init2_start_and_attributes);
	tcase_add_test(t, snp_ksim_launch_update_rules);
	tcase_add_test(t, snp_ksim_cpuid_page_comes_back_corrected);
	tcase_add_test(t, snp_ksim_ranges_measure_as_pages);
	tcase_add_test(t, snp_cpuid_page_keeps_the_leaves_linux_needs);
	tcase_add_test(t, snp_ksim_range_resumes_after_a_partial_update);
	tcase_add_test(t, snp_ksim_launch_finish_rules);
	tcase_add_test(t, snp_plan_pages_of_the_demo);
	suite_add_tcase(s, t);
	return s;
}
