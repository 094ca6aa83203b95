/* nettest.c: virtio-net test guest: ARP and ping with the host end of its tap, and a measured send burst. */
#include "virtio.h"

#define BURST 32
#define ROUNDS 8

static struct vdev d;
static uint8_t mac[6], peer[6], frame[1600];
static const uint8_t my_ip[4] = { 10, 0, 2, 15 }, host_ip[4] = { 10, 0, 2, 1 };

static uint64_t rdtsc(void)
{
	uint32_t lo, hi;

	__asm__ volatile("rdtsc" : "=a"(lo), "=d"(hi));
	return (uint64_t)hi << 32 | lo;
}

/* An IPv4 packet to the host: ICMP echo (proto 1) or UDP to the discard port (proto 17). */
static unsigned ip_packet(uint8_t *f, uint8_t proto, uint16_t seq, unsigned payload)
{
	uint8_t *ip = f + 14, *l4 = ip + 20;
	unsigned l4len = 8 + payload, i;

	memcpy(f, peer, 6);
	memcpy(f + 6, mac, 6);
	net_put16be(f + 12, 0x0800);
	memset(ip, 0, 20);
	ip[0] = 0x45;
	net_put16be(ip + 2, (uint16_t)(20 + l4len));
	net_put16be(ip + 4, seq);
	ip[8] = 64;
	ip[9] = proto;
	memcpy(ip + 12, my_ip, 4);
	memcpy(ip + 16, host_ip, 4);
	net_put16be(ip + 10, net_csum(ip, 20));
	memset(l4, 0, 8);
	for (i = 0; i < payload; i++)
		l4[8 + i] = (uint8_t)i;
	if (proto == 1) {
		l4[0] = 8;
		net_put16be(l4 + 4, 0x1234);
		net_put16be(l4 + 6, seq);
		net_put16be(l4 + 2, net_csum(l4, l4len));
	} else {
		net_put16be(l4, 40000);
		net_put16be(l4 + 2, 9);
		net_put16be(l4 + 4, (uint16_t)l4len);
	}
	return 14 + 20 + l4len;
}

/* Waits about `secs` seconds (TSC, assumed near 1-3 GHz) for a frame that `want` accepts. */
static bool wait_frame(bool (*want)(const uint8_t *f, int len), unsigned secs)
{
	uint64_t end = rdtsc() + (uint64_t)secs * 2000000000ull;

	while (rdtsc() < end) {
		int len = vnet_recv(&d, frame, sizeof(frame));

		if (len > 0 && want(frame, len))
			return true;
		__asm__ volatile("pause");
	}
	return false;
}

static bool arp_reply_from_host(const uint8_t *f, int len)
{
	return net_arp_reply_from(f, len, host_ip, peer);
}

static bool is_echo_reply(const uint8_t *f, int len)
{
	return len >= 42 && f[12] == 0x08 && f[13] == 0x00 && f[23] == 1 && f[34] == 0 && !memcmp(f + 26, host_ip, 4);
}

/* BURST frames posted at once with one kick and one interrupt asked for, ROUNDS times. */
static int burst(void)
{
	struct vq *q = &d.q[1];
	uint8_t *bufs = dma_alloc(2048 * BURST, 64);
	unsigned r, i;

	if (!bufs)
		return -1;
	for (r = 0; r < ROUNDS; r++) {
		for (i = 0; i < BURST; i++) {
			uint8_t *b = bufs + 2048 * i;
			struct vbuf v = { b, 12 + ip_packet(b + 12, 17, (uint16_t)(r * BURST + i), 64), false };

			memset(b, 0, 12);
			if (vq_add(q, &v, 1) < 0)
				return -1;
		}
		vq_want_interrupt(q, BURST);
		vq_kick(q);
		vq_wait_used(q, BURST);
	}
	return 0;
}

int guest_main(const void *bootinfo)
{
	struct pci_fn fns[32];
	unsigned n = pci_enumerate(fns, 32), i, slot = 0, tries;
	bool got = false;

	for (i = 0; i < n; i++)
		if (fns[i].vendor == 0x1af4 && fns[i].device == 0x1041)
			slot = fns[i].slot;
	if (!slot || !dma_pool_init(bootinfo) || vnet_open(&d, slot, mac) < 0) {
		gprintf("nettest: no usable virtio-net (slot %u)\n", slot);
		return 3;
	}
	if (strstr(bootinfo_bootargs(bootinfo), "burst")) {
		uint64_t before = irq_count;

		/* Nothing else until the burst is over, so the timeline's window is the burst alone. */
		memset(peer, 0xff, 6);
		if (burst() < 0)
			return 7;
		gprintf("nettest: burst of %u frames sent with %lu interrupts\n", BURST * ROUNDS,
			(unsigned long)(irq_count - before));
		return 0;
	}
	gprintf("nettest: mac %02x:%02x:%02x:%02x:%02x:%02x\n", mac[0], mac[1], mac[2], mac[3], mac[4], mac[5]);
	/* The host may still be configuring its end of the tap: ask again until it answers. */
	for (tries = 0; tries < 30 && !got; tries++) {
		vnet_send(&d, frame, net_arp_request(frame, mac, my_ip, host_ip));
		got = wait_frame(arp_reply_from_host, 1);
	}
	if (!got) {
		gprintf("nettest: no ARP reply from 10.0.2.1\n");
		return 5;
	}
	gprintf("nettest: ARP reply from %02x:%02x:%02x:%02x:%02x:%02x\n", peer[0], peer[1], peer[2], peer[3],
		peer[4], peer[5]);
	for (tries = 0, got = false; tries < 5 && !got; tries++) {
		vnet_send(&d, frame, ip_packet(frame, 1, (uint16_t)tries, 56));
		got = wait_frame(is_echo_reply, 2);
	}
	gprintf("nettest: ping 10.0.2.1: %s\n", got ? "echo reply received" : "NO REPLY");
	return got ? 0 : 6;
}
