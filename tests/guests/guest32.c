/* guest32.c: serial output, exit and a CPU-state report for the 32-bit test guests. */
#include "guest32.h"

static void outb(uint16_t port, uint8_t v)
{
	__asm__ volatile("outb %0, %1" : : "a"(v), "Nd"(port));
}

static void putc32(char c)
{
	outb(GUEST32_COM1, (uint8_t)c);
}

static void put_uint(uint32_t v, unsigned base)
{
	char digits[12];
	int n = 0;

	do {
		digits[n++] = "0123456789abcdef"[v % base];
		v /= base;
	} while (v);
	while (n)
		putc32(digits[--n]);
}

void print32(const char *fmt, ...)
{
	va_list ap;
	const char *s;

	va_start(ap, fmt);
	for (; *fmt; fmt++) {
		if (*fmt != '%') {
			putc32(*fmt);
			continue;
		}
		switch (*++fmt) {
		case 's':
			for (s = va_arg(ap, const char *); *s; s++)
				putc32(*s);
			break;
		case 'u': put_uint(va_arg(ap, uint32_t), 10); break;
		case 'x': put_uint(va_arg(ap, uint32_t), 16); break;
		case 'c': putc32((char)va_arg(ap, int)); break;
		case '%': putc32('%'); break;
		default: return;
		}
	}
	va_end(ap);
}

void print_hex64(uint64_t v)
{
	print32("0x");
	if (v >> 32) {
		put_uint((uint32_t)(v >> 32), 16);
		for (int shift = 28; shift >= 0; shift -= 4)
			putc32("0123456789abcdef"[((uint32_t)v >> shift) & 0xf]);
	} else {
		put_uint((uint32_t)v, 16);
	}
}

void exit32(unsigned code)
{
	__asm__ volatile("outl %0, %1" : : "a"(code), "Nd"((uint16_t)GUEST32_EXIT_PORT));
	for (;;)
		__asm__ volatile("cli; hlt");
}

void report_cpu_state(void)
{
	uint32_t cr0, eflags;

	__asm__ volatile("mov %%cr0, %0" : "=r"(cr0));
	__asm__ volatile("pushf; pop %0" : "=r"(eflags));
	print32("cpu: protected=%u paging=%u interrupts=%u\n", cr0 & 1, cr0 >> 31, (eflags >> 9) & 1);
}
