/* snp_report.c: SNP attestation reports and their VCEK chain, and the ID block an owner signs for SNP_LAUNCH_FINISH. */
#include "sev/snp_report.h"

#include "sev/amd_cert.h"
#include "sev/snp_measure.h"

#include <ctype.h>
#include <openssl/asn1.h>
#include <openssl/bn.h>
#include <openssl/core_names.h>
#include <openssl/evp.h>
#include <openssl/objects.h>
#include <openssl/pem.h>
#include <openssl/x509.h>
#include <openssl/x509v3.h>
#include <stddef.h>
#include <string.h>

_Static_assert(offsetof(struct snp_report, report_data) == 0x50, "report_data");
_Static_assert(offsetof(struct snp_report, measurement) == 0x90, "measurement");
_Static_assert(offsetof(struct snp_report, host_data) == 0xc0, "host_data");
_Static_assert(offsetof(struct snp_report, id_key_digest) == 0xe0, "id_key_digest");
_Static_assert(offsetof(struct snp_report, author_key_digest) == 0x110, "author_key_digest");
_Static_assert(offsetof(struct snp_report, reported_tcb) == 0x180, "reported_tcb");
_Static_assert(offsetof(struct snp_report, chip_id) == 0x1a0, "chip_id");
_Static_assert(offsetof(struct snp_report, committed_tcb) == 0x1e0, "committed_tcb");
_Static_assert(offsetof(struct snp_report, launch_tcb) == 0x1f0, "launch_tcb");
_Static_assert(offsetof(struct snp_report, launch_mit_vector) == 0x1f8, "launch_mit_vector");
_Static_assert(offsetof(struct snp_report, current_mit_vector) == 0x200, "current_mit_vector");
_Static_assert(offsetof(struct snp_report, cpuid_fam_id) == 0x188, "cpuid_fam_id");
_Static_assert(offsetof(struct snp_report, current_build) == 0x1e8, "current_build");
_Static_assert(offsetof(struct snp_report, committed_build) == 0x1ec, "committed_build");
_Static_assert(offsetof(struct snp_report, sig_r) == SNP_REPORT_SIGNED_LEN, "signature");

/* ---- the report ---- */

static int hexval(int c)
{
	return isdigit(c) ? c - '0' : isxdigit(c) ? tolower(c) - 'a' + 10 : -1;
}

int snp_report_parse(const uint8_t *data, size_t len, struct snp_report *r, struct cloak_err *err)
{
	uint8_t bin[SNP_REPORT_LEN];
	size_t i, n = 0;

	if (len == SNP_REPORT_LEN) {
		memcpy(bin, data, len);
	} else {
		uint32_t v = len >= 4 ? (uint32_t)data[0] | (uint32_t)data[1] << 8 | (uint32_t)data[2] << 16 |
						(uint32_t)data[3] << 24 : 0;

		/* Two wrappers real tools hand out: Azure's HCL report, and a report with its certificate table. */
		if (len >= 0x20 + SNP_REPORT_LEN && !memcmp(data, "HCLA", 4))
			return err_set(err, "it is an Azure HCL report (it starts with HCLA), not an attestation report: the "
					    "report is its %d bytes from offset 32 (`dd if=FILE of=report.bin bs=1 skip=32 "
					    "count=%d`)", SNP_REPORT_LEN, SNP_REPORT_LEN);
		if (len > SNP_REPORT_LEN && v >= 2 && v <= 5 && data[0x34] == SNP_SIG_ALGO_ECDSA_P384_SHA384)
			return err_set(err, "it is %zu bytes: a version %u report followed by %zu more bytes (an extended "
					    "report's certificate table?); give the report alone (`head -c %d FILE`)", len, v,
				       len - SNP_REPORT_LEN, SNP_REPORT_LEN);
		/* Hex text (whitespace allowed), as some tools print a report. */
		for (i = 0; i < len; i++) {
			int hi, lo;

			if (isspace(data[i]))
				continue;
			if (i + 1 >= len || (hi = hexval(data[i])) < 0 || (lo = hexval(data[i + 1])) < 0 ||
			    n == SNP_REPORT_LEN)
				return err_set(err, "it is %zu bytes and not hex of %d bytes: an attestation report is %d "
						    "bytes (as snpguest writes report.bin)", len, SNP_REPORT_LEN, SNP_REPORT_LEN);
			bin[n++] = (uint8_t)(hi << 4 | lo);
			i++;
		}
		if (n != SNP_REPORT_LEN)
			return err_set(err, "it holds %zu bytes; an attestation report is %d", n, SNP_REPORT_LEN);
	}
	memcpy(r, bin, sizeof(*r));
	if (r->version < 2 || r->version > 5)
		return err_set(err, "report version %u; versions 2 to 5 are the ones known", r->version);
	return 0;
}

bool snp_report_turin_layout(const struct snp_report *r)
{
	return r->version >= 3 && r->cpuid_fam_id >= 0x1a;
}

