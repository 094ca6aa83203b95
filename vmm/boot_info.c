/* boot_info.c: what each kind of guest reads at entry: device tree, PVH start info, zero page. */
#include "boot.h"

#include <asm/bootparam.h>
#include <libfdt.h>
#include <stdio.h>
#include <string.h>

#define FDT_TRY(call)                                                                         \
	do {                                                                                      \
		int fdt_rc_ = (call);                                                             \
		if (fdt_rc_ < 0)                                                                  \
			return err_set(err, "building the boot-info device tree: %s (%s)", #call, \
				       fdt_strerror(fdt_rc_));                                    \
	} while (0)

int boot_fdt_build(void *buf, size_t size, const struct launch_plan *plan, uint64_t initrd_gpa,
		   uint64_t initrd_size, struct cloak_err *err)
{
	uint64_t reg[2 * PLAN_MAX_RAM];
	unsigned i;

	for (i = 0; i < plan->nram; i++) {
		reg[2 * i] = cpu_to_fdt64(plan->ram[i].gpa);
		reg[2 * i + 1] = cpu_to_fdt64(plan->ram[i].size);
	}
	FDT_TRY(fdt_create(buf, (int)size));
	FDT_TRY(fdt_finish_reservemap(buf));
	FDT_TRY(fdt_begin_node(buf, ""));
	FDT_TRY(fdt_property_u32(buf, "#address-cells", 2));
	FDT_TRY(fdt_property_u32(buf, "#size-cells", 2));
	FDT_TRY(fdt_property_string(buf, "compatible", "cloak,vm"));

	FDT_TRY(fdt_begin_node(buf, "memory@0"));
	FDT_TRY(fdt_property_string(buf, "device_type", "memory"));
	FDT_TRY(fdt_property(buf, "reg", reg, (int)(2 * plan->nram * sizeof(reg[0]))));
	FDT_TRY(fdt_end_node(buf));

	FDT_TRY(fdt_begin_node(buf, "chosen"));
	FDT_TRY(fdt_property_string(buf, "bootargs", plan->cmdline));
	if (initrd_size) {
		FDT_TRY(fdt_property_u64(buf, "linux,initrd-start", initrd_gpa));
		FDT_TRY(fdt_property_u64(buf, "linux,initrd-end", initrd_gpa + initrd_size));
	}
	FDT_TRY(fdt_property_u32(buf, "cloak,cpus", plan->cpus));
	FDT_TRY(fdt_property_u32(buf, "cloak,sev", plan->cbit >= 0));
	if (plan->cbit >= 0)
		FDT_TRY(fdt_property_u32(buf, "cloak,c-bit", (uint32_t)plan->cbit));
	FDT_TRY(fdt_end_node(buf));

	if (plan->dma_size) {
		char name[40];
		uint64_t dma[2] = { cpu_to_fdt64(plan->dma_gpa), cpu_to_fdt64(plan->dma_size) };

		/* Devices reach only this window (and what the guest shares later): bounce every buffer here. */
		snprintf(name, sizeof(name), "dma-pool@%llx", (unsigned long long)plan->dma_gpa);
		FDT_TRY(fdt_begin_node(buf, "reserved-memory"));
		FDT_TRY(fdt_property_u32(buf, "#address-cells", 2));
		FDT_TRY(fdt_property_u32(buf, "#size-cells", 2));
		FDT_TRY(fdt_property(buf, "ranges", NULL, 0));
		FDT_TRY(fdt_begin_node(buf, name));
		FDT_TRY(fdt_property_string(buf, "compatible", "restricted-dma-pool"));
		FDT_TRY(fdt_property(buf, "reg", dma, sizeof(dma)));
		FDT_TRY(fdt_property_u32(buf, "phandle", 1));
		FDT_TRY(fdt_end_node(buf));
		FDT_TRY(fdt_end_node(buf));
	}

	FDT_TRY(fdt_end_node(buf));
	FDT_TRY(fdt_finish(buf));
	FDT_TRY(fdt_pack(buf));
	return 0;
}

