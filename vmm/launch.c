/* launch.c: the launch sequence: VM, memory, the confidential kind's steps, vCPUs, devices, run. */
#include "launch.h"

#include "cvm.h"
#include "devices.h"
#include "eventloop.h"
#include "sandbox.h"

#include <stdio.h>

/*
 * --debug-tamper-staged, for tests only: the host changes a staged item after
 * LAUNCH_FINISH, as a hostile host could, and the verifier must refuse it.
 */
static int launch_tamper_staged(struct machine *m, const char *item, struct cloak_err *err)
{
	const struct plan_region *r = plan_staged_region(m->plan, item);
	uint8_t *p;

	if (!r || !r->data_len)
		return err_set(err, "--debug-tamper-staged: this guest has no staged %s; give one it has (kernel, "
				    "initrd or cmdline)", item);
	p = gpa_range(&m->mem, r->gpa + r->data_len / 2, 1);
	if (!p)
		return err_set(err, "internal error: the staged %s at 0x%llx is outside guest memory", item,
			       (unsigned long long)r->gpa);
	*p ^= 0x01;
	fprintf(stderr, "cloak: --debug-tamper-staged (testing only): flipped a bit of the staged %s at 0x%llx after "
			"LAUNCH_FINISH\n", item, (unsigned long long)(r->gpa + r->data_len / 2));
	return 0;
}

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
	if (cvm_finish(m->cvm, m, err) < 0)
		return -1;
	if (cfg->debug_tamper_staged && launch_tamper_staged(m, cfg->debug_tamper_staged, err) < 0)
		return -1;
	return 0;
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