void snp_tcb_decode(uint64_t tcb, bool turin_layout, struct snp_tcb *t)
{
	memset(t, 0, sizeof(*t));
	if (turin_layout) {
		t->fmc = (uint8_t)tcb;
		t->bootloader = (uint8_t)(tcb >> 8);
		t->tee = (uint8_t)(tcb >> 16);
		t->snp = (uint8_t)(tcb >> 24);
	} else {
		t->bootloader = (uint8_t)tcb;
		t->tee = (uint8_t)(tcb >> 8);
		t->snp = (uint8_t)(tcb >> 48);
	}
	t->microcode = (uint8_t)(tcb >> 56);
}

static void print_hex(FILE *out, const char *name, const uint8_t *d, size_t n)
{
	size_t i;

	fprintf(out, "%-20s ", name);
	for (i = 0; i < n; i++)
		fprintf(out, "%02x", d[i]);
	fputc('\n', out);
}

static void print_tcb(FILE *out, const char *name, uint64_t v, bool turin)
{
	struct snp_tcb t;

	snp_tcb_decode(v, turin, &t);
	fprintf(out, "%-20s 0x%016llx (", name, (unsigned long long)v);
	if (turin)
		fprintf(out, "fmc %u, ", t.fmc);
	fprintf(out, "bootloader %u, tee %u, snp %u, microcode %u)\n", t.bootloader, t.tee, t.snp, t.microcode);
}

unsigned snp_report_signing_key(const struct snp_report *r)
{
	return (r->flags >> 2) & 7;
}

const char *snp_report_product(const struct snp_report *r)
{
	/* Version 2 reports have no CPUID fields; AMD's KDS names the products by family and model. */
	if (r->version < 3)
		return NULL;
	if (r->cpuid_fam_id == 0x19 && r->cpuid_mod_id <= 0x0f)
		return "Milan";
	if (r->cpuid_fam_id == 0x19 && ((r->cpuid_mod_id >= 0x10 && r->cpuid_mod_id <= 0x1f) ||
					(r->cpuid_mod_id >= 0xa0 && r->cpuid_mod_id <= 0xaf)))
		return "Genoa";
	if (r->cpuid_fam_id == 0x1a)
		return "Turin";
	return NULL;
}

/* Prints the names of the set bits among `names` (NULL: no name), then the unnamed ones in hex. */
static void print_bits(FILE *out, uint64_t v, unsigned first, const char *const *names, unsigned n)
{
	uint64_t unnamed = 0;
	bool any = false;
	unsigned i;

	for (i = first; i < 64; i++) {
		if (!(v >> i & 1))
			continue;
		if (i - first < n && names[i - first]) {
			fprintf(out, "%s%s", any ? ", " : "", names[i - first]);
			any = true;
		} else {
			unnamed |= 1ull << i;
		}
	}
	if (unnamed) {
		fprintf(out, "%sunknown bits 0x%llx", any ? ", " : "", (unsigned long long)unnamed);
		any = true;
	}
	if (!any)
		fprintf(out, "none");
}

