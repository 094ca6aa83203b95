/* meminfo.c: test guest: reports memory, vCPUs and command line from the boot info, and touches RAM. */
#include "guest.h"

int guest_main(const void *bootinfo)
{
	unsigned ranges = 0;
	uint64_t mem = bootinfo_mem_size(bootinfo, &ranges);
	volatile uint64_t *last;

	if (!bootinfo_valid(bootinfo)) {
		gprintf("no boot info\n");
		guest_exit(1);
	}
	gprintf("memory bytes: %lu\n", (unsigned long)mem);
	gprintf("memory ranges: %u\n", ranges);
	gprintf("cpus: %u\n", bootinfo_u32(bootinfo, "chosen", "cloak,cpus", 0));
	gprintf("bootargs: [%s]\n", bootinfo_bootargs(bootinfo));
	/* The last word of low RAM (below the 3 GiB hole) must be real memory. */
	last = (volatile uint64_t *)(uintptr_t)((mem < 0xc0000000ull ? mem : 0xc0000000ull) - 8);
	*last = 0x1234567890abcdefull;
	gprintf("top of RAM %s\n", *last == 0x1234567890abcdefull ? "writable" : "broken");
	return 0;
}
