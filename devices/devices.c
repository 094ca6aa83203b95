/* devices.c: the table of devices every VM gets, started in order and stopped in reverse. */
#include "devices.h"

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
