/* test_owner_snp.c: cloak-owner's SNP pieces on data made here: PAGE_INFO, VMSA, OVMF metadata, chains, reports, ID blocks. */
#include "sev_tests.h"

#include "amd_test_certs.h"
#include "owner_harness.h"

#include "sev/amd_cert.h"
#include "owner.h"
#include "snp_digest.h"
#include "sev/snp_report.h"

#include <openssl/evp.h>
#include <openssl/rsa.h>
#include <openssl/x509.h>
#include <stdio.h>
#include <stdlib.h>
#include <unistd.h>

static uint64_t get64(const uint8_t *p)
{
	uint64_t v = 0;
	int i;

	for (i = 7; i >= 0; i--)
		v = v << 8 | p[i];
	return v;
}

static void sha384(const void *d, size_t n, uint8_t out[48])
{
	unsigned int l;

	ck_assert_int_eq(EVP_Digest(d, n, out, &l, EVP_sha384(), NULL), 1);
}

/* ---- PAGE_INFO and the VMSA ---- */

/* The PAGE_INFO bytes written out by hand, as the SNP ABI lays them out, against snp_gctx_update. */
START_TEST(page_info_is_the_abi_layout)
{
	struct cloak_err err = { "" };
	uint8_t buf[0x70], contents[48], want[48];
	struct snp_gctx g;
	int i;

	for (i = 0; i < 48; i++)
		contents[i] = (uint8_t)(0xa0 + i);
	snp_gctx_init(&g, NULL);
	ck_assert_int_eq(snp_gctx_update(&g, SNP_PAGE_SECRETS, 0x123456789000ull, contents, &err), 0);
	memset(buf, 0, sizeof(buf));
	memcpy(buf + 48, contents, 48);
	buf[96] = 0x70;       /* length, u16 */
	buf[98] = 5;          /* page type */
	put64(buf + 104, 0x123456789000ull);
	sha384(buf, sizeof(buf), want);
	ck_assert_mem_eq(g.ld, want, 48);
	/* The next step chains the digest so far in front. */
	memcpy(buf, want, 48);
	memset(buf + 48, 0, 48);
	buf[98] = 2;
	put64(buf + 104, SNP_VMSA_GPA);
	{
		uint8_t page[4096] = { 1 };

		sha384(page, sizeof(page), buf + 48);
		ck_assert_int_eq(snp_gctx_vmsa_page(&g, page, &err), 0);
	}
	sha384(buf, sizeof(buf), want);
	ck_assert_mem_eq(g.ld, want, 48);
	/* Partial pages are refused, not rounded. */
	ck_assert_int_eq(snp_gctx_blank_pages(&g, SNP_PAGE_ZERO, 0, 100, &err), -1);
	ck_assert_msg_has(err.msg, "4 KiB");
}
END_TEST

START_TEST(vmsa_reset_state_per_vmm)
{
	struct vmsa_params p = { .eip = 0x0080b004, .sev_features = 0x21, .vcpu_sig = 0xa00f11, .vmm = VMM_QEMU };
	uint8_t v[4096];

	vmsa_build(&p, v);
	ck_assert_uint_eq(v[0x10] | v[0x11] << 8, 0xf000);           /* CS selector */
	ck_assert_uint_eq(v[0x12], 0x9b);                            /* CS attributes */
	ck_assert_uint_eq(get64(v + 0x18), 0x00800000);              /* CS base = eip & ~0xffff */
	ck_assert_uint_eq(get64(v + 0x178), 0xb004);                 /* RIP */
	ck_assert_uint_eq(get64(v + 0x310), 0xa00f11);               /* RDX = vCPU signature */
	ck_assert_uint_eq(get64(v + 0x3b0), 0x21);                   /* SEV_FEATURES */
	ck_assert_uint_eq(get64(v + 0xd0), 0x1000);                  /* EFER.SVME */
	ck_assert_uint_eq(get64(v + 0x268), 0x0007040600070406ull);  /* PAT */
	ck_assert_uint_eq(get64(v + 0x3e8), 1);                      /* XCR0 */
	ck_assert_uint_eq(v[0x408] | v[0x409] << 8, 0x1f80);         /* MXCSR */
	ck_assert_uint_eq(v[0x410] | v[0x411] << 8, 0x37f);          /* FCW */
	p.vmm = VMM_EC2;
	p.eip = 0xfffffff0;
	vmsa_build(&p, v);
	ck_assert_uint_eq(v[0x12], 0x9a);
	ck_assert_uint_eq(v[0x22], 0x92);                            /* SS */
	ck_assert_uint_eq(v[0x92], 0x83);                            /* TR */
	ck_assert_uint_eq(get64(v + 0x310), 0x600);
	ck_assert_uint_eq(v[0x408] | v[0x410], 0);
	p.vmm = VMM_GCE;
	vmsa_build(&p, v);
	ck_assert_uint_eq(get64(v + 0x268), 0x00070106);
	ck_assert_uint_eq(v[0x12], 0x9b);
}
END_TEST

