/* machine.h: the running VM as the launch sequence and the run loop share it. */
#ifndef CLOAK_MACHINE_H
#define CLOAK_MACHINE_H

#include "cloak.h"
#include "config.h"
#include "devhost.h"
#include "guestmem.h"
#include "iobus.h"
#include "kvm.h"
#include "plan.h"
#include "privs.h"
#include "shared_map.h"
#include "timeline.h"

#include <pthread.h>
#include <stdatomic.h>

struct kvm_run;
struct eventloop;
struct cvm;

struct machine {
	const struct vm_config *cfg;
	const struct launch_plan *plan;
	struct cvm *cvm;              /* the confidential kind (vmm/cvm.h): none, SEV, ... */
	bool confidential;            /* the guest shares only what devices may touch */
	struct guest_mem mem;
	struct io_bus pio;
	struct io_bus mmio;
	struct timeline tl;

	int kvm_fd;
	int vm_fd;
	unsigned ncpus;
	int vcpu_fd[CONFIG_MAX_CPUS];
	struct kvm_run *run[CONFIG_MAX_CPUS];
	size_t run_size;
	pthread_t vcpu_thread[CONFIG_MAX_CPUS];

	/* What the devices are given (devhost.c), their I/O thread, and the memory the guest shares. */
	struct dev_host host;
	struct eventloop *ev;
	struct shared_map shared;
	atomic_bool dma_reported;
	struct msi_routes routes;

	/* The first stop request wins; its status is cloak's exit status. */
	atomic_bool stopping;
	int stop_status;
	char stop_reason[256];
	pthread_mutex_t stop_lock;
	pthread_cond_t stop_cond;
};

void machine_init(struct machine *m, const struct vm_config *cfg, const struct launch_plan *plan, struct cvm *cvm);
/* Ends the VM with `status`; later requests are ignored. Safe from any thread. */
void machine_request_stop(struct machine *m, int status, const char *fmt, ...)
	__attribute__((format(printf, 3, 4)));
/* Fills m->host: the KVM-backed device interface over this machine (devhost.c). */
void machine_host_init(struct machine *m);
void machine_close(struct machine *m);

/* The run loop (runloop.c): one thread per vCPU, until a stop request. */
int machine_run(struct machine *m, struct cloak_err *err);

#endif
