/* psp_sim.c: a simulated PSP: the SEV API's state machines, argument rules, digest, session and secrets. */
#include "sev/sev.h"
#include "sev/vmsa.h"

#include <errno.h>
#include <openssl/evp.h>
#include <openssl/rand.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/capability.h>
#include <sys/ioctl.h>
#include <sys/resource.h>
#include <sys/stat.h>
#include <unistd.h>

/*
 * It answers the structs of the real interface with the errno KVM would give
 * (ENOTTY before INIT, EINVAL for empty or oversized blobs, EBUSY without a
 * free ASID, ENOMEM past RLIMIT_MEMLOCK) and the firmware status the SEV API
 * and AMD's firmware source give. It never encrypts: guests run on plain KVM.
 *
 * One deliberate difference: real firmware accepts a second LAUNCH_UPDATE_DATA
 * over a page and measures its ciphertext, a digest nobody can predict. The
 * simulator has no ciphertext to measure, so it refuses that with
 * INVALID_PARAM, which is what the host's mistake deserves anyway.
 */

#define SIM_MAX_GUESTS 16
#define SIM_MAX_VCPUS CONFIG_MAX_CPUS  /* as many as cloak starts */
#define SIM_PAGE 4096ull

struct sim_range {
	uintptr_t first, end;  /* host page numbers, [first, end) */
};

struct sim_guest {
	bool used;
	int vm_fd;
	unsigned asid;
	bool started;               /* LAUNCH_START done: the guest has a handle and is active */
	uint32_t handle;
	uint32_t state;
	uint32_t policy;
	struct sev_keys keys;       /* random without a session: nobody outside the firmware knows them */
	struct sev_digest ld;
	uint8_t digest[32];
	uint8_t measure[SEV_MEASURE_LEN];
	struct sim_range *updated;
	unsigned nupdated, capupdated;
	uint64_t pinned;            /* bytes REG_REGION pinned, charged to RLIMIT_MEMLOCK */
	bool es;                    /* INIT2 on an SEV-ES VM type, or KVM_SEV_ES_INIT */
	bool es_init2;              /* INIT2: KVM copies x87/SSE state into the VMSA too */
	uint64_t vmsa_features;
	int vcpu_fds[SIM_MAX_VCPUS];
	unsigned nvcpus;
	bool vmsas_done;
};

struct psp_sim {
	struct psp psp;
	struct psp_sim_params p;
	bool platform_inited;
	EVP_PKEY *pdh;
	uint8_t pdh_cert[SEV_CERT_LEN];
	struct sim_guest guests[SIM_MAX_GUESTS];
	uint32_t next_handle;
};

void psp_sim_default_params(struct psp_sim_params *p)
{
	/* API 1.55 build 21: what current Milan/Genoa firmware reports; >= 0.17, so MEASURE has its prefix. */
	*p = (struct psp_sim_params){ .api_major = 1, .api_minor = 55, .build = 21, .asids = 8, .es = true,
				      .vmsa_features = SEV_FEAT_DEBUG_SWAP };
}

static unsigned sim_guest_count(const struct psp_sim *s)
{
	unsigned i, n = 0;

	for (i = 0; i < SIM_MAX_GUESTS; i++)
		n += s->guests[i].used && s->guests[i].started;
	return n;
}

static struct sim_guest *sim_guest_find(struct psp_sim *s, int vm_fd)
{
	unsigned i;

	for (i = 0; i < SIM_MAX_GUESTS; i++)
		if (s->guests[i].used && s->guests[i].vm_fd == vm_fd)
			return &s->guests[i];
	return NULL;
}

/* KVM charges pins to RLIMIT_MEMLOCK unless the process has CAP_IPC_LOCK; so does the simulator. */
static bool sim_may_pin(uint64_t bytes)
{
	cap_flag_value_t v = CAP_CLEAR;
	struct rlimit rl;
	cap_t caps;

	caps = cap_get_proc();
	if (caps) {
		cap_get_flag(caps, CAP_IPC_LOCK, CAP_EFFECTIVE, &v);
		cap_free(caps);
	}
	if (v == CAP_SET || getrlimit(RLIMIT_MEMLOCK, &rl) < 0 || rl.rlim_cur == RLIM_INFINITY)
		return true;
	return bytes <= rl.rlim_cur;
}