START_TEST(cpu_signatures_of_epyc_models)
{
	uint32_t sig;

	ck_assert(cpu_sig_of_type("EPYC-v4", &sig));
	ck_assert_uint_eq(sig, 0x800f12);
	ck_assert(cpu_sig_of_type("EPYC-Milan", &sig));
	ck_assert_uint_eq(sig, 0xa00f11);
	ck_assert(cpu_sig_of_type("EPYC-Genoa", &sig));
	ck_assert_uint_eq(sig, 0xa10f10);
	ck_assert(cpu_sig_of_type("EPYC-Turin", &sig));
	ck_assert_uint_eq(sig, 0xb00f00);
	ck_assert(!cpu_sig_of_type("EPYC-Nope", &sig));
	ck_assert_uint_eq(cpu_sig(6, 0x55, 4), 0x50654);
}
END_TEST

/* ---- OVMF metadata on a made-up image ---- */

#define IMG_LEN 8192

static void footer_entry(uint8_t *img, size_t *pos, const char *guid, const uint8_t *data, uint16_t dlen)
{
	/* Entries grow downwards from the footer: data, then u16 size, then the GUID. */
	*pos -= 18u + dlen;
	memcpy(img + *pos, data, dlen);
	img[*pos + dlen] = (uint8_t)(18 + dlen);
	img[*pos + dlen + 1] = 0;
	sev_guid_parse(guid, img + *pos + dlen + 2);
}

/* An image with a footer table: SEV-ES reset block, optional kernel hashes, SEV metadata of `n` sections. */
static uint8_t *make_ovmf(bool hashes, const uint32_t (*sections)[3], unsigned n)
{
	uint8_t *img = calloc(1, IMG_LEN), d[8];
	size_t end = IMG_LEN - 32, pos = end - 18;
	unsigned i;

	/* SEV metadata at 0x100: "ASEV", size, version 1, count, then 12-byte sections. */
	memcpy(img + 0x100, "ASEV", 4);
	put32(img + 0x104, 16 + 12 * n);
	put32(img + 0x108, 1);
	put32(img + 0x10c, n);
	for (i = 0; i < n; i++) {
		put32(img + 0x110 + 12 * i, sections[i][0]);
		put32(img + 0x114 + 12 * i, sections[i][1]);
		put32(img + 0x118 + 12 * i, sections[i][2]);
	}
	put32(d, IMG_LEN - 0x100);
	footer_entry(img, &pos, OVMF_SEV_METADATA_GUID, d, 4);
	put32(d, 0x80b004);
	footer_entry(img, &pos, OVMF_SEV_ES_RESET_GUID, d, 4);
	if (hashes) {
		put32(d, 0x810c00);
		put32(d + 4, 0x400);
		footer_entry(img, &pos, OVMF_SEV_HASH_TABLE_GUID, d, 8);
	}
	/* The footer itself: total size, then its GUID, ending 32 bytes before the image does. */
	img[end - 18] = (uint8_t)((end - pos));
	img[end - 17] = (uint8_t)((end - pos) >> 8);
	sev_guid_parse(OVMF_FOOTER_GUID, img + end - 16);
	return img;
}

