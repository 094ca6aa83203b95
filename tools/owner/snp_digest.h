/* snp_digest.h: the launch digests of SEV-ES and SEV-SNP guests: PAGE_INFO chaining, VMSAs, OVMF metadata. */
#ifndef CLOAK_SNP_DIGEST_H
#define CLOAK_SNP_DIGEST_H

#include "cloak.h"
#include "sev/vmsa.h"

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

/* ---- the SNP launch digest: SHA-384 over PAGE_INFO structures (SNP ABI, SNP_LAUNCH_UPDATE) ---- */

#define SNP_LD_LEN 48
#define SNP_PAGE_SIZE 4096u
/* The firmware records a VMSA page at GPA -1, page-aligned and cut to bit 51. */
#define SNP_VMSA_GPA 0xFFFFFFFFF000ull

enum snp_page_type {
	SNP_PAGE_NORMAL = 1,
	SNP_PAGE_VMSA = 2,
	SNP_PAGE_ZERO = 3,
	SNP_PAGE_UNMEASURED = 4,
	SNP_PAGE_SECRETS = 5,
	SNP_PAGE_CPUID = 6,
};

/* The PAGE_INFO the firmware hashes for each page: 0x70 bytes. */
struct snp_page_info {
	uint8_t digest_cur[SNP_LD_LEN];
	uint8_t contents[SNP_LD_LEN];
	uint16_t length;        /* 0x70 */
	uint8_t page_type;
	uint8_t imi_page;
	uint8_t vmpl3_perms, vmpl2_perms, vmpl1_perms;
	uint8_t reserved;
	uint64_t gpa;
} __attribute__((packed));
_Static_assert(sizeof(struct snp_page_info) == 0x70, "PAGE_INFO is 0x70 bytes");

/* The guest context's running launch digest. */
struct snp_gctx {
	uint8_t ld[SNP_LD_LEN];
};

/* Starts from zeros, or from `seed` (a precomputed digest, such as an OVMF's). */
void snp_gctx_init(struct snp_gctx *g, const uint8_t *seed);
/* One PAGE_INFO step; `contents` is the page's SHA-384, or zeros for the page types that carry none. */
int snp_gctx_update(struct snp_gctx *g, enum snp_page_type type, uint64_t gpa, const uint8_t contents[SNP_LD_LEN],
		    struct cloak_err *err);
/* Measured pages of data; `len` is a multiple of 4 KiB. */
int snp_gctx_normal_pages(struct snp_gctx *g, uint64_t gpa, const uint8_t *data, size_t len, struct cloak_err *err);
/* Zero, unmeasured, secrets or CPUID pages: no contents hash; `len` is a multiple of 4 KiB. */
int snp_gctx_blank_pages(struct snp_gctx *g, enum snp_page_type type, uint64_t gpa, uint64_t len,
			 struct cloak_err *err);
int snp_gctx_vmsa_page(struct snp_gctx *g, const uint8_t page[SNP_PAGE_SIZE], struct cloak_err *err);

/* ---- the VMSA: vmm/sev/vmsa.h, shared with the VMM ---- */

_Static_assert(SNP_PAGE_SIZE == VMSA_SIZE, "a VMSA is one SNP page");

/* ---- OVMF: the GUIDed footer table and the SEV metadata ---- */

enum ovmf_section_type {
	OVMF_SECTION_SNP_SEC_MEM = 1,
	OVMF_SECTION_SNP_SECRETS = 2,
	OVMF_SECTION_CPUID = 3,
	OVMF_SECTION_SVSM_CAA = 4,
	OVMF_SECTION_SNP_KERNEL_HASHES = 0x10,
};

struct ovmf_section {
	uint32_t gpa, size, type;
};

#define OVMF_MAX_SECTIONS 64
#define OVMF_SEV_METADATA_GUID "dc886566-984a-4798-a75e-5585a7bf67cc"

/* What the launch digests need from an OVMF image; `image` is borrowed. */
struct ovmf_info {
	const uint8_t *image;
	size_t size;
	uint64_t gpa;                 /* the image ends at 4 GiB */
	bool has_hash_table;          /* the kernel-hashes footer entry, with a nonzero base */
	uint32_t hash_table_gpa, hash_table_size;
	bool has_reset_eip;
	uint32_t reset_eip;           /* where APs start (the SEV-ES reset block) */
	unsigned nsections;
	struct ovmf_section sections[OVMF_MAX_SECTIONS];
};

/* Parses an image: footer table and, when present, the SEV metadata; refuses malformed tables. */
int ovmf_info_parse(const uint8_t *image, size_t size, struct ovmf_info *o, struct cloak_err *err);

/* ---- launch digests of an OVMF guest as QEMU (or EC2, GCE) launch it ---- */

enum sev_mode { SEV_MODE_SEV, SEV_MODE_ES, SEV_MODE_SNP };
const char *sev_mode_name(enum sev_mode m);  /* "SEV", "SEV_ES", "SEV_SNP" */

struct guest_launch {
	enum sev_mode mode;
	const struct ovmf_info *ovmf;
	const uint8_t *kernel, *initrd;   /* kernel NULL: no kernel hashes */
	size_t kernel_len, initrd_len;
	const char *cmdline;              /* NULL: none */
	unsigned vcpus;
	uint32_t vcpu_sig;
	uint64_t guest_features;          /* SEV_FEATURES of SNP VMSAs */
	enum vmm_type vmm;
	const uint8_t *ovmf_seed;         /* SNP: a precomputed OVMF digest instead of the image's pages */
	/* Called with each VMSA page measured (for --dump-vmsa); may be NULL. */
	int (*vmsa_out)(void *ctx, unsigned index, const uint8_t page[SNP_PAGE_SIZE], struct cloak_err *err);
	void *vmsa_ctx;
};

/* SEV, SEV-ES: 32 bytes of SHA-256; SNP: 48 bytes of SHA-384. Returns the length. */
int guest_launch_digest(const struct guest_launch *l, uint8_t out[SNP_LD_LEN], struct cloak_err *err);
/* The SNP digest of the OVMF image's pages alone (for --snp-ovmf-hash). */
int snp_ovmf_digest(const struct ovmf_info *o, uint8_t out[SNP_LD_LEN], struct cloak_err *err);

#endif
