/* devices.c: the table of devices every VM gets, started in order and stopped in reverse. */
#include "devices.h"

static const struct device_ops *const device_table[] = {
	&uart8250_device,
	&debug_exit_device,
	&boot_timer_device,
	&i8042_device,
	&rtc_cmos_device,
	&pci_host_device,
	&virtio_blk_device,
	&virtio_net_device,
	&virtio_console_device,
	&io_thread_device,
};

static unsigned devices_started;

int devices_init(struct machine *m, struct cloak_err *err)
{
	for (devices_started = 0; devices_started < ARRAY_SIZE(device_table); devices_started++) {
		const struct device_ops *d = device_table[devices_started];

		if (d->init(m, err) < 0) {
			err_prefix(err, "%s: ", d->name);
			devices_fini(m);
			return -1;
		}
	}
	return 0;
}

uint64_t devices_dma_bytes(const struct vm_config *cfg)
{
	uint64_t total = 0;
	size_t i;

	for (i = 0; i < ARRAY_SIZE(device_table); i++)
		if (device_table[i]->dma_bytes)
			total += device_table[i]->dma_bytes(cfg);
	return total;
}

void devices_fini(struct machine *m)
{
	while (devices_started > 0) {
		const struct device_ops *d = device_table[--devices_started];

		if (d->fini)
			d->fini(m);
	}
}
