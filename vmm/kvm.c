/* kvm.c: /dev/kvm, the VM with its in-kernel irqchip and PIT, memory slots, vCPUs and entry state. */
#include "kvm.h"

#include "boot.h"
#include "cvm.h"
#include "machine.h"

#include <errno.h>
#include <fcntl.h>
#include <asm/kvm_para.h>
#include <linux/kvm.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/ioctl.h>
#include <sys/mman.h>
#include <unistd.h>

#define KVM_TSS_GPA 0xfffbd000ull  /* three pages below the identity-map page, inside the MMIO hole */
#define KVM_IDMAP_GPA 0xfffbc000ull

int kvm_open_device(struct machine *m, const char *path, struct cloak_err *err)
{
	int version;

	m->kvm_fd = open(path, O_RDWR | O_CLOEXEC);
	if (m->kvm_fd < 0) {
		if (errno == ENOENT)
			return err_set(err, "%s does not exist: this host offers no KVM; load kvm_amd or kvm_intel "
					    "(modprobe), enable virtualization in the firmware, or run on a host "
					    "with KVM", path);
		if (errno == EACCES || errno == EPERM)
			return err_set(err, "%s is not accessible to this user (permission denied); add the user "
					    "to the kvm group or run as root", path);
		return err_errno(err, "cannot open %s", path);
	}
	version = ioctl(m->kvm_fd, KVM_GET_API_VERSION, 0);
	if (version != KVM_API_VERSION)
		return err_set(err, "%s speaks KVM API %d; cloak needs %d (is it really a KVM device?)", path,
			       version, KVM_API_VERSION);
	return 0;
}

static const struct {
	long cap;
	const char *name;
	const char *why;
} required_caps[] = {
	{ KVM_CAP_USER_MEMORY, "KVM_CAP_USER_MEMORY", "guest memory" },
	{ KVM_CAP_IRQCHIP, "KVM_CAP_IRQCHIP", "the in-kernel PIC, IOAPIC and LAPIC" },
	{ KVM_CAP_PIT2, "KVM_CAP_PIT2", "the in-kernel PIT" },
	{ KVM_CAP_EXT_CPUID, "KVM_CAP_EXT_CPUID", "the guest's CPUID table" },
	{ KVM_CAP_SET_TSS_ADDR, "KVM_CAP_SET_TSS_ADDR", "the VM's TSS area" },
	{ KVM_CAP_IMMEDIATE_EXIT, "KVM_CAP_IMMEDIATE_EXIT", "stopping vCPUs" },
	{ KVM_CAP_IRQ_INJECT_STATUS, "KVM_CAP_IRQ_INJECT_STATUS", "interrupt lines" },
};

int kvm_check_caps(int (*has)(void *ctx, long cap), void *ctx, struct cloak_err *err)
{
	size_t i;

	for (i = 0; i < ARRAY_SIZE(required_caps); i++)
		if (has(ctx, required_caps[i].cap) <= 0)
			return err_set(err, "this KVM lacks %s, which cloak needs for %s; use a newer host kernel",
				       required_caps[i].name, required_caps[i].why);
	return 0;
}

static int kvm_has_cap(void *ctx, long cap)
{
	return ioctl(*(int *)ctx, KVM_CHECK_EXTENSION, cap);
}

int kvm_create_vm(struct machine *m, struct cloak_err *err)
{
	struct kvm_pit_config pit = { .flags = KVM_PIT_SPEAKER_DUMMY };
	uint64_t idmap = KVM_IDMAP_GPA;
	int max_vcpus;

	if (kvm_check_caps(kvm_has_cap, &m->kvm_fd, err) < 0)
		return -1;
	max_vcpus = ioctl(m->kvm_fd, KVM_CHECK_EXTENSION, KVM_CAP_MAX_VCPUS);
	if (max_vcpus > 0 && m->cfg->cpus > (unsigned)max_vcpus)
		return err_set(err, "--cpus: this KVM runs at most %d vCPUs per VM; give %d or fewer", max_vcpus,
			       max_vcpus);
	/* The confidential kind chooses the machine type (0: KVM's default). */
	m->vm_fd = ioctl(m->kvm_fd, KVM_CREATE_VM, cvm_vm_type(m->cvm, m->kvm_fd));
	if (m->vm_fd < 0)
		return err_errno(err, "cannot create a VM (KVM_CREATE_VM)%s",
				 errno == ENOMEM ? "; free host memory" : "");
	if (ioctl(m->vm_fd, KVM_SET_TSS_ADDR, (unsigned long)KVM_TSS_GPA) < 0)
		return err_errno(err, "KVM_SET_TSS_ADDR");
	/* Only Intel uses it; AMD hosts refuse it harmlessly. */
	(void)ioctl(m->vm_fd, KVM_SET_IDENTITY_MAP_ADDR, &idmap);
	if (ioctl(m->vm_fd, KVM_CREATE_IRQCHIP, 0) < 0)
		return err_errno(err, "cannot create the in-kernel interrupt controllers (KVM_CREATE_IRQCHIP)");
	if (ioctl(m->vm_fd, KVM_CREATE_PIT2, &pit) < 0)
		return err_errno(err, "cannot create the in-kernel PIT (KVM_CREATE_PIT2)");
	return cvm_vm_created(m->cvm, m, err);
}

