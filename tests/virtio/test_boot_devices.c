/* test_boot_devices.c: the MP table, the shared DMA window in the plan and device tree, device options. */
#include "vt.h"

#include "plan.h"

#include <libfdt.h>

static uint8_t sum(const uint8_t *p, size_t n)
{
	uint8_t s = 0;

	while (n--)
		s = (uint8_t)(s + *p++);
	return s;
}

START_TEST(mptable_checksums_and_entries)
{
	static uint8_t page[PAGE_SIZE];
	unsigned cpus = (unsigned)_i + 1, n, i, procs = 0, bsp = 0, ioapics = 0, irqs = 0;
	size_t len = boot_mptable_build(page, PLAN_MPTABLE_GPA, cpus);
	const uint8_t *fp = page + PAGE_SIZE - 16, *e;

	ck_assert(!memcmp(fp, "_MP_", 4));
	ck_assert_uint_eq(sum(fp, 16), 0);
	ck_assert_uint_eq(fp[8], 1);
	ck_assert_uint_eq(fp[4] | fp[5] << 8 | fp[6] << 16 | (uint32_t)fp[7] << 24, PLAN_MPTABLE_GPA);
	/* Linux looks in the last KiB below 640 KiB. */
	ck_assert_uint_ge(PLAN_MPTABLE_GPA + PAGE_SIZE - 16, 639 * 1024);
	ck_assert_uint_le(PLAN_MPTABLE_GPA + PAGE_SIZE, 640 * 1024);
	ck_assert(!memcmp(page, "PCMP", 4));
	ck_assert_uint_eq(page[4] | page[5] << 8, len);
	ck_assert_uint_eq(sum(page, len), 0);
	ck_assert_uint_lt(len, PAGE_SIZE - 16);
	n = page[34] | page[35] << 8;
	for (i = 0, e = page + 44; i < n; i++) {
		switch (e[0]) {
		case 0:
			procs++;
			ck_assert_uint_eq(e[1], procs - 1);
			if (e[3] & 2)
				bsp++;
			e += 20;
			break;
		case 2:
			ioapics++;
			ck_assert_uint_eq(e[4] | e[5] << 8 | e[6] << 16 | (uint32_t)e[7] << 24, 0xfec00000u);
			e += 8;
			break;
		case 3:
			irqs++;
			ck_assert_uint_eq(e[5], e[7]);  /* ISA IRQ n on pin n */
			e += 8;
			break;
		default:
			ck_assert_uint_le(e[0], 4);
			e += 8;
		}
	}
	ck_assert_uint_eq((size_t)(e - page), len);
	ck_assert_uint_eq(procs, cpus);
	ck_assert_uint_eq(bsp, 1);
	ck_assert_uint_eq(ioapics, 1);
	ck_assert_uint_eq(irqs, 15);
}
END_TEST

START_TEST(dma_window_in_plan_and_fdt)
{
	struct vm_config cfg;
	struct plan_inputs in;
	struct launch_plan plan;
	struct cloak_err err;
	const struct plan_region *fdt_region = NULL;
	const void *fdt;
	const fdt64_t *reg;
	unsigned i;
	int node, len;

	config_defaults(&cfg);
	ck_assert_int_eq(plan_inputs_open(&in, &cfg, &err), 0);
	ck_assert_msg(plan_build(&in, &plan, &err) == 0, "%s", err.msg);
	ck_assert_uint_eq(plan.dma_size, PLAN_DMA_WINDOW_SIZE);
	ck_assert_uint_eq(plan.dma_gpa % (2 * MiB), 0);
	ck_assert_uint_eq(plan.dma_gpa + plan.dma_size, CONFIG_DEFAULT_MEM);
	/* Nothing the plan loads (and measures) lies in the window. */
	for (i = 0; i < plan.nregions; i++) {
		ck_assert(plan.regions[i].gpa + plan.regions[i].size <= plan.dma_gpa ||
			  plan.regions[i].gpa >= plan.dma_gpa + plan.dma_size);
		if (!strcmp(plan.regions[i].name, "boot-info device tree"))
			fdt_region = &plan.regions[i];
		ck_assert_str_ne(plan.regions[i].name, "MP table");  /* ELF guests read the device tree */
	}
	ck_assert_ptr_nonnull(fdt_region);
	fdt = fdt_region->data;
	node = fdt_node_offset_by_compatible(fdt, -1, "restricted-dma-pool");
	ck_assert_int_ge(node, 0);
	reg = fdt_getprop(fdt, node, "reg", &len);
	ck_assert_int_eq(len, 16);
	ck_assert_uint_eq(fdt64_to_cpu(reg[0]), plan.dma_gpa);
	ck_assert_uint_eq(fdt64_to_cpu(reg[1]), plan.dma_size);
	ck_assert_int_eq(fdt_parent_offset(fdt, node), fdt_path_offset(fdt, "/reserved-memory"));
	plan_free(&plan);
	plan_inputs_close(&in);
}
END_TEST

