/* sev_launch.c: `cloak run --sev`: INIT, pinning, LAUNCH_START, the measured updates, MEASURE, SECRET, FINISH. */
#include "sev/sev.h"

#include "guestmem.h"
#include "sev/vmsa.h"

#include <cpuid.h>
#include <errno.h>
#include <fcntl.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/ioctl.h>
#include <unistd.h>

/* ---- the guest's CPUID ---- */

void sev_cpuid_leaf(struct kvm_cpuid2 *cpuid, unsigned capacity, int cbit)
{
	struct kvm_cpuid_entry2 *leaf = NULL;
	unsigned i;

	for (i = 0; i < cpuid->nent; i++) {
		if (cpuid->entries[i].function == 0x80000000 && cpuid->entries[i].eax < 0x8000001f)
			cpuid->entries[i].eax = 0x8000001f;
		if (cpuid->entries[i].function == 0x8000001f)
			leaf = &cpuid->entries[i];
	}
	if (!leaf) {
		if (cpuid->nent >= capacity)
			return;
		leaf = &cpuid->entries[cpuid->nent++];
		memset(leaf, 0, sizeof(*leaf));
		leaf->function = 0x8000001f;
	}
	/*
	 * As QEMU gives it: SEV (bit 1), the C-bit, and one bit of physical
	 * address lost to encryption; no ASID counts. With the simulated PSP the
	 * guest's read of SEV_STATUS is trapped and answered by cloak (kvm.c).
	 */
	leaf->eax = 1u << 1;
	leaf->ebx = (uint32_t)(cbit & 0x3f) | 1u << 6;
	leaf->ecx = 0;
	leaf->edx = 0;
}

/* ---- the launch ---- */

int sev_launch_open(struct sev_launch *sl, const struct vm_config *cfg, int *cbit, struct cloak_err *err)
{
	uint8_t *data;
	size_t len;
	unsigned want_major, want_minor;

	memset(sl, 0, sizeof(*sl));
	sl->cfg = cfg;
	sl->vm_fd = -1;
	if (sev_policy_check(cfg->sev_policy, "--policy", err) < 0)
		return -1;
	/* The owner's files first: a wrong file is the user's to fix before anything is opened. */
	if (cfg->sev_dh_cert_path) {
		if (sev_file_read_b64(cfg->sev_dh_cert_path, "--dh-cert-file", SEV_FW_BLOB_MAX, &data, &len, err) < 0)
			return -1;
		if (len != SEV_CERT_LEN) {
			free(data);
			return err_set(err, "--dh-cert-file %s decodes to %zu bytes; a GODH certificate has %u "
					    "(cloak-owner session or sevctl session write it)",
				       cfg->sev_dh_cert_path, len, SEV_CERT_LEN);
		}
		memcpy(sl->godh, data, SEV_CERT_LEN);
		free(data);
		if (sev_file_read_b64(cfg->sev_session_path, "--session-file", SEV_FW_BLOB_MAX, &data, &len, err) < 0)
			return -1;
		if (len != SEV_SESSION_LEN) {
			free(data);
			return err_set(err, "--session-file %s decodes to %zu bytes; a session blob has %u",
				       cfg->sev_session_path, len, SEV_SESSION_LEN);
		}
		memcpy(sl->session, data, SEV_SESSION_LEN);
		free(data);
		sl->has_session = true;
	}
	if (cfg->sev_backend == SEV_BACKEND_SIM)
		fprintf(stderr, "cloak: --sev-backend sim: the PSP is SIMULATED; guest memory is NOT encrypted and "
				"the measurement proves nothing about this host\n");
	sl->psp = psp_open(cfg, false, err);
	if (!sl->psp)
		return -1;
	if (psp_platform_status(sl->psp, &sl->status, err) < 0) {
		err_prefix(err, "cannot read the SEV platform status: ");
		goto fail;
	}
	want_major = (cfg->sev_policy >> 16) & 0xff;
	want_minor = cfg->sev_policy >> 24;
	if (want_major > sl->status.api_major || (want_major == sl->status.api_major && want_minor > sl->status.api_minor)) {
		err_set(err, "--policy 0x%x asks for SEV firmware API %u.%u or later; this platform runs %u.%u; lower "
			     "bits 16-31 of the policy or update the firmware", cfg->sev_policy, want_major, want_minor,
			sl->status.api_major, sl->status.api_minor);
		goto fail;
	}
	*cbit = sl->psp->cbit;
	return 0;
fail:
	psp_close(sl->psp);
	sl->psp = NULL;
	return -1;
}

