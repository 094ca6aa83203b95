/* test_boot.c: the GDT, the identity page tables and the three boot-info formats. */
#include "boot.h"
#include "unit.h"

#include <asm/bootparam.h>
#include <libfdt.h>
#include <string.h>

static uint8_t pages[PLAN_PT_PAGES * PAGE_SIZE];

START_TEST(gdt_selectors)
{
	uint64_t gdt[GDT_ENTRIES];
	struct gdt_fields f;

	boot_gdt_build(gdt);
	ck_assert_uint_eq(gdt[0], 0);
	boot_gdt_decode(gdt[GDT_SEL_CODE64 >> 3], &f);
	ck_assert(f.present && f.s && f.l && !f.db && f.g);
	ck_assert_uint_eq(f.type, 0xb);
	ck_assert_uint_eq(f.base, 0);
	ck_assert_uint_eq(f.limit, 0xffffffffu);
	boot_gdt_decode(gdt[GDT_SEL_DATA >> 3], &f);
	ck_assert(f.present && f.s && !f.l && f.db);
	ck_assert_uint_eq(f.type, 0x3);
	boot_gdt_decode(gdt[GDT_SEL_TSS >> 3], &f);
	ck_assert(f.present && !f.s && !f.g);
	ck_assert_uint_eq(f.type, 0xb);
	ck_assert_uint_eq(f.limit, 0x67);
	ck_assert_uint_eq(gdt[(GDT_SEL_TSS >> 3) + 1], 0);  /* upper half of the 16-byte TSS descriptor */
	boot_gdt_decode(gdt[GDT_SEL_CODE32 >> 3], &f);
	ck_assert(f.present && !f.l && f.db);
}
END_TEST

static uint64_t entry_at(unsigned page, unsigned i)
{
	uint64_t e;

	memcpy(&e, pages + page * PAGE_SIZE + i * 8, 8);
	return e;
}

START_TEST(pagetables_identity)
{
	unsigned i, j;

	boot_pagetables_build(pages, PLAN_PT_GPA, -1);
	ck_assert_uint_eq(entry_at(0, 0), (PLAN_PT_GPA + PAGE_SIZE) | 3);
	for (i = 1; i < 512; i++)
		ck_assert_uint_eq(entry_at(0, i), 0);
	for (i = 0; i < 4; i++) {
		ck_assert_uint_eq(entry_at(1, i), (PLAN_PT_GPA + (2 + i) * PAGE_SIZE) | 3);
		for (j = 0; j < 512; j++)
			ck_assert_uint_eq(entry_at(2 + i, j), (i * GiB + j * 2 * MiB) | 0x83);
	}
	ck_assert_uint_eq(entry_at(1, 4), 0);
}
END_TEST

START_TEST(pagetables_cbit_everywhere_but_the_hole)
{
	uint64_t c = 1ull << 51;
	unsigned i, j;

	boot_pagetables_build(pages, PLAN_PT_GPA, 51);
	ck_assert_uint_eq(entry_at(0, 0), (PLAN_PT_GPA + PAGE_SIZE) | c | 3);
	for (i = 0; i < 4; i++) {
		ck_assert(entry_at(1, i) & c);
		for (j = 0; j < 512; j++) {
			uint64_t gpa = i * GiB + j * 2 * MiB;

			ck_assert_uint_eq(entry_at(2 + i, j), gpa | (gpa < PLAN_MMIO_HOLE ? c : 0) | 0x83);
		}
	}
}
END_TEST

/* Device-tree cells are only 4-byte aligned. */
static uint64_t prop64(const void *fdt, int node, const char *name)
{
	uint64_t v;

	memcpy(&v, fdt_getprop(fdt, node, name, NULL), 8);
	return fdt64_to_cpu(v);
}

static struct launch_plan *sample_plan(void)
{
	static struct launch_plan p;

	memset(&p, 0, sizeof(p));
	p.mem_size = 4 * GiB;
	p.cpus = 2;
	p.cbit = -1;
	p.nram = 2;
	p.ram[0] = (struct plan_ram){ 0, 3 * GiB, 0 };
	p.ram[1] = (struct plan_ram){ 4 * GiB, GiB, 3 * GiB };
	p.ne820 = 2;
	p.e820[0] = (struct plan_e820){ 0, 0x9f000, E820_RAM };
	p.e820[1] = (struct plan_e820){ 0x100000, 0x1000, E820_RESERVED };
	strcpy(p.cmdline, "console=ttyS0");
	return &p;
}

