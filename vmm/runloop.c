/* runloop.c: vCPU threads running KVM_RUN and turning exits into device calls or a stop. */
#include "machine.h"

#include "cvm.h"
#include "sandbox.h"
#include "service.h"

#include <errno.h>
#include <linux/kvm.h>
#include <linux/kvm_para.h>
#include <signal.h>
#include <stdio.h>
#include <string.h>
#include <sys/ioctl.h>

#define SIG_KICK SIGUSR1
/* KVM_EXIT_MEMORY_FAULT (Linux 6.8; the 6.1 uapi lacks it, vmm/sev/snp_abi.h asserts the value): the SNP kind converts the page. */
#define CLOAK_KVM_EXIT_MEMORY_FAULT 39

struct vcpu_arg {
	struct machine *m;
	unsigned index;
};

static void kick_handler(int sig)
{
	(void)sig;
}

static void vcpu_report_rip(struct machine *m, unsigned i, char *buf, size_t len)
{
	struct kvm_regs regs;

	if (cvm_vcpu_regs(m->cvm, m->vcpu_fd[i], KVM_GET_REGS, &regs) == 0)
		snprintf(buf, len, "RIP=0x%llx", (unsigned long long)regs.rip);
	else if (errno == EPERM)
		snprintf(buf, len, "RIP sealed in the encrypted VMSA");
	else
		snprintf(buf, len, "RIP unknown");
}

static void vcpu_handle_io(struct machine *m, struct kvm_run *run)
{
	uint8_t *data = (uint8_t *)run + run->io.data_offset;
	bool is_write = run->io.direction == KVM_EXIT_IO_OUT;
	uint32_t i;

	for (i = 0; i < run->io.count; i++, data += run->io.size)
		if (!io_bus_dispatch(&m->pio, run->io.port, is_write, data, run->io.size))
			atomic_fetch_add(&m->tl.pio_unclaimed, 1);
}

/* Returns false when the vCPU must stop. */
static bool vcpu_handle_exit(struct machine *m, unsigned i, struct kvm_run *run)
{
	char where[64];

	/* The confidential kind's own exits first: shared-memory hypercalls, its MSRs. */
	if (cvm_handle_exit(m->cvm, m, i, run))
		return true;
	switch (run->exit_reason) {
	case KVM_EXIT_IO:
		vcpu_handle_io(m, run);
		return true;
	case KVM_EXIT_MMIO:
		if (!io_bus_dispatch(&m->mmio, run->mmio.phys_addr, run->mmio.is_write, run->mmio.data,
				     run->mmio.len > 8 ? 8 : run->mmio.len))
			atomic_fetch_add(&m->tl.mmio_unclaimed, 1);
		return true;
	case KVM_EXIT_INTR:
		return true;
	case KVM_EXIT_HYPERCALL:
		/* A hypercall nobody owns fails in the guest, as KVM fails those it does not know. */
		run->hypercall.ret = (uint64_t)-KVM_ENOSYS;
		return true;
	case KVM_EXIT_X86_RDMSR:
	case KVM_EXIT_X86_WRMSR:
		/* An MSR exit nobody owns: the guest gets #GP, as on a CPU without the MSR. */
		run->msr.error = 1;
		return true;
	case KVM_EXIT_HLT:
		machine_request_stop(m, CLOAK_EXIT_POWEROFF, "vCPU %u halted", i);
		return false;
	case KVM_EXIT_SHUTDOWN:
		vcpu_report_rip(m, i, where, sizeof(where));
		machine_request_stop(m, CLOAK_EXIT_GUEST_CRASH, "the guest triple-faulted (vCPU %u, %s)", i, where);
		return false;
	case KVM_EXIT_SYSTEM_EVENT:
		switch (run->system_event.type) {
		case KVM_SYSTEM_EVENT_SHUTDOWN:
			machine_request_stop(m, CLOAK_EXIT_POWEROFF, "the guest powered off");
			break;
		case KVM_SYSTEM_EVENT_RESET:
			machine_request_stop(m, CLOAK_EXIT_POWEROFF, "the guest reset itself (cloak does not reboot)");
			break;
		default:
			machine_request_stop(m, CLOAK_EXIT_GUEST_CRASH, "the guest reported a crash (system event %u)",
					     run->system_event.type);
		}
		return false;
	case KVM_EXIT_INTERNAL_ERROR:
		vcpu_report_rip(m, i, where, sizeof(where));
		machine_request_stop(m, CLOAK_EXIT_GUEST_STUCK,
				     "KVM could not run the guest on: internal error, suberror %u%s (vCPU %u, %s)",
				     run->internal.suberror,
				     run->internal.suberror == KVM_INTERNAL_ERROR_EMULATION ?
					     " (instruction emulation failed)" : "",
				     i, where);
		return false;
	case KVM_EXIT_FAIL_ENTRY:
		machine_request_stop(m, CLOAK_EXIT_GUEST_STUCK,
				     "KVM could not enter the guest: hardware entry failure 0x%llx (vCPU %u)",
				     (unsigned long long)run->fail_entry.hardware_entry_failure_reason, i);
		return false;
	default:
		vcpu_report_rip(m, i, where, sizeof(where));
		machine_request_stop(m, CLOAK_EXIT_GUEST_STUCK, "unexpected KVM exit %u (%s) on vCPU %u, %s",
				     run->exit_reason,
				     kvm_exit_reason_name(run->exit_reason) ? kvm_exit_reason_name(run->exit_reason) : "?",
				     i, where);
		return false;
	}
}

