/* amd_cert.h: AMD's key and certificate formats: the SEV platform chain (ARK, ASK, CEK, OCA, PEK, PDH) and its checks. */
#ifndef CLOAK_AMD_CERT_H
#define CLOAK_AMD_CERT_H

#include "cloak.h"

#include <openssl/types.h>
#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>

/* Key usages, as both formats record them. */
#define AMD_USAGE_ARK 0x0000u
#define AMD_USAGE_ASK 0x0013u
#define AMD_USAGE_INVALID 0x1000u
#define AMD_USAGE_OCA 0x1001u
#define AMD_USAGE_PEK 0x1002u
#define AMD_USAGE_PDH 0x1003u
#define AMD_USAGE_CEK 0x1004u

/* Algorithms of the SEV certificate format. */
#define AMD_ALGO_RSA_SHA256 0x0001u
#define AMD_ALGO_ECDSA_SHA256 0x0002u
#define AMD_ALGO_ECDH_SHA256 0x0003u
#define AMD_ALGO_RSA_SHA384 0x0101u
#define AMD_ALGO_ECDSA_SHA384 0x0102u
#define AMD_ALGO_ECDH_SHA384 0x0103u

#define AMD_SEV_CERT_LEN 0x824      /* the SEV format: CEK, OCA, PEK, PDH */
#define AMD_SEV_CERT_BODY_LEN 0x414 /* what its signatures cover */
#define AMD_CA_CERT_HDR_LEN 64      /* the AMD-signed format (ARK, ASK): header, then exponent, modulus, signature */
#define AMD_CA_CERT_MAX (AMD_CA_CERT_HDR_LEN + 3 * 512)

/* "ARK", "PEK", ... or "unknown". */
const char *amd_usage_name(uint32_t usage);

/* A key that signs certificates, with what its signatures must say about themselves. */
struct amd_signer {
	EVP_PKEY *key;
	uint32_t usage;
	const EVP_MD *md;
	bool rsa;
	bool has_id;
	uint8_t id[16];      /* an AMD-signed certificate's key ID: what the certificates it signs name */
};
void amd_signer_free(struct amd_signer *s);

/* AMD-signed (ARK/ASK) certificates: the key of one, and the check of one's signature by `signer`. */
int amd_ca_cert_signer(const uint8_t *cert, size_t len, struct amd_signer *out, struct cloak_err *err);
int amd_ca_cert_verify(const struct amd_signer *signer, const uint8_t *cert, size_t len, struct cloak_err *err);
/*
 * AMD publishes the ASK and ARK as one file (ask_ark_<product>.cert, the ASK
 * then the ARK). When `data` is such a pair, sets *off and *cert_len to the
 * certificate of `usage` in it and returns 1; otherwise the whole of `data`, 0.
 */
int amd_ca_cert_pick(const uint8_t *data, size_t len, uint32_t usage, size_t *off, size_t *cert_len);
/* "Naples", "Rome", "Milan", "Genoa", "Turin" when the certificate holds that product's published ARK key; else NULL. */
const char *amd_ca_cert_product(const uint8_t *cert, size_t len);
/* Whether an AMD-signed certificate carries its signature (AMD's first Naples ARK stops after the modulus). */
bool amd_ca_cert_signed(const uint8_t *cert, size_t len);

/* SEV-format certificates: the key of one (a signing key; PDH is ECDH) and the check that `signer` signed it. */
int amd_sev_cert_signer(const uint8_t cert[AMD_SEV_CERT_LEN], struct amd_signer *out, struct cloak_err *err);
int amd_sev_cert_verify(const struct amd_signer *signer, const uint8_t cert[AMD_SEV_CERT_LEN], struct cloak_err *err);
uint32_t amd_sev_cert_usage(const uint8_t cert[AMD_SEV_CERT_LEN]);

/* The whole platform chain, as `sevctl verify` checks it. */
struct amd_sev_chain {
	const uint8_t *ark, *ask, *cek, *oca, *pek, *pdh;
	size_t ark_len, ask_len;    /* the SEV-format ones are AMD_SEV_CERT_LEN */
};
/*
 * ARK (self-signed) -> ASK -> CEK -> PEK <- OCA (self-signed), PEK -> PDH.
 * Checks every link and prints one line per link on `out` (may be NULL).
 * Returns 0 when all hold, 1 when one does not (err names the first broken
 * link), -1 when a file does not hold the certificate its role needs.
 */
int amd_sev_chain_verify(const struct amd_sev_chain *c, FILE *out, struct cloak_err *err);

/* ---- pieces shared with the SNP formats ---- */

/* A public EC key from AMD's little-endian, zero-padded coordinates; curve 1 P-256, 2 P-384. */
EVP_PKEY *amd_ec_key_from_le(uint32_t curve, const uint8_t *x, const uint8_t *y, size_t field_len, struct cloak_err *err);
/* Verifies an ECDSA signature given as little-endian r and s fields of `field_len` bytes. */
int amd_ecdsa_verify_le(EVP_PKEY *key, const EVP_MD *md, const uint8_t *msg, size_t len, const uint8_t *r,
			const uint8_t *s, size_t field_len, struct cloak_err *err);
/* Signs and writes r and s little-endian into `field_len`-byte fields. */
int amd_ecdsa_sign_le(EVP_PKEY *key, const EVP_MD *md, const uint8_t *msg, size_t len, uint8_t *r, uint8_t *s,
		      size_t field_len, struct cloak_err *err);
/* RSA-PSS (salt = digest length, MGF1 with the same hash) or ECDSA (DER) over msg. 1 good, 0 bad, -1 error. */
int amd_verify(EVP_PKEY *key, const EVP_MD *md, bool pss, const uint8_t *msg, size_t len, const uint8_t *sig,
	       size_t siglen);

#endif
