/* debug_exit.c: port 0xf4, QEMU isa-debug-exit compatible: a write of v ends the VM with (v << 1) | 1. */
#include "devices.h"

#include <string.h>

static void debug_exit_io(void *opaque, uint64_t port, bool is_write, uint8_t *data, unsigned size)
{
	struct dev_host *host = opaque;
	uint32_t v = 0;

	(void)port;
	if (!is_write) {
		memset(data, 0xff, size);
		return;
	}
	memcpy(&v, data, size > 4 ? 4 : size);
	devhost_stop(host, (int)(((v << 1) | 1) & 0xff), "the guest wrote %u to the exit port", v);
}

static int debug_exit_init(struct dev_host *host, struct cloak_err *err)
{
	return devhost_io_register(host, DEV_SPACE_PIO, PORT_DEBUG_EXIT, 1, "exit port", debug_exit_io, host, err);
}

const struct device_ops debug_exit_device = { .name = "exit port", .init = debug_exit_init };
