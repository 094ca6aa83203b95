/* constest.c: virtio-console test guest: writes lines to hvc0; with read=N on its command line, reads N bytes of input. */
#include "virtio.h"

/*
 * read=N: reads N bytes from hvc0 and prints their count and byte sum, which the test compares with what it
 * fed cloak's stdin. Far more input than the 8 receive buffers hold, given back one at a time, is what
 * showed a device that stopped asking for the driver's kick once it had run out of buffers.
 */
static int read_input(struct vdev *d, const void *bootinfo)
{
	const char *args = bootinfo_bootargs(bootinfo), *p = args ? strstr(args, "read=") : 0;
	uint32_t want = 0, got = 0, sum = 0;
	uint8_t buf[256];

	if (!p)
		return 0;
	for (p += 5; *p >= '0' && *p <= '9'; p++)
		want = want * 10 + (uint32_t)(*p - '0');
	while (got < want) {
		int n = vcons_read(d, buf, sizeof(buf) < want - got ? sizeof(buf) : want - got);
		int i;

		if (n < 0) {
			gprintf("constest: a bad receive buffer after %u bytes\n", got);
			return 5;
		}
		for (i = 0; i < n; i++)
			sum += buf[i];
		got += (uint32_t)n;
	}
	gprintf("constest: read %u bytes from hvc0, byte sum %u\n", got, sum);
	return 0;
}

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
	return read_input(&d, bootinfo);
}
