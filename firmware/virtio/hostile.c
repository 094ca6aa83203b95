/* hostile.c: a guest that lies to virtio-blk: loops, wild addresses, bad indirect tables, a garbage ring index. */
#include "virtio.h"

static struct vdev d;

/* Posts a hand-made chain at head 0 and returns the used length the device gave it (-1: none came). */
static int post_raw(struct vq *q, uint16_t head)
{
	uint64_t spins;
	uint32_t len = 0;

	q->avail[2 + q->avail_idx % q->size] = head;
	__asm__ volatile("mfence" ::: "memory");
	q->avail_idx++;
	q->avail[1] = q->avail_idx;
	*q->notify = q->index;
	for (spins = 0; spins < 200000000ull; spins++) {
		uint16_t idx = *(volatile uint16_t *)(q->used + 2);

		if (idx != q->last_used) {
			len = *(volatile uint32_t *)(q->used + 4 + 8u * (q->last_used % q->size) + 4);
			q->last_used++;
			return (int)len;
		}
		__asm__ volatile("pause");
	}
	return -1;
}

int guest_main(const void *bootinfo)
{
	struct pci_fn fns[32];
	unsigned n = pci_enumerate(fns, 32), i, slot = 0;
	uint64_t sectors;
	uint8_t *hdr, *st, *data;
	struct vq *q;
	volatile struct vq_desc *t;
	static uint8_t sector[512];
	int len, s;

	for (i = 0; i < n; i++)
		if (fns[i].vendor == 0x1af4 && fns[i].device == 0x1042)
			slot = fns[i].slot;
	if (!slot || !dma_pool_init(bootinfo) || vblk_open(&d, slot, &sectors) < 0) {
		gprintf("hostile: no usable virtio-blk\n");
		return 3;
	}
	q = &d.q[0];
	hdr = dma_alloc(16, 16);
	st = dma_alloc(1, 1);
	data = dma_alloc(512, 512);
	t = dma_alloc(64 * 16, 16);
	memset(hdr, 0, 16);  /* a read of sector 0 */

	/* 1. A loop: 0 -> 1 -> 0. */
	q->desc[0] = (struct vq_desc){ (uintptr_t)hdr, 16, 1, 1 };
	q->desc[1] = (struct vq_desc){ (uintptr_t)data, 512, 3, 0 };
	len = post_raw(q, 0);
	gprintf("hostile: loop: used len %d\n", len);
	/* 2. A buffer far outside guest RAM. */
	q->desc[0] = (struct vq_desc){ (uintptr_t)hdr, 16, 1, 1 };
	q->desc[1] = (struct vq_desc){ 0x7f0000000000ull, 512, 3, 2 };
	q->desc[2] = (struct vq_desc){ (uintptr_t)st, 1, 2, 0 };
	len = post_raw(q, 0);
	gprintf("hostile: wild address: used len %d\n", len);
	/* 3. An address that wraps around the top of the address space. */
	q->desc[1] = (struct vq_desc){ 0xfffffffffffff000ull, 0x2000, 3, 2 };
	len = post_raw(q, 0);
	gprintf("hostile: wrapping buffer: used len %d\n", len);
	/* 4. An indirect table that points at itself. */
	t[0] = (struct vq_desc){ (uintptr_t)t, 32, 4, 0 };
	q->desc[0] = (struct vq_desc){ (uintptr_t)t, 32, 4, 0 };
	len = post_raw(q, 0);
	gprintf("hostile: nested indirect: used len %d\n", len);
	/* 5. A chain that runs past the queue. */
	q->desc[0] = (struct vq_desc){ (uintptr_t)hdr, 16, 1, 5000 };
	len = post_raw(q, 0);
	gprintf("hostile: next past the queue: used len %d\n", len);
	/* The device still serves a well-formed request. */
	*st = 0xff;
	q->desc[0] = (struct vq_desc){ (uintptr_t)hdr, 16, 1, 1 };
	q->desc[1] = (struct vq_desc){ (uintptr_t)data, 512, 3, 2 };
	q->desc[2] = (struct vq_desc){ (uintptr_t)st, 1, 2, 0 };
	len = post_raw(q, 0);
	gprintf("hostile: good request after them: used len %d, status %u\n", len, *st);
	/* 6. A garbage avail index: the device must stop and ask for a reset. */
	q->avail_idx = (uint16_t)(q->avail_idx + 1000);
	q->avail[1] = q->avail_idx;
	*q->notify = q->index;
	for (i = 0; i < 100000000u && !(vdev_status(&d) & 0x40); i++)
		__asm__ volatile("pause");
	gprintf("hostile: garbage index: device status 0x%x%s\n", vdev_status(&d),
		vdev_status(&d) & 0x40 ? " (NEEDS_RESET)" : "");
	/* After a reset the device works again. */
	if (vblk_open(&d, slot, &sectors) < 0) {
		gprintf("hostile: the device did not come back after a reset\n");
		return 4;
	}
	s = vblk_request(&d, VBLK_IN, 0, sector, 512);
	gprintf("hostile: after reset a read gives status %d\n", s);
	return 0;
}
