/* test_crypto.c: the SEV formats and crypto against published and independently computed vectors. */
#include "sev_tests.h"

#include "sev/sev.h"

#include <openssl/evp.h>
#include <stdlib.h>

static void unhex(const char *h, uint8_t *out)
{
	size_t i;

	for (i = 0; h[2 * i]; i++) {
		unsigned v;

		sscanf(h + 2 * i, "%2x", &v);
		out[i] = (uint8_t)v;
	}
}

/* AMD sev-tool's published --calc_measurement vector (fixtures/README.md). */
START_TEST(measure_matches_the_published_vector)
{
	struct sev_measure_input in = { .api_major = 0, .api_minor = 0x12, .build = 0x0f, .policy = 0 };
	uint8_t tik[16], out[32], want[32];

	unhex("e3b0c44298fc1c149afbf4c8996fb92427ae41e4649b934ca495991b7852b855", in.digest);
	unhex("4fbe0bedbad6c86ae8f68971d103e554", in.mnonce);
	unhex("66320db73158a35a255d051758e95ed4", tik);
	unhex("6faab2daae389bcd3405a05d6cafe33c0414f7bedd0bae19ba5f38b7fd1664ea", want);
	ck_assert_int_eq(sev_measure_compute(tik, &in, out), 0);
	ck_assert_mem_eq(out, want, 32);
}
END_TEST

/* Expected values below were computed with Python's hmac module, not with this code. */
START_TEST(old_firmware_measure_has_no_prefix)
{
	struct sev_measure_input in = { .api_major = 0, .api_minor = 16, .build = 3, .policy = 0x00050001 };
	uint8_t tik[16], out[32], want[32];

	ck_assert(!sev_api_has_measure_prefix(0, 16));
	ck_assert(sev_api_has_measure_prefix(0, 17));
	ck_assert(sev_api_has_measure_prefix(1, 0));
	memset(tik, 0x22, sizeof(tik));
	unhex("4d003a91a493fe00a7030ad2c4fb248cfe2a2f7a183b717a1ef2e7acdd9a0753", want);
	ck_assert_int_eq(sev_measure_compute(tik, &in, out), 0);
	ck_assert_mem_eq(out, want, 32);
}
END_TEST

START_TEST(kdf_matches_an_independent_computation)
{
	uint8_t z[48], nonce[16], master[16], kek[16], kik[16], long_out[40], want[40];
	unsigned i;

	for (i = 0; i < 48; i++)
		z[i] = (uint8_t)i;
	for (i = 0; i < 16; i++)
		nonce[i] = (uint8_t)(100 + i);
	ck_assert_int_eq(sev_kdf(z, 48, "sev-master-secret", nonce, 16, master, 16), 0);
	unhex("ccabb91907d03559c9e025a31e60b4e7", want);
	ck_assert_mem_eq(master, want, 16);
	ck_assert_int_eq(sev_kdf(master, 16, "sev-kek", NULL, 0, kek, 16), 0);
	unhex("6289d3c25e0a733588c82ebaac654391", want);
	ck_assert_mem_eq(kek, want, 16);
	ck_assert_int_eq(sev_kdf(master, 16, "sev-kik", NULL, 0, kik, 16), 0);
	unhex("7c071503383e1463fc6776dfa9785f3e", want);
	ck_assert_mem_eq(kik, want, 16);
	/* More than one HMAC block: the counter goes to 2. */
	ck_assert_int_eq(sev_kdf(z, 48, "x", (const uint8_t *)"ab", 2, long_out, 40), 0);
	unhex("48e90a56ff1b51a6a73cea391df306dce49b25afc9197175e89768458096cd449ed193274b5ca698", want);
	ck_assert_mem_eq(long_out, want, 40);
}
END_TEST

START_TEST(guids_are_mixed_endian)
{
	static const uint8_t want[16] = { 0x42, 0xf5, 0x74, 0x1e, 0xdd, 0x71, 0x66, 0x4d,
					  0x96, 0x3e, 0xef, 0x42, 0x87, 0xff, 0x17, 0x3b };
	uint8_t g[16];
	char s[37];

	ck_assert_int_eq(sev_guid_parse(SEV_SECRET_TABLE_GUID, g), 0);
	ck_assert_mem_eq(g, want, 16);
	sev_guid_format(g, s);
	ck_assert_str_eq(s, SEV_SECRET_TABLE_GUID);
	ck_assert_int_eq(sev_guid_parse("1e74f542-71dd-4d66-963e-ef4287ff173", g), -1);
	ck_assert_int_eq(sev_guid_parse("1e74f542x71dd-4d66-963e-ef4287ff173b", g), -1);
	ck_assert_int_eq(sev_guid_parse("1e74f542-71dd-4d66-963e-ef4287ff17zb", g), -1);
}
END_TEST

