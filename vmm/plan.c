/* plan.c: builds the launch plan (layout, regions, entry) from the config and the images. */
#include "plan.h"

#include "boot.h"
#include "firmware/verifier/verify_table.h"
#include "loader.h"
#include "sev/snp_measure.h"
#include "sev/vmsa.h"

#include <libfdt.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/mman.h>

/*
 * Layout below 1 MiB (all in the first e820 RAM range, which Linux keeps away
 * from its allocator early on): page 0 with the GDT, the page tables, the
 * boot-info page, the command line, the device tree, the stack below the
 * EBDA. Guest images load at 1 MiB or above; an initrd goes at the top of
 * low RAM, where Linux loaders put it.
 */

const char *plan_kind_name(enum plan_kind kind)
{
	switch (kind) {
	case PLAN_KIND_ELF: return "elf64";
	case PLAN_KIND_PVH: return "pvh";
	case PLAN_KIND_BZIMAGE: return "bzimage";
	case PLAN_KIND_MULTIBOOT1: return "multiboot";
	case PLAN_KIND_MULTIBOOT2: return "multiboot2";
	}
	return "?";
}

int plan_inputs_open(struct plan_inputs *in, const struct vm_config *cfg, struct cloak_err *err)
{
	memset(in, 0, sizeof(*in));
	in->cfg = cfg;
	in->cbit = -1;
	if (cfg->kernel_path) {
		if (file_map_open(&in->kernel, cfg->kernel_path, "kernel", err) < 0)
			return -1;
	} else {
		in->kernel.path = "demo";
		in->kernel.data = cloak_demo_start;
		in->kernel.size = (size_t)(cloak_demo_end - cloak_demo_start);
	}
	if (cfg->initrd_path && file_map_open(&in->initrd, cfg->initrd_path, "initrd", err) < 0) {
		file_map_close(&in->kernel);
		return -1;
	}
	return 0;
}

void plan_inputs_close(struct plan_inputs *in)
{
	file_map_close(&in->kernel);
	file_map_close(&in->initrd);
}

static void file_map_evict(const struct file_map *fm)
{
	if (fm->mapped)
		madvise((void *)fm->data, fm->size, MADV_DONTNEED);
}

void plan_inputs_evict(const struct plan_inputs *in)
{
	file_map_evict(&in->kernel);
	file_map_evict(&in->initrd);
}

bool plan_in_ram(const struct launch_plan *plan, uint64_t gpa, uint64_t len)
{
	return plan_ram_find(plan->ram, plan->nram, gpa, len) != NULL;
}

uint64_t plan_low_ram_end(const struct launch_plan *plan)
{
	return plan->ram[0].gpa + plan->ram[0].size;
}

int plan_add_region(struct launch_plan *plan, const char *name, uint64_t gpa, uint64_t size,
		    const void *data, uint64_t data_len, unsigned flags, struct cloak_err *err)
{
	char a[32];
	uint64_t first, last;
	unsigned i;

	if (size == 0 || data_len > size)
		return err_set(err, "internal error: region %s has size %llu and %llu data bytes", name,
			       (unsigned long long)size, (unsigned long long)data_len);
	if (!plan_in_ram(plan, gpa, size))
		return err_set(err, "%s (0x%llx-0x%llx) does not fit in guest memory (%s); give a larger --mem",
			       name, (unsigned long long)gpa, (unsigned long long)(gpa + size - 1),
			       fmt_size(plan->mem_size, a));
	if (plan->nregions == PLAN_MAX_REGIONS)
		return err_set(err, "internal error: more than %d regions in the launch plan", PLAN_MAX_REGIONS);
	first = ALIGN_DOWN(gpa, PAGE_SIZE);
	last = ALIGN_UP(gpa + size, PAGE_SIZE);
	for (i = 0; i < plan->nregions; i++) {
		const struct plan_region *r = &plan->regions[i];
		uint64_t rfirst = ALIGN_DOWN(r->gpa, PAGE_SIZE), rlast = ALIGN_UP(r->gpa + r->size, PAGE_SIZE);

		if (first < rlast && rfirst < last)
			return err_set(err, "%s (0x%llx-0x%llx) overlaps %s (0x%llx-0x%llx) in guest memory", name,
				       (unsigned long long)gpa, (unsigned long long)(gpa + size - 1), r->name,
				       (unsigned long long)r->gpa, (unsigned long long)(r->gpa + r->size - 1));
	}
	plan->regions[plan->nregions++] = (struct plan_region){
		.name = name, .gpa = gpa, .size = size, .data = data, .data_len = data_len, .flags = flags,
	};
	return 0;
}