START_TEST(ovmf_metadata_sections)
{
	static const uint32_t s[3][3] = { { 0x800000, 0x9000, 1 }, { 0x809000, 0x1000, 2 }, { 0x80a000, 0x1000, 3 } };
	struct cloak_err err = { "" };
	struct ovmf_info o;
	uint8_t *img = make_ovmf(false, s, 3);

	ck_assert_msg(ovmf_info_parse(img, IMG_LEN, &o, &err) == 0, "%s", err.msg);
	ck_assert_uint_eq(o.nsections, 3);
	ck_assert_uint_eq(o.sections[0].size, 0x9000);
	ck_assert_uint_eq(o.sections[2].type, OVMF_SECTION_CPUID);
	ck_assert(o.has_reset_eip);
	ck_assert_uint_eq(o.reset_eip, 0x80b004);
	ck_assert(!o.has_hash_table);
	ck_assert_uint_eq(o.gpa, 4 * GiB - IMG_LEN);
	/* A broken signature, version or count is refused with a message, never read past. */
	img[0x100] = 'X';
	ck_assert_int_eq(ovmf_info_parse(img, IMG_LEN, &o, &err), -1);
	ck_assert_msg_has(err.msg, "ASEV");
	img[0x100] = 'A';
	put32(img + 0x108, 2);
	ck_assert_int_eq(ovmf_info_parse(img, IMG_LEN, &o, &err), -1);
	ck_assert_msg_has(err.msg, "version 2");
	put32(img + 0x108, 1);
	put32(img + 0x10c, 100000);
	ck_assert_int_eq(ovmf_info_parse(img, IMG_LEN, &o, &err), -1);
	ck_assert_msg_has(err.msg, "do not fit");
	free(img);
}
END_TEST

START_TEST(snp_kernel_needs_a_hashes_section)
{
	static const uint32_t plain[2][3] = { { 0x800000, 0x1000, 1 }, { 0x801000, 0x1000, 3 } };
	static const uint32_t with[3][3] = { { 0x800000, 0x1000, 1 }, { 0x801000, 0x1000, 3 }, { 0x810000, 0x1000, 0x10 } };
	struct cloak_err err = { "" };
	struct guest_launch l = { .mode = SEV_MODE_SNP, .vcpus = 2, .vcpu_sig = 0xa00f11, .guest_features = 1 };
	struct ovmf_info o;
	uint8_t out[48], without_kernel[48];
	uint8_t *img = make_ovmf(true, plain, 2), *img2;

	ck_assert_int_eq(ovmf_info_parse(img, IMG_LEN, &o, &err), 0);
	l.ovmf = &o;
	ck_assert_int_eq(guest_launch_digest(&l, out, &err), 48);
	l.kernel = (const uint8_t *)"kernel";
	l.kernel_len = 6;
	ck_assert_int_eq(guest_launch_digest(&l, out, &err), -1);
	ck_assert_msg_has(err.msg, "SNP_KERNEL_HASHES");
	img2 = make_ovmf(true, with, 3);
	ck_assert_int_eq(ovmf_info_parse(img2, IMG_LEN, &o, &err), 0);
	ck_assert_msg(guest_launch_digest(&l, out, &err) == 48, "%s", err.msg);
	/* Without a kernel the section is measured as zero pages: another digest. */
	l.kernel = NULL;
	ck_assert_int_eq(guest_launch_digest(&l, without_kernel, &err), 48);
	ck_assert(memcmp(out, without_kernel, 48) != 0);
	/* SEV-ES ignores the SEV_FEATURES and measures 32 bytes. */
	l.mode = SEV_MODE_ES;
	ck_assert_int_eq(guest_launch_digest(&l, out, &err), 32);
	free(img);
	free(img2);
}
END_TEST

/* ---- the SEV platform chain, made here with OpenSSL ---- */

static EVP_PKEY *rsa_key(void)
{
	EVP_PKEY *k = EVP_RSA_gen(2048);

	ck_assert_ptr_nonnull(k);
	return k;
}

static EVP_PKEY *ec_key(void)
{
	EVP_PKEY *k = EVP_EC_gen("P-384");

	ck_assert_ptr_nonnull(k);
	return k;
}

static uint8_t ark_c[AMD_CA_CERT_LEN(2048)], ask_c[AMD_CA_CERT_LEN(2048)], cek_c[AMD_SEV_CERT_LEN], oca_c[AMD_SEV_CERT_LEN], pek_c[AMD_SEV_CERT_LEN],
	pdh_c[AMD_SEV_CERT_LEN];

