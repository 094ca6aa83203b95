/* test_verifier.c: the measured-boot verifier: its hashes against OpenSSL, the plan's staging and table, its options. */
#include "firmware/verifier/sha256.h"
#include "firmware/verifier/sha384.h"
#include "firmware/verifier/verify_table.h"
#include "plan.h"
#include "sev/sev.h"
#include "unit.h"
#include "fake_bzimage.h"

#include <openssl/sha.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

/* A fixed xorshift stream: the same inputs on every run, so a failure reproduces. */
static uint64_t rng_state;

static uint64_t rng(void)
{
	rng_state ^= rng_state << 13;
	rng_state ^= rng_state >> 7;
	rng_state ^= rng_state << 17;
	return rng_state;
}

static void fill(uint8_t *p, size_t n)
{
	size_t i;

	for (i = 0; i < n; i++)
		p[i] = (uint8_t)rng();
}

/* The guest's SHA-256 fed in pieces of random sizes, as the verifier feeds it page by page. */
static void guest_sha256(const uint8_t *p, size_t n, bool pieces, uint8_t out[SHA256_LEN])
{
	struct sha256 s;
	size_t off = 0;

	sha256_init(&s);
	while (off < n) {
		size_t k = pieces ? 1 + rng() % 200 : n;

		if (k > n - off)
			k = n - off;
		sha256_update(&s, p + off, k);
		off += k;
	}
	sha256_final(&s, out);
}

static void guest_sha384(const uint8_t *p, size_t n, bool pieces, uint8_t out[SHA384_LEN])
{
	struct sha384 s;
	size_t off = 0;

	sha384_init(&s);
	while (off < n) {
		size_t k = pieces ? 1 + rng() % 300 : n;

		if (k > n - off)
			k = n - off;
		sha384_update(&s, p + off, k);
		off += k;
	}
	sha384_final(&s, out);
}

START_TEST(sha384_matches_openssl)
{
	size_t max = 1 << 20, n, i;
	uint8_t *buf = malloc(max), want[SHA384_LEN], got[SHA384_LEN];
	/* FIPS 180-4's "abc" example. */
	static const uint8_t abc[SHA384_LEN] = {
		0xcb, 0x00, 0x75, 0x3f, 0x45, 0xa3, 0x5e, 0x8b, 0xb5, 0xa0, 0x3d, 0x69, 0x9a, 0xc6, 0x50, 0x07,
		0x27, 0x2c, 0x32, 0xab, 0x0e, 0xde, 0xd1, 0x63, 0x1a, 0x8b, 0x60, 0x5a, 0x43, 0xff, 0x5b, 0xed,
		0x80, 0x86, 0x07, 0x2b, 0xa1, 0xe7, 0xcc, 0x23, 0x58, 0xba, 0xec, 0xa1, 0x34, 0xc8, 0x25, 0xa7,
	};

	ck_assert_ptr_nonnull(buf);
	guest_sha384((const uint8_t *)"abc", 3, false, got);
	ck_assert_mem_eq(got, abc, SHA384_LEN);
	rng_state = 0x2545f4914f6cdd1dull;
	/* Every length across the padding boundaries (111, 112, 127, 128...), whole and in pieces. */
	for (n = 0; n <= 1100; n++) {
		fill(buf, n);
		SHA384(buf, n, want);
		guest_sha384(buf, n, false, got);
		ck_assert_msg(!memcmp(got, want, SHA384_LEN), "length %zu, one update", n);
		guest_sha384(buf, n, true, got);
		ck_assert_msg(!memcmp(got, want, SHA384_LEN), "length %zu, in pieces", n);
	}
	for (i = 0; i < 200; i++) {
		n = (size_t)(rng() % max);
		fill(buf, n);
		SHA384(buf, n, want);
		guest_sha384(buf, n, i & 1, got);
		ck_assert_msg(!memcmp(got, want, SHA384_LEN), "length %zu, case %zu", n, i);
	}
	free(buf);
}
END_TEST

