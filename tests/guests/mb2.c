/* mb2.c: a Multiboot 2 kernel walks the boot information tags it was handed and prints each. */
#include "guest32.h"

#define MB2_BOOT_MAGIC 0x36d76289u

struct mb2_tag {
	uint32_t type, size;
};

void main32(uint32_t magic, const uint8_t *mbi);

static uint32_t get32(const uint8_t *p)
{
	return *(const uint32_t *)p;
}

void main32(uint32_t magic, const uint8_t *mbi)
{
	uint32_t total = get32(mbi), off = 8, entries = 0, mods = 0;

	print32("multiboot2: magic 0x%x, info at 0x%x, %u bytes\n", magic, (uint32_t)(uintptr_t)mbi, total);
	if (magic != MB2_BOOT_MAGIC) {
		print32("multiboot2: bad magic\n");
		exit32(0x7e);
	}
	report_cpu_state();
	while (off + 8 <= total) {
		const uint8_t *t = mbi + off;
		uint32_t type = get32(t), size = get32(t + 4), i;

		if (type == 0)
			break;
		switch (type) {
		case 1: print32("cmdline: [%s]\n", (const char *)(t + 8)); break;
		case 2: print32("boot loader: [%s]\n", (const char *)(t + 8)); break;
		case 3: {
			const char *data = (const char *)(uintptr_t)get32(t + 8);

			print32("module %u: %u bytes at 0x%x (page-aligned: %s), string [%s], starts with [%c%c%c%c]\n",
				mods, get32(t + 12) - get32(t + 8), get32(t + 8), get32(t + 8) & 0xfff ? "no" : "yes",
				(const char *)(t + 16), data[0], data[1], data[2], data[3]);
			mods++;
			break;
		}
		case 4: print32("mem_lower: %u KiB, mem_upper: %u KiB\n", get32(t + 8), get32(t + 12)); break;
		case 6:
			for (i = 16; i + get32(t + 8) <= size; i += get32(t + 8)) {
				print32("mmap: ");
				print_hex64(*(const uint64_t *)(t + i));
				print32(" +");
				print_hex64(*(const uint64_t *)(t + i + 8));
				print32(" type %u\n", get32(t + i + 16));
				entries++;
			}
			print32("mmap: %u entries\n", entries);
			break;
		case 14: print32("acpi rsdp (old): [%c%c%c%c%c%c%c%c]\n", t[8], t[9], t[10], t[11], t[12], t[13],
				 t[14], t[15]); break;
		case 15: print32("acpi rsdp (new): revision %u\n", t[8 + 15]); break;
		default: print32("tag %u: %u bytes\n", type, size); break;
		}
		off += (size + 7) & ~7u;
	}
	exit32(entries + 0x10 * mods);
}
