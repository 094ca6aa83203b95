/* test_owner_interop.c: cloak-owner on data shaped like AMD's real chains and reports (made here), as docs/owner-interop.md lists. */
#include "amd_test_certs.h"
#include "owner_harness.h"

#include "sev/amd_cert.h"
#include "sev/snp_report.h"

#include <check.h>
#include <openssl/evp.h>
#include <openssl/x509.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#define ck_assert_has(hay, needle) \
	ck_assert_msg(strstr((hay), (needle)) != NULL, "\"%s\" lacks \"%s\"", (hay), (needle))
#define ck_assert_lacks(hay, needle) \
	ck_assert_msg(strstr((hay), (needle)) == NULL, "\"%s\" has \"%s\"", (hay), (needle))

/* What snp_report_print prints for r, as a string. */
static char *shown(const struct snp_report *r)
{
	char *buf = NULL;
	size_t n = 0;
	FILE *f = open_memstream(&buf, &n);

	ck_assert_ptr_nonnull(f);
	snp_report_print(r, f);
	fclose(f);
	return buf;
}

static void write_file(const char *path, const void *d, size_t n)
{
	FILE *f = fopen(path, "wb");

	ck_assert_ptr_nonnull(f);
	ck_assert_uint_eq(fwrite(d, 1, n, f), n);
	fclose(f);
}

/* ---- the report layouts of versions 2, 3 and 5 ---- */

/* A report as firmware of `version` writes it: the CPUID bytes from v3, the mitigation vectors from v5. */
static void report_of_version(struct snp_report *r, uint32_t version, uint8_t fam, uint8_t model)
{
	memset(r, 0, sizeof(*r));
	r->version = version;
	r->policy = 0x30000;
	r->signature_algo = SNP_SIG_ALGO_ECDSA_P384_SHA384;
	r->current_tcb = r->reported_tcb = r->committed_tcb = r->launch_tcb = 0xdb18000000000004ull;
	memset(r->measurement, 0x5a, sizeof(r->measurement));
	memset(r->chip_id, 0xc1, sizeof(r->chip_id));
	if (version >= 3) {
		r->cpuid_fam_id = fam;
		r->cpuid_mod_id = model;
		r->cpuid_step = 1;
	}
	if (version >= 5) {
		r->launch_mit_vector = 0xb;
		r->current_mit_vector = 0xd;
	}
}

START_TEST(report_layouts_per_version)
{
	const uint8_t *raw;
	struct snp_report r;
	char *s;

	/* The mitigation vectors sit at 0x1f8 and 0x200 of a version 5 report. */
	report_of_version(&r, 5, 0x19, 0x01);
	raw = (const uint8_t *)&r;
	ck_assert_uint_eq(raw[0x1f8], 0xb);
	ck_assert_uint_eq(raw[0x200], 0xd);
	ck_assert_uint_eq(raw[0x188], 0x19);
	s = shown(&r);
	ck_assert_has(s, "launch_mit_vector    0xb\n");
	ck_assert_has(s, "current_mit_vector   0xd\n");
	ck_assert_has(s, "cpuid                family 0x19, model 0x1, stepping 0x1 (Milan)\n");
	free(s);
	/* Version 3: the CPUID bytes, no mitigation vectors (those bytes are reserved there). */
	report_of_version(&r, 3, 0x19, 0x11);
	s = shown(&r);
	ck_assert_has(s, "(Genoa)");
	ck_assert_lacks(s, "mit_vector");
	free(s);
	/* Version 2: neither. */
	report_of_version(&r, 2, 0, 0);
	s = shown(&r);
	ck_assert_lacks(s, "cpuid");
	ck_assert_lacks(s, "mit_vector");
	ck_assert_ptr_null(snp_report_product(&r));
	free(s);
	/* Turin (family 0x1a) lays its TCB out with FMC first. */
	report_of_version(&r, 5, 0x1a, 0x02);
	r.reported_tcb = 0x4700000002000100ull;
	s = shown(&r);
	ck_assert_has(s, "reported_tcb         0x4700000002000100 (fmc 0, bootloader 1, tee 0, snp 2, microcode 71)\n");
	ck_assert_has(s, "(Turin)");
	free(s);
}
END_TEST