unsigned long sev_vm_type(const struct vm_config *cfg, int kvm_fd)
{
	unsigned long want = cfg->sev_mode == SEV_LAUNCH_ES ? KVM_X86_SEV_ES_VM : KVM_X86_SEV_VM;
	int types;

	if (!cfg->sev || cfg->sev_backend != SEV_BACKEND_REAL)
		return KVM_X86_DEFAULT_VM;
	types = ioctl(kvm_fd, KVM_CHECK_EXTENSION, KVM_CAP_VM_TYPES);
	if (types > 0 && (types & (1 << want)))
		return want;
	return KVM_X86_DEFAULT_VM;
}

/* CPUID 1 EAX of this host: family, model and stepping, which the guest's CPUID passes on. */
static uint32_t host_vcpu_sig(void)
{
	unsigned a = 0, b, c, d;

	__get_cpuid(1, &a, &b, &c, &d);
	return a;
}

int sev_launch_es_open(struct sev_launch *sl, struct cloak_err *err)
{
	struct psp *psp = sl->psp;

	if (!(sl->status.flags & SEV_STATUS_FLAGS_CONFIG_ES))
		return err_set(err, "--sev-mode es: the SEV firmware reports SEV-ES not configured (PLATFORM_STATUS); "
				    "this CPU or its BIOS has no SEV-ES ASIDs (`cloak host-check` says which)");
	sl->es = true;
	sl->vcpu_sig = host_vcpu_sig();
	if (psp->simulated) {
		sl->es_init2 = psp->sim_sev_vm_type;
		sl->vmsa_features = psp->sim_vmsa_features;
	} else {
		int fd = open(sl->cfg->kvm_device, O_RDWR | O_CLOEXEC);
		int types;

		if (fd < 0)
			return err_errno(err, "cannot open %s to ask KVM how it starts SEV-ES guests", sl->cfg->kvm_device);
		types = ioctl(fd, KVM_CHECK_EXTENSION, KVM_CAP_VM_TYPES);
		sl->es_init2 = types > 0 && (types & (1 << KVM_X86_SEV_ES_VM));
		if (sl->es_init2) {
			/*
			 * What KVM offers, of the features an SEV-ES guest can use:
			 * DebugSwap (Milan and later). The others KVM may list (Secure
			 * TSC, the interrupt-injection modes) belong to SNP guests.
			 * None when KVM cannot say.
			 */
			struct kvm_device_attr attr = { .group = KVM_X86_GRP_SEV, .attr = KVM_X86_SEV_VMSA_FEATURES,
							.addr = (uint64_t)(uintptr_t)&sl->vmsa_features };

			if (ioctl(fd, KVM_GET_DEVICE_ATTR, &attr) < 0)
				sl->vmsa_features = 0;
			sl->vmsa_features &= SEV_ES_VMSA_FEATURES;
		}
		close(fd);
	}
	sl->ghcb_version = sl->es_init2 ? SEV_GHCB_VERSION_INIT2 : SEV_GHCB_VERSION_LEGACY;
	if (psp->simulated)
		fprintf(stderr, "cloak: --sev-mode es under --sev-backend sim: the vCPUs' registers are NOT encrypted "
				"and the guest runs as a plain guest; only the launch digest (VMSAs included) is what "
				"SEV-ES hardware would compute\n");
	return 0;
}

void sev_launch_vmsa_inputs(const struct sev_launch *sl, struct plan_vmsa_inputs *vmsa)
{
	*vmsa = (struct plan_vmsa_inputs){ .on = sl->es, .features = sl->vmsa_features, .vcpu_sig = sl->vcpu_sig,
					   .fpu_synced = sl->es_init2 };
}

