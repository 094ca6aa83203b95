/* demo.c: the guest `cloak run` boots by default: says what it is and what it sees, then powers off. */
#include "guest.h"

int guest_main(const void *bootinfo)
{
	struct sev_view sev;
	unsigned ranges = 0;
	uint64_t mem;

	guest_boot_done();
	gprintf("cloak demo guest: a 64-bit guest booted by cloak\n");
	if (!bootinfo_valid(bootinfo)) {
		gprintf("no boot-info device tree in RDI (got %p)\n", bootinfo);
		return 1;
	}
	mem = bootinfo_mem_size(bootinfo, &ranges);
	gprintf("memory: %lu MiB in %u range(s)\n", (unsigned long)(mem >> 20), ranges);
	gprintf("vCPUs: %u\n", bootinfo_u32(bootinfo, "chosen", "cloak,cpus", 0));
	sev_view_read(bootinfo, &sev);
	if (sev.active)
		gprintf("SEV: active (SEV_STATUS bit 0 set), C-bit %u\n", sev.cbit);
	else if (sev.cpuid_offers_sev)
		gprintf("SEV: offered by CPUID (C-bit %u) but not active in this guest\n", sev.cbit);
	else
		gprintf("SEV: not active (CPUID 0x8000001F offers no SEV)%s\n",
			sev.host_says_sev ? "; cloak claims SEV, which this guest cannot confirm" : "");
	gprintf("command line: \"%s\"\n", bootinfo_bootargs(bootinfo));
	gprintf("powering off\n");
	return 0;
}
