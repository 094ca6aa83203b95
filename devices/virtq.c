/* virtq.c: split virtqueues walked defensively, every guest address through dma_map. */
#include "virtq.h"

#include <stdarg.h>
#include <stdio.h>
#include <string.h>

/*
 * The driver owns the rings and may rewrite them while we read: every field
 * is read once into a local and only the local is trusted afterwards.
 */
#define READ_ONCE(x) (*(const volatile __typeof__(x) *)&(x))

void virtq_reset(struct virtq *vq)
{
	memset(vq, 0, sizeof(*vq));
}

/* Whether [a, a+alen) and [b, b+blen) share a byte; ranges that wrap are refused later by dma_map. */
static bool ranges_overlap(uint64_t a, uint64_t alen, uint64_t b, uint64_t blen)
{
	return a < b + blen && b < a + alen && a + alen > a && b + blen > b;
}

int virtq_enable(struct virtq *vq, const struct dma_space *dma)
{
	uint16_t n = vq->size;

	if (n == 0 || n > VIRTQ_MAX_SIZE || (n & (n - 1))) {
		snprintf(vq->error, sizeof(vq->error), "queue size %u is not a power of two up to %u", n,
			 VIRTQ_MAX_SIZE);
		return -1;
	}
	/* The spec's alignments (16, 2, 4) keep every ring field naturally aligned for atomic access. */
	if ((vq->desc_gpa & 15) || (vq->avail_gpa & 1) || (vq->used_gpa & 3)) {
		snprintf(vq->error, sizeof(vq->error), "misaligned rings (desc 0x%llx, avail 0x%llx, used 0x%llx)",
			 (unsigned long long)vq->desc_gpa, (unsigned long long)vq->avail_gpa,
			 (unsigned long long)vq->used_gpa);
		return -1;
	}
	/*
	 * Rings that share bytes make the device's own writes into driver input:
	 * a used ring on the avail ring turns every completion into a new request,
	 * forever.
	 */
	if (ranges_overlap(vq->desc_gpa, VIRTQ_DESC_SIZE(n), vq->avail_gpa, VIRTQ_AVAIL_SIZE(n)) ||
	    ranges_overlap(vq->desc_gpa, VIRTQ_DESC_SIZE(n), vq->used_gpa, VIRTQ_USED_SIZE(n)) ||
	    ranges_overlap(vq->avail_gpa, VIRTQ_AVAIL_SIZE(n), vq->used_gpa, VIRTQ_USED_SIZE(n))) {
		snprintf(vq->error, sizeof(vq->error), "rings overlap (desc 0x%llx, avail 0x%llx, used 0x%llx, size %u)",
			 (unsigned long long)vq->desc_gpa, (unsigned long long)vq->avail_gpa,
			 (unsigned long long)vq->used_gpa, n);
		return -1;
	}
	vq->desc = dma_map(dma, vq->desc_gpa, VIRTQ_DESC_SIZE(n), "descriptor table");
	vq->avail = dma_map(dma, vq->avail_gpa, VIRTQ_AVAIL_SIZE(n), "available ring");
	vq->used = dma_map(dma, vq->used_gpa, VIRTQ_USED_SIZE(n), "used ring");
	if (!vq->desc || !vq->avail || !vq->used) {
		snprintf(vq->error, sizeof(vq->error),
			 "rings outside guest memory it may use (desc 0x%llx, avail 0x%llx, used 0x%llx, size %u)",
			 (unsigned long long)vq->desc_gpa, (unsigned long long)vq->avail_gpa,
			 (unsigned long long)vq->used_gpa, n);
		vq->desc = NULL;
		vq->avail = NULL;
		vq->used = NULL;
		return -1;
	}
	vq->dma = dma;
	vq->last_avail = 0;
	vq->used_idx = 0;
	vq->signalled_valid = false;
	vq->enabled = true;
	return 0;
}

static uint16_t avail_idx(const struct virtq *vq)
{
	return __atomic_load_n(&vq->avail[1], __ATOMIC_ACQUIRE);
}

static void used_store_idx(struct virtq *vq, uint16_t v)
{
	__atomic_store_n((volatile uint16_t *)(vq->used + 2), v, __ATOMIC_RELEASE);
}

static bool chain_fail(struct virtq *vq, const char *fmt, ...) __attribute__((format(printf, 2, 3)));

static bool chain_fail(struct virtq *vq, const char *fmt, ...)
{
	va_list ap;

	va_start(ap, fmt);
	vsnprintf(vq->error, sizeof(vq->error), fmt, ap);
	va_end(ap);
	return false;
}

