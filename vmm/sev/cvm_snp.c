/* cvm_snp.c: the AMD SEV-SNP kind behind the confidential-VM seam: private memory, the page-typed launch, conversions. */
#include "cvm.h"

#include "kvm.h"
#include "loader.h"
#include "machine.h"
#include "sev/snp.h"
#include "sev/snp_abi.h"
#include "sev/vmsa.h"
#include "sev.h"

#include <cpuid.h>
#include <errno.h>
#include <fcntl.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/ioctl.h>
#include <unistd.h>

/*
 * On a 6.11+ host (docs/sev-launch.md "SEV-SNP"): a KVM_X86_SNP_VM, KVM_SEV_INIT2,
 * each RAM slot backed by a guest_memfd (KVM_SET_USER_MEMORY_REGION2) and made
 * private (KVM_SET_MEMORY_ATTRIBUTES) except the shared DMA window, then
 * SNP_LAUNCH_START, SNP_LAUNCH_UPDATE for every page of the plan with its page
 * type (snp_plan.c, which cloak-owner recomputes), the secrets page, the CPUID
 * page built from the guest's CPUID, and SNP_LAUNCH_FINISH (KVM measures the
 * VMSAs there) with the ID block, its authentication and the host data.
 *
 * Under --sev-backend sim the same steps go to the SIMULATED kernel side and
 * firmware of psp_sim_snp.c: our 6.1 and 6.12 kernels have neither SNP nor a
 * guest_memfd that a nested host can use, so the attributes are kept in cloak,
 * the slots stay normal ones and the guest runs unencrypted on plain KVM.
 */

#define MSR_AMD64_SEV_STATUS 0xc0010131
#define SEV_STATUS_SEV_ES_SNP 0x7ull           /* SEV, SEV-ES and SNP enabled */
#define SNP_GHCB_VERSION 2                      /* the GHCB protocol SNP guests speak */
#define SNP_FEAT_SNP_ACTIVE (1ull << 0)         /* KVM sets it in every SNP VMSA */
#define SNP_SIM_FEAT_DEBUG_SWAP (1ull << 5)     /* what the simulated KVM offers INIT2 */
#define SNP_UPDATE_RETRIES 1000                 /* SNP_LAUNCH_UPDATE calls interrupted in a row before cloak gives up */

struct snp_launch {
	const struct vm_config *cfg;
	bool sim;
	int sev_fd, kvm_fd, vm_fd;
	struct snp_sim *fw;             /* sim: the firmware */
	struct snp_ksim *ks;            /* sim: the kernel side */
	int gmem_fd[PLAN_MAX_RAM];
	unsigned ngmem;
	uint64_t policy;
	uint64_t init2_features;        /* what INIT2 gets; KVM adds SNP_ACTIVE to every VMSA */
	uint32_t vcpu_sig;
	unsigned pages;                 /* pages given by SNP_LAUNCH_UPDATE, for the message and the timeline */
	unsigned update_calls;          /* SNP_LAUNCH_UPDATE ioctls made, resumptions included */
	/* CPUID registers the firmware corrected: the vCPUs get the same values. */
	struct snp_cpuid_page *cpuid_fixed;
	struct kvm_cpuid2 *sim_hw_cpuid;  /* sim: the CPUID the simulated platform allows */
	uint8_t ld[SNP_LD_LEN];         /* the digest the plan predicts */
	char *owner_command;
};

/*
 * c->priv is a struct snp_launch. The SEV and SEV-ES steps this kind borrows
 * (guest_shares, vm_created, cpuid, handle_exit) read only the config and the
 * machine, never their own struct sev_launch: a change there must keep it so.
 */
static struct snp_launch *snp_of(struct cvm *c)
{
	return c->priv;
}

/* ---- the kernel, real or simulated ---- */

static int sev_cmd(struct snp_launch *sl, uint32_t id, void *data, uint32_t *fw_error)
{
	struct kvm_sev_cmd cmd = { .id = id, .data = (uint64_t)(uintptr_t)data, .sev_fd = (uint32_t)sl->sev_fd };
	int rc = ioctl(sl->vm_fd, KVM_MEMORY_ENCRYPT_OP, &cmd);

	*fw_error = cmd.error;
	return rc < 0 ? -errno : 0;
}

static int snp_fail(struct cloak_err *err, const char *what, int rc, uint32_t fw_error)
{
	return psp_describe_failure(err, what, rc, fw_error);
}

static int kernel_init2(struct snp_launch *sl, struct cloak_err *err)
{
	struct kvm_sev_init in = { .vmsa_features = sl->init2_features, .ghcb_version = SNP_GHCB_VERSION };
	uint32_t fw_error = 0;
	int rc = sl->sim ? snp_ksim_init2(sl->ks, &in) : sev_cmd(sl, KVM_SEV_INIT2, &in, &fw_error);

	return rc < 0 ? snp_fail(err, "KVM_SEV_INIT2 (KVM_X86_SNP_VM)", rc, fw_error) : 0;
}

static int kernel_attributes(struct snp_launch *sl, uint64_t gpa, uint64_t size, bool private)
{
	struct kvm_memory_attributes a = { .address = gpa, .size = size,
					   .attributes = private ? KVM_MEMORY_ATTRIBUTE_PRIVATE : 0 };

	if (sl->sim)
		return snp_ksim_set_attributes(sl->ks, gpa, size, a.attributes, 0);
	return ioctl(sl->vm_fd, KVM_SET_MEMORY_ATTRIBUTES, &a) < 0 ? -errno : 0;
}

