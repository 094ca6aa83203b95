/* pvh32.c: a 32-bit ELF entered through its Xen PVH note prints the hvm_start_info it was handed. */
#include "guest32.h"

#define HVM_START_MAGIC 0x336ec578u

struct hvm_start_info {
	uint32_t magic, version, flags, nr_modules;
	uint64_t modlist_paddr, cmdline_paddr, rsdp_paddr, memmap_paddr;
	uint32_t memmap_entries, reserved;
};
struct hvm_modlist_entry {
	uint64_t paddr, size, cmdline_paddr, reserved;
};
struct hvm_memmap_entry {
	uint64_t addr, size;
	uint32_t type, reserved;
};

void main32(uint32_t eax, const struct hvm_start_info *si);

void main32(uint32_t eax, const struct hvm_start_info *si)
{
	const struct hvm_memmap_entry *mm = (const void *)(uintptr_t)si->memmap_paddr;
	uint32_t i;

	(void)eax;
	if (si->magic != HVM_START_MAGIC) {
		print32("pvh32: bad start info magic 0x%x\n", si->magic);
		exit32(0x7e);
	}
	print32("pvh32: start info version %u at 0x%x\n", si->version, (uint32_t)(uintptr_t)si);
	report_cpu_state();
	print32("cmdline: [%s]\n", (const char *)(uintptr_t)si->cmdline_paddr);
	print32("memmap: %u entries\n", si->memmap_entries);
	for (i = 0; i < si->memmap_entries; i++) {
		print32("memmap: ");
		print_hex64(mm[i].addr);
		print32(" +");
		print_hex64(mm[i].size);
		print32(" type %u\n", mm[i].type);
	}
	print32("modules: %u\n", si->nr_modules);
	if (si->nr_modules) {
		const struct hvm_modlist_entry *mod = (const void *)(uintptr_t)si->modlist_paddr;
		const char *data = (const char *)(uintptr_t)mod->paddr;

		print32("module 0: %u bytes, starts with [%c%c%c%c]\n", (uint32_t)mod->size, data[0], data[1], data[2],
			data[3]);
	}
	print32("rsdp: 0x%x\n", (uint32_t)si->rsdp_paddr);
	exit32(si->memmap_entries + 0x10 * si->nr_modules);
}