int sev_launch_update_vmsa(struct sev_launch *sl, const int *vcpu_fds, unsigned n, struct cloak_err *err)
{
	int rc = psp_sim_set_vcpus(sl->psp, sl->vm_fd, vcpu_fds, n);

	if (rc < 0) {
		psp_describe_failure(err, "the simulated KVM's vCPU list", rc, 0);
		return -1;
	}
	/* KVM walks every vCPU itself; the command carries no data. */
	if (psp_vm(sl->psp, sl->vm_fd, KVM_SEV_LAUNCH_UPDATE_VMSA, NULL, NULL, err) < 0)
		return err_prefix(err, "encrypting and measuring the %u vCPUs' VMSAs: ", n);
	sl->measured_bytes += (uint64_t)n * VMSA_SIZE;
	sl->updates += n;
	return 0;
}

int sev_launch_start(struct sev_launch *sl, int kvm_fd, int vm_fd, const struct guest_mem *mem, struct cloak_err *err)
{
	struct kvm_sev_launch_start start = { .policy = sl->cfg->sev_policy | (sl->es ? SEV_POLICY_ES : 0) };
	struct kvm_enc_region region = { .addr = (uint64_t)(uintptr_t)mem->host, .size = mem->size };
	char a[32];
	int rc;

	sl->vm_type = sev_vm_type(sl->cfg, kvm_fd);
	sl->vm_fd = vm_fd;
	if (sl->es && (sl->vm_type == KVM_X86_SEV_ES_VM || (sl->psp->simulated && sl->es_init2))) {
		/* GHCB version 0: KVM picks the newest it speaks (2), which sl->ghcb_version records. */
		struct kvm_sev_init init = { .vmsa_features = sl->vmsa_features };

		sl->psp->sim_vm_type = KVM_X86_SEV_ES_VM;
		if (psp_vm(sl->psp, vm_fd, KVM_SEV_INIT2, &init, NULL, err) < 0)
			return -1;
	} else if (sl->es) {
		if (psp_vm(sl->psp, vm_fd, KVM_SEV_ES_INIT, NULL, NULL, err) < 0)
			return -1;
	} else if (sl->vm_type == KVM_X86_SEV_VM || sl->psp->sim_sev_vm_type) {
		struct kvm_sev_init init = { 0 };  /* plain SEV: no VMSA features, no GHCB */

		if (psp_vm(sl->psp, vm_fd, KVM_SEV_INIT2, &init, NULL, err) < 0)
			return -1;
	} else if (psp_vm(sl->psp, vm_fd, KVM_SEV_INIT, NULL, NULL, err) < 0) {
		return -1;
	}
	sl->inited = true;
	rc = sl->psp->ops->reg_region(sl->psp, vm_fd, &region);
	if (sl->psp->trace)
		fprintf(stderr, "cloak: sev[%s]: KVM_MEMORY_ENCRYPT_REG_REGION %s: %s\n", sl->psp->name,
			fmt_size(mem->size, a), rc ? strerror(-rc) : "ok");
	if (rc < 0) {
		psp_describe_failure(err, "KVM_MEMORY_ENCRYPT_REG_REGION", rc, 0);
		return err_prefix(err, "cannot pin %s of guest memory for SEV: ", fmt_size(mem->size, a));
	}
	if (sl->has_session) {
		start.dh_uaddr = (uint64_t)(uintptr_t)sl->godh;
		start.dh_len = SEV_CERT_LEN;
		start.session_uaddr = (uint64_t)(uintptr_t)sl->session;
		start.session_len = SEV_SESSION_LEN;
	}
	if (psp_vm(sl->psp, vm_fd, KVM_SEV_LAUNCH_START, &start, NULL, err) < 0)
		return -1;
	sl->handle = start.handle;
	return 0;
}