START_TEST(sha256_known_answers)
{
	/* FIPS 180-4's examples. */
	static const uint8_t abc[SHA256_LEN] = {
		0xba, 0x78, 0x16, 0xbf, 0x8f, 0x01, 0xcf, 0xea, 0x41, 0x41, 0x40, 0xde, 0x5d, 0xae, 0x22, 0x23,
		0xb0, 0x03, 0x61, 0xa3, 0x96, 0x17, 0x7a, 0x9c, 0xb4, 0x10, 0xff, 0x61, 0xf2, 0x00, 0x15, 0xad,
	};
	static const uint8_t million_a[SHA256_LEN] = {
		0xcd, 0xc7, 0x6e, 0x5c, 0x99, 0x14, 0xfb, 0x92, 0x81, 0xa1, 0xc7, 0xe2, 0x84, 0xd7, 0x3e, 0x67,
		0xf1, 0x80, 0x9a, 0x48, 0xa4, 0x97, 0x20, 0x0e, 0x04, 0x6d, 0x39, 0xcc, 0xc7, 0x11, 0x2c, 0xd0,
	};
	uint8_t got[SHA256_LEN], *a = malloc(1000000);

	ck_assert_ptr_nonnull(a);
	guest_sha256((const uint8_t *)"abc", 3, false, got);
	ck_assert_mem_eq(got, abc, SHA256_LEN);
	memset(a, 'a', 1000000);
	guest_sha256(a, 1000000, false, got);
	ck_assert_mem_eq(got, million_a, SHA256_LEN);
	free(a);
}
END_TEST

START_TEST(sha256_matches_openssl)
{
	size_t max = 1 << 20, n, i;
	uint8_t *buf = malloc(max), want[SHA256_LEN], got[SHA256_LEN];

	ck_assert_ptr_nonnull(buf);
	rng_state = 0x9e3779b97f4a7c15ull;
	/* Every length across the padding boundaries (55, 56, 63, 64...), whole and in pieces. */
	for (n = 0; n <= 1100; n++) {
		fill(buf, n);
		SHA256(buf, n, want);
		guest_sha256(buf, n, false, got);
		ck_assert_msg(!memcmp(got, want, SHA256_LEN), "length %zu, one update", n);
		guest_sha256(buf, n, true, got);
		ck_assert_msg(!memcmp(got, want, SHA256_LEN), "length %zu, in pieces", n);
	}
	/* Larger random lengths up to 1 MiB, in random pieces. */
	for (i = 0; i < 300; i++) {
		n = (size_t)(rng() % max);
		fill(buf, n);
		SHA256(buf, n, want);
		guest_sha256(buf, n, i & 1, got);
		ck_assert_msg(!memcmp(got, want, SHA256_LEN), "length %zu, case %zu", n, i);
	}
	free(buf);
}
END_TEST

static struct vm_config cfg;
static struct plan_inputs in;
static struct launch_plan plan, full;
static struct cloak_err err;

static void setup(void)
{
	config_defaults(&cfg);
	cfg.sev = true;
	ck_assert_int_eq(plan_inputs_open(&in, &cfg, &err), 0);
	in.cbit = 51;
	memset(&plan, 0, sizeof(plan));
	memset(&full, 0, sizeof(full));
}

static void teardown(void)
{
	plan_free(&plan);
	plan_free(&full);
	plan_inputs_close(&in);
}

static const struct plan_region *find(const struct launch_plan *p, const char *name, unsigned nth)
{
	unsigned i;

	for (i = 0; i < p->nregions; i++)
		if (!strcmp(p->regions[i].name, name) && nth-- == 0)
			return &p->regions[i];
	return NULL;
}

static const struct verify_table *table_of(const struct launch_plan *p)
{
	const struct plan_region *r = find(p, "verifier table", 0);

	ck_assert_ptr_nonnull(r);
	ck_assert_uint_eq(r->gpa, PLAN_VERIFY_TABLE_GPA);
	ck_assert(r->flags & PLAN_MEASURED);
	return (const struct verify_table *)r->data;
}

static bool pages_overlap(uint64_t a, uint64_t alen, uint64_t b, uint64_t blen)
{
	a = ALIGN_DOWN(a, PAGE_SIZE), alen = ALIGN_UP(alen, PAGE_SIZE);
	b = ALIGN_DOWN(b, PAGE_SIZE), blen = ALIGN_UP(blen, PAGE_SIZE);
	return a < b + blen && b < a + alen;
}

