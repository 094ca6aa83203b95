/* cvm_sev.c: the AMD SEV kind behind the confidential-VM seam: the launch steps, and the simulator's guest-facing hooks. */
#include "cvm.h"

#include "machine.h"
#include "sev.h"

#include <asm/kvm_para.h>
#include <errno.h>
#include <linux/kvm.h>
#include <linux/kvm_para.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/ioctl.h>

#define MSR_AMD64_SEV_STATUS 0xc0010131
/* Bit 0: the guest allows live migration (it reports its shared pages); the other bits are reserved. */
#define MIGRATION_CONTROL_ALLOWED 1ull

static struct sev_launch *launch_of(struct cvm *c)
{
	return c->priv;
}

static int sev_open(struct cvm *c, const struct vm_config *cfg, int *cbit, struct cloak_err *err)
{
	struct sev_launch *sl = calloc(1, sizeof(*sl));

	if (!sl)
		return err_set(err, "out of memory");
	if (sev_launch_open(sl, cfg, cbit, err) < 0) {
		free(sl);
		return -1;
	}
	c->priv = sl;
	return 0;
}

static void sev_close(struct cvm *c)
{
	/* /dev/sev stays open until the VM is gone: KVM looks the fd up again on every command. */
	if (c->priv)
		sev_launch_close(c->priv);
	free(c->priv);
	c->priv = NULL;
}

static uint64_t sev_pin(struct cvm *c, const struct launch_plan *plan)
{
	return c->cfg->pin ? sev_pin_bytes(plan) : 0;
}

static unsigned long sev_type(struct cvm *c, int kvm_fd)
{
	return sev_vm_type(c->cfg, kvm_fd);
}

/*
 * Whether the guest is told it runs under SEV (CPUID, SEV_STATUS). A Linux
 * guest that saw SEV would put the C-bit in CR3, and with the simulator's
 * C-bit (an ignored PTE bit on non-SEV hardware) VM entry fails: under the
 * simulator only cloak's own ELF guests are shown SEV.
 */
static bool sev_guest_shares(struct cvm *c, const struct launch_plan *plan)
{
	if (plan->cbit < 0)
		return false;
	return c->cfg->sev_backend == SEV_BACKEND_REAL || plan->kind == PLAN_KIND_ELF;
}

/*
 * The MSRs this kind answers itself. A confidential guest is offered
 * KVM_FEATURE_MIGRATION_CONTROL (without it Linux never reports what it
 * shares), and KVM's documentation makes userspace that offers it filter and
 * handle writes of MSR_KVM_MIGRATION_CONTROL: KVM does not. Under the
 * simulated PSP the guest also runs on plain KVM, which has no SEV_STATUS MSR:
 * reads of it come here (sev_handle_exit answers "SEV on"), so a guest follows
 * the same SEV paths as on hardware.
 */
static int trap_msrs(struct machine *m, bool simulated, struct cloak_err *err)
{
	static uint8_t deny[1];  /* one MSR per range, its bit clear: the access exits to userspace */
	struct kvm_enable_cap cap = { .cap = KVM_CAP_X86_USER_SPACE_MSR, .args = { KVM_MSR_EXIT_REASON_FILTER } };
	struct kvm_msr_filter filter = {
		.flags = KVM_MSR_FILTER_DEFAULT_ALLOW,
		.ranges = {
			{ .flags = KVM_MSR_FILTER_WRITE, .nmsrs = 1, .base = MSR_KVM_MIGRATION_CONTROL, .bitmap = deny },
			{ .flags = KVM_MSR_FILTER_READ, .nmsrs = 1, .base = MSR_AMD64_SEV_STATUS, .bitmap = deny },
		},
	};

	if (!simulated)
		filter.ranges[1].nmsrs = 0;  /* an empty range ends the list */
	if (ioctl(m->vm_fd, KVM_ENABLE_CAP, &cap) < 0 || ioctl(m->vm_fd, KVM_X86_SET_MSR_FILTER, &filter) < 0)
		return err_errno(err, "--sev: cannot filter the guest's %s (KVM_CAP_X86_USER_SPACE_MSR, "
				      "KVM_X86_SET_MSR_FILTER; Linux 5.10 or later)",
				 simulated ? "MSR_KVM_MIGRATION_CONTROL writes and SEV_STATUS reads" :
					     "MSR_KVM_MIGRATION_CONTROL writes");
	return 0;
}