int plan_add_owned_region(struct launch_plan *plan, const char *name, uint64_t gpa, uint64_t size,
			  unsigned flags, uint8_t **data, struct cloak_err *err)
{
	uint8_t *buf = calloc(1, size);

	if (!buf)
		return err_set(err, "out of memory building the launch plan");
	if (plan_add_region(plan, name, gpa, size, buf, size, flags | PLAN_OWNED, err) < 0) {
		free(buf);
		return -1;
	}
	*data = buf;
	return 0;
}

void plan_free(struct launch_plan *plan)
{
	unsigned i;

	for (i = 0; i < plan->nregions; i++)
		if (plan->regions[i].flags & PLAN_OWNED)
			free((void *)plan->regions[i].data);
	plan->nregions = 0;
	free(plan->vmsas);
	plan->vmsas = NULL;
}

void plan_vcpu_state(const struct launch_plan *plan, unsigned index, struct vmsa_vcpu_state *s)
{
	memset(s, 0, sizeof(*s));
	if (index == 0)
		boot_entry_regs(&plan->entry, &s->regs, &s->sregs);
	else
		vmsa_ap_reset_regs(plan->vmsa.vcpu_sig, &s->regs, &s->sregs);
	vmsa_reset_fpu(&s->fpu);
	s->fpu_synced = plan->vmsa.fpu_synced;
	s->xcr0 = 1;  /* XCR0 after reset: x87 only */
	s->sev_features = plan->vmsa.features;
}

/* SEV-ES: the VMSA of every vCPU, in the order KVM hands them to LAUNCH_UPDATE_VMSA (vCPU index). */
static int plan_add_vmsas(struct launch_plan *plan, struct cloak_err *err)
{
	struct vmsa_vcpu_state st;
	unsigned i;

	if (!plan->vmsa.on)
		return 0;
	plan->vmsas = calloc(plan->cpus, PAGE_SIZE);
	if (!plan->vmsas)
		return err_set(err, "out of memory");
	for (i = 0; i < plan->cpus; i++) {
		plan_vcpu_state(plan, i, &st);
		vmsa_from_vcpu(&st, plan->vmsas + (size_t)i * PAGE_SIZE);
	}
	return 0;
}

static void plan_layout_ram(struct launch_plan *plan)
{
	uint64_t low = plan->mem_size < PLAN_MMIO_HOLE ? plan->mem_size : PLAN_MMIO_HOLE;

	plan->ram[0] = (struct plan_ram){ .gpa = 0, .size = low, .host_offset = 0 };
	plan->nram = 1;
	if (plan->mem_size > low) {
		plan->ram[1] = (struct plan_ram){ .gpa = PLAN_HIGH_RAM_GPA, .size = plan->mem_size - low,
						  .host_offset = low };
		plan->nram = 2;
	}
	/* The legacy BIOS area (EBDA, VGA, ROMs) is reserved as on a PC, so Linux leaves it alone. */
	plan->e820[0] = (struct plan_e820){ 0, PLAN_STACK_TOP, E820_RAM };
	plan->e820[1] = (struct plan_e820){ PLAN_STACK_TOP, PLAN_LOW_RESERVED - PLAN_STACK_TOP, E820_RESERVED };
	plan->e820[2] = (struct plan_e820){ PLAN_LOW_RESERVED, low - PLAN_LOW_RESERVED, E820_RAM };
	plan->ne820 = 3;
	if (plan->nram == 2)
		plan->e820[plan->ne820++] = (struct plan_e820){ plan->ram[1].gpa, plan->ram[1].size, E820_RAM };
}

/* The initrd goes page-aligned at the top of low RAM, below `limit`, above the kernel. */
static int plan_place_initrd(struct launch_plan *plan, const struct file_map *initrd, uint64_t limit,
			     uint64_t *gpa, struct cloak_err *err)
{
	char a[32], b[32];
	uint64_t top = plan_low_ram_end(plan);
	uint64_t size = ALIGN_UP((uint64_t)initrd->size, PAGE_SIZE);

	if (limit && top > limit + 1)
		top = ALIGN_DOWN(limit + 1, PAGE_SIZE);
	if (size > top || top - size < ALIGN_UP(plan->image_end, PAGE_SIZE))
		return err_set(err, "initrd %s (%s) does not fit in guest memory (%s) above the kernel "
				    "(which ends at 0x%llx); give a larger --mem", initrd->path,
			       fmt_size(initrd->size, a), fmt_size(plan->mem_size, b),
			       (unsigned long long)plan->image_end);
	*gpa = top - size;
	return plan_add_region(plan, "initrd", *gpa, size, initrd->data, initrd->size, PLAN_MEASURED | PLAN_PAYLOAD,
			       err);
}

