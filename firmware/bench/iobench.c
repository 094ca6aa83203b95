/* iobench.c: the I/O benchmark guest: virtio-blk sequential and random reads and writes, virtio-net sends, receives and round trips, timed by kvm-clock, one machine-readable line per test. */
#include "virtio.h"

/*
 * Command line (space separated, all optional):
 *   blk / net       which devices to measure (default: every one found)
 *   qd=N            requests in flight (1 to MAX_QD; default 8)
 *   mib=N           the disk region the sequential tests cover (default 16)
 *   ops=N           requests of each random test and frames of each net test (default 1024)
 *   dma=direct      the device reads and writes the guest's buffers in the shared DMA pool (default)
 *   dma=bounce      the guest's buffers are private and each request is copied through the pool,
 *                   as a confidential guest must (what swiotlb does in Linux)
 * Each test prints one line:
 *   iobench: test=NAME dma=MODE qd=N bs=BYTES ops=N bytes=N ns=N mbps=X.XX iops=N p50_ns=N p90_ns=N p99_ns=N
 * then "iobench: done" and a power-off (cloak's status 0) when every test ran; otherwise it exits with
 * 3 (no device, pool or clock), 4 (a disk request failed), 5 (no peer on the net) or 6.
 * The net tests: net-tx sends `ops` full-sized UDP frames to the discard port of 10.0.2.1; net-rx has the
 * peer there (tools/bench/netpeer.c) send it `ops` of them; net-rtt times `ops` ICMP echoes to 10.0.2.1.
 * net-rx and net-rtt are left out, with a line saying why, when nothing answers them.
 */

#define MAX_QD 32
#define SEQ_BS 65536u
#define RAND_BS 4096u
#define MAX_OPS 4096u
#define NET_HDR_LEN 12
#define FRAME_LEN 1514u
#define SLOT_LEN 2048u
#define MSR_KVM_SYSTEM_TIME_NEW 0x4b564d01

struct pvclock {
	uint32_t version, pad0;
	uint64_t tsc_timestamp, system_time;
	uint32_t tsc_to_system_mul;
	int8_t tsc_shift;
	uint8_t flags, pad[2];
};

static volatile struct pvclock *clock;
static struct vdev blk_dev, net_dev;
static unsigned qd = 8, mib = 16, nops = 1024;
static bool bounce;
static uint64_t lat[MAX_OPS];
/* dma=bounce: where the guest's data lives, in private memory; copied to and from the pool per request. */
static uint8_t private_buf[MAX_QD][SEQ_BS] __attribute__((aligned(4096)));

static uint64_t rdtsc(void)
{
	uint32_t lo, hi;

	__asm__ volatile("rdtsc" : "=a"(lo), "=d"(hi));
	return (uint64_t)hi << 32 | lo;
}

static void wrmsr(uint32_t msr, uint64_t v)
{
	__asm__ volatile("wrmsr" : : "c"(msr), "a"((uint32_t)v), "d"((uint32_t)(v >> 32)));
}

/* kvm-clock, in the DMA pool so that a confidential guest's host can fill it too. */
static bool clock_init(void)
{
	uint32_t r[4];

	cpuid(0x40000001, 0, r);
	if (!(r[0] & (1u << 3)))  /* KVM_FEATURE_CLOCKSOURCE2 */
		return false;
	clock = dma_alloc(sizeof(*clock), 64);
	if (!clock)
		return false;
	wrmsr(MSR_KVM_SYSTEM_TIME_NEW, (uint64_t)(uintptr_t)clock | 1);
	return clock->tsc_to_system_mul != 0;
}

static uint64_t now_ns(void)
{
	uint32_t v;
	uint64_t ns;

	do {
		v = clock->version;
		__asm__ volatile("" ::: "memory");
		{
			uint64_t delta = rdtsc() - clock->tsc_timestamp;

			if (clock->tsc_shift >= 0)
				delta <<= clock->tsc_shift;
			else
				delta >>= -clock->tsc_shift;
			ns = clock->system_time + (uint64_t)(((unsigned __int128)delta * clock->tsc_to_system_mul) >> 32);
		}
		__asm__ volatile("" ::: "memory");
	} while ((v & 1) || v != clock->version);
	return ns;
}

