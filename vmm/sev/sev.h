/* sev.h: the whole internal API of the SEV launch: PSP backends, formats, crypto, launch steps, host check. */
#ifndef CLOAK_SEV_H
#define CLOAK_SEV_H

#include "cloak.h"
#include "config.h"
#include "plan.h"

#include <getopt.h>
#include <linux/kvm.h>
#include <linux/psp-sev.h>
#include <openssl/types.h>
#include <stdio.h>

struct guest_mem;

/*
 * What Linux 6.10+ uapi headers add; the values are the kernel's
 * (docs/sev-launch.md 1.3). Older headers (Debian 12: 6.1) lack
 * them all, and newer ones define all of them together.
 */
#ifndef KVM_X86_SEV_VM
#define KVM_X86_DEFAULT_VM 0
#define KVM_X86_SEV_VM 2
#define KVM_X86_SEV_ES_VM 3
#define KVM_SEV_INIT2 22
struct kvm_sev_init {
	__u64 vmsa_features;
	__u32 flags;
	__u16 ghcb_version;
	__u16 pad1;
	__u32 pad2[8];
};
#endif
#ifndef KVM_CAP_VM_TYPES
#define KVM_CAP_VM_TYPES 235
#endif
/* KVM_GET_DEVICE_ATTR on /dev/kvm: the VMSA features KVM_SEV_INIT2 accepts (Linux 6.10, asm/kvm.h). */
#ifndef KVM_X86_GRP_SEV
#define KVM_X86_GRP_SEV 1
#define KVM_X86_SEV_VMSA_FEATURES 0
#endif
/* SEV_FEATURES bit 5: the CPU swaps the debug registers on VMRUN/#VMEXIT (asm/svm.h SVM_SEV_FEAT_DEBUG_SWAP). */
#define SEV_FEAT_DEBUG_SWAP (1ull << 5)
/* The VMSA features cloak gives an SEV-ES guest when KVM offers them. */
#define SEV_ES_VMSA_FEATURES SEV_FEAT_DEBUG_SWAP
/* The GHCB protocol versions KVM speaks: INIT2 defaults to 2, legacy KVM_SEV_ES_INIT stays at 1 (svm/sev.c). */
#define SEV_GHCB_VERSION_INIT2 2
#define SEV_GHCB_VERSION_LEGACY 1

/* Sizes fixed by the SEV API (docs/sev-launch.md 3.1). */
#define SEV_CERT_LEN 0x824          /* one SEV certificate (PDH, GODH, PEK...) */
#define SEV_SESSION_LEN 128         /* NONCE 16 | WRAP_TK 32 | WRAP_IV 16 | WRAP_MAC 32 | POLICY_MAC 32 */
#define SEV_MEASURE_LEN 32
#define SEV_MNONCE_LEN 16
#define SEV_MEASURE_BLOB_LEN 48     /* MEASURE | MNONCE, what LAUNCH_MEASURE returns */
#define SEV_SECRET_HDR_LEN 52       /* FLAGS u32 | IV 16 | MAC 32 */
#define SEV_FW_SCRATCH_LEN 0x5000   /* the firmware refuses a larger LAUNCH_SECRET (INVALID_LEN) */
#define SEV_FW_BLOB_MAX (16 * 1024) /* KVM's SEV_FW_BLOB_MAX_SIZE: larger LAUNCH_START/SECRET blobs get EINVAL */
/* A secret meets both bounds; KVM's is the smaller (docs/sev-launch.md 2). */
#define SEV_SECRET_MAX (SEV_FW_BLOB_MAX < SEV_FW_SCRATCH_LEN ? SEV_FW_BLOB_MAX : SEV_FW_SCRATCH_LEN)
#define SEV_KEY_LEN 16
/* One LAUNCH_UPDATE_DATA carries a u32 length; larger regions go in pieces of this size. */
#define SEV_UPDATE_CHUNK (1ull << 30)

/* Guest policy bits (firmware sev_guest.h). */
#define SEV_POLICY_NODBG (1u << 0)
#define SEV_POLICY_NOKS (1u << 1)
#define SEV_POLICY_ES (1u << 2)
#define SEV_POLICY_NOSEND (1u << 3)
#define SEV_POLICY_DOMAIN (1u << 4)
#define SEV_POLICY_SEV (1u << 5)
#define SEV_POLICY_RESERVED 0x0000ffc0u
#define SEV_POLICY_DEFAULT SEV_POLICY_NODBG   /* what QEMU uses when none is given */

