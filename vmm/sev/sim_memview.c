/* sim_memview.c: SEV's memory rules under the simulated PSP: RAM seen privately at GPA + 2^C-bit, and at C=0 only where shared. */
#include "sim_memview.h"

#include "machine.h"

#include <errno.h>
#include <linux/kvm.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/ioctl.h>

/*
 * The simulation encrypts nothing. It keeps SEV's rule about *which view* of
 * RAM an access reaches: on hardware a C=1 access is decrypted with the
 * guest's key, a C=0 access to private memory yields ciphertext. Here every RAM
 * range is a memslot at GPA + 2^cbit (the C-bit is an address bit inside the
 * guest's physical-address width), so page tables and mappings that carry the
 * C-bit reach RAM through that alias. At the plain address only what the guest
 * shared is mapped; a C=0 access to anything else has no memslot and exits to
 * cloak as MMIO, which is the violation.
 *
 * What a guest cannot be held to: on hardware page-table walks and instruction
 * fetches are private whatever the C-bit says, and Linux builds some table
 * entries and CR3 without it. Measured in the nested host (6.1 KVM): a guest
 * walk that reaches a GPA with no memslot never exits to userspace; KVM
 * injects #PF into the guest. So cloak cannot serve such walks on demand, and
 * for a Linux guest only what cloak put in its memory besides page tables and
 * the kernel image is guarded (kept out of the plain view): Linux's own page
 * tables may sit anywhere else in RAM.
 */

int sim_memory_mode_from_env(struct cloak_err *err)
{
	const char *s = getenv("CLOAK_SIM_MEMORY");

	if (!s || !*s || !strcmp(s, "strict"))
		return SIM_MEMORY_STRICT;
	if (!strcmp(s, "report"))
		return SIM_MEMORY_REPORT;
	if (!strcmp(s, "off"))
		return SIM_MEMORY_OFF;
	err_set(err, "CLOAK_SIM_MEMORY=%s: give strict, report or off", s);
	return -1;
}

int sim_ranges_subtract(const struct sim_range *a, unsigned na, const struct sim_range *b, unsigned nb,
			struct sim_range *out, unsigned cap)
{
	unsigned i, j, n = 0;

	for (i = 0; i < na; i++) {
		uint64_t at = a[i].start;

		for (j = 0; j < nb && at < a[i].end; j++) {
			if (b[j].end <= at || b[j].start >= a[i].end)
				continue;
			if (b[j].start > at) {
				if (n == cap)
					return -1;
				out[n++] = (struct sim_range){ at, b[j].start };
			}
			at = b[j].end;
		}
		if (at < a[i].end) {
			if (n == cap)
				return -1;
			out[n++] = (struct sim_range){ at, a[i].end };
		}
	}
	return (int)n;
}

/* One slot of the plain view; size 0 deletes it. */
static int set_slot(struct machine *m, unsigned slot, uint64_t gpa, uint64_t size)
{
	struct kvm_userspace_memory_region r = { .slot = slot, .guest_phys_addr = gpa, .memory_size = size };

	if (size) {
		uint8_t *host = gpa_range(&m->mem, gpa, size);

		if (!host) {
			errno = EINVAL;
			return -1;
		}
		r.userspace_addr = (uint64_t)(uintptr_t)host;
	}
	return ioctl(m->vm_fd, KVM_SET_USER_MEMORY_REGION, &r);
}

/* The plain view the rules allow now: RAM minus (guarded minus shared); both lists are sorted and disjoint. */
static int plain_wanted(struct sim_memview *v, struct machine *m, struct sim_range *out, unsigned cap)
{
	struct sim_range ram[PLAN_MAX_RAM], shared[SHARED_MAX_RANGES], secret[SIM_MAX_GUARDED + SHARED_MAX_RANGES];
	unsigned i, nshared;
	int nsecret;

	for (i = 0; i < m->mem.nram; i++)
		ram[i] = (struct sim_range){ m->mem.ram[i].gpa, m->mem.ram[i].gpa + m->mem.ram[i].size };
	pthread_rwlock_rdlock(&m->shared.lock);
	nshared = m->shared.n;
	for (i = 0; i < nshared; i++)
		shared[i] = (struct sim_range){ m->shared.r[i].start, m->shared.r[i].end };
	pthread_rwlock_unlock(&m->shared.lock);
	nsecret = sim_ranges_subtract(v->guarded, v->nguarded, shared, nshared, secret,
				      sizeof(secret) / sizeof(secret[0]));
	if (nsecret < 0)
		return -1;
	return sim_ranges_subtract(ram, m->mem.nram, secret, (unsigned)nsecret, out, cap);
}

