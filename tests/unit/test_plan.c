/* test_plan.c: the launch plan: RAM layout, regions, entry state, initrd placement, refusals. */
#include "loader.h"
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
	/* Page 0 is loaded and measured whole (Linux reads the BIOS data area), with the GDT at 0x500. */
	ck_assert_ptr_nonnull(r = find("page 0 (BIOS data area, GDT)"));
	ck_assert_uint_eq(r->gpa, 0);
	ck_assert_uint_eq(r->size, PAGE_SIZE);
	ck_assert_uint_eq(r->data_len, PAGE_SIZE);
	ck_assert(r->flags & PLAN_MEASURED);
	ck_assert_uint_eq(r->data[0x40e] | r->data[0x40f] | r->data[0x413] | r->data[0x414], 0);
	ck_assert_uint_ne(r->data[PLAN_GDT_GPA + 8 * (GDT_SEL_CODE64 >> 3) + 5], 0);  /* the 64-bit code descriptor */
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

static uint32_t get32(const uint8_t *p)
{
	uint32_t v;

	memcpy(&v, p, 4);
	return v;
}

/* A flat Multiboot 1 image: the header first, with a.out-kludge fields loading it at 2 MiB. */
static uint8_t mbimg[0x2000];

static void make_mb1_aout(uint32_t entry)
{
	uint32_t hdr[8] = { MB1_HEADER_MAGIC, MB1_MEMORY_INFO | MB1_AOUT_KLUDGE,
			    -(MB1_HEADER_MAGIC + (MB1_MEMORY_INFO | MB1_AOUT_KLUDGE)),
			    0x200000, 0x200000, 0x201000, 0x203000, entry };

	memset(mbimg, 0x90, sizeof(mbimg));
	memcpy(mbimg, hdr, sizeof(hdr));
	in.kernel = (struct file_map){ .path = "mb.bin", .data = mbimg, .size = sizeof(mbimg) };
}

START_TEST(multiboot1_plan)
{
	static const uint8_t rd[100] = { 'M', 'O', 'D' };
	const struct plan_region *r;
	const uint8_t *info;

	make_mb1_aout(0x200020);
	in.initrd = (struct file_map){ .path = "/some/dir/mod.img", .data = rd, .size = sizeof(rd) };
	cfg.mem_size = 64 * MiB;
	cfg.cmdline = "a=1";
	ck_assert_int_eq(plan_build(&in, &plan, &err), 0);
	ck_assert_int_eq(plan.kind, PLAN_KIND_MULTIBOOT1);
	ck_assert_str_eq(plan_kind_name(plan.kind), "multiboot");
	ck_assert_int_eq(plan.entry.mode, ENTRY_PROT32);
	ck_assert_uint_eq(plan.entry.rip, 0x200020);
	ck_assert_uint_eq(plan.entry.rax, MB1_BOOT_MAGIC);
	ck_assert_uint_eq(plan.entry.rbx, PLAN_MBINFO_GPA);
	ck_assert_ptr_null(find("page tables"));
	ck_assert_ptr_nonnull(r = find("kernel"));
	ck_assert_uint_eq(r->gpa, 0x200000);
	ck_assert_uint_eq(r->data_len, 0x1000);
	ck_assert_uint_eq(r->size, 0x3000);  /* up to bss_end_addr */
	ck_assert_ptr_nonnull(find("acpi tables"));
	ck_assert_ptr_nonnull(r = find("multiboot information"));
	ck_assert_uint_eq(r->gpa, PLAN_MBINFO_GPA);
	ck_assert(r->flags & PLAN_MEASURED);
	info = r->data;
	ck_assert_uint_eq(get32(info), 0x24d);                  /* memory, cmdline, modules, mmap, loader name */
	ck_assert_uint_eq(get32(info + 4), 636);                /* mem_lower, KiB */
	ck_assert_uint_eq(get32(info + 8), 63 * 1024);          /* mem_upper: 1 MiB to the top of RAM */
	ck_assert_uint_eq(get32(info + 16), PLAN_CMDLINE_GPA);
	ck_assert_uint_eq(get32(info + 20), 1);                 /* mods_count */
	ck_assert_uint_eq(get32(info + 44), 5 * 24);            /* mmap_length: RAM, reserved, ACPI, reserved, RAM */
	{
		const uint8_t *e = info + (get32(info + 48) - PLAN_MBINFO_GPA);

		/* The third entry: the ACPI tables' own range, type 3. */
		ck_assert_uint_eq(get32(e + 2 * 24 + 4), PLAN_ACPI_GPA);
		ck_assert_uint_eq(get32(e + 2 * 24 + 12), PAGE_SIZE);
		ck_assert_uint_eq(get32(e + 2 * 24 + 20), E820_ACPI);
	}
	{
		const uint8_t *mod = info + (get32(info + 24) - PLAN_MBINFO_GPA);
		const struct plan_region *rdr = find("initrd");

		ck_assert_ptr_nonnull(rdr);
		ck_assert_uint_eq(get32(mod), rdr->gpa);
		ck_assert_uint_eq(get32(mod + 4), rdr->gpa + sizeof(rd));
		/* The module's string is the file's name, never the host's directories. */
		ck_assert_str_eq((const char *)info + (get32(mod + 8) - PLAN_MBINFO_GPA), "mod.img");
	}
	ck_assert_str_eq((const char *)info + (get32(info + 64) - PLAN_MBINFO_GPA), "cloak");
	in.initrd = (struct file_map){ 0 };
	cfg.cmdline = NULL;
}
END_TEST

