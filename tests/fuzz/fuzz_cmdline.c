/* fuzz_cmdline.c: libFuzzer target: the arguments of `cloak run` (config_parse_run) and the devices' option parsers. */
#include "config.h"
#include "devices.h"
#include "virtio_blk.h"
#include "virtio_console.h"
#include "virtio_net.h"

#include <getopt.h>
#include <stdlib.h>
#include <string.h>

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

#define MAX_ARGS 64

/*
 * The input is the argument list, NUL-separated. A parse either fails with a
 * message or gives a configuration within the limits cloak relies on later.
 * The arguments live in a static buffer, as argv would: getopt keeps pointers
 * into them between calls.
 */
int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	static char buf[8192];
	static char *argv[MAX_ARGS + 2];
	static char *reset_argv[] = { (char *)"reset", NULL };
	struct cloak_err err = { "" };
	struct vm_config cfg;
	size_t i, start = 0;
	int argc = 1, rc;

	if (size >= sizeof(buf))
		return 0;
	memcpy(buf, data, size);
	buf[size] = 0;
	argv[0] = (char *)"run";
	for (i = 0; i <= size && argc <= MAX_ARGS; i++)
		if (buf[i] == 0) {
			argv[argc++] = buf + start;
			start = i + 1;
		}
	argv[argc] = NULL;
	/*
	 * A parse that stopped inside a cluster such as "-xh" leaves glibc's getopt
	 * pointing into that argument, and config_parse_run's optind = 1 does not
	 * clear it. cloak parses once per process, so each input starts afresh
	 * (optind 0 makes glibc reinitialise).
	 */
	optind = 0;
	(void)getopt(1, reset_argv, "");
	config_defaults(&cfg);
	rc = config_parse_run(argc, argv, &cfg, &err);
	if (rc < 0) {
		if (!err.msg[0])
			abort();
		return 0;
	}
	if (rc == 0) {
		if (cfg.mem_size < CONFIG_MIN_MEM || cfg.mem_size > CONFIG_MAX_MEM || !cfg.cpus ||
		    cfg.cpus > CONFIG_MAX_CPUS || cfg.ndevice_args > CONFIG_MAX_DEVICE_ARGS ||
		    cfg.ncpuid_clear > CONFIG_MAX_CPUID_CLEAR)
			abort();
		if (cfg.cmdline && strlen(cfg.cmdline) >= CONFIG_MAX_CMDLINE)
			abort();
		for (i = 0; i < config_ndevice_options; i++)
			if (config_device_count(&cfg, config_device_options[i].name) > config_device_options[i].max)
				abort();
		/*
		 * Each value through its device's parse hook, which fails with a
		 * message or accepts it; for the devices this target knows, what
		 * their parser fills in must hold what init relies on.
		 */
		for (i = 0; i < cfg.ndevice_args; i++) {
			const char *name = cfg.device_args[i].option->name, *value = cfg.device_args[i].value;
			const struct device_ops *d = devices_for_option(name);
			struct virtio_blk_options disk;
			struct virtio_net_options net;
			struct virtio_console_options cons;
			int prc;

			if (!value || !d || !d->parse)
				abort();
			err.msg[0] = 0;
			prc = d->parse(value, &err);
			if (prc < 0 && !err.msg[0])
				abort();
			if (prc < 0)
				continue;
			if (!strcmp(name, "disk") && (virtio_blk_parse_options(value, &disk, &err) < 0 || !disk.path[0] ||
						      !memchr(disk.path, 0, sizeof(disk.path))))
				abort();
			if (!strcmp(name, "net") && (virtio_net_parse_options(value, &net, &err) < 0 || !net.tap[0] ||
						     !memchr(net.tap, 0, sizeof(net.tap)) || (net.has_mac && net.mac[0] & 1)))
				abort();
			if (!strcmp(name, "console") && (virtio_console_parse_options(value, &cons, &err) < 0 ||
							 (cons.kind != CONSOLE_STDIO && (!cons.path || !*cons.path))))
				abort();
		}
	}
	return 0;
}