/* The shared DMA window: below the initrd (or the top of low RAM), above the kernel. */
static int plan_place_dma_window(struct launch_plan *plan, uint64_t below, struct cloak_err *err)
{
	char a[32], b[32];
	uint64_t top = ALIGN_DOWN(below, 2 * MiB);

	if (top < PLAN_DMA_WINDOW_SIZE || top - PLAN_DMA_WINDOW_SIZE < ALIGN_UP(plan->image_end, PAGE_SIZE))
		return err_set(err, "the shared DMA window (%s) does not fit in guest memory (%s) between the kernel "
				    "(which ends at 0x%llx) and the top of low memory; give a larger --mem",
			       fmt_size(PLAN_DMA_WINDOW_SIZE, a), fmt_size(plan->mem_size, b),
			       (unsigned long long)plan->image_end);
	plan->dma_gpa = top - PLAN_DMA_WINDOW_SIZE;
	plan->dma_size = PLAN_DMA_WINDOW_SIZE;
	return 0;
}

/* Loads an ELF's segments, each where its physical address says; a 32-bit entry reaches only the first 4 GiB. */
static int plan_add_segments(struct launch_plan *plan, const struct plan_inputs *in, const struct elf_image *elf,
			     bool below_4g, struct cloak_err *err)
{
	unsigned i;

	for (i = 0; i < elf->nsegments; i++) {
		const struct elf_segment *s = &elf->segments[i];
		char a[32];

		if (below_4g && s->paddr + s->memsz > 4 * GiB)
			return err_set(err, "%s: segment at 0x%llx-0x%llx lies above 4 GiB, out of reach of its 32-bit "
					    "entry", in->kernel.path, (unsigned long long)s->paddr,
				       (unsigned long long)(s->paddr + s->memsz - 1));
		if (!plan_in_ram(plan, s->paddr, s->memsz))
			return err_set(err, "%s: segment at 0x%llx-0x%llx lies outside guest memory (%s); give "
					    "--mem of at least %lluM", in->kernel.path,
				       (unsigned long long)s->paddr, (unsigned long long)(s->paddr + s->memsz - 1),
				       fmt_size(plan->mem_size, a),
				       (unsigned long long)(ALIGN_UP(s->paddr + s->memsz + 2 * MiB, 2 * MiB) / MiB));
		if (plan_add_region(plan, "kernel segment", s->paddr, s->memsz, in->kernel.data + s->offset,
				    s->filesz, PLAN_MEASURED | PLAN_PAYLOAD, err) < 0)
			return -1;
	}
	plan->image_end = elf->highest;
	return 0;
}

/* An ELF with a PVH note (32- or 64-bit), or a plain ELF64 entered in long mode. */
static int plan_add_elf(struct launch_plan *plan, const struct plan_inputs *in, const struct elf_image *elf,
			struct cloak_err *err)
{
	if (plan_add_segments(plan, in, elf, elf->has_pvh, err) < 0)
		return -1;
	if (elf->has_pvh) {
		plan->kind = PLAN_KIND_PVH;
		plan->entry = (struct plan_entry){ .mode = ENTRY_PROT32, .rip = elf->pvh_entry,
						   .rbx = PLAN_BOOTINFO_GPA };
	} else {
		plan->kind = PLAN_KIND_ELF;
		plan->entry = (struct plan_entry){ .mode = ENTRY_LONG64, .rip = elf->entry,
						   .rsp = PLAN_STACK_TOP, .rdi = PLAN_FDT_GPA,
						   .cr3 = PLAN_PT_GPA };
	}
	return 0;
}

/*
 * A Multiboot kernel: loaded from its header's address fields when it gives
 * them (the a.out kludge, or Multiboot 2's address tag), from its ELF program
 * headers otherwise; entered at the header's entry address when it gives one.
 */
