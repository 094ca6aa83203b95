/* test_snp_linux.c: the SEV-SNP launch of a Linux bzImage: its CC blob, setup_data, reserved e820 range and owner digest. */
#include "sev_tests.h"

#include "../unit/fake_bzimage.h"

#include "owner.h"
#include "plan.h"
#include "sev/sev.h"
#include "sev/snp_measure.h"

#include <stdio.h>
#include <stdlib.h>
#include <unistd.h>

/* The zero page's fields this test reads (Documentation/arch/x86/zero-page.rst). */
#define ZP_CC_BLOB_ADDRESS 0x13c
#define ZP_SETUP_DATA 0x250
#define ZP_E820_ENTRIES 0x1e8
#define ZP_E820_TABLE 0x2d0

#define SNP_TEST_FEATURES 0x20ull   /* DebugSwap, as the simulated KVM offers INIT2 */
#define SNP_TEST_SIG 0xa00f11u

static uint32_t rd32(const uint8_t *p, size_t off)
{
	uint32_t v;

	memcpy(&v, p + off, 4);
	return v;
}

static uint64_t rd64(const uint8_t *p, size_t off)
{
	uint64_t v;

	memcpy(&v, p + off, 8);
	return v;
}

/* A small relocatable 64-bit bzImage (boot protocol 2.15) in a file: one setup sector, then 8 KiB of patterned kernel. */
static void write_bzimage(char path[64])
{
	static uint8_t img[1024 + 8192];
	FILE *f;
	int fd;

	fake_bzimage(img, sizeof(img), 0x020f, 1);
	snprintf(path, 64, "/tmp/cloak-snp-linux-XXXXXX");
	fd = mkstemp(path);
	ck_assert_int_ge(fd, 0);
	f = fdopen(fd, "wb");
	ck_assert_ptr_nonnull(f);
	ck_assert_uint_eq(fwrite(img, 1, sizeof(img), f), sizeof(img));
	ck_assert_int_eq(fclose(f), 0);
}

/* cloak's side: the plan `cloak run --sev --sev-mode MODE --mem 64M --kernel PATH` launches. */
static void build_plan(const char *path, enum sev_launch_mode mode, struct plan_inputs *in, struct launch_plan *plan)
{
	static struct vm_config cfg;
	struct cloak_err err = { "" };

	config_defaults(&cfg);
	cfg.sev = true;
	cfg.sev_mode = mode;
	cfg.mem_size = 64 * MiB;
	cfg.kernel_path = path;
	ck_assert_int_eq(plan_inputs_open(in, &cfg, &err), 0);
	in->cbit = PSP_SIM_SNP_CBIT;
	in->vmsa = (struct plan_vmsa_inputs){ .on = true, .features = SNP_TEST_FEATURES | 1, .vcpu_sig = SNP_TEST_SIG,
					      .fpu_synced = true };
	ck_assert_msg(plan_build(in, plan, &err) == 0, "%s", err.msg);
}

static const struct plan_region *region_at(const struct launch_plan *plan, uint64_t gpa)
{
	unsigned i;

	for (i = 0; i < plan->nregions; i++)
		if (plan->regions[i].gpa == gpa)
			return &plan->regions[i];
	return NULL;
}

#define TEST_PAGES (64 * MiB / PAGE_SIZE)

struct page_types {
	unsigned normal_blob, secrets, cpuid, other_at_snp_pages;
	unsigned twice, outside;       /* pages given more than once, or beyond the 64 MiB of RAM */
	uint8_t seen[TEST_PAGES];
};

static int note_page(void *ctx, enum snp_page_type type, uint64_t gpa, const uint8_t *page, struct cloak_err *err)
{
	struct page_types *t = ctx;

	(void)page;
	(void)err;
	if (gpa == PLAN_SNP_CC_BLOB_GPA && type == SNP_PAGE_NORMAL)
		t->normal_blob++;
	else if (gpa == SNP_PLAN_SECRETS_GPA && type == SNP_PAGE_SECRETS)
		t->secrets++;
	else if (gpa == SNP_PLAN_CPUID_GPA && type == SNP_PAGE_CPUID)
		t->cpuid++;
	else if (gpa >= PLAN_SNP_CC_BLOB_GPA && gpa < PLAN_SNP_PAGES_END)
		t->other_at_snp_pages++;
	if (gpa / PAGE_SIZE >= TEST_PAGES)
		t->outside++;
	else if (t->seen[gpa / PAGE_SIZE]++)
		t->twice++;
	return 0;
}