void boot_pvh_build(uint8_t page[PAGE_SIZE], uint64_t page_gpa, const struct launch_plan *plan,
		    uint64_t cmdline_gpa, uint64_t initrd_gpa, uint64_t initrd_size, uint64_t rsdp_gpa)
{
	struct hvm_start_info si = {
		.magic = HVM_START_MAGIC,
		.version = 1,
		.cmdline_paddr = cmdline_gpa,
		.rsdp_paddr = rsdp_gpa,
		.memmap_paddr = page_gpa + PVH_MEMMAP_OFFSET,
		.memmap_entries = plan->ne820,
	};
	unsigned i;

	memset(page, 0, PAGE_SIZE);
	if (initrd_size) {
		struct hvm_modlist_entry mod = { .paddr = initrd_gpa, .size = initrd_size };

		si.nr_modules = 1;
		si.modlist_paddr = page_gpa + PVH_MODLIST_OFFSET;
		memcpy(page + PVH_MODLIST_OFFSET, &mod, sizeof(mod));
	}
	for (i = 0; i < plan->ne820; i++) {
		struct hvm_memmap_table_entry e = {
			.addr = plan->e820[i].addr, .size = plan->e820[i].size, .type = plan->e820[i].type,
		};

		memcpy(page + PVH_MEMMAP_OFFSET + i * sizeof(e), &e, sizeof(e));
	}
	memcpy(page, &si, sizeof(si));
}

_Static_assert(sizeof(struct boot_params) == PAGE_SIZE, "the zero page is one page");
_Static_assert(PVH_MEMMAP_OFFSET + PLAN_MAX_E820 * sizeof(struct hvm_memmap_table_entry) <= PAGE_SIZE,
	       "the PVH memory map fits its page");

void boot_linux_build(uint8_t page[PAGE_SIZE], const uint8_t *image, size_t image_len,
		      const struct launch_plan *plan, uint64_t kernel_gpa, uint64_t cmdline_gpa,
		      uint64_t initrd_gpa, uint64_t initrd_size, uint64_t rsdp_gpa)
{
	struct boot_params bp;
	size_t hdr_off = offsetof(struct boot_params, hdr);
	size_t hdr_end = 0x202 + image[0x201];
	unsigned i;

	/* The header's own length is in its jump instruction; never copy past the struct or the file. */
	if (hdr_end > hdr_off + sizeof(bp.hdr))
		hdr_end = hdr_off + sizeof(bp.hdr);
	if (hdr_end > image_len)
		hdr_end = image_len;
	memset(&bp, 0, sizeof(bp));
	memcpy((uint8_t *)&bp + hdr_off, image + hdr_off, hdr_end - hdr_off);

	bp.hdr.type_of_loader = 0xff;
	bp.hdr.vid_mode = 0xffff;
	bp.hdr.code32_start = (uint32_t)kernel_gpa;
	bp.hdr.cmd_line_ptr = (uint32_t)cmdline_gpa;
	bp.ext_cmd_line_ptr = (uint32_t)(cmdline_gpa >> 32);
	bp.hdr.ramdisk_image = (uint32_t)initrd_gpa;
	bp.hdr.ramdisk_size = (uint32_t)initrd_size;
	bp.ext_ramdisk_image = (uint32_t)(initrd_gpa >> 32);
	bp.ext_ramdisk_size = (uint32_t)(initrd_size >> 32);
	bp.acpi_rsdp_addr = rsdp_gpa;  /* read by kernels of boot protocol 2.14+; older ones scan 0xE0000 */
	for (i = 0; i < plan->ne820 && i < E820_MAX_ENTRIES_ZEROPAGE; i++) {
		bp.e820_table[i].addr = plan->e820[i].addr;
		bp.e820_table[i].size = plan->e820[i].size;
		bp.e820_table[i].type = plan->e820[i].type;
	}
	bp.e820_entries = (uint8_t)i;
	memcpy(page, &bp, sizeof(bp));
}

