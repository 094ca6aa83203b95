/* iobus.c: port I/O and MMIO ranges claimed by devices, and the dispatch of a vCPU access to its owner. */
#include "iobus.h"

#include <string.h>

int io_bus_register(struct io_bus *bus, uint64_t base, uint64_t len, const char *name, io_fn fn, void *opaque,
		    struct cloak_err *err)
{
	unsigned i;

	if (len == 0 || base + len < base)
		return err_set(err, "internal error: empty or wrapping %s range for %s", bus->what, name);
	if (bus->n == IO_BUS_MAX_RANGES)
		return err_set(err, "internal error: too many %s ranges (registering %s)", bus->what, name);
	for (i = 0; i < bus->n; i++) {
		const struct io_range *r = &bus->ranges[i];

		if (base < r->base + r->len && r->base < base + len)
			return err_set(err, "internal error: %s range 0x%llx+0x%llx of %s overlaps %s", bus->what,
				       (unsigned long long)base, (unsigned long long)len, name, r->name);
	}
	bus->ranges[bus->n++] = (struct io_range){ base, len, name, fn, opaque };
	return 0;
}

bool io_bus_dispatch(const struct io_bus *bus, uint64_t addr, bool is_write, uint8_t *data, unsigned size)
{
	unsigned i;

	for (i = 0; i < bus->n; i++) {
		const struct io_range *r = &bus->ranges[i];

		if (addr >= r->base && addr - r->base < r->len) {
			r->fn(r->opaque, addr, is_write, data, size);
			return true;
		}
	}
	if (!is_write)
		memset(data, 0xff, size);
	return false;
}
