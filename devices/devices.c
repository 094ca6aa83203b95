/* devices.c: the table of devices every VM gets, started in order and stopped in reverse. */
#include "devices.h"

#include <string.h>

static const struct device_ops *const device_table[] = {
	&uart8250_device,
	&debug_exit_device,
	&boot_timer_device,
	&i8042_device,
	&rtc_cmos_device,
	&power_button_device,
	&pci_host_device,
	&virtio_blk_device,
	&virtio_net_device,
	&virtio_console_device,
};

static unsigned devices_started;

const struct device_ops *devices_for_option(const char *name)
{
	size_t i;

	for (i = 0; i < ARRAY_SIZE(device_table); i++)
		if (device_table[i]->option && !strcmp(device_table[i]->option, name))
			return device_table[i];
	return NULL;
}

/* Pass 0 parses every value, pass 1 probes the host: a typo is reported before a missing file. */
int devices_check_options(const struct vm_config *cfg, bool probe_host, struct cloak_err *err)
{
	unsigned pass, i;

	for (pass = 0; pass < (probe_host ? 2u : 1u); pass++)
		for (i = 0; i < cfg->ndevice_args; i++) {
			const struct device_arg *a = &cfg->device_args[i];
			const struct device_ops *d = devices_for_option(a->option->name);
			char origin[sizeof(err->msg)];
			int rc;

			if (!d)
				return err_set(err, "--%s: no device in this build takes it; see `cloak run --help`",
					       a->option->name);
			rc = pass == 0 ? d->parse(a->value, err) : d->probe ? d->probe(a->value, err) : 0;
			if (rc < 0) {
				config_device_origin(cfg, a, origin, sizeof(origin));
				return err_prefix(err, "%s", origin);
			}
		}
	return 0;
}

void devices_print_help(FILE *out)
{
	size_t i;

	for (i = 0; i < ARRAY_SIZE(device_table); i++)
		if (device_table[i]->help)
			device_table[i]->help(out);
}

int devices_init(struct dev_host *host, struct cloak_err *err)
{
	for (devices_started = 0; devices_started < ARRAY_SIZE(device_table); devices_started++) {
		const struct device_ops *d = device_table[devices_started];

		if (d->init(host, err) < 0) {
			err_prefix(err, "%s: ", d->name);
			/* The failing device undid its own part; the ones before it are stopped here. */
			if (d->fini)
				d->fini(host);
			devices_fini(host);
			return -1;
		}
	}
	return 0;
}

void devices_fini(struct dev_host *host)
{
	while (devices_started > 0) {
		const struct device_ops *d = device_table[--devices_started];

		if (d->fini)
			d->fini(host);
	}
}