void snp_report_print(const struct snp_report *r, FILE *out)
{
	static const char *const keys[8] = { "VCEK", "VLEK", "2 (reserved)", "3 (reserved)", "4 (reserved)",
					     "5 (reserved)", "6 (reserved)", "no key" };
	/* Guest policy bits 16 up, and platform info bits 0 up, as the SNP ABI names them. */
	static const char *const policy_bits[10] = { "SMT allowed", NULL, "migration agent", "DEBUG ALLOWED",
						     "single socket", "CXL allowed", "AES-256-XTS required",
						     "RAPL disabled required", "ciphertext hiding required",
						     "page swap disabled" };
	static const char *const platform_bits[8] = { "SMT enabled", "TSME enabled", "ECC memory", "RAPL disabled",
						      "ciphertext hiding enabled", "alias check complete", NULL,
						      "TIO enabled" };
	bool turin = snp_report_turin_layout(r);
	const char *product = snp_report_product(r);

	fprintf(out, "%-20s %u\n", "version", r->version);
	fprintf(out, "%-20s %u\n", "guest_svn", r->guest_svn);
	fprintf(out, "%-20s 0x%llx (ABI %llu.%llu; ", "policy", (unsigned long long)r->policy,
		(unsigned long long)((r->policy >> 8) & 0xff), (unsigned long long)(r->policy & 0xff));
	/* Bit 17 must be one and says nothing; it is left out of the names. */
	print_bits(out, r->policy & ~(1ull << 17), 16, policy_bits, 10);
	fprintf(out, ")\n");
	print_hex(out, "family_id", r->family_id, sizeof(r->family_id));
	print_hex(out, "image_id", r->image_id, sizeof(r->image_id));
	fprintf(out, "%-20s %u\n", "vmpl", r->vmpl);
	fprintf(out, "%-20s %u%s\n", "signature_algo", r->signature_algo,
		r->signature_algo == SNP_SIG_ALGO_ECDSA_P384_SHA384 ? " (ECDSA P-384 SHA-384)" : " (unknown)");
	print_tcb(out, "current_tcb", r->current_tcb, turin);
	fprintf(out, "%-20s 0x%llx (", "platform_info", (unsigned long long)r->platform_info);
	print_bits(out, r->platform_info, 0, platform_bits, 8);
	fprintf(out, ")\n");
	fprintf(out, "%-20s 0x%x (author key %s, chip key %s, signed by %s)\n", "flags", r->flags,
		r->flags & 1 ? "present" : "absent", r->flags & 2 ? "masked" : "shown", keys[snp_report_signing_key(r)]);
	print_hex(out, "report_data", r->report_data, sizeof(r->report_data));
	print_hex(out, "measurement", r->measurement, sizeof(r->measurement));
	print_hex(out, "host_data", r->host_data, sizeof(r->host_data));
	print_hex(out, "id_key_digest", r->id_key_digest, sizeof(r->id_key_digest));
	print_hex(out, "author_key_digest", r->author_key_digest, sizeof(r->author_key_digest));
	print_hex(out, "report_id", r->report_id, sizeof(r->report_id));
	print_hex(out, "report_id_ma", r->report_id_ma, sizeof(r->report_id_ma));
	print_tcb(out, "reported_tcb", r->reported_tcb, turin);
	/* The CPUID fields came with version 3; before, those bytes are reserved. */
	if (r->version >= 3)
		fprintf(out, "%-20s family 0x%x, model 0x%x, stepping 0x%x (%s)\n", "cpuid", r->cpuid_fam_id,
			r->cpuid_mod_id, r->cpuid_step, product ? product : "unknown product");
	print_hex(out, "chip_id", r->chip_id, sizeof(r->chip_id));
	print_tcb(out, "committed_tcb", r->committed_tcb, turin);
	fprintf(out, "%-20s %u.%u.%u\n", "current_version", r->current_major, r->current_minor, r->current_build);
	fprintf(out, "%-20s %u.%u.%u\n", "committed_version", r->committed_major, r->committed_minor, r->committed_build);
	print_tcb(out, "launch_tcb", r->launch_tcb, turin);
	/* The mitigation vectors came with version 5; before, those bytes are reserved. */
	if (r->version >= 5) {
		fprintf(out, "%-20s 0x%llx\n", "launch_mit_vector", (unsigned long long)r->launch_mit_vector);
		fprintf(out, "%-20s 0x%llx\n", "current_mit_vector", (unsigned long long)r->current_mit_vector);
	}
	print_hex(out, "signature_r", r->sig_r, sizeof(r->sig_r));
	print_hex(out, "signature_s", r->sig_s, sizeof(r->sig_s));
}

int snp_report_verify_sig(const struct snp_report *r, EVP_PKEY *vcek, struct cloak_err *err)
{
	int ok;

	if (r->signature_algo != SNP_SIG_ALGO_ECDSA_P384_SHA384)
		return err_set(err, "the report's signature algorithm is %u, not 1 (ECDSA P-384 SHA-384)", r->signature_algo);
	ok = amd_ecdsa_verify_le(vcek, EVP_sha384(), (const uint8_t *)r, SNP_REPORT_SIGNED_LEN, r->sig_r, r->sig_s,
				 SNP_SIG_FIELD_LEN, err);
	if (ok < 0)
		return -1;
	return ok ? 0 : 1;
}

/* ---- the VCEK chain ---- */

/* SHA-256 of the DER public keys of AMD's published SNP roots (KDS cert_chain, ARK-<product>). */
static const struct {
	const char *product;
	const char *spki_sha256;
} amd_arks[] = {
	{ "Milan", "9f056bee44377e29308cb5ffa895bdfb62d18881fa6bed8d6f075b0204089cb9" },
	{ "Genoa", "429a69c9422aa258ee4d8db5fcda9c6470ef15f8cd5a9cebd6cbc7d90b863831" },
	{ "Turin", "4f125410563a2ab9a50356f9243f6fe0b6f73de98603f53f90339c70e9d7ad08" },
};

static const char *known_ark(X509 *ark)
{
	unsigned char *der = NULL, h[32];
	char hex[65];
	unsigned int hl = 0;
	int n = i2d_PUBKEY(X509_get0_pubkey(ark), &der);
	size_t i;

	if (n <= 0 || EVP_Digest(der, (size_t)n, h, &hl, EVP_sha256(), NULL) != 1) {
		OPENSSL_free(der);
		return NULL;
	}
	OPENSSL_free(der);
	for (i = 0; i < 32; i++)
		snprintf(hex + 2 * i, 3, "%02x", h[i]);
	for (i = 0; i < sizeof(amd_arks) / sizeof(amd_arks[0]); i++)
		if (!strcmp(hex, amd_arks[i].spki_sha256))
			return amd_arks[i].product;
	return NULL;
}

