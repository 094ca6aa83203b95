/* plan_verifier.c: the measured-boot verifier in the launch plan: staging area, table of hashes, verifier entry. */
#include "plan.h"

#include "firmware/verifier/verify_table.h"
#include "loader.h"

#include <openssl/evp.h>
#include <stdio.h>
#include <string.h>

/*
 * The layout (docs/sev-launch.md "Measured boot"): the verifier's segment at
 * PLAN_VERIFIER_GPA and the table at PLAN_VERIFY_TABLE_GPA are measured after
 * every other measured region; each payload (the kernel or its segments, the
 * initrd, the command line) keeps its place in the region list but moves,
 * unmeasured, into one 2 MiB-aligned staging area in low RAM, page by page in
 * list order. The area is the highest 2 MiB-aligned range that overlaps no
 * region, no payload's destination and no DMA window. Everything here is a
 * function of the plan alone, so cloak-owner reproduces it.
 */

static const char *staged_name(const char *name)
{
	if (!strcmp(name, "kernel"))
		return "staged kernel";
	if (!strcmp(name, "kernel segment"))
		return "staged kernel segment";
	if (!strcmp(name, "initrd"))
		return "staged initrd";
	return "staged command line";
}

static bool overlaps(uint64_t a, uint64_t alen, uint64_t b, uint64_t blen)
{
	return a < b + blen && b < a + alen;
}

/* True when [gpa, gpa+size) meets a region (pages, as plan_add_region counts them) or the DMA window. */
static bool area_taken(const struct launch_plan *plan, uint64_t gpa, uint64_t size, uint64_t *below)
{
	unsigned i;

	for (i = 0; i < plan->nregions; i++) {
		const struct plan_region *r = &plan->regions[i];
		uint64_t first = ALIGN_DOWN(r->gpa, PAGE_SIZE), last = ALIGN_UP(r->gpa + r->size, PAGE_SIZE);

		if (overlaps(gpa, size, first, last - first)) {
			*below = first;
			return true;
		}
	}
	if (plan->dma_size && overlaps(gpa, size, plan->dma_gpa, plan->dma_size)) {
		*below = plan->dma_gpa;
		return true;
	}
	return false;
}

static int plan_place_staging(struct launch_plan *plan, uint64_t bytes, struct cloak_err *err)
{
	uint64_t size = ALIGN_UP(bytes, PLAN_STAGING_ALIGN), top = ALIGN_DOWN(plan_low_ram_end(plan), PLAN_STAGING_ALIGN);
	uint64_t below;
	char a[32], b[32];

	while (top >= size && top - size >= PLAN_LOW_RESERVED) {
		if (!area_taken(plan, top - size, size, &below)) {
			plan->staging_gpa = top - size;
			plan->staging_size = size;
			return 0;
		}
		top = ALIGN_DOWN(below, PLAN_STAGING_ALIGN);
	}
	return err_set(err, "--measured-boot verifier: the staging area for the kernel, initrd and command line "
			    "(%s) does not fit in guest memory (%s) beside the kernel's own room and the initrd; "
			    "give a larger --mem, or --measured-boot full", fmt_size(size, a),
		       fmt_size(plan->mem_size, b));
}

/* The verifier's one loadable segment, measured, where its link script puts it. */
static int plan_add_verifier_image(struct launch_plan *plan, uint64_t *entry, struct cloak_err *err)
{
	size_t len = (size_t)(cloak_verifier_end - cloak_verifier_start);
	struct elf_image elf;
	unsigned i;

	if (elf_parse(cloak_verifier_start, len, PLAN_VERIFIER_GPA, "the built-in boot verifier", &elf, err) < 0)
		return -1;
	if (!elf.has_entry || elf.highest > PLAN_STACK_BOTTOM)
		return err_set(err, "internal error: the built-in boot verifier does not fit at 0x%llx-0x%llx",
			       (unsigned long long)PLAN_VERIFIER_GPA, (unsigned long long)PLAN_STACK_BOTTOM);
	for (i = 0; i < elf.nsegments; i++) {
		const struct elf_segment *s = &elf.segments[i];

		/* Measured in 16-byte units: the span is memsz rounded up, not whole pages. */
		if (plan_add_region(plan, "boot verifier", s->paddr, ALIGN_UP(s->memsz, 16),
				    cloak_verifier_start + s->offset, s->filesz, PLAN_MEASURED, err) < 0)
			return -1;
	}
	*entry = elf.entry;
	return 0;
}

static void item_name(struct verify_item *it, const char *name, unsigned seg)
{
	if (seg)
		snprintf(it->name, sizeof(it->name), "segment %u", seg % 100u);  /* at most ELF_MAX_SEGMENTS */
	else
		snprintf(it->name, sizeof(it->name), "%s", name);
}

/* The host's side of the table's hash: OpenSSL, not the guest's code, so the two check each other. */
static int table_hash(unsigned alg, const uint8_t *data, uint64_t len, uint8_t out[VERIFY_DIGEST_MAX])
{
	const EVP_MD *md = alg == VERIFY_HASH_SHA384 ? EVP_sha384() : EVP_sha256();

	return EVP_Digest(data, (size_t)len, out, NULL, md, NULL) == 1 ? 0 : -1;
}

