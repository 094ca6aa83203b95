/* power.c: the ways a guest ends its VM, and the boot-timer mark. */
#include "guest.h"

void guest_exit(unsigned code)
{
	outl(GUEST_PORT_DEBUG_EXIT, code);
	for (;;)
		__asm__ volatile("cli; hlt");
}

void guest_poweroff(void)
{
	outb(GUEST_PORT_I8042_CMD, 0xfe);
	for (;;)
		__asm__ volatile("cli; hlt");
}

void guest_boot_done(void)
{
	outb(GUEST_PORT_BOOT_TIMER, GUEST_BOOT_TIMER_MAGIC);
}