struct update_walk {
	struct sev_launch *sl;
	const struct guest_mem *mem;
	struct cloak_err *err;
	uint64_t done_first[PLAN_MAX_REGIONS], done_end[PLAN_MAX_REGIONS];
	unsigned ndone;
	int rc;
};

static void update_region(void *ctx, const struct plan_region *r, uint64_t gpa, uint64_t len)
{
	struct update_walk *w = ctx;
	uint64_t first = gpa / PAGE_SIZE, end = (gpa + len + PAGE_SIZE - 1) / PAGE_SIZE, off;
	uint8_t *host;
	unsigned i;

	if (w->rc < 0)
		return;
	host = gpa_range(w->mem, gpa, len);
	if (!host || gpa % 16 || len % 16) {
		w->rc = err_set(w->err, "internal error: measured region %s (0x%llx+0x%llx) is outside guest memory or "
					"not 16-byte aligned", r->name, (unsigned long long)gpa, (unsigned long long)len);
		return;
	}
	/* The plan keeps regions on pages of their own; measuring a page twice would measure ciphertext. */
	for (i = 0; i < w->ndone; i++)
		if (first < w->done_end[i] && w->done_first[i] < end) {
			w->rc = err_set(w->err, "internal error: measured region %s shares a page with an earlier one",
					r->name);
			return;
		}
	w->done_first[w->ndone] = first;
	w->done_end[w->ndone++] = end;
	for (off = 0; off < len; off += SEV_UPDATE_CHUNK) {
		struct kvm_sev_launch_update_data u = {
			.uaddr = (uint64_t)(uintptr_t)(host + off),
			.len = (uint32_t)(len - off < SEV_UPDATE_CHUNK ? len - off : SEV_UPDATE_CHUNK),
		};

		if (psp_vm(w->sl->psp, w->sl->vm_fd, KVM_SEV_LAUNCH_UPDATE_DATA, &u, NULL, w->err) < 0) {
			w->rc = err_prefix(w->err, "measuring %s (guest 0x%llx+0x%llx): ", r->name,
					   (unsigned long long)gpa, (unsigned long long)len);
			return;
		}
		w->sl->updates++;
	}
	w->sl->measured_bytes += len;
}

int sev_launch_update(struct sev_launch *sl, const struct launch_plan *plan, const struct guest_mem *mem,
		      struct cloak_err *err)
{
	struct update_walk *w = calloc(1, sizeof(*w));
	int rc;

	if (!w)
		return err_set(err, "out of memory");
	w->sl = sl;
	w->mem = mem;
	w->err = err;
	sev_plan_measured(plan, update_region, w);
	rc = w->rc;
	free(w);
	return rc;
}

/* ---- --attest-cmd ---- */

static int sev_inject_secret(struct sev_launch *sl, const struct launch_plan *plan, const struct guest_mem *mem,
			     const struct sev_attest_reply *r, struct cloak_err *err)
{
	struct kvm_sev_launch_secret s;
	uint8_t *host;

	if (sev_secret_target_check(plan, mem->hugepages, r->gpa, r->payload_len, err) < 0)
		return -1;
	host = gpa_range(mem, r->gpa, r->payload_len);
	if (!host)
		return err_set(err, "--attest-cmd: SECRET_GPA 0x%llx is not guest RAM", (unsigned long long)r->gpa);
	s = (struct kvm_sev_launch_secret){
		.hdr_uaddr = (uint64_t)(uintptr_t)r->header, .hdr_len = SEV_SECRET_HDR_LEN,
		.guest_uaddr = (uint64_t)(uintptr_t)host, .guest_len = (uint32_t)r->payload_len,
		.trans_uaddr = (uint64_t)(uintptr_t)r->payload, .trans_len = (uint32_t)r->payload_len,
	};
	return psp_vm(sl->psp, sl->vm_fd, KVM_SEV_LAUNCH_SECRET, &s, NULL, err);
}

int sev_launch_finish(struct sev_launch *sl, const struct launch_plan *plan, const struct guest_mem *mem,
		      struct cloak_err *err)
{
	struct kvm_sev_launch_measure m = { 0 };
	struct sev_attest_reply reply = { 0 };
	char *b64 = NULL, *out = NULL;
	size_t outlen = 0;
	uint32_t fw = 0;
	int rc = -1;

