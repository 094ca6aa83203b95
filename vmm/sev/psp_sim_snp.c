/* psp_sim_snp.c: the simulated SEV-SNP firmware (launch rules, digest, reports, a VCEK chain) and the simulated kernel side of SNP. */
#include "sev/snp.h"
#include "sev/snp_abi.h"

#include "sev/amd_cert.h"
#include "sev/sev.h"
#include "sev/vmsa.h"

#include <openssl/evp.h>
#include <openssl/pem.h>
#include <openssl/rand.h>
#include <openssl/rsa.h>
#include <errno.h>
#include <openssl/x509.h>
#include <stdlib.h>
#include <string.h>
#include <sys/ioctl.h>

/*
 * The commands follow the SNP firmware ABI: SNP_LAUNCH_START (policy checks,
 * GOSVW), SNP_LAUNCH_UPDATE page by page (each page type's rule, the launch
 * digest extended with a PAGE_INFO per page through snp_measure.c, the very
 * code cloak-owner recomputes it with), SNP_LAUNCH_FINISH (ID block and
 * author key), and MSG_REPORT_REQ (a report signed by the VCEK). The
 * simulator keeps no RMP: a page measured twice is refused as the RMP would
 * (INVALID_PAGE_STATE). It never encrypts, and its keys are its own.
 *
 * Simplifications, stated so nobody relies on them: the CPUID check compares
 * only the feature registers listed in cpuid_checked[] against the hardware
 * table (the real firmware's policy covers more leaves), and VLEKs are not
 * modelled (a guest launched with vcek_disabled cannot get a report).
 */

/*
 * The frames already updated (what the RMP would say is the guest's): a bitmap
 * per 128 MiB chunk of guest-physical space, the chunks kept sorted by address.
 * A lookup is a binary search over the few chunks and a bit test, so a 512 MiB
 * launch (131072 pages, in any order) costs O(log chunks) per page.
 */
#define SIM_CHUNK_FRAMES_LOG 15
#define SIM_CHUNK_FRAMES (1ull << SIM_CHUNK_FRAMES_LOG)

struct sim_frame_chunk {
	uint64_t base;   /* the chunk's first frame number */
	uint8_t *bits;   /* SIM_CHUNK_FRAMES bits */
};

struct snp_sim {
	struct snp_sim_params p;
	uint8_t chip_id[64];
	unsigned guests;
	EVP_PKEY *ark_key, *ask_key, *vcek_key;   /* made on first use: RSA key generation is slow */
	X509 *ark, *ask, *vcek;
};

struct snp_sim_guest {
	struct snp_sim *sim;
	enum snp_gstate state;
	uint64_t policy;
	uint8_t gosvw[16];
	struct snp_gctx ld;
	struct sim_frame_chunk *chunks;   /* frames updated, sorted by base */
	size_t nchunks, capchunks;
	uint8_t vmpck[4][SNP_VMPCK_LEN];
	bool has_secrets;
	uint8_t report_id[32];
	uint8_t host_data[32];
	bool id_block_en, author_key_en, vcek_disabled;
	struct snp_id_block_fields id;
};

void snp_sim_default_params(struct snp_sim_params *p)
{
	/* A Genoa (family 0x19 model 0x11) at SNP API 1.55 with SMT on, one socket; TCB: BL 7, TEE 0, SNP 14, uCode 72. */
	*p = (struct snp_sim_params){ .api_major = 1, .api_minor = 55, .build = 21, .smt = true, .sockets = 1,
				      .reported_tcb = 0x480e000000000007ull, .cpuid_family = 0x19, .cpuid_model = 0x11,
				      .cpuid_stepping = 1 };
}

struct snp_sim *snp_sim_open(const struct snp_sim_params *p, struct cloak_err *err)
{
	struct snp_sim *s = calloc(1, sizeof(*s));

	if (!s) {
		err_set(err, "out of memory");
		return NULL;
	}
	s->p = *p;
	if (RAND_bytes(s->chip_id, sizeof(s->chip_id)) != 1) {
		free(s);
		err_set(err, "simulated SNP firmware: no random bytes for its chip ID (OpenSSL)");
		return NULL;
	}
	return s;
}

void snp_sim_set_hw_cpuid(struct snp_sim *s, const struct kvm_cpuid_entry2 *e, unsigned n)
{
	s->p.hw_cpuid = e;
	s->p.hw_ncpuid = n;
}

void snp_sim_close(struct snp_sim *s)
{
	if (!s)
		return;
	EVP_PKEY_free(s->ark_key);
	EVP_PKEY_free(s->ask_key);
	EVP_PKEY_free(s->vcek_key);
	X509_free(s->ark);
	X509_free(s->ask);
	X509_free(s->vcek);
	free(s);
}

void snp_sim_status(const struct snp_sim *s, uint8_t *api_major, uint8_t *api_minor, uint8_t *state, uint32_t *build,
		    uint32_t *guests, uint64_t *tcb)
{
	*api_major = s->p.api_major;
	*api_minor = s->p.api_minor;
	*state = 1;  /* INIT: the simulated RMP is always set up */
	*build = s->p.build;
	*guests = s->guests;
	*tcb = s->p.reported_tcb;
}

/* ---- the VCEK chain: the same shape as AMD's KDS serves (RSA-PSS SHA-384 above a P-384 VCEK) ---- */