static uint64_t rng = 0x9e3779b97f4a7c15ull;

static uint64_t xorshift(void)
{
	rng ^= rng << 13;
	rng ^= rng >> 7;
	rng ^= rng << 17;
	return rng;
}

/* Shell sort: a few thousand values, no library to call. */
static void sort_u64(uint64_t *v, unsigned n)
{
	static const unsigned gaps[] = { 701, 301, 132, 57, 23, 10, 4, 1 };

	for (unsigned g = 0; g < sizeof(gaps) / sizeof(gaps[0]); g++)
		for (unsigned i = gaps[g]; i < n; i++) {
			uint64_t t = v[i];
			unsigned j = i;

			for (; j >= gaps[g] && v[j - gaps[g]] > t; j -= gaps[g])
				v[j] = v[j - gaps[g]];
			v[j] = t;
		}
}

static uint64_t pct(const uint64_t *v, unsigned n, unsigned p)
{
	unsigned rank = (p * n + 99) / 100;

	return n ? v[rank ? rank - 1 : 0] : 0;
}

static void report(const char *test, unsigned bs, unsigned ops, uint64_t bytes, uint64_t ns)
{
	/* MB/s (10^6 bytes) with two decimals, IOPS: integers only, the runtime prints no floats. */
	uint64_t centi_mbps = ns ? bytes * 100000ull / ns : 0, iops = ns ? (uint64_t)ops * 1000000000ull / ns : 0;

	sort_u64(lat, ops);
	gprintf("iobench: test=%s dma=%s qd=%u bs=%u ops=%u bytes=%lu ns=%lu mbps=%lu.%02lu iops=%lu p50_ns=%lu "
		"p90_ns=%lu p99_ns=%lu\n", test, bounce ? "bounce" : "direct", qd, bs, ops, (unsigned long)bytes,
		(unsigned long)ns, (unsigned long)(centi_mbps / 100), (unsigned long)(centi_mbps % 100),
		(unsigned long)iops, (unsigned long)pct(lat, ops, 50), (unsigned long)pct(lat, ops, 90),
		(unsigned long)pct(lat, ops, 99));
}

/* One request slot: its header, data and status in the pool, and when it was posted. */
struct slot {
	uint8_t *hdr, *data, *status;
	uint64_t posted;
	unsigned idx;          /* which op it carries */
};

static struct slot slots[MAX_QD];
static int slot_of_head[256];

/*
 * `ops` requests of `bs` bytes, `qd` in flight, completions polled: sector of
 * op i from `sector_of`. Returns 0, or -1 when the device failed a request.
 */
static int blk_run(const char *test, uint32_t type, unsigned bs, unsigned ops, uint64_t (*sector_of)(unsigned i))
{
	struct vq *q = &blk_dev.q[0];
	unsigned posted = 0, done = 0;
	uint64_t t0 = now_ns(), t1;

	for (unsigned s = 0; s < qd; s++)
		for (unsigned i = 0; i < bs; i++)
			private_buf[s][i] = (uint8_t)(i * 13 + s);
	while (done < ops) {
		while (posted < ops && posted - done < qd) {
			/* The slot that the request `qd` before this one used has completed. */
			struct slot *sl = &slots[posted % qd];
			uint64_t sector = sector_of(posted);
			struct vbuf b[3] = { { sl->hdr, 16, false }, { sl->data, bs, type == VBLK_IN }, { sl->status, 1, true } };
			int head;

			memcpy(sl->hdr, &type, 4);
			memset(sl->hdr + 4, 0, 4);
			memcpy(sl->hdr + 8, &sector, 8);
			*sl->status = 0xff;
			sl->idx = posted;
			sl->posted = now_ns();
			if (bounce && type == VBLK_OUT)
				memcpy(sl->data, private_buf[posted % qd], bs);
			head = vq_add(q, b, 3);
			if (head < 0 || head >= 256)
				return -1;
			slot_of_head[head] = (int)(posted % qd);
			vq_kick(q);
			posted++;
		}
		for (;;) {
			int head = vq_used(q, NULL);
			struct slot *sl;

			if (head < 0) {
				__asm__ volatile("pause");
				continue;
			}
			sl = &slots[slot_of_head[head]];
			if (*sl->status != VBLK_S_OK)
				return -1;
			if (bounce && type == VBLK_IN)
				memcpy(private_buf[slot_of_head[head]], sl->data, bs);
			lat[sl->idx] = now_ns() - sl->posted;
			done++;
			break;
		}
	}
	t1 = now_ns();
	report(test, bs, ops, (uint64_t)bs * ops, t1 - t0);
	return 0;
}