START_TEST(fdt_round_trip)
{
	struct launch_plan *p = sample_plan();
	static uint8_t fdt[PLAN_FDT_MAX];
	struct cloak_err err;
	uint64_t reg[4];
	const void *regp;
	const char *s;
	int node, len;

	ck_assert_int_eq(boot_fdt_build(fdt, sizeof(fdt), p, 0x7000000, 0x1234, &err), 0);
	ck_assert_int_eq(fdt_check_header(fdt), 0);
	node = fdt_path_offset(fdt, "/memory@0");
	ck_assert_int_ge(node, 0);
	regp = fdt_getprop(fdt, node, "reg", &len);
	ck_assert_int_eq(len, 32);
	memcpy(reg, regp, sizeof(reg));
	ck_assert_uint_eq(fdt64_to_cpu(reg[0]), 0);
	ck_assert_uint_eq(fdt64_to_cpu(reg[1]), 3 * GiB);
	ck_assert_uint_eq(fdt64_to_cpu(reg[2]), 4 * GiB);
	ck_assert_uint_eq(fdt64_to_cpu(reg[3]), GiB);
	node = fdt_path_offset(fdt, "/chosen");
	s = fdt_getprop(fdt, node, "bootargs", NULL);
	ck_assert_str_eq(s, "console=ttyS0");
	ck_assert_uint_eq(prop64(fdt, node, "linux,initrd-start"), 0x7000000);
	ck_assert_uint_eq(prop64(fdt, node, "linux,initrd-end"), 0x7001234);
	ck_assert_uint_eq(fdt32_to_cpu(*(const fdt32_t *)fdt_getprop(fdt, node, "cloak,cpus", NULL)), 2);
	ck_assert_uint_eq(fdt32_to_cpu(*(const fdt32_t *)fdt_getprop(fdt, node, "cloak,sev", NULL)), 0);
	ck_assert_ptr_null(fdt_getprop(fdt, node, "cloak,c-bit", NULL));
	/* A buffer too small is an error, not an overflow. */
	ck_assert_int_eq(boot_fdt_build(fdt, 64, p, 0, 0, &err), -1);
	ck_assert_msg_has(err.msg, "building the boot-info device tree");
}
END_TEST

START_TEST(pvh_start_info)
{
	struct launch_plan *p = sample_plan();
	static uint8_t page[PAGE_SIZE];
	struct hvm_start_info si;
	struct hvm_modlist_entry mod;
	struct hvm_memmap_table_entry mm;

	boot_pvh_build(page, 0x8000, p, 0x9000, 0x6000000, 777, 0xe0000);
	memcpy(&si, page, sizeof(si));
	ck_assert_uint_eq(si.magic, HVM_START_MAGIC);
	ck_assert_uint_eq(si.version, 1);
	ck_assert_uint_eq(si.cmdline_paddr, 0x9000);
	ck_assert_uint_eq(si.nr_modules, 1);
	ck_assert_uint_eq(si.modlist_paddr, 0x8000 + PVH_MODLIST_OFFSET);
	ck_assert_uint_eq(si.memmap_paddr, 0x8000 + PVH_MEMMAP_OFFSET);
	ck_assert_uint_eq(si.memmap_entries, 2);
	ck_assert_uint_eq(si.rsdp_paddr, 0xe0000);
	memcpy(&mod, page + PVH_MODLIST_OFFSET, sizeof(mod));
	ck_assert_uint_eq(mod.paddr, 0x6000000);
	ck_assert_uint_eq(mod.size, 777);
	memcpy(&mm, page + PVH_MEMMAP_OFFSET + sizeof(mm), sizeof(mm));
	ck_assert_uint_eq(mm.addr, 0x100000);
	ck_assert_uint_eq(mm.type, E820_RESERVED);
	/* The ABI's offsets, as Linux's struct hvm_start_info has them. */
	ck_assert_uint_eq(offsetof(struct hvm_start_info, cmdline_paddr), 24);
	ck_assert_uint_eq(offsetof(struct hvm_start_info, memmap_entries), 48);
	ck_assert_uint_eq(sizeof(struct hvm_start_info), 56);
}
END_TEST