static int add_ext(X509 *c, const char *oid, const uint8_t *data, int n)
{
	ASN1_OBJECT *o = OBJ_txt2obj(oid, 1);
	ASN1_OCTET_STRING *os = ASN1_OCTET_STRING_new();
	X509_EXTENSION *e = NULL;
	int ok = o && os && ASN1_OCTET_STRING_set(os, data, n) == 1 &&
		 (e = X509_EXTENSION_create_by_OBJ(NULL, o, 0, os)) && X509_add_ext(c, e, -1) == 1;

	X509_EXTENSION_free(e);
	ASN1_OCTET_STRING_free(os);
	ASN1_OBJECT_free(o);
	return ok ? 0 : -1;
}

/* AMD's SPL extensions hold a DER INTEGER. */
static int add_int_ext(X509 *c, const char *oid, long v)
{
	ASN1_INTEGER *ai = ASN1_INTEGER_new();
	unsigned char *der = NULL;
	int n = -1, rc = -1;

	if (ai && ASN1_INTEGER_set(ai, v) == 1)
		n = i2d_ASN1_INTEGER(ai, &der);
	if (n > 0)
		rc = add_ext(c, oid, der, n);
	OPENSSL_free(der);
	ASN1_INTEGER_free(ai);
	return rc;
}

/* An unsigned certificate: the caller adds extensions, then signs it. */
static X509 *make_cert(const char *cn, EVP_PKEY *key, const char *issuer, long serial)
{
	X509 *c = X509_new();
	X509_NAME *sn = X509_NAME_new(), *in = X509_NAME_new();
	bool ok = c && sn && in;

	ok = ok && X509_set_version(c, 2) == 1 && ASN1_INTEGER_set(X509_get_serialNumber(c), serial) == 1 &&
	     X509_gmtime_adj(X509_getm_notBefore(c), -3600) && X509_gmtime_adj(X509_getm_notAfter(c), 10L * 365 * 86400) &&
	     X509_NAME_add_entry_by_txt(sn, "CN", MBSTRING_ASC, (const unsigned char *)cn, -1, -1, 0) == 1 &&
	     X509_NAME_add_entry_by_txt(in, "CN", MBSTRING_ASC, (const unsigned char *)issuer, -1, -1, 0) == 1 &&
	     X509_set_subject_name(c, sn) == 1 && X509_set_issuer_name(c, in) == 1 && X509_set_pubkey(c, key) == 1;
	X509_NAME_free(sn);
	X509_NAME_free(in);
	if (!ok) {
		X509_free(c);
		return NULL;
	}
	return c;
}

static int sign_pss(X509 *c, EVP_PKEY *signer)
{
	EVP_MD_CTX *m = EVP_MD_CTX_new();
	EVP_PKEY_CTX *pc = NULL;
	int ok = m && EVP_DigestSignInit(m, &pc, EVP_sha384(), NULL, signer) == 1 &&
		 EVP_PKEY_CTX_set_rsa_padding(pc, RSA_PKCS1_PSS_PADDING) == 1 &&
		 EVP_PKEY_CTX_set_rsa_pss_saltlen(pc, RSA_PSS_SALTLEN_DIGEST) == 1 && X509_sign_ctx(c, m) > 0;

	EVP_MD_CTX_free(m);
	return ok ? 0 : -1;
}

/* The chain exists from the first report or export on. */
static int sim_chain(struct snp_sim *s)
{
	struct snp_tcb t;

	if (s->vcek)
		return 0;
	/* AMD's ARK and ASK are RSA-4096; 2048 bits keep the simulator's start quick and verify the same way. */
	s->ark_key = EVP_RSA_gen(2048);
	s->ask_key = EVP_RSA_gen(2048);
	s->vcek_key = EVP_EC_gen("P-384");
	if (!s->ark_key || !s->ask_key || !s->vcek_key)
		return -1;
	s->ark = make_cert("ARK-Sim", s->ark_key, "ARK-Sim", 1);
	s->ask = make_cert("SEV-Sim", s->ask_key, "ARK-Sim", 2);
	s->vcek = make_cert("SEV-VCEK", s->vcek_key, "SEV-Sim", 3);
	if (!s->ark || !s->ask || !s->vcek)
		return -1;
	snp_tcb_decode(s->p.reported_tcb, false, &t);
	/* The hardware ID and the TCB's SPLs, as AMD's VCEKs carry them. */
	if (add_ext(s->vcek, "1.3.6.1.4.1.3704.1.4", s->chip_id, 64) < 0 ||
	    add_int_ext(s->vcek, "1.3.6.1.4.1.3704.1.3.1", t.bootloader) < 0 ||
	    add_int_ext(s->vcek, "1.3.6.1.4.1.3704.1.3.2", t.tee) < 0 ||
	    add_int_ext(s->vcek, "1.3.6.1.4.1.3704.1.3.3", t.snp) < 0 ||
	    add_int_ext(s->vcek, "1.3.6.1.4.1.3704.1.3.8", t.microcode) < 0)
		return -1;
	if (sign_pss(s->ark, s->ark_key) < 0 || sign_pss(s->ask, s->ark_key) < 0 || sign_pss(s->vcek, s->ask_key) < 0)
		return -1;
	return 0;
}

