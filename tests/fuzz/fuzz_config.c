/* fuzz_config.c: libFuzzer target: the --config file (JSON) and its round trip through `cloak config print`. */
#include "config.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/mman.h>
#include <unistd.h>

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

/*
 * The input is the file's bytes, read by path as --config reads it. A load
 * either fails with a message or gives a configuration within cloak's limits
 * that `cloak config print` writes out and --config reads back the same.
 */
int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	static int fd = -1;
	static char path[64];
	struct cloak_err err = { "" };
	struct vm_config cfg, again;
	char *text, *text2;
	unsigned i;
	FILE *f;

	if (fd < 0) {
		fd = memfd_create("fuzz-config", MFD_CLOEXEC);
		if (fd < 0)
			abort();
		snprintf(path, sizeof(path), "/proc/self/fd/%d", fd);
	}
	if (ftruncate(fd, 0) < 0 || pwrite(fd, data, size, 0) != (ssize_t)size)
		abort();
	config_defaults(&cfg);
	if (config_load_file(path, &cfg, &err) < 0) {
		if (!err.msg[0])
			abort();
		config_release(&cfg);
		return 0;
	}
	if (cfg.mem_size < CONFIG_MIN_MEM || cfg.mem_size > CONFIG_MAX_MEM || !cfg.cpus || cfg.cpus > CONFIG_MAX_CPUS ||
	    cfg.ndevice_args > CONFIG_MAX_DEVICE_ARGS || cfg.ncpuid_clear > CONFIG_MAX_CPUID_CLEAR)
		abort();
	for (i = 0; i < cfg.ndevice_args; i++)
		if (!cfg.device_args[i].value || !cfg.device_args[i].from_file ||
		    config_device_count(&cfg, cfg.device_args[i].option->name) > cfg.device_args[i].option->max)
			abort();
	/* What config print writes, --config reads back to the same text. */
	text = config_to_json(&cfg);
	if (!text)
		abort();
	f = fopen(path, "w");
	if (!f || fputs(text, f) < 0 || fclose(f) != 0)
		abort();
	config_defaults(&again);
	if (config_load_file(path, &again, &err) < 0) {
		fprintf(stderr, "printed config not read back: %s\n%s\n", err.msg, text);
		abort();
	}
	text2 = config_to_json(&again);
	if (!text2 || strcmp(text, text2)) {
		fprintf(stderr, "round trip differs:\n%s\n---\n%s\n", text, text2 ? text2 : "(null)");
		abort();
	}
	free(text);
	free(text2);
	config_release(&again);
	config_release(&cfg);
	return 0;
}
