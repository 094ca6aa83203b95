/* pci.c: PCI bus 0 behind ports 0xcf8/0xcfc, 32-bit memory BARs, MSI-X tables whose vectors the host raises without exits. */
#include "pci.h"

#include "devices.h"

#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#define CF8_ENABLE 0x80000000u

void pci_cfg_put16(struct pci_device *d, unsigned off, uint16_t v)
{
	d->cfg[off] = (uint8_t)v;
	d->cfg[off + 1] = (uint8_t)(v >> 8);
}

void pci_cfg_put32(struct pci_device *d, unsigned off, uint32_t v)
{
	pci_cfg_put16(d, off, (uint16_t)v);
	pci_cfg_put16(d, off + 2, (uint16_t)(v >> 16));
}

uint16_t pci_cfg_get16(const struct pci_device *d, unsigned off)
{
	return (uint16_t)(d->cfg[off] | d->cfg[off + 1] << 8);
}

uint32_t pci_cfg_get32(const struct pci_device *d, unsigned off)
{
	return pci_cfg_get16(d, off) | (uint32_t)pci_cfg_get16(d, off + 2) << 16;
}

void pci_device_init(struct pci_device *d, const char *name, uint16_t vendor, uint16_t device, uint32_t class_code,
		     uint8_t revision)
{
	memset(d, 0, sizeof(*d));
	d->name = name;
	pci_cfg_put16(d, PCI_VENDOR_ID, vendor);
	pci_cfg_put16(d, PCI_DEVICE_ID, device);
	d->cfg[PCI_REVISION] = revision;
	d->cfg[PCI_CLASS_PROG] = (uint8_t)class_code;
	d->cfg[PCI_CLASS_PROG + 1] = (uint8_t)(class_code >> 8);
	d->cfg[PCI_CLASS_PROG + 2] = (uint8_t)(class_code >> 16);
	/* Memory decoding, bus mastering, INTx disable; cloak's devices have no I/O BARs and no INTx. */
	d->wmask[PCI_COMMAND] = PCI_COMMAND_MEMORY | PCI_COMMAND_MASTER;
	d->wmask[PCI_COMMAND + 1] = 0x04;
	d->wmask[0x0c] = 0xff;  /* cache line size */
	d->wmask[0x0d] = 0xff;  /* latency timer */
	d->wmask[PCI_INTERRUPT_LINE] = 0xff;
	d->cap_end = 0x40;
}

void pci_set_bar(struct pci_device *d, unsigned bar, uint32_t size)
{
	uint32_t mask = ~(size - 1) & ~0xfu;

	d->bar_size[bar] = size;
	/* Only the address bits above the size are writable: all ones read back the size, as sizing expects. */
	d->wmask[PCI_BAR0 + 4 * bar] = (uint8_t)mask;
	d->wmask[PCI_BAR0 + 4 * bar + 1] = (uint8_t)(mask >> 8);
	d->wmask[PCI_BAR0 + 4 * bar + 2] = (uint8_t)(mask >> 16);
	d->wmask[PCI_BAR0 + 4 * bar + 3] = (uint8_t)(mask >> 24);
}

uint64_t pci_bar_addr(const struct pci_device *d, unsigned bar)
{
	uint64_t a;

	if (bar >= PCI_NUM_BARS || !d->bar_size[bar] || !(d->cfg[PCI_COMMAND] & PCI_COMMAND_MEMORY))
		return 0;
	a = pci_cfg_get32(d, PCI_BAR0 + 4 * bar) & ~0xfull;
	if (a < PCI_MMIO_BASE || a - PCI_MMIO_BASE >= PCI_MMIO_SIZE ||
	    d->bar_size[bar] > PCI_MMIO_SIZE - (a - PCI_MMIO_BASE))
		return 0;
	return a;
}

unsigned pci_add_cap(struct pci_device *d, uint8_t id, unsigned len)
{
	unsigned off = d->cap_end;

	if (len < 2 || off + len > PCI_CFG_SIZE)
		return 0;
	d->cfg[off] = id;
	d->cfg[off + 1] = 0;
	if (d->cap_last)
		d->cfg[d->cap_last] = (uint8_t)off;
	else
		d->cfg[PCI_CAP_PTR] = (uint8_t)off;
	d->cap_last = (uint8_t)(off + 1);
	d->cfg[PCI_STATUS] |= PCI_STATUS_CAP_LIST;
	d->cap_end = (uint8_t)ALIGN_UP(off + len, 4);
	return off;
}