static int plan_add_multiboot(struct launch_plan *plan, const struct plan_inputs *in,
			      const struct multiboot_header *mb, struct cloak_err *err)
{
	const char *path = in->kernel.path;
	uint64_t entry;
	bool entry_ok;

	if (mb->has_addr) {
		struct multiboot_load ld;
		char a[32];

		if (multiboot_addr_load(mb, in->kernel.size, path, &ld, err) < 0)
			return -1;
		if (ld.paddr < PLAN_LOW_RESERVED)
			return err_set(err, "%s: its Multiboot load_addr 0x%llx lies below 1 MiB, where cloak keeps "
					    "its boot structures; link the kernel at 1 MiB or above", path,
				       (unsigned long long)ld.paddr);
		if (!plan_in_ram(plan, ld.paddr, ld.memsz))
			return err_set(err, "%s: its Multiboot address fields load it at 0x%llx-0x%llx, outside guest "
					    "memory (%s); give a larger --mem", path, (unsigned long long)ld.paddr,
				       (unsigned long long)(ld.paddr + ld.memsz - 1), fmt_size(plan->mem_size, a));
		if (plan_add_region(plan, "kernel", ld.paddr, ld.memsz, in->kernel.data + ld.offset, ld.filesz,
				    PLAN_MEASURED, err) < 0)
			return -1;
		plan->image_end = ld.paddr + ld.memsz;
		if (!mb->has_entry && !elf_is_elf(in->kernel.data, in->kernel.size))
			return err_set(err, "%s: its Multiboot 2 header gives load addresses but no entry address tag, "
					    "and the image is not an ELF with an entry", path);
		if (mb->has_entry) {
			entry = mb->entry_addr;
		} else {
			struct elf_image elf;

			if (elf_parse(in->kernel.data, in->kernel.size, PLAN_LOW_RESERVED, path, &elf, err) < 0)
				return -1;
			entry = elf.entry;
		}
		entry_ok = entry >= ld.paddr && entry - ld.paddr < ld.memsz;
	} else {
		struct elf_image elf;

		if (!elf_is_elf(in->kernel.data, in->kernel.size))
			return err_set(err, "%s has a Multiboot header without load addresses (flags bit 16 / address "
					    "tag) and is not an ELF: cloak cannot tell where it goes", path);
		if (elf_parse(in->kernel.data, in->kernel.size, PLAN_LOW_RESERVED, path, &elf, err) < 0 ||
		    plan_add_segments(plan, in, &elf, true, err) < 0)
			return -1;
		if (mb->has_entry)
			entry = mb->entry_addr;
		else if (elf.has_entry)
			entry = elf.entry;
		else
			return err_set(err, "%s: its ELF entry point is not inside any loadable segment", path);
		entry_ok = elf_in_segment(&elf, entry);
	}
	if (!entry_ok)
		return err_set(err, "%s: its Multiboot entry 0x%llx is not inside the loaded image", path,
			       (unsigned long long)entry);
	plan->kind = mb->version == 1 ? PLAN_KIND_MULTIBOOT1 : PLAN_KIND_MULTIBOOT2;
	plan->entry = (struct plan_entry){ .mode = ENTRY_PROT32, .rip = entry,
					   .rax = mb->version == 1 ? MB1_BOOT_MAGIC : MB2_BOOT_MAGIC,
					   .rbx = PLAN_MBINFO_GPA };
	return 0;
}

/*
 * Under SEV the guest's own page tables must carry the C-bit. A kernel
 * entered in 32-bit mode with paging off builds its own, knowing nothing of
 * the C-bit, and would then read its memory as ciphertext.
 */
static int plan_check_sev_entry(const struct launch_plan *plan, struct cloak_err *err)
{
	if (plan->cbit < 0 || plan->entry.mode != ENTRY_PROT32)
		return 0;
	if (plan->kind == PLAN_KIND_PVH)
		return err_set(err, "--sev: %s would be entered through its Xen PVH note, in 32-bit mode with "
				    "paging off; a PVH kernel (Linux's too) then turns paging on with page tables "
				    "that lack the SEV C-bit, and reads its memory as ciphertext. Boot the kernel's "
				    "bzImage instead (cloak enters its 64-bit entry with the C-bit set), or a 64-bit "
				    "ELF built for cloak", plan->kernel_name);
	return err_set(err, "--sev: %s is a %s kernel, entered in 32-bit mode with paging off; it then turns "
			    "paging on with page tables that lack the SEV C-bit, and reads its memory as "
			    "ciphertext. Under --sev boot a 64-bit ELF built for cloak (README \"Writing a guest\") "
			    "or a Linux bzImage", plan->kernel_name,
		       plan->kind == PLAN_KIND_MULTIBOOT1 ? "Multiboot 1" : "Multiboot 2");
}

static int plan_add_bzimage(struct launch_plan *plan, const struct plan_inputs *in, struct bzimage *bz,
			    uint64_t *kernel_gpa, struct cloak_err *err)
{
	uint64_t load, need;
	char a[32];

	if (bzimage_parse(in->kernel.data, in->kernel.size, in->kernel.path, bz, err) < 0)
		return -1;
	load = bz->pref_address >= PLAN_LOW_RESERVED ? bz->pref_address : PLAN_LOW_RESERVED;
	need = bz->init_size > bz->kernel_len ? bz->init_size : bz->kernel_len;
	if (!plan_in_ram(plan, load, need))
		return err_set(err, "%s needs guest memory 0x%llx-0x%llx to decompress and run, more than "
				    "%s; give --mem of at least %lluM", in->kernel.path, (unsigned long long)load,
			       (unsigned long long)(load + need - 1), fmt_size(plan->mem_size, a),
			       (unsigned long long)(ALIGN_UP(load + need + 16 * MiB, 2 * MiB) / MiB));
	/* Past the image is the kernel's decompression and .bss room, which it clears itself. */
	if (plan_add_region(plan, "kernel", load, ALIGN_UP(need, PAGE_SIZE), bz->kernel, bz->kernel_len,
			    PLAN_MEASURED | PLAN_PAYLOAD | PLAN_SCRATCH_TAIL, err) < 0)
		return -1;
	plan->kind = PLAN_KIND_BZIMAGE;
	plan->image_end = load + need;
	plan->entry = (struct plan_entry){ .mode = ENTRY_LONG64, .rip = load + 0x200, .rsp = PLAN_STACK_TOP,
					   .rsi = PLAN_BOOTINFO_GPA, .cr3 = PLAN_PT_GPA };
	*kernel_gpa = load;
	return 0;
}

