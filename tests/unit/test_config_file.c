/* test_config_file.c: --config FILE: every key, the command line over the file, messages naming file and key, the printed form read back. */
#include "unit.h"

#include "config.h"
#include "devices.h"
#include "virtio_blk.h"
#include "virtio_console.h"
#include "virtio_net.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

static char path[64];

static void write_file(const char *text)
{
	FILE *f;

	snprintf(path, sizeof(path), "/tmp/cloak-config-test.%d.json", (int)getpid());
	f = fopen(path, "w");
	ck_assert_ptr_nonnull(f);
	fputs(text, f);
	fclose(f);
}

/* Parses `cloak run --config path ARGS...`. */
static int parse(struct vm_config *cfg, struct cloak_err *err, int n, const char **args)
{
	char *argv[16] = { "run", "--config", path };
	int i;

	for (i = 0; i < n; i++)
		argv[3 + i] = (char *)args[i];
	config_defaults(cfg);
	if (config_parse_run(3 + n, argv, cfg, err) < 0)
		return -1;
	/* As cloak run and config print do: each device checks its option's values. */
	return devices_check_options(cfg, false, err);
}

static const char full[] =
	"{\"kernel\": \"/k\", \"initrd\": \"/i\", \"cmdline\": \"console=ttyS0\", \"mem\": \"512M\", \"cpus\": 2,\n"
	" \"timeline\": \"/t.json\", \"cpuid_clear\": \"cx16\", \"no_pin\": false, \"hugepages\": true,\n"
	" \"kvm_device\": \"/dev/kvm2\", \"disks\": [{\"path\": \"/a.img\"}, {\"path\": \"/b.img\", \"ro\": true}],\n"
	" \"net\": [{\"tap\": \"tap7\", \"mac\": \"52:54:00:00:00:07\"}], \"console\": \"file=/c.txt\",\n"
	" \"sev\": {\"mode\": \"sev\", \"policy\": \"0x3\", \"backend\": \"sim\", \"attest_cmd\": \"true\"},\n"
	" \"user\": \"4242:4343\", \"seccomp\": \"log\", \"shutdown_timeout\": 30}\n";

START_TEST(every_key_lands_in_the_config)
{
	struct vm_config cfg;
	struct cloak_err err;
	struct virtio_blk_options disk;
	struct virtio_net_options net;
	struct virtio_console_options cons;

	write_file(full);
	ck_assert_msg(parse(&cfg, &err, 0, NULL) == 0, "%s", err.msg);
	ck_assert_str_eq(cfg.kernel_path, "/k");
	ck_assert_str_eq(cfg.initrd_path, "/i");
	ck_assert_str_eq(cfg.cmdline, "console=ttyS0");
	ck_assert_uint_eq(cfg.mem_size, 512ull << 20);
	ck_assert_uint_eq(cfg.cpus, 2);
	ck_assert_str_eq(cfg.timeline_path, "/t.json");
	ck_assert_uint_eq(cfg.ncpuid_clear, 1);
	ck_assert(cfg.pin && cfg.hugepages);
	ck_assert_str_eq(cfg.kvm_device, "/dev/kvm2");
	/* Objects become the option's text, which the device parses as it parses the command line's. */
	ck_assert_uint_eq(config_device_count(&cfg, "disk"), 2);
	ck_assert_str_eq(config_device_value(&cfg, "disk", 0), "path=/a.img");
	ck_assert_str_eq(config_device_value(&cfg, "disk", 1), "path=/b.img,ro=on");
	ck_assert_int_eq(virtio_blk_parse_options(config_device_value(&cfg, "disk", 1), &disk, &err), 0);
	ck_assert_str_eq(disk.path, "/b.img");
	ck_assert(disk.ro);
	ck_assert_int_eq(virtio_blk_parse_options(config_device_value(&cfg, "disk", 0), &disk, &err), 0);
	ck_assert(!disk.ro);
	ck_assert_int_eq(virtio_net_parse_options(config_device_value(&cfg, "net", 0), &net, &err), 0);
	ck_assert_str_eq(net.tap, "tap7");
	ck_assert(net.has_mac && net.mac[5] == 7);
	ck_assert_int_eq(virtio_console_parse_options(config_device_value(&cfg, "console", 0), &cons, &err), 0);
	ck_assert_int_eq(cons.kind, CONSOLE_FILE);
	ck_assert_str_eq(cons.path, "/c.txt");
	ck_assert(cfg.sev);
	ck_assert_uint_eq(cfg.sev_policy, 0x3);
	ck_assert_int_eq(cfg.sev_backend, SEV_BACKEND_SIM);
	ck_assert_str_eq(cfg.sev_attest_cmd, "true");
	ck_assert(cfg.has_user && cfg.user_uid == 4242 && cfg.user_gid == 4343);
	ck_assert_int_eq(cfg.seccomp, CLOAK_SECCOMP_LOG);
	ck_assert_uint_eq(cfg.shutdown_timeout, 30);
	config_release(&cfg);
	unlink(path);
}
END_TEST

START_TEST(the_command_line_overrides_the_file)
{
	const char *args[] = { "--cpus", "4", "--disk", "/c.img,ro", "--net", "tap=tap9", "--seccomp", "on" };
	struct vm_config cfg;
	struct cloak_err err;

	write_file(full);
	ck_assert_msg(parse(&cfg, &err, 8, args) == 0, "%s", err.msg);
	ck_assert_uint_eq(cfg.cpus, 4);
	ck_assert_uint_eq(config_device_count(&cfg, "disk"), 1);  /* --disk replaces the file's list */
	ck_assert_str_eq(config_device_value(&cfg, "disk", 0), "/c.img,ro");
	ck_assert_uint_eq(config_device_count(&cfg, "net"), 1);
	ck_assert_str_eq(config_device_value(&cfg, "net", 0), "tap=tap9");
	ck_assert_str_eq(config_device_value(&cfg, "console", 0), "file=/c.txt");  /* not given: the file's stays */
	ck_assert_int_eq(cfg.seccomp, CLOAK_SECCOMP_ON);
	ck_assert_uint_eq(cfg.mem_size, 512ull << 20);  /* untouched keys stay */
	config_release(&cfg);
	unlink(path);
}
END_TEST