int kvm_map_memory(struct machine *m, struct cloak_err *err)
{
	unsigned i;

	for (i = 0; i < m->mem.nram; i++) {
		struct kvm_userspace_memory_region r = {
			.slot = i,
			.guest_phys_addr = m->mem.ram[i].gpa,
			.memory_size = m->mem.ram[i].size,
			.userspace_addr = (uint64_t)(uintptr_t)(m->mem.host + m->mem.ram[i].host_offset),
		};

		if (ioctl(m->vm_fd, KVM_SET_USER_MEMORY_REGION, &r) < 0)
			return err_errno(err, "cannot give guest memory 0x%llx+0x%llx to KVM (KVM_SET_USER_MEMORY_REGION)",
					 (unsigned long long)r.guest_phys_addr, (unsigned long long)r.memory_size);
	}
	return 0;
}

static uint32_t *cpuid_reg(struct kvm_cpuid_entry2 *e, enum cpuid_reg reg)
{
	switch (reg) {
	case CPUID_EAX: return &e->eax;
	case CPUID_EBX: return &e->ebx;
	case CPUID_ECX: return &e->ecx;
	case CPUID_EDX: return &e->edx;
	}
	return &e->eax;
}

void kvm_cpuid_adjust(struct kvm_cpuid2 *cpuid, const struct vm_config *cfg, unsigned index)
{
	unsigned i, j;

	for (i = 0; i < cpuid->nent; i++) {
		struct kvm_cpuid_entry2 *e = &cpuid->entries[i];

		switch (e->function) {
		case 1:
			e->ecx &= ~(1u << 5);  /* VMX: no nested virtualization */
			e->ecx |= 1u << 31;    /* a guest looks for KVM's leaves (kvm-clock) only under this bit */
			e->ebx = (e->ebx & 0x00ffffffu) | (index << 24);
			break;
		case 0xb:
		case 0x1f:
			e->edx = index;  /* x2APIC ID */
			break;
		case 0x80000001:
			e->ecx &= ~(1u << 2);  /* SVM */
			break;
		}
		for (j = 0; j < cfg->ncpuid_clear; j++) {
			const struct cpuid_clear *c = &cfg->cpuid_clear[j];

			if (c->leaf == e->function &&
			    (!(e->flags & KVM_CPUID_FLAG_SIGNIFCANT_INDEX) || c->subleaf == e->index))
				*cpuid_reg(e, c->reg) &= ~c->mask;
		}
	}
}

#define CPUID_EXTRA_ENTRIES 4

static struct kvm_cpuid2 *kvm_supported_cpuid(int kvm_fd, struct cloak_err *err)
{
	unsigned nent = 128;

	for (;;) {
		struct kvm_cpuid2 *c = calloc(1, sizeof(*c) + nent * sizeof(c->entries[0]));

		if (!c) {
			err_set(err, "out of memory");
			return NULL;
		}
		c->nent = nent;
		if (ioctl(kvm_fd, KVM_GET_SUPPORTED_CPUID, c) == 0)
			return c;
		free(c);
		if (errno != E2BIG || nent >= 4096) {
			err_errno(err, "cannot read the CPUID KVM supports (KVM_GET_SUPPORTED_CPUID)");
			return NULL;
		}
		nent *= 2;
	}
}

struct kvm_cpuid2 *kvm_guest_cpuid(struct machine *m, unsigned index, struct cloak_err *err)
{
	struct kvm_cpuid2 *supported = kvm_supported_cpuid(m->kvm_fd, err), *mine;
	size_t sz;

