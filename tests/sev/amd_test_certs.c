/* amd_test_certs.c: the tests' makers of certificates in AMD's formats (AMD-signed CA, SEV platform, X.509). */
#include "amd_test_certs.h"

#include "sev/amd_cert.h"
#include "sev/snp_report.h"

#include <check.h>
#include <openssl/bn.h>
#include <openssl/core_names.h>
#include <openssl/objects.h>
#include <openssl/pem.h>
#include <openssl/rsa.h>
#include <stdio.h>
#include <string.h>

void put32(uint8_t *p, uint32_t v)
{
	p[0] = (uint8_t)v;
	p[1] = (uint8_t)(v >> 8);
	p[2] = (uint8_t)(v >> 16);
	p[3] = (uint8_t)(v >> 24);
}

void put64(uint8_t *p, uint64_t v)
{
	put32(p, (uint32_t)v);
	put32(p + 4, (uint32_t)(v >> 32));
}

void rsa_le(EVP_PKEY *k, const char *param, uint8_t *out, int len)
{
	BIGNUM *bn = NULL;

	ck_assert_int_eq(EVP_PKEY_get_bn_param(k, param, &bn), 1);
	ck_assert_int_eq(BN_bn2lebinpad(bn, out, len), len);
	BN_free(bn);
}

void pss_sign_le(EVP_PKEY *k, const EVP_MD *md, int salt, const uint8_t *msg, size_t n, uint8_t *out, size_t len)
{
	EVP_MD_CTX *m = EVP_MD_CTX_new();
	EVP_PKEY_CTX *p = NULL;
	uint8_t sig[512];
	size_t sl = sizeof(sig), i;

	ck_assert_int_eq(EVP_DigestSignInit(m, &p, md, NULL, k), 1);
	ck_assert_int_eq(EVP_PKEY_CTX_set_rsa_padding(p, RSA_PKCS1_PSS_PADDING), 1);
	ck_assert_int_eq(EVP_PKEY_CTX_set_rsa_mgf1_md(p, md), 1);
	ck_assert_int_eq(EVP_PKEY_CTX_set_rsa_pss_saltlen(p, salt), 1);
	ck_assert_int_eq(EVP_DigestSign(m, sig, &sl, msg, n), 1);
	ck_assert_uint_le(sl, len);
	memset(out, 0, len);
	for (i = 0; i < sl; i++)
		out[i] = sig[sl - 1 - i];
	EVP_MD_CTX_free(m);
}

void ca_cert_make(uint8_t *c, unsigned bits, uint32_t usage, EVP_PKEY *k, uint8_t id, EVP_PKEY *signer,
		  uint8_t signer_id, int salt)
{
	int n = (int)bits / 8;

	ck_assert(bits == 2048 || bits == 4096);
	memset(c, 0, AMD_CA_CERT_LEN(bits));
	put32(c, 1);
	memset(c + 4, id, 16);
	memset(c + 20, signer_id, 16);
	put32(c + 36, usage);
	put32(c + 56, bits);
	put32(c + 60, bits);
	rsa_le(k, OSSL_PKEY_PARAM_RSA_E, c + 64, n);
	rsa_le(k, OSSL_PKEY_PARAM_RSA_N, c + 64 + n, n);
	pss_sign_le(signer, bits == 4096 ? EVP_sha384() : EVP_sha256(), salt, c, 64 + 2 * (size_t)n, c + 64 + 2 * n,
		    (size_t)n);
}

void sev_cert_make(uint8_t *c, uint32_t usage, uint32_t algo, EVP_PKEY *k)
{
	memset(c, 0, AMD_SEV_CERT_LEN);
	put32(c, 1);
	c[4] = 1;
	c[5] = 55;
	put32(c + 8, usage);
	put32(c + 12, algo);
	if (algo == AMD_ALGO_RSA_SHA256) {
		put32(c + 0x10, 2048);
		rsa_le(k, OSSL_PKEY_PARAM_RSA_E, c + 0x14, 256);
		rsa_le(k, OSSL_PKEY_PARAM_RSA_N, c + 0x214, 256);
	} else {
		ck_assert_int_eq(snp_pubkey_encode(k, c + 0x10, &(struct cloak_err){ "" }), 0);  /* curve, Qx, Qy */
	}
	put32(c + 0x414, AMD_USAGE_INVALID);
	put32(c + 0x61c, AMD_USAGE_INVALID);
}

void sev_cert_sign(uint8_t *c, unsigned slot, uint32_t usage, uint32_t algo, EVP_PKEY *signer)
{
	uint8_t *s = c + (slot ? 0x61c : 0x414);
	struct cloak_err err = { "" };

	put32(s, usage);
	put32(s + 4, algo);
	if (algo == AMD_ALGO_RSA_SHA256)
		pss_sign_le(signer, EVP_sha256(), RSA_PSS_SALTLEN_DIGEST, c, AMD_SEV_CERT_BODY_LEN, s + 8, 512);
	else
		ck_assert_msg(amd_ecdsa_sign_le(signer, algo == AMD_ALGO_ECDSA_SHA384 ? EVP_sha384() : EVP_sha256(), c,
						AMD_SEV_CERT_BODY_LEN, s + 8, s + 8 + 72, 72, &err) == 0, "%s", err.msg);
}

