/* guestmem.c: guest RAM: mapping, locking, loading the plan, and the checked address helper. */
#include "guestmem.h"

#include <errno.h>
#include <stdlib.h>
#include <string.h>
#include <sys/mman.h>

void *gpa_range(const struct guest_mem *mem, uint64_t gpa, uint64_t len)
{
	const struct plan_ram *r = plan_ram_find(mem->ram, mem->nram, gpa, len);

	return r ? mem->host + r->host_offset + (gpa - r->gpa) : NULL;
}

/*
 * Anonymous memory at a 2 MiB boundary with MADV_HUGEPAGE set before anything
 * touches it: populating and locking it then takes transparent huge pages, a
 * fault per 2 MiB instead of per 4 KiB (about five times faster to lock), and
 * KVM maps the guest with large pages too. Slack around the aligned range is
 * given back at once.
 */
static void *map_thp_aligned(uint64_t size, int flags)
{
	uint64_t slack = GUESTMEM_THP_ALIGN;
	uint8_t *p = mmap(NULL, size + slack, PROT_READ | PROT_WRITE, flags, -1, 0);
	uint8_t *aligned;

	if (p == MAP_FAILED)
		return MAP_FAILED;
	aligned = (uint8_t *)ALIGN_UP((uintptr_t)p, GUESTMEM_THP_ALIGN);
	if (aligned > p)
		munmap(p, (size_t)(aligned - p));
	if (p + slack > aligned)
		munmap(aligned + size, (size_t)(p + slack - aligned));
	/* Advice only: a kernel with THP off (transparent_hugepage=never) still works, with small pages. */
	madvise(aligned, size, MADV_HUGEPAGE);
	return aligned;
}

int guestmem_map_pages(struct guest_mem *mem, uint64_t size, enum guestmem_pages pages, struct cloak_err *err)
{
	int flags = MAP_PRIVATE | MAP_ANONYMOUS | MAP_NORESERVE;
	char a[32];
	void *p;

	memset(mem, 0, sizeof(*mem));
	switch (pages) {
	case GUESTMEM_HUGETLB:
		/* Huge pages are reserved at mmap time, so a shortage fails here and not as SIGBUS mid-run. */
		p = mmap(NULL, size, PROT_READ | PROT_WRITE, (flags & ~MAP_NORESERVE) | MAP_HUGETLB, -1, 0);
		if (p == MAP_FAILED)
			return err_errno(err, "cannot map %s of guest memory in 2 MiB huge pages (mmap MAP_HUGETLB); "
					      "reserve them with `sysctl vm.nr_hugepages=%llu` or drop --hugepages",
					 fmt_size(size, a), (unsigned long long)(size / (2 * MiB)));
		break;
	case GUESTMEM_THP:
		p = map_thp_aligned(size, flags);
		break;
	case GUESTMEM_SMALL:
	default:
		p = mmap(NULL, size, PROT_READ | PROT_WRITE, flags, -1, 0);
		if (p != MAP_FAILED)
			madvise(p, size, MADV_NOHUGEPAGE);
		break;
	}
	if (p == MAP_FAILED)
		return err_errno(err, "cannot map %s of guest memory (mmap); give a smaller --mem", fmt_size(size, a));
	/* Guest RAM must never end up in a core dump or a forked child. */
	madvise(p, size, MADV_DONTDUMP);
	madvise(p, size, MADV_DONTFORK);
	mem->host = p;
	mem->size = size;
	mem->hugepages = pages == GUESTMEM_HUGETLB;
	return 0;
}

int guestmem_map(struct guest_mem *mem, const struct launch_plan *plan, bool hugepages, struct cloak_err *err)
{
	if (guestmem_map_pages(mem, plan->mem_size, hugepages ? GUESTMEM_HUGETLB : GUESTMEM_THP, err) < 0)
		return -1;
	memcpy(mem->ram, plan->ram, sizeof(mem->ram));
	mem->nram = plan->nram;
	return 0;
}

int guestmem_lock(struct guest_mem *mem, struct cloak_err *err)
{
	char a[32];

	/* mlock2, not mlock: sanitizer runtimes turn mlock into a no-op, and the tests check the lock. */
	if (mlock2(mem->host, mem->size, 0) < 0)
		return err_errno(err, "cannot lock %s of guest memory (mlock2); run with CAP_IPC_LOCK, raise "
				      "RLIMIT_MEMLOCK (ulimit -l), free host memory, or pass --no-pin",
				 fmt_size(mem->size, a));
	mem->locked = true;
	return 0;
}

int guestmem_load_plan(struct guest_mem *mem, const struct launch_plan *plan, struct cloak_err *err)
{
	unsigned i;

	for (i = 0; i < plan->nregions; i++) {
		const struct plan_region *r = &plan->regions[i];
		uint8_t *dst = gpa_range(mem, r->gpa, r->size);

		if (!dst)
			return err_set(err, "internal error: plan region %s at 0x%llx is outside guest memory", r->name,
				       (unsigned long long)r->gpa);
		memcpy(dst, r->data, r->data_len);
		/* Fresh anonymous memory is zero already; the tail needs no clearing. */
	}
	return 0;
}

uint64_t guestmem_resident_bytes(const struct guest_mem *mem)
{
	size_t pages = mem->size / PAGE_SIZE, i;
	uint64_t resident = 0;
	unsigned char *vec;

	if (!mem->host)
		return 0;
	vec = malloc(pages);
	if (!vec)
		return 0;
	if (mincore(mem->host, mem->size, vec) == 0)
		for (i = 0; i < pages; i++)
			resident += vec[i] & 1;
	free(vec);
	return resident * PAGE_SIZE;
}

void guestmem_unmap(struct guest_mem *mem)
{
	if (mem->host)
		munmap(mem->host, mem->size);
	memset(mem, 0, sizeof(*mem));
}
