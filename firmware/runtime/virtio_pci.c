/* virtio_pci.c: a virtio-pci driver for guests: feature negotiation, split rings in the DMA pool, MSI-X. */
#include "virtio.h"

#define STATUS_ACK 1
#define STATUS_DRIVER 2
#define STATUS_DRIVER_OK 4
#define STATUS_FEATURES_OK 8

#define DESC_F_NEXT 1
#define DESC_F_WRITE 2

/* Common configuration layout (virtio 1.2 §4.1.4.3). */
#define C_DFSELECT 0x00
#define C_DF 0x04
#define C_GFSELECT 0x08
#define C_GF 0x0c
#define C_MSIX_CONFIG 0x10
#define C_NUMQ 0x12
#define C_STATUS 0x14
#define C_QSELECT 0x16
#define C_QSIZE 0x18
#define C_QMSIX 0x1a
#define C_QENABLE 0x1c
#define C_QNOTIFY_OFF 0x1e
#define C_QDESC 0x20
#define C_QDRIVER 0x28
#define C_QDEVICE 0x30

#define W8(p, off, v) (*(volatile uint8_t *)((p) + (off)) = (v))
#define W16(p, off, v) (*(volatile uint16_t *)((p) + (off)) = (v))
#define W32(p, off, v) (*(volatile uint32_t *)((p) + (off)) = (v))
#define R8(p, off) (*(volatile uint8_t *)((p) + (off)))
#define R16(p, off) (*(volatile uint16_t *)((p) + (off)))
#define R32(p, off) (*(volatile uint32_t *)((p) + (off)))

static void barrier(void)
{
	__asm__ volatile("mfence" ::: "memory");
}

/* Finds the virtio capabilities and MSI-X table, all in BAR 0 for cloak's devices. */
static int vdev_map(struct vdev *d, unsigned slot)
{
	unsigned cap = 0;
	uint8_t *bar = (uint8_t *)(uintptr_t)pci_bar(slot, 0);

	d->slot = slot;
	d->type = (uint16_t)(pci_cfg_read16(slot, 2) - 0x1040);
	while ((cap = pci_find_cap(slot, 0x09, cap))) {
		uint8_t type = pci_cfg_read8(slot, cap + 3);
		uint32_t off = pci_cfg_read32(slot, cap + 8);

		if (pci_cfg_read8(slot, cap + 4) != 0)
			continue;
		switch (type) {
		case 1: d->common = bar + off; break;
		case 2:
			d->notify_base = bar + off;
			d->notify_mult = pci_cfg_read32(slot, cap + 16);
			break;
		case 3: d->isr = bar + off; break;
		case 4: d->devcfg = bar + off; break;
		}
	}
	cap = pci_find_cap(slot, 0x11, 0);
	if (!d->common || !d->notify_base || !cap)
		return -1;
	d->msix = bar + (pci_cfg_read32(slot, cap + 4) & ~7u);
	/* Memory decoding and bus mastering on; MSI-X on. */
	pci_cfg_write16(slot, 4, 0x6);
	pci_cfg_write16(slot, cap + 2, 0x8000);
	return 0;
}

int vdev_init(struct vdev *d, unsigned slot, uint64_t want)
{
	uint64_t offered;

	memset(d, 0, sizeof(*d));
	if (vdev_map(d, slot) < 0)
		return -1;
	W8(d->common, C_STATUS, 0);
	while (R8(d->common, C_STATUS))
		;
	W8(d->common, C_STATUS, STATUS_ACK | STATUS_DRIVER);
	W32(d->common, C_DFSELECT, 0);
	offered = R32(d->common, C_DF);
	W32(d->common, C_DFSELECT, 1);
	offered |= (uint64_t)R32(d->common, C_DF) << 32;
	want |= 1ull << VF_VERSION_1 | 1ull << VF_ACCESS_PLATFORM;
	d->features = offered & want;
	W32(d->common, C_GFSELECT, 0);
	W32(d->common, C_GF, (uint32_t)d->features);
	W32(d->common, C_GFSELECT, 1);
	W32(d->common, C_GF, (uint32_t)(d->features >> 32));
	W8(d->common, C_STATUS, STATUS_ACK | STATUS_DRIVER | STATUS_FEATURES_OK);
	if (!(R8(d->common, C_STATUS) & STATUS_FEATURES_OK))
		return -1;
	d->nq = R16(d->common, C_NUMQ);
	if (d->nq > VIRTIO_MAX_VQ)
		d->nq = VIRTIO_MAX_VQ;
	/* Config changes are not acted on; the vector is there so NEEDS_RESET can wake a sleeper. */
	W16(d->common, C_MSIX_CONFIG, (uint16_t)d->nq);
	W32(d->msix, 16 * d->nq, 0xfee00000u);
	W32(d->msix, 16 * d->nq + 4, 0);
	W32(d->msix, 16 * d->nq + 8, IRQ_VECTOR_BASE + 15);
	W32(d->msix, 16 * d->nq + 12, 0);
	return 0;
}

