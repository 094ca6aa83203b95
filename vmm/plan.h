/* plan.h: the launch plan, pure data computed from the inputs alone. */
#ifndef CLOAK_PLAN_H
#define CLOAK_PLAN_H

#include "cloak.h"
#include "config.h"

/*
 * The plan says everything about the guest before the VM exists: where RAM
 * is, the bytes of every region to load and which are measured in which
 * order, and the entry registers. The VMM and the guest owner's tool both
 * compute it with this code, so what the owner expects is what cloak loads.
 */

#define PLAN_MAX_REGIONS 64
#define PLAN_MAX_RAM 2
#define PLAN_MAX_E820 8

/* Guest-physical layout below 1 MiB; see plan.c for why each sits where it does. */
#define PLAN_GDT_GPA        0x0500ull
#define PLAN_PT_GPA         0x1000ull   /* PML4, PDPT, 4 PDs: 6 pages */
#define PLAN_PT_PAGES       6
#define PLAN_BOOTINFO_GPA   0x8000ull   /* boot_params / hvm_start_info page */
#define PLAN_CMDLINE_GPA    0x9000ull   /* up to CONFIG_MAX_CMDLINE bytes */
#define PLAN_FDT_GPA        0x10000ull  /* boot-info device tree for ELF guests */
#define PLAN_FDT_MAX        0x10000ull
#define PLAN_MBINFO_GPA     PLAN_FDT_GPA /* Multiboot boot information: such guests get no device tree */
#define PLAN_MBINFO_MAX     PLAN_FDT_MAX
#define PLAN_ACPI_GPA       0xe0000ull   /* in the BIOS area, where a legacy RSDP scan looks */
#define PLAN_STACK_BOTTOM   0x80000ull
#define PLAN_STACK_TOP      0x9f000ull  /* RSP for ELF guests; below the EBDA */
#define PLAN_MPTABLE_GPA    0x9f000ull  /* MP table page (Linux guests): its floating pointer ends at 640 KiB */
#define PLAN_LOW_RESERVED   0x100000ull /* guest images load at or above 1 MiB */
#define PLAN_MMIO_HOLE      0xc0000000ull /* RAM above 3 GiB moves above 4 GiB */
#define PLAN_HIGH_RAM_GPA   0x100000000ull
/*
 * The shared DMA window of ELF guests: 2 MiB-aligned at the top of low RAM
 * (below an initrd), so an SEV guest clears the C-bit of whole 2 MiB pages.
 */
#define PLAN_DMA_WINDOW_SIZE (2 * MiB)
/*
 * --measured-boot verifier (plan_verifier.c): the measured table of hashes
 * and the verifier below the stack, a region no guest image uses (they load
 * at 1 MiB or above); the staged items in a 2 MiB-aligned shared area.
 */
#define PLAN_VERIFY_TABLE_GPA 0x5f000ull
#define PLAN_VERIFIER_GPA     0x60000ull  /* up to PLAN_STACK_BOTTOM; the verifier runs on the guest's stack */
#define PLAN_STAGING_ALIGN    (2 * MiB)
/*
 * SEV-SNP Linux guests (bzImage): the page of the CC blob, which tells the
 * kernel where the SNP secrets and CPUID pages are (vmm/sev/snp_measure.h puts
 * them at 0x7e000 and 0x7f000), right below them so that one reserved e820
 * range covers all three.
 */
#define PLAN_SNP_CC_BLOB_GPA  0x7d000ull
#define PLAN_SNP_PAGES_END    0x80000ull  /* the end of the blob, secrets and CPUID pages */

/* GDT selectors; the 64-bit boot protocol asks for __BOOT_CS 0x10 and __BOOT_DS 0x18. */
#define GDT_SEL_CODE64 0x10
#define GDT_SEL_DATA   0x18
#define GDT_SEL_TSS    0x20
#define GDT_SEL_CODE32 0x30
#define GDT_ENTRIES    7        /* the 64-bit TSS descriptor takes two slots */

enum plan_region_flags {
	PLAN_MEASURED = 1u << 0,  /* loaded with LAUNCH_UPDATE_DATA, part of the launch digest */
	PLAN_OWNED = 1u << 1,     /* data is owned by the plan and freed with it */
	PLAN_PAYLOAD = 1u << 2,   /* kernel, initrd or command line: the verifier may stage and check it */
	PLAN_SCRATCH_TAIL = 1u << 3, /* past data_len the guest writes before it reads: the verifier clears nothing */
	PLAN_STAGED = 1u << 4,    /* a payload's bytes in the shared staging area, unmeasured */
};

