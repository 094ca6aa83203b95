/* owner.h: what cloak-owner computes besides the shared SEV code: the OVMF launch digest, cloak's plan digest. */
#ifndef CLOAK_OWNER_H
#define CLOAK_OWNER_H

#include "sev/sev.h"

#define OVMF_FOOTER_GUID "96b582de-1fb2-45f7-baea-a366c55a082d"
#define OVMF_SEV_HASH_TABLE_GUID "7255371f-3a3b-4b04-927b-1da6efa8d454"
#define OVMF_SEV_SECRET_GUID "4c2eb361-7d9b-4cc3-8081-127c90d3d294"
#define OVMF_SEV_ES_RESET_GUID "00f771de-1a7e-4fcb-890e-68c77e2fb44e"

#define SEV_HASH_TABLE_LEN 168
#define SEV_PADDED_HASH_TABLE_LEN 176

/*
 * Finds the entry `guid` in the GUIDed table at the end of an OVMF image
 * (it ends 32 bytes before the image does). Returns 1 and its data when
 * found, 0 when the image has a table without it, -1 with a message when the
 * image has no well-formed table.
 */
int ovmf_table_find(const uint8_t *img, size_t len, const char *guid, const uint8_t **data, size_t *dlen,
		    struct cloak_err *err);

/* QEMU's PaddedSevHashTable: cmdline (with its NUL; "\0" when none), initrd ("" when none), kernel. */
int sev_hash_table_build(const uint8_t *kernel, size_t klen, const uint8_t *initrd, size_t ilen,
			 const char *cmdline, uint8_t out[SEV_PADDED_HASH_TABLE_LEN]);

struct ovmf_inputs {
	const uint8_t *fw;
	size_t fwlen;
	const uint8_t *kernel, *initrd;  /* kernel NULL: no hashes table */
	size_t klen, ilen;
	const char *cmdline;
	unsigned ncpus;                  /* 0: SEV (no VMSA); n: SEV-ES with n VMSAs */
	const uint8_t *vmsa0, *vmsa1;    /* 4096 bytes each */
};

/* The launch digest QEMU + OVMF produce: image, [padded hashes table], [VMSA0, VMSA1 x (n-1)]. */
int ovmf_launch_digest(const struct ovmf_inputs *in, uint8_t digest[32], struct cloak_err *err);

/* What an SEV-ES digest of cloak's plan needs beyond the plan: what the host gave the VMSAs. */
struct owner_plan_es {
	uint64_t features;   /* --guest-features: KVM_SEV_INIT2's vmsa_features */
	uint32_t vcpu_sig;   /* --vcpu-sig (or family/model/stepping, or --vcpu-type) */
	bool init2;          /* --kvm-sev-init init2 (default) or legacy (KVM_SEV_ES_INIT: no x87/SSE state) */
	unsigned vcpus;      /* --vcpus, checked against the plan's --cpus; 0 when not given */
};

/*
 * The SEV launch digest of cloak's own plan for `cloak run` arguments argv
 * (argv[0] is "run"), with the C-bit `cbit`; with `es`, the SEV-ES digest
 * (the plan's VMSAs too). `verbose` lists each measured region on stderr.
 * Errors name --cloak-plan.
 */
int owner_plan_digest(int argc, char **argv, int cbit, const struct owner_plan_es *es, bool verbose,
		      uint8_t digest[32], struct cloak_err *err);

/*
 * The SEV-SNP launch digest (48 bytes) of cloak's own plan: every page with its
 * page type, the secrets and CPUID pages, then the VMSAs (vmm/sev/snp_plan.c).
 * `snp` carries the VMSA inputs; its features lack SNP_ACTIVE, which KVM adds.
 */
int owner_plan_snp_digest(int argc, char **argv, int cbit, const struct owner_plan_es *snp, bool verbose,
			  uint8_t digest[48], struct cloak_err *err);

/*
 * The C-bit for --cbit or --cpu-generation VAL: a generation's name (naples,
 * rome, milan, genoa, turin; sim for cloak's simulated PSP) or 47 or 51.
 * Any other value is refused: the C-bit must not come from the host.
 */
int owner_cbit_parse(const char *opt, const char *val, int *cbit, struct cloak_err *err);

#endif
