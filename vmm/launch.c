/* launch.c: the launch sequence: VM, memory, the confidential kind's steps, vCPUs, devices, run. */
#include "launch.h"

#include "cvm.h"
#include "devices.h"
#include "eventloop.h"
#include "sandbox.h"

/* Everything before the guest's first instruction; the confidential kind is called at each of its steps. */
static int launch_prepare(struct machine *m, const struct plan_inputs *in, struct cloak_err *err)
{
	const struct vm_config *cfg = m->cfg;

	if (kvm_open_device(m, cfg->kvm_device, err) < 0)
		return -1;
	timeline_mark(&m->tl, TL_KVM_OPEN);
	if (kvm_create_vm(m, err) < 0)
		return -1;
	timeline_mark(&m->tl, TL_VM_CREATE);
	if (guestmem_map(&m->mem, m->plan, cfg->hugepages, err) < 0)
		return -1;
	if (cfg->pin && guestmem_lock(&m->mem, err) < 0)
		return -1;
	if (kvm_map_memory(m, err) < 0)
		return -1;
	timeline_mark(&m->tl, TL_MEMORY_READY);
	if (cvm_memory_ready(m->cvm, m, err) < 0 || cvm_load(m->cvm, m, err) < 0)
		return -1;
	plan_inputs_evict(in);
	timeline_mark(&m->tl, TL_LOAD);
	if (kvm_create_vcpus(m, err) < 0 || kvm_set_entry(m, err) < 0 || cvm_vcpus_ready(m->cvm, m, err) < 0)
		return -1;
	timeline_mark(&m->tl, TL_VCPU_CREATE);
	return cvm_finish(m->cvm, m, err);
}

int launch_run(struct machine *m, const struct plan_inputs *in, struct cloak_err *err)
{
	int rc = -1;

	if (launch_prepare(m, in, err) < 0) {
		sandbox_abort();
		return -1;
	}
	/* The device I/O thread's loop exists before the devices, which watch their fds on it. */
	if (eventloop_create(&m->ev, err) < 0) {
		sandbox_abort();
		return -1;
	}
	if (devices_init(&m->host, err) < 0)
		goto out;
	/*
	 * Everything cloak needs from the host is open now. The device threads
	 * wait at the sandbox gate; machine_run starts the vCPUs and seals it
	 * (vmm/sandbox.h), so every thread is confined before the guest runs.
	 */
	if (eventloop_start(m->ev, err) == 0 && machine_run(m, err) == 0)
		rc = 0;
out:
	/* A launch abandoned before the seal lets the waiting threads go, so they can be joined. */
	sandbox_abort();
	/* The I/O thread stops before any device goes away, so no callback runs into a device being torn down. */
	eventloop_destroy(m->ev);
	m->ev = NULL;
	devices_fini(&m->host);
	return rc;
}