static bool range_eq(struct sim_range a, struct sim_range b)
{
	return a.start == b.start && a.end == b.end;
}

/* Brings KVM's plain-view slots to `want`: slots that changed go first (slots must never overlap), then new ones. */
static int plain_apply(struct sim_memview *v, struct machine *m, const struct sim_range *want, unsigned nwant)
{
	bool keep[SIM_MEMVIEW_MAX_RANGES] = { false }, have[SIM_MEMVIEW_MAX_RANGES] = { false };
	bool used[SIM_MEMVIEW_MAX_RANGES] = { false };
	struct sim_range plain[SIM_MEMVIEW_MAX_RANGES];
	unsigned plain_slot[SIM_MEMVIEW_MAX_RANGES];
	unsigned i, j, n = 0;

	for (i = 0; i < v->nplain; i++)
		for (j = 0; j < nwant; j++)
			if (!have[j] && range_eq(v->plain[i], want[j])) {
				keep[i] = have[j] = true;
				break;
			}
	for (i = 0; i < v->nplain; i++) {
		if (keep[i]) {
			used[v->plain_slot[i] - v->slot_base] = true;
			plain[n] = v->plain[i];
			plain_slot[n++] = v->plain_slot[i];
		} else if (set_slot(m, v->plain_slot[i], v->plain[i].start, 0) < 0) {
			return -1;
		}
	}
	for (j = 0; j < nwant; j++) {
		unsigned s = 0;

		if (have[j])
			continue;
		while (s < SIM_MEMVIEW_MAX_RANGES && (used[s] || v->slot_base + s >= v->slot_limit))
			s++;
		if (s == SIM_MEMVIEW_MAX_RANGES || v->slot_base + s >= v->slot_limit) {
			errno = ENOSPC;
			return -1;
		}
		if (set_slot(m, v->slot_base + s, want[j].start, want[j].end - want[j].start) < 0)
			return -1;
		used[s] = true;
		plain[n] = want[j];
		plain_slot[n++] = v->slot_base + s;
	}
	memcpy(v->plain, plain, n * sizeof(plain[0]));
	memcpy(v->plain_slot, plain_slot, n * sizeof(plain_slot[0]));
	v->nplain = n;
	return 0;
}

/* Adds [gpa, gpa+size) to the guarded list, kept sorted and merged (the subtraction needs that). */
static void guard(struct sim_memview *v, uint64_t gpa, uint64_t size)
{
	struct sim_range r = { gpa & ~(uint64_t)(PAGE_SIZE - 1), ALIGN_UP(gpa + size, PAGE_SIZE) };
	unsigned i = 0, j;

	while (i < v->nguarded && v->guarded[i].end < r.start)
		i++;
	/* Merge every range that touches r, then put r in their place. */
	for (j = i; j < v->nguarded && v->guarded[j].start <= r.end; j++) {
		r.start = v->guarded[j].start < r.start ? v->guarded[j].start : r.start;
		r.end = v->guarded[j].end > r.end ? v->guarded[j].end : r.end;
	}
	if (j == i && v->nguarded == SIM_MAX_GUARDED)
		return;  /* full: that region stays reachable at C=0, which only loses a check */
	memmove(&v->guarded[i + 1], &v->guarded[j], (v->nguarded - j) * sizeof(v->guarded[0]));
	v->guarded[i] = r;
	v->nguarded = v->nguarded - (j - i) + 1;
}

