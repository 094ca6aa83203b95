/* shared_map.h: the guest memory a confidential guest shares with the host, and device DMA checked against it. */
#ifndef CLOAK_SHARED_MAP_H
#define CLOAK_SHARED_MAP_H

#include "guestmem.h"

#include <pthread.h>
#include <stdatomic.h>

/*
 * Guest memory a confidential guest shares with the host: the boot-info DMA
 * window and what it converted with KVM_HC_MAP_GPA_RANGE. With `enforce` set
 * devices touch nothing else (on SEV the rest reads as ciphertext).
 */
#define SHARED_MAX_RANGES 512

struct shared_map {
	pthread_rwlock_t lock;
	bool enforce;
	bool overflow;  /* a conversion did not fit the table: reported once */
	unsigned n;
	struct {
		uint64_t start, end;  /* sorted, disjoint, end exclusive */
	} r[SHARED_MAX_RANGES];
};

void shared_map_init(struct shared_map *s, bool enforce);
/* Marks [gpa, gpa+len) shared or private; -1 when the table is full (the range stays as it was). */
int shared_map_set(struct shared_map *s, uint64_t gpa, uint64_t len, bool shared);
/* True when every byte of [gpa, gpa+len) is shared, or nothing is enforced. */
bool shared_map_covers(struct shared_map *s, uint64_t gpa, uint64_t len);

/*
 * How a device reaches guest memory: guest RAM through gpa_range, and, for a
 * confidential guest, only the parts the guest shared. `reported` makes the
 * report of a refused access appear once per machine, not per request.
 */
struct dma_space {
	const struct guest_mem *mem;
	struct shared_map *shared;  /* NULL: every RAM address is fine */
	atomic_bool *reported;
};

/* Host memory for [gpa, gpa+len) or NULL, reporting a refused shared-memory access once. */
void *dma_map(const struct dma_space *dma, uint64_t gpa, uint64_t len, const char *what);

#endif
