/* snp_digest.h: the launch digests of SEV-ES and SEV-SNP guests: PAGE_INFO chaining, VMSAs, OVMF metadata. */
#ifndef CLOAK_SNP_DIGEST_H
#define CLOAK_SNP_DIGEST_H

#include "cloak.h"
#include "sev/snp_measure.h"
#include "sev/vmsa.h"

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

/* ---- the SNP launch digest (PAGE_INFO chaining): vmm/sev/snp_measure.h, shared with the VMM ---- */

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
