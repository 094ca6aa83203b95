/* test_config.c: option parsing for `cloak run`: sizes, counts, CPUID masks, device options and their messages. */
#include "config.h"
#include "devices.h"
#include "plan.h"
#include "unit.h"
#include "virtio_net.h"
#include "virtio_queues.h"

#include <stdlib.h>
#include <string.h>

static int parse(struct vm_config *cfg, struct cloak_err *err, char **argv)
{
	int argc = 0, rc;

	while (argv[argc])
		argc++;
	config_defaults(cfg);
	memset(err, 0, sizeof(*err));
	rc = config_parse_run(argc, argv, cfg, err);
	/* As cloak run does before anything opens: each device checks its option's values. */
	if (rc == 0 && devices_check_options(cfg, false, err) < 0)
		return -1;
	return rc;
}

#define ARGV(...) ((char *[]){ "run", __VA_ARGS__, NULL })

START_TEST(sizes)
{
	uint64_t v;

	ck_assert_int_eq(config_parse_size("128M", &v), 0);
	ck_assert_uint_eq(v, 128 * MiB);
	ck_assert_int_eq(config_parse_size("2G", &v), 0);
	ck_assert_uint_eq(v, 2 * GiB);
	ck_assert_int_eq(config_parse_size("512MiB", &v), 0);
	ck_assert_uint_eq(v, 512 * MiB);
	ck_assert_int_eq(config_parse_size("4096k", &v), 0);
	ck_assert_uint_eq(v, 4 * MiB);
	ck_assert_int_eq(config_parse_size("1048576", &v), 0);
	ck_assert_uint_eq(v, MiB);
	ck_assert_int_eq(config_parse_size("", &v), -1);
	ck_assert_int_eq(config_parse_size("-1G", &v), -1);
	ck_assert_int_eq(config_parse_size("12Q", &v), -1);
	ck_assert_int_eq(config_parse_size("1Gx", &v), -1);
	ck_assert_int_eq(config_parse_size("99999999999999999999", &v), -1);
	ck_assert_int_eq(config_parse_size("18014398509481984T", &v), -1);
}
END_TEST

START_TEST(defaults_and_values)
{
	struct vm_config cfg;
	struct cloak_err err;

	ck_assert_int_eq(parse(&cfg, &err, (char *[]){ "run", NULL }), 0);
	ck_assert_ptr_null(cfg.kernel_path);
	ck_assert_uint_eq(cfg.mem_size, CONFIG_DEFAULT_MEM);
	ck_assert_uint_eq(cfg.cpus, 1);
	ck_assert(cfg.pin);
	ck_assert_int_eq(parse(&cfg, &err, ARGV("--kernel", "k", "--initrd", "i", "--cmdline", "a=b", "--mem", "1G",
						 "--cpus", "4", "--timeline", "t.json", "--no-pin", "--hugepages")), 0);
	ck_assert_str_eq(cfg.kernel_path, "k");
	ck_assert_str_eq(cfg.initrd_path, "i");
	ck_assert_str_eq(cfg.cmdline, "a=b");
	ck_assert_uint_eq(cfg.mem_size, GiB);
	ck_assert_uint_eq(cfg.cpus, 4);
	ck_assert_str_eq(cfg.timeline_path, "t.json");
	ck_assert(!cfg.pin);
	ck_assert(cfg.hugepages);
	ck_assert_int_eq(parse(&cfg, &err, ARGV("--help")), 1);
}
END_TEST