static uint64_t region_sectors;

static uint64_t seq_sector(unsigned i)
{
	return (uint64_t)i * (SEQ_BS / 512);
}

static uint64_t rand_sector(unsigned i)
{
	(void)i;
	return (xorshift() % (region_sectors / (RAND_BS / 512))) * (RAND_BS / 512);
}

static int blk_bench(unsigned slot)
{
	uint64_t sectors = 0;
	unsigned seq_ops, rops = nops > MAX_OPS ? MAX_OPS : nops;

	if (vblk_open(&blk_dev, slot, &sectors) < 0) {
		gprintf("iobench: virtio-blk at slot %u did not start\n", slot);
		return 3;
	}
	for (unsigned s = 0; s < qd; s++) {
		slots[s].hdr = dma_alloc(16, 16);
		slots[s].status = dma_alloc(1, 1);
		slots[s].data = dma_alloc(SEQ_BS, 4096);
		if (!slots[s].hdr || !slots[s].status || !slots[s].data) {
			gprintf("iobench: the DMA pool is too small for qd=%u\n", qd);
			return 3;
		}
	}
	region_sectors = (uint64_t)mib * 2048;
	if (region_sectors > sectors)
		region_sectors = sectors;
	seq_ops = (unsigned)(region_sectors / (SEQ_BS / 512));
	if (seq_ops > MAX_OPS)
		seq_ops = MAX_OPS;
	if (seq_ops == 0 || region_sectors < RAND_BS / 512) {
		gprintf("iobench: the disk (%lu sectors) is smaller than one %u-byte request\n", (unsigned long)sectors,
			SEQ_BS);
		return 3;
	}
	gprintf("iobench: disk of %lu sectors, region %lu sectors\n", (unsigned long)sectors,
		(unsigned long)region_sectors);
	if (blk_run("blk-seq-write", VBLK_OUT, SEQ_BS, seq_ops, seq_sector) < 0 ||
	    blk_run("blk-seq-read", VBLK_IN, SEQ_BS, seq_ops, seq_sector) < 0 ||
	    blk_run("blk-rand-write", VBLK_OUT, RAND_BS, rops, rand_sector) < 0 ||
	    blk_run("blk-rand-read", VBLK_IN, RAND_BS, rops, rand_sector) < 0) {
		gprintf("iobench: a virtio-blk request failed\n");
		return 4;
	}
	return 0;
}

/* --- virtio-net: UDP frames to and from the tap's host end, 10.0.2.1. */
static uint8_t mac[6], peer[6];
static const uint8_t my_ip[4] = { 10, 0, 2, 15 }, host_ip[4] = { 10, 0, 2, 1 };