int snp_sim_export_chain(struct snp_sim *s, const char *ca_pem, const char *vcek_der, struct cloak_err *err)
{
	unsigned char *der = NULL;
	BIO *b = NULL;
	int n, rc = -1;

	if (sim_chain(s) < 0)
		return err_set(err, "simulated SNP firmware: cannot make its VCEK chain (OpenSSL)");
	b = BIO_new(BIO_s_mem());
	/* KDS's cert_chain order: the ASK first, then the ARK. */
	if (!b || PEM_write_bio_X509(b, s->ask) != 1 || PEM_write_bio_X509(b, s->ark) != 1) {
		err_set(err, "simulated SNP firmware: cannot encode its chain (OpenSSL)");
		goto out;
	}
	{
		char *pem;
		long len = BIO_get_mem_data(b, &pem);

		if (sev_file_write(ca_pem, "the simulated ASK and ARK", pem, (size_t)len, 0644, err) < 0)
			goto out;
	}
	n = i2d_X509(s->vcek, &der);
	if (n <= 0) {
		err_set(err, "simulated SNP firmware: cannot encode its VCEK (OpenSSL)");
		goto out;
	}
	if (sev_file_write(vcek_der, "the simulated VCEK", der, (size_t)n, 0644, err) < 0)
		goto out;
	rc = 0;
out:
	OPENSSL_free(der);
	BIO_free(b);
	return rc;
}

/* ---- the launch ---- */

uint32_t snp_fw_launch_start(struct snp_sim *s, uint64_t policy, const uint8_t gosvw[16], struct snp_sim_guest **out)
{
	unsigned major = (unsigned)((policy & SNP_POLICY_ABI_MAJOR) >> 8), minor = (unsigned)(policy & SNP_POLICY_ABI_MINOR);
	struct snp_sim_guest *g;

	*out = NULL;
	/* The guest's lowest acceptable ABI must not be above the firmware's. */
	if (major > s->p.api_major || (major == s->p.api_major && minor > s->p.api_minor))
		return SEV_RET_POLICY_FAILURE;
	if (!(policy & SNP_POLICY_RSVD_MBO) || (policy >> 21))
		return SEV_RET_INVALID_PARAM;
	if (!(policy & SNP_POLICY_SMT) && s->p.smt)
		return SEV_RET_POLICY_FAILURE;
	if ((policy & SNP_POLICY_SINGLE_SOCKET) && s->p.sockets > 1)
		return SEV_RET_POLICY_FAILURE;
	if (policy & SNP_POLICY_MIGRATE_MA)
		return SEV_RET_POLICY_FAILURE;  /* no migration agent is simulated */
	g = calloc(1, sizeof(*g));
	if (!g)
		return SEV_RET_RESOURCE_LIMIT;
	g->sim = s;
	g->policy = policy;
	memcpy(g->gosvw, gosvw, 16);
	snp_gctx_init(&g->ld, NULL);
	if (RAND_bytes(g->report_id, sizeof(g->report_id)) != 1 || RAND_bytes(&g->vmpck[0][0], sizeof(g->vmpck)) != 1) {
		free(g);
		return SEV_RET_HWSEV_RET_PLATFORM;
	}
	g->state = SNP_GSTATE_LAUNCH;
	s->guests++;
	*out = g;
	return 0;
}

/* Records gpa as updated: 1, or 0 when it already was (the RMP entry is no longer the hypervisor's), -1 out of memory. */
static int note_gpa(struct snp_sim_guest *g, uint64_t gpa)
{
	uint64_t frame = gpa / SNP_PAGE_SIZE, base = frame & ~(SIM_CHUNK_FRAMES - 1), i = frame - base;
	size_t lo = 0, hi = g->nchunks;
	struct sim_frame_chunk *c;

	while (lo < hi) {
		size_t mid = (lo + hi) / 2;

		if (g->chunks[mid].base < base)
			lo = mid + 1;
		else
			hi = mid;
	}
	if (lo == g->nchunks || g->chunks[lo].base != base) {
		uint8_t *bits = calloc(1, SIM_CHUNK_FRAMES / 8);

		if (!bits)
			return -1;
		if (g->nchunks == g->capchunks) {
			size_t cap = g->capchunks ? 2 * g->capchunks : 8;
			struct sim_frame_chunk *n = realloc(g->chunks, cap * sizeof(*n));

			if (!n) {
				free(bits);
				return -1;
			}
			g->chunks = n;
			g->capchunks = cap;
		}
		memmove(g->chunks + lo + 1, g->chunks + lo, (g->nchunks - lo) * sizeof(*g->chunks));
		g->chunks[lo] = (struct sim_frame_chunk){ .base = base, .bits = bits };
		g->nchunks++;
	}
	c = &g->chunks[lo];
	if (c->bits[i / 8] & (1u << (i % 8)))
		return 0;
	c->bits[i / 8] |= (uint8_t)(1u << (i % 8));
	return 1;
}

/* The registers the simulated firmware checks: feature bits that must be a subset of the hardware's. */
static const struct {
	uint32_t fn, idx;
	bool indexed;
	uint8_t regs;   /* bit 0 EAX, 1 EBX, 2 ECX, 3 EDX */
} cpuid_checked[] = {
	{ 0x00000001, 0, false, 0xc },
	{ 0x00000007, 0, true, 0xe },
	{ 0x0000000d, 1, true, 0x1 },
	{ 0x80000001, 0, false, 0xc },
	{ 0x8000001f, 0, false, 0x1 },
};