/* ARK -> ASK -> CEK (ECDSA) -> PEK <- OCA (RSA-PSS, self-signed), PEK -> PDH. */
static void make_sev_chain(void)
{
	EVP_PKEY *ark = rsa_key(), *ask = rsa_key(), *oca = rsa_key(), *cek = ec_key(), *pek = ec_key(), *pdh = ec_key();

	ca_cert_make(ark_c, 2048, AMD_USAGE_ARK, ark, 0xa1, ark, 0xa1, RSA_PSS_SALTLEN_DIGEST);
	ca_cert_make(ask_c, 2048, AMD_USAGE_ASK, ask, 0xa2, ark, 0xa1, RSA_PSS_SALTLEN_DIGEST);
	sev_cert_make(cek_c, AMD_USAGE_CEK, AMD_ALGO_ECDSA_SHA256, cek);
	sev_cert_sign(cek_c, 0, AMD_USAGE_ASK, AMD_ALGO_RSA_SHA256, ask);
	sev_cert_make(oca_c, AMD_USAGE_OCA, AMD_ALGO_RSA_SHA256, oca);
	sev_cert_sign(oca_c, 0, AMD_USAGE_OCA, AMD_ALGO_RSA_SHA256, oca);
	sev_cert_make(pek_c, AMD_USAGE_PEK, AMD_ALGO_ECDSA_SHA256, pek);
	sev_cert_sign(pek_c, 0, AMD_USAGE_OCA, AMD_ALGO_RSA_SHA256, oca);
	sev_cert_sign(pek_c, 1, AMD_USAGE_CEK, AMD_ALGO_ECDSA_SHA256, cek);
	sev_cert_make(pdh_c, AMD_USAGE_PDH, AMD_ALGO_ECDH_SHA256, pdh);
	sev_cert_sign(pdh_c, 0, AMD_USAGE_PEK, AMD_ALGO_ECDSA_SHA256, pek);
	EVP_PKEY_free(ark);
	EVP_PKEY_free(ask);
	EVP_PKEY_free(oca);
	EVP_PKEY_free(cek);
	EVP_PKEY_free(pek);
	EVP_PKEY_free(pdh);
}

static int chain_check(struct cloak_err *err)
{
	struct amd_sev_chain c = { ark_c, ask_c, cek_c, oca_c, pek_c, pdh_c, sizeof(ark_c), sizeof(ask_c) };

	return amd_sev_chain_verify(&c, NULL, err);
}

START_TEST(sev_chain_valid_and_each_tampering_refused)
{
	struct { uint8_t *cert; size_t off; const char *link; } t[] = {
		{ pdh_c, 0x20, "PEK signs PDH" },        /* the PDH's key */
		{ pek_c, 0x05, "OCA signs PEK" },        /* the PEK's body: both signatures over it break */
		{ pek_c, 0x61c + 20, "CEK signs PEK" },  /* the CEK's signature on the PEK */
		{ pek_c, 0x414 + 20, "OCA signs PEK" },  /* the OCA's signature on the PEK */
		{ oca_c, 0x414 + 20, "OCA is self-signed" },
		{ cek_c, 0x05, "ASK signs CEK" },
		{ ask_c, 40, "ARK signs ASK" },          /* the ASK's header (its reserved bytes) */
		{ ark_c, 64 + 600, "ARK is self-signed" }, /* the ARK's signature */
	};
	struct cloak_err err = { "" };
	size_t i;

	make_sev_chain();
	ck_assert_msg(chain_check(&err) == 0, "%s", err.msg);
	for (i = 0; i < sizeof(t) / sizeof(t[0]); i++) {
		t[i].cert[t[i].off] ^= 0x01;
		err.msg[0] = 0;
		ck_assert_msg(chain_check(&err) == 1, "tampering %zu went unnoticed", i);
		ck_assert_msg_has(err.msg, t[i].link);
		t[i].cert[t[i].off] ^= 0x01;
	}
	ck_assert_int_eq(chain_check(&err), 0);
	/* A signature slot that claims another signer is not taken for the right one. */
	put32(pdh_c + 0x414, AMD_USAGE_CEK);
	ck_assert_int_eq(chain_check(&err), 1);
	ck_assert_msg_has(err.msg, "neither signature slot");
	put32(pdh_c + 0x414, AMD_USAGE_PEK);
	/* The ASK must name the ARK's key ID. */
	ask_c[20] ^= 1;
	ck_assert_int_eq(chain_check(&err), 1);
	ck_assert_msg_has(err.msg, "certifying ID");
	ask_c[20] ^= 1;
	/* A file in the wrong role is an input error, named. */
	{
		struct amd_sev_chain c = { ark_c, ask_c, cek_c, oca_c, pdh_c, pdh_c, sizeof(ark_c), sizeof(ask_c) };

		ck_assert_int_eq(amd_sev_chain_verify(&c, NULL, &err), -1);
		ck_assert_msg_has(err.msg, "--pek");
	}
	/* A signing key that is no point on its curve is an input error, named. */
	pek_c[0x20] ^= 1;
	ck_assert_int_eq(chain_check(&err), -1);
	ck_assert_msg_has(err.msg, "--pek");
	pek_c[0x20] ^= 1;
	/* A truncated ARK is refused by size. */
	{
		struct amd_sev_chain c = { ark_c, ask_c, cek_c, oca_c, pek_c, pdh_c, sizeof(ark_c) - 1, sizeof(ask_c) };

		ck_assert_int_eq(amd_sev_chain_verify(&c, NULL, &err), -1);
		ck_assert_msg_has(err.msg, "--ark");
	}
}
END_TEST