START_TEST(bad_values_name_the_option)
{
	static const struct {
		char *opt, *val;
		const char *msg;
	} cases[] = {
		{ "--mem", "8M", "--mem: 8M is out of range; give 16 MiB to 1024 GiB" },
		{ "--mem", "2000G", "--mem: 2000G is out of range" },
		{ "--mem", "17M", "--mem: 17M is not a multiple of 2 MiB; round it, for example to 18M" },
		{ "--mem", "x", "--mem: 'x' is not a size" },
		{ "--cpus", "0", "--cpus: 0 vCPUs cannot run anything" },
		{ "--cpus", "65", "--cpus: 65 vCPUs are more than cloak supports" },
		{ "--cpus", "-1", "--cpus: '-1' is not a number" },
		{ "--cpus", "2x", "--cpus: '2x' is not a number" },
		{ "--cpuid-clear", "", "--cpuid-clear: empty list" },
		{ "--cpuid-clear", "nope", "--cpuid-clear: 'nope' is neither a known feature name" },
		{ "--cpuid-clear", "1:exx:3", "'1:exx:3' is neither" },
		{ "--cpuid-clear", "1:ecx:32", "'1:ecx:32' is neither" },
		{ "--cpuid-clear", "1:eax: 5", "'1:eax: 5' is neither" },
		{ "--cpuid-clear", "1:eax:+5", "'1:eax:+5' is neither" },
		{ "--cpuid-clear", " 1:eax:5", "' 1:eax:5' is neither" },
		{ "--cpuid-clear", "1.-1:eax:5", "'1.-1:eax:5' is neither" },
		{ "--cpuid-clear", "-1:eax:5", "'-1:eax:5' is neither" },
		{ "--net", "tap=t0,mac=02:-1:00:00:00:00", "'02:-1:00:00:00:00' is not a MAC address" },
		{ "--net", "tap=t0,mac=02: 1:00:00:00:00", "'02: 1:00:00:00:00' is not a MAC address" },
		{ "--net", "tap=t0,mac= 2:01:00:00:00:00", "' 2:01:00:00:00:00' is not a MAC address" },
		{ "--net", "tap=t0,mac=02:01:00:00:00:0g", "'02:01:00:00:00:0g' is not a MAC address" },
		{ "--net", "tap=t0,mac=02-01-00-00-00-00", "'02-01-00-00-00-00' is not a MAC address" },
	};
	struct vm_config cfg;
	struct cloak_err err;
	size_t i;

	for (i = 0; i < ARRAY_SIZE(cases); i++) {
		ck_assert_int_eq(parse(&cfg, &err, ARGV(cases[i].opt, cases[i].val)), -1);
		ck_assert_msg_has(err.msg, cases[i].msg);
	}
	ck_assert_int_eq(parse(&cfg, &err, ARGV("-xh")), -1);
	ck_assert_msg_has(err.msg, "unknown option -x;");
	ck_assert_int_eq(parse(&cfg, &err, ARGV("--bogus")), -1);
	ck_assert_msg_has(err.msg, "unknown option --bogus");
	ck_assert_int_eq(parse(&cfg, &err, ARGV("--mem")), -1);
	ck_assert_msg_has(err.msg, "--mem needs a value");
	ck_assert_int_eq(parse(&cfg, &err, ARGV("--initrd", "x")), -1);
	ck_assert_msg_has(err.msg, "--initrd needs --kernel");
}
END_TEST

START_TEST(cpuid_clear)
{
	struct vm_config cfg;
	struct cloak_err err;

	ck_assert_int_eq(parse(&cfg, &err, ARGV("--cpuid-clear", "cx16,XSAVE,0x7.0:ebx:5,0x80000001:edx:26")), 0);
	ck_assert_uint_eq(cfg.ncpuid_clear, 4);
	ck_assert_uint_eq(cfg.cpuid_clear[0].leaf, 1);
	ck_assert_int_eq(cfg.cpuid_clear[0].reg, CPUID_ECX);
	ck_assert_uint_eq(cfg.cpuid_clear[0].mask, 1u << 13);
	ck_assert_uint_eq(cfg.cpuid_clear[1].mask, 1u << 26);
	ck_assert_uint_eq(cfg.cpuid_clear[2].leaf, 7);
	ck_assert_int_eq(cfg.cpuid_clear[2].reg, CPUID_EBX);
	ck_assert_uint_eq(cfg.cpuid_clear[2].mask, 1u << 5);
	ck_assert_uint_eq(cfg.cpuid_clear[3].leaf, 0x80000001u);
	ck_assert_int_eq(cfg.cpuid_clear[3].reg, CPUID_EDX);
}
END_TEST