struct plan_region {
	const char *name;
	uint64_t gpa;
	uint64_t size;        /* bytes the region spans in the guest (page multiple) */
	const uint8_t *data;  /* the first data_len bytes; the rest of size is zero */
	uint64_t data_len;
	unsigned flags;
};

struct plan_ram {
	uint64_t gpa;
	uint64_t size;
	uint64_t host_offset;  /* offset in cloak's single guest-memory mapping */
};

enum e820_type { E820_RAM = 1, E820_RESERVED = 2, E820_ACPI = 3 };

struct plan_e820 {
	uint64_t addr;
	uint64_t size;
	uint32_t type;
};

enum plan_entry_mode {
	ENTRY_LONG64,  /* paging on, 64-bit CS: ELF guests and bzImage */
	ENTRY_PROT32,  /* 32-bit protected mode, flat segments, paging off: Xen PVH and Multiboot */
};

struct plan_entry {
	enum plan_entry_mode mode;
	uint64_t rip, rsp, rdi, rsi, rbx;
	uint64_t rax;  /* the Multiboot magic */
	uint64_t cr3;
};

enum plan_kind { PLAN_KIND_ELF, PLAN_KIND_PVH, PLAN_KIND_BZIMAGE, PLAN_KIND_MULTIBOOT1, PLAN_KIND_MULTIBOOT2 };

/*
 * SEV-ES: what the VMSA of every vCPU is built from besides the plan itself.
 * The confidential kind fills it in (plan_inputs.vmsa) and the owner is told
 * it (cloak-owner measure --guest-features, --vcpu-sig, --kvm-sev-init).
 */
struct plan_vmsa_inputs {
	bool on;                  /* the launch measures VMSAs */
	uint64_t features;        /* SEV_FEATURES: KVM_SEV_INIT2's vmsa_features */
	uint32_t vcpu_sig;        /* CPUID 1 EAX, which the APs hold in RDX at reset */
	bool fpu_synced;          /* KVM_SEV_INIT2 (KVM copies x87/SSE state) or legacy KVM_SEV_ES_INIT (it does not) */
};

struct launch_plan {
	enum plan_kind kind;
	const char *kernel_name;  /* path, or "demo" */
	uint64_t mem_size;
	unsigned cpus;
	int cbit;                 /* C-bit position for page tables, or -1 */
	struct plan_ram ram[PLAN_MAX_RAM];
	unsigned nram;
	struct plan_e820 e820[PLAN_MAX_E820];
	unsigned ne820;
	struct plan_region regions[PLAN_MAX_REGIONS];
	unsigned nregions;
	struct plan_entry entry;
	char cmdline[CONFIG_MAX_CMDLINE];
	uint64_t image_end;       /* highest guest address used by the kernel image */
	uint64_t dma_gpa, dma_size; /* the shared DMA window of ELF guests (restricted-dma-pool); size 0: none */
	/* --measured-boot verifier: the guest is entered through the verifier (entry above is the verifier's). */
	bool verifier;
	uint64_t staging_gpa, staging_size;  /* the shared area of the staged payloads */
	struct plan_entry guest_entry;       /* the guest's own entry, which the verifier takes */
	struct plan_vmsa_inputs vmsa;
	bool snp;                 /* an SEV-SNP launch: snp_plan_pages adds the secrets and CPUID pages */
	uint8_t *vmsas;           /* SEV-ES: cpus pages, vCPU i's initial VMSA at i * PAGE_SIZE; NULL otherwise */
};

/* The inputs a plan is built from: the config plus the image bytes. */
struct plan_inputs {
	const struct vm_config *cfg;
	struct file_map kernel;   /* the demo guest when cfg->kernel_path is NULL */
	struct file_map initrd;   /* size 0 when none */
	int cbit;                 /* -1 unless the guest is confidential */
	unsigned verify_hash;     /* the verifier's table hash (firmware/verifier/verify_table.h); 0: SHA-256 */
	struct plan_vmsa_inputs vmsa;  /* SEV-ES only; zero otherwise */
};