#define MY_PORT 40000
#define DISCARD_PORT 9
/* The receive test's peer (tools/bench/netpeer.c): it sends what the guest asks for, a window at a time. */
#define PEER_PORT 9000
#define PEER_MAGIC_ASK "cloakrx1"
#define PEER_MAGIC_DATA "cloakrxd"
#define PEER_START 1
#define PEER_ACK 2
#define RX_WINDOW 64
#define RX_ACK_EVERY 16
#define RX_IDLE_NS 300000000ull
#define RX_RETRIES 10

static uint32_t get32be(const uint8_t *p)
{
	return (uint32_t)p[0] << 24 | (uint32_t)p[1] << 16 | (uint32_t)p[2] << 8 | p[3];
}

static void put32be(uint8_t *p, uint32_t v)
{
	net_put16be(p, (uint16_t)(v >> 16));
	net_put16be(p + 2, (uint16_t)v);
}

/* Ethernet and IPv4 headers from us to 10.0.2.1 for `ip_len` bytes of IP; returns where the IP payload goes. */
static uint8_t *ip_header(uint8_t *f, uint8_t proto, unsigned ip_len, uint16_t id)
{
	uint8_t *ip = f + 14;

	memcpy(f, peer, 6);
	memcpy(f + 6, mac, 6);
	net_put16be(f + 12, 0x0800);
	memset(ip, 0, 20);
	ip[0] = 0x45;
	net_put16be(ip + 2, (uint16_t)ip_len);
	net_put16be(ip + 4, id);
	ip[8] = 64;
	ip[9] = proto;
	memcpy(ip + 12, my_ip, 4);
	memcpy(ip + 16, host_ip, 4);
	net_put16be(ip + 10, net_csum(ip, 20));
	return ip + 20;
}

/* A UDP frame from our port to `port` on 10.0.2.1 with `len` bytes of payload (left to the caller); its length. */
static unsigned udp_frame_to(uint8_t *f, uint16_t port, unsigned len, uint16_t id)
{
	uint8_t *udp = ip_header(f, 17, 28 + len, id);

	net_put16be(udp, MY_PORT);
	net_put16be(udp + 2, port);
	net_put16be(udp + 4, (uint16_t)(8 + len));
	net_put16be(udp + 6, 0);  /* no UDP checksum: 0 is allowed in IPv4 */
	return 42 + len;
}

/* A full-sized UDP frame (1472 bytes of payload) to the discard port. */
static void udp_frame(uint8_t *f, uint16_t seq)
{
	udp_frame_to(f, DISCARD_PORT, FRAME_LEN - 42, seq);
}

/* The IPv4 payload of f when it is protocol `proto` from 10.0.2.1 to us, else NULL; its length in *len. */
static const uint8_t *ip_payload_from_host(const uint8_t *f, uint32_t flen, uint8_t proto, unsigned *len)
{
	const uint8_t *ip = f + 14;
	unsigned hl, tl;

	if (flen < 34 || f[12] != 0x08 || f[13] != 0x00 || (ip[0] >> 4) != 4 || ip[9] != proto ||
	    memcmp(ip + 12, host_ip, 4) || memcmp(ip + 16, my_ip, 4))
		return NULL;
	hl = (ip[0] & 15) * 4u;
	tl = (unsigned)ip[2] << 8 | ip[3];
	if (hl < 20 || tl < hl || 14 + tl > flen)
		return NULL;
	*len = tl - hl;
	return ip + hl;
}

/* Answers an ARP request for our address (the host asks before it sends to us); whether f was one. */
static bool arp_answer(const uint8_t *f, uint32_t len)
{
	static uint8_t reply[64];

	if (len < 42 || f[12] != 0x08 || f[13] != 0x06 || f[21] != 1 || memcmp(f + 38, my_ip, 4))
		return false;
	memcpy(reply, f + 6, 6);
	memcpy(reply + 6, mac, 6);
	net_put16be(reply + 12, 0x0806);
	memcpy(reply + 14, f + 14, 6);
	net_put16be(reply + 20, 2);
	memcpy(reply + 22, mac, 6);
	memcpy(reply + 28, my_ip, 4);
	memcpy(reply + 32, f + 22, 10);  /* the asker's MAC and IP */
	vnet_send(&net_dev, reply, 42);
	return true;
}

