/* test_owner.c: cloak-owner's OVMF digest against third-party fixtures (sevctl and sev-snp-measure). */
#include "sev_tests.h"

#include "owner.h"

#include <stdio.h>
#include <stdlib.h>

static uint32_t le32(const uint8_t *p)
{
	return (uint32_t)p[0] | (uint32_t)p[1] << 8 | (uint32_t)p[2] << 16 | (uint32_t)p[3] << 24;
}

/* The OVMF footer entries of the sev-snp-measure AmdSev fixture, as published with it (../shared/fixtures). */
START_TEST(footer_table_of_the_amdsev_fixture)
{
	struct cloak_err err = { "" };
	const uint8_t *d;
	size_t len, dl;
	uint8_t *img = fixture("sev-snp-measure/ovmf_AmdSev_suffix.bin", &len);

	ck_assert_int_eq(ovmf_table_find(img, len, OVMF_SEV_HASH_TABLE_GUID, &d, &dl, &err), 1);
	ck_assert_uint_eq(le32(d), 0x810c00);
	ck_assert_uint_eq(le32(d + 4), 0x400);
	ck_assert_int_eq(ovmf_table_find(img, len, OVMF_SEV_SECRET_GUID, &d, &dl, &err), 1);
	ck_assert_uint_eq(le32(d), 0x810000);
	ck_assert_uint_eq(le32(d + 4), 0xc00);
	ck_assert_int_eq(ovmf_table_find(img, len, OVMF_SEV_ES_RESET_GUID, &d, &dl, &err), 1);
	ck_assert_uint_eq(le32(d), 0x80b004);
	ck_assert_int_eq(ovmf_table_find(img, len, "00000000-0000-0000-0000-000000000001", &d, &dl, &err), 0);
	/* A truncated image has no footer where one is looked for. */
	ck_assert_int_eq(ovmf_table_find(img, len - 1, OVMF_SEV_SECRET_GUID, &d, &dl, &err), -1);
	ck_assert_msg_has(err.msg, "footer");
	free(img);
}
END_TEST

START_TEST(plain_ovmf_cannot_measure_a_kernel)
{
	struct cloak_err err = { "" };
	struct ovmf_inputs in = { 0 };
	uint8_t digest[32];
	size_t len;
	uint8_t *img = fixture("sev-snp-measure/ovmf_OvmfX64_suffix.bin", &len);

	in.fw = img;
	in.fwlen = len;
	in.kernel = (const uint8_t *)"k";
	in.klen = 1;
	ck_assert_int_eq(ovmf_launch_digest(&in, digest, &err), -1);
	ck_assert_msg_has(err.msg, "kernel-hashes");
	free(img);
}
END_TEST

/* sevctl's published tests/measurementbuild.rs vectors: same inputs, same MEASURE. */
static void sevctl_vector(uint32_t policy, bool kernel, unsigned ncpus, const char *want_b64)
{
	struct sev_measure_input m = { .api_major = 1, .api_minor = 40, .build = 40, .policy = policy };
	struct cloak_err err = { "" };
	struct ovmf_inputs in = { 0 };
	uint8_t *fw, *tik, *k = NULL, *i = NULL, *v0 = NULL, *v1 = NULL, *nonce, *want, out[32];
	size_t n, tl, wl;

	fw = fixture("sevctl/tests/data/OVMF.amdsev.fd_trimmed_edk2-ovmf-20220126gitbb1bba3d77-4.el9", &in.fwlen);
	in.fw = fw;
	tik = fixture("sevctl/tests/data/measurement/tik1.bin", &tl);
	ck_assert_uint_eq(tl, 16);
	if (kernel) {
		k = fixture("sevctl/tests/data/measurement/vmlinuz-fake", &in.klen);
		i = fixture("sevctl/tests/data/measurement/initrd-fake", &in.ilen);
		in.kernel = k;
		in.initrd = i;
		in.cmdline = "foo bar baz fake kernel=cmdline";
	}
	if (ncpus) {
		v0 = fixture("sevctl/tests/data/vmsa0.bin", &n);
		v1 = fixture("sevctl/tests/data/vmsa1.bin", &n);
		in.ncpus = ncpus;
		in.vmsa0 = v0;
		in.vmsa1 = v1;
	}
	ck_assert_msg(ovmf_launch_digest(&in, m.digest, &err) == 0, "%s", err.msg);
	ck_assert_int_eq(sev_b64_decode("wxP6tRHCFrFQWxsuqZA8QA==", 24, &nonce, &n), 0);
	memcpy(m.mnonce, nonce, 16);
	ck_assert_int_eq(sev_measure_compute(tik, &m, out), 0);
	ck_assert_int_eq(sev_b64_decode(want_b64, strlen(want_b64), &want, &wl), 0);
	ck_assert_mem_eq(out, want, 32);
	free(fw);
	free(tik);
	free(k);
	free(i);
	free(v0);
	free(v1);
	free(nonce);
	free(want);
}