X509 *x509_make(const char *cn, EVP_PKEY *key, const char *issuer_cn, long serial)
{
	static const unsigned char amd[] = "Advanced Micro Devices";
	X509 *c = X509_new();
	X509_NAME *sn = X509_NAME_new(), *in = X509_NAME_new();

	ck_assert(c && sn && in);
	ck_assert_int_eq(X509_set_version(c, 2), 1);
	ck_assert_int_eq(ASN1_INTEGER_set(X509_get_serialNumber(c), serial), 1);
	ck_assert_ptr_nonnull(X509_gmtime_adj(X509_getm_notBefore(c), -3600));
	ck_assert_ptr_nonnull(X509_gmtime_adj(X509_getm_notAfter(c), 86400));
	ck_assert_int_eq(X509_NAME_add_entry_by_txt(sn, "O", MBSTRING_ASC, amd, -1, -1, 0), 1);
	ck_assert_int_eq(X509_NAME_add_entry_by_txt(sn, "CN", MBSTRING_ASC, (const unsigned char *)cn, -1, -1, 0), 1);
	ck_assert_int_eq(X509_NAME_add_entry_by_txt(in, "O", MBSTRING_ASC, amd, -1, -1, 0), 1);
	ck_assert_int_eq(X509_NAME_add_entry_by_txt(in, "CN", MBSTRING_ASC, (const unsigned char *)issuer_cn, -1, -1, 0),
			 1);
	ck_assert_int_eq(X509_set_subject_name(c, sn), 1);
	ck_assert_int_eq(X509_set_issuer_name(c, in), 1);
	ck_assert_int_eq(X509_set_pubkey(c, key), 1);
	X509_NAME_free(sn);
	X509_NAME_free(in);
	return c;
}

void x509_sign(X509 *c, EVP_PKEY *signer, bool pss)
{
	EVP_MD_CTX *m = EVP_MD_CTX_new();
	EVP_PKEY_CTX *p = NULL;

	ck_assert_int_eq(EVP_DigestSignInit(m, &p, EVP_sha384(), NULL, signer), 1);
	if (pss) {
		ck_assert_int_eq(EVP_PKEY_CTX_set_rsa_padding(p, RSA_PKCS1_PSS_PADDING), 1);
		ck_assert_int_eq(EVP_PKEY_CTX_set_rsa_mgf1_md(p, EVP_sha384()), 1);
		ck_assert_int_eq(EVP_PKEY_CTX_set_rsa_pss_saltlen(p, 48), 1);
	}
	ck_assert_int_gt(X509_sign_ctx(c, m), 0);
	EVP_MD_CTX_free(m);
}

void x509_ext_raw(X509 *c, const char *oid, const uint8_t *d, int n)
{
	ASN1_OBJECT *o = OBJ_txt2obj(oid, 1);
	ASN1_OCTET_STRING *os = ASN1_OCTET_STRING_new();
	X509_EXTENSION *e;

	ck_assert(o && os && ASN1_OCTET_STRING_set(os, d, n) == 1);
	e = X509_EXTENSION_create_by_OBJ(NULL, o, 0, os);
	ck_assert_ptr_nonnull(e);
	ck_assert_int_eq(X509_add_ext(c, e, -1), 1);
	X509_EXTENSION_free(e);
	ASN1_OCTET_STRING_free(os);
	ASN1_OBJECT_free(o);
}

void x509_ext_int(X509 *c, const char *oid, long v)
{
	ASN1_INTEGER *ai = ASN1_INTEGER_new();
	unsigned char *der = NULL;
	int n;

	ck_assert_ptr_nonnull(ai);
	ck_assert_int_eq(ASN1_INTEGER_set(ai, v), 1);
	n = i2d_ASN1_INTEGER(ai, &der);
	ck_assert_int_gt(n, 0);
	x509_ext_raw(c, oid, der, n);
	OPENSSL_free(der);
	ASN1_INTEGER_free(ai);
}

void pem_vwrite(const char *path, va_list certs)
{
	FILE *f = fopen(path, "w");
	X509 *c;

	ck_assert_msg(f != NULL, "cannot write %s", path);
	while ((c = va_arg(certs, X509 *)))
		ck_assert_int_eq(PEM_write_X509(f, c), 1);
	ck_assert_int_eq(fclose(f), 0);
}

void pem_write(const char *path, ...)
{
	va_list ap;

	va_start(ap, path);
	pem_vwrite(path, ap);
	va_end(ap);
}
