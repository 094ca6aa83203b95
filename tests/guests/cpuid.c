/* cpuid.c: test guest: prints the CPUID bits cloak hides or passes through. */
#include "guest.h"

int guest_main(const void *bootinfo)
{
	uint32_t r[4];
	char sig[13];

	(void)bootinfo;
	cpuid(1, 0, r);
	gprintf("cx16=%u xsave=%u vmx=%u hypervisor-bit=%u apic-id=%u\n", (r[2] >> 13) & 1, (r[2] >> 26) & 1,
		(r[2] >> 5) & 1, r[2] >> 31, r[1] >> 24);
	cpuid(0x80000001, 0, r);
	gprintf("svm=%u\n", (r[2] >> 2) & 1);
	cpuid(0x40000000, 0, r);
	memcpy(sig, &r[1], 4);
	memcpy(sig + 4, &r[2], 4);
	memcpy(sig + 8, &r[3], 4);
	sig[12] = 0;
	gprintf("hypervisor=%s\n", sig);
	return 0;
}
