/* blktest.c: virtio-blk test guest: round trip, flush, GET_ID, read-only refusal, a measured burst, writes until SIGTERM. */
#include "virtio.h"

#define BURST 32
#define ROUNDS 8

static uint8_t buf[4096];

static struct vdev d;

static unsigned long ulpow10(unsigned n)
{
	unsigned long p = 1;

	while (n--)
		p *= 10;
	return p;
}

/* BURST one-sector reads posted at once, one kick, one interrupt asked for: the steady-state cost. */
static int burst(void)
{
	struct vq *q = &d.q[0];
	uint8_t *hdr = dma_alloc(16 * BURST, 16), *st = dma_alloc(BURST, 1), *data = dma_alloc(512 * BURST, 512);
	unsigned r, i;

	if (!hdr || !st || !data)
		return -1;
	for (r = 0; r < ROUNDS; r++) {
		for (i = 0; i < BURST; i++) {
			uint64_t sector = i;
			uint32_t type = VBLK_IN;
			struct vbuf b[3] = { { hdr + 16 * i, 16, false }, { data + 512 * i, 512, true },
					     { st + i, 1, true } };

			memcpy(hdr + 16 * i, &type, 4);
			memcpy(hdr + 16 * i + 8, &sector, 8);
			st[i] = 0xff;
			if (vq_add(q, b, 3) < 0)
				return -1;
		}
		vq_want_interrupt(q, BURST);
		vq_kick(q);
		vq_wait_used(q, BURST);
		for (i = 0; i < BURST; i++)
			if (st[i] != VBLK_S_OK)
				return -1;
	}
	return 0;
}

/* WRITE_ZEROES over two written sectors reads back as zeros; DISCARD of others succeeds. One range each. */
static void zeroes_and_discard(void)
{
	struct { uint64_t sector; uint32_t num, flags; } range = { 100, 2, 0 };
	bool offered = (d.features & (1ull << VBLK_F_DISCARD)) && (d.features & (1ull << VBLK_F_WRITE_ZEROES));
	unsigned i;
	int s;

	gprintf("blktest: offers DISCARD and WRITE_ZEROES: %s\n", offered ? "yes" : "no");
	memset(buf, 'Z', 1024);
	vblk_request(&d, VBLK_OUT, 100, buf, 1024);
	s = vblk_request(&d, VBLK_WRITE_ZEROES, 0, &range, sizeof(range));
	memset(buf, 'Z', 1024);
	vblk_request(&d, VBLK_IN, 100, buf, 1024);
	for (i = 0; i < 1024 && !buf[i]; i++)
		;
	gprintf("blktest: write zeroes status %d, %s\n", s, i == 1024 ? "zeroed" : "NOT ZEROED");
	range = (__typeof__(range)){ 104, 4, 0 };
	s = vblk_request(&d, VBLK_DISCARD, 0, &range, sizeof(range));
	gprintf("blktest: discard status %d\n", s);
}

int guest_main(const void *bootinfo)
{
	const char *args = bootinfo_bootargs(bootinfo);
	struct pci_fn fns[32];
	unsigned n = pci_enumerate(fns, 32), i, slot = 0;
	uint64_t sectors = 0;
	uint64_t irqs_before;
	int s;

	for (i = 0; i < n; i++)
		if (fns[i].vendor == 0x1af4 && fns[i].device == 0x1042)
			slot = fns[i].slot;
	if (!slot || !dma_pool_init(bootinfo) || vblk_open(&d, slot, &sectors) < 0) {
		gprintf("blktest: no usable virtio-blk (slot %u)\n", slot);
		return 3;
	}
	if (strstr(args, "burst")) {
		/* Nothing else happens until the burst is over, so the timeline's window is the burst alone. */
		irqs_before = irq_count;
		if (burst() < 0) {
			gprintf("blktest: burst failed\n");
			return 4;
		}
		gprintf("blktest: burst of %u requests done with %lu interrupts\n", BURST * ROUNDS,
			(unsigned long)(irq_count - irqs_before));
		return 0;
	}
	if (strstr(args, "sigterm")) {
		/*
		 * Writes a counter to sector 4 and flushes it, over and over, printing
		 * each value once FLUSH acknowledged it, until cloak presses the power
		 * button: then it powers off, and the image must hold the last value.
		 */
		unsigned long k;

		for (k = 1;; k++) {
			memset(buf, 0, 512);
			memcpy(buf, "cloak-counter ", 14);
			for (i = 0; i < 10; i++)
				buf[14 + 9 - i] = (uint8_t)('0' + (k / ulpow10(i)) % 10);
			if (vblk_request(&d, VBLK_OUT, 4, buf, 512) != VBLK_S_OK ||
			    vblk_request(&d, VBLK_FLUSH, 0, NULL, 0) != VBLK_S_OK) {
				gprintf("blktest: write or flush of %lu failed\n", k);
				return 5;
			}
			gprintf("blktest: flushed %lu\n", k);
			if (guest_power_button()) {
				gprintf("blktest: power button pressed after %lu; powering off\n", k);
				guest_poweroff();
			}
		}
	}
	gprintf("blktest: disk of %lu sectors\n", (unsigned long)sectors);
	s = vblk_request(&d, VBLK_GET_ID, 0, buf, 20);
	buf[20] = 0;
	gprintf("blktest: id \"%s\" (status %d)\n", (char *)buf, s);
	if (strstr(args, "ro")) {
		memset(buf, 'X', 512);
		s = vblk_request(&d, VBLK_OUT, 1, buf, 512);
		gprintf("blktest: write to a read-only disk: status %d\n", s);
		s = vblk_request(&d, VBLK_IN, 0, buf, 512);
		gprintf("blktest: read from it: status %d\n", s);
		return 0;
	}
	for (i = 0; i < sizeof(buf); i++)
		buf[i] = (uint8_t)(i * 7 + 3);
	memcpy(buf, "cloak-blk-roundtrip", 19);
	s = vblk_request(&d, VBLK_OUT, 8, buf, sizeof(buf));
	gprintf("blktest: write status %d\n", s);
	s = vblk_request(&d, VBLK_FLUSH, 0, NULL, 0);
	gprintf("blktest: flush status %d\n", s);
	memset(buf, 0, sizeof(buf));
	s = vblk_request(&d, VBLK_IN, 8, buf, sizeof(buf));
	for (i = 19; i < sizeof(buf) && buf[i] == (uint8_t)(i * 7 + 3); i++)
		;
	gprintf("blktest: read status %d, %s\n", s,
		i == sizeof(buf) && !memcmp(buf, "cloak-blk-roundtrip", 19) ? "data matches" : "DATA DIFFERS");
	/* "hang": stay up after the flush, so the test can kill cloak and look at the image. */
	while (strstr(args, "hang"))
		__asm__ volatile("pause");
	s = vblk_request(&d, VBLK_IN, sectors, buf, 512);
	gprintf("blktest: read past the end: status %d\n", s);
	zeroes_and_discard();
	return 0;
}