static bool self_issued(X509 *c)
{
	return X509_NAME_cmp(X509_get_subject_name(c), X509_get_issuer_name(c)) == 0;
}

static const char *common_name(X509 *c, char *buf, size_t n)
{
	if (X509_NAME_get_text_by_NID(X509_get_subject_name(c), NID_commonName, buf, (int)n) < 0)
		snprintf(buf, n, "(no CN)");
	return buf;
}

static const char *issuer_cn(X509 *c, char *buf, size_t n)
{
	if (X509_NAME_get_text_by_NID(X509_get_issuer_name(c), NID_commonName, buf, (int)n) < 0)
		snprintf(buf, n, "(no CN)");
	return buf;
}

static bool is_ec_key(X509 *c)
{
	EVP_PKEY *k = X509_get0_pubkey(c);

	return k && EVP_PKEY_get_base_id(k) == EVP_PKEY_EC;
}

/* AMD names the VLEK's signer SEV-VLEK-<product> and the VLEK itself SEV-VLEK. */
static bool cn_says_vlek(const char *cn)
{
	return strstr(cn, "VLEK") != NULL;
}

bool snp_cert_is_vlek(X509 *c)
{
	char cn[64], icn[64];

	return cn_says_vlek(common_name(c, cn, sizeof(cn))) || cn_says_vlek(issuer_cn(c, icn, sizeof(icn)));
}

#define SNP_CA_MAX_CERTS 4

int snp_ca_load(const char *path, struct snp_ca *ca, struct cloak_err *err)
{
	X509 *certs[SNP_CA_MAX_CERTS + 1] = { NULL };
	char cn[64];
	FILE *f = fopen(path, "re");
	int n = 0, i, roots = 0;

	memset(ca, 0, sizeof(*ca));
	if (!f)
		return err_errno(err, "cannot open --ca %s", path);
	while (n <= SNP_CA_MAX_CERTS && (certs[n] = PEM_read_X509(f, NULL, NULL, NULL)))
		n++;
	fclose(f);
	if (n > SNP_CA_MAX_CERTS) {
		err_set(err, "--ca %s holds more than %d PEM certificates; give the ARK with its ASK and/or ASVK (and at "
			     "most one VCEK or VLEK)", path, SNP_CA_MAX_CERTS);
		goto fail;
	}
	if (n < 2) {
		err_set(err, "--ca %s holds %d PEM certificates; it must hold the ASK and the ARK (AMD's KDS serves them "
			     "as cert_chain: https://kdsintf.amd.com/vcek/v1/PRODUCT/cert_chain, or /vlek/v1/ for VLEKs)",
			path, n);
		goto fail;
	}
	/* The ARK is the one self-issued certificate; KDS lists the ASK first, but any order is taken. */
	for (i = 0; i < n; i++)
		if (self_issued(certs[i])) {
			roots++;
			ca->ark = certs[i];
		}
	if (roots != 1) {
		ca->ark = NULL;
		err_set(err, "--ca %s: exactly one of its certificates must be self-issued (the ARK); it holds %d", path,
			roots);
		goto fail;
	}
	for (i = 0; i < n; i++) {
		X509 **slot;

		if (certs[i] == ca->ark)
			continue;
		/* RSA keys the ARK issued sign VCEKs (ASK) or VLEKs (ASVK); an EC key is a VCEK or VLEK itself. */
		if (is_ec_key(certs[i]))
			slot = &ca->leaf;
		else
			slot = cn_says_vlek(common_name(certs[i], cn, sizeof(cn))) ? &ca->asvk : &ca->ask;
		if (*slot) {
			err_set(err, "--ca %s holds two certificates of one kind (%s); give the ARK with its ASK (or ASVK)",
				path, common_name(certs[i], cn, sizeof(cn)));
			goto fail;
		}
		*slot = certs[i];
	}
	if (!ca->ask && !ca->asvk) {
		err_set(err, "--ca %s holds no ASK or ASVK beside the ARK; KDS's cert_chain holds both", path);
		goto fail;
	}
	ca->product = known_ark(ca->ark);
	return 0;
fail:
	for (i = 0; i < n; i++)
		X509_free(certs[i]);
	memset(ca, 0, sizeof(*ca));
	return -1;
}

void snp_ca_free(struct snp_ca *ca)
{
	X509_free(ca->ark);
	X509_free(ca->ask);
	X509_free(ca->asvk);
	X509_free(ca->leaf);
	memset(ca, 0, sizeof(*ca));
}