/* ---- SNP: a simulated ARK/ASK/VCEK chain and reports ---- */

struct vcek_ids {
	const uint8_t *chip_id;
	unsigned bl, tee, snp, ucode;
};

/* A certificate of the simulated chain; with ids, a VCEK's hardware ID (the raw chip ID, as KDS serves it) and SPLs. */
static X509 *x509(const char *cn, EVP_PKEY *key, const char *issuer_cn, EVP_PKEY *signer, bool pss,
		  const struct vcek_ids *ids)
{
	X509 *c = x509_make(cn, key, issuer_cn, 1);

	if (ids) {
		x509_ext_raw(c, "1.3.6.1.4.1.3704.1.4", ids->chip_id, 64);
		x509_ext_int(c, "1.3.6.1.4.1.3704.1.3.1", ids->bl);
		x509_ext_int(c, "1.3.6.1.4.1.3704.1.3.2", ids->tee);
		x509_ext_int(c, "1.3.6.1.4.1.3704.1.3.3", ids->snp);
		x509_ext_int(c, "1.3.6.1.4.1.3704.1.3.8", ids->ucode);
	}
	x509_sign(c, signer, pss);
	return c;
}

struct snp_world {
	EVP_PKEY *ark_key, *ask_key, *vcek_key;
	X509 *ark, *ask, *vcek;
	struct snp_report report;
	char ca_path[128];
};

static const uint8_t chip[64] = { 0xc1, 0xc2, 0xc3, [63] = 0x99 };

static void world_make(struct snp_world *w)
{
	struct cloak_err err = { "" };
	struct vcek_ids ids = { chip, 3, 0, 8, 115 };

	memset(w, 0, sizeof(*w));
	w->ark_key = rsa_key();
	w->ask_key = rsa_key();
	w->vcek_key = ec_key();
	w->ark = x509("ARK-Sim", w->ark_key, "ARK-Sim", w->ark_key, true, NULL);
	w->ask = x509("SEV-Sim", w->ask_key, "ARK-Sim", w->ark_key, true, NULL);
	w->vcek = x509("SEV-VCEK", w->vcek_key, "SEV-Sim", w->ask_key, true, &ids);
	test_path(w->ca_path, sizeof(w->ca_path), "cert_chain.pem");
	pem_write(w->ca_path, w->ask, w->ark, NULL);   /* KDS's order: ASK, then ARK */
	memset(&w->report, 0, sizeof(w->report));
	w->report.version = 2;
	w->report.policy = 0x30000;
	w->report.signature_algo = SNP_SIG_ALGO_ECDSA_P384_SHA384;
	w->report.reported_tcb = 0x7308000000000003ull;   /* bootloader 3, tee 0, snp 8, microcode 115 */
	memset(w->report.measurement, 0x4d, 48);
	memcpy(w->report.chip_id, chip, 64);
	ck_assert_int_eq(amd_ecdsa_sign_le(w->vcek_key, EVP_sha384(), (const uint8_t *)&w->report, SNP_REPORT_SIGNED_LEN,
					   w->report.sig_r, w->report.sig_s, 72, &err), 0);
}

static void world_free(struct snp_world *w)
{
	EVP_PKEY_free(w->ark_key);
	EVP_PKEY_free(w->ask_key);
	EVP_PKEY_free(w->vcek_key);
	X509_free(w->ark);
	X509_free(w->ask);
	X509_free(w->vcek);
}

/* The whole check report verify makes: chain, VCEK, chip and TCB, signature. 0 valid, 1 not. */
static int snp_check(struct snp_world *w, const struct snp_report *r, X509 *vcek, struct cloak_err *err)
{
	struct snp_ca ca;
	int rc;

	ck_assert_msg(snp_ca_load(w->ca_path, &ca, err) == 0, "%s", err->msg);
	ck_assert_ptr_null(ca.product);   /* a simulated ARK is none of AMD's */
	rc = snp_ca_verify(&ca, NULL, err);
	if (!rc)
		rc = snp_vcek_verify(&ca, vcek, NULL, err);
	if (!rc)
		rc = snp_vcek_matches_report(vcek, r, NULL, err);
	if (!rc)
		rc = snp_report_verify_sig(r, X509_get0_pubkey(vcek), err);
	snp_ca_free(&ca);
	return rc;
}

