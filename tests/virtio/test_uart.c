/* test_uart.c: COM1 with stdin on a pipe: input and the guest's loopback bytes share the receive buffer. */
#include "vt.h"

#include "devices.h"
#include "fake_host.h"

#include <time.h>
#include <unistd.h>

#define UART_RBR 0
#define UART_MCR 4
#define UART_LSR 5
#define MCR_LOOP 0x10
#define LSR_DR 0x01
#define RX_SIZE 1024  /* the UART's receive buffer */

static struct fake_host fh;
static struct vm_config cfg;
static uint8_t ram[4096];

/* COM1 as the UART registered it with the host: the only range it claims. */
static void port_access(unsigned reg, bool is_write, uint8_t *v)
{
	ck_assert_uint_eq(fh.nranges, 1);
	ck_assert_uint_eq(fh.ranges[0].base, PORT_COM1);
	fh.ranges[0].fn(fh.ranges[0].opaque, PORT_COM1 + reg, is_write, v, 1);
}

static void port_write(unsigned reg, uint8_t v)
{
	port_access(reg, true, &v);
}

static uint8_t port_read(unsigned reg)
{
	uint8_t v = 0;

	port_access(reg, false, &v);
	return v;
}

static void sleep_ms(long ms)
{
	nanosleep(&(struct timespec){ ms / 1000, (ms % 1000) * 1000000 }, NULL);
}

/*
 * The reader waits in poll with the buffer empty; the guest then fills it
 * almost full through loopback, and 100 bytes arrive on stdin. They must all
 * reach the guest, after the loopback bytes and in order, and none of the
 * loopback bytes may be overwritten.
 */
START_TEST(stdin_and_loopback_share_the_buffer)
{
	static uint8_t got[2 * RX_SIZE];
	struct cloak_err err;
	int p[2], saved = dup(STDIN_FILENO);
	unsigned i, n = 0, loops = 1000, input = 100, tries;
	uint8_t in[100];

	ck_assert_int_eq(pipe(p), 0);
	ck_assert_int_eq(dup2(p[0], STDIN_FILENO), STDIN_FILENO);
	config_defaults(&cfg);
	fake_host_init(&fh, ram, sizeof(ram), false, &cfg);
	ck_assert_msg(uart8250_device.init(&fh.host, &err) == 0, "%s", err.msg);
	sleep_ms(100);  /* the reader is in poll now, having seen an empty buffer */

	port_write(UART_MCR, MCR_LOOP);
	for (i = 0; i < loops; i++)
		port_write(UART_RBR, (uint8_t)(i % 200));
	for (i = 0; i < input; i++)
		in[i] = (uint8_t)(200 + i % 50);
	ck_assert_int_eq(write(p[1], in, input), (ssize_t)input);
	sleep_ms(200);

	for (tries = 0; tries < 100 && n < loops + input; tries++) {
		while ((port_read(UART_LSR) & LSR_DR) && n < sizeof(got))
			got[n++] = port_read(UART_RBR);
		if (n < loops + input)
			sleep_ms(20);  /* the rest of stdin's bytes follow once the buffer is empty */
	}
	ck_assert_uint_eq(n, loops + input);
	for (i = 0; i < loops; i++)
		ck_assert_msg(got[i] == i % 200, "loopback byte %u was overwritten (0x%02x)", i, got[i]);
	ck_assert_msg(!memcmp(got + loops, in, input), "stdin's bytes arrived damaged or out of order");

	uart8250_device.fini(&fh.host);
	fake_host_fini(&fh);
	dup2(saved, STDIN_FILENO);
	close(saved);
	close(p[0]);
	close(p[1]);
}
END_TEST

Suite *uart_suite(void)
{
	Suite *s = suite_create("uart");
	TCase *tc = tcase_create("com1");

	tcase_add_test(tc, stdin_and_loopback_share_the_buffer);
	suite_add_tcase(s, tc);
	return s;
}
