/* echo.c: test guest: reads a line from COM1 and writes it back upper-cased (console input). */
#include "guest.h"

int guest_main(const void *bootinfo)
{
	char line[64];
	unsigned n = 0;

	(void)bootinfo;
	gprintf("ready\n");
	while (n < sizeof(line) - 1) {
		char c = serial_getc();

		if (c == '\n' || c == '\r')
			break;
		line[n++] = (c >= 'a' && c <= 'z') ? (char)(c - 'a' + 'A') : c;
	}
	line[n] = 0;
	gprintf("got: %s\n", line);
	return 0;
}