START_TEST(policy_and_platform_bits_named)
{
	struct snp_report r;
	char *s;

	report_of_version(&r, 5, 0x19, 0x01);
	/* Real Milan and Turin reports carry 0x25 and 0x67: ECC and the alias check beside SMT. */
	r.platform_info = 0x67;
	r.policy = 0x30000 | 1ull << 19 | 1ull << 24 | 1ull << 25 | 1ull << 40;
	s = shown(&r);
	ck_assert_has(s, "platform_info        0x67 (SMT enabled, TSME enabled, ECC memory, alias check complete, "
			 "unknown bits 0x40)\n");
	ck_assert_has(s, "DEBUG ALLOWED, ciphertext hiding required, page swap disabled, unknown bits 0x10000000000)");
	free(s);
	r.platform_info = 0;
	r.policy = 0x30000;
	s = shown(&r);
	ck_assert_has(s, "platform_info        0x0 (none)\n");
	ck_assert_has(s, "policy               0x30000 (ABI 0.0; SMT allowed)\n");
	free(s);
	/* SIGNING_KEY 1 is a VLEK, 7 no key. */
	r.flags = 1u << 2;
	ck_assert_uint_eq(snp_report_signing_key(&r), SNP_SIGNING_KEY_VLEK);
	s = shown(&r);
	ck_assert_has(s, "signed by VLEK)");
	free(s);
	r.flags = 7u << 2;
	s = shown(&r);
	ck_assert_has(s, "signed by no key)");
	free(s);
}
END_TEST

/* ---- ECDSA signatures whose r or s has leading zero bytes ---- */

START_TEST(report_signature_with_leading_zeros)
{
	struct cloak_err err = { "" };
	EVP_PKEY *vcek = EVP_EC_gen("P-384");
	struct snp_report r;
	int tries, got = 0;

	ck_assert_ptr_nonnull(vcek);
	report_of_version(&r, 3, 0x19, 0x11);
	/*
	 * One signature in 256 has an r (or s) whose top byte is zero: 47 bytes of
	 * value, zero-padded to the 72-byte field. A DER or fixed-width conversion
	 * that drops or keeps the wrong zeros breaks exactly these.
	 */
	for (tries = 0; tries < 4000 && got != 3; tries++) {
		r.report_data[0] = (uint8_t)tries;
		r.report_data[1] = (uint8_t)(tries >> 8);
		ck_assert_int_eq(amd_ecdsa_sign_le(vcek, EVP_sha384(), (const uint8_t *)&r, SNP_REPORT_SIGNED_LEN, r.sig_r,
						   r.sig_s, SNP_SIG_FIELD_LEN, &err), 0);
		if (r.sig_r[47] != 0 && r.sig_s[47] != 0)
			continue;
		got |= r.sig_r[47] == 0 ? 1 : 2;
		ck_assert_msg(snp_report_verify_sig(&r, vcek, &err) == 0, "%s", err.msg);
		r.measurement[0] ^= 1;
		ck_assert_int_eq(snp_report_verify_sig(&r, vcek, &err), 1);
		r.measurement[0] ^= 1;
		/* A nonzero byte past the 48 of a P-384 value makes another number: refused. */
		r.sig_r[48] = 1;
		ck_assert_int_eq(snp_report_verify_sig(&r, vcek, &err), 1);
		r.sig_r[48] = 0;
	}
	ck_assert_msg(got == 3, "no signature with a leading zero in both r and s after %d tries", tries);
	EVP_PKEY_free(vcek);
}
END_TEST

/* ---- the AMD-signed format with AMD's parameters: 4096-bit RSA-PSS, SHA-384, MGF1 SHA-384, salt 48 ---- */