/*
 * Picks the entry QEMU's -kernel would take where QEMU boots the image
 * (Multiboot 1 first, then a PVH note), then Multiboot 2, then cloak's own
 * ELF64 entry.
 */
static int plan_add_image(struct launch_plan *plan, const struct plan_inputs *in, struct bzimage *bz,
			  uint64_t *kernel_gpa, struct cloak_err *err)
{
	const uint8_t *buf = in->kernel.data;
	size_t len = in->kernel.size;
	const char *path = in->kernel.path;
	struct multiboot_header mb;
	struct elf_image elf = { .is32 = false };
	int rc;

	if (bzimage_is_bzimage(buf, len))
		return plan_add_bzimage(plan, in, bz, kernel_gpa, err);
	rc = multiboot1_find(buf, len, path, &mb, err);
	if (rc != 0)
		return rc < 0 ? -1 : plan_add_multiboot(plan, in, &mb, err);
	if (elf_is_elf(buf, len)) {
		if (elf_parse(buf, len, PLAN_LOW_RESERVED, path, &elf, err) < 0)
			return -1;
		if (elf.has_pvh)
			return plan_add_elf(plan, in, &elf, err);
	}
	rc = multiboot2_find(buf, len, path, &mb, err);
	if (rc != 0)
		return rc < 0 ? -1 : plan_add_multiboot(plan, in, &mb, err);
	if (elf_is_elf(buf, len) && !elf.is32)
		return plan_add_elf(plan, in, &elf, err);
	if (multiboot_explain(buf, len, path, err) < 0)
		return -1;
	if (elf_is_elf(buf, len))
		return err_set(err, "%s is a 32-bit ELF with neither a Xen PVH note nor a Multiboot header, so it "
				    "declares no way in; cloak enters an ELF32 only through one of them (or give an "
				    "ELF64, or a bzImage)", path);
	return err_set(err, "%s is neither an ELF executable, a Multiboot kernel nor a Linux bzImage; give a "
			    "guest image built for cloak (see README: guest ABI)", path);
}

/*
 * A confidential Linux guest bounces every device's DMA through swiotlb in
 * shared memory, 64 MiB by default whatever the devices. Unless the user
 * chose a size, cloak gives what the configured devices may have in flight
 * (plan_dma_budget), in whole swiotlb segments (128 slabs of 2 KiB), at
 * least 4 MiB for what else the kernel maps.
 */
#define SWIOTLB_SLAB 2048ull
#define SWIOTLB_SEGMENT (128 * SWIOTLB_SLAB)
#define SWIOTLB_MIN (4 * MiB)

static int plan_size_swiotlb(struct launch_plan *plan, const struct vm_config *cfg, struct cloak_err *err)
{
	uint64_t bytes = plan_dma_budget(cfg);
	size_t len = strlen(plan->cmdline);
	char arg[48];
	int n;

	if (plan->cbit < 0 || plan->kind == PLAN_KIND_ELF || strstr(plan->cmdline, "swiotlb="))
		return 0;
	bytes = ALIGN_UP(bytes > SWIOTLB_MIN ? bytes : SWIOTLB_MIN, SWIOTLB_SEGMENT);
	n = snprintf(arg, sizeof(arg), "%sswiotlb=%llu", len ? " " : "", (unsigned long long)(bytes / SWIOTLB_SLAB));
	if (len + (size_t)n >= sizeof(plan->cmdline))
		return err_set(err, "--cmdline leaves no room for the swiotlb= size cloak adds for a confidential "
				    "guest; shorten it or give swiotlb= yourself");
	memcpy(plan->cmdline + len, arg, (size_t)n + 1);
	return 0;
}

/* Gives [gpa, gpa+size) its own e820 type, splitting the entry that holds it. */
static int plan_e820_mark(struct launch_plan *plan, uint64_t gpa, uint64_t size, uint32_t type,
			  struct cloak_err *err)
{
	unsigned i;