static const struct kvm_cpuid_entry2 *hw_leaf(const struct snp_sim *s, uint32_t fn, uint32_t idx)
{
	unsigned i;

	for (i = 0; i < s->p.hw_ncpuid; i++) {
		const struct kvm_cpuid_entry2 *e = &s->p.hw_cpuid[i];

		if (e->function == fn && (!(e->flags & KVM_CPUID_FLAG_SIGNIFCANT_INDEX) || e->index == idx))
			return e;
	}
	return NULL;
}

/* Corrects the table in place to what the hardware allows; true when it had to. */
static bool cpuid_page_correct(const struct snp_sim *s, struct snp_cpuid_page *t)
{
	bool changed = false;
	unsigned i, k, r;

	if (t->count > SNP_CPUID_COUNT_MAX) {
		t->count = SNP_CPUID_COUNT_MAX;
		changed = true;
	}
	if (t->reserved1 || t->reserved2) {
		t->reserved1 = 0;
		t->reserved2 = 0;
		changed = true;
	}
	for (i = 0; i < t->count; i++) {
		struct snp_cpuid_fn *f = &t->fn[i];
		const struct kvm_cpuid_entry2 *hw;

		if (f->reserved) {
			f->reserved = 0;
			changed = true;
		}
		for (k = 0; k < sizeof(cpuid_checked) / sizeof(cpuid_checked[0]); k++) {
			uint32_t *regs[4] = { &f->eax, &f->ebx, &f->ecx, &f->edx };
			uint32_t allowed[4];

			if (f->eax_in != cpuid_checked[k].fn || (cpuid_checked[k].indexed && f->ecx_in != cpuid_checked[k].idx))
				continue;
			hw = s->p.hw_cpuid ? hw_leaf(s, f->eax_in, f->ecx_in) : NULL;
			if (!s->p.hw_cpuid)
				continue;
			allowed[0] = hw ? hw->eax : 0;
			allowed[1] = hw ? hw->ebx : 0;
			allowed[2] = hw ? hw->ecx : 0;
			allowed[3] = hw ? hw->edx : 0;
			for (r = 0; r < 4; r++) {
				if (!(cpuid_checked[k].regs & (1u << r)) || !(*regs[r] & ~allowed[r]))
					continue;
				*regs[r] &= allowed[r];
				changed = true;
			}
		}
	}
	return changed;
}

static void secrets_page_write(struct snp_sim_guest *g, uint8_t page[SNP_PAGE_SIZE])
{
	const struct snp_sim *s = g->sim;
	uint32_t fms = (uint32_t)s->p.cpuid_stepping | (uint32_t)(s->p.cpuid_model & 0xf) << 4 |
		       (uint32_t)(s->p.cpuid_model >> 4) << 16;
	unsigned i;

	fms |= s->p.cpuid_family >= 0xf ? 0xfu << 8 | (uint32_t)(s->p.cpuid_family - 0xf) << 20 :
					  (uint32_t)s->p.cpuid_family << 8;
	memset(page, 0, SNP_PAGE_SIZE);
	page[SNP_SECRETS_OFF_VERSION] = 2;
	memcpy(page + SNP_SECRETS_OFF_FMS, &fms, 4);
	memcpy(page + SNP_SECRETS_OFF_GOSVW, g->gosvw, 16);
	for (i = 0; i < 4; i++)
		memcpy(page + SNP_SECRETS_OFF_VMPCK0 + i * SNP_VMPCK_LEN, g->vmpck[i], SNP_VMPCK_LEN);
}

uint32_t snp_fw_launch_update(struct snp_sim_guest *g, uint64_t gpa, uint8_t page_type, uint8_t page[SNP_PAGE_SIZE])
{
	static const uint8_t zeros[SNP_LD_LEN];
	struct cloak_err err = { "" };
	uint8_t h[SNP_LD_LEN];
	int fresh;

	if (g->state != SNP_GSTATE_LAUNCH)
		return SEV_RET_INVALID_GUEST_STATE;
	if ((gpa & (SNP_PAGE_SIZE - 1)) || gpa >= (1ull << 52))
		return SEV_RET_INVALID_ADDRESS;
	switch (page_type) {
	case SNP_PAGE_NORMAL:
	case SNP_PAGE_ZERO:
	case SNP_PAGE_UNMEASURED:
	case SNP_PAGE_SECRETS:
	case SNP_PAGE_CPUID:
		break;
	case SNP_PAGE_VMSA:   /* the kernel's own command at LAUNCH_FINISH, never the VMM's */
	default:
		return SEV_RET_INVALID_PARAM;
	}
	if (page_type == SNP_PAGE_SECRETS && g->has_secrets)
		return SEV_RET_INVALID_PARAM;  /* one secrets page per guest: its VMPCKs are the guest's */
	if (page_type == SNP_PAGE_CPUID && cpuid_page_correct(g->sim, (struct snp_cpuid_page *)page))
		return SEV_RET_INVALID_PARAM;   /* the page now holds what the hardware allows, unencrypted */
	fresh = note_gpa(g, gpa);
	if (fresh < 0)
		return SEV_RET_RESOURCE_LIMIT;
	if (!fresh)
		return SEV_RET_INVALID_PAGE_STATE;
	switch (page_type) {
	case SNP_PAGE_NORMAL:
		/* The firmware hashes the page as it encrypts it in place (here: leaves it). */
		if (snp_sha384(page, SNP_PAGE_SIZE, h) < 0 || snp_gctx_update(&g->ld, SNP_PAGE_NORMAL, gpa, h, &err) < 0)
			return SEV_RET_HWSEV_RET_PLATFORM;
		return 0;
	case SNP_PAGE_ZERO:
		memset(page, 0, SNP_PAGE_SIZE);
		break;
	case SNP_PAGE_SECRETS:
		secrets_page_write(g, page);
		g->has_secrets = true;
		break;
	default:   /* UNMEASURED and a good CPUID page: kept as given, not hashed */
		break;
	}
	if (snp_gctx_update(&g->ld, (enum snp_page_type)page_type, gpa, zeros, &err) < 0)
		return SEV_RET_HWSEV_RET_PLATFORM;
	return 0;
}