/* `parent` issued and signed `child` with RSA-PSS: 0 yes, 1 no (err says why). */
static int signed_by(X509 *child, X509 *parent, FILE *out, const char *what, struct cloak_err *err)
{
	EVP_PKEY *key = X509_get0_pubkey(parent);
	char why[256] = "", icn[64], pcn[64];

	if (X509_get_signature_nid(child) != NID_rsassaPss)
		snprintf(why, sizeof(why), "its signature is not RSA-PSS, which AMD uses throughout");
	else if (X509_NAME_cmp(X509_get_issuer_name(child), X509_get_subject_name(parent)))
		/* The usual cause: a chain of another product (Milan, Genoa, Turin) than the certificate's. */
		snprintf(why, sizeof(why), "it was issued by %s, not by %s: use the cert_chain of the product that "
					   "issued it",
			 issuer_cn(child, icn, sizeof(icn)), common_name(parent, pcn, sizeof(pcn)));
	else if (!key || X509_verify(child, key) != 1)
		snprintf(why, sizeof(why), "its signature does not verify");
	if (out)
		fprintf(out, "%-22s %s%s\n", what, why[0] ? "INVALID: " : "ok", why);
	if (why[0]) {
		err_set(err, "%s: %s", what, why);
		return 1;
	}
	return 0;
}

int snp_ca_verify(const struct snp_ca *ca, FILE *out, struct cloak_err *err)
{
	struct cloak_err later = { "" };
	char ark_cn[64], ask_cn[64], asvk_cn[64];
	int bad;

	if (out) {
		fprintf(out, "ARK %s (%s)", common_name(ca->ark, ark_cn, sizeof(ark_cn)),
			ca->product ? "one of AMD's published roots" : "NOT one of AMD's published roots");
		if (ca->ask)
			fprintf(out, ", ASK %s", common_name(ca->ask, ask_cn, sizeof(ask_cn)));
		if (ca->asvk)
			fprintf(out, ", ASVK %s", common_name(ca->asvk, asvk_cn, sizeof(asvk_cn)));
		fputc('\n', out);
	}
	/* Every link is checked and shown; err keeps the first that is broken. */
	bad = signed_by(ca->ark, ca->ark, out, "ARK is self-signed", err);
	if (ca->ask)
		bad |= signed_by(ca->ask, ca->ark, out, "ARK signs ASK", bad ? &later : err);
	if (ca->asvk)
		bad |= signed_by(ca->asvk, ca->ark, out, "ARK signs ASVK", bad ? &later : err);
	return bad ? 1 : 0;
}

int snp_vcek_verify(const struct snp_ca *ca, X509 *vcek, FILE *out, struct cloak_err *err)
{
	EVP_PKEY *key = X509_get0_pubkey(vcek);
	bool vlek = snp_cert_is_vlek(vcek);
	X509 *signer = vlek ? ca->asvk : ca->ask;
	char group[32] = "", icn[64];
	size_t gl = 0;

	if (!signer) {
		if (out)
			fprintf(out, "%-22s INVALID: --ca has no %s\n", vlek ? "ASVK signs VLEK" : "ASK signs VCEK",
				vlek ? "ASVK" : "ASK");
		err_set(err, "the %s was issued by %s, but --ca holds no %s: give the %s cert_chain from AMD's KDS "
			     "(https://kdsintf.amd.com/%s/v1/PRODUCT/cert_chain)", vlek ? "VLEK" : "VCEK",
			issuer_cn(vcek, icn, sizeof(icn)), vlek ? "ASVK (SEV-VLEK-<product>)" : "ASK (SEV-<product>)",
			vlek ? "VLEK" : "VCEK", vlek ? "vlek" : "vcek");
		return 1;
	}
	if (signed_by(vcek, signer, out, vlek ? "ASVK signs VLEK" : "ASK signs VCEK", err))
		return 1;
	if (!key || EVP_PKEY_get_base_id(key) != EVP_PKEY_EC ||
	    EVP_PKEY_get_utf8_string_param(key, OSSL_PKEY_PARAM_GROUP_NAME, group, sizeof(group), &gl) != 1 ||
	    (strcmp(group, "secp384r1") && strcmp(group, "P-384"))) {
		err_set(err, "the %s's key is not an EC P-384 key, which signs reports", vlek ? "VLEK" : "VCEK");
		return 1;
	}
	return 0;
}

/* An AMD extension's value: a DER INTEGER for the SPLs, the raw bytes of the hardware ID. */
static const ASN1_OCTET_STRING *amd_ext(X509 *c, const char *oid)
{
	ASN1_OBJECT *obj = OBJ_txt2obj(oid, 1);
	int i = obj ? X509_get_ext_by_OBJ(c, obj, -1) : -1;

	ASN1_OBJECT_free(obj);
	return i < 0 ? NULL : X509_EXTENSION_get_data(X509_get_ext(c, i));
}