int plan_add_verifier(struct launch_plan *plan, unsigned hash_alg, struct cloak_err *err)
{
	struct verify_table table;  /* built whole here; the region holds its first nitems items */
	struct verify_table *t = &table;
	uint64_t staged = 0, at, verifier_entry = 0;
	unsigned i, nitems = 0, segs = 0;
	uint8_t *buf;

	if (hash_alg != VERIFY_HASH_SHA256 && hash_alg != VERIFY_HASH_SHA384)
		return err_set(err, "internal error: verifier table hash %u is neither SHA-256 nor SHA-384", hash_alg);
	if (plan->entry.mode != ENTRY_LONG64)
		return err_set(err, "--measured-boot verifier: a %s guest is entered in 32-bit mode; the verifier "
				    "enters only 64-bit guests (ELF64, bzImage)", plan_kind_name(plan->kind));
	for (i = 0; i < plan->nregions; i++)
		if (plan->regions[i].flags & PLAN_PAYLOAD) {
			/* The verifier runs on cloak's identity map, which ends at 4 GiB. */
			if (plan->regions[i].gpa + plan->regions[i].size > 4 * GiB)
				return err_set(err, "--measured-boot verifier: %s's %s lies above 4 GiB, out of the "
						    "verifier's reach; use --measured-boot full", plan->kernel_name,
					       plan->regions[i].name);
			nitems++;
			staged += ALIGN_UP(plan->regions[i].data_len ? plan->regions[i].data_len : 1, PAGE_SIZE);
		}
	if (nitems > VERIFY_MAX_ITEMS)
		return err_set(err, "--measured-boot verifier: %s has %u items to stage, more than the table's %d; "
				    "use --measured-boot full", plan->kernel_name, nitems, VERIFY_MAX_ITEMS);
	/* The verifier and the table first, so plan_add_region checks them against the payloads' places. */
	if (plan_add_verifier_image(plan, &verifier_entry, err) < 0 ||
	    plan_add_owned_region(plan, "verifier table", PLAN_VERIFY_TABLE_GPA, VERIFY_TABLE_SIZE(nitems),
				  PLAN_MEASURED, &buf, err) < 0 ||
	    plan_place_staging(plan, staged, err) < 0)
		return -1;
	memset(t, 0, sizeof(*t));
	memcpy(t->magic, VERIFY_TABLE_MAGIC, sizeof(t->magic));
	t->version = VERIFY_TABLE_VERSION;
	t->hash_alg = hash_alg;
	t->nitems = nitems;
	t->cbit = plan->cbit;
	t->staging_gpa = plan->staging_gpa;
	t->staging_size = plan->staging_size;
	t->entry_rip = plan->entry.rip;
	t->entry_rsp = plan->entry.rsp;
	t->entry_rdi = plan->entry.rdi;
	t->entry_rsi = plan->entry.rsi;

	at = plan->staging_gpa;
	nitems = 0;
	for (i = 0; i < plan->nregions; i++) {
		struct plan_region *r = &plan->regions[i];
		struct verify_item *it;

		if (!(r->flags & PLAN_PAYLOAD))
			continue;
		it = &t->items[nitems++];
		item_name(it, r->name, strcmp(r->name, "kernel segment") ? 0 : ++segs);
		it->staged_gpa = at;
		it->dest_gpa = r->gpa;
		it->len = r->data_len;
		it->zero_len = (r->flags & PLAN_SCRATCH_TAIL) ? 0 : r->size - r->data_len;
		if (table_hash(hash_alg, r->data, r->data_len, it->digest) < 0)
			return err_set(err, "cannot hash the %s for the verifier's table (OpenSSL)", r->name);
		r->name = staged_name(r->name);
		r->gpa = at;
		r->size = ALIGN_UP(r->data_len ? r->data_len : 1, PAGE_SIZE);
		r->flags = (r->flags & PLAN_OWNED) | PLAN_STAGED;
		at += r->size;
	}
	memcpy(buf, t, VERIFY_TABLE_SIZE(nitems));
	plan->verifier = true;
	plan->guest_entry = plan->entry;
	plan->entry = (struct plan_entry){ .mode = ENTRY_LONG64, .rip = verifier_entry, .rsp = PLAN_STACK_TOP,
					   .rdi = PLAN_VERIFY_TABLE_GPA, .cr3 = PLAN_PT_GPA };
	return 0;
}

const struct plan_region *plan_staged_region(const struct launch_plan *plan, const char *name)
{
	char want[32];
	unsigned i;

	snprintf(want, sizeof(want), "staged %s", name);
	for (i = 0; i < plan->nregions; i++)
		if ((plan->regions[i].flags & PLAN_STAGED) && !strncmp(plan->regions[i].name, want, strlen(want)))
			return &plan->regions[i];
	return NULL;
}

const char *plan_verifier_conflict(const struct launch_plan *plan, uint64_t gpa, uint64_t len, uint64_t *at,
				   uint64_t *size)
{
	const struct plan_region *tr = NULL;
	const struct verify_table *t;
	unsigned i;

	if (!plan->verifier)
		return NULL;
	if (overlaps(gpa, len, plan->staging_gpa, plan->staging_size)) {
		*at = plan->staging_gpa;
		*size = plan->staging_size;
		return "the verifier's shared staging area";
	}
	for (i = 0; i < plan->nregions; i++)
		if (!strcmp(plan->regions[i].name, "verifier table"))
			tr = &plan->regions[i];
	if (!tr)
		return NULL;
	t = (const struct verify_table *)tr->data;
	for (i = 0; i < t->nitems; i++)
		if (overlaps(gpa, len, t->items[i].dest_gpa, t->items[i].len + t->items[i].zero_len)) {
			*at = t->items[i].dest_gpa;
			*size = t->items[i].len + t->items[i].zero_len;
			return "the place the verifier copies a staged item to";
		}
	return NULL;
}
