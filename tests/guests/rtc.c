/* rtc.c: test guest: reads the CMOS clock the way Linux does at boot (no "update in progress"). */
#include "guest.h"

static uint8_t cmos(uint8_t reg)
{
	outb(0x70, reg);
	return inb(0x71);
}

static unsigned bcd(uint8_t v)
{
	return (v >> 4) * 10 + (v & 0xf);
}

int guest_main(const void *bootinfo)
{
	(void)bootinfo;
	gprintf("rtc: update-in-progress=%u\n", cmos(0x0a) >> 7);
	gprintf("rtc: year %u%02u month %u\n", bcd(cmos(0x32)), bcd(cmos(0x09)), bcd(cmos(0x08)));
	return 0;
}
