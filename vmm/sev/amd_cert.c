/* amd_cert.c: AMD's SEV certificate formats and the platform chain check (ARK, ASK, CEK, OCA, PEK, PDH). */
#include "sev/amd_cert.h"

#include <openssl/bn.h>
#include <openssl/core_names.h>
#include <openssl/ec.h>
#include <openssl/evp.h>
#include <openssl/param_build.h>
#include <openssl/rsa.h>
#include <stdlib.h>
#include <string.h>

static uint32_t le32(const uint8_t *p)
{
	return (uint32_t)p[0] | (uint32_t)p[1] << 8 | (uint32_t)p[2] << 16 | (uint32_t)p[3] << 24;
}

const char *amd_usage_name(uint32_t usage)
{
	switch (usage) {
	case AMD_USAGE_ARK: return "ARK";
	case AMD_USAGE_ASK: return "ASK";
	case AMD_USAGE_OCA: return "OCA";
	case AMD_USAGE_PEK: return "PEK";
	case AMD_USAGE_PDH: return "PDH";
	case AMD_USAGE_CEK: return "CEK";
	default: return "unknown";
	}
}

void amd_signer_free(struct amd_signer *s)
{
	EVP_PKEY_free(s->key);
	s->key = NULL;
}

/* ---- keys and signatures ---- */

static EVP_PKEY *rsa_key_from_le(const uint8_t *n, const uint8_t *e, size_t len, struct cloak_err *err)
{
	BIGNUM *bn = BN_lebin2bn(n, (int)len, NULL), *be = BN_lebin2bn(e, (int)len, NULL);
	OSSL_PARAM_BLD *bld = OSSL_PARAM_BLD_new();
	OSSL_PARAM *params = NULL;
	EVP_PKEY_CTX *ctx = NULL;
	EVP_PKEY *key = NULL;

	if (!bn || !be || !bld || !OSSL_PARAM_BLD_push_BN(bld, OSSL_PKEY_PARAM_RSA_N, bn) ||
	    !OSSL_PARAM_BLD_push_BN(bld, OSSL_PKEY_PARAM_RSA_E, be) || !(params = OSSL_PARAM_BLD_to_param(bld)) ||
	    !(ctx = EVP_PKEY_CTX_new_from_name(NULL, "RSA", NULL)) || EVP_PKEY_fromdata_init(ctx) != 1 ||
	    EVP_PKEY_fromdata(ctx, &key, EVP_PKEY_PUBLIC_KEY, params) != 1) {
		err_set(err, "the RSA public key cannot be read (OpenSSL)");
		key = NULL;
	} else if (BN_is_zero(bn) || BN_is_zero(be) || !BN_is_odd(bn)) {
		err_set(err, "the RSA public key has a zero or even modulus or a zero exponent");
		EVP_PKEY_free(key);
		key = NULL;
	}
	EVP_PKEY_CTX_free(ctx);
	OSSL_PARAM_free(params);
	OSSL_PARAM_BLD_free(bld);
	BN_free(bn);
	BN_free(be);
	return key;
}

EVP_PKEY *amd_ec_key_from_le(uint32_t curve, const uint8_t *x, const uint8_t *y, size_t field_len, struct cloak_err *err)
{
	uint8_t point[1 + 2 * 66];
	const char *group = curve == 1 ? "P-256" : curve == 2 ? "P-384" : NULL;
	size_t clen = curve == 1 ? 32 : 48, i;
	OSSL_PARAM params[3];
	EVP_PKEY_CTX *ctx;
	EVP_PKEY *key = NULL;

	if (!group) {
		err_set(err, "curve %u is not one of AMD's (1 P-256, 2 P-384)", curve);
		return NULL;
	}
	for (i = clen; i < field_len; i++)
		if (x[i] || y[i]) {
			err_set(err, "a coordinate is longer than %s allows", group);
			return NULL;
		}
	point[0] = 0x04;
	for (i = 0; i < clen; i++) {
		point[1 + i] = x[clen - 1 - i];
		point[1 + clen + i] = y[clen - 1 - i];
	}
	params[0] = OSSL_PARAM_construct_utf8_string(OSSL_PKEY_PARAM_GROUP_NAME, (char *)group, 0);
	params[1] = OSSL_PARAM_construct_octet_string(OSSL_PKEY_PARAM_PUB_KEY, point, 1 + 2 * clen);
	params[2] = OSSL_PARAM_construct_end();
	ctx = EVP_PKEY_CTX_new_from_name(NULL, "EC", NULL);
	if (!ctx || EVP_PKEY_fromdata_init(ctx) != 1 || EVP_PKEY_fromdata(ctx, &key, EVP_PKEY_PUBLIC_KEY, params) != 1) {
		err_set(err, "the public key is not a point on %s", group);
		key = NULL;
	}
	EVP_PKEY_CTX_free(ctx);
	return key;
}

