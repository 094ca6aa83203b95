/* nethostile.c: a guest that lies to virtio-net's receive queue: a used ring on the avail ring, bad chains among good buffers. */
#include "virtio.h"

#define QS 8
#define NET_HDR 12
#define DESC_F_NEXT 1
#define DESC_F_WRITE 2
#define F_MAC (1ull << 5)
#define F_MRG_RXBUF (1ull << 15)
#define STATUS_NEEDS_RESET 0x40

static struct vdev d;
static uint8_t mac[6];
static const uint8_t my_ip[4] = { 10, 0, 2, 15 }, host_ip[4] = { 10, 0, 2, 1 };

static uint64_t rdtsc(void)
{
	uint32_t lo, hi;

	__asm__ volatile("rdtsc" : "=a"(lo), "=d"(hi));
	return (uint64_t)hi << 32 | lo;
}

/* About `ms` milliseconds (TSC, assumed near 1-3 GHz). */
static void delay_ms(unsigned ms)
{
	uint64_t end = rdtsc() + (uint64_t)ms * 2000000ull;

	while (rdtsc() < end)
		__asm__ volatile("pause");
}

static uint16_t used_idx(struct vq *q)
{
	return *(volatile uint16_t *)(q->used + 2);
}

/* Waits up to `ms` for the used index of q to reach `want`; true when it did. */
static bool wait_used(struct vq *q, uint16_t want, unsigned ms)
{
	uint64_t end = rdtsc() + (uint64_t)ms * 2000000ull;

	while ((uint16_t)(used_idx(q) - want) > 0x8000u && rdtsc() < end)
		__asm__ volatile("pause");
	return (uint16_t)(used_idx(q) - want) <= 0x8000u;
}

static void post(struct vq *q, uint16_t head)
{
	q->avail[2 + q->avail_idx % q->size] = head;
	__asm__ volatile("mfence" ::: "memory");
	q->avail_idx++;
	q->avail[1] = q->avail_idx;
	*q->notify = q->index;
}

/* Receive queue 0 on rings the caller chose, set up as vdev_queue does but without its checks. */
static void rx_queue_at(volatile struct vq_desc *desc, volatile uint16_t *avail, volatile uint8_t *used)
{
	volatile uint8_t *c = d.common;
	struct vq *q = &d.q[0];

	*(volatile uint16_t *)(c + 0x16) = 0;  /* queue_select */
	*(volatile uint16_t *)(c + 0x18) = QS;
	*(volatile uint16_t *)(c + 0x1a) = 0xffff;  /* no MSI-X vector: this guest polls */
	*(volatile uint32_t *)(c + 0x20) = (uint32_t)(uintptr_t)desc;
	*(volatile uint32_t *)(c + 0x24) = 0;
	*(volatile uint32_t *)(c + 0x28) = (uint32_t)(uintptr_t)avail;
	*(volatile uint32_t *)(c + 0x2c) = 0;
	*(volatile uint32_t *)(c + 0x30) = (uint32_t)(uintptr_t)used;
	*(volatile uint32_t *)(c + 0x34) = 0;
	*(volatile uint16_t *)(c + 0x1c) = 1;
	memset(q, 0, sizeof(*q));
	q->index = 0;
	q->size = QS;
	q->desc = desc;
	q->avail = avail;
	q->used = used;
	q->notify = (volatile uint16_t *)(d.notify_base + *(volatile uint16_t *)(c + 0x1e) * d.notify_mult);
}

/* An ARP request for the host end of the tap: its reply is the frame that drives the receive path. */
static int send_arp(void)
{
	struct vq *q = &d.q[1];
	uint8_t *b = dma_alloc(NET_HDR + 42, 64), *f;
	struct vbuf v;

	if (!b)
		return -1;
	f = b + NET_HDR;
	memset(f, 0xff, 6);
	memcpy(f + 6, mac, 6);
	/* EtherType ARP; hardware Ethernet, protocol IPv4, address sizes 6 and 4; operation request. */
	memcpy(f + 12, (const uint8_t[]){ 0x08, 0x06, 0, 1, 0x08, 0x00, 6, 4, 0, 1 }, 10);
	memcpy(f + 22, mac, 6);
	memcpy(f + 28, my_ip, 4);
	memcpy(f + 38, host_ip, 4);
	v = (struct vbuf){ b, NET_HDR + 42, false };
	if (vq_add(q, &v, 1) < 0)
		return -1;
	vq_kick(q);
	return wait_used(q, q->avail_idx, 5000) ? 0 : -1;
}