/* The core records device options as text, in order, and knows only their count limits. */
START_TEST(device_options_are_recorded_in_order)
{
	struct vm_config cfg;
	struct cloak_err err;
	struct virtio_net_options net;

	ck_assert_int_eq(parse(&cfg, &err, ARGV("--disk", "a.img", "--net", "tap=t0,mac=0a:Bc:00:12:34:56", "--disk",
						 "b.img,ro", "--console", "stdio")), 0);
	ck_assert_uint_eq(cfg.ndevice_args, 4);
	ck_assert_uint_eq(config_device_count(&cfg, "disk"), 2);
	ck_assert_str_eq(config_device_value(&cfg, "disk", 0), "a.img");
	ck_assert_str_eq(config_device_value(&cfg, "disk", 1), "b.img,ro");
	ck_assert_ptr_null(config_device_value(&cfg, "disk", 2));
	ck_assert_str_eq(config_device_value(&cfg, "console", 0), "stdio");
	ck_assert_uint_eq(config_device_count(&cfg, "nope"), 0);
	ck_assert_int_eq(virtio_net_parse_options(config_device_value(&cfg, "net", 0), &net, &err), 0);
	ck_assert_uint_eq(net.mac[0], 0x0a);
	ck_assert_uint_eq(net.mac[1], 0xbc);
	ck_assert_uint_eq(net.mac[5], 0x56);

	ck_assert_int_eq(parse(&cfg, &err, ARGV("--net", "tap=a", "--net", "tap=b")), -1);
	ck_assert_msg_has(err.msg, "--net: given twice; cloak attaches one network device");
	ck_assert_int_eq(parse(&cfg, &err, ARGV("--console", "stdio", "--console", "stdio")), -1);
	ck_assert_msg_has(err.msg, "--console: given twice; cloak attaches one console");
	ck_assert_int_eq(parse(&cfg, &err, ARGV("--disk", "1", "--disk", "2", "--disk", "3", "--disk", "4", "--disk", "5",
						 "--disk", "6", "--disk", "7", "--disk", "8", "--disk", "9")), -1);
	ck_assert_msg_has(err.msg, "--disk: more than 8 disks; attach at most 8");
	/* A device's grammar is checked by the device, and the message names the option. */
	ck_assert_int_eq(parse(&cfg, &err, ARGV("--disk", ",ro")), -1);
	ck_assert_msg_has(err.msg, "--disk: no path in ',ro'");
	ck_assert_int_eq(parse(&cfg, &err, ARGV("--console", "tty")), -1);
	ck_assert_msg_has(err.msg, "--console: 'tty' is not a console; give stdio, file=PATH or socket=PATH");
	ck_assert_int_eq(parse(&cfg, &err, ARGV("--net", "mac=52:54:00:12:34:56")), -1);
	ck_assert_msg_has(err.msg, "--net: no tap device named");
}
END_TEST

/*
 * The DMA budget (the measured swiotlb= of an SEV guest) counts devices, not
 * their settings: cloak-owner, which parses no device option, gets the same.
 */
START_TEST(dma_budget_counts_devices)
{
	const uint64_t disk = (uint64_t)BLK_QUEUE_SIZE * BLK_SEGMENT_DMA_BYTES;
	const uint64_t net = (uint64_t)NET_QUEUES * NET_QUEUE_SIZE * QUEUE_BUFFER_DMA_BYTES;
	const uint64_t cons = (uint64_t)CONSOLE_QUEUES * CONSOLE_QUEUE_SIZE * QUEUE_BUFFER_DMA_BYTES;
	struct vm_config cfg;
	struct cloak_err err;

	ck_assert_int_eq(parse(&cfg, &err, ARGV("--kernel", "k")), 0);
	ck_assert_uint_eq(plan_dma_budget(&cfg), 0);
	ck_assert_int_eq(parse(&cfg, &err, ARGV("--disk", "a", "--disk", "b,ro", "--net", "tap=t", "--console",
						 "socket=/s")), 0);
	ck_assert_uint_eq(plan_dma_budget(&cfg), 2 * disk + net + cons);
	ck_assert_int_eq(parse(&cfg, &err, ARGV("--disk", "path=a,ro=off", "--console", "stdio")), 0);
	ck_assert_uint_eq(plan_dma_budget(&cfg), disk + cons);
	ck_assert_uint_eq(disk, 16 * MiB);  /* README "Devices" gives these figures */
	ck_assert_uint_eq(net, 2 * MiB);
}
END_TEST