uint32_t snp_fw_launch_update_vmsa(struct snp_sim_guest *g, const uint8_t page[SNP_PAGE_SIZE])
{
	struct cloak_err err = { "" };

	if (g->state != SNP_GSTATE_LAUNCH)
		return SEV_RET_INVALID_GUEST_STATE;
	if (snp_gctx_vmsa_page(&g->ld, page, &err) < 0)
		return SEV_RET_HWSEV_RET_PLATFORM;
	return 0;
}

uint32_t snp_fw_launch_finish(struct snp_sim_guest *g, const uint8_t *id_block, const uint8_t *id_auth,
			      bool auth_key_en, const uint8_t host_data[32], bool vcek_disabled)
{
	struct cloak_err err = { "" };
	struct snp_id_block_fields f;
	int rc;

	if (g->state != SNP_GSTATE_LAUNCH)
		return SEV_RET_INVALID_GUEST_STATE;
	if (!id_block && auth_key_en)
		return SEV_RET_INVALID_PARAM;
	if (id_block) {
		if (!id_auth)
			return SEV_RET_INVALID_PARAM;
		rc = snp_id_block_verify(id_block, id_auth, auth_key_en, &f, &err);
		if (rc < 0)
			return SEV_RET_INVALID_PARAM;   /* a key or algorithm the firmware does not take */
		if (rc > 0)
			return SEV_RET_BAD_SIGNATURE;
		if (f.version != 1)
			return SEV_RET_INVALID_PARAM;
		if (memcmp(f.launch_digest, g->ld.ld, SNP_LD_LEN))
			return SEV_RET_BAD_MEASUREMENT;
		if (f.policy != g->policy)
			return SEV_RET_POLICY_FAILURE;
		g->id = f;
		g->id_block_en = true;
		g->author_key_en = auth_key_en;
	}
	memcpy(g->host_data, host_data, 32);
	g->vcek_disabled = vcek_disabled;
	g->state = SNP_GSTATE_RUNNING;
	return 0;
}

uint32_t snp_fw_guest_report(struct snp_sim_guest *g, const uint8_t report_data[64], uint32_t vmpl,
			     struct snp_report *r)
{
	struct snp_sim *s = g->sim;
	struct cloak_err err = { "" };

	if (g->state != SNP_GSTATE_RUNNING)
		return SEV_RET_INVALID_GUEST_STATE;
	if (vmpl > 3)
		return SEV_RET_INVALID_PARAM;
	if (g->vcek_disabled)
		return SEV_RET_INVALID_PARAM;  /* a VLEK would sign; none is loaded in the simulator */
	if (sim_chain(s) < 0)
		return SEV_RET_HWSEV_RET_PLATFORM;
	memset(r, 0, sizeof(*r));
	r->version = 3;
	r->guest_svn = g->id.guest_svn;
	r->policy = g->policy;
	memcpy(r->family_id, g->id.family_id, 16);
	memcpy(r->image_id, g->id.image_id, 16);
	r->vmpl = vmpl;
	r->signature_algo = SNP_SIG_ALGO_ECDSA_P384_SHA384;
	r->current_tcb = r->reported_tcb = r->committed_tcb = r->launch_tcb = s->p.reported_tcb;
	r->platform_info = s->p.smt ? 1 : 0;   /* bit 0: SMT enabled */
	r->flags = g->author_key_en ? 1 : 0;   /* signed by the VCEK (SIGNING_KEY 0), chip ID not masked */
	memcpy(r->report_data, report_data, 64);
	memcpy(r->measurement, g->ld.ld, SNP_LD_LEN);
	memcpy(r->host_data, g->host_data, 32);
	memcpy(r->id_key_digest, g->id.id_key_digest, 48);
	memcpy(r->author_key_digest, g->id.author_key_digest, 48);
	memcpy(r->report_id, g->report_id, 32);
	memset(r->report_id_ma, 0xff, 32);   /* no migration agent */
	r->cpuid_fam_id = s->p.cpuid_family;
	r->cpuid_mod_id = s->p.cpuid_model;
	r->cpuid_step = s->p.cpuid_stepping;
	memcpy(r->chip_id, s->chip_id, 64);
	r->current_major = r->committed_major = s->p.api_major;
	r->current_minor = r->committed_minor = s->p.api_minor;
	r->current_build = r->committed_build = (uint8_t)s->p.build;
	if (amd_ecdsa_sign_le(s->vcek_key, EVP_sha384(), (const uint8_t *)r, SNP_REPORT_SIGNED_LEN, r->sig_r, r->sig_s,
			      SNP_SIG_FIELD_LEN, &err) < 0)
		return SEV_RET_HWSEV_RET_PLATFORM;
	return 0;
}