int amd_verify(EVP_PKEY *key, const EVP_MD *md, bool pss, const uint8_t *msg, size_t len, const uint8_t *sig,
	       size_t siglen)
{
	EVP_MD_CTX *m = EVP_MD_CTX_new();
	EVP_PKEY_CTX *pctx = NULL;
	int rc = -1;

	if (!m || EVP_DigestVerifyInit(m, &pctx, md, NULL, key) != 1)
		goto out;
	/* AMD's RSA signatures are PSS with a salt as long as the digest and MGF1 over the same hash. */
	if (pss && (EVP_PKEY_CTX_set_rsa_padding(pctx, RSA_PKCS1_PSS_PADDING) != 1 ||
		    EVP_PKEY_CTX_set_rsa_pss_saltlen(pctx, RSA_PSS_SALTLEN_DIGEST) != 1 ||
		    EVP_PKEY_CTX_set_rsa_mgf1_md(pctx, md) != 1))
		goto out;
	rc = EVP_DigestVerify(m, sig, siglen, msg, len) == 1 ? 1 : 0;
out:
	EVP_MD_CTX_free(m);
	return rc;
}

int amd_ecdsa_verify_le(EVP_PKEY *key, const EVP_MD *md, const uint8_t *msg, size_t len, const uint8_t *r,
			const uint8_t *s, size_t field_len, struct cloak_err *err)
{
	BIGNUM *br = BN_lebin2bn(r, (int)field_len, NULL), *bs = BN_lebin2bn(s, (int)field_len, NULL);
	ECDSA_SIG *sig = ECDSA_SIG_new();
	unsigned char *der = NULL;
	int n, rc = -1;

	if (!br || !bs || !sig || ECDSA_SIG_set0(sig, br, bs) != 1) {
		BN_free(br);
		BN_free(bs);
		ECDSA_SIG_free(sig);
		return err_set(err, "cannot decode an ECDSA signature (OpenSSL)");
	}
	n = i2d_ECDSA_SIG(sig, &der);
	if (n > 0)
		rc = amd_verify(key, md, false, msg, len, der, (size_t)n);
	OPENSSL_free(der);
	ECDSA_SIG_free(sig);
	if (rc < 0)
		return err_set(err, "cannot check an ECDSA signature (OpenSSL)");
	return rc;
}

int amd_ecdsa_sign_le(EVP_PKEY *key, const EVP_MD *md, const uint8_t *msg, size_t len, uint8_t *r, uint8_t *s,
		      size_t field_len, struct cloak_err *err)
{
	EVP_MD_CTX *m = EVP_MD_CTX_new();
	unsigned char *der = NULL;
	const unsigned char *p;
	ECDSA_SIG *sig = NULL;
	size_t n = 0;
	int rc = -1;

	if (!m || EVP_DigestSignInit(m, NULL, md, NULL, key) != 1 || EVP_DigestSign(m, NULL, &n, msg, len) != 1 ||
	    !(der = OPENSSL_malloc(n)) || EVP_DigestSign(m, der, &n, msg, len) != 1) {
		err_set(err, "cannot sign with the ECDSA key (OpenSSL)");
		goto out;
	}
	p = der;
	sig = d2i_ECDSA_SIG(NULL, &p, (long)n);
	if (!sig || BN_bn2lebinpad(ECDSA_SIG_get0_r(sig), r, (int)field_len) != (int)field_len ||
	    BN_bn2lebinpad(ECDSA_SIG_get0_s(sig), s, (int)field_len) != (int)field_len) {
		err_set(err, "cannot encode the ECDSA signature (OpenSSL)");
		goto out;
	}
	rc = 0;
out:
	ECDSA_SIG_free(sig);
	OPENSSL_free(der);
	EVP_MD_CTX_free(m);
	return rc;
}

