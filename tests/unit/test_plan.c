/* test_plan.c: the launch plan: RAM layout, regions, entry state, initrd placement, refusals. */
#include "plan.h"
#include "unit.h"

#include <string.h>

static struct vm_config cfg;
static struct plan_inputs in;
static struct launch_plan plan;
static struct cloak_err err;

static void setup(void)
{
	config_defaults(&cfg);
	ck_assert_int_eq(plan_inputs_open(&in, &cfg, &err), 0);
}

static void teardown(void)
{
	plan_free(&plan);
	plan_inputs_close(&in);
}

static const struct plan_region *find(const char *name)
{
	unsigned i;

	for (i = 0; i < plan.nregions; i++)
		if (!strcmp(plan.regions[i].name, name))
			return &plan.regions[i];
	return NULL;
}

START_TEST(demo_plan)
{
	const struct plan_region *r;

	ck_assert_int_eq(plan_build(&in, &plan, &err), 0);
	ck_assert_int_eq(plan.kind, PLAN_KIND_ELF);
	ck_assert_uint_eq(plan.nram, 1);
	ck_assert_uint_eq(plan.ram[0].size, CONFIG_DEFAULT_MEM);
	ck_assert_int_eq(plan.entry.mode, ENTRY_LONG64);
	ck_assert_uint_eq(plan.entry.rip, 0x100000);
	ck_assert_uint_eq(plan.entry.rdi, PLAN_FDT_GPA);
	ck_assert_uint_eq(plan.entry.rsp, PLAN_STACK_TOP);
	ck_assert_uint_eq(plan.entry.cr3, PLAN_PT_GPA);
	ck_assert_ptr_nonnull(find("kernel segment"));
	ck_assert_ptr_nonnull(find("gdt"));
	ck_assert_ptr_nonnull(r = find("page tables"));
	ck_assert_uint_eq(r->size, PLAN_PT_PAGES * PAGE_SIZE);
	ck_assert_ptr_nonnull(r = find("boot-info device tree"));
	ck_assert_uint_eq(r->gpa, PLAN_FDT_GPA);
	ck_assert_uint_eq(r->size % 16, 0);
	/* Every region is measured, in a fixed order: the kernel first. */
	ck_assert_str_eq(plan.regions[0].name, "kernel segment");
	for (unsigned i = 0; i < plan.nregions; i++)
		ck_assert(plan.regions[i].flags & PLAN_MEASURED);
	ck_assert_uint_eq(plan.ne820, 3);
	ck_assert_uint_eq(plan.e820[2].addr + plan.e820[2].size, CONFIG_DEFAULT_MEM);
}
END_TEST

START_TEST(plan_is_deterministic)
{
	struct launch_plan again;
	unsigned i;

	cfg.cmdline = "same input, same bytes";
	ck_assert_int_eq(plan_build(&in, &plan, &err), 0);
	ck_assert_int_eq(plan_build(&in, &again, &err), 0);
	ck_assert_uint_eq(plan.nregions, again.nregions);
	for (i = 0; i < plan.nregions; i++) {
		ck_assert_uint_eq(plan.regions[i].gpa, again.regions[i].gpa);
		ck_assert_uint_eq(plan.regions[i].size, again.regions[i].size);
		ck_assert_uint_eq(plan.regions[i].data_len, again.regions[i].data_len);
		ck_assert(!memcmp(plan.regions[i].data, again.regions[i].data, plan.regions[i].data_len));
	}
	plan_free(&again);
}
END_TEST

START_TEST(high_memory_splits_around_the_hole)
{
	cfg.mem_size = 4 * GiB;
	ck_assert_int_eq(plan_build(&in, &plan, &err), 0);
	ck_assert_uint_eq(plan.nram, 2);
	ck_assert_uint_eq(plan.ram[0].size, 3 * GiB);
	ck_assert_uint_eq(plan.ram[1].gpa, 4 * GiB);
	ck_assert_uint_eq(plan.ram[1].size, GiB);
	ck_assert_uint_eq(plan.ram[1].host_offset, 3 * GiB);
	ck_assert_uint_eq(plan.ne820, 4);
	ck_assert(plan_in_ram(&plan, 4 * GiB + GiB - 8, 8));
	ck_assert(!plan_in_ram(&plan, 3 * GiB, 1));
	ck_assert(!plan_in_ram(&plan, 5 * GiB - 8, 9));
	ck_assert(!plan_in_ram(&plan, UINT64_MAX, 2));
}
END_TEST