static int sev_vm_created(struct cvm *c, struct machine *m, struct cloak_err *err)
{
	bool simulated = c->cfg->sev_backend == SEV_BACKEND_SIM;

	if (!m->confidential) {
		if (simulated)
			fprintf(stderr, "cloak: --sev-backend sim: a Linux guest cannot be shown SEV without SEV "
					"hardware, so it runs as a plain guest: it does not bounce DMA and devices do "
					"not check what it shares\n");
		return 0;
	}
	cvm_enable_map_gpa_range(m);
	return trap_msrs(m, simulated, err);
}

/* INIT before any vCPU exists, then pin all RAM and LAUNCH_START. */
static int sev_memory_ready(struct cvm *c, struct machine *m, struct cloak_err *err)
{
	if (sev_launch_start(launch_of(c), m->kvm_fd, m->vm_fd, &m->mem, err) < 0)
		return -1;
	timeline_mark(&m->tl, TL_SEV_LAUNCH_START);
	return 0;
}

/* Every region is copied in, then LAUNCH_UPDATE_DATA encrypts and measures the measured ones in plan order. */
static int sev_load(struct cvm *c, struct machine *m, struct cloak_err *err)
{
	if (guestmem_load_plan(&m->mem, m->plan, err) < 0)
		return -1;
	if (sev_launch_update(launch_of(c), m->plan, &m->mem, err) < 0)
		return -1;
	timeline_mark(&m->tl, TL_SEV_LAUNCH_UPDATE);
	return 0;
}

/* An SEV Linux reports the memory it shares (KVM_HC_MAP_GPA_RANGE) only under this KVM feature bit. */
static void cpuid_offer_migration_control(struct kvm_cpuid2 *cpuid)
{
	unsigned i;

	for (i = 0; i < cpuid->nent; i++)
		if (cpuid->entries[i].function == 0x40000001)
			cpuid->entries[i].eax |= 1u << KVM_FEATURE_MIGRATION_CONTROL;
}

static void sev_cpuid(struct cvm *c, const struct machine *m, struct kvm_cpuid2 *cpuid, unsigned capacity)
{
	(void)c;
	if (!m->confidential)
		return;
	sev_cpuid_leaf(cpuid, capacity, m->plan->cbit);
	cpuid_offer_migration_control(cpuid);
}

/* Measure, let the owner verify and send a secret, finish; only then may the guest run. */
static int sev_finish(struct cvm *c, struct machine *m, struct cloak_err *err)
{
	if (sev_launch_finish(launch_of(c), m->plan, &m->mem, err) < 0)
		return -1;
	m->tl.measured_bytes = launch_of(c)->measured_bytes;
	timeline_mark(&m->tl, TL_SEV_LAUNCH_FINISH);
	return 0;
}

static bool sev_handle_exit(struct cvm *c, struct machine *m, unsigned vcpu, struct kvm_run *run)
{
	(void)vcpu;
	switch (run->exit_reason) {
	case KVM_EXIT_HYPERCALL:
		if (run->hypercall.nr != KVM_HC_MAP_GPA_RANGE)
			return false;
		cvm_map_gpa_range(m, run);
		return true;
	case KVM_EXIT_X86_RDMSR:
		/* The simulator's SEV_STATUS: bit 0, SEV enabled; no SEV-ES, no SNP. */
		if (c->cfg->sev_backend != SEV_BACKEND_SIM || !m->confidential ||
		    run->msr.index != MSR_AMD64_SEV_STATUS)
			return false;
		run->msr.error = 0;
		run->msr.data = 1;
		return true;
	case KVM_EXIT_X86_WRMSR:
		/* cloak never migrates a guest, so the bit is only accepted; a reserved bit is #GP, as KVM does. */
		if (!m->confidential || run->msr.index != MSR_KVM_MIGRATION_CONTROL)
			return false;
		run->msr.error = (run->msr.data & ~MIGRATION_CONTROL_ALLOWED) ? 1 : 0;
		return true;
	}
	return false;
}

const struct cvm_ops cvm_sev_ops = {
	.name = "sev",
	.open = sev_open,
	.pin_bytes = sev_pin,
	.vm_type = sev_type,
	.guest_shares = sev_guest_shares,
	.vm_created = sev_vm_created,
	.memory_ready = sev_memory_ready,
	.load = sev_load,
	.cpuid = sev_cpuid,
	.finish = sev_finish,
	.handle_exit = sev_handle_exit,
	.close = sev_close,
};