/* Certificate fields (SEV API cert format v1). */
#define SEV_USAGE_PDH 0x1003u
#define SEV_USAGE_INVALID 0x1000u
#define SEV_ALGO_ECDH_SHA256 0x3u
#define SEV_CURVE_P384 2u

/* Platform states reported by PLATFORM_STATUS. */
enum sev_platform_state { SEV_PSTATE_UNINIT = 0, SEV_PSTATE_INIT = 1, SEV_PSTATE_WORKING = 2 };
/* Guest states of the launch (firmware sev_guest.h). */
enum sev_guest_state {
	SEV_GSTATE_UNINIT = 0, SEV_GSTATE_LUPDATE, SEV_GSTATE_LSECRET, SEV_GSTATE_RUNNING,
	SEV_GSTATE_SUPDATE, SEV_GSTATE_RUPDATE, SEV_GSTATE_SENT,
};

/* ---- names for messages ---- */

/* "BAD_MEASUREMENT"; NULL for a code this table does not know. */
const char *sev_fw_status_name(uint32_t code);
/* What the status means to a user ("a MAC did not verify"). */
const char *sev_fw_status_text(uint32_t code);
/* "KVM_SEV_LAUNCH_START"; "KVM_SEV_?" for unknown ids. */
const char *sev_kvm_cmd_name(uint32_t id);
/* "SEV_PLATFORM_STATUS" */
const char *sev_platform_cmd_name(uint32_t cmd);
const char *sev_guest_state_name(uint32_t state);
const char *sev_platform_state_name(uint32_t state);

/* Parses a policy given as hex ("0x1", "1", "0x00050001") and refuses what cloak cannot launch. */
int sev_policy_parse(const char *s, uint32_t *out, const char *what, struct cloak_err *err);
/* Refuses reserved bits (firmware: POLICY_FAILURE) and ES (cloak launches plain SEV guests). */
int sev_policy_check(uint32_t policy, const char *what, struct cloak_err *err);

/* ---- the PSP interface ---- */

/*
 * One interface, the kernel's own: platform commands take the
 * sev_user_data_* structs of SEV_ISSUE_CMD, VM commands the kvm_sev_* structs
 * of KVM_MEMORY_ENCRYPT_OP, with host pointers in them. The real backend hands
 * them to the kernel; the simulator interprets the very same structs, so the
 * launch code it tests is the launch code that runs on hardware.
 * Each returns 0 or -errno, and *fw_error gets the firmware status
 * (0 when the firmware was not reached or succeeded).
 */
struct psp;
struct psp_ops {
	int (*platform_cmd)(struct psp *psp, uint32_t cmd, void *data, uint32_t *fw_error);
	int (*vm_cmd)(struct psp *psp, int vm_fd, uint32_t id, void *data, uint32_t *fw_error);
	int (*reg_region)(struct psp *psp, int vm_fd, const struct kvm_enc_region *region);
	/* The VM is gone: its ASID and handle are free again (KVM does this on VM destruction). */
	void (*vm_release)(struct psp *psp, int vm_fd);
	void (*close)(struct psp *psp);
};

struct psp {
	const struct psp_ops *ops;
	const char *name;     /* "real" or "sim" */
	bool simulated;
	int cbit;             /* C-bit position guests put in their page tables */
	bool trace;           /* print every command to stderr (CLOAK_SEV_TRACE=1) */
	/*
	 * The simulated PSP's KVM offers KVM_X86_SEV_VM (Linux 6.10 and later), so
	 * the launch initializes with KVM_SEV_INIT2. The real backend asks KVM
	 * instead (sev_vm_type); the simulator runs on a plain VM of type 0.
	 */
	bool sim_sev_vm_type;
	/*
	 * The simulated KVM's side of SEV-ES: the VMSA features it offers
	 * (KVM_X86_SEV_VMSA_FEATURES), and the VM type the launch asked for,
	 * which the real KVM records at KVM_CREATE_VM and the simulator's plain
	 * VM cannot carry (set before INIT2; 0 means KVM_X86_SEV_VM).
	 */
	uint64_t sim_vmsa_features;
	unsigned long sim_vm_type;
	void *priv;
};