int vdev_queue(struct vdev *d, unsigned qi, uint16_t size)
{
	struct vq *q = &d->q[qi];
	uint16_t max, i;

	if (qi >= d->nq)
		return -1;
	W16(d->common, C_QSELECT, (uint16_t)qi);
	max = R16(d->common, C_QSIZE);
	if (!max)
		return -1;
	if (size > max)
		size = max;
	q->index = (uint16_t)qi;
	q->size = size;
	q->event_idx = d->features & (1ull << VF_RING_EVENT_IDX);
	q->desc = dma_alloc(16ull * size, 16);
	q->avail = dma_alloc(6ull + 2ull * size, 4);
	q->used = dma_alloc(6ull + 8ull * size, 4);
	if (!q->desc || !q->avail || !q->used)
		return -1;
	for (i = 0; i < size; i++)
		q->desc[i].next = (uint16_t)(i + 1);
	q->num_free = size;
	q->notify = (volatile uint16_t *)(d->notify_base + R16(d->common, C_QNOTIFY_OFF) * d->notify_mult);
	/* MSI-X vector qi -> CPU vector IRQ_VECTOR_BASE + qi on the boot CPU (APIC ID 0). */
	W32(d->msix, 16 * qi, 0xfee00000u);
	W32(d->msix, 16 * qi + 4, 0);
	W32(d->msix, 16 * qi + 8, IRQ_VECTOR_BASE + qi);
	W32(d->msix, 16 * qi + 12, 0);
	W16(d->common, C_QSIZE, size);
	W16(d->common, C_QMSIX, (uint16_t)qi);
	W32(d->common, C_QDESC, (uint32_t)(uintptr_t)q->desc);
	W32(d->common, C_QDESC + 4, 0);
	W32(d->common, C_QDRIVER, (uint32_t)(uintptr_t)q->avail);
	W32(d->common, C_QDRIVER + 4, 0);
	W32(d->common, C_QDEVICE, (uint32_t)(uintptr_t)q->used);
	W32(d->common, C_QDEVICE + 4, 0);
	W16(d->common, C_QENABLE, 1);
	return R16(d->common, C_QENABLE) == 1 ? 0 : -1;
}

void vdev_driver_ok(struct vdev *d)
{
	W8(d->common, C_STATUS, STATUS_ACK | STATUS_DRIVER | STATUS_FEATURES_OK | STATUS_DRIVER_OK);
}

uint8_t vdev_status(struct vdev *d)
{
	return R8(d->common, C_STATUS);
}

int vq_add(struct vq *q, const struct vbuf *bufs, unsigned n)
{
	uint16_t head = q->free_head, i = head, last = head;
	unsigned k;

	if (n == 0 || n > q->num_free)
		return -1;
	for (k = 0; k < n; k++) {
		q->desc[i].addr = (uint64_t)(uintptr_t)bufs[k].addr;
		q->desc[i].len = bufs[k].len;
		q->desc[i].flags = (uint16_t)((bufs[k].device_writes ? DESC_F_WRITE : 0) | (k + 1 < n ? DESC_F_NEXT : 0));
		last = i;
		i = q->desc[i].next;
	}
	q->free_head = q->desc[last].next;
	q->num_free = (uint16_t)(q->num_free - n);
	q->avail[2 + q->avail_idx % q->size] = head;
	barrier();
	q->avail_idx++;
	q->avail[1] = q->avail_idx;
	return head;
}

void vq_kick(struct vq *q)
{
	uint16_t old = q->kicked_idx, now = q->avail_idx;

	barrier();
	q->kicked_idx = now;
	if (q->event_idx) {
		uint16_t ev = *(volatile uint16_t *)(q->used + 4 + 8u * q->size);

		/* The device asked for a kick only once the index passes avail_event. */
		if ((uint16_t)(now - ev - 1) >= (uint16_t)(now - old))
			return;
	} else if (*(volatile uint16_t *)q->used & 1) {
		return;
	}
	*q->notify = q->index;
}

int vq_used(struct vq *q, uint32_t *len)
{
	uint16_t idx = *(volatile uint16_t *)(q->used + 2), head, i, n = 1;
	volatile uint32_t *e;

	if (idx == q->last_used)
		return -1;
	barrier();
	e = (volatile uint32_t *)(q->used + 4 + 8u * (q->last_used % q->size));
	head = (uint16_t)e[0];
	if (len)
		*len = e[1];
	q->last_used++;
	if (head >= q->size)
		return -1;
	for (i = head; q->desc[i].flags & DESC_F_NEXT && n < q->size; i = q->desc[i].next)
		n++;
	q->desc[i].next = q->free_head;
	q->free_head = head;
	q->num_free = (uint16_t)(q->num_free + n);
	return head;
}

void vq_want_interrupt(struct vq *q, uint16_t more)
{
	/* used_event: interrupt once the used index passes last_used + more - 1. */
	q->avail[2 + q->size] = (uint16_t)(q->last_used + more - 1);
	barrier();
}