static void *vcpu_thread(void *opaque)
{
	struct vcpu_arg *arg = opaque;
	struct machine *m = arg->m;
	unsigned i = arg->index;
	struct kvm_run *run = m->run[i];
	sigset_t set;

	/* Confined (no capabilities, its seccomp filter) before the guest's first instruction, or not run at all. */
	if (!sandbox_thread_enter(SANDBOX_VCPU))
		return NULL;
	sigemptyset(&set);
	sigaddset(&set, SIG_KICK);
	pthread_sigmask(SIG_UNBLOCK, &set, NULL);
	while (!atomic_load(&m->stopping)) {
		if (ioctl(m->vcpu_fd[i], KVM_RUN, 0) < 0) {
			if (errno == EINTR || errno == EAGAIN) {
				run->immediate_exit = 0;
				continue;
			}
			/* KVM reports a private/shared mismatch (guest_memfd) as EFAULT with this exit filled in. */
			if (errno == EFAULT && run->exit_reason == CLOAK_KVM_EXIT_MEMORY_FAULT &&
			    cvm_handle_exit(m->cvm, m, i, run))
				continue;
			machine_request_stop(m, CLOAK_EXIT_ERROR, "KVM_RUN failed on vCPU %u: %s", i, strerror(errno));
			break;
		}
		timeline_mark(&m->tl, TL_FIRST_GUEST_EXIT);
		timeline_count_exit(&m->tl, run->exit_reason);
		if (!vcpu_handle_exit(m, i, run))
			break;
	}
	return NULL;
}

int machine_run(struct machine *m, struct cloak_err *err)
{
	struct vcpu_arg args[CONFIG_MAX_CPUS];
	struct sigaction sa = { .sa_handler = kick_handler };
	sigset_t set, old;
	unsigned i, started = 0;
	int rc = 0;

	sigemptyset(&sa.sa_mask);
	sigaction(SIG_KICK, &sa, NULL);
	/* Only vCPU threads take the kick; everyone else leaves it blocked. */
	sigemptyset(&set);
	sigaddset(&set, SIG_KICK);
	pthread_sigmask(SIG_BLOCK, &set, &old);
	for (i = 0; i < m->ncpus; i++) {
		args[i] = (struct vcpu_arg){ m, i };
		rc = pthread_create(&m->vcpu_thread[i], NULL, vcpu_thread, &args[i]);
		if (rc) {
			errno = rc;
			err_errno(err, "cannot start the thread of vCPU %u (pthread_create)", i);
			machine_request_stop(m, CLOAK_EXIT_ERROR, "%s", err->msg);
			rc = -1;
			break;
		}
		started++;
	}
	/* Every thread now waits at the sandbox gate; the vCPUs enter the guest once all are confined. */
	if (rc == 0 && sandbox_seal(err) < 0) {
		machine_request_stop(m, CLOAK_EXIT_ERROR, "%s", err->msg);
		rc = -1;
	} else if (rc) {
		sandbox_abort();
	} else {
		timeline_mark_at(&m->tl, TL_SANDBOX_SEALED, sandbox_sealed_us());
		service_ready();
	}
	pthread_mutex_lock(&m->stop_lock);
	while (!atomic_load(&m->stopping))
		pthread_cond_wait(&m->stop_cond, &m->stop_lock);
	pthread_mutex_unlock(&m->stop_lock);
	service_stopping(m->stop_reason);
	for (i = 0; i < started; i++) {
		m->run[i]->immediate_exit = 1;
		pthread_kill(m->vcpu_thread[i], SIG_KICK);
	}
	for (i = 0; i < started; i++)
		pthread_join(m->vcpu_thread[i], NULL);
	pthread_sigmask(SIG_SETMASK, &old, NULL);
	return rc;
}
