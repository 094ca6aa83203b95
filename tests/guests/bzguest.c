/* bzguest.c: test guest packed as a bzImage: checks the zero page the 64-bit boot protocol hands it. */
#include "guest.h"

/* Offsets in struct boot_params (Documentation/arch/x86/zero-page.rst). */
#define BP_E820_ENTRIES 0x1e8
#define BP_RAMDISK_IMAGE 0x218
#define BP_RAMDISK_SIZE 0x21c
#define BP_CMD_LINE_PTR 0x228
#define BP_TYPE_OF_LOADER 0x210
#define BP_E820_TABLE 0x2d0

static uint32_t rd32(const uint8_t *bp, unsigned off)
{
	uint32_t v;

	memcpy(&v, bp + off, 4);
	return v;
}

int guest_main(const void *zero_page)
{
	const uint8_t *bp = zero_page;
	unsigned entries = bp[BP_E820_ENTRIES], i;
	uint32_t rd_size = rd32(bp, BP_RAMDISK_SIZE);

	gprintf("bzimage 64-bit entry ok, loader 0x%x\n", bp[BP_TYPE_OF_LOADER]);
	gprintf("cmdline: [%s]\n", (const char *)(uintptr_t)rd32(bp, BP_CMD_LINE_PTR));
	for (i = 0; i < entries; i++) {
		const uint8_t *e = bp + BP_E820_TABLE + 20 * i;
		uint64_t addr, size;

		memcpy(&addr, e, 8);
		memcpy(&size, e + 8, 8);
		gprintf("e820: 0x%lx +0x%lx type %u\n", (unsigned long)addr, (unsigned long)size, rd32(e, 16));
	}
	if (rd_size) {
		const uint8_t *rd = (const uint8_t *)(uintptr_t)rd32(bp, BP_RAMDISK_IMAGE);

		gprintf("initrd: %u bytes at 0x%x, starts with [%c%c%c%c]\n", rd_size, rd32(bp, BP_RAMDISK_IMAGE),
			rd[0], rd[1], rd[2], rd[3]);
	}
	guest_exit(entries + (rd_size ? 0x10 : 0));
}