void pci_bus_init(struct pci_bus *bus, struct dev_host *host)
{
	memset(bus, 0, sizeof(*bus));
	pthread_mutex_init(&bus->lock, NULL);
	bus->mmio_next = PCI_MMIO_BASE;
	bus->host = host;
	/* A plain host bridge at 00:00.0, as every PC has; it has no BARs and no windows to program. */
	pci_device_init(&bus->bridge, "host bridge", 0x1b36, 0x0008, 0x060000, 0);
	bus->bridge.wmask[PCI_COMMAND] = 0;
	bus->bridge.wmask[PCI_COMMAND + 1] = 0;
	bus->dev[0] = &bus->bridge;
}

int pci_bus_add(struct pci_bus *bus, struct pci_device *d, struct cloak_err *err)
{
	unsigned slot, bar;

	for (slot = 1; slot < PCI_MAX_SLOTS && bus->dev[slot]; slot++)
		;
	if (slot == PCI_MAX_SLOTS)
		return err_set(err, "no free PCI slot for %s (at most %d devices); attach fewer devices",
			       d->name, PCI_MAX_SLOTS - 1);
	for (bar = 0; bar < PCI_NUM_BARS; bar++) {
		uint32_t size = d->bar_size[bar];
		uint64_t at;

		if (!size)
			continue;
		/* A BAR is aligned to its size, as the guest's sizing arithmetic assumes. */
		at = ALIGN_UP(bus->mmio_next, size);
		if (at + size > PCI_MMIO_BASE + PCI_MMIO_SIZE)
			return err_set(err, "the PCI MMIO window (16 MiB) is full; attach fewer devices");
		pci_cfg_put32(d, PCI_BAR0 + 4 * bar, (uint32_t)at);
		bus->mmio_next = at + size;
	}
	d->slot = slot;
	pthread_mutex_lock(&bus->lock);
	bus->dev[slot] = d;
	pthread_mutex_unlock(&bus->lock);
	return 0;
}

uint32_t pci_config_read(struct pci_bus *bus, unsigned slot, unsigned fn, unsigned off, unsigned size)
{
	struct pci_device *d;
	uint32_t v = 0;
	unsigned i;

	if (slot >= PCI_MAX_SLOTS || fn != 0 || (size != 1 && size != 2 && size != 4) || off + size > PCI_CFG_SIZE)
		return 0xffffffffu >> (32 - 8 * (size > 4 ? 4 : size ? size : 4));
	pthread_mutex_lock(&bus->lock);
	d = bus->dev[slot];
	if (!d) {
		pthread_mutex_unlock(&bus->lock);
		return 0xffffffffu >> (32 - 8 * size);
	}
	if (d->config_reading)
		d->config_reading(d, off, size);
	for (i = 0; i < size; i++)
		v |= (uint32_t)d->cfg[off + i] << (8 * i);
	pthread_mutex_unlock(&bus->lock);
	return v;
}

void pci_config_write(struct pci_bus *bus, unsigned slot, unsigned fn, unsigned off, unsigned size, uint32_t val)
{
	struct pci_device *d;
	unsigned i;

	if (slot >= PCI_MAX_SLOTS || fn != 0 || (size != 1 && size != 2 && size != 4) || off + size > PCI_CFG_SIZE)
		return;
	pthread_mutex_lock(&bus->lock);
	d = bus->dev[slot];
	if (d) {
		for (i = 0; i < size; i++) {
			uint8_t b = (uint8_t)(val >> (8 * i)), m = d->wmask[off + i];

			d->cfg[off + i] = (uint8_t)((d->cfg[off + i] & ~m) | (b & m));
		}
		if (d->config_written)
			d->config_written(d, off, size);
	}
	pthread_mutex_unlock(&bus->lock);
}

void pci_port_access(void *opaque, uint64_t port, bool is_write, uint8_t *data, unsigned size)
{
	struct pci_bus *bus = opaque;
	uint32_t v = 0, a;
	unsigned i;

	if (port == PCI_PORT_ADDR && size == 4) {
		if (is_write) {
			memcpy(&v, data, 4);
			bus->addr = v & 0x80fffffcu;
		} else {
			memcpy(data, &bus->addr, 4);
		}
		return;
	}
	if (port < PCI_PORT_DATA || port + size > PCI_PORT_DATA + 4) {
		/* Byte accesses to 0xcf8-0xcfb are another mechanism (#2), which cloak does not offer. */
		if (!is_write)
			memset(data, 0xff, size);
		return;
	}
	a = bus->addr;
	if (!(a & CF8_ENABLE) || ((a >> 16) & 0xff) != 0) {
		if (!is_write)
			memset(data, 0xff, size);
		return;
	}
	if (is_write) {
		for (i = 0; i < size; i++)
			v |= (uint32_t)data[i] << (8 * i);
		pci_config_write(bus, (a >> 11) & 0x1f, (a >> 8) & 7, (a & 0xfc) + (unsigned)(port - PCI_PORT_DATA),
				 size, v);
	} else {
		v = pci_config_read(bus, (a >> 11) & 0x1f, (a >> 8) & 7, (a & 0xfc) + (unsigned)(port - PCI_PORT_DATA),
				    size);
		for (i = 0; i < size; i++)
			data[i] = (uint8_t)(v >> (8 * i));
	}
}

