/* pin_bench.c: what mapping and locking guest RAM costs per GiB, with 4 KiB pages, transparent huge pages and hugetlbfs. */
#include "guestmem.h"
#include "privs.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

static uint64_t now_us(void)
{
	struct timespec ts;

	clock_gettime(CLOCK_MONOTONIC, &ts);
	return (uint64_t)ts.tv_sec * 1000000 + (uint64_t)ts.tv_nsec / 1000;
}

/* kB of the mapping at `addr` backed by transparent huge pages, from /proc/self/smaps. */
static uint64_t anon_huge_kib(const void *addr)
{
	char line[256], want[32];
	FILE *f = fopen("/proc/self/smaps", "r");
	bool in = false;
	uint64_t kib = 0;

	if (!f)
		return 0;
	snprintf(want, sizeof(want), "%lx-", (unsigned long)(uintptr_t)addr);
	while (fgets(line, sizeof(line), f)) {
		if (strchr(line, '-') && strchr(line, ' ') && strchr(line, '-') < strchr(line, ' '))
			in = !strncmp(line, want, strlen(want));
		else if (in && sscanf(line, "AnonHugePages: %lu kB", (unsigned long *)&kib) == 1)
			break;
	}
	fclose(f);
	return kib;
}

static int cmp_u64(const void *a, const void *b)
{
	uint64_t x = *(const uint64_t *)a, y = *(const uint64_t *)b;

	return x < y ? -1 : x > y;
}

int main(int argc, char **argv)
{
	static const struct {
		enum guestmem_pages pages;
		const char *name;
	} modes[] = { { GUESTMEM_SMALL, "4k" }, { GUESTMEM_THP, "thp" }, { GUESTMEM_HUGETLB, "hugetlb" } };
	uint64_t size = 1 * GiB, t[64];
	unsigned runs = 5, m, r;
	struct cloak_err err;

	if (argc > 1 && (!strcmp(argv[1], "-h") || !strcmp(argv[1], "--help"))) {
		printf("usage: %s [MIB [RUNS]]\n"
		       "Maps and locks MIB (default 1024) of memory the way cloak maps guest RAM, RUNS times\n"
		       "(default 5) per page kind, and prints the median time and the cost per GiB.\n", argv[0]);
		return 0;
	}
	if (argc > 1)
		size = strtoull(argv[1], NULL, 10) * MiB;
	if (argc > 2)
		runs = (unsigned)strtoul(argv[2], NULL, 10);
	if (size == 0 || size % (2 * MiB) || runs == 0 || runs > 64) {
		fprintf(stderr, "pin-bench: give a size in MiB that is a multiple of 2, and 1 to 64 runs\n");
		return 2;
	}
	if (pin_preflight(size, &err) < 0) {
		fprintf(stderr, "pin-bench: %s\n", err.msg);
		return 2;
	}
	printf("%-8s %10s %10s %12s\n", "pages", "median_ms", "ms_per_GiB", "thp_backed");
	for (m = 0; m < ARRAY_SIZE(modes); m++) {
		uint64_t huge = 0;
		bool ok = true;

		for (r = 0; r < runs && ok; r++) {
			struct guest_mem mem;
			uint64_t t0 = now_us();

			if (guestmem_map_pages(&mem, size, modes[m].pages, &err) < 0 || guestmem_lock(&mem, &err) < 0) {
				printf("%-8s %10s %10s %12s   (%s)\n", modes[m].name, "-", "-", "-", err.msg);
				guestmem_unmap(&mem);
				ok = false;
				break;
			}
			t[r] = now_us() - t0;
			huge = anon_huge_kib(mem.host) * KiB;
			guestmem_unmap(&mem);
		}
		if (!ok)
			continue;
		qsort(t, runs, sizeof(t[0]), cmp_u64);
		printf("%-8s %10.1f %10.1f %11.0f%%\n", modes[m].name, t[runs / 2] / 1000.0,
		       t[runs / 2] / 1000.0 * (double)GiB / (double)size, 100.0 * (double)huge / (double)size);
	}
	return 0;
}