enum snp_gstate snp_fw_guest_state(const struct snp_sim_guest *g)
{
	return g->state;
}

void snp_fw_guest_digest(const struct snp_sim_guest *g, uint8_t ld[SNP_LD_LEN])
{
	memcpy(ld, g->ld.ld, SNP_LD_LEN);
}

void snp_fw_guest_vmpck0(const struct snp_sim_guest *g, uint8_t key[SNP_VMPCK_LEN])
{
	if (g->has_secrets)
		memcpy(key, g->vmpck[0], SNP_VMPCK_LEN);
	else
		memset(key, 0, SNP_VMPCK_LEN);
}

void snp_fw_guest_free(struct snp_sim_guest *g)
{
	if (!g)
		return;
	g->sim->guests--;
	OPENSSL_cleanse(g->vmpck, sizeof(g->vmpck));
	for (size_t i = 0; i < g->nchunks; i++)
		free(g->chunks[i].bits);
	free(g->chunks);
	free(g);
}

/* ---- the SIMULATED kernel side: guest_memfd slots, memory attributes, KVM_SEV_SNP_* (arch/x86/kvm/svm/sev.c) ---- */

#define KSIM_MAX_SLOTS 4
#define KSIM_PAGE 4096ull

struct ksim_slot {
	uint64_t gpa, size;
	uint8_t *host;
	uint8_t *private_map;   /* one bit per page: KVM_MEMORY_ATTRIBUTE_PRIVATE */
	uint8_t *populated;     /* one bit per page: given to the guest by SNP_LAUNCH_UPDATE (the RMP's "assigned") */
};

#define KSIM_MAX_VCPUS 64

struct snp_ksim {
	struct snp_sim *fw;
	struct kvm_fpu fpu[KSIM_MAX_VCPUS];
	struct snp_sim_guest *g;
	bool inited, finished;
	long signal_after;         /* test hook: a signal is pending after this many pages of the next update, -1 none */
	uint64_t vmsa_features;
	struct ksim_slot slots[KSIM_MAX_SLOTS];
};

/* SVM_SEV_FEAT_SNP_ACTIVE: KVM sets it in every SNP VMSA; DebugSwap is what the simulated KVM offers besides. */
#define KSIM_FEAT_SNP_ACTIVE (1ull << 0)
#define KSIM_FEAT_DEBUG_SWAP (1ull << 5)

struct snp_ksim *snp_ksim_open(struct snp_sim *fw, struct cloak_err *err)
{
	struct snp_ksim *k = calloc(1, sizeof(*k));

	if (!k)
		err_set(err, "out of memory");
	else {
		k->fw = fw;
		k->signal_after = -1;
	}
	return k;
}

void snp_ksim_close(struct snp_ksim *k)
{
	unsigned i;

	if (!k)
		return;
	for (i = 0; i < KSIM_MAX_SLOTS; i++) {
		free(k->slots[i].private_map);
		free(k->slots[i].populated);
	}
	snp_fw_guest_free(k->g);
	free(k);
}

struct snp_sim_guest *snp_ksim_guest(struct snp_ksim *k)
{
	return k->g;
}

int snp_ksim_init2(struct snp_ksim *k, const struct kvm_sev_init *in)
{
	if (k->inited)
		return -EINVAL;
	/* sev_guest_init2: no flags; only offered VMSA features; GHCB version 2 at most, and SNP needs 2. */
	if (in->flags || (in->vmsa_features & ~KSIM_FEAT_DEBUG_SWAP) || in->ghcb_version > 2 ||
	    (in->ghcb_version && in->ghcb_version < 2))
		return -EINVAL;
	k->vmsa_features = in->vmsa_features | KSIM_FEAT_SNP_ACTIVE;
	k->inited = true;
	return 0;
}

int snp_ksim_set_slot(struct snp_ksim *k, unsigned slot, uint64_t gpa, uint64_t size, uint8_t *host)
{
	struct ksim_slot *s;
	size_t bytes = (size_t)((size / KSIM_PAGE + 7) / 8);

	if (slot >= KSIM_MAX_SLOTS || !size || (gpa | size) % KSIM_PAGE || gpa + size < gpa)
		return -EINVAL;
	s = &k->slots[slot];
	free(s->private_map);
	free(s->populated);
	*s = (struct ksim_slot){ .gpa = gpa, .size = size, .host = host, .private_map = calloc(1, bytes),
				 .populated = calloc(1, bytes) };
	if (!s->private_map || !s->populated)
		return -ENOMEM;
	return 0;
}

static struct ksim_slot *ksim_slot_of(const struct snp_ksim *k, uint64_t gpa)
{
	unsigned i;