static int fw(uint32_t *fw_error, uint32_t status)
{
	*fw_error = status;
	return status ? -EIO : 0;
}

static int sim_platform_cmd(struct psp *psp, uint32_t cmd, void *data, uint32_t *fw_error)
{
	struct psp_sim *s = psp->priv;

	*fw_error = 0;
	switch (cmd) {
	case SEV_PLATFORM_STATUS: {
		struct sev_user_data_status *st = data;
		unsigned n = sim_guest_count(s);

		st->api_major = s->p.api_major;
		st->api_minor = s->p.api_minor;
		st->build = s->p.build;
		st->flags = s->p.es ? SEV_STATUS_FLAGS_CONFIG_ES : 0;
		st->guest_count = n;
		st->state = n ? SEV_PSTATE_WORKING : s->platform_inited ? SEV_PSTATE_INIT : SEV_PSTATE_UNINIT;
		return 0;
	}
	case SEV_PDH_CERT_EXPORT: {
		struct sev_user_data_pdh_cert_export *x = data;
		bool query = !x->pdh_cert_address || !x->pdh_cert_len || !x->cert_chain_address || !x->cert_chain_len;

		/* The chain (PEK | OCA | CEK) of a simulated platform is zeros: nothing signs its PDH. */
		if (query || x->pdh_cert_len < SEV_CERT_LEN || x->cert_chain_len < 3 * SEV_CERT_LEN) {
			x->pdh_cert_len = SEV_CERT_LEN;
			x->cert_chain_len = 3 * SEV_CERT_LEN;
			return fw(fw_error, SEV_RET_INVALID_LEN);
		}
		memcpy((void *)(uintptr_t)x->pdh_cert_address, s->pdh_cert, SEV_CERT_LEN);
		memset((void *)(uintptr_t)x->cert_chain_address, 0, 3 * SEV_CERT_LEN);
		x->pdh_cert_len = SEV_CERT_LEN;
		x->cert_chain_len = 3 * SEV_CERT_LEN;
		return 0;
	}
	default:
		if (cmd >= SEV_MAX)
			return -EINVAL;
		return fw(fw_error, SEV_RET_INVALID_COMMAND);  /* platform management is not simulated */
	}
}

static int sim_init(struct psp_sim *s, int vm_fd, uint32_t id, const void *data)
{
	bool asid_used[SIM_MAX_GUESTS + 1] = { false };
	struct sim_guest *g = NULL;
	unsigned i, asid;

	bool es = id == KVM_SEV_ES_INIT, init2 = false;
	uint64_t features = 0;

	/* An SEV-ES ASID needs a platform with SEV-ES: KVM then has none to give (sev_asid_new: ENOTTY). */
	if (id == KVM_SEV_ES_INIT && !s->p.es)
		return -ENOTTY;
	/* KVM: INIT2 only on a VM created with an SEV type, legacy INIT only on the default type. */
	if (id == KVM_SEV_INIT2) {
		const struct kvm_sev_init *in = data;

		if (!s->p.sev_vm_type)
			return -EINVAL;
		if (!in)
			return -EFAULT;
		es = s->psp.sim_vm_type == KVM_X86_SEV_ES_VM;
		/* __sev_guest_init: VMSA features and a GHCB version only for SEV-ES, and only the offered ones. */
		if (in->flags || (in->vmsa_features & ~(es ? s->p.vmsa_features : 0)) ||
		    in->ghcb_version > SEV_GHCB_VERSION_INIT2 || (!es && in->ghcb_version))
			return -EINVAL;
		if (es && !s->p.es)
			return -ENOTTY;
		features = in->vmsa_features;
		init2 = true;
	} else if (s->p.sev_vm_type) {
		return -EINVAL;
	}
	if (sim_guest_find(s, vm_fd))
		return -EINVAL;  /* SEV is already active on this VM */
	for (i = 0; i < SIM_MAX_GUESTS; i++) {
		if (s->guests[i].used)
			asid_used[s->guests[i].asid] = true;
		else if (!g)
			g = &s->guests[i];
	}
	for (asid = 1; asid <= s->p.asids && asid_used[asid]; asid++)
		;
	if (asid > s->p.asids || !g)
		return -EBUSY;
	memset(g, 0, sizeof(*g));
	g->used = true;
	g->vm_fd = vm_fd;
	g->asid = asid;
	g->state = SEV_GSTATE_UNINIT;
	g->es = es;
	g->es_init2 = es && init2;
	g->vmsa_features = features;
	s->platform_inited = true;
	return 0;
}