/*
 * Builds the verifier plan and the full plan of the same inputs, and checks
 * what must hold for any guest: every payload of the full plan is an item,
 * in order, with its bytes' hash and destination; the staged copies are
 * unmeasured, in the 2 MiB-aligned staging area, and meet no region, no
 * destination and no DMA window; the verifier enters the guest's own entry;
 * at most 64 KiB is measured.
 */
static const struct verify_table *check_both_plans(void)
{
	const struct verify_table *t;
	unsigned i, item = 0;

	cfg.measured_boot = MEASURED_BOOT_FULL;
	ck_assert_int_eq(plan_build(&in, &full, &err), 0);
	cfg.measured_boot = MEASURED_BOOT_VERIFIER;
	ck_assert_msg(plan_build(&in, &plan, &err) == 0, "%s", err.msg);
	ck_assert(plan.verifier);
	ck_assert(!full.verifier);
	t = table_of(&plan);
	ck_assert(!memcmp(t->magic, VERIFY_TABLE_MAGIC, 8));
	ck_assert_uint_eq(t->version, VERIFY_TABLE_VERSION);
	ck_assert_uint_eq(t->hash_alg, in.verify_hash ? in.verify_hash : VERIFY_HASH_SHA256);
	ck_assert_int_eq(t->cbit, 51);
	ck_assert_uint_eq(t->staging_gpa, plan.staging_gpa);
	ck_assert_uint_eq(t->staging_size, plan.staging_size);
	ck_assert_uint_eq(plan.staging_gpa % PLAN_STAGING_ALIGN, 0);
	ck_assert_uint_eq(plan.staging_size % PLAN_STAGING_ALIGN, 0);
	ck_assert(plan_in_ram(&plan, plan.staging_gpa, plan.staging_size));
	ck_assert_uint_lt(plan.staging_gpa + plan.staging_size, 4 * GiB);  /* in reach of the identity map */
	/* The verifier enters the guest the way the full plan would. */
	ck_assert_uint_eq(t->entry_rip, full.entry.rip);
	ck_assert_uint_eq(t->entry_rsp, full.entry.rsp);
	ck_assert_uint_eq(t->entry_rdi, full.entry.rdi);
	ck_assert_uint_eq(t->entry_rsi, full.entry.rsi);
	ck_assert_uint_eq(plan.guest_entry.rip, full.entry.rip);
	ck_assert_int_eq(plan.entry.mode, ENTRY_LONG64);
	ck_assert_uint_ge(plan.entry.rip, PLAN_VERIFIER_GPA);
	ck_assert_uint_lt(plan.entry.rip, PLAN_STACK_BOTTOM);
	ck_assert_uint_eq(plan.entry.rdi, PLAN_VERIFY_TABLE_GPA);
	ck_assert_uint_eq(plan.entry.cr3, full.entry.cr3);

	ck_assert_uint_eq(plan.nregions, full.nregions + 2);  /* + the verifier and its table */
	for (i = 0; i < full.nregions; i++) {
		const struct plan_region *f = &full.regions[i], *v = &plan.regions[i];
		const struct verify_item *it;
		uint8_t want[48];
		unsigned j;

		if (!(f->flags & PLAN_PAYLOAD)) {
			/* Everything else is the same region, measured the same. */
			ck_assert_str_eq(v->name, f->name);
			ck_assert_uint_eq(v->gpa, f->gpa);
			ck_assert_uint_eq(v->flags, f->flags);
			ck_assert(!memcmp(v->data, f->data, f->data_len));
			continue;
		}
		ck_assert_uint_lt(item, t->nitems);
		it = &t->items[item++];
		ck_assert(v->flags & PLAN_STAGED);
		ck_assert(!(v->flags & PLAN_MEASURED));
		ck_assert_uint_eq(v->gpa, it->staged_gpa);
		ck_assert_uint_ge(v->gpa, plan.staging_gpa);
		ck_assert_uint_le(v->gpa + v->size, plan.staging_gpa + plan.staging_size);
		ck_assert_uint_eq(it->dest_gpa, f->gpa);
		ck_assert_uint_eq(it->len, f->data_len);
		ck_assert_uint_eq(it->zero_len, (f->flags & PLAN_SCRATCH_TAIL) ? 0 : f->size - f->data_len);
		ck_assert(v->data == f->data || !memcmp(v->data, f->data, f->data_len));
		if (t->hash_alg == VERIFY_HASH_SHA384) {
			SHA384(f->data, f->data_len, want);
			ck_assert(!memcmp(it->digest, want, 48));
		} else {
			SHA256(f->data, f->data_len, want);
			ck_assert(!memcmp(it->digest, want, 32));
			ck_assert(!memcmp(it->digest + 32, (uint8_t[16]){ 0 }, 16));  /* the unused tail is zero */
		}
		ck_assert(it->name[VERIFY_NAME_MAX - 1] == 0);
		/* A staged copy meets no destination and no other region of the full plan. */
		for (j = 0; j < full.nregions; j++)
			ck_assert_msg(!pages_overlap(v->gpa, v->size, full.regions[j].gpa, full.regions[j].size),
				      "%s at 0x%llx meets %s", v->name, (unsigned long long)v->gpa, full.regions[j].name);
		if (plan.dma_size)
			ck_assert(!pages_overlap(plan.staging_gpa, plan.staging_size, plan.dma_gpa, plan.dma_size));
	}
	ck_assert_uint_eq(item, t->nitems);
	ck_assert_uint_le(sev_plan_measured(&plan, NULL, NULL), 64 * 1024);
	return t;
}

