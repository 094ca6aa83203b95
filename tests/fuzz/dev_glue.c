/*
 * dev_glue.c: the host and guest-driver side of the device targets: a device
 * sees the fake device host (tests/fakes) over flat guest RAM, and a driver
 * that speaks to it through BAR 0.
 */
#include "dev_glue.h"

#include "fake_host.h"

#include <stdlib.h>
#include <string.h>
#include <unistd.h>

static struct fake_host fh;
static struct vm_config host_cfg;  /* the devices' options: unused, the targets put devices on the bus themselves */
static struct pci_bus host_bus;
static uint8_t *host_ram;

struct dev_host *fuzz_host(void)
{
	if (host_ram)
		return &fh.host;
	host_ram = calloc(1, FUZZ_RAM_SIZE);
	if (!host_ram)
		abort();
	/* Confidential, so that the shared-memory rule is in the path; all of RAM is shared by default. */
	fake_host_init(&fh, host_ram, FUZZ_RAM_SIZE, true, &host_cfg);
	pci_bus_init(&host_bus, &fh.host);
	fh.host.pci = &host_bus;
	return &fh.host;
}

void fuzz_host_load(const uint8_t *image, size_t len, bool half_shared)
{
	memset(host_ram, 0, FUZZ_RAM_SIZE);
	memcpy(host_ram, image, len < FUZZ_RAM_SIZE ? len : FUZZ_RAM_SIZE);
	shared_map_set(&fh.shared, 0, FUZZ_RAM_SIZE, true);
	if (half_shared)
		shared_map_set(&fh.shared, FUZZ_RAM_SIZE / 2, FUZZ_RAM_SIZE / 2, false);
}

static void bar_write(struct virtio_dev *vd, uint64_t off, uint64_t v, unsigned size)
{
	uint8_t b[8];

	memcpy(b, &v, sizeof(b));
	virtio_pci_bar_access(&vd->pci, 0, off, true, b, size);
}

/* Offsets in the common configuration structure (virtio 1.2 §4.1.4.3). */
enum {
	CC_DFSELECT = 0x08, CC_DF = 0x0c, CC_STATUS = 0x14, CC_Q_SELECT = 0x16, CC_Q_SIZE = 0x18,
	CC_Q_ENABLE = 0x1c, CC_Q_DESC = 0x20, CC_Q_DRIVER = 0x28, CC_Q_DEVICE = 0x30,
};

void fuzz_driver_start(struct virtio_dev *vd, const uint8_t hdr[FUZZ_DEV_HDR], uint64_t device_features)
{
	uint64_t f = 1ull << VIRTIO_F_VERSION_1 | 1ull << VIRTIO_F_ACCESS_PLATFORM | device_features;
	unsigned q;

	if (hdr[0] & FUZZ_F_EVENT_IDX)
		f |= 1ull << VIRTIO_F_RING_EVENT_IDX;
	if (hdr[0] & FUZZ_F_INDIRECT)
		f |= 1ull << VIRTIO_F_RING_INDIRECT_DESC;
	bar_write(vd, CC_STATUS, 0, 1);
	bar_write(vd, CC_STATUS, VIRTIO_STATUS_ACKNOWLEDGE | VIRTIO_STATUS_DRIVER, 1);
	bar_write(vd, CC_DFSELECT, 0, 4);
	bar_write(vd, CC_DF, (uint32_t)f, 4);
	bar_write(vd, CC_DFSELECT, 1, 4);
	bar_write(vd, CC_DF, f >> 32, 4);
	bar_write(vd, CC_STATUS, VIRTIO_STATUS_ACKNOWLEDGE | VIRTIO_STATUS_DRIVER | VIRTIO_STATUS_FEATURES_OK, 1);
	for (q = 0; q < vd->ops->nqueues && q < 2; q++) {
		const uint8_t *h = hdr + 1 + 7 * q;

		bar_write(vd, CC_Q_SELECT, q, 2);
		bar_write(vd, CC_Q_SIZE, 1u << (h[0] % 9), 2);
		bar_write(vd, CC_Q_DESC, (uint64_t)(h[1] | h[2] << 8) * 16 % FUZZ_RAM_SIZE, 8);
		bar_write(vd, CC_Q_DRIVER, (uint64_t)(h[3] | h[4] << 8) * 2 % FUZZ_RAM_SIZE, 8);
		bar_write(vd, CC_Q_DEVICE, (uint64_t)(h[5] | h[6] << 8) * 4 % FUZZ_RAM_SIZE, 8);
		bar_write(vd, CC_Q_ENABLE, 1, 2);
	}
	bar_write(vd, CC_STATUS, VIRTIO_STATUS_ACKNOWLEDGE | VIRTIO_STATUS_DRIVER | VIRTIO_STATUS_FEATURES_OK |
				 VIRTIO_STATUS_DRIVER_OK, 1);
}

void fuzz_driver_kick(struct virtio_dev *vd, unsigned q)
{
	uint64_t n;

	bar_write(vd, VPCI_NOTIFY_OFF + q * VPCI_NOTIFY_MULT, q, 2);
	/* The I/O thread's part: consume the eventfd, run the device's kick handler. */
	if (read(vd->kick_fd[q], &n, sizeof(n)) == sizeof(n) && vd->ops->queue_kick)
		vd->ops->queue_kick(vd, q);
}