static void sim_guest_free(struct sim_guest *g)
{
	sev_digest_abort(&g->ld);
	free(g->updated);
	memset(g, 0, sizeof(*g));
}

/* KVM copies LAUNCH_START and LAUNCH_SECRET blobs itself first (psp_copy_user_blob). */
static bool blob_ok(uint64_t uaddr, uint32_t len)
{
	return uaddr && len && len <= SEV_FW_BLOB_MAX;
}

static int sim_launch_start(struct psp_sim *s, struct sim_guest *g, struct kvm_sev_launch_start *a,
			    uint32_t *fw_error)
{
	uint32_t policy = a->policy;
	struct sev_keys keys = { { 0 }, { 0 } };
	uint32_t st;

	if ((a->dh_uaddr && !blob_ok(a->dh_uaddr, a->dh_len)) ||
	    (a->session_uaddr && !blob_ok(a->session_uaddr, a->session_len)))
		return -EINVAL;
	if (g->started)
		return fw(fw_error, SEV_RET_INVALID_GUEST_STATE);
	if (a->handle)
		return fw(fw_error, SEV_RET_INVALID_GUEST);  /* key sharing is not simulated */
	if (a->dh_uaddr) {
		if (a->dh_len != SEV_CERT_LEN || a->session_len != SEV_SESSION_LEN || !a->session_uaddr)
			return fw(fw_error, SEV_RET_INVALID_LEN);
		st = sev_session_open(s->pdh, (const uint8_t *)(uintptr_t)a->dh_uaddr,
				      (const uint8_t *)(uintptr_t)a->session_uaddr, policy, &keys);
		if (st)
			return fw(fw_error, st);
	} else if (RAND_bytes(keys.tek, sizeof(keys.tek)) != 1 || RAND_bytes(keys.tik, sizeof(keys.tik)) != 1) {
		/*
		 * No session, no channel: the owner has no TIK, so nothing may depend
		 * on its value. AMD's published firmware leaves it zero; random keys
		 * make a verifier that assumes zeros fail here instead of on hardware.
		 */
		return fw(fw_error, SEV_RET_HWSEV_RET_PLATFORM);
	}
	if (policy & SEV_POLICY_RESERVED)
		return fw(fw_error, SEV_RET_POLICY_FAILURE);
	if (((policy >> 16) & 0xff) > s->p.api_major ||
	    (((policy >> 16) & 0xff) == s->p.api_major && (policy >> 24) > s->p.api_minor))
		return fw(fw_error, SEV_RET_POLICY_FAILURE);
	if ((policy & SEV_POLICY_ES) && !s->p.es)
		return fw(fw_error, SEV_RET_POLICY_FAILURE);
	/*
	 * The firmware runs an ES policy only on an SEV-ES ASID, which KVM gives
	 * only an SEV-ES VM, and a plain SEV policy never on one: both halves
	 * must agree (the simulator answers a mismatch with POLICY_FAILURE).
	 */
	if (!!(policy & SEV_POLICY_ES) != g->es)
		return fw(fw_error, SEV_RET_POLICY_FAILURE);
	if (sev_digest_begin(&g->ld) < 0)
		return fw(fw_error, SEV_RET_HWSEV_RET_PLATFORM);
	g->keys = keys;
	g->policy = policy;
	g->handle = s->next_handle++;
	g->started = true;
	g->state = SEV_GSTATE_LUPDATE;
	a->handle = g->handle;
	return 0;
}

