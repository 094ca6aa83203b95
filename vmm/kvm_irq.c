/* kvm_irq.c: MSI routes, irqfds and ioeventfds: how device interrupts and doorbells reach KVM without exits. */
#include "kvm.h"

#include "machine.h"

#include <errno.h>
#include <linux/kvm.h>
#include <stdlib.h>
#include <string.h>
#include <sys/eventfd.h>
#include <sys/ioctl.h>
#include <unistd.h>

void msi_routes_init(struct msi_routes *r)
{
	memset(r, 0, sizeof(*r));
	pthread_mutex_init(&r->lock, NULL);
}

int msi_routes_alloc(struct msi_routes *r)
{
	int gsi = -1;

	pthread_mutex_lock(&r->lock);
	if (KVM_FIRST_MSI_GSI + r->ngsi < KVM_MAX_MSI_GSI)
		gsi = (int)(KVM_FIRST_MSI_GSI + r->ngsi++);
	pthread_mutex_unlock(&r->lock);
	return gsi;
}

/* With r->lock held. */
static unsigned routes_table_locked(const struct msi_routes *r, struct kvm_irq_routing *table)
{
	unsigned n = 0, gsi, i;

	/* What KVM installs with KVM_CREATE_IRQCHIP: every GSI below 16 on a PIC and the IOAPIC, 16-23 on the IOAPIC. */
	for (gsi = 0; gsi < KVM_FIRST_MSI_GSI; gsi++) {
		table->entries[n++] = (struct kvm_irq_routing_entry){
			.gsi = gsi, .type = KVM_IRQ_ROUTING_IRQCHIP,
			.u.irqchip = { .irqchip = KVM_IRQCHIP_IOAPIC, .pin = gsi },
		};
		if (gsi < 16)
			table->entries[n++] = (struct kvm_irq_routing_entry){
				.gsi = gsi, .type = KVM_IRQ_ROUTING_IRQCHIP,
				.u.irqchip = { .irqchip = gsi < 8 ? KVM_IRQCHIP_PIC_MASTER : KVM_IRQCHIP_PIC_SLAVE,
					       .pin = gsi % 8 },
			};
	}
	for (i = 0; i < r->ngsi; i++) {
		if (!r->msi[i].valid)
			continue;
		table->entries[n++] = (struct kvm_irq_routing_entry){
			.gsi = KVM_FIRST_MSI_GSI + i, .type = KVM_IRQ_ROUTING_MSI,
			.u.msi = { .address_lo = (uint32_t)r->msi[i].addr, .address_hi = (uint32_t)(r->msi[i].addr >> 32),
				   .data = r->msi[i].data },
		};
	}
	table->nr = n;
	return n;
}

unsigned msi_routes_table(struct msi_routes *r, struct kvm_irq_routing *table)
{
	unsigned n;

	pthread_mutex_lock(&r->lock);
	n = routes_table_locked(r, table);
	pthread_mutex_unlock(&r->lock);
	return n;
}

int kvm_msi_route(struct machine *m, int gsi, bool valid, uint64_t addr, uint32_t data)
{
	struct msi_routes *r = &m->routes;
	struct kvm_irq_routing *table;
	unsigned idx = (unsigned)gsi - KVM_FIRST_MSI_GSI;
	int rc;

	if (gsi < KVM_FIRST_MSI_GSI || gsi >= KVM_MAX_MSI_GSI)
		return -1;
	table = calloc(1, sizeof(*table) + MSI_ROUTES_TABLE_MAX * sizeof(table->entries[0]));
	if (!table)
		return -1;
	pthread_mutex_lock(&r->lock);
	r->msi[idx].valid = valid;
	r->msi[idx].addr = addr;
	r->msi[idx].data = data;
	routes_table_locked(r, table);
	/* Under the lock, so two vCPUs changing routes cannot hand KVM their tables out of order. */
	rc = ioctl(m->vm_fd, KVM_SET_GSI_ROUTING, table);
	r->updates++;
	pthread_mutex_unlock(&r->lock);
	free(table);
	return rc;
}

int kvm_msi_open(struct machine *m, int *fd, struct cloak_err *err)
{
	struct kvm_irqfd irqfd;
	int gsi = msi_routes_alloc(&m->routes);

	*fd = -1;
	if (gsi < 0)
		return err_set(err, "out of MSI interrupt numbers (%d); attach fewer devices",
			       KVM_MAX_MSI_GSI - KVM_FIRST_MSI_GSI);
	*fd = eventfd(0, EFD_CLOEXEC | EFD_NONBLOCK);
	if (*fd < 0)
		return err_errno(err, "cannot create an interrupt eventfd");
	irqfd = (struct kvm_irqfd){ .fd = (uint32_t)*fd, .gsi = (uint32_t)gsi };
	if (ioctl(m->vm_fd, KVM_IRQFD, &irqfd) < 0) {
		err_errno(err, "cannot connect an MSI-X vector to KVM (KVM_IRQFD)");
		close(*fd);
		*fd = -1;
		return -1;
	}
	return gsi;
}

void kvm_msi_close(struct machine *m, int gsi, int fd)
{
	if (fd < 0)
		return;
	if (gsi >= 0) {
		struct kvm_irqfd irqfd = { .fd = (uint32_t)fd, .gsi = (uint32_t)gsi, .flags = KVM_IRQFD_FLAG_DEASSIGN };

		(void)ioctl(m->vm_fd, KVM_IRQFD, &irqfd);
	}
	close(fd);
}

int kvm_doorbell(struct machine *m, int fd, uint64_t addr, unsigned len, bool on)
{
	struct kvm_ioeventfd io = { .addr = addr, .len = len, .fd = fd, .flags = on ? 0 : KVM_IOEVENTFD_FLAG_DEASSIGN };

	return ioctl(m->vm_fd, KVM_IOEVENTFD, &io);
}