static int open_net(unsigned slot)
{
	unsigned i;

	if (vdev_init(&d, slot, F_MAC | F_MRG_RXBUF) < 0)
		return -1;
	for (i = 0; i < 6; i++)
		mac[i] = d.devcfg[i];
	return 0;
}

int guest_main(const void *bootinfo)
{
	struct pci_fn fns[32];
	unsigned n = pci_enumerate(fns, 32), i, slot = 0, bad = 0, small_n = 0, big_n = 0;
	volatile struct vq_desc *desc;
	volatile uint16_t *ring;
	uint8_t *small, *big;
	struct vq *q;
	uint16_t nbuf, end;
	uint8_t st;

	for (i = 0; i < n; i++)
		if (fns[i].vendor == 0x1af4 && fns[i].device == 0x1041)
			slot = fns[i].slot;
	if (!slot || !dma_pool_init(bootinfo) || open_net(slot) < 0) {
		gprintf("nethostile: no usable virtio-net\n");
		return 3;
	}

	/*
	 * 1. The receive used ring on its own avail ring. Were it accepted, every
	 * completion of a bad chain would make one more request available, and a
	 * received frame would keep the device busy forever.
	 */
	desc = dma_alloc(16 * QS, 16);
	ring = dma_alloc(4096, 4096);
	small = dma_alloc(2048, 64);
	big = dma_alloc(2048, 64);
	if (!desc || !ring || !small || !big)
		return 3;
	rx_queue_at(desc, ring, (volatile uint8_t *)ring);
	if (vdev_queue(&d, 1, QS) < 0)
		return 3;
	vdev_driver_ok(&d);
	st = vdev_status(&d);
	gprintf("nethostile: used ring on the avail ring: device status 0x%x%s\n", st,
		st & STATUS_NEEDS_RESET ? " (NEEDS_RESET)" : "");
	if (!(st & STATUS_NEEDS_RESET)) {
		desc[0] = (struct vq_desc){ (uintptr_t)small, 16, DESC_F_NEXT | DESC_F_WRITE, 1 };
		desc[1] = (struct vq_desc){ (uintptr_t)big, 16, DESC_F_NEXT | DESC_F_WRITE, 0 };
		for (i = 0; i < 4; i++)
			post(&d.q[0], 0);
		/* The reply needs more than the looping chain; a kick then makes the device look again. */
		send_arp();
		delay_ms(1000);
		*d.q[0].notify = 0;
		delay_ms(1000);
	}

	/*
	 * 2. After a reset, proper rings: a looping chain, then a buffer too small
	 * for the frame. The device fails the chain once and keeps the small
	 * buffer; with a large one posted later the frame spans both.
	 */
	if (open_net(slot) < 0 || vdev_queue(&d, 0, QS) < 0 || vdev_queue(&d, 1, QS) < 0) {
		gprintf("nethostile: the device did not come back after a reset\n");
		return 4;
	}
	vdev_driver_ok(&d);
	q = &d.q[0];
	q->desc[2] = (struct vq_desc){ (uintptr_t)big, 16, DESC_F_NEXT | DESC_F_WRITE, 3 };
	q->desc[3] = (struct vq_desc){ (uintptr_t)big + 16, 16, DESC_F_NEXT | DESC_F_WRITE, 2 };
	q->desc[0] = (struct vq_desc){ (uintptr_t)small, 20, DESC_F_WRITE, 0 };
	post(q, 2);
	post(q, 0);
	if (send_arp() < 0) {
		gprintf("nethostile: the ARP request was not sent\n");
		return 5;
	}
	if (!wait_used(q, 1, 10000))
		gprintf("nethostile: no frame arrived\n");
	delay_ms(500);  /* the device has taken the small buffer and waits for more */
	q->desc[1] = (struct vq_desc){ (uintptr_t)big, 2048, DESC_F_WRITE, 0 };
	post(q, 1);
	wait_used(q, 3, 10000);
	delay_ms(500);  /* room for a completion that should not come */
	end = used_idx(q);
	for (i = 0; i < (uint16_t)end && i < QS; i++) {
		uint32_t id = *(volatile uint32_t *)(q->used + 4 + 8 * i);

		if (id == 2)
			bad++;
		else if (id == 0)
			small_n++;
		else if (id == 1)
			big_n++;
	}
	memcpy(&nbuf, small + 10, 2);
	gprintf("nethostile: bad chain completed %u time(s); small buffer %u, large buffer %u; num_buffers %u\n", bad,
		small_n, big_n, nbuf);
	gprintf("nethostile: done, waiting to be stopped\n");
	/* Not hlt: with interrupts off that would power the machine off. */
	for (;;)
		__asm__ volatile("pause");
}
