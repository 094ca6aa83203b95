/* sevpeek.c: test guest: reads private memory through a C=0 mapping, as SEV forbids; "share" converts it first. */
#include "guest.h"

#define PEEK_GPA 0x2000000ull  /* 32 MiB: private RAM away from the image, the stack and the DMA window */

int guest_main(const void *bootinfo)
{
	uint64_t cr3, *pml4, *pdpt, *pd, seen;
	struct sev_view sev;
	long ret = 0;

	sev_view_read(bootinfo, &sev);
	if (!sev.active) {
		gprintf("peek: SEV not active\n");
		return 1;
	}
	*(volatile uint64_t *)(uintptr_t)PEEK_GPA = 0x5eb1ac;  /* through the private mapping */
	if (strstr(bootinfo_bootargs(bootinfo), "share")) {
		/* KVM_HC_MAP_GPA_RANGE: one 2 MiB page, decrypted. */
		__asm__ volatile("vmmcall" : "=a"(ret) : "a"(12), "b"(PEEK_GPA), "c"(512), "d"(1) : "memory");
		gprintf("peek: shared 2 MiB at 0x%llx (hypercall returned %ld)\n", PEEK_GPA, ret);
	}
	__asm__ volatile("mov %%cr3, %0" : "=r"(cr3));
	pml4 = (uint64_t *)(uintptr_t)(cr3 & 0xfffff000ull);
	pdpt = (uint64_t *)(uintptr_t)(pml4[0] & 0xfffff000ull);
	pd = (uint64_t *)(uintptr_t)(pdpt[0] & 0xfffff000ull);
	pd[PEEK_GPA >> 21] &= ~(1ull << sev.cbit);
	__asm__ volatile("invlpg (%0)" : : "r"(PEEK_GPA) : "memory");
	seen = *(volatile uint64_t *)(uintptr_t)PEEK_GPA;
	gprintf("peek: read 0x%llx at C=0\n", (unsigned long long)seen);
	return 0;
}