/* Each RAM range gets a guest_memfd for its private pages; the shared mapping stays its source and shared half. */
static int kernel_slots(struct snp_launch *sl, struct machine *m, struct cloak_err *err)
{
	unsigned i;

	for (i = 0; i < m->mem.nram; i++) {
		const struct plan_ram *r = &m->mem.ram[i];
		uint8_t *host = m->mem.host + r->host_offset;
		struct kvm_create_guest_memfd g = { .size = r->size };
		struct kvm_userspace_memory_region old = { .slot = i };
		struct kvm_userspace_memory_region2 r2 = {
			.slot = i, .flags = KVM_MEM_GUEST_MEMFD, .guest_phys_addr = r->gpa, .memory_size = r->size,
			.userspace_addr = (uint64_t)(uintptr_t)host, .guest_memfd_offset = 0,
		};
		int fd;

		if (sl->sim) {
			if (snp_ksim_set_slot(sl->ks, i, r->gpa, r->size, host) < 0)
				return err_set(err, "simulated KVM: cannot track guest memory 0x%llx+0x%llx",
					       (unsigned long long)r->gpa, (unsigned long long)r->size);
			continue;
		}
		fd = ioctl(sl->vm_fd, KVM_CREATE_GUEST_MEMFD, &g);
		if (fd < 0)
			return err_errno(err, "--sev-mode snp: cannot create a guest_memfd of 0x%llx bytes "
					      "(KVM_CREATE_GUEST_MEMFD; Linux 6.8+ with SNP)", (unsigned long long)r->size);
		sl->gmem_fd[sl->ngmem++] = fd;
		r2.guest_memfd = (uint32_t)fd;
		/* A slot cannot gain a guest_memfd: it is deleted (size 0) and made again. */
		if (ioctl(sl->vm_fd, KVM_SET_USER_MEMORY_REGION, &old) < 0 ||
		    ioctl(sl->vm_fd, KVM_SET_USER_MEMORY_REGION2, &r2) < 0)
			return err_errno(err, "--sev-mode snp: cannot give guest memory 0x%llx+0x%llx a guest_memfd "
					      "(KVM_SET_USER_MEMORY_REGION2)", (unsigned long long)r->gpa,
					 (unsigned long long)r->size);
	}
	return 0;
}

/* ---- the steps ---- */

static void snp_close(struct cvm *c);

/* Whether the host runs with SMT on, as the kernel says; unknown (no sysfs file) counts as off. */
static bool host_smt_active(void)
{
	FILE *f = fopen("/sys/devices/system/cpu/smt/active", "re");
	int c = f ? fgetc(f) : EOF;

	if (f)
		fclose(f);
	return c == '1';
}

static int snp_open_launch(struct cvm *c, const struct vm_config *cfg, int *cbit, struct cloak_err *err)
{
	struct snp_launch *sl = calloc(1, sizeof(*sl));
	unsigned a, b, cx, d;
	int types;

	if (!sl)
		return err_set(err, "out of memory");
	c->priv = sl;
	sl->cfg = cfg;
	sl->sev_fd = sl->kvm_fd = sl->vm_fd = -1;
	sl->policy = cfg->snp_policy;
	__cpuid(1, a, b, cx, d);
	sl->vcpu_sig = a;
	sl->sim = cfg->sev_backend == SEV_BACKEND_SIM;
	if (sl->sim) {
		struct snp_sim_params p;

		snp_sim_default_params(&p);
		sl->fw = snp_sim_open(&p, err);
		sl->ks = sl->fw ? snp_ksim_open(sl->fw, err) : NULL;
		if (!sl->ks)
			return -1;
		sl->init2_features = SNP_SIM_FEAT_DEBUG_SWAP;
		*cbit = PSP_SIM_SNP_CBIT;
		fprintf(stderr, "cloak: --sev-mode snp under --sev-backend sim: the SNP firmware AND the kernel's SNP "
				"side (guest_memfd, memory attributes) are SIMULATED; guest memory is NOT private or "
				"encrypted, only the launch digest and reports are what SNP would give\n");
		return 0;
	}
	/* The kernel must offer the SNP VM type: Debian 12's 6.1 does not. */
	sl->kvm_fd = open(cfg->kvm_device, O_RDWR | O_CLOEXEC);
	if (sl->kvm_fd < 0)
		return err_errno(err, "--sev-mode snp: cannot open %s", cfg->kvm_device);
	types = ioctl(sl->kvm_fd, KVM_CHECK_EXTENSION, KVM_CAP_VM_TYPES);
	if (types <= 0 || !(types & (1 << KVM_X86_SNP_VM)))
		return err_set(err, "--sev-mode snp: this kernel has no SNP support: KVM_CAP_VM_TYPES (0x%x) lacks "
				    "KVM_X86_SNP_VM (%d); SNP needs Linux 6.11 or later with kvm_amd sev_snp=1 "
				    "(`cloak host-check` says what is missing)", types > 0 ? (unsigned)types : 0u,
			       KVM_X86_SNP_VM);
	{
		struct kvm_device_attr attr = { .group = KVM_X86_GRP_SEV, .attr = KVM_X86_SEV_VMSA_FEATURES,
						.addr = (uint64_t)(uintptr_t)&sl->init2_features };

		if (ioctl(sl->kvm_fd, KVM_GET_DEVICE_ATTR, &attr) < 0)
			sl->init2_features = 0;
	}
	sl->sev_fd = open(cfg->sev_device, O_RDWR | O_CLOEXEC);
	if (sl->sev_fd < 0)
		return err_errno(err, "--sev-mode snp: cannot open %s (`cloak host-check` says why)", cfg->sev_device);
	__cpuid(0x8000001f, a, b, cx, d);
	*cbit = (int)(b & 0x3f);
	if (!(sl->policy & SNP_POLICY_SMT) && host_smt_active())
		return err_set(err, "--policy 0x%llx: bit 16 (SMT allowed) is clear, but this host has SMT on "
				    "(/sys/devices/system/cpu/smt/active): the firmware refuses the launch (POLICY_FAILURE); "
				    "set bit 16 or turn SMT off (nosmt, or echo off > /sys/devices/system/cpu/smt/control)",
			       (unsigned long long)sl->policy);
	return 0;
}