START_TEST(amd_format_ca_4096_pss_sha384)
{
	static uint8_t ark[AMD_CA_CERT_LEN(4096)], ask[AMD_CA_CERT_LEN(4096)];
	struct cloak_err err = { "" };
	struct amd_signer s;
	EVP_PKEY *k = EVP_RSA_gen(4096);

	ck_assert_ptr_nonnull(k);
	/* One key for both keeps the test quick; what is checked is the format and the padding. */
	ca_cert_make(ark, 4096, AMD_USAGE_ARK, k, 0xa1, k, 0xa1, 48);
	ca_cert_make(ask, 4096, AMD_USAGE_ASK, k, 0xa2, k, 0xa1, 48);
	ck_assert_msg(amd_ca_cert_signer(ark, sizeof(ark), &s, &err) == 0, "%s", err.msg);
	ck_assert_ptr_eq(s.md, EVP_sha384());
	ck_assert_msg(amd_ca_cert_verify(&s, ark, sizeof(ark), &err) == 0, "%s", err.msg);
	ck_assert_msg(amd_ca_cert_verify(&s, ask, sizeof(ask), &err) == 0, "%s", err.msg);
	ck_assert(amd_ca_cert_signed(ask, sizeof(ask)));
	/* Not one of AMD's keys. */
	ck_assert_ptr_null(amd_ca_cert_product(ark, sizeof(ark)));
	/* Another salt length is another padding: refused. */
	ca_cert_make(ask, 4096, AMD_USAGE_ASK, k, 0xa2, k, 0xa1, 32);
	ck_assert_int_eq(amd_ca_cert_verify(&s, ask, sizeof(ask), &err), -1);
	ck_assert_has(err.msg, "RSA-PSS signature does not verify");
	/* An ASK naming another ARK's key ID: the message says what likely happened. */
	ca_cert_make(ask, 4096, AMD_USAGE_ASK, k, 0xa2, k, 0xb7, 48);
	ck_assert_int_eq(amd_ca_cert_verify(&s, ask, sizeof(ask), &err), -1);
	ck_assert_has(err.msg, "b7b7b7b7b7b7b7b7b7b7b7b7b7b7b7b7");
	ck_assert_has(err.msg, "different products");
	/* A certificate that stops after its modulus holds a key but no signature. */
	ck_assert(!amd_ca_cert_signed(ark, 64 + 2 * 512));
		ck_assert_int_eq(amd_ca_cert_verify(&s, ark, 64 + 2 * 512, &err), -1);
	ck_assert_has(err.msg, "holds no signature");
	amd_signer_free(&s);
	EVP_PKEY_free(k);
}
END_TEST

/* ---- a whole SEV platform chain, with 2048-bit ARK and ASK as Naples has them ---- */

/*
 * AMD first published the Naples ARK without its signature (the header,
 * exponent and modulus only). Such an ARK is taken only when its key is one
 * of AMD's published roots; a made-up one is refused at the link it breaks,
 * where it used to be refused as a file of the wrong size.
 */
