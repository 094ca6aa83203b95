/* console.c: COM1 output and input, and a small printf for guests. */
#include "guest.h"

#define LSR 5
#define LSR_DR 0x01
#define LSR_THRE 0x20

void serial_putc(char c)
{
	while (!(inb(GUEST_PORT_COM1 + LSR) & LSR_THRE))
		;
	outb(GUEST_PORT_COM1, (uint8_t)c);
}

void serial_puts(const char *s)
{
	while (*s)
		serial_putc(*s++);
}

bool serial_can_read(void)
{
	return inb(GUEST_PORT_COM1 + LSR) & LSR_DR;
}

char serial_getc(void)
{
	while (!serial_can_read())
		;
	return (char)inb(GUEST_PORT_COM1);
}

static void put_uint(unsigned long long v, unsigned base, int width, char pad)
{
	char buf[24];
	int n = 0;

	do {
		unsigned d = (unsigned)(v % base);

		buf[n++] = (char)(d < 10 ? '0' + d : 'a' + d - 10);
		v /= base;
	} while (v);
	while (n < width--)
		serial_putc(pad);
	while (n)
		serial_putc(buf[--n]);
}

void gvprintf(const char *fmt, va_list ap)
{
	for (; *fmt; fmt++) {
		int longs = 0, width = 0;
		char pad = ' ';

		if (*fmt != '%') {
			serial_putc(*fmt);
			continue;
		}
		fmt++;
		if (*fmt == '0')
			pad = '0';
		while (*fmt >= '0' && *fmt <= '9')
			width = width * 10 + (*fmt++ - '0');
		while (*fmt == 'l') {
			longs++;
			fmt++;
		}
		switch (*fmt) {
		case 's': {
			const char *s = va_arg(ap, const char *);

			serial_puts(s ? s : "(null)");
			break;
		}
		case 'c': serial_putc((char)va_arg(ap, int)); break;
		case 'd': {
			long long v = longs ? va_arg(ap, long long) : va_arg(ap, int);

			if (v < 0) {
				serial_putc('-');
				v = -v;
			}
			put_uint((unsigned long long)v, 10, width, pad);
			break;
		}
		case 'u':
		case 'x': {
			unsigned long long v = longs ? va_arg(ap, unsigned long long) : va_arg(ap, unsigned);

			put_uint(v, *fmt == 'u' ? 10 : 16, width, pad);
			break;
		}
		case 'p':
			serial_puts("0x");
			put_uint((unsigned long long)(uintptr_t)va_arg(ap, void *), 16, width, pad);
			break;
		case '%': serial_putc('%'); break;
		default: serial_putc('?'); break;
		}
	}
}

void gprintf(const char *fmt, ...)
{
	va_list ap;

	va_start(ap, fmt);
	gvprintf(fmt, ap);
	va_end(ap);
}