START_TEST(snp_report_valid_and_each_tampering_refused)
{
	static const size_t fields[] = { 0x08, 0x50, 0x90, 0xc0, 0xe0, 0x1f0, 0x2a0, 0x2a0 + 72 };
	struct cloak_err err = { "" };
	struct snp_world w;
	struct snp_report r;
	size_t i;

	world_make(&w);
	ck_assert_msg(snp_check(&w, &w.report, w.vcek, &err) == 0, "%s", err.msg);
	/* Any byte of the signed part, or of the signature, changed: refused. */
	for (i = 0; i < sizeof(fields) / sizeof(fields[0]); i++) {
		r = w.report;
		((uint8_t *)&r)[fields[i]] ^= 0x10;
		ck_assert_msg(snp_check(&w, &r, w.vcek, &err) == 1, "a change at 0x%zx went unnoticed", fields[i]);
	}
	/* Another chip's VCEK, and a VCEK for another TCB. */
	{
		uint8_t other[64] = { 0x0c };
		struct vcek_ids ids = { other, 3, 0, 8, 115 };
		X509 *v = x509("SEV-VCEK", w.vcek_key, "SEV-Sim", w.ask_key, true, &ids);

		ck_assert_int_eq(snp_check(&w, &w.report, v, &err), 1);
		ck_assert_msg_has(err.msg, "another chip");
		X509_free(v);
		ids.chip_id = chip;
		ids.snp = 7;
		v = x509("SEV-VCEK", w.vcek_key, "SEV-Sim", w.ask_key, true, &ids);
		ck_assert_int_eq(snp_check(&w, &w.report, v, &err), 1);
		ck_assert_msg_has(err.msg, "snp SPL 7");
		X509_free(v);
	}
	/* A VCEK signed by someone else's ASK, and one signed without PSS. */
	{
		struct vcek_ids ids = { chip, 3, 0, 8, 115 };
		EVP_PKEY *rogue = rsa_key();
		X509 *v = x509("SEV-VCEK", w.vcek_key, "SEV-Sim", rogue, true, &ids);

		ck_assert_int_eq(snp_check(&w, &w.report, v, &err), 1);
		ck_assert_msg_has(err.msg, "ASK signs VCEK");
		X509_free(v);
		v = x509("SEV-VCEK", w.vcek_key, "SEV-Sim", w.ask_key, false, &ids);
		ck_assert_int_eq(snp_check(&w, &w.report, v, &err), 1);
		ck_assert_msg_has(err.msg, "RSA-PSS");
		X509_free(v);
		/* An ASK the ARK did not sign. */
		X509_free(w.ask);
		w.ask = x509("SEV-Sim", w.ask_key, "ARK-Sim", rogue, true, NULL);
		pem_write(w.ca_path, w.ask, w.ark, NULL);
		ck_assert_int_eq(snp_check(&w, &w.report, w.vcek, &err), 1);
		ck_assert_msg_has(err.msg, "ARK signs ASK");
		EVP_PKEY_free(rogue);
	}
	world_free(&w);
}
END_TEST

START_TEST(snp_report_parse_and_ca_bundle_refusals)
{
	struct cloak_err err = { "" };
	struct snp_report r;
	struct snp_world w;
	struct snp_ca ca;
	char hex[2 * SNP_REPORT_LEN + 2], path[128];

	world_make(&w);
	/* Hex text is taken as well as the binary. */
	sev_hex((const uint8_t *)&w.report, SNP_REPORT_LEN, hex);
	strcat(hex, "\n");
	ck_assert_msg(snp_report_parse((const uint8_t *)hex, strlen(hex), &r, &err) == 0, "%s", err.msg);
	ck_assert_mem_eq(&r, &w.report, SNP_REPORT_LEN);
	ck_assert_int_eq(snp_report_parse((const uint8_t *)&w.report, 100, &r, &err), -1);
	ck_assert_msg_has(err.msg, "1184");
	r = w.report;
	r.version = 1;
	ck_assert_int_eq(snp_report_parse((const uint8_t *)&r, SNP_REPORT_LEN, &r, &err), -1);
	ck_assert_msg_has(err.msg, "version 1");
	/* A bundle of one certificate, or of two non-roots, is refused. */
	test_path(path, sizeof(path), "one.pem");
	pem_write(path, w.ask, NULL);
	ck_assert_int_eq(snp_ca_load(path, &ca, &err), -1);
	ck_assert_msg_has(err.msg, "holds 1");
	pem_write(path, w.ask, w.vcek, NULL);
	ck_assert_int_eq(snp_ca_load(path, &ca, &err), -1);
	ck_assert_msg_has(err.msg, "self-issued");
	/* Either order of ASK and ARK is taken. */
	pem_write(path, w.ark, w.ask, NULL);
	ck_assert_int_eq(snp_ca_load(path, &ca, &err), 0);
	ck_assert_int_eq(snp_ca_verify(&ca, NULL, &err), 0);
	snp_ca_free(&ca);
	world_free(&w);
}
END_TEST