/* Each device option of the core's table has one device that parses it and describes it in --help, and back. */
START_TEST(every_device_option_has_its_device)
{
	char *text = NULL;
	size_t len = 0;
	FILE *out = open_memstream(&text, &len);
	unsigned i, all = 0;

	ck_assert_ptr_nonnull(out);
	config_print_run_help(out, devices_print_help);
	fclose(out);
	for (i = 0; i < config_ndevice_options; i++) {
		const struct device_option *o = &config_device_options[i];
		const struct device_ops *d = devices_for_option(o->name);
		char flag[32];

		ck_assert_msg(d && d->parse && d->help, "no device parses and describes --%s", o->name);
		ck_assert_ptr_eq(config_device_option(o->name), o);
		snprintf(flag, sizeof(flag), "  --%s ", o->name);
		ck_assert_msg(strstr(text, flag), "--help does not describe --%s", o->name);
		ck_assert(o->max >= 1 && o->dma_bytes > 0);
		all += o->max;
	}
	ck_assert_uint_le(all, CONFIG_MAX_DEVICE_ARGS);  /* every option can be given its max times at once */
	ck_assert_ptr_null(devices_for_option("nope"));
	ck_assert_msg_has(text, "their --config keys: disks, net, console");
	ck_assert_msg_has(text, "--disk PATH[,ro]");
	ck_assert_msg_has(text, "up to 8");
	free(text);
}
END_TEST

/* The one hex reader every policy goes through: what it takes and what it refuses. */
START_TEST(hex_numbers)
{
	static const char *const bad[] = { "", "0x", "-1", "+1", " 1", "1 ", "0x-1", "1g", "0xg", "x1",
					   "10000000000000000" };
	uint64_t v = 7;
	size_t i;

	ck_assert(parse_hex_u64("0x30000", UINT64_MAX, &v) && v == 0x30000);
	ck_assert(parse_hex_u64("1F", UINT64_MAX, &v) && v == 0x1f);
	ck_assert(parse_hex_u64("0XfFfFfFfFfFfFfFfF", UINT64_MAX, &v) && v == UINT64_MAX);
	ck_assert(parse_hex_u64("0xffffffff", UINT32_MAX, &v) && v == UINT32_MAX);
	v = 7;
	ck_assert(!parse_hex_u64("0x100000000", UINT32_MAX, &v) && v == 7);
	for (i = 0; i < sizeof(bad) / sizeof(bad[0]); i++)
		ck_assert_msg(!parse_hex_u64(bad[i], UINT64_MAX, &v), "'%s' was taken", bad[i]);
	ck_assert_int_eq(v, 7);
}
END_TEST

Suite *config_suite(void)
{
	Suite *s = suite_create("config");
	TCase *tc = tcase_create("parse");

	tcase_add_test(tc, sizes);
	tcase_add_test(tc, hex_numbers);
	tcase_add_test(tc, defaults_and_values);
	tcase_add_test(tc, bad_values_name_the_option);
	tcase_add_test(tc, cpuid_clear);
	tcase_add_test(tc, device_options_are_recorded_in_order);
	tcase_add_test(tc, dma_budget_counts_devices);
	tcase_add_test(tc, every_device_option_has_its_device);
	suite_add_tcase(s, tc);
	return s;
}