/* ---- the AMD-signed format (ARK, ASK) ---- */

/*
 * SHA-256 of the public exponent and modulus fields (as stored, little-endian)
 * of AMD's published SEV ARKs, one per product generation.
 */
static const struct {
	const char *product;
	const char *key_sha256;
} amd_sev_arks[] = {
	{ "Naples", "fb61bb1bf3b399dfb7c811390c25845d74369aae5f2a77e25710c86cc2ecb158" },
	{ "Rome", "227cc97640363424696c3e80d4d17902a5e1784cc5805a9eb5acc00620661a71" },
	{ "Milan", "5201496b2232d81cf2ae75b867e7b8516f81a3d4d0dc876138051927a5a20bab" },
	{ "Genoa", "6be9aa11d1b8c246ba0e67c8cb850f249e8fa0690adcba97189f223885e6a91b" },
	{ "Turin", "1d1245f774fd7190e5380751a9338c3dc63c89d75c44c1faa317bfffe4bd00c7" },
};

/*
 * The key size in bytes (256 or 512), or -1 with a message. `unsigned_ok`
 * takes a certificate that stops after its modulus (no signature), as AMD
 * first published the Naples ARK; *has_sig says which it is.
 */
static int ca_size(const uint8_t *cert, size_t len, bool unsigned_ok, bool *has_sig, struct cloak_err *err)
{
	uint32_t psize, msize;

	if (len < AMD_CA_CERT_HDR_LEN)
		return err_set(err, "%zu bytes are too few for an AMD-signed certificate (a %d-byte header first)", len,
			       AMD_CA_CERT_HDR_LEN);
	if (le32(cert) != 1)
		return err_set(err, "AMD-signed certificate version %u; version 1 is the one known (is it an SNP "
				    "certificate in PEM? those go to `cloak-owner report verify --ca`)", le32(cert));
	psize = le32(cert + 56);
	msize = le32(cert + 60);
	if (psize != msize || (msize != 2048 && msize != 4096))
		return err_set(err, "exponent and modulus sizes %u and %u bits; AMD-signed keys are 2048 or 4096 bits, "
				    "both fields alike", psize, msize);
	if (has_sig)
		*has_sig = true;
	if (unsigned_ok && len == AMD_CA_CERT_HDR_LEN + 2 * (size_t)(msize / 8)) {
		if (has_sig)
			*has_sig = false;
		return (int)(msize / 8);
	}
	if (len != AMD_CA_CERT_HDR_LEN + 3 * (size_t)(msize / 8))
		return err_set(err, "%zu bytes; a %u-bit AMD-signed certificate is %u bytes", len, msize,
			       AMD_CA_CERT_HDR_LEN + 3 * (msize / 8));
	return (int)(msize / 8);
}

const char *amd_ca_cert_product(const uint8_t *cert, size_t len)
{
	uint8_t h[32];
	char hex[65];
	unsigned int hl = 0;
	size_t i;
	int sz = ca_size(cert, len, true, NULL, &(struct cloak_err){ "" });

	if (sz < 0 || EVP_Digest(cert + AMD_CA_CERT_HDR_LEN, 2 * (size_t)sz, h, &hl, EVP_sha256(), NULL) != 1)
		return NULL;
	for (i = 0; i < 32; i++)
		snprintf(hex + 2 * i, 3, "%02x", h[i]);
	for (i = 0; i < sizeof(amd_sev_arks) / sizeof(amd_sev_arks[0]); i++)
		if (!strcmp(hex, amd_sev_arks[i].key_sha256))
			return amd_sev_arks[i].product;
	return NULL;
}

bool amd_ca_cert_signed(const uint8_t *cert, size_t len)
{
	bool has_sig = false;

	return ca_size(cert, len, true, &has_sig, &(struct cloak_err){ "" }) > 0 && has_sig;
}

