/* guestmem.h: guest RAM as cloak maps it, and the one checked guest-address helper. */
#ifndef CLOAK_GUESTMEM_H
#define CLOAK_GUESTMEM_H

#include "cloak.h"
#include "plan.h"

/* Guest RAM: one host mapping, cut into the plan's RAM ranges. */
struct guest_mem {
	uint8_t *host;
	uint64_t size;
	struct plan_ram ram[PLAN_MAX_RAM];
	unsigned nram;
	bool locked;
	bool hugepages;
};

/*
 * The one checked way from a guest address to host memory: NULL unless all
 * of [gpa, gpa+len) is guest RAM inside one range (overflow-safe).
 */
void *gpa_range(const struct guest_mem *mem, uint64_t gpa, uint64_t len);

/* How guest RAM is backed: transparent huge pages (the default), hugetlbfs (--hugepages), or 4 KiB pages. */
enum guestmem_pages { GUESTMEM_THP, GUESTMEM_HUGETLB, GUESTMEM_SMALL };
#define GUESTMEM_THP_ALIGN (2 * MiB)

/* Maps the plan's RAM: hugetlbfs pages with `hugepages`, transparent huge pages otherwise. */
int guestmem_map(struct guest_mem *mem, const struct launch_plan *plan, bool hugepages, struct cloak_err *err);
/* Maps `size` bytes of guest RAM backed as `pages` says, with no RAM ranges yet (the pinning benchmark uses it). */
int guestmem_map_pages(struct guest_mem *mem, uint64_t size, enum guestmem_pages pages, struct cloak_err *err);
int guestmem_lock(struct guest_mem *mem, struct cloak_err *err);
/* Copies every region of the plan into guest memory (before any vCPU runs). */
int guestmem_load_plan(struct guest_mem *mem, const struct launch_plan *plan, struct cloak_err *err);
/* Bytes of guest RAM resident in host memory now (mincore). */
uint64_t guestmem_resident_bytes(const struct guest_mem *mem);
void guestmem_unmap(struct guest_mem *mem);

#endif