/* A kind that fails to open is not closed by its caller: it lets go of what it had itself. */
static int snp_open(struct cvm *c, const struct vm_config *cfg, int *cbit, struct cloak_err *err)
{
	if (snp_open_launch(c, cfg, cbit, err) == 0)
		return 0;
	snp_close(c);
	return -1;
}

/*
 * A Linux guest gets no VMSA feature: its decompressor ends the guest when
 * SEV_STATUS shows a feature it lists as needing guest support and does not
 * implement (arch/x86/boot/compressed/sev.c snp_check_features). 6.1
 * implements none, DebugSwap among the refused; 6.12 DebugSwap alone. cloak's
 * own guests take every feature KVM offers. INIT2 gets what the plan's VMSAs
 * say, so the owner's command names it.
 */
static void snp_plan_inputs(struct cvm *c, struct plan_inputs *in)
{
	struct snp_launch *sl = snp_of(c);

	if (bzimage_is_bzimage(in->kernel.data, in->kernel.size) && sl->init2_features) {
		fprintf(stderr, "cloak: --sev-mode snp: a Linux bzImage is launched without the VMSA features 0x%llx KVM "
				"offers (DebugSwap is bit 5): Linux 6.1 stops at boot on any of them\n",
			(unsigned long long)sl->init2_features);
		sl->init2_features = 0;
	}

	in->vmsa = (struct plan_vmsa_inputs){ .on = true, .features = sl->init2_features | SNP_FEAT_SNP_ACTIVE,
					      .vcpu_sig = sl->vcpu_sig, .fpu_synced = true };
}

static unsigned long snp_vm_type(struct cvm *c, int kvm_fd)
{
	(void)kvm_fd;
	return snp_of(c)->sim ? KVM_X86_DEFAULT_VM : KVM_X86_SNP_VM;
}

static bool snp_guest_shares(struct cvm *c, const struct launch_plan *plan)
{
	return cvm_sev_ops.guest_shares(c, plan);
}

static int snp_vm_created(struct cvm *c, struct machine *m, struct cloak_err *err)
{
	snp_of(c)->vm_fd = m->vm_fd;
	/*
	 * Under the simulator only cloak's own ELF guests are shown SNP (their page
	 * tables are cloak's, and its runtime knows the simulator has no GHCB MSR).
	 * Any other guest runs as a plain guest: Linux's SNP boot code would
	 * PVALIDATE and speak the GHCB protocol, which no host here has.
	 */
	if (!m->confidential) {
		if (snp_of(c)->sim)
			fprintf(stderr, "cloak: --sev-mode snp under --sev-backend sim: this %s guest is NOT shown SEV-SNP "
					"(CPUID and SEV_STATUS say no SEV) and runs as a plain guest: a Linux kernel's SNP boot "
					"code would execute PVALIDATE and the GHCB protocol, which this host has not. The launch "
					"is the one SNP hardware would get: the CC blob (secrets page 0x%llx, CPUID page 0x%llx, "
					"through SETUP_CC_BLOB), its reserved e820 range and the digest\n",
				plan_kind_name(m->plan->kind), SNP_PLAN_SECRETS_GPA, SNP_PLAN_CPUID_GPA);
		return 0;
	}
	/* KVM_HC_MAP_GPA_RANGE exits and, under the simulator, the SEV_STATUS filter: SEV's own. */
	return cvm_sev_ops.vm_created(c, m, err);
}

/* INIT2, guest_memfd slots, all RAM private but the shared DMA window, SNP_LAUNCH_START. */
static int snp_memory_ready(struct cvm *c, struct machine *m, struct cloak_err *err)
{
	struct snp_launch *sl = snp_of(c);
	struct kvm_sev_snp_launch_start start = { .policy = sl->policy };
	uint32_t fw_error = 0;
	unsigned i;
	int rc;

	if (kernel_init2(sl, err) < 0 || kernel_slots(sl, m, err) < 0)
		return -1;
	for (i = 0; i < m->mem.nram; i++) {
		rc = kernel_attributes(sl, m->mem.ram[i].gpa, m->mem.ram[i].size, true);
		if (rc < 0)
			return errno = -rc, err_errno(err, "--sev-mode snp: cannot make guest memory private "
							   "(KVM_SET_MEMORY_ATTRIBUTES)");
	}
	if (m->plan->dma_size && (rc = kernel_attributes(sl, m->plan->dma_gpa, m->plan->dma_size, false)) < 0)
		return errno = -rc, err_errno(err, "--sev-mode snp: cannot share the DMA window (KVM_SET_MEMORY_ATTRIBUTES)");
	rc = sl->sim ? snp_ksim_launch_start(sl->ks, &start, &fw_error) :
		       sev_cmd(sl, KVM_SEV_SNP_LAUNCH_START, &start, &fw_error);
	if (rc < 0) {
		snp_fail(err, "KVM_SEV_SNP_LAUNCH_START", rc, fw_error);
		if (rc == -EINVAL && (sl->policy & ~SNP_POLICY_KVM_VALID))
			err_prefix(err, "--policy 0x%llx: bits 21 and up (0x%llx here) are newer than this kernel's KVM, which "
					"takes bits 0-20 (Linux 6.12): ", (unsigned long long)sl->policy,
				   (unsigned long long)(sl->policy & ~SNP_POLICY_KVM_VALID));
		else if (fw_error == SEV_RET_POLICY_FAILURE)
			err_prefix(err, "--policy 0x%llx: the firmware refuses this policy (an ABI version above its own in "
					"bits 0-15, SMT not allowed on an SMT host, SINGLE_SOCKET on several sockets, or a "
					"migration agent it has not): ", (unsigned long long)sl->policy);
		return -1;
	}
	timeline_mark(&m->tl, TL_SEV_LAUNCH_START);
	return 0;
}