int amd_ca_cert_pick(const uint8_t *data, size_t len, uint32_t usage, size_t *off, size_t *cert_len)
{
	size_t one;

	*off = 0;
	*cert_len = len;
	if (len < AMD_CA_CERT_HDR_LEN || le32(data) != 1)
		return 0;
	one = AMD_CA_CERT_HDR_LEN + 3 * (size_t)(le32(data + 60) / 8);
	/* AMD's ask_ark_<product>.cert: the ASK, then the ARK, each whole, of one size. */
	if (len != 2 * one || len - one < AMD_CA_CERT_HDR_LEN || le32(data + one) != 1 ||
	    le32(data + one + 60) != le32(data + 60))
		return 0;
	if (le32(data + 36) == usage) {
		*cert_len = one;
		return 1;
	}
	if (le32(data + one + 36) == usage) {
		*off = one;
		*cert_len = one;
		return 1;
	}
	return 0;
}

int amd_ca_cert_signer(const uint8_t *cert, size_t len, struct amd_signer *out, struct cloak_err *err)
{
	int sz = ca_size(cert, len, true, NULL, err);

	memset(out, 0, sizeof(*out));
	if (sz < 0)
		return -1;
	out->key = rsa_key_from_le(cert + AMD_CA_CERT_HDR_LEN + sz, cert + AMD_CA_CERT_HDR_LEN, (size_t)sz, err);
	if (!out->key)
		return -1;
	out->usage = le32(cert + 36);
	out->md = sz == 256 ? EVP_sha256() : EVP_sha384();
	out->rsa = true;
	out->has_id = true;
	memcpy(out->id, cert + 4, 16);
	return 0;
}

static void hex16(const uint8_t *id, char out[33])
{
	int i;

	for (i = 0; i < 16; i++)
		snprintf(out + 2 * i, 3, "%02x", id[i]);
}

int amd_ca_cert_verify(const struct amd_signer *signer, const uint8_t *cert, size_t len, struct cloak_err *err)
{
	uint8_t sig[512];
	char want[33], got[33];
	bool has_sig = true;
	int sz = ca_size(cert, len, true, &has_sig, err), i, ok;

	if (sz < 0)
		return -1;
	if (!has_sig)
		return err_set(err, "it holds no signature (%zu bytes: header, exponent and modulus only)", len);
	/* An AMD-signed certificate is signed by the ARK, which it names by key ID, with the hash its size says. */
	if (!signer->has_id || signer->usage != AMD_USAGE_ARK)
		return err_set(err, "its signer is an %s key; only the ARK signs AMD-signed certificates",
			       amd_usage_name(signer->usage));
	if (memcmp(cert + 20, signer->id, 16)) {
		hex16(cert + 20, got);
		hex16(signer->id, want);
		return err_set(err, "it names another signing key (certifying ID %s) than the ARK's key ID %s: an ARK and "
				    "ASK of different products (Naples, Rome, Milan, Genoa, Turin)?", got, want);
	}
	if ((sz == 256) != (signer->md == EVP_sha256()))
		return err_set(err, "its size calls for another hash than the ARK's");
	for (i = 0; i < sz; i++)
		sig[i] = cert[AMD_CA_CERT_HDR_LEN + 2 * sz + sz - 1 - i];
	ok = amd_verify(signer->key, signer->md, true, cert, AMD_CA_CERT_HDR_LEN + 2 * (size_t)sz, sig, (size_t)sz);
	if (ok < 0)
		return err_set(err, "cannot check its RSA-PSS signature (OpenSSL)");
	if (!ok)
		return err_set(err, "its RSA-PSS signature does not verify");
	return 0;
}

/* ---- the SEV format (CEK, OCA, PEK, PDH) ---- */

#define SEV_OFF_USAGE 0x008
#define SEV_OFF_ALGO 0x00c
#define SEV_OFF_KEY 0x010
#define SEV_OFF_SIG1 0x414
#define SEV_OFF_SIG2 0x61c
#define SEV_SIG_LEN 512
#define SEV_FIELD_LEN 72

static const EVP_MD *algo_md(uint32_t algo)
{
	switch (algo) {
	case AMD_ALGO_RSA_SHA256: case AMD_ALGO_ECDSA_SHA256: case AMD_ALGO_ECDH_SHA256: return EVP_sha256();
	case AMD_ALGO_RSA_SHA384: case AMD_ALGO_ECDSA_SHA384: case AMD_ALGO_ECDH_SHA384: return EVP_sha384();
	default: return NULL;
	}
}

static bool algo_rsa(uint32_t algo)
{
	return algo == AMD_ALGO_RSA_SHA256 || algo == AMD_ALGO_RSA_SHA384;
}