START_TEST(base64_round_trips_and_refuses_garbage)
{
	uint8_t data[5] = { 0, 1, 2, 0xfe, 0xff }, *out;
	size_t n;
	char *e = sev_b64_encode(data, sizeof(data));

	ck_assert_str_eq(e, "AAEC/v8=");
	ck_assert_int_eq(sev_b64_decode(" AAEC\n/v8=\n", 11, &out, &n), 0);
	ck_assert_uint_eq(n, 5);
	ck_assert_mem_eq(out, data, 5);
	free(out);
	free(e);
	/* Every failure still sets the outputs, so that callers can free unconditionally. */
	for (unsigned i = 0; i < 3; i++) {
		static const char *const bad[] = { "AAE", "AA=A", "AA*A" };

		out = (uint8_t *)data;  /* what an uninitialised pointer might hold */
		n = 77;
		ck_assert_int_eq(sev_b64_decode(bad[i], strlen(bad[i]), &out, &n), -1);
		ck_assert_msg(out == NULL && n == 0, "'%s': outputs left unset", bad[i]);
		free(out);
	}
	ck_assert_int_eq(sev_b64_decode("", 0, &out, &n), 0);
	ck_assert_uint_eq(n, 0);
	free(out);
}
END_TEST

START_TEST(certs_carry_the_key)
{
	struct cloak_err err = { "" };
	uint8_t cert[SEV_CERT_LEN], z1[48], z2[48];
	EVP_PKEY *a = sev_ec_generate(&err), *b = sev_ec_generate(&err), *pub;

	ck_assert_int_eq(sev_cert_from_key(a, SEV_USAGE_PDH, 1, 55, cert, &err), 0);
	ck_assert_uint_eq(cert[0], 1);
	ck_assert_uint_eq(cert[4], 1);
	ck_assert_uint_eq(cert[5], 55);
	ck_assert_uint_eq(cert[8] | cert[9] << 8, SEV_USAGE_PDH);
	ck_assert_uint_eq(cert[0xc], SEV_ALGO_ECDH_SHA256);
	ck_assert_uint_eq(cert[0x10], SEV_CURVE_P384);
	pub = sev_cert_pubkey(cert, SEV_USAGE_PDH, "cert", &err);
	ck_assert_msg(pub != NULL, "%s", err.msg);
	/* The key in the certificate is a's: ECDH with it agrees with ECDH the other way round. */
	ck_assert_int_eq(sev_ecdh(b, pub, z1, &err), 0);
	EVP_PKEY_free(pub);
	ck_assert_int_eq(sev_cert_from_key(b, SEV_USAGE_PDH, 1, 55, cert, &err), 0);
	pub = sev_cert_pubkey(cert, SEV_USAGE_PDH, "cert", &err);
	ck_assert_int_eq(sev_ecdh(a, pub, z2, &err), 0);
	ck_assert_mem_eq(z1, z2, 48);
	EVP_PKEY_free(pub);
	ck_assert_ptr_null(sev_cert_pubkey(cert, 0x1002, "cert", &err));
	ck_assert_msg_has(err.msg, "usage");
	cert[0x10 + 4 + 60] = 1;  /* beyond the 48 bytes of a P-384 coordinate */
	ck_assert_ptr_null(sev_cert_pubkey(cert, SEV_USAGE_PDH, "cert", &err));
	EVP_PKEY_free(a);
	EVP_PKEY_free(b);
}
END_TEST

START_TEST(session_round_trip)
{
	struct cloak_err err = { "" };
	struct sev_keys k = { { 0 }, { 0 } }, got;
	uint8_t pdh[SEV_CERT_LEN], godh[SEV_CERT_LEN], session[SEV_SESSION_LEN];
	EVP_PKEY *key = sev_ec_generate(&err);

	memset(k.tek, 0xa5, 16);
	memset(k.tik, 0x5a, 16);
	ck_assert_int_eq(sev_cert_from_key(key, SEV_USAGE_PDH, 1, 55, pdh, &err), 0);
	ck_assert_int_eq(sev_session_create(pdh, 0x3, &k, godh, session, &err), 0);
	ck_assert_uint_eq(sev_session_open(key, godh, session, 0x3, &got), 0);
	ck_assert_mem_eq(got.tek, k.tek, 16);
	ck_assert_mem_eq(got.tik, k.tik, 16);
	ck_assert_uint_eq(sev_session_open(key, godh, session, 0x1, &got), SEV_RET_BAD_MEASUREMENT);
	godh[0] = 2;
	ck_assert_uint_eq(sev_session_open(key, godh, session, 0x3, &got), SEV_RET_INVALID_CERTIFICATE);
	pdh[8] = 0x02;
	ck_assert_int_eq(sev_session_create(pdh, 0x3, &k, godh, session, &err), -1);
	ck_assert_msg_has(err.msg, "PDH certificate");
	EVP_PKEY_free(key);
}
END_TEST