/* One SNP_LAUNCH_UPDATE call on the range in *u: the kernel advances gfn_start, uaddr and len past what it did. */
static int update_call(struct snp_launch *sl, struct kvm_sev_snp_launch_update *u, uint32_t *fw_error)
{
	*fw_error = 0;
	sl->update_calls++;
	if (sl->sim)
		return snp_ksim_launch_update(sl->ks, u, fw_error);
	return sev_cmd(sl, KVM_SEV_SNP_LAUNCH_UPDATE, u, fw_error);
}

/*
 * `npages` pages of one type from `gpa`, their source at `src` (NULL for
 * ZERO). KVM does the range page by page and stops at the first page it
 * cannot do (arch/x86/kvm/svm/sev.c snp_launch_update over kvm_gmem_populate,
 * 6.12): the pages before it count as success, with gfn_start, uaddr and len
 * advanced past them; a range also stops at the end of its memory slot or on
 * a pending signal. So the call is repeated from where it stopped until len
 * is 0; a failure on the first page of a call is the error, with the
 * firmware's status. A call that does nothing and says success would repeat
 * for ever: it is an error too.
 */
static int update(struct snp_launch *sl, uint64_t gpa, uint8_t type, void *src, uint64_t npages, uint32_t *fw_error,
		  uint64_t *failed_gpa)
{
	struct kvm_sev_snp_launch_update u = { .gfn_start = gpa / SNP_PAGE_SIZE, .uaddr = (uint64_t)(uintptr_t)src,
					       .len = npages * SNP_PAGE_SIZE, .type = type };
	unsigned interrupted = 0;

	while (u.len) {
		uint64_t before = u.len;
		int rc = update_call(sl, &u, fw_error);

		*failed_gpa = u.gfn_start * SNP_PAGE_SIZE;
		/* Interrupted before any page (a kernel that says so): the same range again, a bounded number of times. */
		if ((rc == -EINTR || rc == -EAGAIN) && ++interrupted < SNP_UPDATE_RETRIES)
			continue;
		if (rc < 0)
			return rc;
		if (u.len > before || (before - u.len) % SNP_PAGE_SIZE)
			return -EPROTO;
		sl->pages += (unsigned)((before - u.len) / SNP_PAGE_SIZE);
		if (u.len == before)
			return -EPROTO;
		interrupted = 0;  /* the bound is on interruptions in a row, as SNP_UPDATE_RETRIES says */
	}
	return 0;
}

/* A run of pages the plan gives in a row: contiguous guest frames of one type, contiguous in cloak's mapping. */
struct update_run {
	uint64_t gpa, npages;
	uint8_t type;
	uint8_t *host;          /* NULL for ZERO pages */
};

struct load_ctx {
	struct snp_launch *sl;
	struct machine *m;
	uint8_t *scratch;       /* page-aligned: the CPUID page's source */
	struct update_run run;  /* pages not given yet (npages 0: none) */
};

static const char *const reg_names[4] = { "EAX", "EBX", "ECX", "EDX" };

/* The CPUID page from what vCPU 0 is given (kvm_create_vcpus builds each vCPU's table the same way). */
static int cpuid_page_build(struct machine *m, struct snp_cpuid_page *t, struct cloak_err *err)
{
	struct kvm_cpuid2 *cpuid = kvm_guest_cpuid(m, 0, err);
	char dropped[512];
	unsigned n;

	if (!cpuid)
		return -1;
	memset(t, 0, SNP_PAGE_SIZE);
	n = snp_cpuid_table_fill(t, cpuid->entries, cpuid->nent, dropped, sizeof(dropped));
	if (n)
		fprintf(stderr, "cloak: the SNP CPUID page holds %d of the guest's %u CPUID leaves: the ones Linux's SNP "
				"code needs first; dropped, so the guest reads them as zero: %s\n", SNP_CPUID_COUNT_MAX,
			cpuid->nent, dropped);
	free(cpuid);
	return 0;
}

/*
 * Under the simulator the platform allows exactly the CPUID the guest is
 * given, so the firmware's check runs on every launch; the test hook
 * CLOAK_TEST_SNP_CPUID_DENY=LEAF:REG:MASK (REG eax..edx) takes bits away from
 * the platform, so that the corrected-page path runs too.
 */
static int sim_hw_cpuid(struct snp_launch *sl, struct machine *m, struct cloak_err *err)
{
	const char *deny = getenv("CLOAK_TEST_SNP_CPUID_DENY");
	struct kvm_cpuid2 *hw = kvm_guest_cpuid(m, 0, err);
	unsigned long leaf = 0, mask = 0;
	char reg[8] = "";
	unsigned i, r;

	if (!hw)
		return -1;
	if (deny && sscanf(deny, "%lx:e%1[a-d]x:%lx", &leaf, reg, &mask) == 3)
		for (i = 0; i < hw->nent; i++) {
			uint32_t *regs[4] = { &hw->entries[i].eax, &hw->entries[i].ebx, &hw->entries[i].ecx,
					      &hw->entries[i].edx };

			r = (unsigned)(reg[0] - 'a');
			if (hw->entries[i].function == leaf && r < 4)
				*regs[r] &= ~(uint32_t)mask;
		}
	free(sl->sim_hw_cpuid);
	sl->sim_hw_cpuid = hw;
	snp_sim_set_hw_cpuid(sl->fw, hw->entries, hw->nent);
	return 0;
}

