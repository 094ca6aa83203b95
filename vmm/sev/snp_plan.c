/* snp_plan.c: the pages of an SEV-SNP launch of cloak's plan, with their page types, and the launch digest they give. */
#include "sev/snp_measure.h"

#include "plan.h"
#include "sev/snp.h"

#include <errno.h>
#include <linux/kvm.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

/* The page at `page_gpa` as the plan loads it: region bytes at their offsets, zeros elsewhere. */
static bool region_page(const struct plan_region *r, uint64_t page_gpa, uint8_t page[SNP_PAGE_SIZE])
{
	uint64_t from = r->gpa > page_gpa ? r->gpa : page_gpa;
	uint64_t to = page_gpa + SNP_PAGE_SIZE, data_end = r->gpa + r->data_len;

	if (data_end < to)
		to = data_end;
	if (from >= to)
		return false;   /* no data byte in this page: a ZERO page */
	memset(page, 0, SNP_PAGE_SIZE);
	memcpy(page + (from - page_gpa), r->data + (from - r->gpa), to - from);
	return true;
}

static bool overlaps(const struct launch_plan *plan, uint64_t gpa)
{
	unsigned i;

	for (i = 0; i < plan->nregions; i++) {
		const struct plan_region *r = &plan->regions[i];
		uint64_t first = r->gpa & ~(uint64_t)(SNP_PAGE_SIZE - 1);

		if (gpa + SNP_PAGE_SIZE > first && gpa < r->gpa + r->size)
			return true;
	}
	return false;
}

int snp_plan_pages(const struct launch_plan *plan, snp_page_fn fn, void *ctx, struct cloak_err *err)
{
	uint8_t *page = malloc(SNP_PAGE_SIZE);
	unsigned i;
	int rc = -1;

	if (!page)
		return err_set(err, "out of memory");
	for (i = 0; i < plan->nregions; i++) {
		const struct plan_region *r = &plan->regions[i];
		uint64_t gpa = r->gpa & ~(uint64_t)(SNP_PAGE_SIZE - 1), end = r->gpa + r->size;
		enum snp_page_type data_type = r->flags & PLAN_MEASURED ? SNP_PAGE_NORMAL : SNP_PAGE_UNMEASURED;

		for (; gpa < end; gpa += SNP_PAGE_SIZE) {
			bool has_data = region_page(r, gpa, page);

			if (fn(ctx, has_data ? data_type : SNP_PAGE_ZERO, gpa, has_data ? page : NULL, err) < 0)
				goto out;
		}
	}
	/*
	 * cloak's own guests run on the boot stack from their first instruction,
	 * before they could PVALIDATE it: the firmware validates it, as ZERO pages.
	 */
	if (plan->kind == PLAN_KIND_ELF)
		for (uint64_t gpa = PLAN_STACK_BOTTOM; gpa < PLAN_STACK_TOP; gpa += SNP_PAGE_SIZE)
			if (!overlaps(plan, gpa) && fn(ctx, SNP_PAGE_ZERO, gpa, NULL, err) < 0)
				goto out;
	/*
	 * A Linux guest validates none of the RAM it is handed: booted without EFI
	 * it has no unaccepted-memory table (only EFI gives one), so it takes every
	 * e820 RAM page as validated, and its first access to a page that is not
	 * ends the guest. The firmware validates all of them, as ZERO pages, in
	 * address order. (The blob, secrets and CPUID pages are reserved, not RAM.)
	 */
	if (plan->kind == PLAN_KIND_BZIMAGE)
		for (i = 0; i < plan->ne820; i++) {
			const struct plan_e820 *e = &plan->e820[i];

			if (e->type != E820_RAM)
				continue;
			for (uint64_t gpa = ALIGN_UP(e->addr, SNP_PAGE_SIZE); gpa + SNP_PAGE_SIZE <= e->addr + e->size;
			     gpa += SNP_PAGE_SIZE)
				if (!overlaps(plan, gpa) && fn(ctx, SNP_PAGE_ZERO, gpa, NULL, err) < 0)
					goto out;
		}
	/* The firmware fills the secrets page and checks the CPUID page; the guest finds both at fixed addresses. */
	if (!plan_in_ram(plan, SNP_PLAN_SECRETS_GPA, SNP_PAGE_SIZE) || !plan_in_ram(plan, SNP_PLAN_CPUID_GPA, SNP_PAGE_SIZE) ||
	    overlaps(plan, SNP_PLAN_SECRETS_GPA) || overlaps(plan, SNP_PLAN_CPUID_GPA)) {
		err_set(err, "internal error: the SNP secrets and CPUID pages (0x%llx, 0x%llx) collide with the plan",
			SNP_PLAN_SECRETS_GPA, SNP_PLAN_CPUID_GPA);
		goto out;
	}
	if (fn(ctx, SNP_PAGE_SECRETS, SNP_PLAN_SECRETS_GPA, NULL, err) < 0 ||
	    fn(ctx, SNP_PAGE_CPUID, SNP_PLAN_CPUID_GPA, NULL, err) < 0)
		goto out;
	rc = 0;
out:
	free(page);
	return rc;
}