	for (i = 0; i < plan->ne820; i++) {
		struct plan_e820 e = plan->e820[i];
		struct plan_e820 parts[3];
		unsigned n = 0, j;

		if (gpa < e.addr || gpa + size > e.addr + e.size)
			continue;
		if (gpa > e.addr)
			parts[n++] = (struct plan_e820){ e.addr, gpa - e.addr, e.type };
		parts[n++] = (struct plan_e820){ gpa, size, type };
		if (gpa + size < e.addr + e.size)
			parts[n++] = (struct plan_e820){ gpa + size, e.addr + e.size - gpa - size, e.type };
		if (plan->ne820 + n - 1 > PLAN_MAX_E820)
			return err_set(err, "internal error: more than %d e820 entries", PLAN_MAX_E820);
		memmove(&plan->e820[i + n], &plan->e820[i + 1], (plan->ne820 - i - 1) * sizeof(plan->e820[0]));
		for (j = 0; j < n; j++)
			plan->e820[i + j] = parts[j];
		plan->ne820 += n - 1;
		return 0;
	}
	return err_set(err, "internal error: 0x%llx+0x%llx lies in no e820 entry", (unsigned long long)gpa,
		       (unsigned long long)size);
}

/*
 * Linux guests find their CPUs and the IOAPIC in ACPI tables; ELF guests read
 * the device tree. The tables get an e820 range of their own, ACPI (type 3),
 * as firmware gives them: after early boot Linux maps them with ioremap_cache,
 * which under SEV maps reserved ranges decrypted, so in the reserved BIOS area
 * the tables would read as ciphertext and the PCI bridge, with every virtio
 * device behind it, would vanish. ACPI ranges are mapped encrypted.
 */
static int plan_add_acpi(struct launch_plan *plan, uint64_t *rsdp_gpa, const uint8_t **rsdp,
			 struct cloak_err *err)
{
	/* CLOAK_TEST_ACPI_RESERVED=1 (tests only) leaves them in reserved memory, to show the defect above. */
	const char *test_reserved = getenv("CLOAK_TEST_ACPI_RESERVED");
	uint8_t *buf;

	if (plan_add_owned_region(plan, "acpi tables", PLAN_ACPI_GPA, PAGE_SIZE, PLAN_MEASURED, &buf, err) < 0 ||
	    (!(test_reserved && !strcmp(test_reserved, "1")) &&
	     plan_e820_mark(plan, PLAN_ACPI_GPA, PAGE_SIZE, E820_ACPI, err) < 0))
		return -1;
	*rsdp_gpa = boot_acpi_build(buf, PLAN_ACPI_GPA, plan->cpus);
	if (rsdp)
		*rsdp = buf + (*rsdp_gpa - PLAN_ACPI_GPA);
	return 0;
}

_Static_assert(PLAN_SNP_CC_BLOB_GPA + PAGE_SIZE == SNP_PLAN_SECRETS_GPA && SNP_PLAN_SECRETS_GPA + PAGE_SIZE ==
	       SNP_PLAN_CPUID_GPA && SNP_PLAN_CPUID_GPA + PAGE_SIZE == PLAN_SNP_PAGES_END,
	       "the CC blob, secrets and CPUID pages are one range");
_Static_assert(PLAN_VERIFIER_GPA < PLAN_SNP_CC_BLOB_GPA && PLAN_SNP_PAGES_END <= PLAN_STACK_BOTTOM,
	       "the SNP pages lie between the verifier's start and the stack");

/*
 * An SEV-SNP Linux guest finds its CPUID page and its secrets page through
 * the CC blob. Without one it does not stop (at VMPL0), but takes CPUID from
 * the hypervisor, the firmware-checked CPUID page unused, and has no VMPCK
 * keys, so no attestation report (no sev-guest device). Linux's decompressor, 6.1 and
 * 6.12 alike (arch/x86/boot/compressed/sev.c sev_enable), first clears the
 * zero page's cc_blob_address, which only it sets for the kernel it unpacks,
 * then looks in the EFI configuration table and in a SETUP_CC_BLOB setup_data
 * entry; the unpacked kernel reads the address the decompressor left, or the
 * same setup_data (kernel/sev.c, coco/sev/core.c find_cc_blob). So the blob
 * goes through setup_data, the one way both stages read, in a measured page
 * of its own. The blob, secrets and CPUID pages are reserved in the e820 map,
 * as OVMF reserves them: Linux maps the secrets page with ioremap_encrypted,
 * which refuses RAM, and a page left as RAM could be handed out with the
 * guest's VMPCK keys in it. *entry, *entry_gpa: the setup_data entry, to chain from the zero page.
 */
