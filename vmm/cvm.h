/* cvm.h: the confidential-VM seam: one ops table per kind of guest protection (none, SEV, SEV-ES; SNP later). */
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
	const char *name;  /* "none", "sev", "sev-es" */
	/* Before the plan: open what the kind needs (the PSP) and say where the C-bit goes (*cbit, -1: none). */
	int (*open)(struct cvm *c, const struct vm_config *cfg, int *cbit, struct cloak_err *err);
	/* After open, before the plan: what else the plan needs from the kind (the VMSA inputs under SEV-ES). */
	void (*plan_inputs)(struct cvm *c, struct plan_inputs *in);
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
	/* The vCPUs' registers belong to the guest now (SEV-ES after LAUNCH_UPDATE_VMSA): see cvm_vcpu_regs. */
	bool regs_sealed;
};

extern const struct cvm_ops cvm_none_ops;    /* cvm_none.c: a plain guest */
extern const struct cvm_ops cvm_sev_ops;     /* sev/cvm_sev.c: AMD SEV */
extern const struct cvm_ops cvm_sev_es_ops;  /* sev/cvm_sev_es.c: AMD SEV-ES */
extern const struct cvm_ops cvm_snp_ops;     /* sev/cvm_snp.c: AMD SEV-SNP */

/* Opens the kind the config asks for. */
int cvm_open(struct cvm *c, const struct vm_config *cfg, int *cbit, struct cloak_err *err);
void cvm_close(struct cvm *c);

/* The steps, with each kind's default where it leaves one out. */
void cvm_plan_inputs(struct cvm *c, struct plan_inputs *in);
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
 * The one door to a vCPU's registers: every KVM_GET/SET_REGS, _SREGS, _FPU,
 * _XCRS, _MSRS, _DEBUGREGS cloak issues goes through here (kvm.c setting the
 * entry, the run loop's crash report, debug paths). Once a kind has sealed
 * them (SEV-ES: LAUNCH_UPDATE_VMSA encrypted them into the VMSAs), it
 * refuses with EPERM without asking KVM: the values would be stale, and a
 * write would diverge from what was measured. Returns ioctl's result.
 */
int cvm_vcpu_regs(const struct cvm *c, int vcpu_fd, unsigned long request, void *arg);
void cvm_seal_regs(struct cvm *c);

/*
 * Shared by the confidential kinds: KVM_HC_MAP_GPA_RANGE, the guest saying
 * which pages it now shares or takes back; devices may then use exactly those.
 */
void cvm_map_gpa_range(struct machine *m, struct kvm_run *run);
/* Asks KVM to pass KVM_HC_MAP_GPA_RANGE to cloak (KVM_CAP_EXIT_HYPERCALL); warns when it cannot. */
void cvm_enable_map_gpa_range(struct machine *m);

#endif