uint32_t amd_sev_cert_usage(const uint8_t cert[AMD_SEV_CERT_LEN])
{
	return le32(cert + SEV_OFF_USAGE);
}

int amd_sev_cert_signer(const uint8_t cert[AMD_SEV_CERT_LEN], struct amd_signer *out, struct cloak_err *err)
{
	uint32_t algo = le32(cert + SEV_OFF_ALGO);
	const uint8_t *k = cert + SEV_OFF_KEY;

	memset(out, 0, sizeof(*out));
	if (le32(cert) != 1)
		return err_set(err, "SEV certificate version %u; version 1 is the one known", le32(cert));
	out->md = algo_md(algo);
	if (!out->md)
		return err_set(err, "key algorithm 0x%x is not one of the SEV format's", algo);
	out->usage = le32(cert + SEV_OFF_USAGE);
	out->rsa = algo_rsa(algo);
	if (out->rsa) {
		uint32_t bits = le32(k);

		if (bits != 2048 && bits != 4096)
			return err_set(err, "an RSA key of %u bits; the SEV format holds 2048 or 4096", bits);
		out->key = rsa_key_from_le(k + 4 + 512, k + 4, bits / 8, err);
	} else {
		out->key = amd_ec_key_from_le(le32(k), k + 4, k + 4 + SEV_FIELD_LEN, SEV_FIELD_LEN, err);
	}
	return out->key ? 0 : -1;
}

int amd_sev_cert_verify(const struct amd_signer *signer, const uint8_t cert[AMD_SEV_CERT_LEN], struct cloak_err *err)
{
	static const unsigned slots[2] = { SEV_OFF_SIG1, SEV_OFF_SIG2 };
	unsigned i, candidates = 0;

	for (i = 0; i < 2; i++) {
		const uint8_t *s = cert + slots[i];
		uint32_t usage = le32(s), algo = le32(s + 4);
		int ok;

		/* A slot counts when it claims a signature by this very key: its usage, its kind, its hash. */
		if (usage != signer->usage || !algo_md(algo) || algo_md(algo) != signer->md ||
		    algo_rsa(algo) != signer->rsa || algo == AMD_ALGO_ECDH_SHA256 || algo == AMD_ALGO_ECDH_SHA384)
			continue;
		candidates++;
		if (signer->rsa) {
			uint8_t sig[SEV_SIG_LEN];
			size_t n = (size_t)EVP_PKEY_get_size(signer->key), j;

			for (j = 0; j < n; j++)
				sig[j] = s[8 + n - 1 - j];
			ok = amd_verify(signer->key, signer->md, true, cert, AMD_SEV_CERT_BODY_LEN, sig, n);
		} else {
			ok = amd_ecdsa_verify_le(signer->key, signer->md, cert, AMD_SEV_CERT_BODY_LEN, s + 8,
						 s + 8 + SEV_FIELD_LEN, SEV_FIELD_LEN, err);
		}
		if (ok < 0)
			return err_set(err, "cannot check a signature (OpenSSL)");
		if (ok)
			return 0;
	}
	if (!candidates)
		return err_set(err, "neither signature slot holds a signature by an %s key", amd_usage_name(signer->usage));
	return err_set(err, "its signature by the %s does not verify", amd_usage_name(signer->usage));
}

/* ---- the chain ---- */

struct link_state {
	FILE *out;
	struct cloak_err *first;
	bool failed;
};

static void link_result(struct link_state *st, const char *what, int rc, struct cloak_err *e)
{
	if (st->out)
		fprintf(st->out, "%-22s %s%s%s\n", what, rc == 0 ? "ok" : "INVALID", rc == 0 ? "" : ": ",
			rc == 0 ? "" : e->msg);
	if (rc < 0 && !st->failed) {
		err_set(st->first, "%s: %s", what, e->msg);
		st->failed = true;
	}
}

static int want_usage(uint32_t got, uint32_t want, const char *file, struct cloak_err *err)
{
	if (got != want)
		return err_set(err, "the %s file holds a certificate with key usage 0x%x (%s), not the %s's 0x%x", file,
			       got, amd_usage_name(got), amd_usage_name(want), want);
	return 0;
}