/*
 * The SEV-SNP "confidential computing blob" a Linux guest looks for
 * (arch/x86/include/asm/sev.h, struct cc_blob_sev_info, in 6.1 and 6.12 alike;
 * not uapi, so its layout is written out and asserted here).
 */
#define CC_BLOB_MAGIC 0x45444d41u  /* "AMDE" */
#define CC_BLOB_VERSION 1          /* what OVMF gives; Linux checks only the magic */
struct snp_cc_blob {
	uint32_t magic;
	uint16_t version;
	uint16_t reserved;
	uint64_t secrets_phys;
	uint32_t secrets_len;
	uint32_t reserved1;
	uint64_t cpuid_phys;
	uint32_t cpuid_len;
	uint32_t reserved2;
} __attribute__((packed));
_Static_assert(sizeof(struct snp_cc_blob) == 40 && offsetof(struct snp_cc_blob, cpuid_phys) == 24,
	       "the CC blob has Linux's layout");

/* A setup_data entry of type SETUP_CC_BLOB: the header, then the blob's 32-bit address. The header's
 * own layout is spelled out because `struct setup_data` ends in a flexible array, which ISO C does not
 * allow inside another struct (clang refuses it). */
struct cc_setup_data {
	uint64_t next;
	uint32_t type;
	uint32_t len;
	uint32_t cc_blob_address;
} __attribute__((packed));
_Static_assert(sizeof(struct setup_data) == 16 && offsetof(struct setup_data, next) == 0 &&
	       offsetof(struct setup_data, type) == 8 && offsetof(struct setup_data, len) == 12 &&
	       offsetof(struct cc_setup_data, cc_blob_address) == offsetof(struct setup_data, data),
	       "cc_setup_data has setup_data's layout");
_Static_assert(BOOT_CC_SETUP_DATA_OFFSET >= sizeof(struct snp_cc_blob) &&
	       BOOT_CC_SETUP_DATA_OFFSET + sizeof(struct cc_setup_data) <= PAGE_SIZE, "the entry fits after the blob");

uint64_t boot_snp_cc_blob_build(uint8_t page[PAGE_SIZE], uint64_t page_gpa, uint64_t secrets_gpa,
				uint64_t cpuid_gpa)
{
	struct snp_cc_blob blob = {
		.magic = CC_BLOB_MAGIC, .version = CC_BLOB_VERSION,
		/* Linux reads the secrets page only when secrets_len is one page, and refuses a CPUID length below one. */
		.secrets_phys = secrets_gpa, .secrets_len = PAGE_SIZE,
		.cpuid_phys = cpuid_gpa, .cpuid_len = PAGE_SIZE,
	};
	struct cc_setup_data sd = {
		.next = 0, .type = SETUP_CC_BLOB, .len = sizeof(uint32_t),
		.cc_blob_address = (uint32_t)page_gpa,  /* a 32-bit field: the plan puts the page below 1 MiB */
	};

	memset(page, 0, PAGE_SIZE);
	memcpy(page, &blob, sizeof(blob));
	memcpy(page + BOOT_CC_SETUP_DATA_OFFSET, &sd, sizeof(sd));
	return page_gpa + BOOT_CC_SETUP_DATA_OFFSET;
}

void boot_linux_chain_setup_data(uint8_t zero_page[PAGE_SIZE], uint8_t *entry, uint64_t entry_gpa)
{
	size_t head = offsetof(struct boot_params, hdr) + offsetof(struct setup_header, setup_data);
	uint64_t next;

	memcpy(&next, zero_page + head, sizeof(next));
	memcpy(entry + offsetof(struct setup_data, next), &next, sizeof(next));
	memcpy(zero_page + head, &entry_gpa, sizeof(entry_gpa));
}