START_TEST(sev_chain_unsigned_ark)
{
	static uint8_t ark[AMD_CA_CERT_LEN(2048)], ask[AMD_CA_CERT_LEN(2048)], cek[AMD_SEV_CERT_LEN], oca[AMD_SEV_CERT_LEN],
		pek[AMD_SEV_CERT_LEN], pdh[AMD_SEV_CERT_LEN];
	EVP_PKEY *ark_k = EVP_RSA_gen(2048), *ask_k = EVP_RSA_gen(2048), *oca_k = EVP_RSA_gen(2048);
	EVP_PKEY *cek_k = EVP_EC_gen("P-384"), *pek_k = EVP_EC_gen("P-384"), *pdh_k = EVP_EC_gen("P-384");
	struct amd_sev_chain c = { ark, ask, cek, oca, pek, pdh, sizeof(ark), sizeof(ask) };
	struct cloak_err err = { "" };
	char *out = NULL;
	size_t n = 0;
	FILE *f;

	ck_assert(ark_k && ask_k && oca_k && cek_k && pek_k && pdh_k);
	ca_cert_make(ark, 2048, AMD_USAGE_ARK, ark_k, 0xa1, ark_k, 0xa1, 32);
	ca_cert_make(ask, 2048, AMD_USAGE_ASK, ask_k, 0xa2, ark_k, 0xa1, 32);
	sev_cert_make(cek, AMD_USAGE_CEK, AMD_ALGO_ECDSA_SHA256, cek_k);
	sev_cert_sign(cek, 0, AMD_USAGE_ASK, AMD_ALGO_RSA_SHA256, ask_k);
	sev_cert_make(oca, AMD_USAGE_OCA, AMD_ALGO_RSA_SHA256, oca_k);
	sev_cert_sign(oca, 0, AMD_USAGE_OCA, AMD_ALGO_RSA_SHA256, oca_k);
	sev_cert_make(pek, AMD_USAGE_PEK, AMD_ALGO_ECDSA_SHA256, pek_k);
	sev_cert_sign(pek, 0, AMD_USAGE_OCA, AMD_ALGO_RSA_SHA256, oca_k);
	sev_cert_sign(pek, 1, AMD_USAGE_CEK, AMD_ALGO_ECDSA_SHA256, cek_k);
	sev_cert_make(pdh, AMD_USAGE_PDH, AMD_ALGO_ECDH_SHA256, pdh_k);
	sev_cert_sign(pdh, 0, AMD_USAGE_PEK, AMD_ALGO_ECDSA_SHA256, pek_k);
	f = open_memstream(&out, &n);
	ck_assert_msg(amd_sev_chain_verify(&c, f, &err) == 0, "%s", err.msg);
	fclose(f);
	ck_assert_has(out, "NOT one of AMD's published SEV roots");
	free(out);
	/* Without its signature, a root that is not AMD's has nothing to stand on. */
	c.ark_len = 64 + 2 * 256;
	ck_assert_int_eq(amd_sev_chain_verify(&c, NULL, &err), 1);
	ck_assert_has(err.msg, "ARK is self-signed");
	ck_assert_has(err.msg, "holds no signature");
	/* An ASK must carry its signature whatever its ARK. */
	c.ark_len = sizeof(ark);
	c.ask_len = 64 + 2 * 256;
	ck_assert_int_eq(amd_sev_chain_verify(&c, NULL, &err), 1);
	ck_assert_has(err.msg, "ARK signs ASK");
	/* AMD's ask_ark_<product>.cert holds the ASK then the ARK; either role takes its own from the pair. */
	{
		static uint8_t pair[2 * AMD_CA_CERT_LEN(2048)];
		size_t off = 99, len = 0;

		memcpy(pair, ask, sizeof(ask));
		memcpy(pair + sizeof(ask), ark, sizeof(ark));
		ck_assert_int_eq(amd_ca_cert_pick(pair, sizeof(pair), AMD_USAGE_ARK, &off, &len), 1);
		ck_assert_uint_eq(off, sizeof(ask));
		ck_assert_uint_eq(len, sizeof(ark));
		ck_assert_int_eq(amd_ca_cert_pick(pair, sizeof(pair), AMD_USAGE_ASK, &off, &len), 1);
		ck_assert_uint_eq(off, 0);
		ck_assert_int_eq(amd_ca_cert_pick(pair, sizeof(pair), AMD_USAGE_CEK, &off, &len), 0);
		ck_assert_uint_eq(len, sizeof(pair));
		ck_assert_int_eq(amd_ca_cert_pick(pair, sizeof(pair) - 1, AMD_USAGE_ARK, &off, &len), 0);
		/* The command line takes that one file for both --ark and --ask. */
		{
			char said[4096], p[6][128];
			const uint8_t *certs[6] = { pair, cek, oca, pek, pdh, NULL };
			const size_t lens[5] = { sizeof(pair), AMD_SEV_CERT_LEN, AMD_SEV_CERT_LEN, AMD_SEV_CERT_LEN,
						 AMD_SEV_CERT_LEN };
			int i;

			for (i = 0; i < 5; i++) {
				snprintf(p[i], sizeof(p[i]), "%s/c%d", test_dir, i);
				write_file(p[i], certs[i], lens[i]);
			}
			ck_assert_msg(owner_run(said, sizeof(said), "verify --ark %s --ask %s --cek %s --oca %s --pek %s --pdh %s",
					    p[0], p[0], p[1], p[2], p[3], p[4]) == 0, "%s", said);
		}
	}
	/* An ASK of another product (its signature by another ARK, another key ID) is named as such. */
	c.ask_len = sizeof(ask);
	ca_cert_make(ask, 2048, AMD_USAGE_ASK, ask_k, 0xa2, oca_k, 0xb3, 32);
	ck_assert_int_eq(amd_sev_chain_verify(&c, NULL, &err), 1);
	ck_assert_has(err.msg, "different products");
	EVP_PKEY_free(ark_k);
	EVP_PKEY_free(ask_k);
	EVP_PKEY_free(oca_k);
	EVP_PKEY_free(cek_k);
	EVP_PKEY_free(pek_k);
	EVP_PKEY_free(pdh_k);
}
END_TEST

