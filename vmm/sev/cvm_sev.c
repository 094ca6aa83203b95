/* cvm_sev.c: the AMD SEV kind behind the confidential-VM seam: the launch steps, and the simulator's guest-facing hooks. */
#include "cvm.h"

#include "machine.h"
#include "sev.h"
#include "sim_memview.h"

#include <asm/kvm_para.h>
#include <errno.h>
#include <linux/kvm.h>
#include <linux/kvm_para.h>
#include <stddef.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/ioctl.h>

#define MSR_AMD64_SEV_STATUS 0xc0010131
/* Bit 0: the guest allows live migration (it reports its shared pages); the other bits are reserved. */
#define MIGRATION_CONTROL_ALLOWED 1ull

/* The kind's state: the launch, and under the simulated PSP the memory views that stand in for encryption. */
struct sev_kind {
	struct sev_launch launch;
	struct sim_memview view;
	enum sim_memory_mode view_mode;
	int cpuid_cbit;  /* the C-bit CPUID reports: the plan's, unless a test makes the host lie */
};

static struct sev_launch *launch_of(struct cvm *c)
{
	return &((struct sev_kind *)c->priv)->launch;
}

/*
 * SEV-ES reads c->priv as its struct sev_launch (cvm_sev_es.c); SNP borrows
 * some of these steps with a c->priv of its own (cvm_snp.c), so they see no
 * SEV state there: no memory views, and the plan's C-bit in CPUID.
 */
_Static_assert(offsetof(struct sev_kind, launch) == 0, "cvm_sev_es.c reads c->priv as a struct sev_launch");

static struct sev_kind *kind_of(struct cvm *c)
{
	return c->ops == &cvm_sev_ops || c->ops == &cvm_sev_es_ops ? c->priv : NULL;
}

/*
 * CLOAK_SIM_CPUID_CBIT (tests only, simulated PSP only): CPUID reports this
 * C-bit while the page tables cloak builds and measures use the real one: a
 * host lying to the guest, which the guest runtime must catch.
 */
static int sim_cpuid_cbit(int cbit, struct cloak_err *err)
{
	const char *s = getenv("CLOAK_SIM_CPUID_CBIT");
	char *end;
	long v;

	if (!s || !*s)
		return cbit;
	errno = 0;
	v = strtol(s, &end, 10);
	if (errno || *end || v < 0 || v > 63)
		return err_set(err, "CLOAK_SIM_CPUID_CBIT=%s: give a bit number from 0 to 63", s);
	return (int)v;
}

static int sev_open(struct cvm *c, const struct vm_config *cfg, int *cbit, struct cloak_err *err)
{
	bool simulated = cfg->sev_backend == SEV_BACKEND_SIM;
	int mode = simulated ? sim_memory_mode_from_env(err) : SIM_MEMORY_OFF;
	struct sev_kind *k;

	if (mode < 0)
		return -1;
	k = calloc(1, sizeof(*k));
	if (!k)
		return err_set(err, "out of memory");
	if (sev_launch_open(&k->launch, cfg, cbit, err) < 0 ||
	    (k->cpuid_cbit = simulated ? sim_cpuid_cbit(*cbit, err) : *cbit) < 0) {
		sev_launch_close(&k->launch);  /* a no-op when the PSP never opened */
		free(k);
		return -1;
	}
	k->view_mode = (enum sim_memory_mode)mode;
	c->priv = k;
	return 0;
}

