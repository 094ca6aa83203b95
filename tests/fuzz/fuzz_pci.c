/* fuzz_pci.c: libFuzzer target: a guest's configuration-space and BAR accesses to a virtio-pci function. */
#include "fake_host.h"
#include "virtio_pci.h"

#include <stdlib.h>
#include <string.h>

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

static void fz_config(struct virtio_dev *vd, uint32_t off, bool is_write, uint8_t *d, unsigned n)
{
	static uint8_t cfg[16];

	(void)vd;
	if (is_write)
		memcpy(cfg + off, d, n);
	else
		memcpy(d, cfg + off, n);
}

static void fz_kick(struct virtio_dev *vd, unsigned q)
{
	static struct virtq_req req;

	/* What a device does with a kick: drain the queue. */
	pthread_mutex_lock(&vd->lock);
	while (virtio_pop(vd, q, &req))
		virtio_push(vd, q, req.head, 0);
	virtio_interrupt(vd, q);
	pthread_mutex_unlock(&vd->lock);
}

static const struct virtio_dev_ops fz_ops = {
	.kind = "virtio-fuzz", .type = 2, .pci_class = 0x018000, .nqueues = 2, .queue_max = 64,
	.features = 1ull << 9, .config_size = 16, .config_access = fz_config, .queue_kick = fz_kick,
};

/*
 * Each 11-byte record is one access: kind (config read/write, BAR read/write,
 * kick), offset, size and value. Guest memory is a fixed 1 MiB.
 */
int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	static struct fake_host fh;
	static struct vm_config cfg;
	static struct pci_bus bus;
	static struct virtio_dev vd;
	static uint8_t *ram;
	struct cloak_err err;
	size_t i;

	if (!ram)
		ram = calloc(1, 1 << 20);
	memset(ram, 0, 1 << 20);
	memset(&cfg, 0, sizeof(cfg));
	fake_host_init(&fh, ram, 1 << 20, size && (data[0] & 1), &cfg);
	fake_host_share(&fh, 0, 1 << 19);
	pci_bus_init(&bus, &fh.host);
	fh.host.pci = &bus;
	if (virtio_pci_init(&vd, &fh.host, &fz_ops, "virtio-fuzz0", NULL, &err) < 0)
		abort();
	for (i = 1; i + 11 <= size; i += 11) {
		const uint8_t *r = data + i;
		unsigned off = r[1] | r[2] << 8, sz = 1u << (r[3] % 4);
		uint64_t v;

		memcpy(&v, r + 4, sizeof(v) - 1);
		v &= 0x00ffffffffffffffull;
		switch (r[0] % 6) {
		case 0:
			(void)pci_config_read(&bus, vd.pci.slot, r[3] >> 6, off & 0x1ff, sz);
			break;
		case 1:
			pci_config_write(&bus, vd.pci.slot, r[3] >> 6, off & 0x1ff, sz, (uint32_t)v);
			break;
		case 2:
			pci_mmio_access(&bus, PCI_MMIO_BASE + (off % 0x9000), false, (uint8_t *)&v, sz);
			break;
		case 3:
			pci_mmio_access(&bus, PCI_MMIO_BASE + (off % 0x9000), true, (uint8_t *)&v, sz);
			break;
		case 4:
			/* Guest memory the rings may point at. */
			memcpy(ram + (off << 4) % ((1 << 20) - 8), &v, 7);
			break;
		case 5:
			fz_kick(&vd, r[1] % 2);
			(void)pci_msix_notify(&vd.msix, r[2] % 4);
			break;
		}
	}
	virtio_pci_fini(&vd);
	fake_host_fini(&fh);
	return 0;
}
