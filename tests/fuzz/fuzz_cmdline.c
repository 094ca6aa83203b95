/* fuzz_cmdline.c: libFuzzer target: the arguments of `cloak run` (config_parse_run). */
#include "config.h"

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
		    cfg.cpus > CONFIG_MAX_CPUS || cfg.ndisks > CONFIG_MAX_DISKS ||
		    cfg.ncpuid_clear > CONFIG_MAX_CPUID_CLEAR)
			abort();
		if (cfg.cmdline && strlen(cfg.cmdline) >= CONFIG_MAX_CMDLINE)
			abort();
		for (i = 0; i < cfg.ndisks; i++)
			if (!cfg.disks[i].path[0] || !memchr(cfg.disks[i].path, 0, sizeof(cfg.disks[i].path)))
				abort();
		if (!memchr(cfg.net_tap, 0, sizeof(cfg.net_tap)))
			abort();
	}
	return 0;
}
