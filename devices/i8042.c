/* i8042.c: just enough keyboard controller for the reset line, which ends the VM (Linux reboot=k). */
#include "devices.h"

#include <string.h>

static void i8042_io(void *opaque, uint64_t port, bool is_write, uint8_t *data, unsigned size)
{
	struct machine *m = opaque;

	if (!is_write) {
		/* Status 0: no data waiting, input buffer empty, so a guest never spins on it. */
		memset(data, 0, size);
		return;
	}
	if (port == PORT_I8042_CMD && data[0] == I8042_CMD_RESET)
		machine_request_stop(m, CLOAK_EXIT_POWEROFF, "the guest reset itself through the i8042");
}

static int i8042_init(struct machine *m, struct cloak_err *err)
{
	if (io_bus_register(&m->pio, PORT_I8042_DATA, 1, "i8042 data", i8042_io, m, err) < 0)
		return -1;
	return io_bus_register(&m->pio, PORT_I8042_CMD, 1, "i8042 command", i8042_io, m, err);
}

const struct device_ops i8042_device = { .name = "i8042", .init = i8042_init };