/* The real PSP: /dev/sev (kept open while a VM uses it: KVM re-resolves the fd). */
struct psp *psp_real_open(const char *sev_device, struct cloak_err *err);

/* The simulated PSP. */
struct psp_sim_params {
	uint8_t api_major, api_minor, build;
	unsigned asids;           /* guests that may be active at once */
	bool es;                  /* report SEV-ES as configured */
	const char *pdh_key_path; /* PEM private key of the simulated PDH; NULL: a new key per process */
	bool create_key;          /* create pdh_key_path when it does not exist */
	/*
	 * Simulate a KVM whose KVM_CAP_VM_TYPES offers KVM_X86_SEV_VM: VMs are of
	 * that type, so INIT2 works and legacy INIT gets EINVAL, as in the kernel.
	 * Without it, the other way round (the KVM of Debian 12's 6.1 kernel).
	 */
	bool sev_vm_type;
	uint64_t vmsa_features;   /* what its KVM offers INIT2 (default: DebugSwap, when sev_vm_type) */
};
/*
 * The C-bit the simulator reports: an address bit inside the guest physical-address width of every KVM
 * host we test on (40 bits under QEMU TCG, 48 on AMD), so RAM can be mapped a second time at GPA + 2^39
 * as the private view (sim_memview.c). Guest RAM must stay below 2^39.
 */
#define PSP_SIM_CBIT 39
/*
 * SEV-SNP under the simulator has no memory views (cvm_snp.c simulates the
 * kernel side with plain memslots), so its C-bit is one that plain paging
 * ignores (bits 52-62 are free for software in a PTE): the guest runs as a
 * plain guest with SNP's page tables.
 */
#define PSP_SIM_SNP_CBIT 52
void psp_sim_default_params(struct psp_sim_params *p);
struct psp *psp_sim_open(const struct psp_sim_params *p, struct cloak_err *err);
/*
 * The simulated KVM learns the vCPUs of `vm_fd`, which the real one knows
 * itself: KVM_SEV_LAUNCH_UPDATE_VMSA reads their registers (KVM_GET_REGS,
 * _SREGS, _FPU, _XCRS, _DEBUGREGS) and measures the VMSA KVM would build.
 * Fails with -ENOTTY for a VM the simulator does not know, -E2BIG for too many.
 */
int psp_sim_set_vcpus(struct psp *psp, int vm_fd, const int *vcpu_fds, unsigned n);

/* Opens the backend the config names (--sev-backend, --sev-device, --sev-sim-key). */
struct psp *psp_open(const struct vm_config *cfg, bool create_sim_key, struct cloak_err *err);
void psp_close(struct psp *psp);

/*
 * Checked wrappers: on failure the message names the command, errno's name or
 * the firmware status by name, and a remedy when one is known.
 */
int psp_platform(struct psp *psp, uint32_t cmd, void *data, uint32_t *fw_error, struct cloak_err *err);
int psp_vm(struct psp *psp, int vm_fd, uint32_t id, void *data, uint32_t *fw_error, struct cloak_err *err);
int psp_platform_status(struct psp *psp, struct sev_user_data_status *st, struct cloak_err *err);
/* PDH_CERT_EXPORT: a length query, then the PDH certificate alone. */
int psp_pdh_export(struct psp *psp, uint8_t pdh[SEV_CERT_LEN], struct cloak_err *err);
/* Formats the failure of `what` (returned rc, fw status) into err. */
int psp_describe_failure(struct cloak_err *err, const char *what, int rc, uint32_t fw_error);

/* ---- formats and crypto (OpenSSL underneath) ---- */

struct sev_keys {
	uint8_t tek[SEV_KEY_LEN];  /* transport encryption key */
	uint8_t tik[SEV_KEY_LEN];  /* transport integrity key */
};

