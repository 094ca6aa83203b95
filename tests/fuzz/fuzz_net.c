/* fuzz_net.c: libFuzzer target: virtio-net receive and transmit (rings, buffers, MRG_RXBUF) with frames from a fake tap. */
#include "dev_glue.h"

/*
 * The device's queue handlers are static: the target compiles the device in.
 * The tap is a SOCK_SEQPACKET socket pair, which keeps frame boundaries the
 * way a tap's read() and writev() do.
 */
#include "../../devices/virtio_net.c"

#include <sys/socket.h>

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

#define MAX_FRAMES 4

static int wire = -1;  /* the far end of the tap: what the host network sends and receives */

static void net_setup(void)
{
	struct cloak_err err;
	int sv[2];

	if (socketpair(AF_UNIX, SOCK_SEQPACKET | SOCK_NONBLOCK | SOCK_CLOEXEC, 0, sv) < 0)
		abort();
	net = (struct vnet){ .tap = sv[0] };
	wire = sv[1];
	memcpy(net.mac, "\x52\x54\x00\x12\x34\x56", 6);
	net.frame = malloc(NET_FRAME_MAX);
	net.req = malloc(sizeof(*net.req));
	net.req0 = malloc(sizeof(*net.req0));
	if (!net.frame || !net.req || !net.req0 || virtio_pci_init(&net.vd, fuzz_host(), &net_ops, "virtio-net0", &net, &err) < 0)
		abort();
	net.attached = true;
}

static void drain(int fd)
{
	static uint8_t sink[NET_FRAME_MAX];

	while (recv(fd, sink, sizeof(sink), 0) >= 0)
		;
}

/*
 * The input: the driver header (dev_glue.h); a byte giving the number of
 * frames (mod MAX_FRAMES + 1) and a little-endian u16 length per frame; the
 * frames; then guest memory from address 0.
 */
int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	const uint8_t *p = data + FUZZ_DEV_HDR, *end = data + size;
	uint16_t lens[MAX_FRAMES];
	unsigned i, nframes;

	if (size < FUZZ_DEV_HDR + 1 + 2 * MAX_FRAMES)
		return 0;
	if (wire < 0)
		net_setup();
	drain(net.tap);
	drain(wire);
	nframes = *p++ % (MAX_FRAMES + 1);
	for (i = 0; i < MAX_FRAMES; i++, p += 2)
		lens[i] = (uint16_t)(p[0] | p[1] << 8);
	for (i = 0; i < nframes; i++) {
		size_t n = lens[i] < (size_t)(end - p) ? lens[i] : (size_t)(end - p);

		/* A frame larger than the socket takes is lost, as on a congested wire. */
		(void)send(wire, p, n, 0);
		p += n;
	}
	fuzz_host_load(p, (size_t)(end - p), data[0] & FUZZ_F_HALF_SHARED);
	fuzz_driver_start(&net.vd, data, (data[0] & FUZZ_F_DEVICE) ? 1ull << VIRTIO_NET_F_MRG_RXBUF : 0);
	fuzz_driver_kick(&net.vd, NET_TX);
	fuzz_driver_kick(&net.vd, NET_RX);
	/* The guest posts buffers late: a held-back frame goes on the next kick. */
	fuzz_driver_kick(&net.vd, NET_RX);
	return 0;
}