static void sev_close(struct cvm *c)
{
	/* /dev/sev stays open until the VM is gone: KVM looks the fd up again on every command. */
	if (c->priv)
		sev_launch_close(launch_of(c));
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
 * Whether the guest is told it runs under SEV (CPUID, SEV_STATUS). Under the
 * simulator a guest that saw SEV puts the C-bit in its page tables, which
 * reach RAM only through the private view (sim_memview.c): without that view
 * (CLOAK_SIM_MEMORY=off) only cloak's own ELF guests, whose tables cloak
 * builds, are shown SEV.
 */
static bool sev_guest_shares(struct cvm *c, const struct launch_plan *plan)
{
	if (plan->cbit < 0)
		return false;
	return c->cfg->sev_backend == SEV_BACKEND_REAL || plan->kind == PLAN_KIND_ELF ||
	       (kind_of(c) && kind_of(c)->view_mode != SIM_MEMORY_OFF);
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
			fprintf(stderr, "cloak: --sev-backend sim with CLOAK_SIM_MEMORY=off: a Linux guest is not "
					"shown SEV, so it runs as a plain guest: it does not bounce DMA and devices do "
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
	if (c->cfg->sev_backend == SEV_BACKEND_SIM && m->confidential)
		return sim_memview_setup(&kind_of(c)->view, m, kind_of(c)->view_mode, m->plan->cbit, err);
	return 0;
}

#define MSR_MTRR_DEF_TYPE 0x2ff
#define MTRR_ENABLED_WRITE_BACK ((1ull << 11) | 6)  /* E: MTRRs on; default type 6, write-back */

/*
 * Firmware leaves MTRRs enabled; cloak has no firmware, and with MTRRs off
 * Linux 6.1 turns PAT off too ("MTRRs disabled, skipping PAT initialization").
 * Without PAT's write-protect type an SEV Linux cannot convert memory early:
 * __sme_early_enc_dec's early_memremap_*_wp returns NULL and the kernel hits
 * BUG() in kvm_smp_prepare_boot_cpu (seen under the simulator's memory views;
 * the same on hardware). Every vCPU gets MTRRs on, write-back by default.
 */
static int mtrrs_on(struct cvm *c, struct machine *m, struct cloak_err *err)
{
	struct {
		struct kvm_msrs head;
		struct kvm_msr_entry entry;
	} msrs = { .head = { .nmsrs = 1 }, .entry = { .index = MSR_MTRR_DEF_TYPE, .data = MTRR_ENABLED_WRITE_BACK } };
	unsigned i;

	for (i = 0; i < m->ncpus; i++)
		if (cvm_vcpu_regs(c, m->vcpu_fd[i], KVM_SET_MSRS, &msrs) != 1)
			return err_errno(err, "--sev: cannot enable vCPU %u's MTRRs (KVM_SET_MSRS MTRRdefType)", i);
	return 0;
}

/* MTRRs as firmware leaves them; under the simulator the vCPUs' CR3 reaches the page tables privately. */
static int sev_vcpus_ready(struct cvm *c, struct machine *m, struct cloak_err *err)
{
	if (!m->confidential)
		return 0;
	if (mtrrs_on(c, m, err) < 0)
		return -1;
	return sim_memview_vcpus(&kind_of(c)->view, m, err);
}

int cvm_sev_sim_private_cr3(struct cvm *c, struct machine *m, struct cloak_err *err)
{
	return kind_of(c) && m->confidential ? sim_memview_vcpus(&kind_of(c)->view, m, err) : 0;
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
	if (!m->confidential)
		return;
	sev_cpuid_leaf(cpuid, capacity, kind_of(c) ? kind_of(c)->cpuid_cbit : m->plan->cbit);
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
	switch (run->exit_reason) {
	case KVM_EXIT_HYPERCALL:
		if (run->hypercall.nr != KVM_HC_MAP_GPA_RANGE)
			return false;
		cvm_map_gpa_range(m, run);
		if (kind_of(c))
			sim_memview_update(&kind_of(c)->view, m);
		return true;
	case KVM_EXIT_MMIO:
		return kind_of(c) && sim_memview_mmio(&kind_of(c)->view, m, vcpu, run);
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
	.vcpus_ready = sev_vcpus_ready,
	.finish = sev_finish,
	.handle_exit = sev_handle_exit,
	.close = sev_close,
};
