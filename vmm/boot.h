/* boot.h: builders of the structures a guest finds at entry (GDT, page tables, boot info). */
#ifndef CLOAK_BOOT_H
#define CLOAK_BOOT_H

#include "cloak.h"
#include "loader.h"
#include "plan.h"

/* GDT entries: null, unused, code64 (0x10), data (0x18), TSS (0x20, two slots), code32 (0x30). */
void boot_gdt_build(uint64_t gdt[GDT_ENTRIES]);

/* Access bits and flags of a GDT descriptor, as KVM_SET_SREGS wants them. */
struct gdt_fields {
	uint64_t base;
	uint32_t limit;      /* in bytes - 1, already scaled by granularity */
	uint8_t type, s, dpl, present, avl, l, db, g;
};
void boot_gdt_decode(uint64_t desc, struct gdt_fields *out);

/*
 * The boot vCPU's registers at the plan's entry: the fields cloak sets in
 * KVM_SET_SREGS and KVM_SET_REGS (the rest of `sregs` keeps what it held).
 * kvm.c sets them, and the plan derives the boot vCPU's SEV-ES VMSA from the
 * very same values.
 */
struct kvm_regs;
struct kvm_sregs;
void boot_entry_regs(const struct plan_entry *e, struct kvm_regs *regs, struct kvm_sregs *sregs);

/*
 * Identity-maps the first 4 GiB (RAM and the MMIO hole) with 2 MiB pages:
 * PML4 at base_gpa, PDPT after it, then four PDs. This is the one place where
 * cloak sets the SEV C-bit (when cbit >= 0).
 */
void boot_pagetables_build(uint8_t pages[PLAN_PT_PAGES * PAGE_SIZE], uint64_t base_gpa, int cbit);

/* The boot-info device tree for ELF guests (memory, bootargs, initrd, SEV state). */
int boot_fdt_build(void *buf, size_t size, const struct launch_plan *plan, uint64_t initrd_gpa,
		   uint64_t initrd_size, struct cloak_err *err);

/* Xen PVH start info, a module list and the memory map, all in one page. */
#define HVM_START_MAGIC 0x336ec578u
struct hvm_start_info {
	uint32_t magic;
	uint32_t version;
	uint32_t flags;
	uint32_t nr_modules;
	uint64_t modlist_paddr;
	uint64_t cmdline_paddr;
	uint64_t rsdp_paddr;
	uint64_t memmap_paddr;
	uint32_t memmap_entries;
	uint32_t reserved;
};
struct hvm_modlist_entry {
	uint64_t paddr;
	uint64_t size;
	uint64_t cmdline_paddr;
	uint64_t reserved;
};
struct hvm_memmap_table_entry {
	uint64_t addr;
	uint64_t size;
	uint32_t type;
	uint32_t reserved;
};
#define PVH_MODLIST_OFFSET 0x100
#define PVH_MEMMAP_OFFSET 0x200

void boot_pvh_build(uint8_t page[PAGE_SIZE], uint64_t page_gpa, const struct launch_plan *plan,
		    uint64_t cmdline_gpa, uint64_t initrd_gpa, uint64_t initrd_size, uint64_t rsdp_gpa);

/*
 * Hardware-reduced ACPI tables (MADT with one LAPIC per vCPU and the IOAPIC)
 * in one page; returns the RSDP's guest address.
 */
uint64_t boot_acpi_build(uint8_t page[PAGE_SIZE], uint64_t page_gpa, unsigned cpus);

/*
 * Multiboot 1 boot information in `area` at `area_gpa`: memory (mem_lower,
 * mem_upper and the memory map), the command line at cmdline_gpa, the initrd as
 * module 0 named `module_name`, the boot loader's name. Returns the bytes used.
 */
size_t boot_multiboot1_build(uint8_t *area, size_t size, uint64_t area_gpa, const struct launch_plan *plan,
			     uint64_t cmdline_gpa, uint64_t initrd_gpa, uint64_t initrd_size, const char *module_name);

/*
 * Multiboot 2 boot information: tags for the command line, the boot loader's
 * name, the initrd as a module, basic memory information, the memory map and
 * the ACPI RSDP (`rsdp_len` bytes of it). Returns the bytes used.
 */
size_t boot_multiboot2_build(uint8_t *area, size_t size, uint64_t area_gpa, const struct launch_plan *plan,
			     uint64_t initrd_gpa, uint64_t initrd_size, const char *module_name,
			     const uint8_t *rsdp, size_t rsdp_len);

/* Linux's zero page for the 64-bit boot protocol. */
void boot_linux_build(uint8_t page[PAGE_SIZE], const uint8_t *image, size_t image_len,
		      const struct launch_plan *plan, uint64_t kernel_gpa, uint64_t cmdline_gpa,
		      uint64_t initrd_gpa, uint64_t initrd_size, uint64_t rsdp_gpa);

/*
 * The SEV-SNP CC blob page of a Linux guest: at offset 0 the blob ("AMDE",
 * version 1, the secrets and CPUID pages' addresses and lengths), at
 * BOOT_CC_SETUP_DATA_OFFSET a SETUP_CC_BLOB setup_data entry that points at
 * it. Returns the entry's guest address.
 */
#define BOOT_CC_SETUP_DATA_OFFSET 0x40
uint64_t boot_snp_cc_blob_build(uint8_t page[PAGE_SIZE], uint64_t page_gpa, uint64_t secrets_gpa,
				uint64_t cpuid_gpa);

/* Puts the setup_data entry at `entry_gpa` (bytes at `entry`) at the head of the zero page's chain. */
void boot_linux_chain_setup_data(uint8_t zero_page[PAGE_SIZE], uint8_t *entry, uint64_t entry_gpa);

#endif
