/* cvm_sev_es.c: the AMD SEV-ES kind behind the confidential-VM seam: SEV's launch plus the measured VMSAs of every vCPU. */
#include "cvm.h"

#include "machine.h"
#include "sev.h"
#include "sev/vmsa.h"
#include "sim_memview.h"

#include <errno.h>
#include <linux/kvm.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

/*
 * SEV-ES shares SEV's steps (the PSP, pinning, LAUNCH_START, the measured
 * regions, MEASURE, the secret, FINISH: cvm_sev_ops) and adds what the
 * encrypted register state needs: an SEV-ES VM (KVM_X86_SEV_ES_VM and
 * KVM_SEV_INIT2 with the VMSA features KVM offers, or KVM_SEV_ES_INIT on
 * older kernels), an ES policy, every vCPU's registers set before
 * LAUNCH_UPDATE_VMSA, and none read or written after it (cvm_vcpu_regs).
 * docs/sev-launch.md describes the VMSA and the rules.
 */

#define MSR_AMD64_SEV_STATUS 0xc0010131
#define SEV_STATUS_SEV (1ull << 0)
#define SEV_STATUS_ES (1ull << 1)

static struct sev_launch *launch_of(struct cvm *c)
{
	return c->priv;
}

static int es_open(struct cvm *c, const struct vm_config *cfg, int *cbit, struct cloak_err *err)
{
	if (cvm_sev_ops.open(c, cfg, cbit, err) < 0)
		return -1;
	if (sev_launch_es_open(launch_of(c), err) < 0) {
		cvm_sev_ops.close(c);
		return -1;
	}
	return 0;
}

static void es_plan_inputs(struct cvm *c, struct plan_inputs *in)
{
	sev_launch_vmsa_inputs(launch_of(c), &in->vmsa);
}

static unsigned long es_vm_type(struct cvm *c, int kvm_fd)
{
	return sev_vm_type(c->cfg, kvm_fd);
}

/*
 * The boot vCPU has its entry registers (kvm_set_entry); each AP gets the
 * reset state the plan's VMSAs assume, the very function the plan used.
 * Every vCPU also gets the x87/SSE reset state explicitly, as QEMU sets it:
 * KVM_SEV_INIT2 copies it into the VMSA, so the digest must not depend on
 * how a kernel initializes a new vCPU's FPU. It goes through XSAVE because
 * KVM_SET_FPU and KVM_GET_FPU leave MXCSR out (x86.c). Then KVM copies every
 * vCPU into its VMSA and the firmware measures them.
 */
static int es_set_fpu(struct cvm *c, int fd, unsigned index, struct cloak_err *err)
{
	struct kvm_xsave *xsave = calloc(1, sizeof(*xsave));
	struct kvm_fpu fpu;
	int rc = 0;

	if (!xsave)
		return err_set(err, "out of memory");
	vmsa_reset_fpu(&fpu);
	if (cvm_vcpu_regs(c, fd, KVM_GET_XSAVE, xsave) < 0)
		rc = err_errno(err, "KVM_GET_XSAVE of vCPU %u", index);
	else {
		vmsa_fpu_to_xsave(&fpu, xsave);
		if (cvm_vcpu_regs(c, fd, KVM_SET_XSAVE, xsave) < 0)
			rc = err_errno(err, "cannot set vCPU %u's x87/SSE reset state (KVM_SET_XSAVE)", index);
	}
	free(xsave);
	return rc;
}

