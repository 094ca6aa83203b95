/* virtio_dev.c: block, network and console helpers on the guest's virtio-pci driver, bouncing through the pool. */
#include "virtio.h"

#define BOUNCE 65536
#define NET_HDR 12
#define NET_RXBUF 2048
#define NET_RXN 16

/* Per-device scratch in the pool: what the device reads and writes never lives elsewhere. */
static struct {
	uint8_t *hdr, *status, *bounce;
} blk;
static struct {
	uint8_t *rx[NET_RXN];
	uint8_t *tx;
} net;
static uint8_t *cons_bounce;
/* Console input: a few small receive buffers, so that a stream of input runs the device out of them. */
#define CONS_RXBUF 256
#define CONS_RXN 8
static uint8_t *cons_rx[CONS_RXN];

/* Waits for the one chain in flight on q, sleeping on its interrupt. */
static int vq_wait(struct vq *q, uint32_t *len)
{
	for (;;) {
		uint64_t seen = irq_count;
		int head = vq_used(q, len);

		if (head >= 0)
			return head;
		irq_wait(seen);
	}
}

void vq_wait_used(struct vq *q, unsigned n)
{
	unsigned done = 0;

	while (done < n) {
		uint64_t seen = irq_count;

		while (vq_used(q, NULL) >= 0)
			done++;
		if (done < n)
			irq_wait(seen);
	}
}

/* Posts one chain on q and waits until the device has completed it. */
static int vq_submit_wait(struct vq *q, const struct vbuf *bufs, unsigned n)
{
	if (vq_add(q, bufs, n) < 0)
		return -1;
	vq_want_interrupt(q, 1);
	vq_kick(q);
	vq_wait(q, NULL);
	return 0;
}

static int vdev_start(struct vdev *d, unsigned slot, uint64_t want, unsigned nq)
{
	unsigned q;

	irq_init();
	if (vdev_init(d, slot, want | 1ull << VF_RING_EVENT_IDX) < 0)
		return -1;
	for (q = 0; q < nq; q++)
		if (vdev_queue(d, q, 128) < 0)
			return -1;
	vdev_driver_ok(d);
	return 0;
}

int vblk_open(struct vdev *d, unsigned slot, uint64_t *sectors)
{
	blk.hdr = dma_alloc(16, 16);
	blk.status = dma_alloc(1, 1);
	blk.bounce = dma_alloc(BOUNCE, 4096);
	if (!blk.hdr || !blk.status || !blk.bounce || vdev_start(d, slot,
						    1ull << 9 /* FLUSH */ | 1ull << 13 /* DISCARD */ |
							    1ull << 14 /* WRITE_ZEROES */,
						    1) < 0)
		return -1;
	*sectors = *(volatile uint64_t *)d->devcfg;
	return 0;
}

int vblk_request(struct vdev *d, uint32_t type, uint64_t sector, void *buf, uint32_t len)
{
	struct vbuf b[3];
	unsigned n = 0;
	bool in = type == VBLK_IN || type == VBLK_GET_ID;

	if (len > BOUNCE)
		return -1;
	memcpy(blk.hdr, &type, 4);
	memset(blk.hdr + 4, 0, 4);
	memcpy(blk.hdr + 8, &sector, 8);
	*blk.status = 0xff;
	b[n++] = (struct vbuf){ blk.hdr, 16, false };
	if (len) {
		if (!in)
			memcpy(blk.bounce, buf, len);
		b[n++] = (struct vbuf){ blk.bounce, len, in };
	}
	b[n++] = (struct vbuf){ blk.status, 1, true };
	if (vq_submit_wait(&d->q[0], b, n) < 0)
		return -1;
	if (in && len && *blk.status == VBLK_S_OK)
		memcpy(buf, blk.bounce, len);
	return *blk.status;
}

static void vnet_post_rx(struct vdev *d, unsigned i)
{
	struct vbuf b = { net.rx[i], NET_RXBUF, true };

	vq_add(&d->q[0], &b, 1);
}

