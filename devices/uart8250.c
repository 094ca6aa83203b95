/* uart8250.c: COM1, a 16550-style UART: output to stdout, input from stdin (terminal or pipe). */
#include "devices.h"

#include <errno.h>
#include <poll.h>
#include <stdio.h>
#include <string.h>
#include <sys/stat.h>
#include <termios.h>
#include <unistd.h>

#define UART_RBR 0  /* receive (read, DLAB=0) */
#define UART_THR 0  /* transmit (write, DLAB=0) */
#define UART_IER 1
#define UART_IIR 2  /* read */
#define UART_FCR 2  /* write */
#define UART_LCR 3
#define UART_MCR 4
#define UART_LSR 5
#define UART_MSR 6
#define UART_SCR 7

#define IER_RDI 0x01
#define IER_THRI 0x02
#define IIR_NO_INT 0x01
#define IIR_THRI 0x02
#define IIR_RDI 0x04
#define IIR_FIFO 0xc0
#define LCR_DLAB 0x80
#define MCR_LOOP 0x10
#define LSR_DR 0x01
#define LSR_THRE 0x20
#define LSR_TEMT 0x40
#define MSR_DCD 0x80
#define MSR_DSR 0x20
#define MSR_CTS 0x10

#define RX_SIZE 1024
#define TX_SIZE 4096

struct uart {
	struct dev_host *host;
	pthread_mutex_t lock;
	uint8_t ier, lcr, mcr, scr, fcr, dll, dlm;
	bool thri_pending;
	int irq_level;
	uint8_t rx[RX_SIZE];
	unsigned rx_head, rx_count;
	char tx[TX_SIZE];
	size_t tx_len;
	/* stdin */
	bool input;
	int wake[2];
	pthread_t reader;
	bool tty_raw;
	struct termios saved_tty;
};

static struct uart com1;

static void uart_flush_locked(struct uart *u)
{
	size_t off = 0;

	while (off < u->tx_len) {
		ssize_t n = write(STDOUT_FILENO, u->tx + off, u->tx_len - off);

		if (n < 0 && errno == EINTR)
			continue;
		if (n <= 0)
			break;  /* stdout gone: the guest's output has nowhere to go; drop it */
		off += (size_t)n;
	}
	u->tx_len = 0;
}

/* The IRQ line follows the highest-priority pending condition, as on a 16550. */
static uint8_t uart_iir_locked(const struct uart *u)
{
	if ((u->ier & IER_RDI) && u->rx_count)
		return IIR_RDI;
	if ((u->ier & IER_THRI) && u->thri_pending)
		return IIR_THRI;
	return IIR_NO_INT;
}

static void uart_update_irq_locked(struct uart *u)
{
	int level = uart_iir_locked(u) != IIR_NO_INT;

	if (level != u->irq_level) {
		u->irq_level = level;
		u->host->ops->irq_line(u->host->ctx, IRQ_COM1, level);
	}
}

static void uart_write_reg(struct uart *u, unsigned reg, uint8_t v)
{
	switch (reg) {
	case UART_THR:
		if (u->lcr & LCR_DLAB) {
			u->dll = v;
			break;
		}
		if (u->mcr & MCR_LOOP) {
			if (u->rx_count < RX_SIZE)
				u->rx[(u->rx_head + u->rx_count++) % RX_SIZE] = v;
		} else {
			u->tx[u->tx_len++] = (char)v;
			if (v == '\n' || u->tx_len == TX_SIZE)
				uart_flush_locked(u);
		}
		/* Transmission is instant, so the holding register is empty again at once. */
		u->thri_pending = true;
		break;
	case UART_IER:
		if (u->lcr & LCR_DLAB) {
			u->dlm = v;
			break;
		}
		if (!(u->ier & IER_THRI) && (v & IER_THRI))
			u->thri_pending = true;
		u->ier = v & 0x0f;
		break;
	case UART_FCR:
		u->fcr = v;
		if (v & 0x02) {
			u->rx_count = 0;
			if (u->input)
				(void)!write(u->wake[1], "", 1);  /* room again for input that waits */
		}
		break;
	case UART_LCR: u->lcr = v; break;
	case UART_MCR: u->mcr = v & 0x1f; break;
	case UART_SCR: u->scr = v; break;
	default: break;
	}
	uart_update_irq_locked(u);
}

static uint8_t uart_read_reg(struct uart *u, unsigned reg)
{
	uint8_t v = 0;

	switch (reg) {
	case UART_RBR:
		if (u->lcr & LCR_DLAB)
			return u->dll;
		if (u->rx_count) {
			v = u->rx[u->rx_head];
			u->rx_head = (u->rx_head + 1) % RX_SIZE;
			u->rx_count--;
			if (!u->rx_count && u->input)
				(void)!write(u->wake[1], "", 1);  /* room again: let the reader go on */
		}
		break;
	case UART_IER: return (u->lcr & LCR_DLAB) ? u->dlm : u->ier;
	case UART_IIR:
		v = uart_iir_locked(u) | ((u->fcr & 1) ? IIR_FIFO : 0);
		if ((v & 0x0f) == IIR_THRI)
			u->thri_pending = false;
		break;
	case UART_LCR: return u->lcr;
	case UART_MCR: return u->mcr;
	case UART_LSR: v = LSR_THRE | LSR_TEMT | (u->rx_count ? LSR_DR : 0); break;
	case UART_MSR: v = (u->mcr & MCR_LOOP) ? 0 : (MSR_DCD | MSR_DSR | MSR_CTS); break;
	case UART_SCR: return u->scr;
	}
	uart_update_irq_locked(u);
	return v;
}

