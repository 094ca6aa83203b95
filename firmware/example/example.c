/* example.c: the smallest useful cloak guest, to copy when starting a research unikernel. */
/* README "Writing a guest" explains each part: boot info, console, SEV status, virtio disk/console/net, exit. */
#include "virtio.h"

#define VIRTIO_VENDOR 0x1af4
#define VIRTIO_NET 0x1041
#define VIRTIO_BLK 0x1042
#define VIRTIO_CONSOLE 0x1043

/* The PCI slot of the first function with this virtio device id, or 0. */
static unsigned find_virtio(const struct pci_fn *fns, unsigned n, uint16_t device)
{
	unsigned i;

	for (i = 0; i < n; i++)
		if (fns[i].vendor == VIRTIO_VENDOR && fns[i].device == device)
			return fns[i].slot;
	return 0;
}

/* Reads sector 0 and prints its first bytes. vblk_request bounces through the shared pool itself. */
static void use_disk(unsigned slot)
{
	static uint8_t sector[512];
	char first[17];
	struct vdev d;
	uint64_t sectors;
	unsigned i;

	if (vblk_open(&d, slot, &sectors) < 0 || vblk_request(&d, VBLK_IN, 0, sector, sizeof(sector)) != VBLK_S_OK) {
		gprintf("disk: cannot read sector 0\n");
		return;
	}
	for (i = 0; i < 16; i++)
		first[i] = sector[i] >= ' ' && sector[i] < 127 ? (char)sector[i] : '.';
	first[16] = 0;
	gprintf("disk: %lu sectors, sector 0 starts with [%s]\n", (unsigned long)sectors, first);
}

static void use_console(unsigned slot)
{
	static const char line[] = "hello from the example guest on hvc0\n";
	struct vdev d;

	if (vcons_open(&d, slot) < 0 || vcons_write(&d, line, sizeof(line) - 1) < 0)
		gprintf("console: cannot write to hvc0\n");
	else
		gprintf("console: wrote a line to hvc0\n");
}

static void use_net(unsigned slot)
{
	struct vdev d;
	uint8_t mac[6];

	if (vnet_open(&d, slot, mac) < 0) {
		gprintf("net: cannot start the virtio-net device\n");
		return;
	}
	gprintf("net: MAC %02x:%02x:%02x:%02x:%02x:%02x\n", mac[0], mac[1], mac[2], mac[3], mac[4], mac[5]);
}

int guest_main(const void *bootinfo)
{
	struct pci_fn fns[32];
	struct sev_view sev;
	const char *args, *exit_arg;
	unsigned ranges = 0, n, slot;
	uint64_t mem;

	guest_boot_done();  /* marks "booted" in cloak's --timeline */
	if (!bootinfo_valid(bootinfo)) {
		gprintf("example: no boot-info device tree in RDI\n");
		return 1;
	}
	mem = bootinfo_mem_size(bootinfo, &ranges);
	args = bootinfo_bootargs(bootinfo);
	gprintf("example: %lu MiB in %u range(s), %u vCPU(s), command line [%s]\n", (unsigned long)(mem >> 20), ranges,
		bootinfo_u32(bootinfo, "chosen", "cloak,cpus", 1), args);

	sev_view_read(bootinfo, &sev);
	gprintf("example: SEV %s\n", sev.active ? "active" : "not active");

	/* Devices DMA only to the shared pool (under SEV the runtime clears the C-bit there first). */
	n = pci_enumerate(fns, 32);
	if (n && find_virtio(fns, n, VIRTIO_BLK) + find_virtio(fns, n, VIRTIO_CONSOLE) + find_virtio(fns, n, VIRTIO_NET)) {
		if (!dma_pool_init(bootinfo)) {
			gprintf("example: no shared DMA pool in the boot info\n");
			return 2;
		}
		if ((slot = find_virtio(fns, n, VIRTIO_BLK)))
			use_disk(slot);
		if ((slot = find_virtio(fns, n, VIRTIO_CONSOLE)))
			use_console(slot);
		if ((slot = find_virtio(fns, n, VIRTIO_NET)))
			use_net(slot);
	}

	/* "exit=N" ends the VM through the exit port: cloak exits (N << 1) | 1. Otherwise power off: 0. */
	exit_arg = strstr(args, "exit=");
	if (exit_arg)
		guest_exit((unsigned)parse_ulong(exit_arg + 5, NULL));
	gprintf("example: powering off\n");
	return 0;
}