/* The firmware said what the hardware allows: name each difference, keep the corrected table for the vCPUs. */
static void cpuid_page_report(const struct snp_cpuid_page *asked, const struct snp_cpuid_page *fixed)
{
	unsigned i, r;

	for (i = 0; i < fixed->count && i < SNP_CPUID_COUNT_MAX; i++) {
		const uint32_t a[4] = { asked->fn[i].eax, asked->fn[i].ebx, asked->fn[i].ecx, asked->fn[i].edx };
		const uint32_t f[4] = { fixed->fn[i].eax, fixed->fn[i].ebx, fixed->fn[i].ecx, fixed->fn[i].edx };

		for (r = 0; r < 4; r++)
			if (a[r] != f[r])
				fprintf(stderr, "cloak: SNP firmware: CPUID 0x%x.%u %s 0x%08x is more than this platform "
						"allows; the guest gets 0x%08x\n", fixed->fn[i].eax_in, fixed->fn[i].ecx_in,
					reg_names[r], a[r], f[r]);
	}
}

static int update_failed(struct cloak_err *err, int rc, uint32_t fw_error, int type, uint64_t gpa)
{
	char what[112];

	if (rc == -EPROTO)
		return err_set(err, "KVM_SEV_SNP_LAUNCH_UPDATE (page type %d at guest 0x%llx): the kernel reported "
				    "success without giving the pages; this kernel's SNP_LAUNCH_UPDATE is not the one cloak "
				    "knows (Linux 6.11+)", type, (unsigned long long)gpa);
	snprintf(what, sizeof(what), "KVM_SEV_SNP_LAUNCH_UPDATE (page type %d at guest 0x%llx)", type,
		 (unsigned long long)gpa);
	return snp_fail(err, what, rc, fw_error);
}

/* Gives the pending run to the firmware: one call, or more when KVM stops part way. */
static int run_flush(struct load_ctx *l, struct cloak_err *err)
{
	struct update_run *r = &l->run;
	uint64_t failed_gpa = r->gpa;
	uint32_t fw_error = 0;
	int rc;

	if (!r->npages)
		return 0;
	rc = update(l->sl, r->gpa, r->type, r->host, r->npages, &fw_error, &failed_gpa);
	r->npages = 0;
	return rc < 0 ? update_failed(err, rc, fw_error, r->type, failed_gpa) : 0;
}

/* The CPUID page alone: when the firmware refuses it, KVM hands its corrected page back. */
static int load_cpuid_page(struct load_ctx *l, uint64_t gpa, struct cloak_err *err)
{
	struct snp_launch *sl = l->sl;
	struct snp_cpuid_page *asked = malloc(SNP_PAGE_SIZE);
	uint64_t failed_gpa = gpa;
	uint32_t fw_error = 0;
	int rc;

	if (!asked || cpuid_page_build(l->m, (struct snp_cpuid_page *)l->scratch, err) < 0) {
		free(asked);
		return asked ? -1 : err_set(err, "out of memory");
	}
	memcpy(asked, l->scratch, SNP_PAGE_SIZE);
	rc = update(sl, gpa, SNP_PAGE_CPUID, l->scratch, 1, &fw_error, &failed_gpa);
	if (rc == -EIO && fw_error == SEV_RET_INVALID_PARAM) {
		/* The kernel handed back the firmware's corrected page: the guest gets what the platform allows. */
		cpuid_page_report(asked, (struct snp_cpuid_page *)l->scratch);
		sl->cpuid_fixed = malloc(SNP_PAGE_SIZE);
		if (sl->cpuid_fixed)
			memcpy(sl->cpuid_fixed, l->scratch, SNP_PAGE_SIZE);
		rc = update(sl, gpa, SNP_PAGE_CPUID, l->scratch, 1, &fw_error, &failed_gpa);
	}
	free(asked);
	return rc < 0 ? update_failed(err, rc, fw_error, SNP_PAGE_CPUID, failed_gpa) : 0;
}

/*
 * Pages come in the plan's order (snp_plan_pages); the digest is per page, in
 * that order, whatever the calls. A page that continues the pending run (the
 * next frame, the same type, the next page of cloak's mapping) joins it;
 * anything else gives the run first. The CPUID page is always a call of its
 * own, so that its corrected copy is its alone.
 */
static int load_page(void *ctx, enum snp_page_type type, uint64_t gpa, const uint8_t *page, struct cloak_err *err)
{
	struct load_ctx *l = ctx;
	struct update_run *r = &l->run;
	uint8_t *host = NULL;

	(void)page;  /* the same bytes are in guest memory already: guestmem_load_plan put them there */
	if (type != SNP_PAGE_ZERO) {
		host = gpa_range(&l->m->mem, gpa, SNP_PAGE_SIZE);
		if (!host)
			return err_set(err, "internal error: SNP page 0x%llx outside guest memory", (unsigned long long)gpa);
	}
	if (type == SNP_PAGE_CPUID)
		return run_flush(l, err) < 0 ? -1 : load_cpuid_page(l, gpa, err);
	if (r->npages && r->type == (uint8_t)type && gpa == r->gpa + r->npages * SNP_PAGE_SIZE &&
	    (!host || host == r->host + r->npages * SNP_PAGE_SIZE)) {
		r->npages++;
		return 0;
	}
	if (run_flush(l, err) < 0)
		return -1;
	*r = (struct update_run){ .gpa = gpa, .npages = 1, .type = (uint8_t)type, .host = host };
	return 0;
}

