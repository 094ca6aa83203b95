/* test_owner_snp_vectors.c: cloak-owner's SEV/SEV-ES/SNP digests against sev-snp-measure's published test vectors. */
#include "sev_tests.h"

#include "owner.h"
#include "snp_digest.h"

#include <stdio.h>
#include <stdlib.h>

#define AMDSEV "sev-snp-measure/ovmf_AmdSev_suffix.bin"
#define OVMFX64 "sev-snp-measure/ovmf_OvmfX64_suffix.bin"
#define EPYC_V4 0x800f12u
#define OVMF_HASH "086e2e9149ebf45abdc3445fba5b2da8270bdbb04094d7a2c37faaa4b24af3aa16aff8c374c2a55c467a50da6d466b74"

/* One case of sev-snp-measure's tests/test_guest.py; kernel and initrd are empty files there (/dev/null). */
struct vector {
	const char *name;
	enum sev_mode mode;
	const char *ovmf;
	unsigned vcpus;
	uint32_t sig;
	bool kernel;
	const char *append;
	uint64_t features;
	enum vmm_type vmm;
	bool seeded;            /* snp_ovmf_hash_str given */
	const char *want;       /* NULL: the launch is refused */
	const char *refusal;
};

static const struct vector vectors[] = {
	{ "test_snp_ovmf_hash_gen_default", SEV_MODE_SNP, AMDSEV, 1, EPYC_V4, true, "", 0x21, VMM_QEMU, true,
	  "329c8ce0972ae52343b64d34a434a86f245dfd74f5ed7aae15d22efc78fb9683632b9b50e4e1d7fa41179ef98a7ef198", NULL },
	{ "test_snp_ovmf_hash_gen_feature_snp_only", SEV_MODE_SNP, AMDSEV, 1, EPYC_V4, true, "", 0x1, VMM_QEMU, true,
	  "ddc5224521617a536ee7ce9dd6224d1b58a8d4fda1c741f3ac99fc4bfa04ba6e9fc98646d4a07a9079397fa3852819b5", NULL },
	{ "test_snp_ovmf_hash_full_default", SEV_MODE_SNP, AMDSEV, 1, EPYC_V4, true, "console=ttyS0 loglevel=7", 0x21,
	  VMM_QEMU, true,
	  "803f691094946e42068aaa3a8f9e26a5c89f36f7b73ecfb28c653360fe4b3aba7e534442e7e1e17895dfe778d0228977", NULL },
	{ "test_snp_ovmf_hash_full_feature_snp_only", SEV_MODE_SNP, AMDSEV, 1, EPYC_V4, true, "console=ttyS0 loglevel=7",
	  0x1, VMM_QEMU, true,
	  "6d287813eb5222d770f75005c664e34c204f385ce832cc2ce7d0d6f354454362f390ef83a92046c042e706363b4b08fa", NULL },
	{ "test_snp_ec2_default", SEV_MODE_SNP, AMDSEV, 1, EPYC_V4, true, "", 0x21, VMM_EC2, false,
	  "0ce9ccc06bab55eebe8abc234f3df6514883977a68a591b71052498ab52b2f1aa415db338033946ef93aa8278c0d67fb", NULL },
	{ "test_snp_ec2_feature_snp_only", SEV_MODE_SNP, AMDSEV, 1, EPYC_V4, true, "", 0x1, VMM_EC2, false,
	  "0883bd0eeb716e65b7b977a321c278d1e51b33b5c655fab985443bbcc65c086b9c15e8a0bd8811050dec7e24964e5056", NULL },
	{ "test_snp_gce_default", SEV_MODE_SNP, AMDSEV, 1, 0, true, "", 0x1, VMM_GCE, false,
	  "5da7106cf14cf46b1725ebab123eb9e53bd46a1e9f400cd0c08e7827b04b688ea8b4e403c8404efed4397ea5d5d0722e", NULL },
	{ "test_snp_gce_with_multiple_vcpus_default", SEV_MODE_SNP, AMDSEV, 4, 0, true, "", 0x1, VMM_GCE, false,
	  "5c5debf100fc339f90276e761ee1f1658d08922c3b20e2a2e6c7a6c3370b2452a15a00eae11886a93d6fd1e7ab81e29d", NULL },
	{ "test_snp_default", SEV_MODE_SNP, AMDSEV, 1, EPYC_V4, true, "console=ttyS0 loglevel=7", 0x21, VMM_QEMU, false,
	  "803f691094946e42068aaa3a8f9e26a5c89f36f7b73ecfb28c653360fe4b3aba7e534442e7e1e17895dfe778d0228977", NULL },
	{ "test_snp_guest_feature_snp_only", SEV_MODE_SNP, AMDSEV, 1, EPYC_V4, true, "console=ttyS0 loglevel=7", 0x1,
	  VMM_QEMU, false,
	  "6d287813eb5222d770f75005c664e34c204f385ce832cc2ce7d0d6f354454362f390ef83a92046c042e706363b4b08fa", NULL },
	{ "test_snp_without_kernel_default", SEV_MODE_SNP, AMDSEV, 1, EPYC_V4, false, NULL, 0x21, VMM_QEMU, false,
	  "e1e1ca029dd7973ab9513295be68198472dcd4fc834bd9af9b63f6e8a1674dbf281a9278a4a2ebe0eed9f22adbcd0e2b", NULL },
	{ "test_snp_without_kernel_feature_snp_only", SEV_MODE_SNP, AMDSEV, 1, EPYC_V4, false, NULL, 0x1, VMM_QEMU, false,
	  "19358ba9a7615534a9a1e2f0dfc29384dcd4dcb7062ff9c6013b26869a5fc6ecabe033c48dd6f6db5d6d76e7c5df632d", NULL },
	{ "test_snp_with_multiple_vcpus_default", SEV_MODE_SNP, AMDSEV, 4, EPYC_V4, true, "", 0x21, VMM_QEMU, false,
	  "4953b1fb416fa874980e8442b3706d345926d5f38879134e00813c5d7abcbe78eafe7b422907be0b4698e2414a631942", NULL },
	{ "test_snp_with_multiple_vcpus_feature_snp_only", SEV_MODE_SNP, AMDSEV, 4, EPYC_V4, true, "", 0x1, VMM_QEMU, false,
	  "5061fffb019493a903613d56d54b94912a1a2f9e4502385f5c194616753720a92441310ba6c4933de877c36e23046ad5", NULL },
	{ "test_snp_with_ovmfx64_without_default", SEV_MODE_SNP, OVMFX64, 1, EPYC_V4, false, NULL, 0x21, VMM_QEMU, false,
	  "28797ae0afaba4005a81e629acebfb59e6687949d6be44007cd5506823b0dd66f146aaae26ff291eed7b493d8a64c385", NULL },
	{ "test_snp_with_ovmfx64_without_kernel_feature_snp_only", SEV_MODE_SNP, OVMFX64, 1, EPYC_V4, false, NULL, 0x1,
	  VMM_QEMU, false,
	  "da0296de8193586a5512078dcd719eccecbd87e2b825ad4148c44f665dc87df21e5b49e21523a9ad993afdb6a30b4005", NULL },
	{ "test_snp_with_ovmfx64_and_kernel_should_fail", SEV_MODE_SNP, OVMFX64, 1, EPYC_V4, true, "", 0x21, VMM_QEMU,
	  false, NULL, "SNP_KERNEL_HASHES" },
	{ "test_seves", SEV_MODE_ES, AMDSEV, 1, EPYC_V4, true, "", 0x1, VMM_QEMU, false,
	  "13810ae661ea11e2bb205621f582fee268f0367c8f97bc297b7fadef3e12002c", NULL },
	{ "test_seves_with_multiple_vcpus", SEV_MODE_ES, AMDSEV, 4, EPYC_V4, true, "", 0x21, VMM_QEMU, false,
	  "0dccbcaba8e90b261bd0d2e1863a2f9da714768b7b2a19363cd6ae35aa90de91", NULL },
	{ "test_seves_with_ovmfx64_and_kernel_should_fail", SEV_MODE_ES, OVMFX64, 1, 0, true, "", 0x21, VMM_QEMU, false,
	  NULL, "kernel-hashes" },
	{ "test_sev", SEV_MODE_SEV, AMDSEV, 1, 0, true, "console=ttyS0 loglevel=7", 0x21, VMM_QEMU, false,
	  "82a3ee5d537c3620628270c292ae30cb40c3c878666a7890ee7ef2a08fb535ff", NULL },
	{ "test_sev_with_kernel_without_initrd_and_append", SEV_MODE_SEV, AMDSEV, 1, 0, true, NULL, 0x21, VMM_QEMU, false,
	  "77f613d7bbcdf12a73782ea9e88b0172aeda50d1a54201cb903594ff52846898", NULL },
	{ "test_sev_with_ovmfx64_and_kernel_should_fail", SEV_MODE_SEV, OVMFX64, 1, 0, true, "", 0x21, VMM_QEMU, false,
	  NULL, "kernel-hashes" },
	{ "test_sev_with_ovmfx64_without_kernel", SEV_MODE_SEV, OVMFX64, 1, 0, false, NULL, 0x21, VMM_QEMU, false,
	  "b4c021e085fb83ceffe6571a3d357b4a98773c83c474e47f76c876708fe316da", NULL },
};