/* True when the zero page's e820 map gives [addr, addr+size) exactly the type `type`, in one entry. */
static bool zp_e820_has(const uint8_t *zp, uint64_t addr, uint64_t size, uint32_t type)
{
	unsigned i;

	for (i = 0; i < zp[ZP_E820_ENTRIES]; i++) {
		const uint8_t *e = zp + ZP_E820_TABLE + 20 * i;

		if (rd64(e, 0) == addr && rd64(e, 8) == size && rd32(e, 16) == type)
			return true;
	}
	return false;
}

/*
 * Under SNP a bzImage gets the CC blob: measured, found through SETUP_CC_BLOB,
 * its pages reserved in e820; and every RAM page is validated at launch.
 */
START_TEST(snp_bzimage_gets_the_cc_blob)
{
	struct cloak_err err = { "" };
	static struct page_types t;
	struct plan_inputs in;
	struct launch_plan plan;
	const struct plan_region *blob, *zero;
	const uint8_t *b, *sd, *zp;
	char path[64];
	unsigned i;
	uint64_t gpa;

	write_bzimage(path);
	build_plan(path, SEV_LAUNCH_SNP, &in, &plan);
	ck_assert(plan.snp);
	blob = region_at(&plan, PLAN_SNP_CC_BLOB_GPA);
	zero = region_at(&plan, PLAN_BOOTINFO_GPA);
	ck_assert_ptr_nonnull(blob);
	ck_assert_ptr_nonnull(zero);
	ck_assert(blob->flags & PLAN_MEASURED);
	b = blob->data;
	zp = zero->data;
	/* The blob: "AMDE", version 1, the secrets and CPUID pages, one page each (Linux checks both lengths). */
	ck_assert_uint_eq(rd32(b, 0), 0x45444d41u);
	ck_assert_uint_eq(rd32(b, 4) & 0xffff, 1);
	ck_assert_uint_eq(rd64(b, 8), SNP_PLAN_SECRETS_GPA);
	ck_assert_uint_eq(rd32(b, 16), 4096);
	ck_assert_uint_eq(rd64(b, 24), SNP_PLAN_CPUID_GPA);
	ck_assert_uint_eq(rd32(b, 32), 4096);
	/* The zero page's chain starts at the SETUP_CC_BLOB entry, which points at the blob and ends the chain. */
	ck_assert_uint_ge(rd64(zp, ZP_SETUP_DATA), PLAN_SNP_CC_BLOB_GPA);
	ck_assert_uint_lt(rd64(zp, ZP_SETUP_DATA), PLAN_SNP_CC_BLOB_GPA + PAGE_SIZE - 20);
	sd = b + (rd64(zp, ZP_SETUP_DATA) - PLAN_SNP_CC_BLOB_GPA);
	ck_assert_uint_eq(rd64(sd, 0), 0);
	ck_assert_uint_eq(rd32(sd, 8), 7);
	ck_assert_uint_eq(rd32(sd, 12), 4);
	ck_assert_uint_eq(rd32(sd, 16), PLAN_SNP_CC_BLOB_GPA);
	/* The decompressor clears cc_blob_address; cloak leaves it zero rather than pretend it is read. */
	ck_assert_uint_eq(rd32(zp, ZP_CC_BLOB_ADDRESS), 0);
	/* One reserved range over the three pages, in the plan and in the zero page, and no RAM over them. */
	ck_assert(zp_e820_has(zp, PLAN_SNP_CC_BLOB_GPA, PLAN_SNP_PAGES_END - PLAN_SNP_CC_BLOB_GPA, 2));
	ck_assert(zp_e820_has(zp, 0, PLAN_SNP_CC_BLOB_GPA, 1));
	ck_assert(zp_e820_has(zp, PLAN_SNP_PAGES_END, PLAN_STACK_TOP - PLAN_SNP_PAGES_END, 1));
	for (i = 0; i < plan.ne820; i++)
		if (plan.e820[i].type == 1)
			ck_assert(plan.e820[i].addr >= PLAN_SNP_PAGES_END ||
				  plan.e820[i].addr + plan.e820[i].size <= PLAN_SNP_CC_BLOB_GPA);
	/* Launched as: the blob a NORMAL page, then the SECRETS and CPUID pages, each once, nothing else there. */
	ck_assert_int_eq(snp_plan_pages(&plan, note_page, &t, &err), 0);
	ck_assert_uint_eq(t.normal_blob, 1);
	ck_assert_uint_eq(t.secrets, 1);
	ck_assert_uint_eq(t.cpuid, 1);
	ck_assert_uint_eq(t.other_at_snp_pages, 0);
	/* Every e820 RAM page is given once (Linux takes them as validated), and nothing else but the plan's pages. */
	ck_assert_uint_eq(t.twice, 0);
	ck_assert_uint_eq(t.outside, 0);
	for (i = 0; i < plan.ne820; i++)
		for (gpa = plan.e820[i].addr; plan.e820[i].type == 1 && gpa < plan.e820[i].addr + plan.e820[i].size;
		     gpa += PAGE_SIZE)
			ck_assert_msg(t.seen[gpa / PAGE_SIZE] == 1, "RAM page 0x%llx given %u times", (unsigned long long)gpa,
				      t.seen[gpa / PAGE_SIZE]);
	plan_free(&plan);
	plan_inputs_close(&in);
	unlink(path);
}
END_TEST