	if (!supported)
		return NULL;
	sz = sizeof(*supported) + supported->nent * sizeof(supported->entries[0]);
	mine = calloc(1, sz + CPUID_EXTRA_ENTRIES * sizeof(supported->entries[0]));
	if (!mine) {
		free(supported);
		err_set(err, "out of memory");
		return NULL;
	}
	memcpy(mine, supported, sz);
	kvm_cpuid_adjust(mine, m->cfg, index);
	cvm_cpuid(m->cvm, m, mine, supported->nent + CPUID_EXTRA_ENTRIES);
	free(supported);
	return mine;
}

int kvm_create_vcpus(struct machine *m, struct cloak_err *err)
{
	struct kvm_cpuid2 *supported, *mine;
	size_t sz;
	unsigned i;
	int rc = -1;

	m->run_size = (size_t)ioctl(m->kvm_fd, KVM_GET_VCPU_MMAP_SIZE, 0);
	if ((long)m->run_size <= 0)
		return err_errno(err, "KVM_GET_VCPU_MMAP_SIZE");
	supported = kvm_supported_cpuid(m->kvm_fd, err);
	if (!supported)
		return -1;
	sz = sizeof(*supported) + supported->nent * sizeof(supported->entries[0]);
	/* Room for a few more entries: leaves a confidential kind adds when KVM's table lacks them. */
	mine = malloc(sz + CPUID_EXTRA_ENTRIES * sizeof(supported->entries[0]));
	if (!mine) {
		free(supported);
		return err_set(err, "out of memory");
	}
	for (i = 0; i < m->cfg->cpus; i++) {
		void *run;
		int fd = ioctl(m->vm_fd, KVM_CREATE_VCPU, (unsigned long)i);

		if (fd < 0) {
			err_errno(err, "cannot create vCPU %u (KVM_CREATE_VCPU)", i);
			goto out;
		}
		m->vcpu_fd[i] = fd;
		m->ncpus = i + 1;
		run = mmap(NULL, m->run_size, PROT_READ | PROT_WRITE, MAP_SHARED, fd, 0);
		if (run == MAP_FAILED) {
			err_errno(err, "cannot map vCPU %u's run area (mmap)", i);
			goto out;
		}
		m->run[i] = run;
		memcpy(mine, supported, sz);
		kvm_cpuid_adjust(mine, m->cfg, i);
		cvm_cpuid(m->cvm, m, mine, supported->nent + CPUID_EXTRA_ENTRIES);
		if (ioctl(fd, KVM_SET_CPUID2, mine) < 0) {
			err_errno(err, "cannot set vCPU %u's CPUID (KVM_SET_CPUID2)", i);
			goto out;
		}
	}
	rc = 0;
out:
	free(mine);
	free(supported);
	return rc;
}

int kvm_set_entry(struct machine *m, struct cloak_err *err)
{
	struct kvm_sregs sregs;
	struct kvm_regs regs;
	int fd = m->vcpu_fd[0];

	if (cvm_vcpu_regs(m->cvm, fd, KVM_GET_SREGS, &sregs) < 0)
		return err_errno(err, "KVM_GET_SREGS");
	boot_entry_regs(&m->plan->entry, &regs, &sregs);
	if (cvm_vcpu_regs(m->cvm, fd, KVM_SET_SREGS, &sregs) < 0)
		return err_errno(err, "cannot set the boot vCPU's control registers (KVM_SET_SREGS)");
	if (cvm_vcpu_regs(m->cvm, fd, KVM_SET_REGS, &regs) < 0)
		return err_errno(err, "cannot set the boot vCPU's registers (KVM_SET_REGS)");
	return 0;
}

void kvm_irq_line(struct machine *m, unsigned irq, int level)
{
	struct kvm_irq_level l = { .irq = irq, .level = (uint32_t)level };

	/* A failure here means the VM is being torn down; nothing useful to report. */
	(void)ioctl(m->vm_fd, KVM_IRQ_LINE, &l);
}

void machine_close(struct machine *m)
{
	unsigned i;

	for (i = 0; i < m->ncpus; i++) {
		if (m->run[i])
			munmap(m->run[i], m->run_size);
		close(m->vcpu_fd[i]);
	}
	m->ncpus = 0;
	if (m->vm_fd >= 0)
		close(m->vm_fd);
	if (m->kvm_fd >= 0)
		close(m->kvm_fd);
	m->vm_fd = m->kvm_fd = -1;
	guestmem_unmap(&m->mem);
}
