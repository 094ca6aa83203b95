/* demo.c: the guest `cloak run` boots by default: says what it is and what it sees, then powers off. */
#include "virtio.h"

/* CRC-32 (IEEE), bit by bit: small, and the same as `crc32` or zlib on the host. */
static uint32_t crc32(const uint8_t *p, unsigned n)
{
	uint32_t c = 0xffffffffu;
	unsigned k;

	while (n--) {
		c ^= *p++;
		for (k = 0; k < 8; k++)
			c = c & 1 ? (c >> 1) ^ 0xedb88320u : c >> 1;
	}
	return ~c;
}

/* Lists the PCI functions and, when there is a disk, reads its first sector. */
static void demo_devices(const void *bootinfo)
{
	struct pci_fn fns[32];
	unsigned n = pci_enumerate(fns, 32), i, disk = 0;
	static uint8_t sector[512];
	struct vdev blk;
	uint64_t sectors;

	gprintf("PCI devices: %u\n", n);
	for (i = 0; i < n; i++) {
		gprintf("  00:%02x.0 %04x:%04x %s\n", fns[i].slot, fns[i].vendor, fns[i].device, pci_describe(&fns[i]));
		if (!disk && fns[i].vendor == 0x1af4 && fns[i].device == 0x1042)
			disk = fns[i].slot;
	}
	if (!disk)
		return;
	if (!dma_pool_init(bootinfo)) {
		gprintf("disk: no shared DMA pool in the boot info\n");
		return;
	}
	if (vblk_open(&blk, disk, &sectors) < 0 || vblk_request(&blk, VBLK_IN, 0, sector, 512) != VBLK_S_OK) {
		gprintf("disk: cannot read sector 0\n");
		return;
	}
	gprintf("disk: %lu sectors; first sector crc32: %08x\n", (unsigned long)sectors, crc32(sector, 512));
}

/* What the runtime's #VC handler did at start. */
static const char *ghcb_words(const struct vc_status *vc)
{
	if (vc->ghcb_live)
		return vc->version == 2 ? "#VC handler on, GHCB protocol version 2" : "#VC handler on, GHCB protocol version 1";
	if (!vc->ghcb_msr_present)
		return "#VC handler installed, idle: no GHCB MSR (SEV_STATUS without the hardware, as under cloak's "
		       "simulator)";
	if (!vc->sev_info_answered)
		return "#VC handler installed, idle: no SEV_INFO answer through the GHCB MSR (SEV_STATUS without the "
		       "hardware, as under cloak's simulator)";
	return "#VC handler installed without a GHCB";
}

int guest_main(const void *bootinfo)
{
	const struct vc_status *vc;
	struct sev_view sev;
	unsigned ranges = 0;
	uint64_t mem;

	guest_boot_done();
	gprintf("cloak demo guest: a 64-bit guest booted by cloak\n");
	if (!bootinfo_valid(bootinfo)) {
		gprintf("no boot-info device tree in RDI (got %p)\n", bootinfo);
		return 1;
	}
	mem = bootinfo_mem_size(bootinfo, &ranges);
	gprintf("memory: %lu MiB in %u range(s)\n", (unsigned long)(mem >> 20), ranges);
	gprintf("vCPUs: %u\n", bootinfo_u32(bootinfo, "chosen", "cloak,cpus", 0));
	sev_view_read(bootinfo, &sev);
	vc = runtime_vc_status();
	if (sev.active && (vc->snp || vc->es))
		gprintf("%s: active (SEV_STATUS 0x%llx), C-bit %u; %s\n", vc->snp ? "SEV-SNP" : "SEV-ES",
			(unsigned long long)vc->sev_status, sev.cbit, ghcb_words(vc));
	else if (sev.active)
		gprintf("SEV: active (SEV_STATUS bit 0 set), C-bit %u\n", sev.cbit);
	else if (sev.cpuid_offers_sev)
		gprintf("SEV: offered by CPUID (C-bit %u) but not active in this guest\n", sev.cbit);
	else
		gprintf("SEV: not active (CPUID 0x8000001F offers no SEV)%s\n",
			sev.host_says_sev ? "; cloak claims SEV, which this guest cannot confirm" : "");
	gprintf("command line: \"%s\"\n", bootinfo_bootargs(bootinfo));
	demo_devices(bootinfo);
	gprintf("powering off\n");
	return 0;
}
