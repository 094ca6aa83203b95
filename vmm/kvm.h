/* kvm.h: the KVM backend: the device, the VM with its irqchip, memory slots, vCPUs, interrupt routes. */
#ifndef CLOAK_KVM_H
#define CLOAK_KVM_H

#include "cloak.h"
#include "config.h"

#include <pthread.h>

struct machine;
struct kvm_cpuid2;
struct kvm_irq_routing;

int kvm_open_device(struct machine *m, const char *path, struct cloak_err *err);
/* Checks every capability cloak relies on, through `has` (KVM_CHECK_EXTENSION in real use). */
int kvm_check_caps(int (*has)(void *ctx, long cap), void *ctx, struct cloak_err *err);
int kvm_create_vm(struct machine *m, struct cloak_err *err);
int kvm_map_memory(struct machine *m, struct cloak_err *err);
/* Creates the vCPUs with their CPUID (cloak's edits, then the confidential kind's). */
int kvm_create_vcpus(struct machine *m, struct cloak_err *err);
/* Edits a KVM_GET_SUPPORTED_CPUID table for vCPU `index`: hides SVM/VMX and the user's bits. */
void kvm_cpuid_adjust(struct kvm_cpuid2 *cpuid, const struct vm_config *cfg, unsigned index);
/* The CPUID table vCPU `index` gets (malloc'd), as kvm_create_vcpus builds it: for the SNP CPUID page. */
struct kvm_cpuid2 *kvm_guest_cpuid(struct machine *m, unsigned index, struct cloak_err *err);
/* Puts the boot vCPU in the plan's entry state (the other vCPUs wait for INIT/SIPI). */
int kvm_set_entry(struct machine *m, struct cloak_err *err);
/* Drives a pin of the in-kernel PIC/IOAPIC. */
void kvm_irq_line(struct machine *m, unsigned irq, int level);

/*
 * MSI routes (kvm_irq.c): the GSIs above the IOAPIC's 24 pins, handed out to
 * device vectors. KVM takes the whole routing table at once, so it is kept
 * here and sent again on every change.
 */
#define KVM_FIRST_MSI_GSI 24
#define KVM_MAX_MSI_GSI 256

struct msi_routes {
	pthread_mutex_t lock;
	unsigned ngsi;
	struct {
		bool valid;
		uint64_t addr;
		uint32_t data;
	} msi[KVM_MAX_MSI_GSI - KVM_FIRST_MSI_GSI];
	unsigned updates;
};

void msi_routes_init(struct msi_routes *r);
/* The next free MSI GSI, or -1 when they are all taken. */
int msi_routes_alloc(struct msi_routes *r);
/* Builds the whole table: KVM's own irqchip routes first, then every valid MSI route. Returns its entries. */
unsigned msi_routes_table(struct msi_routes *r, struct kvm_irq_routing *table);
/* Room msi_routes_table needs, in entries. */
#define MSI_ROUTES_TABLE_MAX (40 + KVM_MAX_MSI_GSI)

/* The device-facing interrupt and doorbell calls, on the VM (kvm_irq.c). */
int kvm_msi_open(struct machine *m, int *fd, struct cloak_err *err);
int kvm_msi_route(struct machine *m, int gsi, bool valid, uint64_t addr, uint32_t data);
void kvm_msi_close(struct machine *m, int gsi, int fd);
int kvm_doorbell(struct machine *m, int fd, uint64_t addr, unsigned len, bool on);

#endif
