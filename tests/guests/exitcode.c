/* exitcode.c: test guest: exits through port 0xf4 with the value given as code=N on its command line. */
#include "guest.h"

int guest_main(const void *bootinfo)
{
	const char *arg = strstr(bootinfo_bootargs(bootinfo), "code=");
	unsigned long code = arg ? parse_ulong(arg + 5, NULL) : 0;

	gprintf("exiting with %lu\n", code);
	guest_exit((unsigned)code);
}
