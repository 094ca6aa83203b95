/* hello.c: test guest: one line on the serial console, then power off (cloak exits 0). */
#include "guest.h"

int guest_main(const void *bootinfo)
{
	(void)bootinfo;
	guest_boot_done();
	gprintf("hello from a cloak guest\n");
	return 0;
}
