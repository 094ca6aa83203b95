/* virtio_pool.c: the shared DMA pool from the boot-info device tree, and device interrupts (IDT, local APIC). */
#include "virtio.h"

static uint64_t pool_base, pool_size, pool_next;

/* Finds the reg of the node whose compatible is "restricted-dma-pool", at any depth. */
static bool fdt_find_pool(const void *fdt, uint64_t *base, uint64_t *size)
{
	const uint8_t *b = fdt, *p, *strings;
	const uint8_t *reg[16] = { 0 };
	bool match[16] = { 0 };
	int depth = -1;

	if (!bootinfo_valid(fdt))
		return false;
	p = b + be32(b + 8);
	strings = b + be32(b + 12);
	for (;;) {
		uint32_t tok = be32(p);

		p += 4;
		switch (tok) {
		case 1:  /* begin node */
			if (++depth >= 16)
				return false;
			match[depth] = false;
			reg[depth] = NULL;
			p += (strlen((const char *)p) + 4) & ~3ul;
			break;
		case 2:  /* end node */
			if (depth >= 0 && match[depth] && reg[depth]) {
				*base = be64(reg[depth]);
				*size = be64(reg[depth] + 8);
				return true;
			}
			depth--;
			break;
		case 3: {  /* property */
			uint32_t len = be32(p);
			const char *name = (const char *)strings + be32(p + 4);

			if (depth >= 0 && !strcmp(name, "compatible") && !strcmp((const char *)p + 8, "restricted-dma-pool"))
				match[depth] = true;
			if (depth >= 0 && !strcmp(name, "reg") && len == 16)
				reg[depth] = p + 8;
			p += 8 + ((len + 3) & ~3u);
			break;
		}
		case 4:
			break;
		default:
			return false;
		}
	}
}

/*
 * Under SEV the pool must be shared: clear the C-bit in the 2 MiB page-table
 * entries cloak built for it, flush, and report it to the host
 * (KVM_HC_MAP_GPA_RANGE, as Linux does), before anything is written there.
 */
static void pool_share(unsigned cbit)
{
	uint64_t cr3, mask = 1ull << cbit, addr_mask = 0x000ffffffffff000ull & ~mask, gpa;
	long ret;

	const struct vc_status *vc = runtime_vc_status();

	/* Under SNP the pages lose their validation and the host makes them shared first (SNP's order). */
	vc_snp_make_shared(pool_base, pool_size);
	__asm__ volatile("mov %%cr3, %0" : "=r"(cr3));
	for (gpa = pool_base; gpa < pool_base + pool_size; gpa += 2ull << 20) {
		uint64_t *pml4 = (uint64_t *)(uintptr_t)(cr3 & addr_mask);
		uint64_t *pdpt = (uint64_t *)(uintptr_t)(pml4[0] & addr_mask);
		uint64_t *pd = (uint64_t *)(uintptr_t)(pdpt[gpa >> 30] & addr_mask);

		pd[(gpa >> 21) & 511] &= ~mask;
	}
	__asm__ volatile("wbinvd; mov %0, %%cr3" : : "r"(cr3) : "memory");
	if (vc->snp && vc->ghcb_msr_present)
		return;  /* the page-state changes above reached the host as KVM_HC_MAP_GPA_RANGE already */
	__asm__ volatile("vmmcall" : "=a"(ret) : "a"(12), "b"(pool_base), "c"(pool_size >> 12), "d"(1) : "memory");
	(void)ret;
}

bool dma_pool_init(const void *fdt)
{
	struct sev_view sev;

	if (!fdt_find_pool(fdt, &pool_base, &pool_size) || !pool_size)
		return false;
	sev_view_read(fdt, &sev);
	if (sev.active)
		pool_share(sev.cbit);
	pool_next = pool_base;
	return true;
}

void *dma_alloc(uint64_t size, uint64_t align)
{
	uint64_t at = (pool_next + align - 1) & ~(align - 1);

	if (!pool_size || at + size > pool_base + pool_size)
		return NULL;
	pool_next = at + size;
	memset((void *)(uintptr_t)at, 0, size);
	return (void *)(uintptr_t)at;
}

uint64_t dma_pool_base(void)
{
	return pool_base;
}

uint64_t dma_pool_size(void)
{
	return pool_size;
}

/* Interrupts. One stub serves every device vector: the drivers look at their rings after waking. */
#define LAPIC_BASE 0xfee00000ul
#define LAPIC_EOI 0xb0
#define LAPIC_SVR 0xf0
#define LAPIC_TPR 0x80
#define LAPIC_LVT_TIMER 0x320
#define LAPIC_LVT_LINT0 0x350
#define LAPIC_TIMER_INIT 0x380
#define LAPIC_TIMER_DIV 0x3e0
#define LAPIC_TIMER_VECTOR (IRQ_VECTOR_BASE + 14)

volatile uint64_t irq_count;


void irq_stub(void);
__asm__(".text\n"
	".globl irq_stub\n"
	"irq_stub:\n"
	"  lock incq irq_count(%rip)\n"
	"  pushq %rax\n"
	"  movl $0xfee000b0, %eax\n"  /* EOI; a register, as a 32-bit absolute address would sign-extend */
	"  movl $0, (%rax)\n"
	"  popq %rax\n"
	"  iretq\n");

void irq_init(void)
{
	uint64_t h = (uint64_t)(uintptr_t)irq_stub;
	static bool done;
	unsigned v;

	if (done)
		return;
	done = true;
	for (v = IRQ_VECTOR_BASE; v < IRQ_VECTOR_BASE + 16; v++)
		runtime_idt[v] = (struct idt_gate){ (uint16_t)h, 0x10, 0, 0x8e, (uint16_t)(h >> 16), (uint32_t)(h >> 32), 0 };
	runtime_idt_load();  /* with #VC's gate when vc.c put one there */
	/* The local APIC leaves reset software-disabled; it accepts MSIs only once enabled. */
	*(volatile uint32_t *)(LAPIC_BASE + LAPIC_TPR) = 0;
	*(volatile uint32_t *)(LAPIC_BASE + LAPIC_SVR) = 0x1ff;
	/* The legacy PIC stays out: its vectors would land on exception entries this IDT lacks. */
	*(volatile uint32_t *)(LAPIC_BASE + LAPIC_LVT_LINT0) = 0x10000;
	/*
	 * A periodic tick (about 10 ms on KVM's 1 GHz APIC clock) bounds the one
	 * race of irq_wait below: a device interrupt taken between the check and
	 * the hlt.
	 */
	*(volatile uint32_t *)(LAPIC_BASE + LAPIC_TIMER_DIV) = 0xb;
	*(volatile uint32_t *)(LAPIC_BASE + LAPIC_LVT_TIMER) = 0x20000 | LAPIC_TIMER_VECTOR;
	*(volatile uint32_t *)(LAPIC_BASE + LAPIC_TIMER_INIT) = 10000000;
	__asm__ volatile("sti");
}

/*
 * Interrupts stay enabled once irq_init ran. The textbook `cli; check;
 * sti; hlt` left interrupts stuck in the IRR under nested KVM (the window
 * after sti never opened before the next cli), so the check and the hlt
 * run with interrupts on, and the tick wakes a hlt that lost the race.
 */
void irq_wait(uint64_t seen)
{
	if (irq_count == seen)
		__asm__ volatile("hlt" ::: "memory");
}
