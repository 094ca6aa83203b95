/* boot_x86.c: the GDT and the identity page tables every long-mode guest starts on. */
#include "boot.h"

#include <string.h>

/* Packs a flat descriptor; flags is the high nibble (G, D/B, L, AVL), access the type byte. */
static uint64_t gdt_entry(uint8_t access, uint8_t flags, uint32_t base, uint32_t limit)
{
	return ((uint64_t)(base & 0xff000000u) << 32) | ((uint64_t)(flags & 0xf) << 52) |
	       ((uint64_t)(limit & 0x000f0000u) << 32) | ((uint64_t)access << 40) |
	       ((uint64_t)(base & 0x00ffffffu) << 16) | (uint64_t)(limit & 0x0000ffffu);
}

void boot_gdt_build(uint64_t gdt[GDT_ENTRIES])
{
	memset(gdt, 0, GDT_ENTRIES * sizeof(gdt[0]));
	gdt[GDT_SEL_CODE64 >> 3] = gdt_entry(0x9b, 0xa, 0, 0xfffff); /* P, code, exec/read, accessed; G, L */
	gdt[GDT_SEL_DATA >> 3] = gdt_entry(0x93, 0xc, 0, 0xfffff);   /* P, data, read/write, accessed; G, D/B */
	gdt[GDT_SEL_TSS >> 3] = gdt_entry(0x8b, 0x0, 0, 0x67);       /* P, busy 64-bit TSS at 0 */
	gdt[GDT_SEL_CODE32 >> 3] = gdt_entry(0x9b, 0xc, 0, 0xfffff); /* P, code; G, D/B */
}

void boot_gdt_decode(uint64_t desc, struct gdt_fields *out)
{
	uint32_t limit = (uint32_t)((desc & 0xffff) | ((desc >> 32) & 0xf0000));

	out->base = ((desc >> 16) & 0xffffff) | ((desc >> 32) & 0xff000000u);
	out->type = (desc >> 40) & 0xf;
	out->s = (desc >> 44) & 1;
	out->dpl = (desc >> 45) & 3;
	out->present = (desc >> 47) & 1;
	out->avl = (desc >> 52) & 1;
	out->l = (desc >> 53) & 1;
	out->db = (desc >> 54) & 1;
	out->g = (desc >> 55) & 1;
	out->limit = out->g ? (limit << 12) | 0xfff : limit;
}

#define PTE_P (1ull << 0)
#define PTE_W (1ull << 1)
#define PTE_PS (1ull << 7)

void boot_pagetables_build(uint8_t pages[PLAN_PT_PAGES * PAGE_SIZE], uint64_t base_gpa, int cbit)
{
	uint64_t cmask = cbit >= 0 ? 1ull << cbit : 0;
	uint64_t *pml4 = (uint64_t *)pages;
	uint64_t *pdpt = (uint64_t *)(pages + PAGE_SIZE);
	uint64_t pdpt_gpa = base_gpa + PAGE_SIZE;
	unsigned i;

	memset(pages, 0, PLAN_PT_PAGES * PAGE_SIZE);
	pml4[0] = pdpt_gpa | cmask | PTE_P | PTE_W;
	for (i = 0; i < 4; i++) {
		uint64_t *pd = (uint64_t *)(pages + (2 + i) * PAGE_SIZE);
		unsigned j;

		pdpt[i] = (base_gpa + (2 + i) * PAGE_SIZE) | cmask | PTE_P | PTE_W;
		for (j = 0; j < 512; j++) {
			uint64_t gpa = (uint64_t)i * GiB + (uint64_t)j * 2 * MiB;

			/* Device memory is never encrypted: the hole gets no C-bit. */
			pd[j] = gpa | (gpa < PLAN_MMIO_HOLE ? cmask : 0) | PTE_P | PTE_W | PTE_PS;
		}
	}
}
