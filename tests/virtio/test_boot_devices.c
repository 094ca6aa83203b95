/* test_boot_devices.c: the MP table, the shared DMA window in the plan and device tree, the device options' hooks. */
#include "vt.h"

#include "devices.h"
#include "plan.h"
#include "virtio_blk.h"
#include "virtio_console.h"
#include "virtio_net.h"

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

/* One value through a device's parse hook: 0, or -1 with a message holding `msg`. */
static void assert_parse(const char *option, const char *value, const char *msg)
{
	const struct device_ops *d = devices_for_option(option);
	struct cloak_err err = { "" };

	ck_assert_ptr_nonnull(d);
	if (!msg) {
		ck_assert_msg(d->parse(value, &err) == 0, "--%s %s: %s", option, value, err.msg);
		return;
	}
	ck_assert_msg(d->parse(value, &err) == -1, "--%s %s was accepted", option, value);
	ck_assert_msg_has(err.msg, msg);
}

START_TEST(disk_option)
{
	struct virtio_blk_options o;
	struct cloak_err err;

	ck_assert_int_eq(virtio_blk_parse_options("a.img", &o, &err), 0);
	ck_assert_str_eq(o.path, "a.img");
	ck_assert(!o.ro);
	ck_assert_int_eq(virtio_blk_parse_options("/x/b.img,ro", &o, &err), 0);
	ck_assert_str_eq(o.path, "/x/b.img");
	ck_assert(o.ro);
	/* The keyed form --config's objects become, in any order. */
	ck_assert_int_eq(virtio_blk_parse_options("ro=on,path=/x/c=d.img", &o, &err), 0);
	ck_assert_str_eq(o.path, "/x/c=d.img");
	ck_assert(o.ro);
	ck_assert_int_eq(virtio_blk_parse_options("path=e.img,ro=off", &o, &err), 0);
	ck_assert(!o.ro);
	ck_assert_int_eq(virtio_blk_parse_options("ro", &o, &err), 0);  /* a file named ro, as before */
	ck_assert_str_eq(o.path, "ro");
	ck_assert(!o.ro);

	assert_parse("disk", "a.img", NULL);
	assert_parse("disk", "c.img,rw", "--disk: unknown flag 'rw' in 'c.img,rw'; the only flag is ro");
	assert_parse("disk", "c.img,ro=yes", "--disk: unknown flag 'ro=yes'");
	assert_parse("disk", ",ro", "--disk: no path in ',ro'; write --disk PATH or --disk PATH,ro");
	assert_parse("disk", "", "--disk: no path");
	assert_parse("disk", "ro=on", "--disk: no path");
	assert_parse("disk", "path=", "--disk: no path");
	assert_parse("disk", "a.img,path=b.img", "gives the path twice");
}
END_TEST

START_TEST(net_option)
{
	struct virtio_net_options o;
	struct cloak_err err;

	ck_assert_int_eq(virtio_net_parse_options("tap=tap0,mac=52:54:00:12:34:56", &o, &err), 0);
	ck_assert_str_eq(o.tap, "tap0");
	ck_assert(o.has_mac);
	ck_assert_uint_eq(o.mac[0], 0x52);
	ck_assert_uint_eq(o.mac[5], 0x56);
	ck_assert_int_eq(virtio_net_parse_options("tap=tap1", &o, &err), 0);
	ck_assert(!o.has_mac);

	assert_parse("net", "tap=t0", NULL);
	assert_parse("net", "mac=52:54:00:12:34:56", "--net: no tap device named");
	assert_parse("net", "tap=t,mac=52:54:00:12:34", "'52:54:00:12:34' is not a MAC address");
	assert_parse("net", "tap=t,mac=01:00:5e:00:00:01", "multicast");
	assert_parse("net", "tap=averyveryverylongname", "longer than 15");
	assert_parse("net", "tap=t,speed=10", "--net: unknown setting 'speed=10'; write --net tap=NAME[,mac=MAC]");
	assert_parse("net", "", "--net: no tap device named");
}
END_TEST

START_TEST(console_option)
{
	struct virtio_console_options o;
	struct cloak_err err;
	char longer[160];

	ck_assert_int_eq(virtio_console_parse_options("stdio", &o, &err), 0);
	ck_assert_int_eq(o.kind, CONSOLE_STDIO);
	ck_assert_int_eq(virtio_console_parse_options("file=/tmp/x", &o, &err), 0);
	ck_assert_int_eq(o.kind, CONSOLE_FILE);
	ck_assert_str_eq(o.path, "/tmp/x");
	ck_assert_int_eq(virtio_console_parse_options("socket=/tmp/s", &o, &err), 0);
	ck_assert_int_eq(o.kind, CONSOLE_SOCKET);

	assert_parse("console", "stdio", NULL);
	assert_parse("console", "tcp=1", "--console: 'tcp=1' is not a console; give stdio, file=PATH or socket=PATH");
	assert_parse("console", "file=", "is not a console");
	snprintf(longer, sizeof(longer), "socket=/%0120d", 0);
	assert_parse("console", longer, "longer than a Unix socket address allows");
}
END_TEST

/* The probe hooks look at the host before /dev/kvm opens; parse alone never does. */
START_TEST(probes_check_the_host)
{
	const struct device_ops *disk = devices_for_option("disk"), *cons = devices_for_option("console");
	struct cloak_err err = { "" };

	ck_assert_int_eq(disk->parse("/nonexistent/disk.img", &err), 0);
	ck_assert_int_eq(disk->probe("/nonexistent/disk.img", &err), -1);
	ck_assert_msg_has(err.msg, "--disk: /nonexistent/disk.img does not exist");
	ck_assert_int_eq(cons->probe("file=/nonexistent-dir/out", &err), -1);
	ck_assert_msg_has(err.msg, "--console: the directory /nonexistent-dir of /nonexistent-dir/out is not usable");
	ck_assert_int_eq(cons->probe("socket=/dev/null", &err), -1);
	ck_assert_msg_has(err.msg, "--console: /dev/null exists and is not a socket");
	ck_assert_int_eq(cons->probe("file=/dev/null", &err), 0);
	ck_assert_int_eq(cons->probe("stdio", &err), 0);
}
END_TEST

/* Every device option's line of `cloak run --help` comes from its device. */
START_TEST(help_comes_from_the_devices)
{
	char *text = NULL;
	size_t len = 0;
	FILE *out = open_memstream(&text, &len);

	ck_assert_ptr_nonnull(out);
	devices_print_help(out);
	fclose(out);
	ck_assert_msg_has(text, "  --disk PATH[,ro]     a virtio-blk disk on the raw image PATH (repeatable, up to 8)");
	ck_assert_msg_has(text, "  --net tap=NAME[,mac=MAC]\n");
	ck_assert_msg_has(text, "  --console stdio|file=PATH|socket=PATH\n");
	free(text);
}
END_TEST

Suite *boot_devices_suite(void)
{
	Suite *s = suite_create("boot-devices");
	TCase *tc = tcase_create("boot");

	tcase_add_loop_test(tc, mptable_checksums_and_entries, 0, 64);
	tcase_add_test(tc, dma_window_in_plan_and_fdt);
	tcase_add_test(tc, disk_option);
	tcase_add_test(tc, net_option);
	tcase_add_test(tc, console_option);
	tcase_add_test(tc, probes_check_the_host);
	tcase_add_test(tc, help_comes_from_the_devices);
	suite_add_tcase(s, tc);
	return s;
}