bool pci_mmio_access(struct pci_bus *bus, uint64_t addr, bool is_write, uint8_t *data, unsigned size)
{
	struct pci_device *hit = NULL;
	unsigned slot, bar, hit_bar = 0;
	uint64_t base = 0;

	pthread_mutex_lock(&bus->lock);
	for (slot = 1; slot < PCI_MAX_SLOTS && !hit; slot++) {
		struct pci_device *d = bus->dev[slot];

		for (bar = 0; d && bar < PCI_NUM_BARS; bar++) {
			uint64_t a = pci_bar_addr(d, bar);

			if (a && addr >= a && addr - a < d->bar_size[bar] && size <= d->bar_size[bar] - (addr - a)) {
				hit = d;
				hit_bar = bar;
				base = a;
				break;
			}
		}
	}
	pthread_mutex_unlock(&bus->lock);
	if (!hit || !hit->bar_access) {
		if (!is_write)
			memset(data, 0xff, size);
		return false;
	}
	hit->bar_access(hit, hit_bar, addr - base, is_write, data, size);
	return true;
}

/* MSI-X (PCI Local Bus 3.0, §6.8.2): message control bits and the table's layout. */
#define MSIX_CTRL_ENABLE 0x8000
#define MSIX_CTRL_MASKALL 0x4000
#define MSIX_ENTRY_MASKED 1u

int pci_msix_init(struct pci_msix *x, struct pci_bus *bus, struct pci_device *d, unsigned nvec, unsigned bar,
		  uint32_t table_off, uint32_t pba_off, struct cloak_err *err)
{
	unsigned i;

	memset(x, 0, sizeof(*x));
	pthread_mutex_init(&x->lock, NULL);
	x->bus = bus;
	x->dev = d;
	x->nvec = nvec;
	for (i = 0; i < PCI_MSIX_MAX; i++)
		x->irqfd[i] = x->msi[i] = -1;
	if (nvec == 0 || nvec > PCI_MSIX_MAX)
		return err_set(err, "internal error: %u MSI-X vectors", nvec);
	x->cap = pci_add_cap(d, PCI_CAP_ID_MSIX, 12);
	if (!x->cap)
		return err_set(err, "internal error: no room for the MSI-X capability");
	pci_cfg_put16(d, x->cap + 2, (uint16_t)(nvec - 1));
	d->wmask[x->cap + 3] = (MSIX_CTRL_ENABLE | MSIX_CTRL_MASKALL) >> 8;
	pci_cfg_put32(d, x->cap + 4, table_off | bar);
	pci_cfg_put32(d, x->cap + 8, pba_off | bar);
	for (i = 0; i < nvec; i++) {
		x->table[i][3] = MSIX_ENTRY_MASKED;
		x->msi[i] = bus->host->ops->msi_open(bus->host->ctx, &x->irqfd[i], err);
		if (x->msi[i] < 0)
			return -1;
	}
	return 0;
}

void pci_msix_fini(struct pci_msix *x)
{
	unsigned i;

	for (i = 0; i < PCI_MSIX_MAX; i++) {
		if (x->irqfd[i] < 0)
			continue;
		x->bus->host->ops->msi_close(x->bus->host->ctx, x->msi[i], x->irqfd[i]);
		x->irqfd[i] = x->msi[i] = -1;
	}
}

static bool msix_masked(const struct pci_msix *x, unsigned v)
{
	return !x->enabled || x->masked || (x->table[v][3] & MSIX_ENTRY_MASKED);
}

static void msix_fire(struct pci_msix *x, unsigned v)
{
	uint64_t one = 1;

	/* A full counter (2^64-2 unread signals) cannot happen; the write never blocks. */
	(void)!write(x->irqfd[v], &one, sizeof(one));
}

