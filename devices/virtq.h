/* virtq.h: the split virtqueue as the host side walks it, with every guest address checked. */
#ifndef CLOAK_VIRTQ_H
#define CLOAK_VIRTQ_H

#include "shared_map.h"

#include <stdatomic.h>

/* Feature bits every cloak device offers (virtio 1.2 §6). */
#define VIRTIO_F_RING_INDIRECT_DESC 28
#define VIRTIO_F_RING_EVENT_IDX 29
#define VIRTIO_F_VERSION_1 32
#define VIRTIO_F_ACCESS_PLATFORM 33

#define VIRTQ_MAX_SIZE 256  /* the largest queue any cloak device offers */

#define VIRTQ_DESC_F_NEXT 1
#define VIRTQ_DESC_F_WRITE 2
#define VIRTQ_DESC_F_INDIRECT 4
#define VIRTQ_AVAIL_F_NO_INTERRUPT 1
#define VIRTQ_USED_F_NO_NOTIFY 1

struct virtq_desc {
	uint64_t addr;
	uint32_t len;
	uint16_t flags;
	uint16_t next;
};

struct virtq_used_elem {
	uint32_t id;
	uint32_t len;
};

/* One buffer of a request: host memory already checked, and whether the device may write it. */
struct virtq_seg {
	uint8_t *host;
	uint32_t len;
	bool writable;
};

/*
 * A request popped from the avail ring. A chain has at most VIRTQ_MAX_SIZE
 * buffers, because the spec bounds it by the queue size, direct or indirect.
 */
struct virtq_req {
	uint16_t head;
	unsigned nseg;
	uint64_t out_len;  /* bytes the device reads */
	uint64_t in_len;   /* bytes the device may write */
	struct virtq_seg seg[VIRTQ_MAX_SIZE];
};

struct virtq {
	/* Set by the driver through the transport, read once the queue is enabled. */
	uint16_t size;
	uint64_t desc_gpa, avail_gpa, used_gpa;
	bool event_idx, indirect;

	/* Resolved at virtq_enable; the rings live in guest memory and may change under us. */
	volatile struct virtq_desc *desc;
	volatile uint16_t *avail;  /* flags, idx, ring[size], used_event */
	volatile uint8_t *used;    /* flags, idx, ring[size] of used_elem, avail_event */
	const struct dma_space *dma;
	bool enabled;

	uint16_t last_avail;   /* next avail entry to take */
	uint16_t used_idx;     /* next used entry to fill */
	uint16_t signalled;    /* used_idx when the driver was last interrupted */
	bool signalled_valid;
	char error[160];       /* the last guest mistake, for the device's report */
};

enum virtq_pop_result {
	VIRTQ_EMPTY = 0,
	VIRTQ_GOT = 1,      /* req holds a valid chain */
	VIRTQ_BAD_CHAIN = 2, /* req->head is valid but its chain is not: fail that request */
	VIRTQ_BROKEN = 3,   /* the avail ring itself is garbage: the device needs a reset */
};

/* Checks the sizes and addresses the driver wrote and maps the three rings; 0 or -1 with vq->error set. */
int virtq_enable(struct virtq *vq, const struct dma_space *dma);
void virtq_reset(struct virtq *vq);

/* Takes the next request; see enum virtq_pop_result. */
enum virtq_pop_result virtq_pop(struct virtq *vq, struct virtq_req *req);

/* Returns a request to the driver with `written` bytes written into it. */
void virtq_push(struct virtq *vq, uint16_t head, uint32_t written);

/* After pushes: whether the driver asked to be interrupted now (EVENT_IDX or the flag). */
bool virtq_should_interrupt(struct virtq *vq);

/*
 * Tells the driver to kick again for anything it adds from now on; returns
 * true when work arrived meanwhile, so the caller goes round once more.
 */
bool virtq_arm_notify(struct virtq *vq);
/* Asks the driver not to kick while the device is busy anyway. */
void virtq_suppress_notify(struct virtq *vq);

/* Copies up to len bytes out of the readable buffers, starting `skip` bytes in; returns bytes copied. */
size_t virtq_req_read(const struct virtq_req *req, size_t skip, void *dst, size_t len);
/* Copies into the writable buffers, starting `skip` bytes into them; returns bytes copied. */
size_t virtq_req_write(const struct virtq_req *req, size_t skip, const void *src, size_t len);

/* Byte offsets of the rings' fields, shared with the unit tests and the fuzz target. */
#define VIRTQ_AVAIL_SIZE(n) (4u + 2u * (n) + 2u)
#define VIRTQ_USED_SIZE(n) (4u + 8u * (n) + 2u)
#define VIRTQ_DESC_SIZE(n) (16u * (n))

#endif