	for (i = 0; i < KSIM_MAX_SLOTS; i++) {
		const struct ksim_slot *s = &k->slots[i];

		if (s->size && gpa >= s->gpa && gpa - s->gpa < s->size)
			return (struct ksim_slot *)s;
	}
	return NULL;
}

static bool bit(const uint8_t *map, uint64_t i)
{
	return map[i / 8] & (1u << (i % 8));
}

static void set_bit_to(uint8_t *map, uint64_t i, bool on)
{
	if (on)
		map[i / 8] |= (uint8_t)(1u << (i % 8));
	else
		map[i / 8] &= (uint8_t)~(1u << (i % 8));
}

int snp_ksim_set_attributes(struct snp_ksim *k, uint64_t gpa, uint64_t size, uint64_t attributes, uint64_t flags)
{
	uint64_t a;

	/* kvm_vm_ioctl_set_mem_attributes: page-aligned, non-empty, no wrap, known attributes, no flags. */
	if (flags || !size || (gpa | size) % KSIM_PAGE || gpa + size < gpa ||
	    (attributes & ~KVM_MEMORY_ATTRIBUTE_PRIVATE))
		return -EINVAL;
	for (a = gpa; a < gpa + size; a += KSIM_PAGE) {
		struct ksim_slot *s = ksim_slot_of(k, a);

		/* Attributes of GPAs without a slot are kept by KVM too; cloak never sets any there. */
		if (!s)
			return -EINVAL;
		set_bit_to(s->private_map, (a - s->gpa) / KSIM_PAGE, attributes != 0);
		/* A page made shared is given back to the host: the guest must validate it anew. */
		if (!attributes)
			set_bit_to(s->populated, (a - s->gpa) / KSIM_PAGE, false);
	}
	return 0;
}

bool snp_ksim_is_private(const struct snp_ksim *k, uint64_t gpa, uint64_t size)
{
	uint64_t a;

	for (a = gpa & ~(KSIM_PAGE - 1); a < gpa + size; a += KSIM_PAGE) {
		const struct ksim_slot *s = ksim_slot_of(k, a);

		if (!s || !bit(s->private_map, (a - s->gpa) / KSIM_PAGE))
			return false;
	}
	return true;
}

int snp_ksim_launch_start(struct snp_ksim *k, struct kvm_sev_snp_launch_start *p, uint32_t *fw_error)
{
	*fw_error = 0;
	if (!k->inited)
		return -ENOTTY;   /* not an SNP guest until KVM_SEV_INIT2 */
	if (k->g || p->flags)
		return -EINVAL;   /* one SNP context per VM; no flags defined */
	if ((p->policy & ~SNP_POLICY_KVM_VALID) || !(p->policy & SNP_POLICY_RSVD_MBO))
		return -EINVAL;
	*fw_error = snp_fw_launch_start(k->fw, p->policy, p->gosvw, &k->g);
	return *fw_error ? -EIO : 0;
}

void snp_ksim_test_signal_after(struct snp_ksim *k, long pages)
{
	k->signal_after = pages;
}

/*
 * sev.c snp_launch_update over kvm_gmem_populate: the range is clamped to the
 * end of gfn_start's slot and handled page by page; the first failing page
 * stops it. Pages done before it are kept and reported as success, with
 * gfn_start, uaddr (not for ZERO) and len advanced past them and no firmware
 * status: the caller resumes from there and meets the failure as the first
 * page of its next call. Only a failure on the first page is an error (-EIO,
 * with the firmware's status when it was the firmware's). A pending signal
 * stops the range the same way (-EINTR inside).
 */
