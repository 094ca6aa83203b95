/* boot_x86.c: the GDT, the identity page tables and the entry registers every guest starts on. */
#include "boot.h"

#include <linux/kvm.h>
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

static void segment_from_gdt(struct kvm_segment *seg, const uint64_t *gdt, uint16_t sel)
{
	struct gdt_fields f;

	boot_gdt_decode(gdt[sel >> 3], &f);
	*seg = (struct kvm_segment){
		.base = f.base, .limit = f.limit, .selector = sel, .type = f.type, .present = f.present,
		.dpl = f.dpl, .db = f.db, .s = f.s, .l = f.l, .g = f.g, .avl = f.avl,
	};
}

#define CR0_PE (1ull << 0)
#define CR0_MP (1ull << 1)
#define CR0_ET (1ull << 4)
#define CR0_NE (1ull << 5)
#define CR0_WP (1ull << 16)
#define CR0_PG (1ull << 31)
#define CR4_PAE (1ull << 5)
#define EFER_LME (1ull << 8)
#define EFER_LMA (1ull << 10)

void boot_entry_regs(const struct plan_entry *e, struct kvm_regs *regs, struct kvm_sregs *sregs)
{
	uint64_t gdt[GDT_ENTRIES];

	*regs = (struct kvm_regs){ .rflags = 0x2, .rip = e->rip, .rsp = e->rsp, .rdi = e->rdi, .rsi = e->rsi,
				   .rbx = e->rbx, .rax = e->rax };
	boot_gdt_build(gdt);
	sregs->gdt.base = PLAN_GDT_GPA;
	sregs->gdt.limit = sizeof(gdt) - 1;
	sregs->idt.base = 0;
	sregs->idt.limit = 0;  /* no IDT yet: an early exception is a clean triple fault */
	segment_from_gdt(&sregs->ds, gdt, GDT_SEL_DATA);
	sregs->es = sregs->fs = sregs->gs = sregs->ss = sregs->ds;
	segment_from_gdt(&sregs->tr, gdt, GDT_SEL_TSS);
	sregs->ldt = (struct kvm_segment){ .selector = 0, .type = 2, .present = 1, .unusable = 1 };
	if (e->mode == ENTRY_LONG64) {
		segment_from_gdt(&sregs->cs, gdt, GDT_SEL_CODE64);
		sregs->cr0 = CR0_PE | CR0_MP | CR0_ET | CR0_NE | CR0_WP | CR0_PG;
		sregs->cr3 = e->cr3;
		sregs->cr4 = CR4_PAE;
		sregs->efer = EFER_LME | EFER_LMA;
	} else {
		segment_from_gdt(&sregs->cs, gdt, GDT_SEL_CODE32);
		sregs->cr0 = CR0_PE | CR0_ET;
		sregs->cr3 = 0;
		sregs->cr4 = 0;
		sregs->efer = 0;
	}
}