static int plan_add_snp_cc_blob(struct launch_plan *plan, uint8_t **entry, uint64_t *entry_gpa,
				struct cloak_err *err)
{
	uint8_t *buf;

	if (plan_add_owned_region(plan, "SNP CC blob", PLAN_SNP_CC_BLOB_GPA, PAGE_SIZE, PLAN_MEASURED, &buf, err) < 0 ||
	    plan_e820_mark(plan, PLAN_SNP_CC_BLOB_GPA, PLAN_SNP_PAGES_END - PLAN_SNP_CC_BLOB_GPA, E820_RESERVED, err) < 0)
		return -1;
	*entry_gpa = boot_snp_cc_blob_build(buf, PLAN_SNP_CC_BLOB_GPA, SNP_PLAN_SECRETS_GPA, SNP_PLAN_CPUID_GPA);
	*entry = buf + (*entry_gpa - PLAN_SNP_CC_BLOB_GPA);
	return 0;
}

/* The module's name in the boot information: the initrd file's own name, never the host's directories. */
static const char *plan_module_name(const struct plan_inputs *in)
{
	const char *slash;

	if (!in->initrd.size)
		return "";
	slash = strrchr(in->initrd.path, '/');
	return slash ? slash + 1 : in->initrd.path;
}

/* Multiboot boot information (either version), and ACPI tables for kernels that look for them. */
static int plan_add_multiboot_info(struct launch_plan *plan, const struct plan_inputs *in, uint64_t initrd_gpa,
				   uint64_t initrd_size, struct cloak_err *err)
{
	const uint8_t *rsdp;
	uint64_t rsdp_gpa;
	uint8_t *area, *buf;
	size_t used;
	int rc;

	if (plan_add_acpi(plan, &rsdp_gpa, &rsdp, err) < 0)
		return -1;
	area = calloc(1, PLAN_MBINFO_MAX);
	if (!area)
		return err_set(err, "out of memory building the launch plan");
	if (plan->kind == PLAN_KIND_MULTIBOOT1)
		used = boot_multiboot1_build(area, PLAN_MBINFO_MAX, PLAN_MBINFO_GPA, plan, PLAN_CMDLINE_GPA,
					     initrd_gpa, initrd_size, plan_module_name(in));
	else
		used = boot_multiboot2_build(area, PLAN_MBINFO_MAX, PLAN_MBINFO_GPA, plan, initrd_gpa, initrd_size,
					     plan_module_name(in), rsdp, 36);
	rc = plan_add_owned_region(plan, "multiboot information", PLAN_MBINFO_GPA, ALIGN_UP(used, 16), PLAN_MEASURED,
				   &buf, err);
	if (rc == 0)
		memcpy(buf, area, used);
	free(area);
	return rc;
}

