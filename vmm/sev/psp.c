/* psp.c: what both PSP backends share: names of commands and statuses, checked calls, choosing a backend. */
#include "sev/sev.h"

#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

static const struct {
	const char *name;
	const char *text;
} fw_status[] = {
	[0x00] = { "SUCCESS", "success" },
	[0x01] = { "INVALID_PLATFORM_STATE", "the platform is in the wrong state for this command" },
	[0x02] = { "INVALID_GUEST_STATE", "the guest is in the wrong state for this command (commands out of order)" },
	[0x03] = { "INVALID_CONFIG", "the platform configuration is invalid" },
	[0x04] = { "INVALID_LEN", "a length is wrong or a buffer too small" },
	[0x05] = { "ALREADY_OWNED", "the platform is already owned" },
	[0x06] = { "INVALID_CERTIFICATE", "a certificate is malformed or of the wrong kind" },
	[0x07] = { "POLICY_FAILURE", "the guest policy is not allowed on this platform" },
	[0x08] = { "INACTIVE", "the guest is not active" },
	[0x09] = { "INVALID_ADDRESS", "an address is invalid or not 16-byte aligned" },
	[0x0a] = { "BAD_SIGNATURE", "a signature did not verify" },
	[0x0b] = { "BAD_MEASUREMENT", "a MAC did not verify" },
	[0x0c] = { "ASID_OWNED", "the ASID is already owned" },
	[0x0d] = { "INVALID_ASID", "the ASID is invalid" },
	[0x0e] = { "WBINVD_REQUIRED", "WBINVD is required" },
	[0x0f] = { "DFFLUSH_REQUIRED", "DF_FLUSH is required" },
	[0x10] = { "INVALID_GUEST", "the guest handle is invalid" },
	[0x11] = { "INVALID_COMMAND", "the command is invalid" },
	[0x12] = { "ACTIVE", "the guest is active" },
	[0x13] = { "HWSEV_RET_PLATFORM", "hardware error" },
	[0x14] = { "HWSEV_RET_UNSAFE", "hardware unsafe" },
	[0x15] = { "UNSUPPORTED", "the feature is not supported" },
	[0x16] = { "INVALID_PARAM", "a parameter is invalid" },
	[0x17] = { "RESOURCE_LIMIT", "a firmware resource is depleted" },
	[0x18] = { "SECURE_DATA_INVALID", "the part-specific integrity check failed" },
};

const char *sev_fw_status_name(uint32_t code)
{
	if (code < ARRAY_SIZE(fw_status) && fw_status[code].name)
		return fw_status[code].name;
	return NULL;
}

const char *sev_fw_status_text(uint32_t code)
{
	if (code < ARRAY_SIZE(fw_status) && fw_status[code].text)
		return fw_status[code].text;
	return "a status this version of cloak does not know";
}

const char *sev_kvm_cmd_name(uint32_t id)
{
	static const char *const names[] = {
		[KVM_SEV_INIT] = "KVM_SEV_INIT",
		[KVM_SEV_ES_INIT] = "KVM_SEV_ES_INIT",
		[KVM_SEV_LAUNCH_START] = "KVM_SEV_LAUNCH_START",
		[KVM_SEV_LAUNCH_UPDATE_DATA] = "KVM_SEV_LAUNCH_UPDATE_DATA",
		[KVM_SEV_LAUNCH_UPDATE_VMSA] = "KVM_SEV_LAUNCH_UPDATE_VMSA",
		[KVM_SEV_LAUNCH_SECRET] = "KVM_SEV_LAUNCH_SECRET",
		[KVM_SEV_LAUNCH_MEASURE] = "KVM_SEV_LAUNCH_MEASURE",
		[KVM_SEV_LAUNCH_FINISH] = "KVM_SEV_LAUNCH_FINISH",
		[KVM_SEV_GUEST_STATUS] = "KVM_SEV_GUEST_STATUS",
		[KVM_SEV_INIT2] = "KVM_SEV_INIT2",
	};

	if (id < ARRAY_SIZE(names) && names[id])
		return names[id];
	return "KVM_SEV_?";
}

const char *sev_platform_cmd_name(uint32_t cmd)
{
	static const char *const names[] = {
		[SEV_FACTORY_RESET] = "SEV_FACTORY_RESET",
		[SEV_PLATFORM_STATUS] = "SEV_PLATFORM_STATUS",
		[SEV_PEK_GEN] = "SEV_PEK_GEN",
		[SEV_PEK_CSR] = "SEV_PEK_CSR",
		[SEV_PDH_GEN] = "SEV_PDH_GEN",
		[SEV_PDH_CERT_EXPORT] = "SEV_PDH_CERT_EXPORT",
		[SEV_PEK_CERT_IMPORT] = "SEV_PEK_CERT_IMPORT",
		[SEV_GET_ID] = "SEV_GET_ID",
		[SEV_GET_ID2] = "SEV_GET_ID2",
	};

	if (cmd < ARRAY_SIZE(names) && names[cmd])
		return names[cmd];
	return "SEV_?";
}

