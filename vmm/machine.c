/* machine.c: the VM's shared state: stop requests, interrupt lines, the port I/O bus. */
#include "machine.h"

#include <linux/kvm.h>
#include <stdarg.h>
#include <stdio.h>
#include <string.h>
#include <sys/ioctl.h>

void machine_init(struct machine *m, const struct vm_config *cfg, const struct launch_plan *plan)
{
	memset(m, 0, sizeof(*m));
	m->cfg = cfg;
	m->plan = plan;
	m->kvm_fd = m->vm_fd = -1;
	m->pio.what = "port";
	m->mmio.what = "MMIO";
	pthread_mutex_init(&m->stop_lock, NULL);
	pthread_cond_init(&m->stop_cond, NULL);
}

void machine_request_stop(struct machine *m, int status, const char *fmt, ...)
{
	va_list ap;

	pthread_mutex_lock(&m->stop_lock);
	if (!atomic_load(&m->stopping)) {
		m->stop_status = status;
		va_start(ap, fmt);
		vsnprintf(m->stop_reason, sizeof(m->stop_reason), fmt, ap);
		va_end(ap);
		atomic_store(&m->stopping, true);
		timeline_mark(&m->tl, TL_GUEST_EXIT);
		pthread_cond_broadcast(&m->stop_cond);
	}
	pthread_mutex_unlock(&m->stop_lock);
}

bool machine_guest_sees_sev(const struct machine *m)
{
	if (m->plan->cbit < 0)
		return false;
	/*
	 * A Linux guest that saw SEV would put the C-bit in CR3, and with the
	 * simulator's C-bit (an ignored PTE bit on non-SEV hardware) VM entry
	 * fails: under the simulator only cloak's own ELF guests are shown SEV.
	 */
	return m->cfg->sev_backend == SEV_BACKEND_REAL || m->plan->kind == PLAN_KIND_ELF;
}

void machine_irq_line(struct machine *m, unsigned irq, int level)
{
	struct kvm_irq_level l = { .irq = irq, .level = (uint32_t)level };

	/* A failure here means the VM is being torn down; nothing useful to report. */
	(void)ioctl(m->vm_fd, KVM_IRQ_LINE, &l);
}

int io_bus_register(struct io_bus *bus, uint64_t base, uint64_t len, const char *name, io_fn fn, void *opaque,
		    struct cloak_err *err)
{
	unsigned i;

	if (len == 0 || base + len < base)
		return err_set(err, "internal error: empty or wrapping %s range for %s", bus->what, name);
	if (bus->n == IO_BUS_MAX_RANGES)
		return err_set(err, "internal error: too many %s ranges (registering %s)", bus->what, name);
	for (i = 0; i < bus->n; i++) {
		const struct io_range *r = &bus->ranges[i];

		if (base < r->base + r->len && r->base < base + len)
			return err_set(err, "internal error: %s range 0x%llx+0x%llx of %s overlaps %s", bus->what,
				       (unsigned long long)base, (unsigned long long)len, name, r->name);
	}
	bus->ranges[bus->n++] = (struct io_range){ base, len, name, fn, opaque };
	return 0;
}

bool io_bus_dispatch(const struct io_bus *bus, uint64_t addr, bool is_write, uint8_t *data, unsigned size)
{
	unsigned i;

	for (i = 0; i < bus->n; i++) {
		const struct io_range *r = &bus->ranges[i];

		if (addr >= r->base && addr - r->base < r->len) {
			r->fn(r->opaque, addr, is_write, data, size);
			return true;
		}
	}
	if (!is_write)
		memset(data, 0xff, size);
	return false;
}
