/* i8042.c: just enough keyboard controller for the reset line, which ends the VM (Linux reboot=k). */
#include "devices.h"

#include <string.h>

static void i8042_io(void *opaque, uint64_t port, bool is_write, uint8_t *data, unsigned size)
{
	struct dev_host *host = opaque;

	if (!is_write) {
		/* Status 0: no data waiting, input buffer empty, so a guest never spins on it. */
		memset(data, 0, size);
		return;
	}
	if (port == PORT_I8042_CMD && data[0] == I8042_CMD_RESET)
		devhost_stop(host, CLOAK_EXIT_POWEROFF, "the guest reset itself through the i8042");
}

static int i8042_init(struct dev_host *host, struct cloak_err *err)
{
	if (devhost_io_register(host, DEV_SPACE_PIO, PORT_I8042_DATA, 1, "i8042 data", i8042_io, host, err) < 0)
		return -1;
	return devhost_io_register(host, DEV_SPACE_PIO, PORT_I8042_CMD, 1, "i8042 command", i8042_io, host, err);
}

const struct device_ops i8042_device = { .name = "i8042", .init = i8042_init };