/* ---- X.509 chains as AMD's KDS serves them: VCEK, VLEK, ASK, ASVK, ARK ---- */

struct kds {
	EVP_PKEY *ark_key, *ask_key, *asvk_key, *vcek_key, *vlek_key;
	X509 *ark, *ask, *asvk, *vcek, *vlek;
	struct snp_report vcek_report, vlek_report;
};

/* The TCB SPLs every leaf carries; Turin adds FMC (3.9). */
static void spl_exts(X509 *c, const struct snp_tcb *t, bool turin)
{
	x509_ext_int(c, "1.3.6.1.4.1.3704.1.3.1", t->bootloader);
	x509_ext_int(c, "1.3.6.1.4.1.3704.1.3.2", t->tee);
	x509_ext_int(c, "1.3.6.1.4.1.3704.1.3.3", t->snp);
	x509_ext_int(c, "1.3.6.1.4.1.3704.1.3.8", t->microcode);
	if (turin)
		x509_ext_int(c, "1.3.6.1.4.1.3704.1.3.9", t->fmc);
}

/* A Turin-shaped world: 8-byte hardware ID, FMC SPL, version 5 reports; a VLEK chain beside the VCEK one. */
static void kds_make(struct kds *k)
{
	struct cloak_err err = { "" };
	struct snp_tcb t;

	memset(k, 0, sizeof(*k));
	k->ark_key = EVP_RSA_gen(2048);
	k->ask_key = EVP_RSA_gen(2048);
	k->asvk_key = EVP_RSA_gen(2048);
	k->vcek_key = EVP_EC_gen("P-384");
	k->vlek_key = EVP_EC_gen("P-384");
	ck_assert(k->ark_key && k->ask_key && k->asvk_key && k->vcek_key && k->vlek_key);
	k->ark = x509_make("ARK-Test", k->ark_key, "ARK-Test", 1);
	k->ask = x509_make("SEV-Test", k->ask_key, "ARK-Test", 2);
	k->asvk = x509_make("SEV-VLEK-Test", k->asvk_key, "ARK-Test", 3);
	k->vcek = x509_make("SEV-VCEK", k->vcek_key, "SEV-Test", 4);
	k->vlek = x509_make("SEV-VLEK", k->vlek_key, "SEV-VLEK-Test", 5);
	report_of_version(&k->vcek_report, 5, 0x1a, 0x02);
	k->vcek_report.reported_tcb = 0x4700000002000105ull;
	memset(k->vcek_report.chip_id + 8, 0, 56);   /* Turin reports zero the chip ID past its 8 bytes */
	snp_tcb_decode(k->vcek_report.reported_tcb, true, &t);
	ck_assert_uint_eq(t.fmc, 5);
	x509_ext_raw(k->vcek, "1.3.6.1.4.1.3704.1.4", k->vcek_report.chip_id, 8);
	spl_exts(k->vcek, &t, true);
	k->vlek_report = k->vcek_report;
	k->vlek_report.flags = SNP_SIGNING_KEY_VLEK << 2;
	spl_exts(k->vlek, &t, true);   /* a VLEK has no hardware ID, but its cloud provider's ID (an IA5String) */
	x509_ext_raw(k->vlek, "1.3.6.1.4.1.3704.1.5", (const uint8_t *)"\x16\x0b" "CN=test-csp", 13);
	x509_sign(k->ark, k->ark_key, true);
	x509_sign(k->ask, k->ark_key, true);
	x509_sign(k->asvk, k->ark_key, true);
	x509_sign(k->vcek, k->ask_key, true);
	x509_sign(k->vlek, k->asvk_key, true);
	ck_assert_int_eq(amd_ecdsa_sign_le(k->vcek_key, EVP_sha384(), (const uint8_t *)&k->vcek_report,
					   SNP_REPORT_SIGNED_LEN, k->vcek_report.sig_r, k->vcek_report.sig_s,
					   SNP_SIG_FIELD_LEN, &err), 0);
	ck_assert_int_eq(amd_ecdsa_sign_le(k->vlek_key, EVP_sha384(), (const uint8_t *)&k->vlek_report,
					   SNP_REPORT_SIGNED_LEN, k->vlek_report.sig_r, k->vlek_report.sig_s,
					   SNP_SIG_FIELD_LEN, &err), 0);
}