static void uart_io(void *opaque, uint64_t port, bool is_write, uint8_t *data, unsigned size)
{
	struct uart *u = opaque;
	unsigned reg = port - PORT_COM1;

	pthread_mutex_lock(&u->lock);
	if (is_write)
		uart_write_reg(u, reg, data[0]);
	else
		data[0] = uart_read_reg(u, reg);
	pthread_mutex_unlock(&u->lock);
	if (!is_write && size > 1)
		memset(data + 1, 0xff, size - 1);
}

/*
 * Feeds stdin to the guest, waiting while the receive buffer is full so nothing
 * is dropped. Room is checked under the lock for every byte put in, not once
 * before the read: the guest's loopback writes fill the same buffer meanwhile,
 * and bytes that do not fit wait here until the guest has read the buffer empty.
 */
static void *uart_reader(void *opaque)
{
	struct uart *u = opaque;
	uint8_t buf[256];
	size_t have = 0, off = 0;  /* buf[off..have): read from stdin, not yet in the receive buffer */

	(void)devhost_thread_enter(u->host, DEV_THREAD_CONSOLE_READER);
	for (;;) {
		struct pollfd p[2] = { { STDIN_FILENO, POLLIN, 0 }, { u->wake[0], POLLIN, 0 } };
		ssize_t n;
		char c;

		pthread_mutex_lock(&u->lock);
		while (off < have && u->rx_count < RX_SIZE)
			u->rx[(u->rx_head + u->rx_count++) % RX_SIZE] = buf[off++];
		uart_update_irq_locked(u);
		pthread_mutex_unlock(&u->lock);
		if (off == have)
			off = have = 0;
		if (have)
			p[0].fd = -1;  /* no room: wait for the guest to empty the buffer (the wake pipe) */
		if (poll(p, 2, -1) < 0) {
			if (errno == EINTR)
				continue;
			break;
		}
		if (p[1].revents) {
			if (read(u->wake[0], &c, 1) != 1 || c == 'q')
				break;
			continue;
		}
		if (!p[0].revents)
			continue;
		n = read(STDIN_FILENO, buf, sizeof(buf));
		if (n <= 0)
			break;  /* end of input: the guest just sees no more bytes */
		have = (size_t)n;
	}
	return NULL;
}

static bool stdin_is_input(void)
{
	struct stat st;

	if (fstat(STDIN_FILENO, &st) < 0)
		return false;
	return isatty(STDIN_FILENO) || S_ISFIFO(st.st_mode) || S_ISSOCK(st.st_mode);
}

static int uart_init(struct dev_host *host, struct cloak_err *err)
{
	struct uart *u = &com1;
	int rc;

	memset(u, 0, sizeof(*u));
	u->host = host;
	u->wake[0] = u->wake[1] = -1;
	pthread_mutex_init(&u->lock, NULL);
	if (devhost_io_register(host, DEV_SPACE_PIO, PORT_COM1, 8, "COM1", uart_io, u, err) < 0)
		return -1;
	if (!stdin_is_input())
		return 0;
	if (pipe(u->wake) < 0)
		return err_errno(err, "pipe");
	if (isatty(STDIN_FILENO) && tcgetattr(STDIN_FILENO, &u->saved_tty) == 0) {
		struct termios raw = u->saved_tty;

		/* Keys go to the guest as typed; ISIG stays so Ctrl-C still stops cloak. */
		raw.c_lflag &= ~(tcflag_t)(ICANON | ECHO);
		raw.c_iflag &= ~(tcflag_t)(ICRNL | IXON);
		raw.c_cc[VMIN] = 1;
		raw.c_cc[VTIME] = 0;
		if (tcsetattr(STDIN_FILENO, TCSANOW, &raw) == 0)
			u->tty_raw = true;
	}
	rc = pthread_create(&u->reader, NULL, uart_reader, u);
	if (rc) {
		errno = rc;
		return err_errno(err, "cannot start the console input thread (pthread_create)");
	}
	u->input = true;
	return 0;
}

static void uart_fini(struct dev_host *host)
{
	struct uart *u = &com1;

	(void)host;
	if (u->input) {
		(void)!write(u->wake[1], "q", 1);
		pthread_join(u->reader, NULL);
		u->input = false;
	}
	if (u->tty_raw)
		tcsetattr(STDIN_FILENO, TCSANOW, &u->saved_tty);
	if (u->wake[0] >= 0) {
		close(u->wake[0]);
		close(u->wake[1]);
	}
	pthread_mutex_lock(&u->lock);
	uart_flush_locked(u);
	pthread_mutex_unlock(&u->lock);
}

const struct device_ops uart8250_device = { .name = "COM1", .init = uart_init, .fini = uart_fini };
