/* guest-exit.c: ends a cloak VM through the exit port, or with "boot" marks the boot timer (test initramfs). */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/io.h>

#define PORT_EXIT 0xf4
#define PORT_BOOT_TIMER 0x7e
#define BOOT_TIMER_MAGIC 123

int main(int argc, char **argv)
{
	unsigned long code = argc > 1 ? strtoul(argv[1], NULL, 0) : 0;
	int boot = argc > 1 && !strcmp(argv[1], "boot");
	unsigned short port = boot ? PORT_BOOT_TIMER : PORT_EXIT;

	/* Debian's kernels have no /dev/port, so take the port directly (needs CAP_SYS_RAWIO). */
	if (ioperm(port, 1, 1) < 0) {
		perror("guest-exit: ioperm");
		return 1;
	}
	if (boot) {
		outb(BOOT_TIMER_MAGIC, port);
		return 0;
	}
	outb((unsigned char)code, port);
	fprintf(stderr, "guest-exit: the exit port did not end the VM\n");
	return 1;
}