static int sim_update_data(struct sim_guest *g, const struct kvm_sev_launch_update_data *a, uint32_t *fw_error)
{
	uintptr_t first, end;
	unsigned i;

	if (!a->len || a->uaddr + a->len < a->uaddr)
		return -EINVAL;
	if (!a->uaddr)
		return -EFAULT;
	if (!sim_may_pin(g->pinned + a->len))
		return -ENOMEM;
	if (g->state != SEV_GSTATE_LUPDATE)
		return fw(fw_error, SEV_RET_INVALID_GUEST_STATE);
	if (a->uaddr % 16)
		return fw(fw_error, SEV_RET_INVALID_ADDRESS);
	if (a->len % 16)
		return fw(fw_error, SEV_RET_INVALID_LEN);
	first = (uintptr_t)(a->uaddr / SIM_PAGE);
	end = (uintptr_t)((a->uaddr + a->len + SIM_PAGE - 1) / SIM_PAGE);
	for (i = 0; i < g->nupdated; i++)
		if (first < g->updated[i].end && g->updated[i].first < end)
			return fw(fw_error, SEV_RET_INVALID_PARAM);
	if (g->nupdated == g->capupdated) {
		unsigned cap = g->capupdated ? 2 * g->capupdated : 16;
		struct sim_range *n = realloc(g->updated, cap * sizeof(*n));

		if (!n)
			return -ENOMEM;
		g->updated = n;
		g->capupdated = cap;
	}
	g->updated[g->nupdated++] = (struct sim_range){ first, end };
	/* The firmware hashes the plaintext as it reads it, then writes it back encrypted (here: not). */
	if (sev_digest_add(&g->ld, (const void *)(uintptr_t)a->uaddr, a->len) < 0)
		return fw(fw_error, SEV_RET_HWSEV_RET_PLATFORM);
	return 0;
}

static int sim_measure(struct psp_sim *s, struct sim_guest *g, struct kvm_sev_launch_measure *a,
		       uint32_t *fw_error)
{
	struct sev_measure_input in;

	if (a->len && !a->uaddr)
		return -EFAULT;
	if (g->state != SEV_GSTATE_LUPDATE)
		return fw(fw_error, SEV_RET_INVALID_GUEST_STATE);
	if (a->len < SEV_MEASURE_BLOB_LEN) {
		a->len = SEV_MEASURE_BLOB_LEN;
		return fw(fw_error, SEV_RET_INVALID_LEN);
	}
	memset(&in, 0, sizeof(in));
	if (sev_digest_end(&g->ld, g->digest) < 0 || RAND_bytes(in.mnonce, sizeof(in.mnonce)) != 1)
		return fw(fw_error, SEV_RET_HWSEV_RET_PLATFORM);
	in.api_major = s->p.api_major;
	in.api_minor = s->p.api_minor;
	in.build = s->p.build;
	in.policy = g->policy;
	memcpy(in.digest, g->digest, 32);
	if (sev_measure_compute(g->keys.tik, &in, g->measure) < 0)
		return fw(fw_error, SEV_RET_HWSEV_RET_PLATFORM);
	memcpy((void *)(uintptr_t)a->uaddr, g->measure, SEV_MEASURE_LEN);
	memcpy((uint8_t *)(uintptr_t)a->uaddr + SEV_MEASURE_LEN, in.mnonce, SEV_MNONCE_LEN);
	a->len = SEV_MEASURE_BLOB_LEN;
	g->state = SEV_GSTATE_LSECRET;
	return 0;
}

static int sim_secret(struct psp_sim *s, struct sim_guest *g, const struct kvm_sev_launch_secret *a,
		      uint32_t *fw_error)
{
	uint8_t *plain;
	uint32_t st;

	if (!a->guest_len || !a->guest_uaddr || !blob_ok(a->trans_uaddr, a->trans_len) ||
	    !blob_ok(a->hdr_uaddr, a->hdr_len))
		return -EINVAL;
	if (!sim_may_pin(g->pinned + a->guest_len))
		return -ENOMEM;
	if (g->state != SEV_GSTATE_LSECRET)
		return fw(fw_error, SEV_RET_INVALID_GUEST_STATE);
	if (a->hdr_len != SEV_SECRET_HDR_LEN)
		return fw(fw_error, SEV_RET_INVALID_LEN);
	if (a->guest_uaddr % 16)
		return fw(fw_error, SEV_RET_INVALID_ADDRESS);
	plain = malloc(a->trans_len);
	if (!plain)
		return -ENOMEM;
	st = sev_secret_unwrap(&g->keys, g->measure, sev_api_has_measure_prefix(s->p.api_major, s->p.api_minor),
			       (const uint8_t *)(uintptr_t)a->hdr_uaddr, (const uint8_t *)(uintptr_t)a->trans_uaddr,
			       a->trans_len, a->guest_len, plain);
	if (st == 0)
		memcpy((void *)(uintptr_t)a->guest_uaddr, plain, a->guest_len);
	free(plain);
	return fw(fw_error, st);
}