static bool find_peer(void)
{
	static uint8_t frame[1600];

	/* The host may still be configuring its end of the tap: ask again until it answers (about 30 s). */
	for (unsigned tries = 0; tries < 300; tries++) {
		uint64_t until;

		vnet_send(&net_dev, frame, net_arp_request(frame, mac, my_ip, host_ip));
		for (until = now_ns() + 100000000ull; now_ns() < until;) {
			int len = vnet_recv(&net_dev, frame, sizeof(frame));

			if (len > 0 && net_arp_reply_from(frame, len, host_ip, peer))
				return true;
			__asm__ volatile("pause");
		}
	}
	return false;
}

/*
 * One received frame: the guest reads it where it lies (dma=direct: in the pool) or first copies it into
 * private memory (dma=bounce), as a confidential guest must before it may trust or keep it.
 */
static const uint8_t *rx_next(int *buf, uint32_t *len)
{
	const uint8_t *f;

	*buf = vnet_rx_peek(&net_dev, &f, len);
	if (*buf < 0)
		return NULL;
	if (!bounce)
		return f;
	memcpy(private_buf[1], f, *len);
	vnet_rx_release(&net_dev, *buf);
	*buf = -1;
	return private_buf[1];
}

static void rx_done(int buf)
{
	if (buf >= 0)
		vnet_rx_release(&net_dev, buf);
}

/* Asks the peer to start (PEER_START, `total` frames) or for more (PEER_ACK, frames seen up to `upto`). */
static void peer_ask(uint32_t type, uint32_t value)
{
	static uint8_t f[64];
	uint8_t *p = f + 42;

	udp_frame_to(f, PEER_PORT, 20, 0);
	memcpy(p, PEER_MAGIC_ASK, 8);
	put32be(p + 8, type);
	put32be(p + 12, value);
	put32be(p + 16, RX_WINDOW);
	vnet_send(&net_dev, f, 62);
}

/*
 * net-rx: the peer sends `ops` full-sized UDP frames (sequence-numbered), RX_WINDOW ahead of what the
 * guest has acknowledged so that the tap's queue never overflows. Figures: the frames and bytes received
 * from the request to the last frame, and the gaps between frames as the percentiles. A frame lost on
 * the way is counted (lost=) and skipped; frames the guest does not expect are counted (other=) and
 * dropped. Returns 0, or 1 when the peer never answered (the test is left out, saying why).
 */
static int net_rx(unsigned ops)
{
	uint64_t t0, last, bytes = 0;
	uint32_t highest = 0, acked = 0, frames = 0, other = 0, retries = 0;
	bool any = false;

	t0 = last = now_ns();
	peer_ask(PEER_START, ops);
	while (!any || highest + 1 < ops) {
		uint32_t len;
		int buf;
		const uint8_t *f = rx_next(&buf, &len), *udp;
		unsigned ulen;

		if (!f) {
			if (now_ns() - last < RX_IDLE_NS) {
				__asm__ volatile("pause");
				continue;
			}
			/* Nothing for a while: the request, an acknowledgement or the window's tail was lost. */
			if (++retries > RX_RETRIES)
				break;
			last = now_ns();
			if (any)
				peer_ask(PEER_ACK, highest + 1);
			else
				peer_ask(PEER_START, ops);
			continue;
		}
		udp = ip_payload_from_host(f, len, 17, &ulen);
		if (udp && ulen >= 8 + 16 && (udp[0] << 8 | udp[1]) == PEER_PORT && (udp[2] << 8 | udp[3]) == MY_PORT &&
		    !memcmp(udp + 8, PEER_MAGIC_DATA, 8) && get32be(udp + 16) < ops) {
			uint32_t seq = get32be(udp + 16);
			uint64_t t = now_ns();

			if (frames < MAX_OPS)
				lat[frames] = t - last;
			last = t;
			frames++;
			bytes += len;
			if (!any || seq > highest)
				highest = seq;
			any = true;
			retries = 0;
		} else if (!arp_answer(f, len)) {
			other++;
		}
		/* The buffer goes back before the acknowledgement, which waits for its own send: direct and
		 * bounce then differ by the copy alone. */
		rx_done(buf);
		if (any && highest + 1 >= acked + RX_ACK_EVERY && highest + 1 < ops) {
			acked = highest + 1;
			peer_ask(PEER_ACK, acked);
		}
	}
	if (!frames) {
		gprintf("iobench: net-rx left out: no frames from the peer at 10.0.2.1 UDP port %u "
			"(run tools/bench/netpeer.c's cloak-netpeer on the tap's host end)\n", PEER_PORT);
		return 1;
	}
	report("net-rx", FRAME_LEN, frames > MAX_OPS ? MAX_OPS : frames, bytes, last - t0);
	gprintf("iobench: net-rx frames=%u lost=%u other=%u\n", frames, frames < ops ? ops - frames : 0, other);
	return 0;
}

