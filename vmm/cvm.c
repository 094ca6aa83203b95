/* cvm.c: picks the confidential kind for a run and gives each step its default where a kind leaves it out. */
#include "cvm.h"

#include "machine.h"

#include <errno.h>
#include <linux/kvm.h>
#include <linux/kvm_para.h>
#include <stdio.h>
#include <string.h>
#include <sys/ioctl.h>

int cvm_open(struct cvm *c, const struct vm_config *cfg, int *cbit, struct cloak_err *err)
{
	const struct cvm_ops *ops = &cvm_none_ops;

	if (cfg->sev)
		ops = cfg->sev_mode == SEV_LAUNCH_SNP ? &cvm_snp_ops :
		      cfg->sev_mode == SEV_LAUNCH_ES ? &cvm_sev_es_ops : &cvm_sev_ops;
	*c = (struct cvm){ .ops = ops, .cfg = cfg };
	*cbit = -1;
	return c->ops->open ? c->ops->open(c, cfg, cbit, err) : 0;
}

void cvm_close(struct cvm *c)
{
	if (c->ops && c->ops->close)
		c->ops->close(c);
	c->ops = NULL;
}

void cvm_plan_inputs(struct cvm *c, struct plan_inputs *in)
{
	if (c->ops->plan_inputs)
		c->ops->plan_inputs(c, in);
}

int cvm_vcpu_regs(const struct cvm *c, int vcpu_fd, unsigned long request, void *arg)
{
	if (c && c->regs_sealed) {
		errno = EPERM;
		return -1;
	}
	return ioctl(vcpu_fd, request, arg);
}

void cvm_seal_regs(struct cvm *c)
{
	c->regs_sealed = true;
}

uint64_t cvm_pin_bytes(struct cvm *c, const struct launch_plan *plan)
{
	if (c->ops->pin_bytes)
		return c->ops->pin_bytes(c, plan);
	return c->cfg->pin ? plan->mem_size : 0;
}

unsigned long cvm_vm_type(struct cvm *c, int kvm_fd)
{
	return c->ops->vm_type ? c->ops->vm_type(c, kvm_fd) : 0;
}

bool cvm_guest_shares(struct cvm *c, const struct launch_plan *plan)
{
	return c->ops->guest_shares && c->ops->guest_shares(c, plan);
}

int cvm_vm_created(struct cvm *c, struct machine *m, struct cloak_err *err)
{
	return c->ops->vm_created ? c->ops->vm_created(c, m, err) : 0;
}

int cvm_memory_ready(struct cvm *c, struct machine *m, struct cloak_err *err)
{
	return c->ops->memory_ready ? c->ops->memory_ready(c, m, err) : 0;
}

int cvm_load(struct cvm *c, struct machine *m, struct cloak_err *err)
{
	if (c->ops->load)
		return c->ops->load(c, m, err);
	return guestmem_load_plan(&m->mem, m->plan, err);
}

void cvm_cpuid(struct cvm *c, const struct machine *m, struct kvm_cpuid2 *cpuid, unsigned capacity)
{
	if (c->ops->cpuid)
		c->ops->cpuid(c, m, cpuid, capacity);
}

int cvm_vcpus_ready(struct cvm *c, struct machine *m, struct cloak_err *err)
{
	return c->ops->vcpus_ready ? c->ops->vcpus_ready(c, m, err) : 0;
}

int cvm_finish(struct cvm *c, struct machine *m, struct cloak_err *err)
{
	return c->ops->finish ? c->ops->finish(c, m, err) : 0;
}

bool cvm_handle_exit(struct cvm *c, struct machine *m, unsigned vcpu, struct kvm_run *run)
{
	return c->ops->handle_exit && c->ops->handle_exit(c, m, vcpu, run);
}

void cvm_map_gpa_range(struct machine *m, struct kvm_run *run)
{
	uint64_t gpa = run->hypercall.args[0], npages = run->hypercall.args[1];
	bool shared = !(run->hypercall.args[2] & KVM_MAP_GPA_RANGE_ENCRYPTED);

	if (npages > (UINT64_MAX - gpa) / PAGE_SIZE || (gpa & (PAGE_SIZE - 1))) {
		run->hypercall.ret = (uint64_t)-KVM_EINVAL;
		return;
	}
	if (shared_map_set(&m->shared, gpa, npages * PAGE_SIZE, shared) < 0) {
		if (!atomic_exchange(&m->dma_reported, true))
			fprintf(stderr, "cloak: the guest shared more separate ranges than cloak tracks (%d); devices "
					"refuse buffers outside them\n", SHARED_MAX_RANGES);
		run->hypercall.ret = (uint64_t)-ENOMEM;
		return;
	}
	run->hypercall.ret = 0;
}

void cvm_enable_map_gpa_range(struct machine *m)
{
	struct kvm_enable_cap cap = { .cap = KVM_CAP_EXIT_HYPERCALL, .args = { 1ull << KVM_HC_MAP_GPA_RANGE } };

	/* Linux reports its shared pages with this hypercall; without it only the DMA window counts. */
	if (ioctl(m->vm_fd, KVM_ENABLE_CAP, &cap) < 0)
		fprintf(stderr, "cloak: this KVM cannot pass KVM_HC_MAP_GPA_RANGE to cloak (KVM_ENABLE_CAP "
				"KVM_CAP_EXIT_HYPERCALL: %s); devices will use only the boot-info DMA window\n",
			strerror(errno));
}
