/* snp_measure.h: the SEV-SNP launch digest (SHA-384 over PAGE_INFO), one implementation for owner, VMM and simulator. */
#ifndef CLOAK_SNP_MEASURE_H
#define CLOAK_SNP_MEASURE_H

#include "cloak.h"

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

/* ---- the pages of an SNP launch of cloak's plan (snp_plan.c): what the VMM loads, what the owner recomputes ---- */

struct launch_plan;

/*
 * Where cloak puts the secrets page and the CPUID page: two pages below the
 * boot stack that no plan region uses (snp_plan_pages refuses a plan that
 * does). Neither page's contents enter the digest, only its type and address.
 */
#define SNP_PLAN_SECRETS_GPA 0x7e000ull
#define SNP_PLAN_CPUID_GPA 0x7f000ull

/*
 * One page for SNP_LAUNCH_UPDATE: its type and address, and for NORMAL and
 * UNMEASURED pages its 4 KiB of contents (NULL for the others).
 */
typedef int (*snp_page_fn)(void *ctx, enum snp_page_type type, uint64_t gpa, const uint8_t *page,
			   struct cloak_err *err);
/*
 * Visits the pages of `plan` in launch order: every region's pages in plan
 * order (NORMAL where a measured region has data, UNMEASURED where an
 * unmeasured one has, ZERO for the rest of their pages), then the secrets
 * page, then the CPUID page. Stops at the first error `fn` returns.
 */
int snp_plan_pages(const struct launch_plan *plan, snp_page_fn fn, void *ctx, struct cloak_err *err);
/*
 * The SNP launch digest of `plan`: its pages, then (with `vmsas`) the VMSA of
 * every vCPU, which KVM measures at SNP_LAUNCH_FINISH in vCPU order.
 */
int snp_plan_digest(const struct launch_plan *plan, bool vmsas, uint8_t ld[SNP_LD_LEN], struct cloak_err *err);

/* SHA-384 of `len` bytes: 0, or -1 when OpenSSL fails. */
int snp_sha384(const void *data, size_t len, uint8_t out[SNP_LD_LEN]);

#endif