/* net-rtt: `ops` ICMP echo requests to 10.0.2.1, one at a time; each reply timed (a second without: lost). */
static int net_rtt(unsigned ops)
{
	static uint8_t f[128];
	unsigned got = 0, lost = 0, other = 0;
	uint64_t t0 = now_ns();

	for (unsigned i = 0; i < ops; i++) {
		uint8_t *icmp = ip_header(f, 1, 20 + 8 + 56, (uint16_t)i);
		uint64_t sent, until;
		bool answered = false;

		icmp[0] = 8;
		icmp[1] = 0;
		net_put16be(icmp + 2, 0);
		net_put16be(icmp + 4, 0xc10a);
		net_put16be(icmp + 6, (uint16_t)i);
		for (unsigned k = 0; k < 56; k++)
			icmp[8 + k] = (uint8_t)k;
		net_put16be(icmp + 2, net_csum(icmp, 64));
		sent = now_ns();
		vnet_send(&net_dev, f, 98);
		for (until = sent + 1000000000ull; !answered && now_ns() < until;) {
			uint32_t len;
			int buf;
			const uint8_t *r = rx_next(&buf, &len), *p;
			unsigned plen;

			if (!r) {
				__asm__ volatile("pause");
				continue;
			}
			p = ip_payload_from_host(r, len, 1, &plen);
			if (p && plen >= 8 && p[0] == 0 && (p[4] << 8 | p[5]) == 0xc10a && (unsigned)(p[6] << 8 | p[7]) == (i & 0xffff)) {
				lat[got++] = now_ns() - sent;
				answered = true;
			} else if (!arp_answer(r, len)) {
				other++;
			}
			rx_done(buf);
		}
		lost += !answered;
	}
	if (!got) {
		gprintf("iobench: net-rtt left out: 10.0.2.1 answered no ICMP echo request\n");
		return 1;
	}
	report("net-rtt", 98, got, (uint64_t)got * 98, now_ns() - t0);
	gprintf("iobench: net-rtt replies=%u lost=%u other=%u\n", got, lost, other);
	return 0;
}