/* What KVM hands the firmware for one vCPU: its VMSA as sev_es_sync_vmsa builds it (vmm/sev/vmsa.h). */
static int sim_vcpu_vmsa(const struct sim_guest *g, int fd, uint8_t page[VMSA_SIZE])
{
	static struct kvm_xsave xsave;  /* 4 KiB: off the stack; the launch is single-threaded */
	struct vmsa_vcpu_state st;
	struct kvm_debugregs dbg;
	struct kvm_xcrs xcrs;
	unsigned i;

	memset(&st, 0, sizeof(st));
	/* The x87/SSE state as KVM keeps it: KVM_GET_FPU would leave MXCSR out. */
	if (ioctl(fd, KVM_GET_REGS, &st.regs) < 0 || ioctl(fd, KVM_GET_SREGS, &st.sregs) < 0 ||
	    ioctl(fd, KVM_GET_XSAVE, &xsave) < 0 || ioctl(fd, KVM_GET_DEBUGREGS, &dbg) < 0)
		return -errno;
	vmsa_fpu_from_xsave(&xsave, &st.fpu);
	/* sev_es_sync_vmsa refuses a DR7 beyond its fixed bit: the VMSA would start debugging. */
	if (dbg.dr7 & ~0x400ull)
		return -EINVAL;
	st.xcr0 = 1;
	if (ioctl(fd, KVM_GET_XCRS, &xcrs) == 0)
		for (i = 0; i < xcrs.nr_xcrs && i < KVM_MAX_XCRS; i++)
			if (xcrs.xcrs[i].xcr == 0)
				st.xcr0 = xcrs.xcrs[i].value;
	st.fpu_synced = g->es_init2;
	st.sev_features = g->vmsa_features;
	vmsa_from_vcpu(&st, page);
	return 0;
}

/*
 * KVM_SEV_LAUNCH_UPDATE_VMSA: KVM syncs each vCPU's VMSA and the firmware
 * measures it, page by page in vCPU order, into the same launch digest as
 * the data. Under the simulator the registers stay readable and the guest
 * runs as a plain guest; only the digest is what hardware would compute.
 */
static int sim_update_vmsa(struct sim_guest *g, uint32_t *fw_error)
{
	uint8_t page[VMSA_SIZE];
	unsigned i;
	int rc;

	if (!g->es)
		return -ENOTTY;  /* KVM: not an SEV-ES guest */
	if (!g->started || g->state != SEV_GSTATE_LUPDATE || g->vmsas_done)
		return fw(fw_error, SEV_RET_INVALID_GUEST_STATE);
	if (!g->nvcpus)
		return -EINVAL;  /* the simulated KVM was never told the vCPUs (psp_sim_set_vcpus) */
	for (i = 0; i < g->nvcpus; i++) {
		rc = sim_vcpu_vmsa(g, g->vcpu_fds[i], page);
		if (rc < 0)
			return rc;
		if (sev_digest_add(&g->ld, page, sizeof(page)) < 0)
			return fw(fw_error, SEV_RET_HWSEV_RET_PLATFORM);
	}
	g->vmsas_done = true;
	return 0;
}

int psp_sim_set_vcpus(struct psp *psp, int vm_fd, const int *vcpu_fds, unsigned n)
{
	struct sim_guest *g;

	if (!psp->simulated)
		return 0;  /* the real KVM knows its vCPUs */
	g = sim_guest_find(psp->priv, vm_fd);
	if (!g)
		return -ENOTTY;
	if (n > SIM_MAX_VCPUS)
		return -E2BIG;
	memcpy(g->vcpu_fds, vcpu_fds, n * sizeof(*vcpu_fds));
	g->nvcpus = n;
	return 0;
}