int sev_sha256(const void *data, size_t len, uint8_t out[32]);
int sev_hmac_sha256(const uint8_t *key, size_t keylen, const void *data, size_t len, uint8_t out[32]);
int sev_aes128_ctr(const uint8_t key[16], const uint8_t iv[16], const uint8_t *in, uint8_t *out, size_t len);
/* The SEV KDF: NIST SP 800-108 counter mode over HMAC-SHA256 (docs/sev-launch.md 3.3). */
int sev_kdf(const uint8_t *key, size_t keylen, const char *label, const uint8_t *ctx, size_t ctxlen,
	    uint8_t *out, size_t outlen);

/* A running SHA-256 (the launch digest). */
struct sev_digest {
	EVP_MD_CTX *ctx;
	uint64_t bytes;
};
int sev_digest_begin(struct sev_digest *d);
int sev_digest_add(struct sev_digest *d, const void *data, size_t len);
/* Adds `len` zero bytes. */
int sev_digest_zeros(struct sev_digest *d, uint64_t len);
int sev_digest_end(struct sev_digest *d, uint8_t out[32]);
void sev_digest_abort(struct sev_digest *d);

/* What MEASURE covers (firmware sev_guest_measure). */
struct sev_measure_input {
	uint8_t api_major, api_minor, build;
	uint32_t policy;
	uint8_t digest[32];          /* the launch digest */
	uint8_t mnonce[SEV_MNONCE_LEN];
};
/* Whether the firmware puts 0x04 | major | minor | build in front (API 0.17 and later). */
bool sev_api_has_measure_prefix(uint8_t api_major, uint8_t api_minor);
int sev_measure_compute(const uint8_t tik[SEV_KEY_LEN], const struct sev_measure_input *in,
			uint8_t out[SEV_MEASURE_LEN]);

/* P-384 keys and SEV certificates (ECDH public keys only). */
EVP_PKEY *sev_ec_generate(struct cloak_err *err);
int sev_cert_from_key(EVP_PKEY *key, uint32_t usage, uint8_t api_major, uint8_t api_minor,
		      uint8_t cert[SEV_CERT_LEN], struct cloak_err *err);
/* The public key of a certificate whose usage is `usage`, algo ECDH, curve P-384; NULL otherwise. */
EVP_PKEY *sev_cert_pubkey(const uint8_t cert[SEV_CERT_LEN], uint32_t usage, const char *what, struct cloak_err *err);
int sev_ecdh(EVP_PKEY *mine, EVP_PKEY *peer, uint8_t z[48], struct cloak_err *err);
EVP_PKEY *sev_key_load_pem(const char *path, const char *what, struct cloak_err *err);
int sev_key_save_pem(EVP_PKEY *key, const char *path, struct cloak_err *err);

/*
 * The guest owner's half of LAUNCH_START: a new GODH key pair, the TEK/TIK
 * wrapped for the platform whose PDH certificate is given, and the policy MAC.
 */
int sev_session_create(const uint8_t pdh_cert[SEV_CERT_LEN], uint32_t policy, const struct sev_keys *keys,
		       uint8_t godh_cert[SEV_CERT_LEN], uint8_t session[SEV_SESSION_LEN], struct cloak_err *err);
/*
 * The platform's half: returns the firmware status LAUNCH_START would give
 * (0, INVALID_CERTIFICATE, BAD_MEASUREMENT) and the keys on success.
 */
uint32_t sev_session_open(EVP_PKEY *pdh_private, const uint8_t godh_cert[SEV_CERT_LEN],
			  const uint8_t session[SEV_SESSION_LEN], uint32_t policy, struct sev_keys *out);

/* LAUNCH_SECRET packaging (docs/sev-launch.md 3.4). `plain` and `len` are 16-byte multiples. */
int sev_secret_wrap(const struct sev_keys *keys, const uint8_t measure[SEV_MEASURE_LEN], bool measure_prefix,
		    const uint8_t iv[16], const uint8_t *plain, size_t len, uint8_t hdr[SEV_SECRET_HDR_LEN],
		    uint8_t *trans, struct cloak_err *err);
/* The firmware's check and decryption: a firmware status; `out` is written only on success. */
uint32_t sev_secret_unwrap(const struct sev_keys *keys, const uint8_t measure[SEV_MEASURE_LEN], bool measure_prefix,
			   const uint8_t hdr[SEV_SECRET_HDR_LEN], const uint8_t *trans, uint32_t trans_len,
			   uint32_t guest_len, uint8_t *out);

