/* amd_test_certs.h: certificates in AMD's formats (AMD-signed CA, SEV platform, X.509 as KDS serves it), made by the tests. */
#ifndef CLOAK_AMD_TEST_CERTS_H
#define CLOAK_AMD_TEST_CERTS_H

#include <openssl/evp.h>
#include <openssl/x509.h>
#include <stdarg.h>
#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

/* An ARK or ASK in the AMD-signed format: a 64-byte header, then exponent, modulus and signature of bits / 8 each. */
#define AMD_CA_CERT_LEN(bits) (64 + 3 * (bits) / 8)

/* Little-endian stores, as AMD's formats lay numbers out. */
void put32(uint8_t *p, uint32_t v);
void put64(uint8_t *p, uint64_t v);

/* The RSA parameter `param` of k (OSSL_PKEY_PARAM_RSA_E or _N), little-endian in `len` bytes. */
void rsa_le(EVP_PKEY *k, const char *param, uint8_t *out, int len);
/* RSA-PSS over msg with MGF1 of the same digest and a salt of `salt` bytes (or RSA_PSS_SALTLEN_DIGEST), little-endian in `len` bytes. */
void pss_sign_le(EVP_PKEY *k, const EVP_MD *md, int salt, const uint8_t *msg, size_t n, uint8_t *out, size_t len);

/*
 * An ARK or ASK of `bits` (2048: SHA-256, 4096: SHA-384) in the AMD-signed format holding k, with key ID
 * `id`, signed by `signer` whose key ID is signer_id with an RSA-PSS salt of `salt` bytes.
 */
void ca_cert_make(uint8_t *c, unsigned bits, uint32_t usage, EVP_PKEY *k, uint8_t id, EVP_PKEY *signer,
		  uint8_t signer_id, int salt);
/* An SEV-format certificate (API 1.55) holding k's public key, with both signature slots empty. */
void sev_cert_make(uint8_t *c, uint32_t usage, uint32_t algo, EVP_PKEY *k);
/* Signs an SEV-format certificate in signature slot 0 or 1, as the holder of `usage` with `algo`. */
void sev_cert_sign(uint8_t *c, unsigned slot, uint32_t usage, uint32_t algo, EVP_PKEY *signer);

/* An X.509 certificate, unsigned: O=Advanced Micro Devices and CN=cn, issued by the same O and issuer_cn. */
X509 *x509_make(const char *cn, EVP_PKEY *key, const char *issuer_cn, long serial);
/* Signs with AMD's parameters (RSA-PSS, SHA-384, MGF1 SHA-384, salt 48), or with pss false PKCS #1 v1.5 SHA-384. */
void x509_sign(X509 *c, EVP_PKEY *signer, bool pss);
/* An extension of the given OID whose OCTET STRING holds d. */
void x509_ext_raw(X509 *c, const char *oid, const uint8_t *d, int n);
/* An extension holding a DER INTEGER, as AMD's SPL extensions do. */
void x509_ext_int(X509 *c, const char *oid, long v);
/* Writes the certificates (a NULL-terminated list) as one PEM file at path. */
void pem_write(const char *path, ...);
void pem_vwrite(const char *path, va_list certs);

#endif