static int sim_vm_cmd(struct psp *psp, int vm_fd, uint32_t id, void *data, uint32_t *fw_error)
{
	struct psp_sim *s = psp->priv;
	struct sim_guest *g;

	*fw_error = 0;
	if (id == KVM_SEV_INIT || id == KVM_SEV_ES_INIT || id == KVM_SEV_INIT2)
		return sim_init(s, vm_fd, id, data);
	g = sim_guest_find(s, vm_fd);
	if (!g)
		return -ENOTTY;  /* KVM: not an SEV guest until INIT */
	switch (id) {
	case KVM_SEV_LAUNCH_START:
		return sim_launch_start(s, g, data, fw_error);
	case KVM_SEV_LAUNCH_UPDATE_DATA:
		return sim_update_data(g, data, fw_error);
	case KVM_SEV_LAUNCH_UPDATE_VMSA:
		return sim_update_vmsa(g, fw_error);
	case KVM_SEV_LAUNCH_MEASURE:
		return sim_measure(s, g, data, fw_error);
	case KVM_SEV_LAUNCH_SECRET:
		return sim_secret(s, g, data, fw_error);
	case KVM_SEV_LAUNCH_FINISH:
		if (g->state != SEV_GSTATE_LSECRET)
			return fw(fw_error, SEV_RET_INVALID_GUEST_STATE);
		g->state = SEV_GSTATE_RUNNING;
		return 0;
	case KVM_SEV_GUEST_STATUS: {
		struct kvm_sev_guest_status *st = data;

		if (!g->started)
			return fw(fw_error, SEV_RET_INVALID_GUEST);
		*st = (struct kvm_sev_guest_status){ .handle = g->handle, .policy = g->policy, .state = g->state };
		return 0;
	}
	default:
		return -EINVAL;
	}
}

static int sim_reg_region(struct psp *psp, int vm_fd, const struct kvm_enc_region *r)
{
	struct sim_guest *g = sim_guest_find(psp->priv, vm_fd);

	if (!g)
		return -ENOTTY;
	if (!r->size || r->addr + r->size < r->addr)
		return -EINVAL;
	if (!sim_may_pin(g->pinned + r->size))
		return -ENOMEM;
	g->pinned += r->size;
	return 0;
}

static void sim_vm_release(struct psp *psp, int vm_fd)
{
	struct sim_guest *g = sim_guest_find(psp->priv, vm_fd);

	if (g)
		sim_guest_free(g);
}

static void sim_close(struct psp *psp)
{
	struct psp_sim *s = psp->priv;
	unsigned i;

	for (i = 0; i < SIM_MAX_GUESTS; i++)
		if (s->guests[i].used)
			sim_guest_free(&s->guests[i]);
	EVP_PKEY_free(s->pdh);
	free(s);
}

static const struct psp_ops sim_ops = {
	.platform_cmd = sim_platform_cmd,
	.vm_cmd = sim_vm_cmd,
	.reg_region = sim_reg_region,
	.vm_release = sim_vm_release,
	.close = sim_close,
};

static EVP_PKEY *sim_pdh_key(const struct psp_sim_params *p, struct cloak_err *err)
{
	struct stat st;
	EVP_PKEY *k;

	if (!p->pdh_key_path)
		return sev_ec_generate(err);
	if (stat(p->pdh_key_path, &st) == 0)
		return sev_key_load_pem(p->pdh_key_path, "--sev-sim-key", err);
	if (!p->create_key) {
		err_set(err, "--sev-sim-key %s does not exist; create the simulated platform's key with "
			     "`cloak sev-export --sev-backend sim --sev-sim-key %s PDH_OUT`", p->pdh_key_path,
			p->pdh_key_path);
		return NULL;
	}
	k = sev_ec_generate(err);
	if (k && sev_key_save_pem(k, p->pdh_key_path, err) < 0) {
		EVP_PKEY_free(k);
		return NULL;
	}
	return k;
}

struct psp *psp_sim_open(const struct psp_sim_params *p, struct cloak_err *err)
{
	struct psp_sim *s;

	if (p->asids == 0 || p->asids > SIM_MAX_GUESTS) {
		err_set(err, "simulated PSP: %u ASIDs; give 1 to %d", p->asids, SIM_MAX_GUESTS);
		return NULL;
	}
	s = calloc(1, sizeof(*s));
	if (!s) {
		err_set(err, "out of memory");
		return NULL;
	}
	s->p = *p;
	s->next_handle = 1;
	s->pdh = sim_pdh_key(p, err);
	if (!s->pdh || sev_cert_from_key(s->pdh, SEV_USAGE_PDH, p->api_major, p->api_minor, s->pdh_cert, err) < 0) {
		EVP_PKEY_free(s->pdh);
		free(s);
		return NULL;
	}
	s->psp = (struct psp){ .ops = &sim_ops, .name = "sim", .simulated = true, .cbit = PSP_SIM_CBIT,
			       .sim_sev_vm_type = p->sev_vm_type,
			       .sim_vmsa_features = p->sev_vm_type ? p->vmsa_features : 0, .priv = s };
	return &s->psp;
}
