/* virtio.h: the guest runtime's devices: PCI, the shared DMA pool, interrupts, a virtio-pci driver, blk/net/console. */
#ifndef CLOAK_GUEST_VIRTIO_H
#define CLOAK_GUEST_VIRTIO_H

#include "guest.h"

/* PCI configuration mechanism #1 on bus 0. */
uint32_t pci_cfg_read32(unsigned slot, unsigned off);
uint16_t pci_cfg_read16(unsigned slot, unsigned off);
uint8_t pci_cfg_read8(unsigned slot, unsigned off);
void pci_cfg_write32(unsigned slot, unsigned off, uint32_t v);
void pci_cfg_write16(unsigned slot, unsigned off, uint16_t v);

struct pci_fn {
	unsigned slot;
	uint16_t vendor, device;
	uint32_t class_code;  /* base << 16 | sub << 8 | prog-if */
};
/* Lists the functions on bus 0; returns how many (at most max). */
unsigned pci_enumerate(struct pci_fn *out, unsigned max);
/* A 32-bit memory BAR's address as cloak assigned it. */
uint32_t pci_bar(unsigned slot, unsigned bar);
/* Offset of the first capability with `id` at or after `from` (0 to start), or 0. */
unsigned pci_find_cap(unsigned slot, uint8_t id, unsigned from);
const char *pci_describe(const struct pci_fn *f);

/*
 * The shared DMA pool: the boot-info device tree's restricted-dma-pool. Under
 * SEV the runtime clears the C-bit on it (and tells the host), so everything a
 * device reads or writes is allocated here.
 */
bool dma_pool_init(const void *fdt);
void *dma_alloc(uint64_t size, uint64_t align);  /* zeroed; NULL when the pool is full */
uint64_t dma_pool_base(void);
uint64_t dma_pool_size(void);

/* Interrupts: an IDT with one handler for the device vectors, and the local APIC enabled. */
#define IRQ_VECTOR_BASE 0x40
void irq_init(void);
extern volatile uint64_t irq_count;
/* Sleeps (sti; hlt) until an interrupt arrives; returns at once if one came since `seen`. */
void irq_wait(uint64_t seen);

/* The driver side of one split virtqueue. */
struct vq_desc {
	uint64_t addr;
	uint32_t len;
	uint16_t flags;
	uint16_t next;
};

struct vq {
	uint16_t index, size;
	volatile struct vq_desc *desc;
	volatile uint16_t *avail;  /* flags, idx, ring[size], used_event */
	volatile uint8_t *used;    /* flags, idx, ring[size] (id, len), avail_event */
	volatile uint16_t *notify;
	uint16_t free_head, num_free, last_used, avail_idx, kicked_idx;
	bool event_idx;
};

struct vbuf {
	void *addr;
	uint32_t len;
	bool device_writes;
};

#define VIRTIO_MAX_VQ 4

struct vdev {
	unsigned slot;
	uint16_t type;               /* 1 net, 2 block, 3 console */
	volatile uint8_t *common, *isr, *devcfg;
	volatile uint8_t *notify_base;
	uint32_t notify_mult;
	volatile uint8_t *msix;      /* the MSI-X table (16 bytes per vector) */
	uint64_t features;
	struct vq q[VIRTIO_MAX_VQ];
	unsigned nq;
};

#define VF_RING_INDIRECT_DESC 28
#define VF_RING_EVENT_IDX 29
#define VF_VERSION_1 32
#define VF_ACCESS_PLATFORM 33

/* Resets the device and negotiates `want` (VERSION_1 and ACCESS_PLATFORM are always asked for); 0 or -1. */
int vdev_init(struct vdev *d, unsigned slot, uint64_t want);
/* Sets up queue q (in the DMA pool) with its MSI-X vector (IRQ_VECTOR_BASE + q); 0 or -1. */
int vdev_queue(struct vdev *d, unsigned q, uint16_t size);
void vdev_driver_ok(struct vdev *d);
uint8_t vdev_status(struct vdev *d);
/* Posts a chain; returns its head, or -1 when the ring is full. Kick with vq_kick after one or more. */
int vq_add(struct vq *q, const struct vbuf *bufs, unsigned n);
/* Kicks unless the device said (EVENT_IDX avail_event) it does not need one. */
void vq_kick(struct vq *q);
/* A completed chain (returns its head, frees its descriptors), or -1 when none. */
int vq_used(struct vq *q, uint32_t *len);
/* Asks for an interrupt when the device has completed `more` further chains (EVENT_IDX used_event). */
void vq_want_interrupt(struct vq *q, uint16_t more);
/* Collects `n` completed chains of q, sleeping on its interrupt in between (for bursts). */
void vq_wait_used(struct vq *q, unsigned n);

/* virtio-blk */
#define VBLK_IN 0
#define VBLK_OUT 1
#define VBLK_FLUSH 4
#define VBLK_GET_ID 8
#define VBLK_DISCARD 11
#define VBLK_WRITE_ZEROES 13
#define VBLK_F_DISCARD 13
#define VBLK_F_WRITE_ZEROES 14
#define VBLK_S_OK 0
#define VBLK_S_IOERR 1
#define VBLK_S_UNSUPP 2
/* Found the first virtio-blk and started it; capacity in sectors. */
int vblk_open(struct vdev *d, unsigned slot, uint64_t *sectors);
/* One request, waited for; returns the status byte (0xff: the device returned it unwritten). */
int vblk_request(struct vdev *d, uint32_t type, uint64_t sector, void *buf, uint32_t len);

/* virtio-net */
int vnet_open(struct vdev *d, unsigned slot, uint8_t mac[6]);
int vnet_send(struct vdev *d, const void *frame, uint32_t len);
/* A received frame (without the virtio header) copied into buf; its length, or -1 when none is waiting. */
int vnet_recv(struct vdev *d, void *buf, uint32_t max);
/*
 * The same without the copy: a received frame where the device wrote it in the pool (its address and
 * length), and the buffer's number to hand back with vnet_rx_release once read; -1 when none is waiting.
 */
int vnet_rx_peek(struct vdev *d, const uint8_t **frame, uint32_t *len);
void vnet_rx_release(struct vdev *d, int buf);

/* virtio-console: port 0, hvc0 */
int vcons_open(struct vdev *d, unsigned slot);
int vcons_write(struct vdev *d, const char *s, uint32_t len);
/* Waits for console input and copies up to max bytes of one receive buffer (at most 256); -1 on a bad buffer. */
int vcons_read(struct vdev *d, void *buf, uint32_t max);

#endif