static int es_vcpus_ready(struct cvm *c, struct machine *m, struct cloak_err *err)
{
	unsigned i;

	for (i = 0; i < m->ncpus; i++)
		if (es_set_fpu(c, m->vcpu_fd[i], i, err) < 0)
			return -1;
	for (i = 1; i < m->ncpus; i++) {
		struct kvm_sregs sregs;
		struct kvm_regs regs;

		if (cvm_vcpu_regs(c, m->vcpu_fd[i], KVM_GET_SREGS, &sregs) < 0)
			return err_errno(err, "KVM_GET_SREGS of vCPU %u", i);
		vmsa_ap_reset_regs(m->plan->vmsa.vcpu_sig, &regs, &sregs);
		if (cvm_vcpu_regs(c, m->vcpu_fd[i], KVM_SET_SREGS, &sregs) < 0)
			return err_errno(err, "cannot set vCPU %u's reset state (KVM_SET_SREGS)", i);
		if (cvm_vcpu_regs(c, m->vcpu_fd[i], KVM_SET_REGS, &regs) < 0)
			return err_errno(err, "cannot set vCPU %u's reset state (KVM_SET_REGS)", i);
	}
	if (sev_launch_update_vmsa(launch_of(c), m->vcpu_fd, m->ncpus, err) < 0)
		return -1;
	/* The simulated hardware walks page tables privately: after the measurement, as that is not a register. */
	if (cvm_sev_sim_private_cr3(c, m, err) < 0)
		return -1;
	cvm_seal_regs(c);
	timeline_mark(&m->tl, TL_SEV_LAUNCH_UPDATE_VMSA);
	return 0;
}

/* The guest's CPUID 0x8000001F: SEV's, plus bit 3, SEV-ES. */
static void es_cpuid(struct cvm *c, const struct machine *m, struct kvm_cpuid2 *cpuid, unsigned capacity)
{
	unsigned i;

	cvm_sev_ops.cpuid(c, m, cpuid, capacity);
	if (!m->confidential)
		return;
	for (i = 0; i < cpuid->nent; i++)
		if (cpuid->entries[i].function == 0x8000001f)
			cpuid->entries[i].eax |= 1u << 3;
}

static bool es_handle_exit(struct cvm *c, struct machine *m, unsigned vcpu, struct kvm_run *run)
{
	/* The simulator's SEV_STATUS under SEV-ES: SEV and SEV-ES enabled, no SNP. */
	if (run->exit_reason == KVM_EXIT_X86_RDMSR && c->cfg->sev_backend == SEV_BACKEND_SIM && m->confidential &&
	    run->msr.index == MSR_AMD64_SEV_STATUS) {
		run->msr.error = 0;
		run->msr.data = SEV_STATUS_SEV | SEV_STATUS_ES;
		return true;
	}
	return cvm_sev_ops.handle_exit(c, m, vcpu, run);
}

/* SEV's own steps, unchanged (a C initializer cannot name another table's members). */
static uint64_t es_pin(struct cvm *c, const struct launch_plan *plan)
{
	return cvm_sev_ops.pin_bytes(c, plan);
}

static bool es_guest_shares(struct cvm *c, const struct launch_plan *plan)
{
	return cvm_sev_ops.guest_shares(c, plan);
}

static int es_vm_created(struct cvm *c, struct machine *m, struct cloak_err *err)
{
	return cvm_sev_ops.vm_created(c, m, err);
}

static int es_memory_ready(struct cvm *c, struct machine *m, struct cloak_err *err)
{
	return cvm_sev_ops.memory_ready(c, m, err);
}

static int es_load(struct cvm *c, struct machine *m, struct cloak_err *err)
{
	return cvm_sev_ops.load(c, m, err);
}

static int es_finish(struct cvm *c, struct machine *m, struct cloak_err *err)
{
	if (cvm_sev_ops.finish(c, m, err) < 0)
		return -1;
	m->tl.owner_command = launch_of(c)->owner_command;
	return 0;
}

static void es_close(struct cvm *c)
{
	cvm_sev_ops.close(c);
}

const struct cvm_ops cvm_sev_es_ops = {
	.name = "sev-es",
	.open = es_open,
	.plan_inputs = es_plan_inputs,
	.pin_bytes = es_pin,
	.vm_type = es_vm_type,
	.guest_shares = es_guest_shares,
	.vm_created = es_vm_created,
	.memory_ready = es_memory_ready,
	.load = es_load,
	.cpuid = es_cpuid,
	.vcpus_ready = es_vcpus_ready,
	.finish = es_finish,
	.handle_exit = es_handle_exit,
	.close = es_close,
};
