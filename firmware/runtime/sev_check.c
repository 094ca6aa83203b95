/* sev_check.c: the runtime's first step under SEV: stop unless the C-bit CPUID reports really maps private memory. */
#include "guest.h"

/*
 * CPUID is the host's to answer and is not measured, while the page tables
 * the guest starts on were built by cloak and measured with the C-bit the
 * owner expects. A host that lies about the C-bit would have the runtime clear
 * the wrong bit when it shares memory, and so put data in the clear. As
 * Linux's sev_verify_cbit does: write a random value through the measured
 * mapping, read it back through a mapping built with CPUID's C-bit, and stop
 * if they differ.
 *
 * The probe mapping borrows the last 2 MiB below 4 GiB (the top entry of the
 * table for 3..4 GiB): cloak's guest ABI puts nothing there. The measured
 * tables lie below 4 GiB and are identity-mapped, so an entry's table address
 * is its low 32 bits whatever C-bit it carries.
 */
#define PROBE_VA 0xffe00000ull
#define PAGE_2M (2ull << 20)
#define PTE_P_W_PS 0x83ull
#define TABLE_ADDR(e) ((e) & 0xfffff000ull)

static volatile uint64_t cbit_probe __attribute__((aligned(64)));

static bool rdrand64(uint64_t *v)
{
	unsigned char ok;
	int tries;

	for (tries = 0; tries < 16; tries++) {
		__asm__ volatile("rdrand %0; setc %1" : "=r"(*v), "=qm"(ok));
		if (ok)
			return true;
	}
	return false;
}

/* Unpredictable to the host when RDRAND exists; otherwise the TSC, as Linux falls back to. */
static uint64_t probe_value(void)
{
	uint32_t r[4], lo, hi;
	uint64_t v;

	cpuid(1, 0, r);
	if ((r[2] & (1u << 30)) && rdrand64(&v))
		return v;
	__asm__ volatile("rdtsc" : "=a"(lo), "=d"(hi));
	return (((uint64_t)hi << 32) | lo) * 0x9e3779b97f4a7c15ull;
}

static __attribute__((noreturn)) void cbit_wrong(const char *why, unsigned cbit)
{
	gprintf("cloak runtime: stopping: the C-bit CPUID reports (bit %u) %s; the host's CPUID does not match "
		"the page tables the launch measured, so memory this guest shares would not be what it meant "
		"to share\n", cbit, why);
	guest_exit(GUEST_EXIT_CBIT_WRONG);
}

void runtime_check_cbit(void)
{
	uint64_t cr3, *pml4, *pdpt, *pd, saved, frame, value, seen;
	unsigned cbit;
	uint32_t r[4];

	cpuid(0x80000000, 0, r);
	if (r[0] < 0x8000001f)
		return;
	cpuid(0x8000001f, 0, r);
	/* SEV_STATUS exists only where CPUID offers SEV; reading it elsewhere may fault. */
	if (!(r[0] & 2) || !(rdmsr(0xc0010131) & 1))
		return;
	cbit = r[1] & 0x3f;
	/*
	 * No upper bound from CPUID 0x80000008: on hardware the C-bit sits at or
	 * above the physical-address width the guest is told (the width is
	 * reduced by the bits memory encryption takes), so such a bound would
	 * refuse an honest host. The probe below is what catches a lie.
	 */
	if (cbit < 32)
		cbit_wrong("is an address bit of this guest's low RAM, where its page tables are", cbit);
	value = probe_value();
	cbit_probe = value;
	__asm__ volatile("mov %%cr3, %0" : "=r"(cr3));
	pml4 = (uint64_t *)(uintptr_t)TABLE_ADDR(cr3);
	pdpt = (uint64_t *)(uintptr_t)TABLE_ADDR(pml4[0]);
	pd = (uint64_t *)(uintptr_t)TABLE_ADDR(pdpt[3]);
	frame = (uint64_t)(uintptr_t)&cbit_probe & ~(PAGE_2M - 1);
	saved = pd[511];
	pd[511] = frame | (1ull << cbit) | PTE_P_W_PS;
	__asm__ volatile("invlpg (%0)" : : "r"(PROBE_VA) : "memory");
	seen = *(volatile uint64_t *)(uintptr_t)(PROBE_VA + ((uint64_t)(uintptr_t)&cbit_probe - frame));
	pd[511] = saved;
	__asm__ volatile("invlpg (%0)" : : "r"(PROBE_VA) : "memory");
	if (seen != value) {
		gprintf("cloak runtime: wrote 0x%llx through the measured mapping, read 0x%llx through C-bit %u\n",
			(unsigned long long)value, (unsigned long long)seen, cbit);
		cbit_wrong("does not map this guest's private memory", cbit);
	}
}