static void kds_free(struct kds *k)
{
	EVP_PKEY_free(k->ark_key);
	EVP_PKEY_free(k->ask_key);
	EVP_PKEY_free(k->asvk_key);
	EVP_PKEY_free(k->vcek_key);
	EVP_PKEY_free(k->vlek_key);
	X509_free(k->ark);
	X509_free(k->ask);
	X509_free(k->asvk);
	X509_free(k->vcek);
	X509_free(k->vlek);
}

/* Writes the certificates (NULL-terminated) as one PEM file in the test's directory and returns its path. */
static const char *pem_file(const char *name, ...)
{
	static char paths[8][128];
	static int next;
	char *path = paths[next++ % 8];
	va_list ap;

	test_path(path, 128, name);
	va_start(ap, name);
	pem_vwrite(path, ap);
	va_end(ap);
	return path;
}

static const char *report_file(const char *name, const struct snp_report *r)
{
	static char path[128];

	test_path(path, sizeof(path), name);
	write_file(path, r, sizeof(*r));
	return path;
}

START_TEST(vlek_signed_report_verified_with_asvk_chain)
{
	char out[8192];
	struct kds k;
	const char *vlek_ca, *bundle, *vcek_ca, *rep, *vlek_pem, *vcek_pem;

	kds_make(&k);
	vlek_ca = pem_file("vlek_chain.pem", k.asvk, k.ark, NULL);
	bundle = pem_file("ask_ark_asvk.pem", k.ask, k.ark, k.asvk, NULL);
	vcek_ca = pem_file("vcek_chain.pem", k.ask, k.ark, NULL);
	vlek_pem = pem_file("vlek.pem", k.vlek, NULL);
	vcek_pem = pem_file("vcek.pem", k.vcek, NULL);
	rep = report_file("vlek_report.bin", &k.vlek_report);
	/* KDS's VLEK cert_chain (ASVK, ARK) vouches for the VLEK, which signed the report. */
	ck_assert_msg(owner_run(out, sizeof(out), "report verify --allow-unknown-ark --ca %s --vlek %s --report %s", vlek_ca,
			    vlek_pem, rep) == 0, "%s", out);
	ck_assert_has(out, "ARK signs ASVK         ok");
	ck_assert_has(out, "ASVK signs VLEK        ok");
	ck_assert_has(out, "VLEK is this chip's    skipped: a VLEK belongs to a cloud provider (CSP ID CN=test-csp)");
	ck_assert_has(out, "VLEK signs report      ok");
	/* The ASK, ARK and ASVK bundle some verifiers keep works the same; --vcek takes a VLEK too. */
	ck_assert_msg(owner_run(out, sizeof(out), "report verify --allow-unknown-ark --ca %s --vcek %s --report %s", bundle,
			    vlek_pem, rep) == 0, "%s", out);
	/* The VCEK chain holds no ASVK: named. */
	ck_assert_int_eq(owner_run(out, sizeof(out), "report verify --allow-unknown-ark --ca %s --vlek %s --report %s",
			       vcek_ca, vlek_pem, rep), 1);
	ck_assert_has(out, "no ASVK");
	/* A VLEK-signed report with the chip's VCEK: the report's SIGNING_KEY says it is the wrong key. */
	ck_assert_int_eq(owner_run(out, sizeof(out), "report verify --allow-unknown-ark --ca %s --vcek %s --report %s",
			       bundle, vcek_pem, rep), 1);
	ck_assert_has(out, "SIGNING_KEY 1");
	/* A flipped byte of the signed body or of the signature is refused. */
	k.vlek_report.measurement[3] ^= 1;
	rep = report_file("vlek_report_bad.bin", &k.vlek_report);
	ck_assert_int_eq(owner_run(out, sizeof(out), "report verify --allow-unknown-ark --ca %s --vlek %s --report %s",
			       vlek_ca, vlek_pem, rep), 1);
	ck_assert_has(out, "VLEK signs report      INVALID");
	k.vlek_report.measurement[3] ^= 1;
	k.vlek_report.sig_s[10] ^= 1;
	rep = report_file("vlek_report_bad2.bin", &k.vlek_report);
	ck_assert_int_eq(owner_run(out, sizeof(out), "report verify --allow-unknown-ark --ca %s --vlek %s --report %s",
			       vlek_ca, vlek_pem, rep), 1);
	/* A report signed by no key (SIGNING_KEY 7) has nothing to check: an input error, named. */
	k.vlek_report.flags = 7u << 2;
	rep = report_file("nokey_report.bin", &k.vlek_report);
	ck_assert_int_eq(owner_run(out, sizeof(out), "report verify --allow-unknown-ark --ca %s --vlek %s --report %s",
			       vlek_ca, vlek_pem, rep), 2);
	ck_assert_has(out, "SIGNING_KEY 7");
	kds_free(&k);
}
END_TEST