START_TEST(tcb_layouts)
{
	struct snp_tcb t;

	snp_tcb_decode(0x7308000000000003ull, false, &t);
	ck_assert_uint_eq(t.bootloader, 3);
	ck_assert_uint_eq(t.snp, 8);
	ck_assert_uint_eq(t.microcode, 0x73);
	snp_tcb_decode(0x4800000018030201ull, true, &t);
	ck_assert_uint_eq(t.fmc, 1);
	ck_assert_uint_eq(t.bootloader, 2);
	ck_assert_uint_eq(t.tee, 3);
	ck_assert_uint_eq(t.snp, 0x18);
	ck_assert_uint_eq(t.microcode, 0x48);
}
END_TEST

/* ---- the ID block ---- */

START_TEST(id_block_signatures_verify)
{
	struct snp_id_inputs in = { .guest_svn = 7, .policy = 0x30000 };
	struct cloak_err err = { "" };
	struct snp_id_outputs *o = calloc(1, sizeof(*o));
	uint8_t pub[SNP_PUBKEY_LEN], h[48];
	EVP_PKEY *k;

	memset(in.launch_digest, 0x5a, 48);
	memset(in.family_id, 0xf1, 16);
	in.id_key = ec_key();
	in.author_key = ec_key();
	ck_assert_msg(snp_id_block_build(&in, o, &err) == 0, "%s", err.msg);
	/* Layout: digest, family, image, version 1, SVN, policy. */
	ck_assert_mem_eq(o->id_block, in.launch_digest, 48);
	ck_assert_uint_eq(o->id_block[48], 0xf1);
	ck_assert_uint_eq(o->id_block[80], 1);
	ck_assert_uint_eq(o->id_block[84], 7);
	ck_assert_uint_eq(get64(o->id_block + 88), 0x30000);
	ck_assert_uint_eq(o->id_auth[0], 1);
	ck_assert_uint_eq(o->id_auth[4], 1);
	/* The block signature verifies with the ID key read back from the auth block. */
	k = amd_ec_key_from_le(2, o->id_auth + 0x244, o->id_auth + 0x244 + 72, 72, &err);
	ck_assert_ptr_nonnull(k);
	ck_assert_int_eq(amd_ecdsa_verify_le(k, EVP_sha384(), o->id_block, 96, o->id_auth + 0x40, o->id_auth + 0x40 + 72,
					     72, &err), 1);
	EVP_PKEY_free(k);
	/* The author's signature covers the ID key as encoded. */
	k = amd_ec_key_from_le(2, o->id_auth + 0x884, o->id_auth + 0x884 + 72, 72, &err);
	ck_assert_int_eq(amd_ecdsa_verify_le(k, EVP_sha384(), o->id_auth + 0x240, SNP_PUBKEY_LEN, o->id_auth + 0x680,
					     o->id_auth + 0x680 + 72, 72, &err), 1);
	EVP_PKEY_free(k);
	/* The digests are SHA-384 of the keys in AMD's format. */
	ck_assert_int_eq(snp_pubkey_encode(in.id_key, pub, &err), 0);
	sha384(pub, sizeof(pub), h);
	ck_assert_mem_eq(o->id_key_digest, h, 48);
	ck_assert_int_eq(snp_pubkey_encode(in.author_key, pub, &err), 0);
	sha384(pub, sizeof(pub), h);
	ck_assert_mem_eq(o->author_key_digest, h, 48);
	/* Without an author key, its half of the auth block stays empty. */
	EVP_PKEY_free(in.author_key);
	in.author_key = NULL;
	ck_assert_int_eq(snp_id_block_build(&in, o, &err), 0);
	ck_assert_uint_eq(o->id_auth[4], 0);
	ck_assert_uint_eq(o->author_key_digest[0] | o->id_auth[0x884], 0);
	/* An RSA key is refused, named. */
	EVP_PKEY_free(in.id_key);
	in.id_key = rsa_key();
	ck_assert_int_eq(snp_id_block_build(&in, o, &err), -1);
	ck_assert_msg_has(err.msg, "--id-key");
	EVP_PKEY_free(in.id_key);
	free(o);
}
END_TEST

