/* fake_host.h: a device host without KVM for unit tests and fuzz targets: flat guest RAM, recorded interrupts and stops. */
#ifndef CLOAK_FAKE_HOST_H
#define CLOAK_FAKE_HOST_H

#include "devhost.h"

#define FAKE_HOST_MAX_MSI 64
#define FAKE_HOST_MAX_RANGES 16

struct fake_host {
	struct dev_host host;
	struct guest_mem mem;
	struct shared_map shared;
	atomic_bool reported;
	struct io_range ranges[FAKE_HOST_MAX_RANGES];  /* what devices claimed, port and MMIO together */
	enum dev_space range_space[FAKE_HOST_MAX_RANGES];
	unsigned nranges;
	/* MSI vectors: their eventfds and the route each last got. */
	unsigned nmsi;
	struct {
		int fd;
		bool valid;
		uint64_t addr;
		uint32_t data;
	} msi[FAKE_HOST_MAX_MSI];
	unsigned route_updates;
	unsigned unclaimed, booted, irq_changes;
	int irq_level[24];
	bool stopped;
	int stop_status;
	char stop_reason[256];
	struct tl_device dev[4];
	unsigned ndev;
	atomic_uint threads_entered[2];  /* by enum dev_thread_role */
};

/*
 * Guest RAM is `ram` at guest address 0 (the caller owns it). With
 * `confidential` set, devices reach only what fake_host_share marks shared.
 */
void fake_host_init(struct fake_host *f, uint8_t *ram, uint64_t ram_size, bool confidential,
		    const struct vm_config *cfg);
void fake_host_share(struct fake_host *f, uint64_t gpa, uint64_t len);
/* Closes the MSI eventfds a device left open (devices close theirs in fini). */
void fake_host_fini(struct fake_host *f);
/* Reads and clears MSI vector `handle`'s eventfd: whether it fired. */
bool fake_host_msi_fired(struct fake_host *f, int handle);

#endif