static int ext_int(X509 *c, const char *oid, long *v)
{
	const ASN1_OCTET_STRING *os = amd_ext(c, oid);
	const unsigned char *p;
	ASN1_INTEGER *ai;

	if (!os)
		return -1;
	p = ASN1_STRING_get0_data(os);
	ai = d2i_ASN1_INTEGER(NULL, &p, ASN1_STRING_length(os));
	if (!ai)
		return -1;
	*v = ASN1_INTEGER_get(ai);
	ASN1_INTEGER_free(ai);
	return 0;
}

int snp_vcek_matches_report(X509 *vcek, const struct snp_report *r, FILE *out, struct cloak_err *err)
{
	static const char *const names[5] = { "bootloader", "tee", "snp", "microcode", "fmc" };
	static const char *const oids[5] = { "1.3.6.1.4.1.3704.1.3.1", "1.3.6.1.4.1.3704.1.3.2", "1.3.6.1.4.1.3704.1.3.3",
					     "1.3.6.1.4.1.3704.1.3.8", "1.3.6.1.4.1.3704.1.3.9" };
	const ASN1_OCTET_STRING *hw = amd_ext(vcek, "1.3.6.1.4.1.3704.1.4");
	bool turin = snp_report_turin_layout(r), vlek = snp_cert_is_vlek(vcek);
	const char *kind = vlek ? "VLEK" : "VCEK";
	unsigned signing_key = snp_report_signing_key(r);
	const unsigned char *id;
	struct snp_tcb t;
	unsigned want[5];
	int idlen, i;

	/* The report says which key signed it; a VCEK cannot vouch for a VLEK-signed report, nor the reverse. */
	if (signing_key != (vlek ? SNP_SIGNING_KEY_VLEK : SNP_SIGNING_KEY_VCEK)) {
		if (out)
			fprintf(out, "%-22s INVALID: the report's signing key field is %u\n", "report names this key",
				signing_key);
		err_set(err, "the report says it was signed by %s (SIGNING_KEY %u), but the certificate given is a %s; "
			     "give the %s", signing_key == SNP_SIGNING_KEY_VCEK ? "the VCEK" :
			     signing_key == SNP_SIGNING_KEY_VLEK ? "a VLEK" : "no key", signing_key, kind,
			signing_key == SNP_SIGNING_KEY_VLEK ? "VLEK (--vlek) and the VLEK cert_chain" :
			signing_key == SNP_SIGNING_KEY_VCEK ? "chip's VCEK from AMD's KDS" : "report of a guest with a signing key");
		return 1;
	}
	if (vlek) {
		/* A VLEK is the cloud provider's, for many chips: it carries no hardware ID, but the provider's name. */
		const ASN1_OCTET_STRING *csp = amd_ext(vcek, "1.3.6.1.4.1.3704.1.5");
		const unsigned char *p = csp ? ASN1_STRING_get0_data(csp) : NULL;
		int plen = csp ? ASN1_STRING_length(csp) : 0;
		/* A DER IA5String of under 128 bytes: tag 0x16, one length byte, the text. */
		bool named = p && plen >= 2 && p[0] == 0x16 && p[1] < 0x80 && p[1] == plen - 2;

		if (out)
			fprintf(out, "%-22s skipped: a VLEK belongs to a cloud provider (CSP ID %.*s), not to one chip\n",
				"VLEK is this chip's", named ? p[1] : 7, named ? (const char *)p + 2 : "unknown");
	} else if (!hw) {
		return err_set(err, "the VCEK has no hardware-ID extension (1.3.6.1.4.1.3704.1.4); is it a VCEK?");
	} else {
		id = ASN1_STRING_get0_data(hw);
		idlen = ASN1_STRING_length(hw);
		/* KDS puts the raw bytes in the extension; a DER OCTET STRING around all 64 is taken as well. */
		if (idlen == 66 && id[0] == 0x04 && id[1] == 64) {
			id += 2;
			idlen -= 2;
		}
		/* Turin VCEKs carry the first 8 bytes of the chip ID; earlier ones all 64. */
		if (idlen != 64 && idlen != 8)
			return err_set(err, "the VCEK's hardware ID is %d bytes, not 64 or 8", idlen);
		if (r->flags & 2) {
			/* MASK_CHIP_KEY zeroes the report's chip ID; the signature still proves the chip. */
			if (out)
				fprintf(out, "%-22s skipped: the report masks its chip ID (MASK_CHIP_KEY)\n",
					"VCEK is this chip's");
		} else if (memcmp(id, r->chip_id, (size_t)idlen)) {
			if (out)
				fprintf(out, "%-22s INVALID: another chip's VCEK\n", "VCEK is this chip's");
			err_set(err, "the VCEK belongs to another chip: its hardware ID differs from the report's chip_id; "
				     "fetch the VCEK for this chip_id and reported_tcb from AMD's KDS");
			return 1;
		} else if (out) {
			fprintf(out, "%-22s ok\n", "VCEK is this chip's");
		}
	}
	snp_tcb_decode(r->reported_tcb, turin, &t);
	want[0] = t.bootloader;
	want[1] = t.tee;
	want[2] = t.snp;
	want[3] = t.microcode;
	want[4] = t.fmc;
	for (i = 0; i < (turin ? 5 : 4); i++) {
		long v;

		if (ext_int(vcek, oids[i], &v) < 0)
			return err_set(err, "the %s lacks its %s SPL extension (%s)", kind, names[i], oids[i]);
		if (v != (long)want[i]) {
			if (out)
				fprintf(out, "%-22s INVALID: %s SPL %ld, the report's reported_tcb says %u\n",
					vlek ? "VLEK is for this TCB" : "VCEK is for this TCB", names[i], v, want[i]);
			err_set(err, "the %s is for another TCB: %s SPL %ld, the report's reported_tcb says %u; fetch "
				     "the %s for the report's reported_tcb", kind, names[i], v, want[i], kind);
			return 1;
		}
	}
	if (out)
		fprintf(out, "%-22s ok\n", vlek ? "VLEK is for this TCB" : "VCEK is for this TCB");
	return 0;
}

