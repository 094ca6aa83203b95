/* snp_report.h: SNP attestation reports, the VCEK's chain to AMD's ARK, and the ID block of SNP_LAUNCH_FINISH. */
#ifndef CLOAK_SNP_REPORT_H
#define CLOAK_SNP_REPORT_H

#include "cloak.h"

#include <openssl/types.h>
#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>

/* ---- the attestation report (SNP ABI, ATTESTATION_REPORT) ---- */

#define SNP_REPORT_LEN 0x4a0
#define SNP_REPORT_SIGNED_LEN 0x2a0     /* the signature covers the bytes before it */
#define SNP_SIG_FIELD_LEN 72            /* r and s, little-endian, zero-padded */

struct snp_report {
	uint32_t version;
	uint32_t guest_svn;
	uint64_t policy;
	uint8_t family_id[16];
	uint8_t image_id[16];
	uint32_t vmpl;
	uint32_t signature_algo;
	uint64_t current_tcb;
	uint64_t platform_info;
	uint32_t flags;                 /* bit 0 AUTHOR_KEY_EN, bit 1 MASK_CHIP_KEY, bits 2-4 SIGNING_KEY */
	uint32_t reserved0;
	uint8_t report_data[64];
	uint8_t measurement[48];
	uint8_t host_data[32];
	uint8_t id_key_digest[48];
	uint8_t author_key_digest[48];
	uint8_t report_id[32];
	uint8_t report_id_ma[32];
	uint64_t reported_tcb;
	uint8_t cpuid_fam_id, cpuid_mod_id, cpuid_step;   /* version 3 and later */
	uint8_t reserved1[21];
	uint8_t chip_id[64];
	uint64_t committed_tcb;
	uint8_t current_build, current_minor, current_major, reserved2;
	uint8_t committed_build, committed_minor, committed_major, reserved3;
	uint64_t launch_tcb;
	uint64_t launch_mit_vector;     /* version 5 and later: the mitigations at launch, and now */
	uint64_t current_mit_vector;
	uint8_t reserved4[152];
	uint8_t sig_r[SNP_SIG_FIELD_LEN];
	uint8_t sig_s[SNP_SIG_FIELD_LEN];
	uint8_t sig_reserved[368];
} __attribute__((packed));
_Static_assert(sizeof(struct snp_report) == SNP_REPORT_LEN, "an attestation report is 0x4a0 bytes");

#define SNP_SIG_ALGO_ECDSA_P384_SHA384 1u

/* The report's SIGNING_KEY field (flags bits 2-4): which key signed it. */
#define SNP_SIGNING_KEY_VCEK 0u
#define SNP_SIGNING_KEY_VLEK 1u
#define SNP_SIGNING_KEY_NONE 7u
unsigned snp_report_signing_key(const struct snp_report *r);
/* "Milan", "Genoa", "Turin" from a version 3+ report's CPUID family and model; NULL when unknown or older. */
const char *snp_report_product(const struct snp_report *r);

/* A report from its binary form (0x4a0 bytes) or hex text; refuses other sizes and unknown versions. */
int snp_report_parse(const uint8_t *data, size_t len, struct snp_report *r, struct cloak_err *err);
/* Prints every field, one per line, as `report show` shows it. */
void snp_report_print(const struct snp_report *r, FILE *out);

/* The TCB fields of a TCB_VERSION; the layout differs on Turin (family 0x1a) and later. */
struct snp_tcb {
	uint8_t fmc, bootloader, tee, snp, microcode;
};
void snp_tcb_decode(uint64_t tcb, bool turin_layout, struct snp_tcb *t);
/* Whether the report's TCBs use Turin's layout (version 3+ reports name the CPU family). */
bool snp_report_turin_layout(const struct snp_report *r);

/* Checks the report's ECDSA P-384 SHA-384 signature with the VCEK's public key: 0 good, 1 bad, -1 error. */
int snp_report_verify_sig(const struct snp_report *r, EVP_PKEY *vcek, struct cloak_err *err);

/* ---- the VCEK chain (X.509, RSA-PSS SHA-384, as AMD's KDS serves it) ---- */

