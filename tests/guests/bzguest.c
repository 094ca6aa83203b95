/* bzguest.c: test guest packed as a bzImage: prints the zero page, setup_data and SEV-SNP CC blob it is handed. */
#include "guest.h"

/* Offsets in struct boot_params (Documentation/arch/x86/zero-page.rst). */
#define BP_E820_ENTRIES 0x1e8
#define BP_RAMDISK_IMAGE 0x218
#define BP_RAMDISK_SIZE 0x21c
#define BP_CMD_LINE_PTR 0x228
#define BP_TYPE_OF_LOADER 0x210
#define BP_E820_TABLE 0x2d0
#define BP_SETUP_DATA 0x250

/* setup_data entries (arch/x86/include/uapi/asm/bootparam.h): next, type, len, then the data. */
#define SETUP_CC_BLOB 7
#define SD_TYPE 8
#define SD_LEN 12
#define SD_DATA 16
#define SD_MAX_ENTRIES 16       /* a loop in the chain ends the walk */

/* The SEV-SNP CC blob (Linux's struct cc_blob_sev_info) and the CPUID page's entries (SNP ABI). */
#define CC_MAGIC 0x45444d41u
#define CC_SECRETS_PHYS 8
#define CC_SECRETS_LEN 16
#define CC_CPUID_PHYS 24
#define CC_CPUID_LEN 32
#define CPUID_ENTRY0 16
#define CPUID_ENTRY_SIZE 48
#define CPUID_COUNT_MAX 64

static uint32_t rd32(const uint8_t *bp, unsigned off)
{
	uint32_t v;

	memcpy(&v, bp + off, 4);
	return v;
}

static uint64_t rd64(const uint8_t *p, unsigned off)
{
	uint64_t v;

	memcpy(&v, p + off, 8);
	return v;
}

/*
 * The CPUID page as Linux's SNP boot code checks it: a count from 1 to 64, and
 * (its second SEV check, made through the table) leaf 0x80000000 reaching
 * 0x8000001F, whose EAX has the SEV bit; leaves 0xD.0 and 0xD.1 with XCR0_IN 1
 * or 3, the only entries it takes for them.
 */
static void cc_cpuid_page(const uint8_t *page)
{
	uint32_t count = rd32(page, 0), i, ext_max = 0, sev_eax = 0;
	unsigned xsave = 0;
	int has_sev_leaf = 0;

	gprintf("snp cpuid page: %u entries\n", count);
	for (i = 0; i < count && i < CPUID_COUNT_MAX; i++) {
		const uint8_t *e = page + CPUID_ENTRY0 + CPUID_ENTRY_SIZE * i;
		uint32_t fn = rd32(e, 0), sub = rd32(e, 4);
		uint64_t xcr0_in = rd64(e, 8);

		if (fn == 0x80000000)
			ext_max = rd32(e, 24);
		if (fn == 0x8000001f) {
			has_sev_leaf = 1;
			sev_eax = rd32(e, 24);
		}
		if (fn == 0xd && sub <= 1 && (xcr0_in == 1 || xcr0_in == 3))
			xsave |= 1u << sub;
	}
	gprintf("snp cpuid page: count %s, 0x80000000 reaches 0x%x, 0x8000001f %s (EAX 0x%x, SEV bit %u), "
		"0xd.0 %s, 0xd.1 %s\n", count >= 1 && count <= CPUID_COUNT_MAX ? "ok" : "BAD", ext_max,
		has_sev_leaf ? "present" : "MISSING", sev_eax, (sev_eax >> 1) & 1, xsave & 1 ? "ok" : "MISSING",
		xsave & 2 ? "ok" : "MISSING");
}

/* Walks the setup_data chain as Linux does and prints the CC blob it finds, and what its pages hold. */
static void cc_blob(const uint8_t *bp)
{
	uint64_t sd = rd64(bp, BP_SETUP_DATA);
	unsigned n;

	for (n = 0; sd && n < SD_MAX_ENTRIES; n++) {
		const uint8_t *e = (const uint8_t *)(uintptr_t)sd;

		gprintf("setup_data: 0x%lx type %u len %u\n", (unsigned long)sd, rd32(e, SD_TYPE), rd32(e, SD_LEN));
		if (rd32(e, SD_TYPE) == SETUP_CC_BLOB && rd32(e, SD_LEN) >= 4) {
			uint32_t at = rd32(e, SD_DATA);
			const uint8_t *b = (const uint8_t *)(uintptr_t)at;

			gprintf("cc blob: at 0x%x magic 0x%x%s version %u secrets 0x%lx+0x%x cpuid 0x%lx+0x%x\n", at,
				rd32(b, 0), rd32(b, 0) == CC_MAGIC ? " (AMDE)" : " (BAD)", rd32(b, 4) & 0xffff,
				(unsigned long)rd64(b, CC_SECRETS_PHYS), rd32(b, CC_SECRETS_LEN),
				(unsigned long)rd64(b, CC_CPUID_PHYS), rd32(b, CC_CPUID_LEN));
			if (rd32(b, 0) == CC_MAGIC && rd64(b, CC_CPUID_PHYS) && rd32(b, CC_CPUID_LEN) >= 4096)
				cc_cpuid_page((const uint8_t *)(uintptr_t)rd64(b, CC_CPUID_PHYS));
			if (rd32(b, 0) == CC_MAGIC && rd64(b, CC_SECRETS_PHYS) && rd32(b, CC_SECRETS_LEN) == 4096) {
				const uint8_t *sp = (const uint8_t *)(uintptr_t)rd64(b, CC_SECRETS_PHYS);
				unsigned k, vmpck0 = 0;

				for (k = 0; k < 32; k++)
					vmpck0 |= sp[0x20 + k];
				gprintf("snp secrets page: version %u, VMPCK0 %s\n", rd32(sp, 0), vmpck0 ? "set" : "EMPTY");
			}
		}
		sd = rd64(e, 0);
	}
	if (!n)
		gprintf("setup_data: none\n");
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
	cc_blob(bp);
	if (rd_size) {
		const uint8_t *rd = (const uint8_t *)(uintptr_t)rd32(bp, BP_RAMDISK_IMAGE);

		gprintf("initrd: %u bytes at 0x%x, starts with [%c%c%c%c]\n", rd_size, rd32(bp, BP_RAMDISK_IMAGE),
			rd[0], rd[1], rd[2], rd[3]);
	}
	guest_exit(entries + (rd_size ? 0x10 : 0));
}