/* The plan's bytes go into the shared mapping, then each page into private memory with its type. */
static int snp_load(struct cvm *c, struct machine *m, struct cloak_err *err)
{
	struct snp_launch *sl = snp_of(c);
	struct load_ctx l = { .sl = sl, .m = m, .scratch = aligned_alloc(SNP_PAGE_SIZE, SNP_PAGE_SIZE) };
	int rc;

	if (!l.scratch)
		return err_set(err, "out of memory");
	rc = sl->sim ? sim_hw_cpuid(sl, m, err) : 0;
	if (rc == 0)
		rc = guestmem_load_plan(&m->mem, m->plan, err);
	if (rc == 0)
		rc = snp_plan_pages(m->plan, load_page, &l, err);
	if (rc == 0)
		rc = run_flush(&l, err);
	free(l.scratch);
	if (rc < 0)
		return -1;
	if (sl->sim) {
		uint8_t pages_ld[SNP_LD_LEN], fw_ld[SNP_LD_LEN];

		/* The pages alone, before KVM adds the VMSAs: a difference here is in the pages, not the registers. */
		if (snp_plan_digest(m->plan, false, pages_ld, err) < 0)
			return -1;
		snp_fw_guest_digest(snp_ksim_guest(sl->ks), fw_ld);
		if (memcmp(fw_ld, pages_ld, SNP_LD_LEN))
			return err_set(err, "internal error: the simulated SNP firmware measured other pages than the plan "
					    "has (%u pages given)", sl->pages);
	}
	if (snp_plan_digest(m->plan, true, sl->ld, err) < 0)
		return -1;
	m->tl.snp_launch_update_pages = sl->pages;
	m->tl.snp_launch_update_calls = sl->update_calls;
	timeline_mark(&m->tl, TL_SEV_LAUNCH_UPDATE);
	return 0;
}

/* The guest's CPUID: SEV's and SEV-ES's leaf, bit 4 (SNP), and the values the firmware corrected. */
static void snp_cpuid(struct cvm *c, const struct machine *m, struct kvm_cpuid2 *cpuid, unsigned capacity)
{
	const struct snp_launch *sl = snp_of(c);
	unsigned i, k;

	cvm_sev_es_ops.cpuid(c, m, cpuid, capacity);
	if (!m->confidential)
		return;
	for (i = 0; i < cpuid->nent; i++) {
		struct kvm_cpuid_entry2 *e = &cpuid->entries[i];

		if (e->function == 0x8000001f)
			e->eax |= 1u << 4;
		for (k = 0; sl->cpuid_fixed && k < sl->cpuid_fixed->count && k < SNP_CPUID_COUNT_MAX; k++) {
			const struct snp_cpuid_fn *f = &sl->cpuid_fixed->fn[k];

			if (f->eax_in == e->function && (!(e->flags & KVM_CPUID_FLAG_SIGNIFCANT_INDEX) || f->ecx_in == e->index)) {
				e->eax = f->eax;
				e->ebx = f->ebx;
				e->ecx = f->ecx;
				e->edx = f->edx;
			}
		}
	}
}

/*
 * The APs get the reset state the plan's VMSAs assume, and every vCPU the
 * x87/SSE reset state (FCW 0x37f, MXCSR 0x1f80) that INIT2 makes KVM copy into
 * the VMSA, set explicitly so that the VMSAs do not depend on what a kernel
 * leaves in a fresh vCPU. KVM measures every VMSA at SNP_LAUNCH_FINISH.
 */
static int snp_vcpus_ready(struct cvm *c, struct machine *m, struct cloak_err *err)
{
	struct kvm_fpu fpu;
	unsigned i;

	vmsa_reset_fpu(&fpu);
	for (i = 0; i < m->ncpus; i++) {
		if (cvm_vcpu_regs(c, m->vcpu_fd[i], KVM_SET_FPU, &fpu) < 0)
			return err_errno(err, "cannot set vCPU %u's x87/SSE reset state (KVM_SET_FPU)", i);
		if (snp_of(c)->sim && snp_ksim_set_fpu(snp_of(c)->ks, i, &fpu) < 0)
			return err_set(err, "simulated KVM: %u vCPUs is more than it keeps", m->ncpus);
	}
	for (i = 1; i < m->ncpus; i++) {
		struct kvm_sregs sregs;
		struct kvm_regs regs;

		if (cvm_vcpu_regs(c, m->vcpu_fd[i], KVM_GET_SREGS, &sregs) < 0)
			return err_errno(err, "KVM_GET_SREGS of vCPU %u", i);
		vmsa_ap_reset_regs(m->plan->vmsa.vcpu_sig, &regs, &sregs);
		if (cvm_vcpu_regs(c, m->vcpu_fd[i], KVM_SET_SREGS, &sregs) < 0 ||
		    cvm_vcpu_regs(c, m->vcpu_fd[i], KVM_SET_REGS, &regs) < 0)
			return err_errno(err, "cannot set vCPU %u's reset state (KVM_SET_SREGS/REGS)", i);
	}
	return 0;
}

static int read_b64_exact(const char *path, const char *what, size_t want, uint8_t **out, struct cloak_err *err)
{
	size_t n = 0;

	if (sev_file_read_b64(path, what, 2 * want, out, &n, err) < 0)
		return -1;
	if (n != want) {
		free(*out);
		*out = NULL;
		return err_set(err, "%s %s holds %zu bytes; it must hold %zu (base64, from `cloak-owner id-block build`)",
			       what, path, n, want);
	}
	return 0;
}