/* ---- the ID block ---- */

static void put_le32(uint8_t *p, uint32_t v)
{
	p[0] = (uint8_t)v;
	p[1] = (uint8_t)(v >> 8);
	p[2] = (uint8_t)(v >> 16);
	p[3] = (uint8_t)(v >> 24);
}

int snp_pubkey_encode(EVP_PKEY *key, uint8_t out[SNP_PUBKEY_LEN], struct cloak_err *err)
{
	BIGNUM *x = NULL, *y = NULL;
	char group[32] = "";
	size_t gl = 0;
	int rc = -1;

	memset(out, 0, SNP_PUBKEY_LEN);
	if (EVP_PKEY_get_base_id(key) != EVP_PKEY_EC ||
	    EVP_PKEY_get_utf8_string_param(key, OSSL_PKEY_PARAM_GROUP_NAME, group, sizeof(group), &gl) != 1 ||
	    (strcmp(group, "secp384r1") && strcmp(group, "P-384")))
		return err_set(err, "the key is not an EC P-384 key, the only kind SNP takes");
	if (!EVP_PKEY_get_bn_param(key, OSSL_PKEY_PARAM_EC_PUB_X, &x) ||
	    !EVP_PKEY_get_bn_param(key, OSSL_PKEY_PARAM_EC_PUB_Y, &y) ||
	    BN_bn2lebinpad(x, out + 4, SNP_SIG_FIELD_LEN) != SNP_SIG_FIELD_LEN ||
	    BN_bn2lebinpad(y, out + 4 + SNP_SIG_FIELD_LEN, SNP_SIG_FIELD_LEN) != SNP_SIG_FIELD_LEN) {
		err_set(err, "cannot read the key's public point (OpenSSL)");
		goto out;
	}
	put_le32(out, 2);  /* curve P-384 */
	rc = 0;
out:
	BN_free(x);
	BN_free(y);
	return rc;
}


int snp_id_block_build(const struct snp_id_inputs *in, struct snp_id_outputs *out, struct cloak_err *err)
{
	uint8_t *b = out->id_block, *a = out->id_auth;

	memset(out, 0, sizeof(*out));
	memcpy(b, in->launch_digest, 48);
	memcpy(b + 48, in->family_id, 16);
	memcpy(b + 64, in->image_id, 16);
	put_le32(b + 80, 1);             /* ID block version */
	put_le32(b + 84, in->guest_svn);
	put_le32(b + 88, (uint32_t)in->policy);
	put_le32(b + 92, (uint32_t)(in->policy >> 32));
	put_le32(a + SNP_AUTH_OFF_ID_ALGO, SNP_SIG_ALGO_ECDSA_P384_SHA384);
	if (snp_pubkey_encode(in->id_key, a + SNP_AUTH_OFF_ID_KEY, err) < 0)
		return err_prefix(err, "--id-key: ");
	if (amd_ecdsa_sign_le(in->id_key, EVP_sha384(), b, SNP_ID_BLOCK_LEN, a + SNP_AUTH_OFF_BLOCK_SIG,
			      a + SNP_AUTH_OFF_BLOCK_SIG + SNP_SIG_FIELD_LEN, SNP_SIG_FIELD_LEN, err) < 0)
		return err_prefix(err, "--id-key: ");
	if (snp_sha384(a + SNP_AUTH_OFF_ID_KEY, SNP_PUBKEY_LEN, out->id_key_digest) < 0)
		return err_set(err, "cannot compute SHA-384 (OpenSSL)");
	if (!in->author_key)
		return 0;
	/* The author key signs the ID key, so one author can rotate ID keys. */
	put_le32(a + SNP_AUTH_OFF_AUTHOR_ALGO, SNP_SIG_ALGO_ECDSA_P384_SHA384);
	if (snp_pubkey_encode(in->author_key, a + SNP_AUTH_OFF_AUTHOR_KEY, err) < 0)
		return err_prefix(err, "--author-key: ");
	if (amd_ecdsa_sign_le(in->author_key, EVP_sha384(), a + SNP_AUTH_OFF_ID_KEY, SNP_PUBKEY_LEN, a + SNP_AUTH_OFF_ID_KEY_SIG,
			      a + SNP_AUTH_OFF_ID_KEY_SIG + SNP_SIG_FIELD_LEN, SNP_SIG_FIELD_LEN, err) < 0)
		return err_prefix(err, "--author-key: ");
	if (snp_sha384(a + SNP_AUTH_OFF_AUTHOR_KEY, SNP_PUBKEY_LEN, out->author_key_digest) < 0)
		return err_set(err, "cannot compute SHA-384 (OpenSSL)");
	return 0;
}