/* The OVMF / Linux efi_secret table that a secret usually carries. */
struct sev_secret_entry {
	uint8_t guid[16];
	const uint8_t *data;
	size_t len;
};
#define SEV_SECRET_TABLE_GUID "1e74f542-71dd-4d66-963e-ef4287ff173b"
/* A malloc'd table padded with zeros to a 16-byte multiple. */
int sev_secret_table_build(const struct sev_secret_entry *e, unsigned n, uint8_t **out, size_t *len,
			   struct cloak_err *err);

/* GUIDs in text form <-> their EFI mixed-endian bytes ("bytes_le"). */
int sev_guid_parse(const char *s, uint8_t out[16]);
void sev_guid_format(const uint8_t g[16], char out[37]);

/*
 * Base64 as sevctl and QEMU write it (standard alphabet, padded); decode skips
 * whitespace. Decode sets *out (NULL on failure) and *len on every path, so
 * callers free *out unconditionally.
 */
char *sev_b64_encode(const uint8_t *data, size_t len);
int sev_b64_decode(const char *s, size_t slen, uint8_t **out, size_t *len);
void sev_hex(const uint8_t *data, size_t len, char *out);

/*
 * Opens a file the user named as `what` for reading, refusing FIFOs, devices,
 * sockets and directories without blocking on them. Returns the fd, or -1
 * with a message naming `what`.
 */
struct stat;
int sev_file_open_regular(const char *path, const char *what, struct stat *st, struct cloak_err *err);
/* Small files: read whole (at most `max` bytes), base64 files, atomic writes. */
int sev_file_read(const char *path, const char *what, size_t max, uint8_t **out, size_t *len,
		  struct cloak_err *err);
int sev_file_read_b64(const char *path, const char *what, size_t max, uint8_t **out, size_t *len,
		      struct cloak_err *err);
int sev_file_write(const char *path, const char *what, const void *data, size_t len, unsigned mode,
		   struct cloak_err *err);

/* ---- the launch digest of a cloak plan (shared with cloak-owner) ---- */

/*
 * The guest range LAUNCH_UPDATE_DATA covers for a measured region: the region
 * widened to 16-byte boundaries. The widening stays inside pages no other
 * region touches (plan_add_region), so its extra bytes are always zero.
 */
void sev_region_span(const struct plan_region *r, uint64_t *gpa, uint64_t *len);
/* Visits the measured regions in plan order; `fn` may be NULL. Returns the bytes measured. */
uint64_t sev_plan_measured(const struct launch_plan *plan,
			   void (*fn)(void *ctx, const struct plan_region *r, uint64_t gpa, uint64_t len), void *ctx);
/* SHA-256 of the bytes cloak measures for `plan`, computed from the plan alone (under SEV-ES with its VMSAs). */
int sev_plan_digest(const struct launch_plan *plan, uint8_t digest[32], uint64_t *bytes, struct cloak_err *err);
/*
 * The `cloak-owner measure` command line that recomputes the SEV-ES launch
 * digest of `plan`, launched with the `cloak run` arguments argv[1..argc):
 * the mode, the C-bit (--cpu-generation sim under the simulator), the vCPU
 * signature, the guest features, how KVM was initialized, then the
 * arguments, quoted for sh. Malloc'd; NULL when the plan measures no VMSAs.
 */
char *sev_owner_command(const struct launch_plan *plan, bool simulated, int argc, char *const *argv);
/* RLIMIT_MEMLOCK the launch needs: REG_REGION pins all RAM, UPDATE_DATA pins a region more. */
uint64_t sev_pin_bytes(const struct launch_plan *plan);
/* The formula behind it: guest memory + the largest measured span (at most one update chunk) + one page. */
uint64_t sev_pin_estimate(uint64_t mem_size, uint64_t largest_span);

/* ---- the launch itself (cloak run --sev) ---- */