/*
 * What a Linux guest must never read at C=0: the tables and data cloak puts in
 * its memory for it (ACPI and MP tables, zero page, command line) and the
 * initrd. Not the page tables cloak built (Linux's first CR3 has no C-bit),
 * and not the kernel image, where the decompressor keeps its page tables.
 */
static void guard_linux(struct sim_memview *v, const struct launch_plan *plan)
{
	unsigned i;

	for (i = 0; i < plan->nregions; i++) {
		const struct plan_region *r = &plan->regions[i];

		if (((r->flags & PLAN_OWNED) && r->gpa != PLAN_PT_GPA && r->gpa != 0) || !strcmp(r->name, "initrd"))
			guard(v, r->gpa, r->size);
	}
	guard(v, PLAN_ACPI_GPA, PAGE_SIZE);
}

int sim_memview_setup(struct sim_memview *v, struct machine *m, enum sim_memory_mode mode, int cbit,
		      struct cloak_err *err)
{
	struct sim_range want[SIM_MEMVIEW_MAX_RANGES];
	int nslots, nwant;
	unsigned i;

	memset(v, 0, sizeof(*v));
	pthread_mutex_init(&v->lock, NULL);
	v->mode = mode;
	if (mode == SIM_MEMORY_OFF || cbit < 0 || !m->confidential)
		return 0;
	v->alias = 1ull << cbit;
	if (m->mem.ram[m->mem.nram - 1].gpa + m->mem.ram[m->mem.nram - 1].size > v->alias)
		return err_set(err, "--sev-backend sim: guest RAM reaches past 2^%d, where the simulator maps its "
				    "private view; give a smaller --mem or CLOAK_SIM_MEMORY=off", cbit);
	nslots = ioctl(m->kvm_fd, KVM_CHECK_EXTENSION, KVM_CAP_NR_MEMSLOTS);
	v->slot_limit = nslots > 0 ? (unsigned)nslots : 32;
	v->slot_base = m->mem.nram;
	/* The private view replaces the plain mapping kvm_map_memory made, slot for slot. */
	for (i = 0; i < m->mem.nram; i++) {
		struct kvm_userspace_memory_region r = {
			.slot = i, .guest_phys_addr = m->mem.ram[i].gpa, .memory_size = 0,
		};

		if (ioctl(m->vm_fd, KVM_SET_USER_MEMORY_REGION, &r) < 0)
			return err_errno(err, "--sev-backend sim: cannot remove guest memory 0x%llx from its plain "
					      "address (KVM_SET_USER_MEMORY_REGION)",
					 (unsigned long long)m->mem.ram[i].gpa);
		r.guest_phys_addr = m->mem.ram[i].gpa + v->alias;
		r.memory_size = m->mem.ram[i].size;
		r.userspace_addr = (uint64_t)(uintptr_t)(m->mem.host + m->mem.ram[i].host_offset);
		if (ioctl(m->vm_fd, KVM_SET_USER_MEMORY_REGION, &r) < 0)
			return err_errno(err, "--sev-backend sim: cannot map guest memory's private view at 0x%llx "
					      "(KVM_SET_USER_MEMORY_REGION); this host's guest physical-address width "
					      "is too small for C-bit %d: use CLOAK_SIM_MEMORY=off",
					 (unsigned long long)r.guest_phys_addr, cbit);
	}
	if (m->plan->kind == PLAN_KIND_ELF) {
		for (i = 0; i < m->mem.nram; i++)
			guard(v, m->mem.ram[i].gpa, m->mem.ram[i].size);
	} else {
		guard_linux(v, m->plan);
	}
	nwant = plain_wanted(v, m, want, SIM_MEMVIEW_MAX_RANGES);
	if (nwant < 0 || plain_apply(v, m, want, (unsigned)nwant) < 0)
		return err_errno(err, "--sev-backend sim: cannot map the shared view of guest memory "
				      "(KVM_SET_USER_MEMORY_REGION)");
	v->active = true;
	return 0;
}