/* Only an SNP launch of a bzImage: SEV-ES gets no blob, and neither does cloak's own ELF demo under SNP. */
START_TEST(cc_blob_only_for_snp_linux)
{
	struct plan_inputs in;
	struct launch_plan plan;
	const struct plan_region *zero;
	char path[64];

	write_bzimage(path);
	build_plan(path, SEV_LAUNCH_ES, &in, &plan);
	ck_assert(!plan.snp);
	ck_assert_ptr_null(region_at(&plan, PLAN_SNP_CC_BLOB_GPA));
	zero = region_at(&plan, PLAN_BOOTINFO_GPA);
	ck_assert_ptr_nonnull(zero);
	ck_assert_uint_eq(rd64(zero->data, ZP_SETUP_DATA), 0);
	ck_assert(zp_e820_has(zero->data, 0, PLAN_STACK_TOP, 1));
	plan_free(&plan);
	plan_inputs_close(&in);

	build_plan(NULL, SEV_LAUNCH_SNP, &in, &plan);
	ck_assert_int_eq(plan.kind, PLAN_KIND_ELF);
	ck_assert_ptr_null(region_at(&plan, PLAN_SNP_CC_BLOB_GPA));
	plan_free(&plan);
	plan_inputs_close(&in);
	unlink(path);
}
END_TEST

/* cloak-owner's --cloak-plan digest of the bzImage launch is cloak's, byte for byte; the blob page is in it. */
START_TEST(owner_digest_of_snp_bzimage_is_cloaks)
{
	struct cloak_err err = { "" };
	struct owner_plan_es snp = { .features = SNP_TEST_FEATURES, .vcpu_sig = SNP_TEST_SIG, .init2 = true };
	struct plan_inputs in;
	struct launch_plan plan;
	uint8_t vmm[SNP_LD_LEN], owner[SNP_LD_LEN], changed[SNP_LD_LEN];
	char path[64];
	char *argv[] = { "run", "--sev", "--sev-mode", "snp", "--mem", "64M", "--kernel", path, NULL };
	uint8_t *blob;

	write_bzimage(path);
	build_plan(path, SEV_LAUNCH_SNP, &in, &plan);
	ck_assert_int_eq(snp_plan_digest(&plan, true, vmm, &err), 0);
	ck_assert_msg(owner_plan_snp_digest(8, argv, PSP_SIM_SNP_CBIT, &snp, false, owner, &err) == 0, "%s", err.msg);
	ck_assert_msg(!memcmp(vmm, owner, SNP_LD_LEN), "cloak-owner's digest differs from cloak's");
	/* The blob page is measured: a changed byte of it (the secrets address) changes the digest. */
	blob = (uint8_t *)region_at(&plan, PLAN_SNP_CC_BLOB_GPA)->data;
	blob[8] ^= 0x10;
	ck_assert_int_eq(snp_plan_digest(&plan, true, changed, &err), 0);
	ck_assert(memcmp(changed, vmm, SNP_LD_LEN) != 0);
	blob[8] ^= 0x10;
	plan_free(&plan);
	plan_inputs_close(&in);
	unlink(path);
}
END_TEST

Suite *snp_linux_suite(void)
{
	Suite *s = suite_create("snp_linux");
	TCase *t = tcase_create("cc_blob");

	tcase_add_test(t, snp_bzimage_gets_the_cc_blob);
	tcase_add_test(t, cc_blob_only_for_snp_linux);
	tcase_add_test(t, owner_digest_of_snp_bzimage_is_cloaks);
	suite_add_tcase(s, t);
	return s;
}