START_TEST(turin_vcek_bundles_and_wrong_product)
{
	char out[8192];
	struct kds k;
	const char *ca, *with_vcek, *rep, *vcek_pem, *other_ca;
	EVP_PKEY *other_key;
	X509 *other_ask;

	kds_make(&k);
	ca = pem_file("cert_chain.pem", k.ask, k.ark, NULL);
	with_vcek = pem_file("vcek_ask_ark.pem", k.vcek, k.ask, k.ark, NULL);
	vcek_pem = pem_file("vcek.pem", k.vcek, NULL);
	rep = report_file("report.bin", &k.vcek_report);
	/* An 8-byte hardware ID (Turin) and the FMC SPL match a version 5 Turin report. */
	ck_assert_msg(owner_run(out, sizeof(out), "report verify --allow-unknown-ark --ca %s --vcek %s --report %s", ca,
			    vcek_pem, rep) == 0, "%s", out);
	ck_assert_has(out, "VCEK is this chip's    ok");
	ck_assert_has(out, "VCEK is for this TCB   ok");
	/* A bundle of VCEK, ASK and ARK needs no --vcek. */
	ck_assert_msg(owner_run(out, sizeof(out), "report verify --allow-unknown-ark --ca %s --report %s", with_vcek, rep) == 0,
		      "%s", out);
	/* Another FMC SPL: another TCB's VCEK. */
	k.vcek_report.reported_tcb ^= 1;
	rep = report_file("report_fmc.bin", &k.vcek_report);
	ck_assert_int_eq(owner_run(out, sizeof(out), "report verify --allow-unknown-ark --ca %s --vcek %s --report %s", ca,
			       vcek_pem, rep), 1);
	ck_assert_has(out, "fmc SPL 5");
	k.vcek_report.reported_tcb ^= 1;
	/* MASK_CHIP_KEY zeroes the chip ID: the chip match is skipped, the signature still decides. */
	k.vcek_report.flags = 2;
	memset(k.vcek_report.chip_id, 0, sizeof(k.vcek_report.chip_id));
	ck_assert_int_eq(amd_ecdsa_sign_le(k.vcek_key, EVP_sha384(), (const uint8_t *)&k.vcek_report,
					   SNP_REPORT_SIGNED_LEN, k.vcek_report.sig_r, k.vcek_report.sig_s,
					   SNP_SIG_FIELD_LEN, &(struct cloak_err){ "" }), 0);
	rep = report_file("report_masked.bin", &k.vcek_report);
	ck_assert_msg(owner_run(out, sizeof(out), "report verify --allow-unknown-ark --ca %s --vcek %s --report %s", ca,
			    vcek_pem, rep) == 0, "%s", out);
	ck_assert_has(out, "skipped: the report masks its chip ID");
	/* Another product's chain: the message names who issued the VCEK. */
	other_key = EVP_RSA_gen(2048);
	ck_assert_ptr_nonnull(other_key);
	other_ask = x509_make("SEV-Other", other_key, "ARK-Test", 9);
	x509_sign(other_ask, k.ark_key, true);
	other_ca = pem_file("other_chain.pem", other_ask, k.ark, NULL);
	ck_assert_int_eq(owner_run(out, sizeof(out), "report verify --allow-unknown-ark --ca %s --vcek %s", other_ca,
			       vcek_pem), 1);
	ck_assert_has(out, "issued by SEV-Test, not by SEV-Other");
	/* Two ASKs in one bundle cannot both be the signer: named. */
	other_ca = pem_file("two_asks.pem", other_ask, k.ask, k.ark, NULL);
	ck_assert_int_eq(owner_run(out, sizeof(out), "report verify --allow-unknown-ark --ca %s", other_ca), 2);
	ck_assert_has(out, "two certificates of one kind");
	X509_free(other_ask);
	EVP_PKEY_free(other_key);
	kds_free(&k);
}
END_TEST

