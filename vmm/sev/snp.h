/* snp.h: the internal API of SEV-SNP in the VMM: the simulated SNP firmware, its CPUID page and secrets page formats. */
#ifndef CLOAK_SNP_H
#define CLOAK_SNP_H

#include "cloak.h"
#include "sev/snp_measure.h"
#include "sev/snp_report.h"

#include <stdbool.h>
#include <stdint.h>

struct kvm_cpuid_entry2;

/* SNP guest policy bits (SNP ABI, GUEST_POLICY); bits 0-15 are the lowest ABI version the guest accepts. */
#define SNP_POLICY_ABI_MINOR 0xffull
#define SNP_POLICY_ABI_MAJOR 0xff00ull
#define SNP_POLICY_SMT (1ull << 16)
#define SNP_POLICY_RSVD_MBO (1ull << 17)  /* must be one */
#define SNP_POLICY_MIGRATE_MA (1ull << 18)
#define SNP_POLICY_DEBUG (1ull << 19)
#define SNP_POLICY_SINGLE_SOCKET (1ull << 20)
#define SNP_POLICY_CXL_ALLOW (1ull << 21)
#define SNP_POLICY_MEM_AES_256_XTS (1ull << 22)
#define SNP_POLICY_RAPL_DIS (1ull << 23)
#define SNP_POLICY_CIPHERTEXT_HIDING (1ull << 24)
#define SNP_POLICY_PAGE_SWAP_DISABLE (1ull << 25)
#define SNP_POLICY_KNOWN 0x3ffffffull   /* bits 26-63 are reserved: zero */
/*
 * An SNP guest policy as the owner or `--policy` gives it: bit 17 set, no
 * reserved bit (each named). Returns 0 or -1 with a message naming `what`.
 */
int snp_policy_check(uint64_t policy, const char *what, struct cloak_err *err);
/* Parses a 64-bit hex policy ("0x30000") and checks it. */
int snp_policy_parse(const char *s, uint64_t *out, const char *what, struct cloak_err *err);
/* The bits a 6.12 kernel passes on (arch/x86/kvm/svm/sev.c SNP_POLICY_MASK_VALID); KVM refuses others with EINVAL. */
#define SNP_POLICY_KVM_VALID 0x1fffffull

/* The guest states of the SNP ABI. */
enum snp_gstate { SNP_GSTATE_INIT = 0, SNP_GSTATE_LAUNCH = 1, SNP_GSTATE_RUNNING = 2 };

/* ---- the CPUID page (SNP ABI, CPUID function table; Linux's struct snp_cpuid_table) ---- */

#define SNP_CPUID_COUNT_MAX 64
struct snp_cpuid_fn {
	uint32_t eax_in, ecx_in;
	uint64_t xcr0_in, xss_in;
	uint32_t eax, ebx, ecx, edx;
	uint64_t reserved;
};
struct snp_cpuid_page {
	uint32_t count;
	uint32_t reserved1;
	uint64_t reserved2;
	struct snp_cpuid_fn fn[SNP_CPUID_COUNT_MAX];
};
_Static_assert(sizeof(struct snp_cpuid_fn) == 48, "a CPUID function entry is 48 bytes");
_Static_assert(sizeof(struct snp_cpuid_page) == 16 + 64 * 48 && sizeof(struct snp_cpuid_page) <= SNP_PAGE_SIZE,
	       "the CPUID table fits its page");

/*
 * Fills the CPUID page from the guest's CPUID (n entries, KVM's order). When
 * there are more than 64, the leaves Linux's SNP code needs go in first (0x0,
 * 0x1, 0x7.x, 0xD.x, 0x40000000-1, 0x80000000-1, 0x80000008, 0x8000001F),
 * then the rest in order. Returns how many were dropped, named ("0x12.0 ...")
 * in `dropped` (truncated to dropped_len).
 */
unsigned snp_cpuid_table_fill(struct snp_cpuid_page *t, const struct kvm_cpuid_entry2 *e, unsigned n, char *dropped,
			      size_t dropped_len);

/* ---- the secrets page the firmware writes (SNP ABI, SECRETS page format, version 2) ---- */

