/* cvm.h: the confidential-VM seam: one ops table per kind of guest protection (none, SEV; SEV-ES and SNP later). */
#ifndef CLOAK_CVM_H
#define CLOAK_CVM_H

/*
 * The launch sequence (launch.c) and the run loop call every step of this
 * table unconditionally; a kind leaves out (NULL) what it does not change.
 * Adding a kind means its file, its ops table, and one line in cvm_open.
 */
#include "cloak.h"
#include "config.h"
#include "plan.h"

struct machine;
struct kvm_cpuid2;
struct kvm_run;
struct cvm;

struct cvm_ops {
	const char *name;  /* "none", "sev" */
	/* Before the plan: open what the kind needs (the PSP) and say where the C-bit goes (*cbit, -1: none). */
	int (*open)(struct cvm *c, const struct vm_config *cfg, int *cbit, struct cloak_err *err);
	/* Bytes the launch locks in RAM, for the RLIMIT_MEMLOCK preflight (0: nothing). Default: RAM under --pin. */
	uint64_t (*pin_bytes)(struct cvm *c, const struct launch_plan *plan);
	/* KVM_CREATE_VM's machine type. Default 0. */
	unsigned long (*vm_type)(struct cvm *c, int kvm_fd);
	/* Whether the guest is told it is confidential, so devices touch only memory it shared. Default: no. */
	bool (*guest_shares)(struct cvm *c, const struct launch_plan *plan);
	/* After KVM_CREATE_VM: the exits the kind owns (hypercalls, MSR filter). */
	int (*vm_created)(struct cvm *c, struct machine *m, struct cloak_err *err);
	/* After guest memory and its slots exist: INIT, REG_REGION (guest_memfd later), LAUNCH_START. */
	int (*memory_ready)(struct cvm *c, struct machine *m, struct cloak_err *err);
	/* How the plan's regions enter guest memory: copied, then measured where the plan says. Default: copy. */
	int (*load)(struct cvm *c, struct machine *m, struct cloak_err *err);
	/* The guest's CPUID for one vCPU, after cloak's own edits; the table has room for `capacity` entries. */
	void (*cpuid)(struct cvm *c, const struct machine *m, struct kvm_cpuid2 *cpuid, unsigned capacity);
	/* After the vCPUs and their registers exist (VMSAs under SEV-ES). */
	int (*vcpus_ready)(struct cvm *c, struct machine *m, struct cloak_err *err);
	/* Measure, attest, inject the secret, finish: the guest may run only after this. */
	int (*finish)(struct cvm *c, struct machine *m, struct cloak_err *err);
	/* An exit the kind owns (KVM_HC_MAP_GPA_RANGE, MSR exits, memory faults): true when it was handled. */
	bool (*handle_exit)(struct cvm *c, struct machine *m, unsigned vcpu, struct kvm_run *run);
	/* After the VM is gone. */
	void (*close)(struct cvm *c);
};

struct cvm {
	const struct cvm_ops *ops;
	const struct vm_config *cfg;
	void *priv;
};

extern const struct cvm_ops cvm_none_ops;  /* cvm_none.c: a plain guest */
extern const struct cvm_ops cvm_sev_ops;   /* sev/cvm_sev.c: AMD SEV */

/* Opens the kind the config asks for. */
int cvm_open(struct cvm *c, const struct vm_config *cfg, int *cbit, struct cloak_err *err);
void cvm_close(struct cvm *c);

/* The steps, with each kind's default where it leaves one out. */
uint64_t cvm_pin_bytes(struct cvm *c, const struct launch_plan *plan);
unsigned long cvm_vm_type(struct cvm *c, int kvm_fd);
bool cvm_guest_shares(struct cvm *c, const struct launch_plan *plan);
int cvm_vm_created(struct cvm *c, struct machine *m, struct cloak_err *err);
int cvm_memory_ready(struct cvm *c, struct machine *m, struct cloak_err *err);
int cvm_load(struct cvm *c, struct machine *m, struct cloak_err *err);
void cvm_cpuid(struct cvm *c, const struct machine *m, struct kvm_cpuid2 *cpuid, unsigned capacity);
int cvm_vcpus_ready(struct cvm *c, struct machine *m, struct cloak_err *err);
int cvm_finish(struct cvm *c, struct machine *m, struct cloak_err *err);
bool cvm_handle_exit(struct cvm *c, struct machine *m, unsigned vcpu, struct kvm_run *run);

/*
 * Shared by the confidential kinds: KVM_HC_MAP_GPA_RANGE, the guest saying
 * which pages it now shares or takes back; devices may then use exactly those.
 */
void cvm_map_gpa_range(struct machine *m, struct kvm_run *run);
/* Asks KVM to pass KVM_HC_MAP_GPA_RANGE to cloak (KVM_CAP_EXIT_HYPERCALL); warns when it cannot. */
void cvm_enable_map_gpa_range(struct machine *m);

#endif