/* `report show` reads what real firmware writes at each version, via the command line. */
START_TEST(report_show_cli_versions)
{
	char out[8192];
	struct snp_report r;
	const char *p;

	report_of_version(&r, 5, 0x19, 0x11);
	p = report_file("v5.bin", &r);
	ck_assert_int_eq(owner_run(out, sizeof(out), "report show --report %s", p), 0);
	ck_assert_has(out, "version              5\n");
	ck_assert_has(out, "launch_mit_vector    0xb\n");
	ck_assert_has(out, "(Genoa)");
	report_of_version(&r, 2, 0, 0);
	p = report_file("v2.bin", &r);
	ck_assert_int_eq(owner_run(out, sizeof(out), "report show --report %s", p), 0);
	ck_assert_lacks(out, "cpuid");
	/* Wrappers real tools write are named, with the command that takes the report out. */
	{
		static uint8_t big[0x20 + SNP_REPORT_LEN + 100];
		char path[160];

		memset(big, 0, sizeof(big));
		memcpy(big, "HCLA", 4);
		memcpy(big + 0x20, &r, sizeof(r));
		test_path(path, sizeof(path), "hcl.bin");
		write_file(path, big, sizeof(big));
		ck_assert_int_eq(owner_run(out, sizeof(out), "report show --report %s", path), 2);
		ck_assert_has(out, "Azure HCL report");
		ck_assert_has(out, "skip=32 count=1184");
		memcpy(big, &r, sizeof(r));
		write_file(path, big, sizeof(big));
		ck_assert_int_eq(owner_run(out, sizeof(out), "report show --report %s", path), 2);
		ck_assert_has(out, "a version 2 report followed by 132 more bytes");
	}
	r.version = 6;
	p = report_file("v6.bin", &r);
	ck_assert_int_eq(owner_run(out, sizeof(out), "report show --report %s", p), 2);
	ck_assert_has(out, "version 6");
}
END_TEST

static Suite *interop_suite(void)
{
	Suite *s = suite_create("owner-interop");
	TCase *t = tcase_create("interop");

	tcase_add_checked_fixture(t, test_dir_setup, test_dir_teardown);
	tcase_set_timeout(t, 120);
	tcase_add_test(t, report_layouts_per_version);
	tcase_add_test(t, policy_and_platform_bits_named);
	tcase_add_test(t, report_signature_with_leading_zeros);
	tcase_add_test(t, amd_format_ca_4096_pss_sha384);
	tcase_add_test(t, sev_chain_unsigned_ark);
	tcase_add_test(t, vlek_signed_report_verified_with_asvk_chain);
	tcase_add_test(t, turin_vcek_bundles_and_wrong_product);
	tcase_add_test(t, report_show_cli_versions);
	suite_add_tcase(s, t);
	return s;
}

int main(void)
{
	SRunner *sr = srunner_create(interop_suite());
	int failed;

	srunner_set_tap(sr, "-");
	srunner_run_all(sr, CK_SILENT);
	failed = srunner_ntests_failed(sr);
	srunner_free(sr);
	return failed ? EXIT_FAILURE : EXIT_SUCCESS;
}
