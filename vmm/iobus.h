/* iobus.h: port I/O and MMIO dispatch: devices claim address ranges, vCPU exits find them. */
#ifndef CLOAK_IOBUS_H
#define CLOAK_IOBUS_H

#include "cloak.h"

typedef void (*io_fn)(void *opaque, uint64_t addr, bool is_write, uint8_t *data, unsigned size);

struct io_range {
	uint64_t base, len;
	const char *name;
	io_fn fn;
	void *opaque;
};

#define IO_BUS_MAX_RANGES 64

struct io_bus {
	const char *what;  /* "port", "MMIO" */
	struct io_range ranges[IO_BUS_MAX_RANGES];
	unsigned n;
};

int io_bus_register(struct io_bus *bus, uint64_t base, uint64_t len, const char *name, io_fn fn, void *opaque,
		    struct cloak_err *err);
/* Returns false when no device claims the address: reads then see all ones. */
bool io_bus_dispatch(const struct io_bus *bus, uint64_t addr, bool is_write, uint8_t *data, unsigned size);

#endif