START_TEST(sevctl_firmware_vector)
{
	sevctl_vector(0x3, false, 0, "oMDewIouJSpbpNRHj7Mk3p08H2dPZQdsZMU14qIymBk=");
}
END_TEST

START_TEST(sevctl_kernel_hashes_vector)
{
	sevctl_vector(0x3, true, 0, "h3auYbWQnVW7EGLWN4Hf9SN0oEYMPU2sK4bLnefWPws=");
}
END_TEST

START_TEST(sevctl_sev_es_vmsa_vector)
{
	sevctl_vector(0x5, false, 4, "tsLCcIIPrm3TWcyaOFfvUVEjRLGQzEnGlznRioMOCU4=");
}
END_TEST

/* sevctl's published tests/secretbuild.rs vector. */
START_TEST(sevctl_secret_vector)
{
	struct sev_secret_entry e;
	struct cloak_err err = { "" };
	struct sev_keys k;
	uint8_t *tik, *tek, *blob, *iv, *s1, *table, trans[64], hdr[SEV_SECRET_HDR_LEN];
	char *h64, *p64;
	size_t n, tlen;

	tik = fixture("sevctl/tests/data/secret/tik1.bin", &n);
	tek = fixture("sevctl/tests/data/secret/tek1.bin", &n);
	memcpy(k.tik, tik, 16);
	memcpy(k.tek, tek, 16);
	s1 = fixture("sevctl/tests/data/secret/secret1.txt", &e.len);
	e.data = s1;
	sev_guid_parse("736869e5-84f0-4973-92ec-06879ce3da0b", e.guid);
	ck_assert_int_eq(sev_b64_decode("TLeA7607lZQntLjRY1/i+sbtdSZ+75zxpz4Px9hzpBLwItF5Q2o4prA++3ZZv9ZS", 64, &blob, &n), 0);
	ck_assert_int_eq(sev_b64_decode("rFR07U3TLH2YnsUj2SVZ7A==", 24, &iv, &n), 0);
	ck_assert_int_eq(sev_secret_table_build(&e, 1, &table, &tlen, &err), 0);
	ck_assert_uint_eq(tlen, 64);
	ck_assert_int_eq(sev_secret_wrap(&k, blob, true, iv, table, tlen, hdr, trans, &err), 0);
	h64 = sev_b64_encode(hdr, sizeof(hdr));
	p64 = sev_b64_encode(trans, tlen);
	ck_assert_str_eq(h64, "AAAAAKxUdO1N0yx9mJ7FI9klWey8FSzeYQ4X8K71VzNKLU/KQsIsQxLjtbhaPUewqshX5Q==");
	ck_assert_str_eq(p64, "0U3e5PcXv0UW+H4tSBFKOdCYfKE1+j38Bc2fuO16mYiyI+sWx7INfn+lgYj56GL12yyinDa+lVfCCwD/2w5cPA==");
	free(h64);
	free(p64);
	free(tik);
	free(tek);
	free(s1);
	free(blob);
	free(iv);
	free(table);
}
END_TEST

Suite *owner_suite(void)
{
	Suite *s = suite_create("owner_vectors");
	TCase *t = tcase_create("vectors");

	tcase_add_test(t, footer_table_of_the_amdsev_fixture);
	tcase_add_test(t, plain_ovmf_cannot_measure_a_kernel);
	tcase_add_test(t, sevctl_firmware_vector);
	tcase_add_test(t, sevctl_kernel_hashes_vector);
	tcase_add_test(t, sevctl_sev_es_vmsa_vector);
	tcase_add_test(t, sevctl_secret_vector);
	suite_add_tcase(s, t);
	return s;
}