static int digest_page(void *ctx, enum snp_page_type type, uint64_t gpa, const uint8_t *page, struct cloak_err *err)
{
	struct snp_gctx *g = ctx;

	/* UNMEASURED pages carry data the digest does not cover: only their type and address. */
	if (type == SNP_PAGE_NORMAL)
		return snp_gctx_normal_pages(g, gpa, page, SNP_PAGE_SIZE, err);
	return snp_gctx_blank_pages(g, type, gpa, SNP_PAGE_SIZE, err);
}

int snp_plan_digest(const struct launch_plan *plan, bool vmsas, uint8_t ld[SNP_LD_LEN], struct cloak_err *err)
{
	struct snp_gctx g;
	unsigned i;

	snp_gctx_init(&g, NULL);
	if (snp_plan_pages(plan, digest_page, &g, err) < 0)
		return -1;
	if (vmsas) {
		if (!plan->vmsas)
			return err_set(err, "internal error: an SNP plan without VMSAs");
		for (i = 0; i < plan->cpus; i++)
			if (snp_gctx_vmsa_page(&g, plan->vmsas + (size_t)i * SNP_PAGE_SIZE, err) < 0)
				return -1;
	}
	memcpy(ld, g.ld, SNP_LD_LEN);
	return 0;
}

/*
 * The leaves Linux's SNP code looks up in the CPUID page (arch/x86/coco/sev/
 * shared.c in 6.12, arch/x86/kernel/sev-shared.c in 6.1): 0x0, 0x40000000 and
 * 0x80000000 give the ranges (a leaf missing inside a range reads as zeros,
 * outside it is not post-processed), 0x8000001F is its second SEV check (a
 * missing one stops the guest), 0x1, 0x7.x and 0x80000001 its feature bits,
 * 0xD.x the XSAVE sizes for every feature it enables, 0x80000008 the address
 * widths, 0x40000001 KVM's paravirt features.
 */
static bool cpuid_leaf_required(uint32_t fn)
{
	switch (fn) {
	case 0x0: case 0x1: case 0x7: case 0xd:
	case 0x40000000: case 0x40000001:
	case 0x80000000: case 0x80000001: case 0x80000008: case 0x8000001f:
		return true;
	default:
		return false;
	}
}

static void cpuid_fn_from(struct snp_cpuid_fn *f, const struct kvm_cpuid_entry2 *e)
{
	*f = (struct snp_cpuid_fn){ .eax_in = e->function,
		.ecx_in = e->flags & KVM_CPUID_FLAG_SIGNIFCANT_INDEX ? e->index : 0,
		.xcr0_in = e->function == 0xd && e->index <= 1 ? 1 : 0,
		.eax = e->eax, .ebx = e->ebx, .ecx = e->ecx, .edx = e->edx };
}

unsigned snp_cpuid_table_fill(struct snp_cpuid_page *t, const struct kvm_cpuid_entry2 *e, unsigned n, char *dropped,
			      size_t dropped_len)
{
	size_t used = 0;
	unsigned pass, i, ndropped = 0;

	memset(t, 0, sizeof(*t));
	if (dropped_len)
		dropped[0] = 0;
	/* The required leaves first, then the others, each in the guest's order, up to the page's 64. */
	for (pass = 0; pass < 2; pass++)
		for (i = 0; i < n; i++) {
			if (cpuid_leaf_required(e[i].function) != (pass == 0))
				continue;
			if (t->count < SNP_CPUID_COUNT_MAX) {
				cpuid_fn_from(&t->fn[t->count++], &e[i]);
				continue;
			}
			ndropped++;
			if (used < dropped_len) {
				int w = snprintf(dropped + used, dropped_len - used, "%s0x%x.%u", used ? " " : "", e[i].function,
						 e[i].flags & KVM_CPUID_FLAG_SIGNIFCANT_INDEX ? e[i].index : 0);

				used += w > 0 ? (size_t)w : 0;
			}
		}
	return ndropped;
}

/* ---- the SNP guest policy (SNP ABI, GUEST_POLICY) ---- */

int snp_policy_check(uint64_t policy, const char *what, struct cloak_err *err)
{
	unsigned b;

	if (!(policy & SNP_POLICY_RSVD_MBO))
		return err_set(err, "%s 0x%llx: bit 17 is reserved and must be 1 in an SNP policy; the default SNP "
				    "policy 0x30000 allows SMT, 0x20000 does not", what, (unsigned long long)policy);
	for (b = 26; b < 64; b++)
		if (policy & (1ull << b))
			return err_set(err, "%s 0x%llx: bit %u is reserved in the SNP policy (known: 0-15 the lowest ABI "
					    "version, 16 SMT, 17 must be 1, 18 MIGRATE_MA, 19 DEBUG, 20 SINGLE_SOCKET, "
					    "21 CXL_ALLOW, 22 MEM_AES_256_XTS, 23 RAPL_DIS, 24 CIPHERTEXT_HIDING, "
					    "25 PAGE_SWAP_DISABLE); clear it", what, (unsigned long long)policy, b);
	return 0;
}

int snp_policy_parse(const char *s, uint64_t *out, const char *what, struct cloak_err *err)
{
	uint64_t v;

	if (!parse_hex_u64(s, UINT64_MAX, &v))
		return err_set(err, "%s: '%s' is not a 64-bit hex number; write an SNP policy like 0x30000 (SMT "
				    "allowed) or 0x20000 (no SMT)", what, s);
	if (snp_policy_check(v, what, err) < 0)
		return -1;
	*out = v;
	return 0;
}