struct sev_launch {
	const struct vm_config *cfg;
	struct psp *psp;
	struct sev_user_data_status status;
	unsigned long vm_type;
	int vm_fd;
	uint32_t handle;
	uint8_t blob[SEV_MEASURE_BLOB_LEN];
	uint64_t measured_bytes;
	unsigned updates;
	bool inited;
	bool has_session;
	uint8_t godh[SEV_CERT_LEN];
	uint8_t session[SEV_SESSION_LEN];
	/* SEV-ES (--sev-mode es): what sev_launch_es_open found the host offers. */
	bool es;
	bool es_init2;             /* KVM_X86_SEV_ES_VM + KVM_SEV_INIT2; false: KVM_SEV_ES_INIT */
	uint64_t vmsa_features;    /* given to INIT2, so SEV_FEATURES of every VMSA */
	uint16_t ghcb_version;     /* the GHCB protocol KVM then speaks */
	uint32_t vcpu_sig;         /* CPUID 1 EAX, the APs' RDX at reset */
	uint8_t es_digest[32];     /* the launch digest cloak's plan gives, for --measurement-out */
	char *owner_command;       /* sev_owner_command, for the timeline */
};

/*
 * Before the plan: opens the PSP, reads PLATFORM_STATUS and refuses a host
 * without SEV (naming what is missing). Sets *cbit for plan_inputs.cbit.
 */
int sev_launch_open(struct sev_launch *sl, const struct vm_config *cfg, int *cbit, struct cloak_err *err);
/* The VM type KVM_CREATE_VM gets: KVM_X86_SEV_VM when KVM_CAP_VM_TYPES offers it (real backend), else 0. */
unsigned long sev_vm_type(const struct vm_config *cfg, int kvm_fd);
/*
 * SEV-ES, after sev_launch_open: refuses a platform without SEV-ES and finds
 * how KVM starts it (INIT2 with the VMSA features /dev/kvm offers, or legacy
 * KVM_SEV_ES_INIT); sev_launch_vmsa_inputs then tells the plan.
 */
int sev_launch_es_open(struct sev_launch *sl, struct cloak_err *err);
/* What the plan's VMSAs are built from, as sev_launch_es_open found it (off for plain SEV). */
void sev_launch_vmsa_inputs(const struct sev_launch *sl, struct plan_vmsa_inputs *vmsa);
/* SEV-ES: after every vCPU's registers are set: LAUNCH_UPDATE_VMSA (KVM walks all vCPUs). */
int sev_launch_update_vmsa(struct sev_launch *sl, const int *vcpu_fds, unsigned n, struct cloak_err *err);
/* After KVM_CREATE_VM and the memory slots, before any vCPU: INIT(2), REG_REGION, LAUNCH_START. */
int sev_launch_start(struct sev_launch *sl, int kvm_fd, int vm_fd, const struct guest_mem *mem, struct cloak_err *err);
/* After the plan is loaded: LAUNCH_UPDATE_DATA over each measured region, in plan order. */
int sev_launch_update(struct sev_launch *sl, const struct launch_plan *plan, const struct guest_mem *mem,
		      struct cloak_err *err);
/* LAUNCH_MEASURE, --measurement-out, --attest-cmd, LAUNCH_SECRET, LAUNCH_FINISH. */
int sev_launch_finish(struct sev_launch *sl, const struct launch_plan *plan, const struct guest_mem *mem,
		      struct cloak_err *err);
void sev_launch_close(struct sev_launch *sl);

/* The guest's CPUID leaf 0x8000001F: SEV and the C-bit. */
void sev_cpuid_leaf(struct kvm_cpuid2 *cpuid, unsigned capacity, int cbit);

/* What --attest-cmd answered. */
struct sev_attest_reply {
	bool has_secret;
	uint8_t header[SEV_SECRET_HDR_LEN];
	uint8_t *payload;
	size_t payload_len;
	uint64_t gpa;
};
/*
 * Runs --attest-cmd with the measurement in its environment and returns what
 * it printed (malloc'd, NUL-terminated); fails when it fails.
 */
int sev_attest_run(const struct sev_launch *sl, const char *measurement_b64, char **out, size_t *outlen,
		   struct cloak_err *err);
/* Parses the command's output (see README "SEV launch"): empty, or the three SECRET_ lines. */
int sev_attest_parse(const char *out, size_t len, struct sev_attest_reply *r, struct cloak_err *err);
void sev_attest_reply_free(struct sev_attest_reply *r);
/*
 * Where the secret may go (docs/sev-launch.md 3.5): 16-aligned, in RAM below 4 GiB (the guest's identity
 * map), one page (KVM needs it physically contiguous), clear of every plan region, the shared DMA window
 * and the boot stack.
 */