const char *sev_guest_state_name(uint32_t state)
{
	static const char *const names[] = { "UNINIT", "LUPDATE", "LSECRET", "RUNNING", "SUPDATE", "RUPDATE", "SENT" };

	return state < ARRAY_SIZE(names) ? names[state] : "?";
}

const char *sev_platform_state_name(uint32_t state)
{
	static const char *const names[] = { "UNINIT", "INIT", "WORKING" };

	return state < ARRAY_SIZE(names) ? names[state] : "?";
}

/* What to do about a firmware status, for the commands where the cause is usually the same. */
static const char *fw_remedy(const char *what, uint32_t fw)
{
	if (strstr(what, "LAUNCH_START")) {
		if (fw == SEV_RET_BAD_MEASUREMENT)
			return "the session does not open on this platform: it was built for another PDH "
			       "certificate or another --policy; rebuild it (cloak-owner session) for this "
			       "platform's PDH (cloak sev-export) and this exact policy";
		if (fw == SEV_RET_INVALID_CERTIFICATE)
			return "--dh-cert-file is not a P-384 ECDH PDH-usage certificate of 2084 bytes";
		if (fw == SEV_RET_POLICY_FAILURE)
			return "the platform refuses this --policy (reserved bits, SEV-ES on a platform without it, "
			       "or a minimum API version above the firmware's)";
		if (fw == SEV_RET_INVALID_LEN)
			return "--dh-cert-file must decode to 2084 bytes and --session-file to 128";
	}
	if (strstr(what, "LAUNCH_SECRET") && fw == SEV_RET_BAD_MEASUREMENT)
		return "the secret's MAC does not verify: it was packaged for another measurement or another TIK";
	if (fw == SEV_RET_INVALID_GUEST_STATE)
		return "cloak issued the launch commands out of order; this is a bug in cloak, please report it";
	if (fw == SEV_RET_INVALID_PLATFORM_STATE)
		return "the platform is not initialized; check `dmesg | grep -i sev` for a firmware INIT failure";
	return NULL;
}

static const char *errno_remedy(const char *what, int e)
{
	if (e == EBUSY && (strstr(what, "INIT")))
		return "the SEV ASIDs are used up: every ASID between CPUID 0x8000001F EDX (minimum SEV ASID) and "
		       "ECX (maximum) belongs to another guest; stop an SEV guest, or raise the misc cgroup "
		       "sev limit";
	if (e == ENOTTY && strstr(what, "INIT"))
		return "this KVM runs no SEV guests: either kvm_amd runs without SEV (load it with sev=1 on an "
		       "SEV-capable host), or every ASID went to SEV-ES/SNP (the minimum SEV ASID, CPUID "
		       "0x8000001F EDX, is above the maximum, ECX: lower the BIOS \"SEV-ES ASID space limit\"); "
		       "`cloak host-check` says which and reports the ASID split";
	if (e == ENOTTY)
		return "this KVM runs no SEV guests (KVM_MEMORY_ENCRYPT_OP gives ENOTTY): load kvm_amd with sev=1 "
		       "on an SEV-capable host; `cloak host-check` says what is missing";
	if (e == ENOMEM && (strstr(what, "REG_REGION") || strstr(what, "UPDATE_DATA")))
		return "RLIMIT_MEMLOCK is too small for the pages SEV pins; run with CAP_IPC_LOCK or raise the "
		       "limit (ulimit -l)";
	if (e == EBADF)
		return "the sev_fd is not /dev/sev (or it was closed)";
	if (e == EPERM || e == EACCES)
		return "/dev/sev must be opened read-write by a user allowed to (root, or the group owning it)";
	if (e == EINVAL && strstr(what, "INIT"))
		return "INIT must come before any vCPU exists, once per VM";
	return NULL;
}

int psp_describe_failure(struct cloak_err *err, const char *what, int rc, uint32_t fw_error)
{
	const char *name, *remedy;
	int e = -rc;

	if (fw_error && fw_error != (uint32_t)SEV_RET_NO_FW_CALL) {
		name = sev_fw_status_name(fw_error);
		remedy = fw_remedy(what, fw_error);
		return err_set(err, "%s failed: firmware status 0x%x %s (%s)%s%s", what, fw_error, name ? name : "?",
			       sev_fw_status_text(fw_error), remedy ? "; " : "", remedy ? remedy : "");
	}
	remedy = errno_remedy(what, e);
	return err_set(err, "%s failed: %s (%s)%s%s", what, strerrorname_np(e) ? strerrorname_np(e) : "?",
		       strerror(e), remedy ? "; " : "", remedy ? remedy : "");
}