void sim_memview_update(struct sim_memview *v, struct machine *m)
{
	struct sim_range want[SIM_MEMVIEW_MAX_RANGES];
	int nwant;

	if (!v->active)
		return;
	pthread_mutex_lock(&v->lock);
	nwant = plain_wanted(v, m, want, SIM_MEMVIEW_MAX_RANGES);
	if (nwant < 0 || plain_apply(v, m, want, (unsigned)nwant) < 0)
		/* The guest then reads shared memory it converted through an exit: served below, never lost. */
		machine_request_stop(m, CLOAK_EXIT_GUEST_STUCK,
				     "--sev-backend sim: the guest shares more separate ranges than the simulator can map "
				     "(%u memslots; KVM_SET_USER_MEMORY_REGION: %s); run with CLOAK_SIM_MEMORY=report",
				     SIM_MEMVIEW_MAX_RANGES, strerror(errno));
	pthread_mutex_unlock(&v->lock);
}

static uint64_t vcpu_rip(struct machine *m, unsigned vcpu)
{
	struct kvm_regs regs;

	return ioctl(m->vcpu_fd[vcpu], KVM_GET_REGS, &regs) == 0 ? regs.rip : 0;
}

bool sim_memview_mmio(struct sim_memview *v, struct machine *m, unsigned vcpu, struct kvm_run *run)
{
	uint64_t gpa = run->mmio.phys_addr;
	unsigned len = run->mmio.len > 8 ? 8 : run->mmio.len;
	uint8_t *host;
	bool shared;

	if (!v->active || gpa >= v->alias)
		return false;
	host = gpa_range(&m->mem, gpa, len);
	if (!host)
		return false;  /* not RAM: a device */
	/* Holding the lock, a conversion is either done or not begun: a shared page here was mid-update. */
	pthread_mutex_lock(&v->lock);
	shared = shared_map_covers(&m->shared, gpa, len);
	pthread_mutex_unlock(&v->lock);
	if (!shared) {
		atomic_fetch_add(&m->tl.sev_violations, 1);
		if (v->mode == SIM_MEMORY_STRICT) {
			machine_request_stop(m, CLOAK_EXIT_GUEST_CRASH,
					     "confidentiality violation at GPA 0x%llx, RIP 0x%llx (vCPU %u: a C=0 %s of "
					     "private memory; on SEV hardware it %s ciphertext)",
					     (unsigned long long)gpa, (unsigned long long)vcpu_rip(m, vcpu), vcpu,
					     run->mmio.is_write ? "write" : "read",
					     run->mmio.is_write ? "would write" : "would read");
			return true;
		}
		if (!v->told) {
			v->told = true;
			fprintf(stderr, "cloak: confidentiality violation at GPA 0x%llx, RIP 0x%llx (a C=0 access to "
					"private memory; CLOAK_SIM_MEMORY=report: served, and counted in the timeline)\n",
				(unsigned long long)gpa, (unsigned long long)vcpu_rip(m, vcpu));
		}
	}
	if (run->mmio.is_write)
		memcpy(host, run->mmio.data, len);
	else
		memcpy(run->mmio.data, host, len);
	return true;
}

int sim_memview_vcpus(struct sim_memview *v, struct machine *m, struct cloak_err *err)
{
	unsigned i;

	/* Only cloak's own guests: a Linux guest's early code reads CR3 back and builds its own tables. */
	if (!v->active || m->plan->kind != PLAN_KIND_ELF)
		return 0;
	for (i = 0; i < m->ncpus; i++) {
		struct kvm_sregs s;

		if (ioctl(m->vcpu_fd[i], KVM_GET_SREGS, &s) < 0)
			return err_errno(err, "KVM_GET_SREGS");
		if (!(s.cr0 & (1ull << 31)) || (s.cr3 & v->alias))
			continue;  /* paging off (it starts in 32-bit mode), or already private */
		s.cr3 |= v->alias;
		if (ioctl(m->vcpu_fd[i], KVM_SET_SREGS, &s) < 0)
			return err_errno(err, "cannot give vCPU %u's CR3 the C-bit (KVM_SET_SREGS)", i);
	}
	return 0;
}
