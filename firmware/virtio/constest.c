/* constest.c: virtio-console test guest: writes a line to hvc0 and one to COM1. */
#include "virtio.h"

int guest_main(const void *bootinfo)
{
	static const char line[] = "hello from hvc0 over virtio-console\n";
	struct pci_fn fns[32];
	unsigned n = pci_enumerate(fns, 32), i, slot = 0;
	struct vdev d;

	for (i = 0; i < n; i++)
		if (fns[i].vendor == 0x1af4 && fns[i].device == 0x1043)
			slot = fns[i].slot;
	if (!slot || !dma_pool_init(bootinfo) || vcons_open(&d, slot) < 0) {
		gprintf("constest: no usable virtio-console (slot %u)\n", slot);
		return 3;
	}
	for (i = 0; i < 3; i++)
		if (vcons_write(&d, line, sizeof(line) - 1) < 0)
			return 4;
	gprintf("constest: wrote 3 lines to hvc0\n");
	return 0;
}
