/* triplefault.c: test guest: takes an exception with no IDT, which ends in a triple fault. */
#include "guest.h"

int guest_main(const void *bootinfo)
{
	(void)bootinfo;
	gprintf("about to fault\n");
	__asm__ volatile("ud2");
	gprintf("still alive: the fault was lost\n");
	return 3;
}