START_TEST(verifier_plan_of_the_demo)
{
	const struct verify_table *t;

	cfg.cmdline = "verifier test";
	t = check_both_plans();
	ck_assert_uint_eq(t->nitems, 2);
	ck_assert_str_eq(t->items[0].name, "segment 1");
	ck_assert_str_eq(t->items[1].name, "command line");
	ck_assert_ptr_nonnull(plan_staged_region(&plan, "kernel"));
	ck_assert_ptr_nonnull(plan_staged_region(&plan, "command line"));
	ck_assert_ptr_null(plan_staged_region(&plan, "initrd"));
	ck_assert_ptr_nonnull(find(&plan, "boot verifier", 0));
	ck_assert_uint_lt(sev_plan_measured(&plan, NULL, NULL), sev_plan_measured(&full, NULL, NULL));
}
END_TEST

static uint8_t *make_bzimage(size_t len)
{
	uint8_t *buf = malloc(len);

	ck_assert_ptr_nonnull(buf);
	fake_bzimage(buf, len, 0x020f, 1);
	return buf;
}

/* A 12 MiB "kernel" and a 40 MiB initrd: the measurement stays under 64 KiB whatever their size. */
START_TEST(verifier_plan_of_a_big_bzimage_and_initrd)
{
	size_t klen = 12 * MiB, rdlen = 40 * MiB + 123;
	uint8_t *k = make_bzimage(klen), *rd = malloc(rdlen);
	const struct verify_table *t;

	ck_assert_ptr_nonnull(rd);
	fill(rd, rdlen);
	in.kernel = (struct file_map){ .path = "bz", .data = k, .size = klen };
	in.initrd = (struct file_map){ .path = "rd", .data = rd, .size = rdlen };
	cfg.mem_size = 256 * MiB;
	cfg.cmdline = "console=ttyS0";
	t = check_both_plans();
	ck_assert_uint_eq(t->nitems, 3);
	ck_assert_str_eq(t->items[0].name, "kernel");
	ck_assert_uint_eq(t->items[0].zero_len, 0);  /* the kernel's room past its image is its own scratch */
	ck_assert_uint_eq(t->items[0].dest_gpa, 0x1000000);
	ck_assert_str_eq(t->items[1].name, "initrd");
	ck_assert_uint_eq(t->items[1].zero_len, ALIGN_UP(rdlen, PAGE_SIZE) - rdlen);
	ck_assert_str_eq(t->items[2].name, "command line");
	/* The staging area lies between the kernel's room (16 MiB + 32 MiB) and the initrd at the top. */
	ck_assert_uint_ge(plan.staging_gpa, 0x1000000 + 0x2000000);
	ck_assert_uint_le(plan.staging_gpa + plan.staging_size, t->items[1].dest_gpa);
	ck_assert_uint_gt(sev_plan_measured(&full, NULL, NULL), 50 * MiB);
	in.kernel = (struct file_map){ 0 };
	in.initrd = (struct file_map){ 0 };
	free(k);
	free(rd);
}
END_TEST

