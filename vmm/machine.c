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

void machine_irq_line(struct machine *m, unsigned irq, int level)
{
	struct kvm_irq_level l = { .irq = irq, .level = (uint32_t)level };

	/* A failure here means the VM is being torn down; nothing useful to report. */
	(void)ioctl(m->vm_fd, KVM_IRQ_LINE, &l);
}

int pio_register(struct pio_bus *bus, uint16_t base, uint16_t len, const char *name, pio_fn fn, void *opaque,
		 struct cloak_err *err)
{
	unsigned i;

	if (bus->n == PIO_MAX_RANGES)
		return err_set(err, "internal error: too many port ranges (registering %s)", name);
	for (i = 0; i < bus->n; i++) {
		const struct pio_range *r = &bus->ranges[i];

		if (base < r->base + r->len && r->base < base + len)
			return err_set(err, "internal error: ports 0x%x+%u of %s overlap %s", base, len, name,
				       r->name);
	}
	bus->ranges[bus->n++] = (struct pio_range){ base, len, name, fn, opaque };
	return 0;
}

bool pio_dispatch(const struct pio_bus *bus, uint16_t port, bool is_write, uint8_t *data, unsigned size)
{
	unsigned i;

	for (i = 0; i < bus->n; i++) {
		const struct pio_range *r = &bus->ranges[i];

		if (port >= r->base && port - r->base < r->len) {
			r->fn(r->opaque, port, is_write, data, size);
			return true;
		}
	}
	if (!is_write)
		memset(data, 0xff, size);
	return false;
}
