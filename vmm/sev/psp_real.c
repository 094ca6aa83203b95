/* psp_real.c: the real PSP: SEV_ISSUE_CMD on /dev/sev and KVM_MEMORY_ENCRYPT_OP on the VM, ABI pinned down. */
#include "sev/sev.h"

#include <cpuid.h>
#include <errno.h>
#include <fcntl.h>
#include <stddef.h>
#include <stdlib.h>
#include <sys/ioctl.h>
#include <unistd.h>

/*
 * The kernel ABI, checked against the values docs/sev-launch.md 1.1 lists,
 * computed from the uapi headers: a mismatch here would send the firmware
 * garbage on hardware nobody here can test on.
 */
_Static_assert(KVM_MEMORY_ENCRYPT_OP == 0xc008aeba, "KVM_MEMORY_ENCRYPT_OP");
_Static_assert(KVM_MEMORY_ENCRYPT_REG_REGION == 0x8010aebb, "KVM_MEMORY_ENCRYPT_REG_REGION");
_Static_assert(KVM_MEMORY_ENCRYPT_UNREG_REGION == 0x8010aebc, "KVM_MEMORY_ENCRYPT_UNREG_REGION");
_Static_assert(SEV_ISSUE_CMD == 0xc0105300, "SEV_ISSUE_CMD");
_Static_assert(KVM_CAP_VM_TYPES == 235, "KVM_CAP_VM_TYPES");
_Static_assert(KVM_X86_SEV_VM == 2 && KVM_X86_SEV_ES_VM == 3, "VM types");

_Static_assert(KVM_SEV_INIT == 0 && KVM_SEV_ES_INIT == 1 && KVM_SEV_LAUNCH_START == 2 &&
	       KVM_SEV_LAUNCH_UPDATE_DATA == 3 && KVM_SEV_LAUNCH_UPDATE_VMSA == 4 && KVM_SEV_LAUNCH_SECRET == 5 &&
	       KVM_SEV_LAUNCH_MEASURE == 6 && KVM_SEV_LAUNCH_FINISH == 7 && KVM_SEV_GUEST_STATUS == 16 &&
	       KVM_SEV_INIT2 == 22, "enum sev_cmd_id");

_Static_assert(sizeof(struct kvm_sev_cmd) == 24, "kvm_sev_cmd");
_Static_assert(offsetof(struct kvm_sev_cmd, id) == 0 && offsetof(struct kvm_sev_cmd, data) == 8 &&
	       offsetof(struct kvm_sev_cmd, error) == 16 && offsetof(struct kvm_sev_cmd, sev_fd) == 20, "kvm_sev_cmd");
_Static_assert(sizeof(struct kvm_sev_init) == 48, "kvm_sev_init");
_Static_assert(offsetof(struct kvm_sev_init, flags) == 8 && offsetof(struct kvm_sev_init, ghcb_version) == 12,
	       "kvm_sev_init");
_Static_assert(sizeof(struct kvm_sev_launch_start) == 40, "kvm_sev_launch_start");
_Static_assert(offsetof(struct kvm_sev_launch_start, policy) == 4 &&
	       offsetof(struct kvm_sev_launch_start, dh_uaddr) == 8 &&
	       offsetof(struct kvm_sev_launch_start, dh_len) == 16 &&
	       offsetof(struct kvm_sev_launch_start, session_uaddr) == 24 &&
	       offsetof(struct kvm_sev_launch_start, session_len) == 32, "kvm_sev_launch_start");
_Static_assert(sizeof(struct kvm_sev_launch_update_data) == 16 &&
	       offsetof(struct kvm_sev_launch_update_data, len) == 8, "kvm_sev_launch_update_data");
_Static_assert(sizeof(struct kvm_sev_launch_measure) == 16 && offsetof(struct kvm_sev_launch_measure, len) == 8,
	       "kvm_sev_launch_measure");
_Static_assert(sizeof(struct kvm_sev_launch_secret) == 48, "kvm_sev_launch_secret");
_Static_assert(offsetof(struct kvm_sev_launch_secret, hdr_len) == 8 &&
	       offsetof(struct kvm_sev_launch_secret, guest_uaddr) == 16 &&
	       offsetof(struct kvm_sev_launch_secret, guest_len) == 24 &&
	       offsetof(struct kvm_sev_launch_secret, trans_uaddr) == 32 &&
	       offsetof(struct kvm_sev_launch_secret, trans_len) == 40, "kvm_sev_launch_secret");
_Static_assert(sizeof(struct kvm_sev_guest_status) == 12, "kvm_sev_guest_status");
_Static_assert(sizeof(struct kvm_enc_region) == 16 && offsetof(struct kvm_enc_region, size) == 8, "kvm_enc_region");
_Static_assert(sizeof(struct sev_issue_cmd) == 16 && offsetof(struct sev_issue_cmd, data) == 4 &&
	       offsetof(struct sev_issue_cmd, error) == 12, "sev_issue_cmd");
_Static_assert(sizeof(struct sev_user_data_status) == 12 && offsetof(struct sev_user_data_status, flags) == 3 &&
	       offsetof(struct sev_user_data_status, build) == 7 &&
	       offsetof(struct sev_user_data_status, guest_count) == 8, "sev_user_data_status");