/* Under the simulator: a report the firmware signed at the guest's request, and the chain that checks it. */
static int sim_report_out(struct snp_launch *sl, struct cloak_err *err)
{
	static const uint8_t report_data[64];
	char ca[4096], vcek[4096], rep[4096];
	struct snp_report r;
	uint32_t st;

	snprintf(ca, sizeof(ca), "%s/ca.pem", sl->cfg->snp_sim_report_dir);
	snprintf(vcek, sizeof(vcek), "%s/vcek.der", sl->cfg->snp_sim_report_dir);
	snprintf(rep, sizeof(rep), "%s/report.bin", sl->cfg->snp_sim_report_dir);
	st = snp_fw_guest_report(snp_ksim_guest(sl->ks), report_data, 0, &r);
	if (st)
		return snp_fail(err, "the simulated MSG_REPORT_REQ", -EIO, st);
	if (sev_file_write(rep, "--sev-sim-report report", &r, sizeof(r), 0644, err) < 0 ||
	    snp_sim_export_chain(sl->fw, ca, vcek, err) < 0)
		return -1;
	fprintf(stderr, "cloak: --sev-sim-report: the SIMULATED firmware's report and VCEK chain are in %s\n",
		sl->cfg->snp_sim_report_dir);
	return 0;
}

/* The cloak-owner command that recomputes this launch's digest: SEV-ES's, with SNP's mode. */
static char *snp_owner_command(const struct snp_launch *sl, const struct launch_plan *plan)
{
	char *es = sev_owner_command(plan, sl->sim, sl->cfg->run_argc, sl->cfg->run_argv), *p;

	/* sev_owner_command words it for --mode seves; the other arguments are SNP's too (INIT2, features, signature). */
	p = es ? strstr(es, "--mode seves ") : NULL;
	if (p)
		memcpy(p, "--mode snp   ", 13);
	return es;
}

/* Under the simulator: each vCPU's VMSA as KVM will build it is the plan's, or the message says where not. */
static int check_vmsas(struct snp_launch *sl, struct machine *m, struct cloak_err *err)
{
	uint8_t page[SNP_PAGE_SIZE];
	unsigned i, off;
	int rc;

	for (i = 0; i < m->ncpus; i++) {
		rc = snp_ksim_vcpu_vmsa(sl->ks, i, m->vcpu_fd[i], page);
		if (rc < 0)
			return errno = -rc, err_errno(err, "cannot read vCPU %u's registers for its VMSA", i);
		for (off = 0; off < SNP_PAGE_SIZE; off++)
			if (page[off] != m->plan->vmsas[(size_t)i * SNP_PAGE_SIZE + off])
				return err_set(err, "internal error: vCPU %u's VMSA differs from the plan's at offset 0x%x "
						    "(0x%02x, the plan 0x%02x)", i, off, page[off],
					       m->plan->vmsas[(size_t)i * SNP_PAGE_SIZE + off]);
	}
	return 0;
}

/* SNP_LAUNCH_FINISH (VMSAs, ID block, host data); then the registers are the guest's. */
static int snp_finish(struct cvm *c, struct machine *m, struct cloak_err *err)
{
	struct snp_launch *sl = snp_of(c);
	struct kvm_sev_snp_launch_finish fin = { 0 };
	uint8_t *id_block = NULL, *id_auth = NULL, fw_ld[SNP_LD_LEN];
	char hex[2 * SNP_LD_LEN + 2];
	uint32_t fw_error = 0;
	int rc = -1;

	if (sl->cfg->snp_id_block_path &&
	    (read_b64_exact(sl->cfg->snp_id_block_path, "--id-block", KVM_SEV_SNP_ID_BLOCK_SIZE, &id_block, err) < 0 ||
	     read_b64_exact(sl->cfg->snp_id_auth_path, "--id-auth", KVM_SEV_SNP_ID_AUTH_SIZE, &id_auth, err) < 0))
		goto out;
	if (id_block) {
		fin.id_block_en = 1;
		fin.id_block_uaddr = (uint64_t)(uintptr_t)id_block;
		fin.id_auth_uaddr = (uint64_t)(uintptr_t)id_auth;
		/* An author key is in the auth block when its algorithm field is set. */
		fin.auth_key_en = id_auth[SNP_AUTH_OFF_AUTHOR_ALGO] != 0;
	}
	if (sl->cfg->snp_has_host_data)
		memcpy(fin.host_data, sl->cfg->snp_host_data, sizeof(fin.host_data));
	if (sl->sim && check_vmsas(sl, m, err) < 0)
		goto out;
	rc = sl->sim ? snp_ksim_launch_finish(sl->ks, &fin, m->vcpu_fd, m->ncpus, &fw_error) :
		       sev_cmd(sl, KVM_SEV_SNP_LAUNCH_FINISH, &fin, &fw_error);
	if (rc < 0) {
		snp_fail(err, "KVM_SEV_SNP_LAUNCH_FINISH", rc, fw_error);
		if (fw_error == SEV_RET_BAD_MEASUREMENT || fw_error == SEV_RET_POLICY_FAILURE)
			err_prefix(err, "--id-block names another launch digest or policy than this launch's: ");
		rc = -1;
		goto out;
	}
	rc = -1;
	cvm_seal_regs(c);
	if (sl->sim) {
		/* The simulated firmware's digest must be the plan's: anything else is a bug in one of them. */
		snp_fw_guest_digest(snp_ksim_guest(sl->ks), fw_ld);
		if (memcmp(fw_ld, sl->ld, SNP_LD_LEN)) {
			err_set(err, "internal error: the simulated SNP firmware measured other VMSAs than the plan's (the "
				     "vCPUs' registers differ from what the plan predicts)");
			goto out;
		}
	}
	sev_hex(sl->ld, SNP_LD_LEN, hex);
	fprintf(stderr, "cloak: sev-snp: launch digest %s (%u pages in %u SNP_LAUNCH_UPDATE calls, and %u VMSA%s)%s\n",
		hex, sl->pages, sl->update_calls, m->ncpus, m->ncpus == 1 ? "" : "s", sl->sim ? "" : ", as the plan predicts it: the guest's report says the firmware's");
	free(sl->owner_command);
	sl->owner_command = snp_owner_command(sl, m->plan);
	m->tl.owner_command = sl->owner_command;
	if (sl->cfg->sev_measurement_out) {
		strcat(hex, "\n");
		if (sev_file_write(sl->cfg->sev_measurement_out, "--measurement-out file", hex, strlen(hex), 0644, err) < 0)
			goto out;
	}
	if (sl->cfg->snp_sim_report_dir && sim_report_out(sl, err) < 0)
		goto out;
	timeline_mark(&m->tl, TL_SEV_LAUNCH_FINISH);
	rc = 0;
out:
	free(id_block);
	free(id_auth);
	return rc;
}