/* Adds one buffer; readable buffers must all come before writable ones (virtio 1.2 §2.7.4.2). */
static bool chain_add(struct virtq *vq, struct virtq_req *req, uint64_t addr, uint32_t len, bool writable)
{
	uint8_t *p;

	if (req->nseg == vq->size)
		return chain_fail(vq, "descriptor chain longer than the queue (%u buffers)", vq->size);
	if (!writable && req->in_len)
		return chain_fail(vq, "readable buffer %u after a writable one", req->nseg);
	if (len == 0) {
		/* A zero-length buffer carries nothing; it still counts towards the chain's bound. */
		req->seg[req->nseg++] = (struct virtq_seg){ NULL, 0, writable };
		return true;
	}
	p = dma_map(vq->dma, addr, len, writable ? "device-writable buffer" : "device-readable buffer");
	if (!p)
		return chain_fail(vq, "buffer of %u bytes at 0x%llx outside guest memory the device may use", len,
				  (unsigned long long)addr);
	req->seg[req->nseg++] = (struct virtq_seg){ p, len, writable };
	if (writable)
		req->in_len += len;
	else
		req->out_len += len;
	return true;
}

/* Walks an indirect table: no nesting, no NEXT outside the table, no revisits. */
static bool chain_indirect(struct virtq *vq, struct virtq_req *req, uint64_t addr, uint32_t len)
{
	const volatile struct virtq_desc *table;
	uint8_t seen[VIRTQ_MAX_SIZE / 8];
	unsigned n = len / sizeof(struct virtq_desc), i = 0;

	if (!vq->indirect)
		return chain_fail(vq, "indirect descriptor used without VIRTIO_F_RING_INDIRECT_DESC");
	if (len == 0 || len % sizeof(struct virtq_desc) || n > vq->size)
		return chain_fail(vq, "indirect table of %u bytes at 0x%llx is empty, ragged or longer than the queue",
				  len, (unsigned long long)addr);
	table = dma_map(vq->dma, addr, len, "indirect descriptor table");
	if (!table || (addr & 15))
		return chain_fail(vq, "indirect table of %u bytes at 0x%llx is misaligned or outside usable memory",
				  len, (unsigned long long)addr);
	memset(seen, 0, sizeof(seen));
	for (;;) {
		struct virtq_desc d;

		if (seen[i / 8] & (1u << (i % 8)))
			return chain_fail(vq, "indirect descriptor %u is reached twice (a loop)", i);
		seen[i / 8] |= (uint8_t)(1u << (i % 8));
		d.addr = READ_ONCE(table[i].addr);
		d.len = READ_ONCE(table[i].len);
		d.flags = READ_ONCE(table[i].flags);
		d.next = READ_ONCE(table[i].next);
		if (d.flags & VIRTQ_DESC_F_INDIRECT)
			return chain_fail(vq, "indirect descriptor %u points at another indirect table", i);
		if (!chain_add(vq, req, d.addr, d.len, d.flags & VIRTQ_DESC_F_WRITE))
			return false;
		if (!(d.flags & VIRTQ_DESC_F_NEXT))
			return true;
		if (d.next >= n)
			return chain_fail(vq, "indirect descriptor chains to %u, past the table's end", d.next);
		i = d.next;
	}
}

static bool chain_walk(struct virtq *vq, struct virtq_req *req)
{
	uint8_t seen[VIRTQ_MAX_SIZE / 8];
	unsigned i = req->head;

	memset(seen, 0, sizeof(seen));
	for (;;) {
		struct virtq_desc d;

		if (seen[i / 8] & (1u << (i % 8)))
			return chain_fail(vq, "descriptor %u is reached twice (a loop)", i);
		seen[i / 8] |= (uint8_t)(1u << (i % 8));
		d.addr = READ_ONCE(vq->desc[i].addr);
		d.len = READ_ONCE(vq->desc[i].len);
		d.flags = READ_ONCE(vq->desc[i].flags);
		d.next = READ_ONCE(vq->desc[i].next);
		if (d.flags & VIRTQ_DESC_F_INDIRECT) {
			/* An indirect descriptor stands alone: the spec forbids NEXT on it. */
			if (d.flags & VIRTQ_DESC_F_NEXT)
				return chain_fail(vq, "indirect descriptor %u also has NEXT", i);
			if (req->nseg)
				return chain_fail(vq, "indirect descriptor %u in the middle of a chain", i);
			return chain_indirect(vq, req, d.addr, d.len);
		}
		if (!chain_add(vq, req, d.addr, d.len, d.flags & VIRTQ_DESC_F_WRITE))
			return false;
		if (!(d.flags & VIRTQ_DESC_F_NEXT))
			return true;
		if (d.next >= vq->size)
			return chain_fail(vq, "descriptor chains to %u, past the queue's end (size %u)", d.next,
					  vq->size);
		i = d.next;
	}
}

enum virtq_pop_result virtq_pop(struct virtq *vq, struct virtq_req *req)
{
	uint16_t idx, head;