/* Brings the host's route for vector v in line with the table, then delivers what waited while it was masked. */
static void msix_sync(struct pci_msix *x, unsigned v)
{
	uint64_t addr = x->table[v][0] | (uint64_t)x->table[v][1] << 32;

	if (!msix_masked(x, v)) {
		x->bus->host->ops->msi_route(x->bus->host->ctx, x->msi[v], true, addr, x->table[v][2]);
		x->routed[v] = true;
		if (x->pending & (1ull << v)) {
			x->pending &= ~(1ull << v);
			msix_fire(x, v);
		}
	}
}

void pci_msix_table_access(struct pci_msix *x, uint64_t off, bool is_write, uint8_t *data, unsigned size)
{
	unsigned v = (unsigned)(off / 16), word = (unsigned)(off % 16) / 4;

	/* Dword and qword accesses only, as the spec requires of drivers; anything else is ignored. */
	if ((size != 4 && size != 8) || (off & (size - 1)) || v >= x->nvec) {
		if (!is_write)
			memset(data, 0xff, size);
		return;
	}
	pthread_mutex_lock(&x->lock);
	if (!is_write) {
		memcpy(data, &x->table[v][word], 4);
		if (size == 8)
			memcpy(data + 4, &x->table[v][word + 1], 4);
	} else {
		uint32_t w[2];
		bool was_masked = msix_masked(x, v);

		memcpy(w, data, size);
		x->table[v][word] = w[0];
		if (size == 8)
			x->table[v][word + 1] = w[1];
		x->table[v][3] &= MSIX_ENTRY_MASKED;
		/* A route changes when the vector is unmasked, or when an unmasked vector gets a new message. */
		if (!msix_masked(x, v) && (was_masked || word < 3))
			msix_sync(x, v);
	}
	pthread_mutex_unlock(&x->lock);
}

void pci_msix_pba_access(struct pci_msix *x, uint64_t off, bool is_write, uint8_t *data, unsigned size)
{
	uint64_t pending;

	if (is_write)
		return;  /* the PBA is read-only */
	pthread_mutex_lock(&x->lock);
	pending = x->pending;
	pthread_mutex_unlock(&x->lock);
	memset(data, 0, size);
	if (off < 8) {
		unsigned i;

		for (i = 0; i < size && off + i < 8; i++)
			data[i] = (uint8_t)(pending >> (8 * (off + i)));
	}
}

void pci_msix_config_written(struct pci_msix *x)
{
	uint16_t ctrl = pci_cfg_get16(x->dev, x->cap + 2);
	unsigned v;

	pthread_mutex_lock(&x->lock);
	x->enabled = ctrl & MSIX_CTRL_ENABLE;
	x->masked = ctrl & MSIX_CTRL_MASKALL;
	for (v = 0; v < x->nvec; v++)
		if (!msix_masked(x, v) && (!x->routed[v] || (x->pending & (1ull << v))))
			msix_sync(x, v);
	pthread_mutex_unlock(&x->lock);
}

bool pci_msix_notify(struct pci_msix *x, unsigned vector)
{
	bool sent = false;

	pthread_mutex_lock(&x->lock);
	if (x->enabled && vector < x->nvec) {
		if (msix_masked(x, vector))
			x->pending |= 1ull << vector;
		else
			msix_fire(x, vector);
		sent = true;
	}
	pthread_mutex_unlock(&x->lock);
	return sent;
}

static void pci_mmio_window(void *opaque, uint64_t addr, bool is_write, uint8_t *data, unsigned size)
{
	struct pci_bus *bus = opaque;

	if (!pci_mmio_access(bus, addr, is_write, data, size))
		bus->host->ops->io_unclaimed(bus->host->ctx, DEV_SPACE_MMIO);
}

/* The bus comes first in the device table, so the virtio functions after it can attach to host->pci. */
static int pci_host_init(struct dev_host *host, struct cloak_err *err)
{
	struct pci_bus *bus = calloc(1, sizeof(*bus));

	if (!bus)
		return err_set(err, "out of memory");
	pci_bus_init(bus, host);
	host->pci = bus;
	if (devhost_io_register(host, DEV_SPACE_PIO, PCI_PORT_ADDR, 8, "PCI configuration", pci_port_access, bus,
				err) < 0)
		return -1;
	return devhost_io_register(host, DEV_SPACE_MMIO, PCI_MMIO_BASE, PCI_MMIO_SIZE, "PCI BARs", pci_mmio_window,
				   bus, err);
}

static void pci_host_fini(struct dev_host *host)
{
	free(host->pci);
	host->pci = NULL;
}

const struct device_ops pci_host_device = { .name = "PCI host bridge", .init = pci_host_init, .fini = pci_host_fini };