static void assert_refused(const char *text, const char *needle)
{
	struct vm_config cfg;
	struct cloak_err err;

	write_file(text);
	ck_assert_msg(parse(&cfg, &err, 0, NULL) == -1, "accepted %s", text);
	ck_assert_msg_has(err.msg, path);
	ck_assert_msg_has(err.msg, needle);
	config_release(&cfg);
	unlink(path);
}

START_TEST(errors_name_the_file_and_the_key)
{
	assert_refused("{\"memory\": \"1G\"}", "unknown key \"memory\"");
	assert_refused("{\"mem\": \"3X\"}", "key \"mem\": --mem: '3X' is not a size");
	assert_refused("{\"mem\": \"8M\"}", "key \"mem\": --mem: 8M is out of range");
	assert_refused("{\"cpus\": 0}", "key \"cpus\": --cpus: 0 vCPUs");
	assert_refused("{\"cpus\": true}", "key \"cpus\": give a number or a string");
	assert_refused("{\"kernel\": 5}", "key \"kernel\": give a string");
	assert_refused("{\"hugepages\": \"yes\"}", "key \"hugepages\": give true or false");
	assert_refused("{\"disks\": [{\"path\": \"/a\", \"rw\": true}]}",
		       "key \"disks\": item 0: --disk: unknown flag 'rw=on'");
	assert_refused("{\"disks\": [\"/a\", {\"ro\": true}]}", "key \"disks\": item 1: --disk: no path");
	assert_refused("{\"disks\": [{\"path\": [1]}]}", "key \"disks\": item 0: path: give a string");
	assert_refused("{\"disks\": [{\"path\": \"/a,b\"}]}", "its value without ','");
	assert_refused("{\"disks\": [{}]}", "key \"disks\": item 0: no settings");
	assert_refused("{\"disks\": [5]}", "key \"disks\": item 0: give the option's text as a string");
	assert_refused("{\"disks\": [\"1\", \"2\", \"3\", \"4\", \"5\", \"6\", \"7\", \"8\", \"9\"]}",
		       "key \"disks\": item 8: --disk: more than 8 disks");
	assert_refused("{\"net\": [{\"tap\": \"a\"}, {\"tap\": \"b\"}]}",
		       "key \"net\": item 1: --net: given twice; cloak attaches one network device");
	assert_refused("{\"net\": [{\"tap\": \"t\", \"mac\": \"01:00:00:00:00:01\"}]}",
		       "key \"net\": item 0: --net: 01:00:00:00:00:01 is a multicast address");
	assert_refused("{\"net\": \"mac=52:54:00:00:00:01\"}", "key \"net\": --net: no tap device named");
	assert_refused("{\"console\": \"tty\"}", "key \"console\": --console: 'tty' is not a console");
	assert_refused("{\"sev\": {\"policy\": \"0x4\"}}", "key \"sev.policy\"");
	assert_refused("{\"sev\": {\"flavour\": \"x\"}}", "key \"sev.flavour\": unknown key");
	assert_refused("{\"seccomp\": \"strict\"}", "key \"seccomp\": --seccomp: 'strict' is not a mode");
	assert_refused("{\"user\": \"root\"}", "key \"user\": --user: 'root' is root");
	assert_refused("{\"shutdown_timeout\": -1}", "key \"shutdown_timeout\"");
	assert_refused("{\"cpus\": 1,}", "line 1, column");
	assert_refused("{\"cpus\": 1, \"cpus\": 2}", "duplicate object key");
	assert_refused("[1, 2]", "must hold one JSON object");
}
END_TEST

START_TEST(the_printed_form_reads_back_the_same)
{
	struct vm_config cfg;
	struct cloak_err err;
	char *first, *second;

	write_file(full);
	ck_assert_msg(parse(&cfg, &err, 0, NULL) == 0, "%s", err.msg);
	first = config_to_json(&cfg);
	config_release(&cfg);
	ck_assert_ptr_nonnull(first);
	write_file(first);
	ck_assert_msg(parse(&cfg, &err, 0, NULL) == 0, "%s\n%s", err.msg, first);
	second = config_to_json(&cfg);
	config_release(&cfg);
	ck_assert_str_eq(first, second);
	ck_assert_msg_has(first, "\"shutdown_timeout\": 30");
	ck_assert_msg_has(first, "\"user\": \"4242:4343\"");
	/* Devices print as their option's text, the form --config and the command line share. */
	ck_assert_msg_has(first, "\"path=/b.img,ro=on\"");
	ck_assert_msg_has(first, "\"net\": \"tap=tap7,mac=52:54:00:00:00:07\"");
	ck_assert_msg_has(first, "\"console\": \"file=/c.txt\"");
	free(first);
	free(second);
	unlink(path);
}
END_TEST

Suite *config_file_suite(void)
{
	Suite *s = suite_create("config_file");
	TCase *tc = tcase_create("json");

	tcase_add_test(tc, every_key_lands_in_the_config);
	tcase_add_test(tc, the_command_line_overrides_the_file);
	tcase_add_test(tc, errors_name_the_file_and_the_key);
	tcase_add_test(tc, the_printed_form_reads_back_the_same);
	suite_add_tcase(s, tc);
	return s;
}