START_TEST(verifier_plan_needs_room_to_stage)
{
	size_t klen = 20 * MiB;
	uint8_t *k = make_bzimage(klen);

	/* The kernel's room (16 MiB + 32 MiB) fits; 20 MiB more to stage fits neither below it nor above. */
	in.kernel = (struct file_map){ .path = "bz", .data = k, .size = klen };
	cfg.mem_size = 52 * MiB;
	cfg.measured_boot = MEASURED_BOOT_FULL;
	ck_assert_int_eq(plan_build(&in, &plan, &err), 0);
	plan_free(&plan);
	cfg.measured_boot = MEASURED_BOOT_VERIFIER;
	ck_assert_int_eq(plan_build(&in, &plan, &err), -1);
	ck_assert_msg_has(err.msg, "the staging area for the kernel, initrd and command line (22 MiB)");
	ck_assert_msg_has(err.msg, "--measured-boot full");
	in.kernel = (struct file_map){ 0 };
	free(k);
}
END_TEST

START_TEST(verifier_plan_is_deterministic)
{
	struct launch_plan again;
	uint8_t a[32], b[32];

	cfg.cmdline = "same";
	ck_assert_int_eq(plan_build(&in, &plan, &err), 0);
	ck_assert_int_eq(plan_build(&in, &again, &err), 0);
	ck_assert_int_eq(sev_plan_digest(&plan, a, NULL, &err), 0);
	ck_assert_int_eq(sev_plan_digest(&again, b, NULL, &err), 0);
	ck_assert(!memcmp(a, b, 32));
	plan_free(&again);
	/* Another command line changes the measured table, so the digest. */
	cfg.cmdline = "other";
	ck_assert_int_eq(plan_build(&in, &again, &err), 0);
	ck_assert_int_eq(sev_plan_digest(&again, b, NULL, &err), 0);
	ck_assert(memcmp(a, b, 32));
	plan_free(&again);
}
END_TEST

/* SNP's tables: SHA-384, the hash of its launch digest. */
START_TEST(verifier_plan_with_sha384)
{
	const struct verify_table *t;

	in.verify_hash = VERIFY_HASH_SHA384;
	cfg.cmdline = "snp";
	t = check_both_plans();
	ck_assert_uint_eq(t->hash_alg, VERIFY_HASH_SHA384);
	in.verify_hash = 7;
	plan_free(&plan);
	ck_assert_int_eq(plan_build(&in, &plan, &err), -1);
	ck_assert_msg_has(err.msg, "neither SHA-256 nor SHA-384");
}
END_TEST

/* Without a C-bit (no --sev) nothing is staged, whatever --measured-boot says. */
START_TEST(no_verifier_without_sev)
{
	in.cbit = -1;
	ck_assert_int_eq(plan_build(&in, &plan, &err), 0);
	ck_assert(!plan.verifier);
	ck_assert_ptr_null(find(&plan, "verifier table", 0));
}
END_TEST

static int parse(struct vm_config *c, int argc, char **argv)
{
	config_defaults(c);
	return config_parse_run(argc, argv, c, &err);
}