/*
 * The guest converts memory: KVM_HC_MAP_GPA_RANGE (Linux's way) and, on an
 * access whose private/shared state differs from the attributes, a
 * KVM_EXIT_MEMORY_FAULT. Either way the attributes follow the guest; a
 * shared range is also what devices may use, and a page that became shared
 * gives its private backing back to the host (hole punched in guest_memfd).
 */
static int convert(struct snp_launch *sl, struct machine *m, uint64_t gpa, uint64_t size, bool private)
{
	unsigned i;
	int rc;

	if (!size || (gpa | size) % SNP_PAGE_SIZE || gpa + size < gpa)
		return -EINVAL;
	rc = kernel_attributes(sl, gpa, size, private);
	if (rc < 0 || private || sl->sim)
		return rc;
	for (i = 0; i < sl->ngmem && i < m->mem.nram; i++) {
		const struct plan_ram *r = &m->mem.ram[i];

		if (gpa >= r->gpa && gpa - r->gpa < r->size)
			(void)fallocate(sl->gmem_fd[i], FALLOC_FL_PUNCH_HOLE | FALLOC_FL_KEEP_SIZE, (off_t)(gpa - r->gpa),
					(off_t)(size < r->size - (gpa - r->gpa) ? size : r->size - (gpa - r->gpa)));
	}
	return 0;
}

static bool snp_handle_exit(struct cvm *c, struct machine *m, unsigned vcpu, struct kvm_run *run)
{
	struct snp_launch *sl = snp_of(c);

	switch (run->exit_reason) {
	case KVM_EXIT_HYPERCALL: {
		uint64_t gpa = run->hypercall.args[0], npages = run->hypercall.args[1];
		bool private = run->hypercall.args[2] & KVM_MAP_GPA_RANGE_ENCRYPTED;
		int rc;

		if (run->hypercall.nr != KVM_HC_MAP_GPA_RANGE)
			return false;
		if (npages > UINT64_MAX / SNP_PAGE_SIZE) {
			run->hypercall.ret = (uint64_t)-KVM_EINVAL;
			return true;
		}
		rc = convert(sl, m, gpa, npages * SNP_PAGE_SIZE, private);
		if (rc < 0) {
			run->hypercall.ret = (uint64_t)-KVM_EINVAL;
			return true;
		}
		cvm_map_gpa_range(m, run);
		return true;
	}
	case KVM_EXIT_MEMORY_FAULT:
		/* A guest mistake (a range cloak cannot convert) fails the access again; the guest sees its fault. */
		if (convert(sl, m, run->memory_fault.gpa & ~(uint64_t)(SNP_PAGE_SIZE - 1),
			    (run->memory_fault.size + SNP_PAGE_SIZE - 1) & ~(uint64_t)(SNP_PAGE_SIZE - 1),
			    run->memory_fault.flags & KVM_MEMORY_EXIT_FLAG_PRIVATE) == 0 &&
		    !(run->memory_fault.flags & KVM_MEMORY_EXIT_FLAG_PRIVATE))
			shared_map_set(&m->shared, run->memory_fault.gpa & ~(uint64_t)(SNP_PAGE_SIZE - 1),
				       (run->memory_fault.size + SNP_PAGE_SIZE - 1) & ~(uint64_t)(SNP_PAGE_SIZE - 1), true);
		return true;
	case KVM_EXIT_X86_RDMSR:
		if (sl->sim && m->confidential && run->msr.index == MSR_AMD64_SEV_STATUS) {
			run->msr.error = 0;
			run->msr.data = SEV_STATUS_SEV_ES_SNP;
			return true;
		}
		break;
	}
	return cvm_sev_ops.handle_exit(c, m, vcpu, run);
}

static void snp_close(struct cvm *c)
{
	struct snp_launch *sl = snp_of(c);
	unsigned i;

	if (!sl)
		return;
	for (i = 0; i < sl->ngmem; i++)
		close(sl->gmem_fd[i]);
	if (sl->sev_fd >= 0)
		close(sl->sev_fd);
	if (sl->kvm_fd >= 0)
		close(sl->kvm_fd);
	snp_ksim_close(sl->ks);
	snp_sim_close(sl->fw);
	free(sl->cpuid_fixed);
	free(sl->sim_hw_cpuid);
	free(sl->owner_command);
	free(sl);
	c->priv = NULL;
}

const struct cvm_ops cvm_snp_ops = {
	.name = "sev-snp",
	.open = snp_open,
	.plan_inputs = snp_plan_inputs,
	.vm_type = snp_vm_type,
	.guest_shares = snp_guest_shares,
	.vm_created = snp_vm_created,
	.memory_ready = snp_memory_ready,
	.load = snp_load,
	.cpuid = snp_cpuid,
	.vcpus_ready = snp_vcpus_ready,
	.finish = snp_finish,
	.handle_exit = snp_handle_exit,
	.close = snp_close,
};