#define SNP_SECRETS_OFF_VERSION 0x00
#define SNP_SECRETS_OFF_FMS 0x08
#define SNP_SECRETS_OFF_GOSVW 0x10
#define SNP_SECRETS_OFF_VMPCK0 0x20   /* four 32-byte VM platform communication keys */
#define SNP_VMPCK_LEN 32

/* ---- the simulated SNP firmware (psp_sim_snp.c) ---- */

/*
 * What the simulated platform is. It answers the firmware commands as the SNP
 * ABI describes them and never encrypts anything; the VCEK chain it signs with
 * is its own (ARK -> ASK -> VCEK), never AMD's.
 */
struct snp_sim_params {
	uint8_t api_major, api_minor;
	uint32_t build;
	bool smt;                       /* SMT is on: policies without SMT are refused */
	unsigned sockets;               /* more than one: SINGLE_SOCKET policies are refused */
	uint64_t reported_tcb;          /* the TCB its VCEK is for (Genoa layout) */
	uint8_t cpuid_family, cpuid_model, cpuid_stepping;
	/* The CPUID the "hardware" allows; a CPUID page asking more is corrected. NULL: nothing checked. */
	const struct kvm_cpuid_entry2 *hw_cpuid;
	unsigned hw_ncpuid;
};
void snp_sim_default_params(struct snp_sim_params *p);

struct snp_sim;
struct snp_sim_guest;

struct snp_sim *snp_sim_open(const struct snp_sim_params *p, struct cloak_err *err);
void snp_sim_close(struct snp_sim *s);
/* Replaces the hardware's CPUID table (borrowed until the next call or close). */
void snp_sim_set_hw_cpuid(struct snp_sim *s, const struct kvm_cpuid_entry2 *e, unsigned n);
/* SNP_PLATFORM_STATUS's fields. */
void snp_sim_status(const struct snp_sim *s, uint8_t *api_major, uint8_t *api_minor, uint8_t *state, uint32_t *build,
		    uint32_t *guests, uint64_t *tcb);
/* Writes the chain as `cloak-owner report verify` reads it: the ASK and ARK (PEM) and the VCEK (DER). */
int snp_sim_export_chain(struct snp_sim *s, const char *ca_pem, const char *vcek_der, struct cloak_err *err);

/*
 * The firmware commands, on one guest context each. They return the
 * firmware's status (SEV_RET_*), 0 on success, as the PSP would.
 */
uint32_t snp_fw_launch_start(struct snp_sim *s, uint64_t policy, const uint8_t gosvw[16], struct snp_sim_guest **g);
/*
 * One 4 KiB page at `gpa`, already in the guest's memory at `page`. ZERO and
 * SECRETS pages are written by the firmware; a CPUID page that asks more than
 * the hardware allows is rewritten with the allowed values and refused with
 * INVALID_PARAM, as the firmware does (the kernel copies it back for the VMM).
 */
uint32_t snp_fw_launch_update(struct snp_sim_guest *g, uint64_t gpa, uint8_t page_type, uint8_t page[SNP_PAGE_SIZE]);
/* A vCPU's VMSA, which only KVM hands the firmware, at SNP_LAUNCH_FINISH (GPA: SNP_VMSA_GPA). */
uint32_t snp_fw_launch_update_vmsa(struct snp_sim_guest *g, const uint8_t page[SNP_PAGE_SIZE]);
/* id_block NULL: no ID block. host_data: 32 bytes that reports carry. */
uint32_t snp_fw_launch_finish(struct snp_sim_guest *g, const uint8_t *id_block, const uint8_t *id_auth,
			      bool auth_key_en, const uint8_t host_data[32], bool vcek_disabled);
/* MSG_REPORT_REQ: a signed attestation report for report_data at VMPL `vmpl`. */
uint32_t snp_fw_guest_report(struct snp_sim_guest *g, const uint8_t report_data[64], uint32_t vmpl,
			     struct snp_report *out);
enum snp_gstate snp_fw_guest_state(const struct snp_sim_guest *g);
/* The launch digest so far. */
void snp_fw_guest_digest(const struct snp_sim_guest *g, uint8_t ld[SNP_LD_LEN]);
/* The VMPCK0 the firmware put in the guest's secrets page (zeros before one is placed). */
void snp_fw_guest_vmpck0(const struct snp_sim_guest *g, uint8_t key[SNP_VMPCK_LEN]);
void snp_fw_guest_free(struct snp_sim_guest *g);