/* Opens the kernel (or the embedded demo) and the initrd. */
int plan_inputs_open(struct plan_inputs *in, const struct vm_config *cfg, struct cloak_err *err);
void plan_inputs_close(struct plan_inputs *in);
/*
 * Gives back the memory of the image files once the plan is in guest memory:
 * they stay mapped (the plan still points there) but cost no RAM until read.
 */
void plan_inputs_evict(const struct plan_inputs *in);

int plan_build(const struct plan_inputs *in, struct launch_plan *plan, struct cloak_err *err);

/*
 * The registers of vCPU `index` before its first instruction: the boot vCPU
 * at the plan's entry, the others in the x86 reset state (vmm/sev/vmsa.h).
 * The VMM sets exactly these, and under SEV-ES the plan's VMSAs come from them.
 */
struct vmsa_vcpu_state;
void plan_vcpu_state(const struct launch_plan *plan, unsigned index, struct vmsa_vcpu_state *s);
void plan_free(struct launch_plan *plan);

/*
 * Adds a region. Regions must lie in RAM and never share a page with another
 * region: SEV measures a page once, and a shared page would be loaded twice.
 */
int plan_add_region(struct launch_plan *plan, const char *name, uint64_t gpa, uint64_t size,
		    const void *data, uint64_t data_len, unsigned flags, struct cloak_err *err);

/* Zeroed memory owned by the plan's next region (see plan_add_owned_region). */
int plan_add_owned_region(struct launch_plan *plan, const char *name, uint64_t gpa, uint64_t size,
			  unsigned flags, uint8_t **data, struct cloak_err *err);

/*
 * The RAM range that holds all of [gpa, gpa+len), or NULL (overflow-safe).
 * The one bounds check behind plan_in_ram and gpa_range; inline so that code
 * which only needs guest memory (devices, fuzz targets) links no plan code.
 */
static inline const struct plan_ram *plan_ram_find(const struct plan_ram *ram, unsigned nram, uint64_t gpa,
						   uint64_t len)
{
	unsigned i;

	for (i = 0; i < nram; i++)
		if (gpa >= ram[i].gpa && gpa - ram[i].gpa <= ram[i].size && len <= ram[i].size - (gpa - ram[i].gpa))
			return &ram[i];
	return NULL;
}

/* True when [gpa, gpa+len) lies inside guest RAM (overflow-safe). */
bool plan_in_ram(const struct launch_plan *plan, uint64_t gpa, uint64_t len);

/* Highest RAM address below 4 GiB, the top of low RAM. */
uint64_t plan_low_ram_end(const struct launch_plan *plan);

const char *plan_kind_name(enum plan_kind kind);

/*
 * Bytes of DMA the configured devices may have in flight (dma_budget.c): a
 * confidential Linux guest's swiotlb is sized from it.
 */
uint64_t plan_dma_budget(const struct vm_config *cfg);

/* Builds the MP table in its page (configuration table first, floating pointer last); returns the table's length. */
size_t boot_mptable_build(uint8_t page[PAGE_SIZE], uint64_t page_gpa, unsigned cpus);

/*
 * Under --sev with --measured-boot verifier (called last by plan_build, with
 * in->verify_hash: SHA-256, or SHA-384 for SNP's tables): moves
 * every payload region into the staging area, unmeasured, and measures the
 * verifier and the table of their hashes instead; the verifier becomes the
 * entry. Regions keep their order, so cloak and cloak-owner measure the same.
 */
int plan_add_verifier(struct launch_plan *plan, unsigned hash_alg, struct cloak_err *err);

/*
 * Under the verifier: names what of [gpa, gpa+len) the verifier's boot would
 * expose or overwrite (the shared staging area, an item's destination), or
 * NULL when nothing does; *at and *size give that range.
 */
const char *plan_verifier_conflict(const struct launch_plan *plan, uint64_t gpa, uint64_t len, uint64_t *at,
				   uint64_t *size);

/* The region that stages the payload called `name` ("kernel", "initrd", "command line"), or NULL. */
const struct plan_region *plan_staged_region(const struct launch_plan *plan, const char *name);

/* Files embedded in the binary (blob.S): the demo guest, the boot verifier and the DSDT of Linux guests. */
extern const uint8_t cloak_demo_start[];
extern const uint8_t cloak_demo_end[];
extern const uint8_t cloak_verifier_start[];
extern const uint8_t cloak_verifier_end[];
extern const uint8_t cloak_dsdt_start[];
extern const uint8_t cloak_dsdt_end[];

#endif