int amd_sev_chain_verify(const struct amd_sev_chain *c, FILE *out, struct cloak_err *err)
{
	struct amd_signer ark = { 0 }, ask = { 0 }, cek = { 0 }, oca = { 0 }, pek = { 0 };
	struct link_state st = { out, err, false };
	struct cloak_err e = { "" };
	int rc;

	/* Each file must hold the certificate its name says before any signature is worth checking. */
	if (amd_ca_cert_signer(c->ark, c->ark_len, &ark, &e) < 0)
		return err_set(err, "--ark: %s", e.msg);
	if (amd_ca_cert_signer(c->ask, c->ask_len, &ask, &e) < 0) {
		amd_signer_free(&ark);
		return err_set(err, "--ask: %s", e.msg);
	}
	rc = want_usage(ark.usage, AMD_USAGE_ARK, "--ark", err);
	if (!rc)
		rc = want_usage(ask.usage, AMD_USAGE_ASK, "--ask", err);
	if (!rc)
		rc = want_usage(amd_sev_cert_usage(c->cek), AMD_USAGE_CEK, "--cek", err);
	if (!rc)
		rc = want_usage(amd_sev_cert_usage(c->oca), AMD_USAGE_OCA, "--oca", err);
	if (!rc)
		rc = want_usage(amd_sev_cert_usage(c->pek), AMD_USAGE_PEK, "--pek", err);
	if (!rc)
		rc = want_usage(amd_sev_cert_usage(c->pdh), AMD_USAGE_PDH, "--pdh", err);
	if (!rc && amd_sev_cert_signer(c->cek, &cek, &e) < 0)
		rc = err_set(err, "--cek: %s", e.msg);
	if (!rc && amd_sev_cert_signer(c->oca, &oca, &e) < 0)
		rc = err_set(err, "--oca: %s", e.msg);
	if (!rc && amd_sev_cert_signer(c->pek, &pek, &e) < 0)
		rc = err_set(err, "--pek: %s", e.msg);
	if (!rc) {
		const char *product = amd_ca_cert_product(c->ark, c->ark_len);
		char id[33];

		hex16(ark.id, id);
		if (out)
			fprintf(out, "ARK key ID %s: %s%s%s\n", id, product ? "AMD's " : "NOT one of AMD's published SEV roots",
				product ? product : "", product ? " root" : "");
		/* sevctl's order: from the PDH up to the ARK; every link is checked and shown. */
		link_result(&st, "PEK signs PDH", amd_sev_cert_verify(&pek, c->pdh, &e), &e);
		link_result(&st, "OCA signs PEK", amd_sev_cert_verify(&oca, c->pek, &e), &e);
		link_result(&st, "OCA is self-signed", amd_sev_cert_verify(&oca, c->oca, &e), &e);
		link_result(&st, "CEK signs PEK", amd_sev_cert_verify(&cek, c->pek, &e), &e);
		rc = amd_sev_cert_verify(&ask, c->cek, &e);
		/* The CEK names no signer; a wrong --ask is most often another product generation's. */
		if (rc < 0) {
			char why[sizeof(e.msg)];

			snprintf(why, sizeof(why), "%s", e.msg);
			err_set(&e, "%s: is --ask the ASK of this platform's product (Naples, Rome, Milan, Genoa, Turin), "
				    "as `sevctl export --full` or AMD's KDS gives it?", why);
		}
		link_result(&st, "ASK signs CEK", rc, &e);
		link_result(&st, "ARK signs ASK", amd_ca_cert_verify(&ark, c->ask, c->ask_len, &e), &e);
		if (!amd_ca_cert_signed(c->ark, c->ark_len) && product) {
			/* AMD first published the Naples ARK without its signature; a pinned root needs none. */
			if (out)
				fprintf(out, "%-22s skipped: this copy of AMD's %s ARK holds no signature; its key is AMD's\n",
					"ARK is self-signed", product);
		} else {
			link_result(&st, "ARK is self-signed", amd_ca_cert_verify(&ark, c->ark, c->ark_len, &e), &e);
		}
		rc = st.failed ? 1 : 0;
	}
	amd_signer_free(&ark);
	amd_signer_free(&ask);
	amd_signer_free(&cek);
	amd_signer_free(&oca);
	amd_signer_free(&pek);
	return rc;
}
