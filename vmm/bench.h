/* bench.h: `cloak bench`, the benchmark harness, and the summary statistics it reports. */
#ifndef CLOAK_BENCH_H
#define CLOAK_BENCH_H

#include "cloak.h"

struct bench_stats {
	double median, p10, p90;  /* p10 and p90 by nearest rank */
	unsigned n;
};

/* Sorts v[0..n) and summarises it. */
void bench_summary(double *v, unsigned n, struct bench_stats *st);

/* `cloak bench ...`: 0 every launch ended as its guest asked, 1 some did not, 2 bad input or a host failure. */
int bench_main(int argc, char **argv);

#endif
