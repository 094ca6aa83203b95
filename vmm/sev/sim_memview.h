/* sim_memview.h: SEV's memory rules under the simulated PSP: the private and shared views of guest RAM. */
#ifndef CLOAK_SIM_MEMVIEW_H
#define CLOAK_SIM_MEMVIEW_H

#include "cloak.h"
#include "plan.h"

#include <pthread.h>

struct machine;
struct kvm_run;

/*
 * How closely the simulator keeps SEV's rule that a C=0 access reaches only
 * memory the guest shared (docs/sev-launch.md, "The simulator's memory rules"):
 *   strict: such an access stops the guest ("confidentiality violation");
 *   report: it is counted and reported once, then served as if it were shared;
 *   off:    RAM is mapped once, at its plain address (no private view).
 */
enum sim_memory_mode { SIM_MEMORY_STRICT, SIM_MEMORY_REPORT, SIM_MEMORY_OFF };

/* Plain-view ranges cloak keeps as memslots; conversions are coalesced into these. */
#define SIM_MEMVIEW_MAX_RANGES 256
#define SIM_MAX_GUARDED (PLAN_MAX_RAM + PLAN_MAX_REGIONS)

struct sim_range {
	uint64_t start, end;  /* end exclusive */
};

struct sim_memview {
	pthread_mutex_t lock;
	bool active;
	enum sim_memory_mode mode;
	uint64_t alias;              /* 2^C-bit: the private view of GPA x is at x + alias */
	unsigned slot_base;          /* first KVM slot number of the plain view */
	unsigned slot_limit;         /* KVM's usable slot numbers (KVM_CAP_NR_MEMSLOTS) */
	/* What must not be reachable at C=0 unless shared: all RAM for cloak's guests, some regions for Linux. */
	struct sim_range guarded[SIM_MAX_GUARDED];
	unsigned nguarded;
	/* The plain view as KVM has it now, one slot each. */
	struct sim_range plain[SIM_MEMVIEW_MAX_RANGES];
	unsigned plain_slot[SIM_MEMVIEW_MAX_RANGES];
	unsigned nplain;
	bool told;                   /* the report-mode warning was printed */
};

/* The mode the environment asks for (CLOAK_SIM_MEMORY=strict|report|off; default strict); -1: bad value. */
int sim_memory_mode_from_env(struct cloak_err *err);

/*
 * Turns the one plain mapping of RAM (kvm_map_memory's slots 0..nram-1) into
 * the private view at GPA + 2^cbit, and builds the plain view from what the
 * guest shares now. Whole RAM is guarded for cloak's own guests; for Linux
 * only the tables, boot data and initrd cloak put there (see the .c file for why).
 */
int sim_memview_setup(struct sim_memview *v, struct machine *m, enum sim_memory_mode mode, int cbit,
		      struct cloak_err *err);
/* After the guest converted memory (KVM_HC_MAP_GPA_RANGE): the plain view follows. */
void sim_memview_update(struct sim_memview *v, struct machine *m);
/* A KVM_EXIT_MMIO: true when it was a C=0 access to guest RAM, which this handled (served or stopped). */
bool sim_memview_mmio(struct sim_memview *v, struct machine *m, unsigned vcpu, struct kvm_run *run);
/* Gives the vCPUs' CR3 the C-bit, as every other table entry cloak builds has it. */
int sim_memview_vcpus(struct sim_memview *v, struct machine *m, struct cloak_err *err);

/*
 * The SEV kinds' side of sim_memview_vcpus (cvm_sev.c): SEV-ES calls it once
 * LAUNCH_UPDATE_VMSA has measured the registers as hardware would hold them.
 */
struct cvm;
int cvm_sev_sim_private_cr3(struct cvm *c, struct machine *m, struct cloak_err *err);

/* Interval arithmetic the views are made of (exposed for the unit tests): out = a minus b; -1 if it overflows cap. */
int sim_ranges_subtract(const struct sim_range *a, unsigned na, const struct sim_range *b, unsigned nb,
			struct sim_range *out, unsigned cap);

#endif