int sev_secret_target_check(const struct launch_plan *plan, bool hugepages, uint64_t gpa, size_t len,
			    struct cloak_err *err);

/* ---- host check (cloak host-check) ---- */

struct sev_host_facts {
	bool cpuid_amd;
	char vendor[13];
	bool leaf_present;            /* max extended leaf >= 0x8000001F */
	uint32_t eax, ebx, ecx, edx;  /* CPUID 0x8000001F */
	char kvm_amd_sev[16], kvm_amd_sev_es[16], kvm_amd_sev_snp[16];  /* "" when the file is absent */
	bool kvm_amd_loaded;
	bool dev_sev_exists;
	unsigned dev_sev_mode, dev_sev_uid, dev_sev_gid;
	bool dev_sev_rw;              /* access(R_OK|W_OK) for this user */
	int dev_sev_open_errno;       /* 0 when it opened */
	bool status_ok;
	struct sev_user_data_status status;
	uint32_t status_fw_error;
	int status_errno;
	bool kvm_exists;
	int kvm_open_errno;
	int vm_types;                 /* KVM_CHECK_EXTENSION(KVM_CAP_VM_TYPES): bitmask, 0 or -1 */
	uint64_t memlock_cur, memlock_max;
	bool cap_ipc_lock;
	/* SNP_PLATFORM_STATUS (Linux 6.11+ /dev/sev); the fields of struct sev_user_data_snp_status. */
	bool snp_status_ok;
	int snp_status_errno;
	uint32_t snp_status_fw_error;
	uint8_t snp_api_major, snp_api_minor, snp_state;
	bool snp_rmp_initialized;
	uint32_t snp_build, snp_guest_count;
	uint64_t snp_current_tcb, snp_reported_tcb;
};

/* kvm_amd_params: the directory of kvm_amd's parameters (NULL: /sys/module/kvm_amd/parameters). */
void sev_host_probe(struct sev_host_facts *f, const char *sev_device, const char *kvm_device,
		    const char *kvm_amd_params);

struct sev_verdict {
	bool sev_ok, sev_es_ok, snp_ok;
	unsigned nmissing_sev, nmissing_es, nmissing_snp;
	char missing_sev[12][256];   /* "what is missing: what to change" */
	char missing_es[12][256];
	char missing_snp[12][256];
};
/* What `cloak run --sev --mem guest_mem` pins for the demo guest: sev_pin_bytes of its plan. */
uint64_t sev_host_pin_estimate(uint64_t guest_mem);
/* pin_bytes: what RLIMIT_MEMLOCK must allow without CAP_IPC_LOCK (sev_host_pin_estimate). */
void sev_host_verdict(const struct sev_host_facts *f, uint64_t guest_mem, uint64_t pin_bytes, struct sev_verdict *v);
void sev_host_report(FILE *out, const struct sev_host_facts *f, const struct sev_verdict *v, bool json,
		     const char *sev_device);
/* A small subcommand's command line: getopt_long options ('h' is --help) and positional arguments. */
struct sev_cli {
	const char *cmd;             /* "host-check", for messages */
	const struct option *opts;
	const char *help;            /* printed by --help */
	/* Stores one option's value; fails with a message naming the option and the remedy. */
	int (*set)(void *ctx, int opt, const char *arg, struct cloak_err *err);
	unsigned min_args, max_args; /* positional arguments, from optind on */
	const char *args_hint;       /* "exactly one output file (PDH_OUT)" */
};
enum { SEV_CLI_OK = 0, SEV_CLI_HELP = 1, SEV_CLI_BAD = 2 };
/* Parses argv (argv[0] is the subcommand); on SEV_CLI_OK the positional arguments start at optind. */
int sev_cli_parse(const struct sev_cli *c, int argc, char **argv, void *ctx);

/* `cloak host-check [--json] [--sev-device P] [--kvm-device P]`: 0 SEV usable, 1 not, 2 bad usage. */
int sev_host_check_main(int argc, char **argv);
/* `cloak sev-export`: the platform's PDH certificate for the guest owner. */
int sev_export_main(int argc, char **argv);

#endif