START_TEST(secret_table_layout)
{
	struct sev_secret_entry e[2];
	struct cloak_err err = { "" };
	uint8_t *t, guid[16];
	size_t n;

	sev_guid_parse("736869e5-84f0-4973-92ec-06879ce3da0b", e[0].guid);
	e[0].data = (const uint8_t *)"abc";
	e[0].len = 3;
	sev_guid_parse("736869e5-aaaa-4973-92ec-06879ce3da0b", e[1].guid);
	e[1].data = (const uint8_t *)"0123456789";
	e[1].len = 10;
	ck_assert_int_eq(sev_secret_table_build(e, 2, &t, &n, &err), 0);
	ck_assert_uint_eq(n, 80);  /* 20 + 23 + 30 = 73, padded to 80 */
	sev_guid_parse(SEV_SECRET_TABLE_GUID, guid);
	ck_assert_mem_eq(t, guid, 16);
	ck_assert_uint_eq(t[16], 73);
	ck_assert_mem_eq(t + 20, e[0].guid, 16);
	ck_assert_uint_eq(t[36], 23);
	ck_assert_mem_eq(t + 40, "abc", 3);
	ck_assert_mem_eq(t + 43, e[1].guid, 16);
	ck_assert_uint_eq(t[59], 30);
	ck_assert_mem_eq(t + 63, "0123456789", 10);
	ck_assert_uint_eq(t[73] | t[79], 0);
	free(t);

	/* A table KVM would refuse (its LAUNCH_SECRET blobs stop at 16 KiB) is refused here, not at launch. */
	{
		static const uint8_t big[16 * 1024];

		e[0].data = big;
		e[0].len = 16 * 1024 - 40;  /* table header 20 + entry header 20: exactly 16 KiB */
		ck_assert_int_eq(sev_secret_table_build(e, 1, &t, &n, &err), 0);
		ck_assert_uint_eq(n, 16 * 1024);
		free(t);
		e[0].len += 1;
		ck_assert_int_eq(sev_secret_table_build(e, 1, &t, &n, &err), -1);
		ck_assert_msg_has(err.msg, "16384");
	}
}
END_TEST

START_TEST(secret_wrap_unwrap)
{
	struct cloak_err err = { "" };
	struct sev_keys k;
	uint8_t m[32], iv[16], plain[32], trans[32], out[32], hdr[SEV_SECRET_HDR_LEN];

	memset(&k, 3, sizeof(k));
	memset(m, 4, sizeof(m));
	memset(iv, 5, sizeof(iv));
	memset(plain, 'p', sizeof(plain));
	ck_assert_int_eq(sev_secret_wrap(&k, m, true, iv, plain, 32, hdr, trans, &err), 0);
	ck_assert_uint_eq(sev_secret_unwrap(&k, m, true, hdr, trans, 32, 32, out), 0);
	ck_assert_mem_eq(out, plain, 32);
	/* Without the API 0.17 prefix, the MAC leaves MEASURE out: a different MAC. */
	ck_assert_uint_eq(sev_secret_unwrap(&k, m, false, hdr, trans, 32, 32, out), SEV_RET_BAD_MEASUREMENT);
	ck_assert_int_eq(sev_secret_wrap(&k, m, true, iv, plain, 24, hdr, trans, &err), -1);
	ck_assert_msg_has(err.msg, "multiple of 16");
}
END_TEST

Suite *crypto_suite(void)
{
	Suite *s = suite_create("sev_crypto");
	TCase *t = tcase_create("crypto");

	tcase_add_test(t, measure_matches_the_published_vector);
	tcase_add_test(t, old_firmware_measure_has_no_prefix);
	tcase_add_test(t, kdf_matches_an_independent_computation);
	tcase_add_test(t, guids_are_mixed_endian);
	tcase_add_test(t, base64_round_trips_and_refuses_garbage);
	tcase_add_test(t, certs_carry_the_key);
	tcase_add_test(t, session_round_trip);
	tcase_add_test(t, secret_table_layout);
	tcase_add_test(t, secret_wrap_unwrap);
	suite_add_tcase(s, t);
	return s;
}