int plan_build(const struct plan_inputs *in, struct launch_plan *plan, struct cloak_err *err)
{
	const struct vm_config *cfg = in->cfg;
	uint64_t gdt[GDT_ENTRIES];
	uint64_t initrd_gpa = 0, initrd_size = in->initrd.size, kernel_gpa = 0, rsdp_gpa = 0;
	struct bzimage bz;
	uint8_t *buf;

	memset(plan, 0, sizeof(*plan));
	plan->mem_size = cfg->mem_size;
	plan->cpus = cfg->cpus;
	plan->cbit = in->cbit;
	plan->vmsa = in->vmsa;
	plan->snp = cfg->sev_mode == SEV_LAUNCH_SNP && in->cbit >= 0;
	plan->kernel_name = in->kernel.path;
	snprintf(plan->cmdline, sizeof(plan->cmdline), "%s", cfg->cmdline ? cfg->cmdline : "");
	plan_layout_ram(plan);

	if (plan_add_image(plan, in, &bz, &kernel_gpa, err) < 0 || plan_check_sev_entry(plan, err) < 0)
		goto fail;
	if (plan_size_swiotlb(plan, cfg, err) < 0)
		goto fail;
	if (plan->kind == PLAN_KIND_BZIMAGE && bz.cmdline_size && strlen(plan->cmdline) >= bz.cmdline_size) {
		err_set(err, "--cmdline: %zu bytes is longer than %s accepts (%u)", strlen(plan->cmdline),
			in->kernel.path, bz.cmdline_size - 1);
		goto fail;
	}
	if (initrd_size &&
	    plan_place_initrd(plan, &in->initrd, plan->kind == PLAN_KIND_BZIMAGE ? bz.initrd_addr_max : 0,
			      &initrd_gpa, err) < 0)
		goto fail;

	/*
	 * Page 0 is loaded and measured whole: zeros, and the GDT at 0x500. Linux
	 * reads the BIOS data area words at 0x40e (EBDA) and 0x413 (base memory),
	 * which under SEV would otherwise be whatever the page decrypts to.
	 */
	boot_gdt_build(gdt);
	if (plan_add_owned_region(plan, "page 0 (BIOS data area, GDT)", 0, PAGE_SIZE, PLAN_MEASURED, &buf, err) < 0)
		goto fail;
	memcpy(buf + PLAN_GDT_GPA, gdt, sizeof(gdt));
	if (plan->entry.mode == ENTRY_LONG64) {
		if (plan_add_owned_region(plan, "page tables", PLAN_PT_GPA, PLAN_PT_PAGES * PAGE_SIZE,
					  PLAN_MEASURED, &buf, err) < 0)
			goto fail;
		boot_pagetables_build(buf, PLAN_PT_GPA, plan->cbit);
	}
	if (plan_add_owned_region(plan, "command line", PLAN_CMDLINE_GPA, ALIGN_UP(strlen(plan->cmdline) + 1, 16),
				  PLAN_MEASURED | PLAN_PAYLOAD, &buf, err) < 0)
		goto fail;
	memcpy(buf, plan->cmdline, strlen(plan->cmdline));

	if (plan->kind == PLAN_KIND_ELF &&
	    plan_place_dma_window(plan, initrd_size ? initrd_gpa : plan_low_ram_end(plan), err) < 0)
		goto fail;
	if (plan->kind != PLAN_KIND_ELF) {
		if (plan_add_owned_region(plan, "MP table", PLAN_MPTABLE_GPA, PAGE_SIZE, PLAN_MEASURED, &buf, err) < 0)
			goto fail;
		boot_mptable_build(buf, PLAN_MPTABLE_GPA, plan->cpus);
	}

	switch (plan->kind) {
	case PLAN_KIND_ELF: {
		uint8_t fdt[PLAN_FDT_MAX];

		if (boot_fdt_build(fdt, sizeof(fdt), plan, initrd_gpa, initrd_size, err) < 0)
			goto fail;
		if (plan_add_owned_region(plan, "boot-info device tree", PLAN_FDT_GPA,
					  ALIGN_UP(fdt_totalsize(fdt), 16), PLAN_MEASURED, &buf, err) < 0)
			goto fail;
		memcpy(buf, fdt, fdt_totalsize(fdt));
		break;
	}
	case PLAN_KIND_MULTIBOOT1:
	case PLAN_KIND_MULTIBOOT2:
		if (plan_add_multiboot_info(plan, in, initrd_gpa, initrd_size, err) < 0)
			goto fail;
		break;
	case PLAN_KIND_PVH:
		if (plan_add_acpi(plan, &rsdp_gpa, NULL, err) < 0 ||
		    plan_add_owned_region(plan, "pvh start info", PLAN_BOOTINFO_GPA, PAGE_SIZE, PLAN_MEASURED, &buf,
					  err) < 0)
			goto fail;
		boot_pvh_build(buf, PLAN_BOOTINFO_GPA, plan, PLAN_CMDLINE_GPA, initrd_gpa, initrd_size, rsdp_gpa);
		break;
	case PLAN_KIND_BZIMAGE: {
		uint8_t *cc_entry = NULL;
		uint64_t cc_entry_gpa = 0;

		if (plan_add_acpi(plan, &rsdp_gpa, NULL, err) < 0 ||
		    (plan->snp && plan_add_snp_cc_blob(plan, &cc_entry, &cc_entry_gpa, err) < 0) ||
		    plan_add_owned_region(plan, "zero page", PLAN_BOOTINFO_GPA, PAGE_SIZE, PLAN_MEASURED, &buf,
					  err) < 0)
			goto fail;
		/* After the blob: the zero page's e820 map has the reserved range. */
		boot_linux_build(buf, in->kernel.data, in->kernel.size, plan, kernel_gpa, PLAN_CMDLINE_GPA,
				 initrd_gpa, initrd_size, rsdp_gpa);
		if (cc_entry)
			boot_linux_chain_setup_data(buf, cc_entry, cc_entry_gpa);
		break;
	}
	}
	/* A confidential plan (a C-bit: cloak under --sev, or cloak-owner) boots through the verifier by default. */
	if (plan->cbit >= 0 && config_measured_boot(cfg) == MEASURED_BOOT_VERIFIER &&
	    plan_add_verifier(plan, in->verify_hash ? in->verify_hash : VERIFY_HASH_SHA256, err) < 0)
		goto fail;
	/* After the verifier: the boot vCPU's VMSA holds the entry the launch really uses. */
	if (plan_add_vmsas(plan, err) < 0)
		goto fail;
	return 0;
fail:
	plan_free(plan);
	return -1;
}