START_TEST(linux_zero_page)
{
	struct launch_plan *p = sample_plan();
	static uint8_t image[0x2000], page[PAGE_SIZE];
	struct boot_params bp;

	memset(image, 0, sizeof(image));
	image[0x1f1] = 1;
	image[0x201] = 0x66;
	memcpy(image + 0x202, "HdrS", 4);
	image[0x206] = 0x0f;
	image[0x207] = 0x02;
	image[0x250] = 0xaa;  /* inside the header: copied */
	image[0x290] = 0xbb;  /* past the header's end: not copied */
	boot_linux_build(page, image, sizeof(image), p, 0x1000000, 0x9000, 0x5000000, 0x123456, 0xe0000);
	memcpy(&bp, page, sizeof(bp));
	ck_assert_uint_eq(bp.hdr.header, 0x53726448);
	ck_assert_uint_eq(bp.hdr.version, 0x020f);
	ck_assert_uint_eq(bp.hdr.type_of_loader, 0xff);
	ck_assert_uint_eq(bp.hdr.cmd_line_ptr, 0x9000);
	ck_assert_uint_eq(bp.hdr.ramdisk_image, 0x5000000);
	ck_assert_uint_eq(bp.hdr.ramdisk_size, 0x123456);
	ck_assert_uint_eq(bp.hdr.code32_start, 0x1000000);
	ck_assert_uint_eq(bp.acpi_rsdp_addr, 0xe0000);
	ck_assert_uint_eq(page[0x250], 0xaa);
	ck_assert_uint_eq(page[0x290], 0);
	ck_assert_uint_eq(bp.e820_entries, 2);
	ck_assert_uint_eq(bp.e820_table[0].size, 0x9f000);
	ck_assert_uint_eq(bp.e820_table[1].type, E820_RESERVED);
}
END_TEST

static uint8_t sum(const uint8_t *p, size_t n)
{
	uint8_t s = 0;

	while (n--)
		s = (uint8_t)(s + *p++);
	return s;
}

static const uint8_t *acpi_table(const uint8_t *page, uint64_t page_gpa, uint64_t gpa, const char *sig)
{
	const uint8_t *t;
	uint32_t len;

	ck_assert(gpa >= page_gpa && gpa - page_gpa < PAGE_SIZE);
	t = page + (gpa - page_gpa);
	ck_assert_msg(!memcmp(t, sig, 4), "expected table %s", sig);
	memcpy(&len, t + 4, 4);
	ck_assert_uint_le(gpa - page_gpa + len, PAGE_SIZE);
	ck_assert_msg(sum(t, len) == 0, "table %s checksum", sig);
	return t;
}

START_TEST(acpi_tables)
{
	static uint8_t page[PAGE_SIZE];
	const uint8_t *xsdt, *fadt, *madt, *e;
	uint64_t rsdp = boot_acpi_build(page, 0xe0000, 3), x, f, m;
	uint32_t flags, len, dsdt32;
	unsigned i;

	ck_assert_uint_eq(rsdp, 0xe0000);
	ck_assert(!memcmp(page, "RSD PTR ", 8));
	ck_assert_uint_eq(sum(page, 20), 0);
	ck_assert_uint_eq(sum(page, 36), 0);
	memcpy(&x, page + 24, 8);
	xsdt = acpi_table(page, 0xe0000, x, "XSDT");
	memcpy(&f, xsdt + 36, 8);
	memcpy(&m, xsdt + 44, 8);
	fadt = acpi_table(page, 0xe0000, f, "FACP");
	memcpy(&flags, fadt + 112, 4);
	ck_assert(flags & (1u << 20));  /* hardware-reduced */
	memcpy(&dsdt32, fadt + 40, 4);
	acpi_table(page, 0xe0000, dsdt32, "DSDT");
	madt = acpi_table(page, 0xe0000, m, "APIC");
	memcpy(&len, madt + 4, 4);
	ck_assert_uint_eq(len, 44 + 3 * 8 + 12);
	for (i = 0, e = madt + 44; i < 3; i++, e += 8) {
		ck_assert_uint_eq(e[0], 0);
		ck_assert_uint_eq(e[3], i);
		ck_assert_uint_eq(e[4], 1);
	}
	ck_assert_uint_eq(e[0], 1);
	ck_assert_uint_eq(*(const uint32_t *)(const void *)(e + 4), 0xfec00000u);
	/* The largest VM still fits the page. */
	boot_acpi_build(page, 0xe0000, CONFIG_MAX_CPUS);
	madt = acpi_table(page, 0xe0000, m, "APIC");
}
END_TEST

Suite *boot_suite(void)
{
	Suite *s = suite_create("boot");
	TCase *tc = tcase_create("builders");

	tcase_add_test(tc, gdt_selectors);
	tcase_add_test(tc, pagetables_identity);
	tcase_add_test(tc, pagetables_cbit_everywhere_but_the_hole);
	tcase_add_test(tc, fdt_round_trip);
	tcase_add_test(tc, pvh_start_info);
	tcase_add_test(tc, linux_zero_page);
	tcase_add_test(tc, acpi_tables);
	suite_add_tcase(s, tc);
	return s;
}
