/* machine.c: the VM's shared state: what it is made of at setup, and stop requests. */
#include "machine.h"

#include "cvm.h"

#include <stdarg.h>
#include <stdio.h>
#include <string.h>

void machine_init(struct machine *m, const struct vm_config *cfg, const struct launch_plan *plan, struct cvm *cvm)
{
	memset(m, 0, sizeof(*m));
	m->cfg = cfg;
	m->plan = plan;
	m->cvm = cvm;
	m->confidential = cvm_guest_shares(cvm, plan);
	m->kvm_fd = m->vm_fd = -1;
	m->pio.what = "port";
	m->mmio.what = "MMIO";
	msi_routes_init(&m->routes);
	/*
	 * A confidential guest shares the boot-info DMA window from the start, and
	 * the measured-boot verifier's staging area, which it reads at C=0 (the
	 * host wrote the payloads there); the rest the guest converts itself.
	 */
	shared_map_init(&m->shared, m->confidential);
	if (plan->dma_size)
		shared_map_set(&m->shared, plan->dma_gpa, plan->dma_size, true);
	if (plan->verifier && plan->staging_size)
		shared_map_set(&m->shared, plan->staging_gpa, plan->staging_size, true);
	machine_host_init(m);
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
