/* power.c: the ways a guest ends its VM, the power button cloak presses on SIGTERM, and the boot-timer mark. */
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

bool guest_power_button(void)
{
	if (!(inb(GUEST_PORT_POWER_BUTTON) & 1))
		return false;
	outb(GUEST_PORT_POWER_BUTTON, 1);
	return true;
}

void guest_boot_done(void)
{
	outb(GUEST_PORT_BOOT_TIMER, GUEST_BOOT_TIMER_MAGIC);
}