/*
 * ---- the SIMULATED kernel side (psp_sim_snp.c) ----
 *
 * What a 6.12 KVM does for an SNP VM and what our 6.1 and 6.12 kernels cannot
 * run here (no guest_memfd, no SNP): the memory slots and their private or
 * shared attribute kept in cloak, and the KVM_SEV_SNP_* commands with the
 * argument rules of arch/x86/kvm/svm/sev.c, copying each page into guest
 * memory and handing it to the simulated firmware. The guest itself runs on
 * plain KVM with normal memory slots: nothing here is private or encrypted.
 */
struct kvm_fpu;
struct kvm_sev_init;
struct kvm_sev_snp_launch_start;
struct kvm_sev_snp_launch_update;
struct kvm_sev_snp_launch_finish;
struct snp_ksim;

struct snp_ksim *snp_ksim_open(struct snp_sim *fw, struct cloak_err *err);
void snp_ksim_close(struct snp_ksim *k);
/* KVM_SEV_INIT2 on a KVM_X86_SNP_VM: the VMSA features and GHCB version it takes. Returns 0 or -errno. */
int snp_ksim_init2(struct snp_ksim *k, const struct kvm_sev_init *in);
/* KVM_SET_USER_MEMORY_REGION2 with a guest_memfd: slot `slot` is [gpa, gpa+size) at host address `host`. */
int snp_ksim_set_slot(struct snp_ksim *k, unsigned slot, uint64_t gpa, uint64_t size, uint8_t *host);
/* KVM_SET_MEMORY_ATTRIBUTES: attributes 0 (shared) or KVM_MEMORY_ATTRIBUTE_PRIVATE. Returns 0 or -errno. */
int snp_ksim_set_attributes(struct snp_ksim *k, uint64_t gpa, uint64_t size, uint64_t attributes, uint64_t flags);
/* Whether every page of [gpa, gpa+size) is private. */
bool snp_ksim_is_private(const struct snp_ksim *k, uint64_t gpa, uint64_t size);
/* The KVM_SEV_SNP_* commands: 0 or -errno, *fw_error the firmware's status. */
int snp_ksim_launch_start(struct snp_ksim *k, struct kvm_sev_snp_launch_start *p, uint32_t *fw_error);
/*
 * A GFN range, as 6.12's sev.c does it: clamped to gfn_start's slot, page by
 * page; pages done before a failing one are success with gfn_start/uaddr/len
 * advanced past them, only a failing first page is -EIO (*fw_error the
 * firmware's status or 0). The caller resumes while len is not 0.
 */
int snp_ksim_launch_update(struct snp_ksim *k, struct kvm_sev_snp_launch_update *p, uint32_t *fw_error);
/* Test hook: the next SNP_LAUNCH_UPDATE meets a pending signal after `pages` pages (as kvm_gmem_populate's -EINTR). */
void snp_ksim_test_signal_after(struct snp_ksim *k, long pages);
/*
 * KVM_SET_FPU on vCPU `index`: the simulated kernel keeps it, because the
 * nested 6.1 KVM's KVM_GET_FPU reads back zeros (measured), while a 6.12 KVM
 * copies the vCPU's real x87/SSE state into the VMSA.
 */
int snp_ksim_set_fpu(struct snp_ksim *k, unsigned index, const struct kvm_fpu *fpu);
/* The VMSA KVM's sev_es_sync_vmsa builds for vCPU `index` from its registers (and the kept FPU). */
int snp_ksim_vcpu_vmsa(const struct snp_ksim *k, unsigned index, int vcpu_fd, uint8_t page[SNP_PAGE_SIZE]);
/* vcpu_fds: the VM's vCPUs, whose VMSAs KVM syncs and measures first. */
int snp_ksim_launch_finish(struct snp_ksim *k, struct kvm_sev_snp_launch_finish *p, const int *vcpu_fds,
			   unsigned nvcpus, uint32_t *fw_error);
/* The guest context the commands made (NULL before SNP_LAUNCH_START). */
struct snp_sim_guest *snp_ksim_guest(struct snp_ksim *k);

#endif
