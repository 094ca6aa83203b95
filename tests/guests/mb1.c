/* mb1.c: a Multiboot 1 kernel prints what its loader handed it: magic, memory, command line, modules, map. */
#include "guest32.h"

#define MB1_BOOT_MAGIC 0x2badb002u
#define MBI_MEMORY (1u << 0)
#define MBI_CMDLINE (1u << 2)
#define MBI_MODS (1u << 3)
#define MBI_MMAP (1u << 6)
#define MBI_LOADER_NAME (1u << 9)

struct mb1_info {
	uint32_t flags, mem_lower, mem_upper, boot_device, cmdline, mods_count, mods_addr;
	uint32_t syms[4];
	uint32_t mmap_length, mmap_addr, drives_length, drives_addr, config_table, boot_loader_name;
};
struct mb1_module {
	uint32_t mod_start, mod_end, string, reserved;
};
struct mb1_mmap_entry {
	uint32_t size;
	uint64_t base_addr, length;
	uint32_t type;
} __attribute__((packed));

void main32(uint32_t magic, const struct mb1_info *mbi);

void main32(uint32_t magic, const struct mb1_info *mbi)
{
	uint32_t entries = 0, mods = 0;

	print32("multiboot1: magic 0x%x, info at 0x%x, flags 0x%x\n", magic, (uint32_t)(uintptr_t)mbi, mbi->flags);
	if (magic != MB1_BOOT_MAGIC) {
		print32("multiboot1: bad magic\n");
		exit32(0x7e);
	}
	report_cpu_state();
	if (mbi->flags & MBI_MEMORY)
		print32("mem_lower: %u KiB, mem_upper: %u KiB\n", mbi->mem_lower, mbi->mem_upper);
	if (mbi->flags & MBI_CMDLINE)
		print32("cmdline: [%s]\n", (const char *)(uintptr_t)mbi->cmdline);
	if (mbi->flags & MBI_MODS) {
		const struct mb1_module *mod = (const void *)(uintptr_t)mbi->mods_addr;

		mods = mbi->mods_count;
		print32("modules: %u\n", mods);
		if (mods) {
			const char *data = (const char *)(uintptr_t)mod->mod_start;

			print32("module 0: %u bytes at 0x%x (page-aligned: %s), string [%s], starts with [%c%c%c%c]\n",
				mod->mod_end - mod->mod_start, mod->mod_start, mod->mod_start & 0xfff ? "no" : "yes",
				(const char *)(uintptr_t)mod->string, data[0], data[1], data[2], data[3]);
		}
	}
	if (mbi->flags & MBI_MMAP) {
		uint32_t off = 0;

		/* Each entry's size field does not count itself. */
		while (off < mbi->mmap_length) {
			const struct mb1_mmap_entry *e = (const void *)(uintptr_t)(mbi->mmap_addr + off);

			print32("mmap: ");
			print_hex64(e->base_addr);
			print32(" +");
			print_hex64(e->length);
			print32(" type %u\n", e->type);
			off += e->size + 4;
			entries++;
		}
		print32("mmap: %u entries\n", entries);
	}
	if (mbi->flags & MBI_LOADER_NAME)
		print32("boot loader: [%s]\n", (const char *)(uintptr_t)mbi->boot_loader_name);
	exit32(entries + 0x10 * mods);
}