static void psp_trace(struct psp *psp, const char *what, int rc, uint32_t fw)
{
	if (!psp->trace)
		return;
	if (rc == 0)
		fprintf(stderr, "cloak: sev[%s]: %s: ok\n", psp->name, what);
	else
		fprintf(stderr, "cloak: sev[%s]: %s: %s, firmware status 0x%x %s\n", psp->name, what,
			strerrorname_np(-rc) ? strerrorname_np(-rc) : "?", fw,
			sev_fw_status_name(fw) ? sev_fw_status_name(fw) : "");
}

int psp_platform(struct psp *psp, uint32_t cmd, void *data, uint32_t *fw_error, struct cloak_err *err)
{
	char what[96];
	uint32_t fw = 0;
	int rc;

	rc = psp->ops->platform_cmd(psp, cmd, data, &fw);
	snprintf(what, sizeof(what), "%s (SEV_ISSUE_CMD)", sev_platform_cmd_name(cmd));
	psp_trace(psp, what, rc, fw);
	if (fw_error)
		*fw_error = fw;
	if (rc < 0 && err)
		return psp_describe_failure(err, what, rc, fw);
	return rc < 0 ? -1 : 0;
}

int psp_vm(struct psp *psp, int vm_fd, uint32_t id, void *data, uint32_t *fw_error, struct cloak_err *err)
{
	char what[96];
	uint32_t fw = 0;
	int rc;

	rc = psp->ops->vm_cmd(psp, vm_fd, id, data, &fw);
	snprintf(what, sizeof(what), "%s (KVM_MEMORY_ENCRYPT_OP)", sev_kvm_cmd_name(id));
	psp_trace(psp, what, rc, fw);
	if (fw_error)
		*fw_error = fw;
	if (rc < 0 && err)
		return psp_describe_failure(err, what, rc, fw);
	return rc < 0 ? -1 : 0;
}

int psp_platform_status(struct psp *psp, struct sev_user_data_status *st, struct cloak_err *err)
{
	memset(st, 0, sizeof(*st));
	return psp_platform(psp, SEV_PLATFORM_STATUS, st, NULL, err);
}

int psp_pdh_export(struct psp *psp, uint8_t pdh[SEV_CERT_LEN], struct cloak_err *err)
{
	struct sev_user_data_pdh_cert_export x = { 0 };
	uint8_t *chain = NULL;
	uint32_t fw = 0;
	int rc;

	/* The length query: the firmware answers INVALID_LEN with the sizes it needs. */
	if (psp_platform(psp, SEV_PDH_CERT_EXPORT, &x, &fw, NULL) < 0 && fw != SEV_RET_INVALID_LEN)
		return psp_platform(psp, SEV_PDH_CERT_EXPORT, &x, &fw, err);
	if (x.pdh_cert_len != SEV_CERT_LEN)
		return err_set(err, "SEV_PDH_CERT_EXPORT: the platform's PDH certificate is %u bytes, not %u; "
				    "this firmware speaks another certificate format", x.pdh_cert_len, SEV_CERT_LEN);
	if (x.cert_chain_len) {
		chain = malloc(x.cert_chain_len);
		if (!chain)
			return err_set(err, "out of memory");
	}
	x.pdh_cert_address = (uint64_t)(uintptr_t)pdh;
	x.cert_chain_address = (uint64_t)(uintptr_t)chain;
	rc = psp_platform(psp, SEV_PDH_CERT_EXPORT, &x, NULL, err);
	free(chain);
	return rc;
}

struct psp *psp_open(const struct vm_config *cfg, bool create_sim_key, struct cloak_err *err)
{
	struct psp *psp;

	if (cfg->sev_backend == SEV_BACKEND_SIM) {
		struct psp_sim_params p;

		const char *types = getenv("CLOAK_SEV_SIM_VM_TYPES");

		psp_sim_default_params(&p);
		p.pdh_key_path = cfg->sev_sim_key;
		/*
		 * The simulated KVM is Debian 12's (6.1: legacy INIT and ES_INIT)
		 * unless CLOAK_SEV_SIM_VM_TYPES=1 makes it a 6.10+ one (SEV VM types,
		 * INIT2, VMSA features): tests run both launch paths with it.
		 */
		p.sev_vm_type = types && !strcmp(types, "1");
		p.create_key = create_sim_key;
		psp = psp_sim_open(&p, err);
	} else {
		psp = psp_real_open(cfg->sev_device, err);
	}
	if (psp) {
		const char *t = getenv("CLOAK_SEV_TRACE");

		psp->trace = t && *t && strcmp(t, "0");
	}
	return psp;
}

void psp_close(struct psp *psp)
{
	if (psp)
		psp->ops->close(psp);
}