START_TEST(measured_boot_option)
{
	struct vm_config c;
	char *def[] = { "run", "--sev" };
	char *full_arg[] = { "run", "--sev", "--measured-boot", "full" };
	char *bad[] = { "run", "--sev", "--measured-boot", "some" };
	char *nosev[] = { "run", "--measured-boot", "verifier" };
	char *tamper_full[] = { "run", "--sev", "--measured-boot", "full", "--debug-tamper-staged", "kernel" };
	char *tamper_bad[] = { "run", "--sev", "--debug-tamper-staged", "vmlinux" };
	char *tamper[] = { "run", "--sev", "--debug-tamper-staged", "cmdline" };
	char *es[] = { "run", "--sev", "--sev-mode", "es" };
	char *es_verifier[] = { "run", "--sev", "--sev-mode", "es", "--measured-boot", "verifier" };

	ck_assert_int_eq(parse(&c, 2, def), 0);
	ck_assert_int_eq(config_measured_boot(&c), MEASURED_BOOT_VERIFIER);
	ck_assert_int_eq(parse(&c, 4, full_arg), 0);
	ck_assert_int_eq(config_measured_boot(&c), MEASURED_BOOT_FULL);
	/* SEV-ES and SNP measure in full: the verifier handles neither #VC nor PVALIDATE. */
	ck_assert_int_eq(parse(&c, 4, es), 0);
	ck_assert_int_eq(config_measured_boot(&c), MEASURED_BOOT_FULL);
	ck_assert_int_eq(parse(&c, 6, es_verifier), -1);
	ck_assert_msg_has(err.msg, "--measured-boot verifier: under --sev-mode es");
	ck_assert_int_eq(parse(&c, 4, bad), -1);
	ck_assert_msg_has(err.msg, "--measured-boot: 'some' is not a mode; give verifier");
	ck_assert_int_eq(parse(&c, 3, nosev), -1);
	ck_assert_msg_has(err.msg, "--measured-boot needs --sev");
	ck_assert_int_eq(parse(&c, 6, tamper_full), -1);
	ck_assert_msg_has(err.msg, "--debug-tamper-staged needs --measured-boot verifier");
	ck_assert_int_eq(parse(&c, 4, tamper_bad), -1);
	ck_assert_msg_has(err.msg, "'vmlinux' is not a staged item");
	ck_assert_int_eq(parse(&c, 4, tamper), 0);
	ck_assert_str_eq(c.debug_tamper_staged, "command line");
}
END_TEST

/* The configuration file's sev.measured_boot key, and the printed configuration that --config reads back. */
START_TEST(measured_boot_in_the_config_file)
{
	char file[64], *argv[] = { "run", "--config", file }, *json;
	struct vm_config c;
	FILE *f;

	snprintf(file, sizeof(file), "/tmp/cloak-verifier-test.%d.json", (int)getpid());
	f = fopen(file, "w");
	ck_assert_ptr_nonnull(f);
	fputs("{\"sev\": {\"mode\": \"sev\", \"measured_boot\": \"full\"}}", f);
	fclose(f);
	ck_assert_int_eq(parse(&c, 3, argv), 0);
	ck_assert_int_eq(c.measured_boot, MEASURED_BOOT_FULL);
	json = config_to_json(&c);
	ck_assert_ptr_nonnull(json);
	ck_assert_msg_has(json, "\"measured_boot\": \"full\"");
	free(json);
	config_release(&c);
	f = fopen(file, "w");
	ck_assert_ptr_nonnull(f);
	fputs("{\"sev\": {\"mode\": \"sev\", \"measured_boot\": \"half\"}}", f);
	fclose(f);
	ck_assert_int_eq(parse(&c, 3, argv), -1);
	ck_assert_msg_has(err.msg, "sev.measured_boot");
	ck_assert_msg_has(err.msg, "'half' is not a mode");
	config_release(&c);
	unlink(file);
}
END_TEST

Suite *verifier_suite(void)
{
	Suite *s = suite_create("verifier");
	TCase *tc = tcase_create("verifier");

	tcase_set_timeout(tc, 60);
	tcase_add_test(tc, sha256_known_answers);
	tcase_add_test(tc, sha256_matches_openssl);
	tcase_add_test(tc, sha384_matches_openssl);
	tcase_add_test(tc, measured_boot_option);
	tcase_add_test(tc, measured_boot_in_the_config_file);
	suite_add_tcase(s, tc);
	tc = tcase_create("verifier plan");
	tcase_set_timeout(tc, 60);
	tcase_add_checked_fixture(tc, setup, teardown);
	tcase_add_test(tc, verifier_plan_of_the_demo);
	tcase_add_test(tc, verifier_plan_of_a_big_bzimage_and_initrd);
	tcase_add_test(tc, verifier_plan_needs_room_to_stage);
	tcase_add_test(tc, verifier_plan_is_deterministic);
	tcase_add_test(tc, verifier_plan_with_sha384);
	tcase_add_test(tc, no_verifier_without_sev);
	suite_add_tcase(s, tc);
	return s;
}