static void unhex(const char *s, uint8_t *out, size_t n)
{
	size_t i;

	ck_assert_uint_eq(strlen(s), 2 * n);
	for (i = 0; i < n; i++) {
		unsigned v;

		ck_assert_int_eq(sscanf(s + 2 * i, "%2x", &v), 1);
		out[i] = (uint8_t)v;
	}
}

START_TEST(sev_snp_measure_vector)
{
	const struct vector *v = &vectors[_i];
	struct cloak_err err = { "" };
	struct guest_launch l = { 0 };
	struct ovmf_info o;
	uint8_t seed[48], got[48];
	char hex[97];
	size_t len;
	uint8_t *img = fixture(v->ovmf, &len);
	int n;

	ck_assert_msg(ovmf_info_parse(img, len, &o, &err) == 0, "%s", err.msg);
	l.mode = v->mode;
	l.ovmf = &o;
	l.vcpus = v->mode == SEV_MODE_SEV ? 0 : v->vcpus;
	l.vcpu_sig = v->sig;
	l.guest_features = v->features;
	l.vmm = v->vmm;
	if (v->kernel) {
		/* An empty kernel and initrd, as /dev/null gives them. */
		l.kernel = (const uint8_t *)"";
		l.initrd = (const uint8_t *)"";
	}
	l.cmdline = v->append;
	if (v->seeded) {
		unhex(OVMF_HASH, seed, 48);
		l.ovmf_seed = seed;
	}
	n = guest_launch_digest(&l, got, &err);
	if (!v->want) {
		ck_assert_msg(n == -1, "%s: sev-snp-measure refuses this launch", v->name);
		ck_assert_msg_has(err.msg, v->refusal);
	} else {
		ck_assert_msg(n > 0, "%s: %s", v->name, err.msg);
		sev_hex(got, (size_t)n, hex);
		ck_assert_msg(!strcmp(hex, v->want), "%s: got %s, sev-snp-measure publishes %s", v->name, hex, v->want);
	}
	free(img);
}
END_TEST

/* test_snp_ovmf_hash_full_*: the OVMF's own SNP digest. */
START_TEST(sev_snp_measure_ovmf_hash)
{
	struct cloak_err err = { "" };
	struct ovmf_info o;
	uint8_t got[48];
	char hex[97];
	size_t len;
	uint8_t *img = fixture(AMDSEV, &len);

	ck_assert_int_eq(ovmf_info_parse(img, len, &o, &err), 0);
	ck_assert_int_eq(snp_ovmf_digest(&o, got, &err), 0);
	sev_hex(got, 48, hex);
	ck_assert_str_eq(hex, OVMF_HASH);
	free(img);
}
END_TEST

Suite *owner_snp_vectors_suite(void)
{
	Suite *s = suite_create("owner_snp_vectors");
	TCase *t = tcase_create("sev_snp_measure");

	tcase_add_loop_test(t, sev_snp_measure_vector, 0, (int)(sizeof(vectors) / sizeof(vectors[0])));
	tcase_add_test(t, sev_snp_measure_ovmf_hash);
	suite_add_tcase(s, t);
	return s;
}
