/* boot_timer.c: a write of 123 to port 0x7e marks "guest says booted" in the timeline. */
#include "devices.h"

#include <string.h>

static void boot_timer_io(void *opaque, uint64_t port, bool is_write, uint8_t *data, unsigned size)
{
	struct dev_host *host = opaque;

	(void)port;
	if (!is_write)
		memset(data, 0xff, size);
	else if (data[0] == BOOT_TIMER_MAGIC)
		host->ops->booted(host->ctx);
}

static int boot_timer_init(struct dev_host *host, struct cloak_err *err)
{
	return devhost_io_register(host, DEV_SPACE_PIO, PORT_BOOT_TIMER, 1, "boot timer", boot_timer_io, host, err);
}

const struct device_ops boot_timer_device = { .name = "boot timer", .init = boot_timer_init };