START_TEST(initrd_at_top_of_low_ram)
{
	static const uint8_t rd[5000] = { 'R', 'D' };
	const struct plan_region *r;

	in.initrd = (struct file_map){ .path = "rd", .data = rd, .size = sizeof(rd) };
	cfg.mem_size = 64 * MiB;
	ck_assert_int_eq(plan_build(&in, &plan, &err), 0);
	ck_assert_ptr_nonnull(r = find("initrd"));
	ck_assert_uint_eq(r->gpa, 64 * MiB - 2 * PAGE_SIZE);
	ck_assert_uint_eq(r->data_len, sizeof(rd));
	in.initrd = (struct file_map){ .path = "rd", .data = rd, .size = 64 * MiB };
	plan_free(&plan);
	ck_assert_int_eq(plan_build(&in, &plan, &err), -1);
	ck_assert_msg_has(err.msg, "initrd rd (64 MiB) does not fit in guest memory (64 MiB)");
	in.initrd = (struct file_map){ 0 };
}
END_TEST

START_TEST(regions_never_share_a_page)
{
	static const uint8_t b[16];

	ck_assert_int_eq(plan_build(&in, &plan, &err), 0);
	ck_assert_int_eq(plan_add_region(&plan, "a", 0x200000, 0x800, b, 16, 0, &err), 0);
	ck_assert_int_eq(plan_add_region(&plan, "b", 0x200800, 0x800, b, 16, 0, &err), -1);
	ck_assert_msg_has(err.msg, "b (0x200800-0x200fff) overlaps a (0x200000-0x2007ff)");
	ck_assert_int_eq(plan_add_region(&plan, "c", 0x201000, 0x1000, b, 16, 0, &err), 0);
	ck_assert_int_eq(plan_add_region(&plan, "d", CONFIG_DEFAULT_MEM - 0x800, 0x1000, b, 16, 0, &err), -1);
	ck_assert_msg_has(err.msg, "does not fit in guest memory (128 MiB)");
	ck_assert_int_eq(plan_add_region(&plan, "e", 0x300000, 8, b, 16, 0, &err), -1);
	ck_assert_msg_has(err.msg, "internal error");
}
END_TEST

START_TEST(not_an_image)
{
	static const uint8_t junk[4096] = "this is not a kernel";

	in.kernel = (struct file_map){ .path = "junk", .data = junk, .size = sizeof(junk) };
	ck_assert_int_eq(plan_build(&in, &plan, &err), -1);
	ck_assert_msg_has(err.msg, "junk is neither an ELF executable, a Multiboot kernel nor a Linux bzImage");
}
END_TEST

START_TEST(missing_files)
{
	struct plan_inputs other;

	cfg.kernel_path = "/nonexistent/kernel";
	ck_assert_int_eq(plan_inputs_open(&other, &cfg, &err), -1);
	ck_assert_msg_has(err.msg, "kernel file /nonexistent/kernel does not exist");
	cfg.kernel_path = "/";
	ck_assert_int_eq(plan_inputs_open(&other, &cfg, &err), -1);
	ck_assert_msg_has(err.msg, "kernel / is not a regular file");
	cfg.kernel_path = NULL;
}
END_TEST

Suite *plan_suite(void)
{
	Suite *s = suite_create("plan");
	TCase *tc = tcase_create("plan");

	tcase_add_checked_fixture(tc, setup, teardown);
	tcase_add_test(tc, demo_plan);
	tcase_add_test(tc, plan_is_deterministic);
	tcase_add_test(tc, high_memory_splits_around_the_hole);
	tcase_add_test(tc, initrd_at_top_of_low_ram);
	tcase_add_test(tc, regions_never_share_a_page);
	tcase_add_test(tc, not_an_image);
	tcase_add_test(tc, missing_files);
	suite_add_tcase(s, tc);
	return s;
}