START_TEST(multiboot1_entry_outside_image)
{
	make_mb1_aout(0x204000);
	ck_assert_int_eq(plan_build(&in, &plan, &err), -1);
	ck_assert_msg_has(err.msg, "mb.bin: its Multiboot entry 0x204000 is not inside the loaded image");
}
END_TEST

START_TEST(multiboot2_plan)
{
	/* Header at 0: an address tag (load the file from its first byte at 1 MiB), an entry tag, the end. */
	static const uint32_t tags[] = { 2 | 0 << 16, 24, 0x100000, 0x100000, 0, 0x102000,
					 3, 12, 0x100100, 0, 0, 8 };
	uint32_t hlen = 16 + sizeof(tags);
	uint32_t hdr[4] = { MB2_HEADER_MAGIC, 0, hlen, -(MB2_HEADER_MAGIC + hlen) };
	const struct plan_region *r;
	const uint8_t *info;
	uint32_t off, seen = 0;

	memset(mbimg, 0, sizeof(mbimg));
	memcpy(mbimg, hdr, sizeof(hdr));
	memcpy(mbimg + 16, tags, sizeof(tags));
	in.kernel = (struct file_map){ .path = "mb2.bin", .data = mbimg, .size = sizeof(mbimg) };
	cfg.cmdline = "hello mb2";
	ck_assert_int_eq(plan_build(&in, &plan, &err), 0);
	ck_assert_int_eq(plan.kind, PLAN_KIND_MULTIBOOT2);
	ck_assert_uint_eq(plan.entry.rip, 0x100100);
	ck_assert_uint_eq(plan.entry.rax, MB2_BOOT_MAGIC);
	ck_assert_ptr_nonnull(r = find("kernel"));
	ck_assert_uint_eq(r->data_len, sizeof(mbimg));
	ck_assert_ptr_nonnull(r = find("multiboot information"));
	info = r->data;
	ck_assert_uint_le(get32(info), r->size);
	for (off = 8; off < get32(info); off += (get32(info + off + 4) + 7) & ~7u) {
		uint32_t type = get32(info + off);

		seen |= 1u << type;
		if (type == 1)
			ck_assert_str_eq((const char *)info + off + 8, "hello mb2");
		if (type == 4)
			ck_assert_uint_eq(get32(info + off + 12), (CONFIG_DEFAULT_MEM - MiB) / KiB);
		if (type == 6)
			ck_assert_uint_eq(get32(info + off + 4), 16 + 5 * 24);
		if (type == 0)
			break;
	}
	/* command line, loader name, basic memory, memory map, both RSDP tags, the end tag; no module */
	ck_assert_uint_eq(seen, 1u << 0 | 1u << 1 | 1u << 2 | 1u << 4 | 1u << 6 | 1u << 14 | 1u << 15);
	cfg.cmdline = NULL;
}
END_TEST

/*
 * The ACPI tables sit in an e820 range of their own (type 3), as firmware puts
 * them: under SEV, Linux maps reserved ranges decrypted and would read them as
 * ciphertext. The map stays sorted, gapless below 640 KiB..1 MiB, and whole.
 */
START_TEST(acpi_tables_have_their_own_e820_range)
{
	unsigned i, acpi = 0;

	make_mb1_aout(0x200020);
	ck_assert_int_eq(plan_build(&in, &plan, &err), 0);
	for (i = 0; i < plan.ne820; i++) {
		const struct plan_e820 *e = &plan.e820[i];

		if (i > 0 && plan.e820[i - 1].addr + plan.e820[i - 1].size <= 0x100000)
			ck_assert_uint_eq(e->addr, plan.e820[i - 1].addr + plan.e820[i - 1].size);
		if (e->type == E820_ACPI) {
			acpi++;
			ck_assert_uint_eq(e->addr, PLAN_ACPI_GPA);
			ck_assert_uint_eq(e->size, PAGE_SIZE);
			ck_assert_uint_eq(plan.e820[i - 1].type, E820_RESERVED);
			ck_assert_uint_eq(plan.e820[i + 1].type, E820_RESERVED);
			ck_assert_uint_eq(plan.e820[i + 1].addr + plan.e820[i + 1].size, PLAN_LOW_RESERVED);
		}
	}
	ck_assert_uint_eq(acpi, 1);
	ck_assert_ptr_nonnull(find("acpi tables"));
}
END_TEST

/* Under SEV, every 32-bit entry is refused before anything runs; 64-bit entries still plan. */
START_TEST(sev_refuses_32bit_entries)
{
	make_mb1_aout(0x200020);
	in.cbit = 51;
	ck_assert_int_eq(plan_build(&in, &plan, &err), -1);
	ck_assert_msg_has(err.msg, "--sev: mb.bin is a Multiboot 1 kernel, entered in 32-bit mode with paging off");
	ck_assert_msg_has(err.msg, "64-bit ELF built for cloak");
	in.kernel = (struct file_map){ .path = "demo", .data = cloak_demo_start,
				       .size = (size_t)(cloak_demo_end - cloak_demo_start) };
	ck_assert_int_eq(plan_build(&in, &plan, &err), 0);
	ck_assert_int_eq(plan.entry.mode, ENTRY_LONG64);
	in.cbit = -1;
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
	tcase_add_test(tc, multiboot1_plan);
	tcase_add_test(tc, multiboot1_entry_outside_image);
	tcase_add_test(tc, multiboot2_plan);
	tcase_add_test(tc, acpi_tables_have_their_own_e820_range);
	tcase_add_test(tc, sev_refuses_32bit_entries);
	suite_add_tcase(s, tc);
	return s;
}