START_TEST(device_options)
{
	struct vm_config cfg;
	struct cloak_err err;

	config_defaults(&cfg);
	ck_assert_int_eq(config_parse_disk("a.img", &cfg, &err), 0);
	ck_assert_int_eq(config_parse_disk("/x/b.img,ro", &cfg, &err), 0);
	ck_assert_uint_eq(cfg.ndisks, 2);
	ck_assert_str_eq(cfg.disks[1].path, "/x/b.img");
	ck_assert(cfg.disks[1].ro && !cfg.disks[0].ro);
	ck_assert_int_eq(config_parse_disk("c.img,rw", &cfg, &err), -1);
	ck_assert_msg_has(err.msg, "--disk: unknown flag 'rw'");
	ck_assert_int_eq(config_parse_disk(",ro", &cfg, &err), -1);
	ck_assert_msg_has(err.msg, "--disk: no path");

	ck_assert_int_eq(config_parse_net("tap=tap0,mac=52:54:00:12:34:56", &cfg, &err), 0);
	ck_assert_str_eq(cfg.net_tap, "tap0");
	ck_assert(cfg.net_has_mac);
	ck_assert_uint_eq(cfg.net_mac[5], 0x56);
	ck_assert_int_eq(config_parse_net("tap=tap1", &cfg, &err), -1);
	ck_assert_msg_has(err.msg, "given twice");
	config_defaults(&cfg);
	ck_assert_int_eq(config_parse_net("mac=52:54:00:12:34:56", &cfg, &err), -1);
	ck_assert_msg_has(err.msg, "no tap device");
	config_defaults(&cfg);
	ck_assert_int_eq(config_parse_net("tap=t,mac=52:54:00:12:34", &cfg, &err), -1);
	ck_assert_msg_has(err.msg, "is not a MAC address");
	config_defaults(&cfg);
	ck_assert_int_eq(config_parse_net("tap=t,mac=01:00:5e:00:00:01", &cfg, &err), -1);
	ck_assert_msg_has(err.msg, "multicast");
	config_defaults(&cfg);
	ck_assert_int_eq(config_parse_net("tap=averyveryverylongname", &cfg, &err), -1);
	ck_assert_msg_has(err.msg, "longer than 15");

	ck_assert_int_eq(config_parse_console("stdio", &cfg, &err), 0);
	ck_assert_int_eq(cfg.console, CONSOLE_STDIO);
	ck_assert_int_eq(config_parse_console("file=/tmp/x", &cfg, &err), 0);
	ck_assert_str_eq(cfg.console_path, "/tmp/x");
	ck_assert_int_eq(config_parse_console("socket=/tmp/s", &cfg, &err), 0);
	ck_assert_int_eq(cfg.console, CONSOLE_SOCKET);
	ck_assert_int_eq(config_parse_console("tcp=1", &cfg, &err), -1);
	ck_assert_msg_has(err.msg, "give stdio, file=PATH or socket=PATH");
	ck_assert_int_eq(config_parse_console("file=", &cfg, &err), -1);
}
END_TEST

Suite *boot_devices_suite(void)
{
	Suite *s = suite_create("boot-devices");
	TCase *tc = tcase_create("boot");

	tcase_add_loop_test(tc, mptable_checksums_and_entries, 0, 64);
	tcase_add_test(tc, dma_window_in_plan_and_fdt);
	tcase_add_test(tc, device_options);
	suite_add_tcase(s, tc);
	return s;
}
