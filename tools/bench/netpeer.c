/* netpeer.c: the I/O benchmark guest's peer on the tap's host end: sends it the UDP frames it asks for, a window at a time (its net-rx test). */
#include <arpa/inet.h>
#include <errno.h>
#include <netinet/in.h>
#include <poll.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <unistd.h>

/*
 * The protocol (firmware/bench/iobench.c is the other end). The guest sends a 20-byte datagram:
 *   "cloakrx1", type (1 start, 2 acknowledge), value, window    (32-bit big-endian numbers)
 * start: value frames are wanted; acknowledge: the guest has seen frames up to value (its highest
 * sequence number + 1). The peer keeps at most `window` frames beyond what was acknowledged on the way,
 * so that the tap's queue never overflows; an acknowledgement that does not advance (the guest waited in
 * vain: the window's tail was lost) opens a new window. Each frame is 1472 bytes of UDP payload:
 *   "cloakrxd", sequence number, total, then a byte pattern.
 */
#define PAYLOAD 1472
#define MAX_WINDOW 256

static uint32_t get32(const unsigned char *p)
{
	return (uint32_t)p[0] << 24 | (uint32_t)p[1] << 16 | (uint32_t)p[2] << 8 | p[3];
}

static void put32(unsigned char *p, uint32_t v)
{
	p[0] = (unsigned char)(v >> 24);
	p[1] = (unsigned char)(v >> 16);
	p[2] = (unsigned char)(v >> 8);
	p[3] = (unsigned char)v;
}

static unsigned long number(const char *arg, const char *what, unsigned long max)
{
	char *end;
	unsigned long v;

	errno = 0;
	v = strtoul(arg, &end, 10);
	if (errno || end == arg || *end || v == 0 || v > max) {
		fprintf(stderr, "cloak-netpeer: %s '%s' is not a number from 1 to %lu\n", what, arg, max);
		exit(2);
	}
	return v;
}

int main(int argc, char **argv)
{
	struct sockaddr_in me = { .sin_family = AF_INET, .sin_addr.s_addr = htonl(INADDR_ANY) }, guest = { 0 };
	unsigned long idle_s;
	uint32_t total = 0, next = 0, acked = 0, window = 64;
	unsigned long starts = 0, sent = 0, dropped = 0;
	unsigned char frame[PAYLOAD];
	int fd;

	if (argc != 3) {
		fprintf(stderr, "usage: cloak-netpeer PORT IDLE_SECONDS\n"
				"  answers the I/O benchmark guest's net-rx test on UDP PORT (iobench: 9000);\n"
				"  exits 0 after IDLE_SECONDS without a request\n");
		return 2;
	}
	me.sin_port = htons((uint16_t)number(argv[1], "PORT", 65535));
	idle_s = number(argv[2], "IDLE_SECONDS", 86400);
	fd = socket(AF_INET, SOCK_DGRAM, 0);
	if (fd < 0 || bind(fd, (struct sockaddr *)&me, sizeof(me)) < 0) {
		fprintf(stderr, "cloak-netpeer: socket/bind UDP port %s: %s (is another peer running?)\n", argv[1],
			strerror(errno));
		return 1;
	}
	for (unsigned i = 0; i < PAYLOAD; i++)
		frame[i] = (unsigned char)(i * 7);
	memcpy(frame, "cloakrxd", 8);
	for (;;) {
		struct pollfd pf = { .fd = fd, .events = POLLIN };
		unsigned char req[64];
		struct sockaddr_in from;
		socklen_t fl = sizeof(from);
		ssize_t n;
		uint32_t type, value;
		int r = poll(&pf, 1, (int)(idle_s * 1000));

		if (r < 0 && errno == EINTR)
			continue;
		if (r < 0) {
			fprintf(stderr, "cloak-netpeer: poll: %s\n", strerror(errno));
			return 1;
		}
		if (r == 0)
			break;
		n = recvfrom(fd, req, sizeof(req), 0, (struct sockaddr *)&from, &fl);
		if (n < 20 || memcmp(req, "cloakrx1", 8))
			continue;  /* not ours: ignored */
		type = get32(req + 8);
		value = get32(req + 12);
		if (type == 1) {
			total = value;
			window = get32(req + 16);
			if (window == 0 || window > MAX_WINDOW)
				window = MAX_WINDOW;
			next = acked = 0;
			guest = from;
			starts++;
		} else if (type == 2 && from.sin_addr.s_addr == guest.sin_addr.s_addr && from.sin_port == guest.sin_port) {
			if (value > acked)
				acked = value;
			else
				acked = next;  /* the guest waited in vain: what it lacks is lost, send on */
		} else {
			continue;
		}
		while (next < total && next < acked + window) {
			put32(frame + 8, next);
			put32(frame + 12, total);
			if (sendto(fd, frame, PAYLOAD, 0, (struct sockaddr *)&guest, sizeof(guest)) < 0)
				dropped++;
			else
				sent++;
			next++;
		}
	}
	fprintf(stderr, "cloak-netpeer: idle for %lu s: %lu requests, %lu frames sent, %lu not sent\n", idle_s,
		starts, sent, dropped);
	return 0;
}
