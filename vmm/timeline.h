/* timeline.h: the launch timeline benchmark harnesses read (--timeline): phases, exits, per-device counts. */
#ifndef CLOAK_TIMELINE_H
#define CLOAK_TIMELINE_H

#include "cloak.h"
#include "plan.h"

#include <stdatomic.h>

enum tl_phase {
	TL_PROCESS_START, TL_KVM_OPEN, TL_VM_CREATE, TL_MEMORY_READY, TL_SEV_LAUNCH_START, TL_LOAD,
	TL_SEV_LAUNCH_UPDATE, TL_SEV_LAUNCH_UPDATE_VMSA, TL_VCPU_CREATE, TL_SEV_LAUNCH_FINISH, TL_SANDBOX_SEALED, TL_FIRST_GUEST_EXIT, TL_BOOT_TIMER,
	TL_GUEST_EXIT, TL_TEARDOWN, TL_NPHASES,
};

#define TL_MAX_EXIT_REASONS 64

#define TL_MAX_DEVICES 16

/*
 * Per-device I/O counts: requests, the guest's kicks and cloak's interrupts,
 * and the userspace exits of all vCPUs between the device's first request and
 * its latest completion, so a harness reads the cost of one request.
 */
struct tl_device {
	char name[24];
	_Atomic uint64_t requests, failed, kicks, interrupts;
	_Atomic uint64_t exits_first, exits_last;  /* exits_total + 1 at those moments; 0: none yet */
};

struct timeline {
	_Atomic uint64_t at[TL_NPHASES];   /* 0: not reached (process start is recorded as 1 us) */
	_Atomic uint64_t exits[TL_MAX_EXIT_REASONS];
	_Atomic uint64_t exits_total;
	_Atomic uint64_t pio_unclaimed;
	_Atomic uint64_t mmio_unclaimed;
	_Atomic uint64_t sev_violations;   /* C=0 accesses to private memory the SEV simulator caught */
	struct tl_device dev[TL_MAX_DEVICES];
	_Atomic unsigned ndev;
	uint64_t measured_bytes;       /* bytes the confidential launch measured (0: none) */
	uint64_t rss_kib;              /* cloak's resident memory at the end of the run */
	uint64_t guest_resident_kib;   /* the part of it that is guest RAM */
	const char *owner_command;     /* the cloak-owner command that recomputes the launch digest, or NULL */
	uint64_t snp_launch_update_pages;   /* SEV-SNP: pages given to the firmware at launch (0: not SNP) */
	uint64_t snp_launch_update_calls;   /* SEV-SNP: the SNP_LAUNCH_UPDATE ioctls that gave them */
};

void timeline_mark(struct timeline *tl, enum tl_phase phase);
/* The same for a moment another thread recorded (clock_us()); 0 marks nothing. */
void timeline_mark_at(struct timeline *tl, enum tl_phase phase, uint64_t us);
void timeline_count_exit(struct timeline *tl, unsigned reason);
const char *timeline_phase_name(enum tl_phase phase);
/* A row of per-device counts named `name`, or NULL when the table is full. */
struct tl_device *timeline_device(struct timeline *tl, const char *name);
/* A request of `d` was seen (first) or completed (last): remembers the exit count then. */
void timeline_io_begin(struct timeline *tl, struct tl_device *d);
void timeline_io_end(struct timeline *tl, struct tl_device *d);
const char *kvm_exit_reason_name(unsigned reason);
/*
 * The PSP's LAUNCH_UPDATE_DATA rate the timeline's psp_modelled_us assumes: a
 * model, not a measurement (docs/sev-launch.md "Measured boot" gives the
 * source). The simulator measures at host speed.
 */
#define TIMELINE_PSP_MODEL_BYTES_PER_S (8ull * MiB)
uint64_t timeline_psp_model_us(uint64_t measured_bytes);

/* Writes the JSON to a temporary file beside `path`, then renames it into place. */
int timeline_write(const struct timeline *tl, const char *path, const struct launch_plan *plan, int status,
		   struct cloak_err *err);

#endif