	/* The length query: the firmware answers INVALID_LEN and the size it needs. */
	if (psp_vm(sl->psp, sl->vm_fd, KVM_SEV_LAUNCH_MEASURE, &m, &fw, NULL) < 0 && fw != SEV_RET_INVALID_LEN)
		return psp_vm(sl->psp, sl->vm_fd, KVM_SEV_LAUNCH_MEASURE, &m, NULL, err);
	if (m.len != SEV_MEASURE_BLOB_LEN)
		return err_set(err, "KVM_SEV_LAUNCH_MEASURE: the firmware wants %u bytes for the measurement, not %u; "
				    "cloak does not know this firmware", m.len, SEV_MEASURE_BLOB_LEN);
	m.uaddr = (uint64_t)(uintptr_t)sl->blob;
	if (psp_vm(sl->psp, sl->vm_fd, KVM_SEV_LAUNCH_MEASURE, &m, NULL, err) < 0)
		return -1;
	b64 = sev_b64_encode(sl->blob, sizeof(sl->blob));
	if (!b64)
		return err_set(err, "out of memory");
	fprintf(stderr, "cloak: sev: measured %llu bytes in %u LAUNCH_UPDATE_%s; measurement %s\n",
		(unsigned long long)sl->measured_bytes, sl->updates, sl->es ? "DATA/VMSA" : "DATA", b64);
	if (sl->es) {
		/*
		 * SEV-ES: MEASURE is an HMAC only the TIK's holder can check, so the
		 * owner compares launch digests: the one cloak's plan gives, which
		 * `cloak-owner measure --mode seves --cloak-plan` recomputes.
		 */
		char hex[2 * 32 + 2];

		if (sev_plan_digest(plan, sl->es_digest, NULL, err) < 0)
			goto out;
		sev_hex(sl->es_digest, 32, hex);
		fprintf(stderr, "cloak: sev-es: launch digest %s (%s, VMSA features 0x%llx, GHCB protocol %u)\n", hex,
			sl->es_init2 ? "KVM_SEV_INIT2" : "KVM_SEV_ES_INIT", (unsigned long long)sl->vmsa_features,
			sl->ghcb_version);
		free(sl->owner_command);
		sl->owner_command = sev_owner_command(plan, sl->psp->simulated, sl->cfg->run_argc, sl->cfg->run_argv);
		if (sl->cfg->sev_measurement_out) {
			strcat(hex, "\n");
			if (sev_file_write(sl->cfg->sev_measurement_out, "--measurement-out file", hex, strlen(hex), 0644,
					   err) < 0)
				goto out;
		}
	} else if (sl->cfg->sev_measurement_out) {
		size_t n = strlen(b64);

		b64[n] = '\n';
		rc = sev_file_write(sl->cfg->sev_measurement_out, "--measurement-out file", b64, n + 1, 0644, err);
		b64[n] = 0;
		if (rc < 0)
			goto out;
		rc = -1;
	}
	if (sl->cfg->sev_attest_cmd) {
		if (sev_attest_run(sl, b64, &out, &outlen, err) < 0 || sev_attest_parse(out, outlen, &reply, err) < 0)
			goto out;
		if (reply.has_secret && sev_inject_secret(sl, plan, mem, &reply, err) < 0)
			goto out;
	}
	if (psp_vm(sl->psp, sl->vm_fd, KVM_SEV_LAUNCH_FINISH, NULL, NULL, err) < 0)
		goto out;
	rc = 0;
out:
	sev_attest_reply_free(&reply);
	free(out);
	free(b64);
	return rc;
}

void sev_launch_close(struct sev_launch *sl)
{
	free(sl->owner_command);
	sl->owner_command = NULL;
	if (!sl->psp)
		return;
	if (sl->vm_fd >= 0)
		sl->psp->ops->vm_release(sl->psp, sl->vm_fd);
	psp_close(sl->psp);
	sl->psp = NULL;
}