_Static_assert(sizeof(struct sev_user_data_pdh_cert_export) == 24 &&
	       offsetof(struct sev_user_data_pdh_cert_export, pdh_cert_len) == 8 &&
	       offsetof(struct sev_user_data_pdh_cert_export, cert_chain_address) == 12 &&
	       offsetof(struct sev_user_data_pdh_cert_export, cert_chain_len) == 20, "sev_user_data_pdh_cert_export");
_Static_assert(SEV_STATUS_FLAGS_CONFIG_ES == 0x100, "SEV_STATUS_FLAGS_CONFIG_ES");
_Static_assert(SEV_RET_INVALID_GUEST_STATE == 2 && SEV_RET_INVALID_LEN == 4 && SEV_RET_INVALID_CERTIFICATE == 6 &&
	       SEV_RET_POLICY_FAILURE == 7 && SEV_RET_INVALID_ADDRESS == 9 && SEV_RET_BAD_MEASUREMENT == 11 &&
	       SEV_RET_INVALID_GUEST == 16 && SEV_RET_UNSUPPORTED == 21 && SEV_RET_INVALID_PARAM == 22,
	       "sev_ret_code");

struct psp_real {
	struct psp psp;
	int fd;
};

static int real_platform_cmd(struct psp *psp, uint32_t cmd, void *data, uint32_t *fw_error)
{
	struct psp_real *r = psp->priv;
	struct sev_issue_cmd c = { .cmd = cmd, .data = (uint64_t)(uintptr_t)data };
	int rc = ioctl(r->fd, SEV_ISSUE_CMD, &c);

	*fw_error = c.error;
	return rc < 0 ? -errno : 0;
}

static int real_vm_cmd(struct psp *psp, int vm_fd, uint32_t id, void *data, uint32_t *fw_error)
{
	struct psp_real *r = psp->priv;
	/* KVM stores sev_fd at LAUNCH_START and re-resolves it later; every command carries it anyway. */
	struct kvm_sev_cmd c = { .id = id, .data = (uint64_t)(uintptr_t)data, .sev_fd = (uint32_t)r->fd };
	int rc = ioctl(vm_fd, KVM_MEMORY_ENCRYPT_OP, &c);

	*fw_error = c.error;
	return rc < 0 ? -errno : 0;
}

static int real_reg_region(struct psp *psp, int vm_fd, const struct kvm_enc_region *region)
{
	(void)psp;
	return ioctl(vm_fd, KVM_MEMORY_ENCRYPT_REG_REGION, region) < 0 ? -errno : 0;
}

static void real_vm_release(struct psp *psp, int vm_fd)
{
	/* Closing the VM fd is what gives KVM's ASID back; nothing to do here. */
	(void)psp;
	(void)vm_fd;
}

static void real_close(struct psp *psp)
{
	struct psp_real *r = psp->priv;

	close(r->fd);
	free(r);
}

static const struct psp_ops real_ops = {
	.platform_cmd = real_platform_cmd,
	.vm_cmd = real_vm_cmd,
	.reg_region = real_reg_region,
	.vm_release = real_vm_release,
	.close = real_close,
};

struct psp *psp_real_open(const char *sev_device, struct cloak_err *err)
{
	unsigned a, b, c, d;
	struct psp_real *r;
	int fd;

	if (!__get_cpuid(0x80000000, &a, &b, &c, &d) || a < 0x8000001f) {
		err_set(err, "SEV is not available: this CPU has no CPUID leaf 0x8000001F (AMD memory encryption); "
			     "run on an AMD EPYC host with SEV enabled, or use --sev-backend sim to try the launch "
			     "against a simulated PSP (not encrypted); `cloak host-check` has the details");
		return NULL;
	}
	__cpuid(0x8000001f, a, b, c, d);
	if (!(a & 2)) {
		err_set(err, "SEV is not available: the CPU does not offer SEV (CPUID 0x8000001F EAX bit 1 is clear); "
			     "enable SME and SEV in the host firmware (BIOS) on an AMD EPYC host, or use "
			     "--sev-backend sim to try the launch against a simulated PSP (not encrypted); "
			     "`cloak host-check` has the details");
		return NULL;
	}
	fd = open(sev_device, O_RDWR | O_CLOEXEC);
	if (fd < 0) {
		if (errno == ENOENT)
			err_set(err, "SEV is not available: %s does not exist; load the ccp module with the PSP "
				     "enabled (modprobe ccp) and check `dmesg | grep -i sev`; `cloak host-check` "
				     "has the details", sev_device);
		else if (errno == EACCES || errno == EPERM)
			err_set(err, "%s is not readable and writable by this user; run as root or give the user "
				     "the device's group (SEV needs it open read-write)", sev_device);
		else
			err_errno(err, "cannot open %s", sev_device);
		return NULL;
	}
	r = calloc(1, sizeof(*r));
	if (!r) {
		close(fd);
		err_set(err, "out of memory");
		return NULL;
	}
	r->fd = fd;
	r->psp = (struct psp){ .ops = &real_ops, .name = "real", .simulated = false, .cbit = (int)(b & 0x3f),
			       .priv = r };
	return &r->psp;
}