/* ---- the same checks through the cloak-owner binary ---- */

static void write_bytes(const char *name, const void *d, size_t n, char *path, size_t plen)
{
	struct cloak_err err = { "" };

	test_path(path, plen, name);
	ck_assert_msg(sev_file_write(path, name, d, n, 0600, &err) == 0, "%s", err.msg);
}

START_TEST(cli_verify_and_report_verify)
{
	char ark[128], ask[128], cek[128], oca[128], pek[128], pdh[128], rep[128], vcek[128], args[1536];
	unsigned char *der = NULL;
	struct snp_world w;
	struct snp_report r;
	int n;

	make_sev_chain();
	write_bytes("ark", ark_c, sizeof(ark_c), ark, sizeof(ark));
	write_bytes("ask", ask_c, sizeof(ask_c), ask, sizeof(ask));
	write_bytes("cek", cek_c, sizeof(cek_c), cek, sizeof(cek));
	write_bytes("oca", oca_c, sizeof(oca_c), oca, sizeof(oca));
	write_bytes("pek", pek_c, sizeof(pek_c), pek, sizeof(pek));
	write_bytes("pdh", pdh_c, sizeof(pdh_c), pdh, sizeof(pdh));
	snprintf(args, sizeof(args), "verify --ark %s --ask %s --cek %s --oca %s --pek %s --pdh %s", ark, ask, cek, oca,
		 pek, pdh);
	ck_assert_int_eq(owner_run(NULL, 0, "%s", args), 0);
	pdh_c[0x30] ^= 1;
	write_bytes("pdh", pdh_c, sizeof(pdh_c), pdh, sizeof(pdh));
	ck_assert_int_eq(owner_run(NULL, 0, "%s", args), 1);

	world_make(&w);
	write_bytes("report.bin", &w.report, sizeof(w.report), rep, sizeof(rep));
	n = i2d_X509(w.vcek, &der);
	write_bytes("vcek.der", der, (size_t)n, vcek, sizeof(vcek));
	OPENSSL_free(der);
	snprintf(args, sizeof(args), "report verify --ca %s --vcek %s --report %s", w.ca_path, vcek, rep);
	/* A chain whose ARK is none of AMD's is refused unless the owner says it is a test chain. */
	ck_assert_int_eq(owner_run(NULL, 0, "%s", args), 1);
	strcat(args, " --allow-unknown-ark");
	ck_assert_int_eq(owner_run(NULL, 0, "%s", args), 0);
	ck_assert_int_eq(owner_run(NULL, 0, "report show --report"), 2);   /* a missing value */
	r = w.report;
	r.host_data[0] ^= 1;
	write_bytes("report.bin", &r, sizeof(r), rep, sizeof(rep));
	ck_assert_int_eq(owner_run(NULL, 0, "%s", args), 1);
	world_free(&w);
}
END_TEST

Suite *owner_snp_suite(void)
{
	Suite *s = suite_create("owner_snp");
	TCase *t = tcase_create("digests");
	TCase *c = tcase_create("chains");

	tcase_add_test(t, page_info_is_the_abi_layout);
	tcase_add_test(t, vmsa_reset_state_per_vmm);
	tcase_add_test(t, cpu_signatures_of_epyc_models);
	tcase_add_test(t, ovmf_metadata_sections);
	tcase_add_test(t, snp_kernel_needs_a_hashes_section);
	suite_add_tcase(s, t);
	tcase_add_checked_fixture(c, test_dir_setup, test_dir_teardown);
	tcase_set_timeout(c, 60);
	tcase_add_test(c, sev_chain_valid_and_each_tampering_refused);
	tcase_add_test(c, snp_report_valid_and_each_tampering_refused);
	tcase_add_test(c, snp_report_parse_and_ca_bundle_refusals);
	tcase_add_test(c, tcb_layouts);
	tcase_add_test(c, id_block_signatures_verify);
	tcase_add_test(c, cli_verify_and_report_verify);
	suite_add_tcase(s, c);
	return s;
}
