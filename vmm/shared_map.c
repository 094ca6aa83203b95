/* shared_map.c: which guest memory a confidential guest shared, and device DMA checked against it. */
#include "shared_map.h"

#include <stdio.h>
#include <string.h>

void shared_map_init(struct shared_map *s, bool enforce)
{
	memset(s, 0, sizeof(*s));
	pthread_rwlock_init(&s->lock, NULL);
	s->enforce = enforce;
}

/* Rebuilds the sorted range list with [start, end) added or cut out; false when it does not fit. */
static bool shared_map_apply(struct shared_map *s, uint64_t start, uint64_t end, bool shared)
{
	__typeof__(s->r[0]) out[SHARED_MAX_RANGES + 2];
	unsigned i, n = 0;
	bool placed = !shared;

	for (i = 0; i < s->n; i++) {
		uint64_t a = s->r[i].start, b = s->r[i].end;

		if (shared) {
			if (b < start || a > end) {
				if (!placed && a > end) {
					out[n++] = (__typeof__(out[0])){ start, end };
					placed = true;
				}
				out[n++] = s->r[i];
				continue;
			}
			/* Touching or overlapping: grow the new range over it. */
			if (a < start)
				start = a;
			if (b > end)
				end = b;
			continue;
		}
		if (b <= start || a >= end) {
			out[n++] = s->r[i];
			continue;
		}
		if (a < start)
			out[n++] = (__typeof__(out[0])){ a, start };
		if (b > end)
			out[n++] = (__typeof__(out[0])){ end, b };
		if (n > SHARED_MAX_RANGES)
			return false;
	}
	if (!placed)
		out[n++] = (__typeof__(out[0])){ start, end };
	if (n > SHARED_MAX_RANGES)
		return false;
	memcpy(s->r, out, n * sizeof(out[0]));
	s->n = n;
	return true;
}

int shared_map_set(struct shared_map *s, uint64_t gpa, uint64_t len, bool shared)
{
	uint64_t end = gpa + len;
	bool ok;

	if (len == 0)
		return 0;
	if (end < gpa)
		end = UINT64_MAX;
	pthread_rwlock_wrlock(&s->lock);
	ok = shared_map_apply(s, gpa, end, shared);
	if (!ok)
		s->overflow = true;
	pthread_rwlock_unlock(&s->lock);
	return ok ? 0 : -1;
}

bool shared_map_covers(struct shared_map *s, uint64_t gpa, uint64_t len)
{
	unsigned lo, hi;
	bool ok = false;

	if (!s->enforce)
		return true;
	if (gpa + len < gpa)
		return false;
	pthread_rwlock_rdlock(&s->lock);
	/* Binary search for the last range starting at or below gpa. */
	lo = 0;
	hi = s->n;
	while (lo < hi) {
		unsigned mid = (lo + hi) / 2;

		if (s->r[mid].start <= gpa)
			lo = mid + 1;
		else
			hi = mid;
	}
	if (lo > 0)
		ok = gpa + len <= s->r[lo - 1].end;
	pthread_rwlock_unlock(&s->lock);
	return ok;
}

void *dma_map(const struct dma_space *dma, uint64_t gpa, uint64_t len, const char *what)
{
	void *p = gpa_range(dma->mem, gpa, len);

	if (!p)
		return NULL;
	if (dma->shared && !shared_map_covers(dma->shared, gpa, len)) {
		bool was = dma->reported ? atomic_exchange(dma->reported, true) : false;

		if (!was)
			fprintf(stderr,
				"cloak: a device was asked to access guest memory 0x%llx-0x%llx (%s) that the guest "
				"has not shared; on SEV hardware it would read ciphertext, so the request fails. The guest "
				"must place DMA buffers in the restricted-dma-pool window or share them with "
				"KVM_HC_MAP_GPA_RANGE (reported once)\n",
				(unsigned long long)gpa, (unsigned long long)(gpa + (len ? len - 1 : 0)), what);
		return NULL;
	}
	return p;
}