int vnet_open(struct vdev *d, unsigned slot, uint8_t mac[6])
{
	unsigned i;

	for (i = 0; i < NET_RXN; i++)
		if (!(net.rx[i] = dma_alloc(NET_RXBUF, 64)))
			return -1;
	net.tx = dma_alloc(NET_RXBUF, 64);
	if (!net.tx || vdev_start(d, slot, 1ull << 5 /* MAC */ | 1ull << 16 /* STATUS */ | 1ull << 15 /* MRG_RXBUF */,
				 2) < 0)
		return -1;
	for (i = 0; i < 6; i++)
		mac[i] = d->devcfg[i];
	/* Descriptor heads are handed out in order on a fresh ring, so head i is buffer i. */
	for (i = 0; i < NET_RXN; i++)
		vnet_post_rx(d, i);
	vq_kick(&d->q[0]);
	return 0;
}

int vnet_send(struct vdev *d, const void *frame, uint32_t len)
{
	struct vbuf b = { net.tx, NET_HDR + len, false };

	if (len > NET_RXBUF - NET_HDR)
		return -1;
	memset(net.tx, 0, NET_HDR);
	memcpy(net.tx + NET_HDR, frame, len);
	return vq_submit_wait(&d->q[1], &b, 1);
}

int vnet_rx_peek(struct vdev *d, const uint8_t **frame, uint32_t *len)
{
	uint32_t used = 0;
	int head = vq_used(&d->q[0], &used);

	if (head < 0 || head >= NET_RXN)
		return -1;
	*frame = net.rx[head] + NET_HDR;
	*len = used > NET_HDR ? used - NET_HDR : 0;
	if (*len > NET_RXBUF - NET_HDR)
		*len = NET_RXBUF - NET_HDR;
	return head;
}

void vnet_rx_release(struct vdev *d, int buf)
{
	if (buf < 0 || buf >= NET_RXN)
		return;
	vnet_post_rx(d, (unsigned)buf);
	vq_kick(&d->q[0]);
}

int vnet_recv(struct vdev *d, void *buf, uint32_t max)
{
	const uint8_t *frame;
	uint32_t len;
	int b = vnet_rx_peek(d, &frame, &len);

	if (b < 0)
		return -1;
	if (len > max)
		len = max;
	memcpy(buf, frame, len);
	vnet_rx_release(d, b);
	return (int)len;
}

static void vcons_post_rx(struct vdev *d, unsigned i)
{
	struct vbuf b = { cons_rx[i], CONS_RXBUF, true };

	vq_add(&d->q[0], &b, 1);
}

int vcons_open(struct vdev *d, unsigned slot)
{
	unsigned i;

	cons_bounce = dma_alloc(BOUNCE, 64);
	if (!cons_bounce)
		return -1;
	for (i = 0; i < CONS_RXN; i++)
		if (!(cons_rx[i] = dma_alloc(CONS_RXBUF, 64)))
			return -1;
	if (vdev_start(d, slot, 0, 2) < 0)
		return -1;
	/* Descriptor heads are handed out in order on a fresh ring, so head i is buffer i (as for the network). */
	for (i = 0; i < CONS_RXN; i++)
		vcons_post_rx(d, i);
	vq_kick(&d->q[0]);
	return 0;
}

int vcons_read(struct vdev *d, void *buf, uint32_t max)
{
	uint32_t len = 0;
	int head;

	for (;;) {
		uint64_t seen = irq_count;

		vq_want_interrupt(&d->q[0], 1);
		head = vq_used(&d->q[0], &len);
		if (head >= 0)
			break;
		irq_wait(seen);
	}
	if (head >= CONS_RXN)
		return -1;
	if (len > CONS_RXBUF)
		len = CONS_RXBUF;
	if (len > max)
		len = max;
	memcpy(buf, cons_rx[head], len);
	/* One buffer back at a time, as a line-at-a-time driver does: the device must ask for this kick. */
	vcons_post_rx(d, (unsigned)head);
	vq_kick(&d->q[0]);
	return (int)len;
}

int vcons_write(struct vdev *d, const char *s, uint32_t len)
{
	struct vbuf b = { cons_bounce, len, false };

	if (len > BOUNCE)
		return -1;
	memcpy(cons_bounce, s, len);
	return vq_submit_wait(&d->q[1], &b, 1);
}