	if (!vq->enabled)
		return VIRTQ_EMPTY;
	idx = avail_idx(vq);
	if (idx == vq->last_avail)
		return VIRTQ_EMPTY;
	/* More outstanding entries than the ring holds: the index is garbage. */
	if ((uint16_t)(idx - vq->last_avail) > vq->size) {
		snprintf(vq->error, sizeof(vq->error), "available index jumped from %u to %u in a queue of %u",
			 vq->last_avail, idx, vq->size);
		return VIRTQ_BROKEN;
	}
	/*
	 * The device already holds a whole queue's worth of requests it has not
	 * returned: the driver cannot have made another one available without
	 * reusing a descriptor the device owns.
	 */
	if ((uint16_t)(vq->last_avail - vq->used_idx) >= vq->size) {
		snprintf(vq->error, sizeof(vq->error),
			 "the driver made more requests available than the queue of %u holds (%u taken, %u returned)",
			 vq->size, vq->last_avail, vq->used_idx);
		return VIRTQ_BROKEN;
	}
	head = READ_ONCE(vq->avail[2 + vq->last_avail % vq->size]);
	if (head >= vq->size) {
		snprintf(vq->error, sizeof(vq->error), "available ring names descriptor %u in a queue of %u", head,
			 vq->size);
		return VIRTQ_BROKEN;
	}
	vq->last_avail++;
	req->head = head;
	req->nseg = 0;
	req->in_len = req->out_len = 0;
	return chain_walk(vq, req) ? VIRTQ_GOT : VIRTQ_BAD_CHAIN;
}

void virtq_push(struct virtq *vq, uint16_t head, uint32_t written)
{
	volatile struct virtq_used_elem *e;

	if (!vq->enabled)
		return;
	e = (volatile struct virtq_used_elem *)(vq->used + 4 + 8u * (vq->used_idx % vq->size));
	e->id = head;
	e->len = written;
	vq->used_idx++;
	used_store_idx(vq, vq->used_idx);
}

/* The driver wants an interrupt once used_idx passes used_event (virtio 1.2 §2.7.10). */
static bool need_event(uint16_t event, uint16_t new_idx, uint16_t old_idx)
{
	return (uint16_t)(new_idx - event - 1) < (uint16_t)(new_idx - old_idx);
}

bool virtq_should_interrupt(struct virtq *vq)
{
	uint16_t old = vq->signalled, now = vq->used_idx;
	bool valid = vq->signalled_valid;

	if (!vq->enabled)
		return false;
	/* The used index store must be visible before we read what the driver asked for. */
	__atomic_thread_fence(__ATOMIC_SEQ_CST);
	vq->signalled = now;
	vq->signalled_valid = true;
	if (!vq->event_idx)
		return !(READ_ONCE(vq->avail[0]) & VIRTQ_AVAIL_F_NO_INTERRUPT);
	if (!valid)
		return true;
	return need_event(READ_ONCE(vq->avail[2 + vq->size]), now, old);
}

bool virtq_arm_notify(struct virtq *vq)
{
	volatile uint16_t *used_flags, *avail_event;

	if (!vq->enabled)
		return false;
	used_flags = (volatile uint16_t *)vq->used;
	avail_event = (volatile uint16_t *)(vq->used + 4 + 8u * vq->size);
	if (vq->event_idx)
		*avail_event = vq->last_avail;
	else
		*used_flags = 0;
	/* Publish "kick me" before looking again, or a request added in between would wait forever. */
	__atomic_thread_fence(__ATOMIC_SEQ_CST);
	return avail_idx(vq) != vq->last_avail;
}

void virtq_suppress_notify(struct virtq *vq)
{
	if (vq->enabled && !vq->event_idx)
		*(volatile uint16_t *)vq->used = VIRTQ_USED_F_NO_NOTIFY;
}

/*
 * Copies between a buffer and the request's device-readable segments (which
 * come first, so the walk stops at the first writable one) or its writable
 * segments, starting `skip` bytes into them.
 */
static size_t virtq_req_copy(const struct virtq_req *req, bool writable, size_t skip, uint8_t *buf, size_t len)
{
	size_t done = 0;
	unsigned i;

	for (i = 0; i < req->nseg && done < len; i++) {
		const struct virtq_seg *s = &req->seg[i];
		size_t n;

		if (s->writable != writable) {
			if (!writable)
				break;
			continue;
		}
		if (skip >= s->len) {
			skip -= s->len;
			continue;
		}
		n = s->len - skip;
		if (n > len - done)
			n = len - done;
		if (writable)
			memcpy(s->host + skip, buf + done, n);
		else
			memcpy(buf + done, s->host + skip, n);
		done += n;
		skip = 0;
	}
	return done;
}

size_t virtq_req_read(const struct virtq_req *req, size_t skip, void *dst, size_t len)
{
	return virtq_req_copy(req, false, skip, dst, len);
}

size_t virtq_req_write(const struct virtq_req *req, size_t skip, const void *src, size_t len)
{
	/* The source is only read: the cast lets one walk serve both directions. */
	return virtq_req_copy(req, true, skip, (uint8_t *)(uintptr_t)src, len);
}