static int net_bench(unsigned slot)
{
	struct vq *q = &net_dev.q[1];
	static uint8_t *tx[MAX_QD];
	unsigned posted = 0, done = 0, ops = nops > MAX_OPS ? MAX_OPS : nops;
	uint64_t posted_at[MAX_QD], t0, t1;
	int slot_of[256];

	if (vnet_open(&net_dev, slot, mac) < 0) {
		gprintf("iobench: virtio-net at slot %u did not start\n", slot);
		return 3;
	}
	for (unsigned s = 0; s < qd; s++)
		if (!(tx[s] = dma_alloc(SLOT_LEN, 64))) {
			gprintf("iobench: the DMA pool is too small for qd=%u\n", qd);
			return 3;
		}
	if (!find_peer()) {
		gprintf("iobench: no ARP reply from 10.0.2.1 (is the tap's host end up?)\n");
		return 5;
	}
	t0 = now_ns();
	while (done < ops) {
		while (posted < ops && posted - done < qd) {
			unsigned s = posted % qd;
			uint8_t *src = bounce ? private_buf[s] : tx[s];
			struct vbuf b = { tx[s], NET_HDR_LEN + FRAME_LEN, false };
			int head;

			/* The frame is built where the guest keeps its data: with dma=bounce, copied into the pool. */
			memset(src, 0, NET_HDR_LEN);
			udp_frame(src + NET_HDR_LEN, (uint16_t)posted);
			if (bounce)
				memcpy(tx[s], src, NET_HDR_LEN + FRAME_LEN);
			posted_at[s] = now_ns();
			head = vq_add(q, &b, 1);
			if (head < 0 || head >= 256)
				return 6;
			slot_of[head] = (int)s;
			vq_kick(q);
			posted++;
		}
		{
			int head = vq_used(q, NULL);

			if (head < 0) {
				__asm__ volatile("pause");
				continue;
			}
			lat[done] = now_ns() - posted_at[slot_of[head]];
			done++;
		}
		/* Whatever the host sends back (ICMP port unreachable) is taken off the receive queue. */
		while (vnet_recv(&net_dev, private_buf[0], SLOT_LEN) >= 0)
			;
	}
	t1 = now_ns();
	report("net-tx", FRAME_LEN, ops, (uint64_t)FRAME_LEN * ops, t1 - t0);
	/* The other two are left out (saying why) rather than failing: they need a peer that answers. */
	net_rx(ops);
	net_rtt(ops);
	return 0;
}

static unsigned arg_u(const char *args, const char *key, unsigned dflt, unsigned max)
{
	const char *p = strstr(args, key), *end;
	unsigned long v;

	if (!p)
		return dflt;
	v = parse_ulong(p + strlen(key), &end);
	return v >= 1 && v <= max ? (unsigned)v : dflt;
}

int guest_main(const void *bootinfo)
{
	const char *args = bootinfo_bootargs(bootinfo);
	struct pci_fn fns[32];
	unsigned n = pci_enumerate(fns, 32), blk_slot = 0, net_slot = 0;
	bool want_blk = strstr(args, "blk") != NULL, want_net = strstr(args, "net") != NULL;
	unsigned measured = 0;
	int rc = 0;

	if (!want_blk && !want_net)
		want_blk = want_net = true;
	qd = arg_u(args, "qd=", 8, MAX_QD);
	mib = arg_u(args, "mib=", 16, 1u << 20);
	nops = arg_u(args, "ops=", 1024, MAX_OPS);
	bounce = strstr(args, "dma=bounce") != NULL;
	for (unsigned i = 0; i < n; i++) {
		if (fns[i].vendor == 0x1af4 && fns[i].device == 0x1042 && !blk_slot)
			blk_slot = fns[i].slot;
		if (fns[i].vendor == 0x1af4 && fns[i].device == 0x1041 && !net_slot)
			net_slot = fns[i].slot;
	}
	if (!dma_pool_init(bootinfo)) {
		gprintf("iobench: no shared DMA pool in the boot info\n");
		return 3;
	}
	if (!clock_init()) {
		gprintf("iobench: no kvm-clock (CPUID 0x40000001 bit 3), so nothing can be timed\n");
		return 3;
	}
	if (want_blk && blk_slot) {
		rc = blk_bench(blk_slot);
		measured++;
	}
	if (!rc && want_net && net_slot) {
		rc = net_bench(net_slot);
		measured++;
	}
	if (!rc && !measured) {
		gprintf("iobench: no virtio device to measure (give cloak --disk and/or --net)\n");
		rc = 3;
	}
	if (!rc)
		gprintf("iobench: done\n");
	return rc;
}