struct snp_ca {
	X509 *ark;
	X509 *ask;               /* signs VCEKs (CN SEV-<product>); NULL when the bundle has only the ASVK */
	X509 *asvk;              /* signs VLEKs (CN SEV-VLEK-<product>); NULL when absent */
	X509 *leaf;              /* a VCEK or VLEK that came in the same bundle; NULL when none */
	const char *product;     /* "Milan", "Genoa", "Turin" when the ARK is one of AMD's; NULL when not */
};
/*
 * Reads a PEM bundle: the ARK (the one self-issued certificate) and the ASK
 * and/or ASVK it issued, in any order; KDS's cert_chain is ASK then ARK (ASVK
 * then ARK for VLEKs). A VCEK or VLEK in the bundle is kept as `leaf`.
 */
int snp_ca_load(const char *path, struct snp_ca *ca, struct cloak_err *err);
void snp_ca_free(struct snp_ca *ca);
/* ARK self-signed, ARK -> ASK and ARK -> ASVK, each with RSA-PSS; 0 good, 1 a link broken, -1 error. */
int snp_ca_verify(const struct snp_ca *ca, FILE *out, struct cloak_err *err);
/* Whether a certificate is a VLEK (CN SEV-VLEK, or issued by an ASVK) rather than a VCEK. */
bool snp_cert_is_vlek(X509 *c);
/* ASK -> VCEK, or ASVK -> VLEK, and its key is P-384: 0 good, 1 broken, -1 error. */
int snp_vcek_verify(const struct snp_ca *ca, X509 *vcek, FILE *out, struct cloak_err *err);
/*
 * The VCEK's (or VLEK's) kind, hardware ID and TCB extensions agree with the
 * report: 0 agree, 1 differ, -1 unreadable. A VLEK has no hardware ID, and a
 * report with MASK_CHIP_KEY no chip ID: that part is skipped and said so.
 */
int snp_vcek_matches_report(X509 *vcek, const struct snp_report *r, FILE *out, struct cloak_err *err);

/* ---- the ID block and ID authentication information (SNP_LAUNCH_FINISH) ---- */

#define SNP_ID_BLOCK_LEN 96
#define SNP_ID_AUTH_LEN 4096
#define SNP_PUBKEY_LEN 0x404      /* AMD's public key format: curve, Qx, Qy, reserved */
#define SNP_POLICY_DEFAULT 0x30000ull  /* SMT allowed and the must-be-one bit 17 */

struct snp_id_inputs {
	uint8_t launch_digest[48];
	uint8_t family_id[16], image_id[16];
	uint32_t guest_svn;
	uint64_t policy;
	EVP_PKEY *id_key;         /* P-384 private keys */
	EVP_PKEY *author_key;     /* NULL: no author key */
};
struct snp_id_outputs {
	uint8_t id_block[SNP_ID_BLOCK_LEN];
	uint8_t id_auth[SNP_ID_AUTH_LEN];
	uint8_t id_key_digest[48];
	uint8_t author_key_digest[48];   /* zeros without an author key */
};
int snp_id_block_build(const struct snp_id_inputs *in, struct snp_id_outputs *out, struct cloak_err *err);

/* ID authentication information offsets (SNP ABI, SNP_LAUNCH_FINISH). */
#define SNP_AUTH_OFF_ID_ALGO 0x000
#define SNP_AUTH_OFF_AUTHOR_ALGO 0x004
#define SNP_AUTH_OFF_BLOCK_SIG 0x040
#define SNP_AUTH_OFF_ID_KEY 0x240
#define SNP_AUTH_OFF_ID_KEY_SIG 0x680
#define SNP_AUTH_OFF_AUTHOR_KEY 0x880

/* What an ID block says, and the digests of the keys that signed it. */
struct snp_id_block_fields {
	uint8_t launch_digest[48];
	uint8_t family_id[16], image_id[16];
	uint32_t version, guest_svn;
	uint64_t policy;
	uint8_t id_key_digest[48];
	uint8_t author_key_digest[48];   /* zeros without an author key */
};
/*
 * The firmware's signature checks at SNP_LAUNCH_FINISH: the ID key signed the
 * ID block and, with author_key_en, the author key signed the ID key. Returns 0
 * when both hold, 1 when a signature does not verify, -1 when a key or its
 * algorithm is not ECDSA P-384 (err says which). The caller compares the fields.
 */
int snp_id_block_verify(const uint8_t id_block[SNP_ID_BLOCK_LEN], const uint8_t id_auth[SNP_ID_AUTH_LEN],
			bool author_key_en, struct snp_id_block_fields *out, struct cloak_err *err);
/* A P-384 key in AMD's public key format (0x404 bytes), whose SHA-384 is what reports call its digest. */
int snp_pubkey_encode(EVP_PKEY *key, uint8_t out[SNP_PUBKEY_LEN], struct cloak_err *err);

#endif