static uint32_t get_le32(const uint8_t *p)
{
	return (uint32_t)p[0] | (uint32_t)p[1] << 8 | (uint32_t)p[2] << 16 | (uint32_t)p[3] << 24;
}

/* An ECDSA P-384 SHA-384 signature (r, s little-endian) over msg by a key in AMD's format: 0 good, 1 bad, -1 not a P-384 key. */
static int id_sig_check(const uint8_t *key, const uint8_t *sig, const uint8_t *msg, size_t len, struct cloak_err *err)
{
	EVP_PKEY *k;
	int rc;

	if (get_le32(key) != 2)
		return err_set(err, "the key's curve is %u, not 2 (P-384)", get_le32(key));
	k = amd_ec_key_from_le(2, key + 4, key + 4 + SNP_SIG_FIELD_LEN, SNP_SIG_FIELD_LEN, err);
	if (!k)
		return -1;
	rc = amd_ecdsa_verify_le(k, EVP_sha384(), msg, len, sig, sig + SNP_SIG_FIELD_LEN, SNP_SIG_FIELD_LEN, err);
	EVP_PKEY_free(k);
	if (rc == 0)
		err_set(err, "does not verify");
	return rc < 0 ? -1 : rc == 1 ? 0 : 1;
}

int snp_id_block_verify(const uint8_t id_block[SNP_ID_BLOCK_LEN], const uint8_t id_auth[SNP_ID_AUTH_LEN],
			bool author_key_en, struct snp_id_block_fields *out, struct cloak_err *err)
{
	int rc;

	memset(out, 0, sizeof(*out));
	memcpy(out->launch_digest, id_block, 48);
	memcpy(out->family_id, id_block + 48, 16);
	memcpy(out->image_id, id_block + 64, 16);
	out->version = get_le32(id_block + 80);
	out->guest_svn = get_le32(id_block + 84);
	out->policy = get_le32(id_block + 88) | (uint64_t)get_le32(id_block + 92) << 32;
	if (get_le32(id_auth + SNP_AUTH_OFF_ID_ALGO) != SNP_SIG_ALGO_ECDSA_P384_SHA384)
		return err_set(err, "the ID key's algorithm is %u, not 1 (ECDSA P-384 with SHA-384)",
			       get_le32(id_auth + SNP_AUTH_OFF_ID_ALGO));
	rc = id_sig_check(id_auth + SNP_AUTH_OFF_ID_KEY, id_auth + SNP_AUTH_OFF_BLOCK_SIG, id_block, SNP_ID_BLOCK_LEN,
			  err);
	if (rc)
		return rc < 0 ? err_prefix(err, "ID key: ") : (err_prefix(err, "the ID block's signature: "), 1);
	if (snp_sha384(id_auth + SNP_AUTH_OFF_ID_KEY, SNP_PUBKEY_LEN, out->id_key_digest) < 0)
		return err_set(err, "cannot compute SHA-384 (OpenSSL)");
	if (!author_key_en)
		return 0;
	if (get_le32(id_auth + SNP_AUTH_OFF_AUTHOR_ALGO) != SNP_SIG_ALGO_ECDSA_P384_SHA384)
		return err_set(err, "the author key's algorithm is %u, not 1 (ECDSA P-384 with SHA-384)",
			       get_le32(id_auth + SNP_AUTH_OFF_AUTHOR_ALGO));
	rc = id_sig_check(id_auth + SNP_AUTH_OFF_AUTHOR_KEY, id_auth + SNP_AUTH_OFF_ID_KEY_SIG,
			  id_auth + SNP_AUTH_OFF_ID_KEY, SNP_PUBKEY_LEN, err);
	if (rc)
		return rc < 0 ? err_prefix(err, "author key: ") : (err_prefix(err, "the ID key's signature by the author key: "), 1);
	if (snp_sha384(id_auth + SNP_AUTH_OFF_AUTHOR_KEY, SNP_PUBKEY_LEN, out->author_key_digest) < 0)
		return err_set(err, "cannot compute SHA-384 (OpenSSL)");
	return 0;
}