int snp_ksim_launch_update(struct snp_ksim *k, struct kvm_sev_snp_launch_update *p, uint32_t *fw_error)
{
	uint8_t *src = (uint8_t *)(uintptr_t)p->uaddr;
	uint32_t status = 0;
	uint64_t i, npages;
	struct ksim_slot *slot;
	int failed = 0;

	*fw_error = 0;
	if (!k->g)
		return -EINVAL;
	if (!p->len || p->len % KSIM_PAGE || p->flags ||
	    (p->type != KVM_SEV_SNP_PAGE_TYPE_NORMAL && p->type != KVM_SEV_SNP_PAGE_TYPE_ZERO &&
	     p->type != KVM_SEV_SNP_PAGE_TYPE_UNMEASURED && p->type != KVM_SEV_SNP_PAGE_TYPE_SECRETS &&
	     p->type != KVM_SEV_SNP_PAGE_TYPE_CPUID))
		return -EINVAL;
	if (p->type == KVM_SEV_SNP_PAGE_TYPE_ZERO)
		src = NULL;
	if ((uintptr_t)src % KSIM_PAGE)
		return -EINVAL;
	if (p->type != KVM_SEV_SNP_PAGE_TYPE_ZERO && !src)
		return -EFAULT;
	slot = ksim_slot_of(k, p->gfn_start * KSIM_PAGE);
	if (!slot)
		return -EINVAL;   /* the memslot has no guest_memfd */
	npages = p->len / KSIM_PAGE;
	/* kvm_gmem_populate never goes past the slot of gfn_start. */
	if (npages > (slot->gpa + slot->size) / KSIM_PAGE - p->gfn_start)
		npages = (slot->gpa + slot->size) / KSIM_PAGE - p->gfn_start;
	for (i = 0; i < npages; i++) {
		uint64_t gpa = (p->gfn_start + i) * KSIM_PAGE, pg = (gpa - slot->gpa) / KSIM_PAGE;
		uint8_t *dst = slot->host + (gpa - slot->gpa);

		if (k->signal_after >= 0 && (uint64_t)k->signal_after == i) {
			k->signal_after = -1;
			failed = -EINTR;
			break;
		}
		/* Every GFN private (-EINVAL inside), its RMP entry still the host's (-EEXIST inside). */
		if (!bit(slot->private_map, pg)) {
			failed = -EINVAL;
			break;
		}
		if (bit(slot->populated, pg)) {
			failed = -EEXIST;
			break;
		}
		if (src && src + i * KSIM_PAGE != dst)
			memcpy(dst, src + i * KSIM_PAGE, KSIM_PAGE);
		status = snp_fw_launch_update(k->g, gpa, p->type, dst);
		if (status) {
			/*
			 * sev_gmem_post_populate: the firmware's corrected CPUID page goes back
			 * to the VMM's buffer at that page, whatever its place in the range.
			 */
			if (p->type == KVM_SEV_SNP_PAGE_TYPE_CPUID && status == SEV_RET_INVALID_PARAM && src &&
			    src + i * KSIM_PAGE != dst)
				memcpy(src + i * KSIM_PAGE, dst, KSIM_PAGE);
			failed = -EIO;
			break;
		}
		set_bit_to(slot->populated, pg, true);
	}
	if (failed && i == 0) {
		*fw_error = status;   /* argp->error: the firmware's status, 0 when the kernel stopped it */
		return -EIO;
	}
	p->gfn_start += i;
	p->len -= i * KSIM_PAGE;
	if (p->type != KVM_SEV_SNP_PAGE_TYPE_ZERO)
		p->uaddr += i * KSIM_PAGE;
	return 0;
}

int snp_ksim_set_fpu(struct snp_ksim *k, unsigned index, const struct kvm_fpu *fpu)
{
	if (index >= KSIM_MAX_VCPUS)
		return -EINVAL;
	k->fpu[index] = *fpu;
	return 0;
}

int snp_ksim_vcpu_vmsa(const struct snp_ksim *k, unsigned index, int vcpu_fd, uint8_t page[SNP_PAGE_SIZE])
{
	struct vmsa_vcpu_state st;
	struct kvm_debugregs dbg;
	struct kvm_xcrs xcrs;
	unsigned i;

	if (index >= KSIM_MAX_VCPUS)
		return -EINVAL;
	memset(&st, 0, sizeof(st));
	if (ioctl(vcpu_fd, KVM_GET_REGS, &st.regs) < 0 || ioctl(vcpu_fd, KVM_GET_SREGS, &st.sregs) < 0 ||
	    ioctl(vcpu_fd, KVM_GET_DEBUGREGS, &dbg) < 0)
		return -errno;
	/* sev_es_sync_vmsa refuses a DR7 beyond its fixed bit: the VMSA would start debugging. */
	if (dbg.dr7 & ~0x400ull)
		return -EINVAL;
	st.xcr0 = 1;
	if (ioctl(vcpu_fd, KVM_GET_XCRS, &xcrs) == 0)
		for (i = 0; i < xcrs.nr_xcrs && i < KVM_MAX_XCRS; i++)
			if (xcrs.xcrs[i].xcr == 0)
				st.xcr0 = xcrs.xcrs[i].value;
	st.fpu = k->fpu[index];
	st.fpu_synced = true;   /* SNP VMs are made with KVM_SEV_INIT2 */
	st.sev_features = k->vmsa_features;
	vmsa_from_vcpu(&st, page);
	return 0;
}

int snp_ksim_launch_finish(struct snp_ksim *k, struct kvm_sev_snp_launch_finish *p, const int *vcpu_fds,
			   unsigned nvcpus, uint32_t *fw_error)
{
	uint8_t page[SNP_PAGE_SIZE];
	unsigned i;
	int rc;

	*fw_error = 0;
	if (!k->g)
		return -EINVAL;
	if (p->flags)
		return -EINVAL;
	/* snp_launch_update_vmsa: every vCPU's registers into its VMSA, measured in vCPU order. */
	for (i = 0; i < nvcpus; i++) {
		rc = snp_ksim_vcpu_vmsa(k, i, vcpu_fds[i], page);
		if (rc < 0)
			return rc;
		*fw_error = snp_fw_launch_update_vmsa(k->g, page);
		if (*fw_error)
			return -EIO;
	}
	/* psp_copy_user_blob of the ID block and auth: unreadable addresses are -EFAULT. */
	if (p->id_block_en && (!p->id_block_uaddr || !p->id_auth_uaddr))
		return -EFAULT;
	*fw_error = snp_fw_launch_finish(k->g, p->id_block_en ? (const uint8_t *)(uintptr_t)p->id_block_uaddr : NULL,
					 p->id_block_en ? (const uint8_t *)(uintptr_t)p->id_auth_uaddr : NULL,
					 p->id_block_en && p->auth_key_en, p->host_data, p->vcek_disabled);
	if (*fw_error)
		return -EIO;
	k->finished = true;
	return 0;
}
