/* plan.c: builds the launch plan (layout, regions, entry) from the config and the images. */
#include "plan.h"

#include "boot.h"
#include "loader.h"

#include <libfdt.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/mman.h>

/*
 * Layout below 1 MiB (all in the first e820 RAM range, which Linux keeps away
 * from its allocator early on): the GDT in page 0, the page tables, the
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
	return plan_add_region(plan, "initrd", *gpa, size, initrd->data, initrd->size, PLAN_MEASURED, err);
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

static int plan_add_elf(struct launch_plan *plan, const struct plan_inputs *in, struct cloak_err *err)
{
	struct elf_image elf;
	unsigned i;

	if (elf_parse(in->kernel.data, in->kernel.size, PLAN_LOW_RESERVED, in->kernel.path, &elf, err) < 0)
		return -1;
	for (i = 0; i < elf.nsegments; i++) {
		const struct elf_segment *s = &elf.segments[i];
		char a[32];

		if (!plan_in_ram(plan, s->paddr, s->memsz))
			return err_set(err, "%s: segment at 0x%llx-0x%llx lies outside guest memory (%s); give "
					    "--mem of at least %lluM", in->kernel.path,
				       (unsigned long long)s->paddr, (unsigned long long)(s->paddr + s->memsz - 1),
				       fmt_size(plan->mem_size, a),
				       (unsigned long long)(ALIGN_UP(s->paddr + s->memsz + 2 * MiB, 2 * MiB) / MiB));
		if (plan_add_region(plan, "kernel segment", s->paddr, s->memsz, in->kernel.data + s->offset,
				    s->filesz, PLAN_MEASURED, err) < 0)
			return -1;
	}
	plan->image_end = elf.highest;
	if (elf.has_pvh) {
		plan->kind = PLAN_KIND_PVH;
		plan->entry = (struct plan_entry){ .mode = ENTRY_PVH32, .rip = elf.pvh_entry,
						   .rbx = PLAN_BOOTINFO_GPA };
	} else {
		plan->kind = PLAN_KIND_ELF;
		plan->entry = (struct plan_entry){ .mode = ENTRY_LONG64, .rip = elf.entry,
						   .rsp = PLAN_STACK_TOP, .rdi = PLAN_FDT_GPA,
						   .cr3 = PLAN_PT_GPA };
	}
	return 0;
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
	if (plan_add_region(plan, "kernel", load, ALIGN_UP(need, PAGE_SIZE), bz->kernel, bz->kernel_len,
			    PLAN_MEASURED, err) < 0)
		return -1;
	plan->kind = PLAN_KIND_BZIMAGE;
	plan->image_end = load + need;
	plan->entry = (struct plan_entry){ .mode = ENTRY_LONG64, .rip = load + 0x200, .rsp = PLAN_STACK_TOP,
					   .rsi = PLAN_BOOTINFO_GPA, .cr3 = PLAN_PT_GPA };
	*kernel_gpa = load;
	return 0;
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

/* Linux guests find their CPUs and the IOAPIC in ACPI tables; ELF guests read the device tree. */
static int plan_add_acpi(struct launch_plan *plan, uint64_t *rsdp_gpa, struct cloak_err *err)
{
	uint8_t *buf;

	if (plan_add_owned_region(plan, "acpi tables", PLAN_ACPI_GPA, PAGE_SIZE, PLAN_MEASURED, &buf, err) < 0)
		return -1;
	*rsdp_gpa = boot_acpi_build(buf, PLAN_ACPI_GPA, plan->cpus);
	return 0;
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
	plan->kernel_name = in->kernel.path;
	snprintf(plan->cmdline, sizeof(plan->cmdline), "%s", cfg->cmdline ? cfg->cmdline : "");
	plan_layout_ram(plan);

	if (elf_is_elf(in->kernel.data, in->kernel.size)) {
		if (plan_add_elf(plan, in, err) < 0)
			goto fail;
	} else if (bzimage_is_bzimage(in->kernel.data, in->kernel.size)) {
		if (plan_add_bzimage(plan, in, &bz, &kernel_gpa, err) < 0)
			goto fail;
	} else {
		err_set(err, "%s is neither an ELF64 executable nor a Linux bzImage; give a guest image built "
			     "for cloak (see README: guest ABI)", in->kernel.path);
		goto fail;
	}
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

	boot_gdt_build(gdt);
	if (plan_add_owned_region(plan, "gdt", PLAN_GDT_GPA, sizeof(gdt), PLAN_MEASURED, &buf, err) < 0)
		goto fail;
	memcpy(buf, gdt, sizeof(gdt));
	if (plan->entry.mode == ENTRY_LONG64) {
		if (plan_add_owned_region(plan, "page tables", PLAN_PT_GPA, PLAN_PT_PAGES * PAGE_SIZE,
					  PLAN_MEASURED, &buf, err) < 0)
			goto fail;
		boot_pagetables_build(buf, PLAN_PT_GPA, plan->cbit);
	}
	if (plan_add_owned_region(plan, "command line", PLAN_CMDLINE_GPA, ALIGN_UP(strlen(plan->cmdline) + 1, 16),
				  PLAN_MEASURED, &buf, err) < 0)
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
	case PLAN_KIND_PVH:
		if (plan_add_acpi(plan, &rsdp_gpa, err) < 0 ||
		    plan_add_owned_region(plan, "pvh start info", PLAN_BOOTINFO_GPA, PAGE_SIZE, PLAN_MEASURED, &buf,
					  err) < 0)
			goto fail;
		boot_pvh_build(buf, PLAN_BOOTINFO_GPA, plan, PLAN_CMDLINE_GPA, initrd_gpa, initrd_size, rsdp_gpa);
		break;
	case PLAN_KIND_BZIMAGE:
		if (plan_add_acpi(plan, &rsdp_gpa, err) < 0 ||
		    plan_add_owned_region(plan, "zero page", PLAN_BOOTINFO_GPA, PAGE_SIZE, PLAN_MEASURED, &buf,
					  err) < 0)
			goto fail;
		boot_linux_build(buf, in->kernel.data, in->kernel.size, plan, kernel_gpa, PLAN_CMDLINE_GPA,
				 initrd_gpa, initrd_size, rsdp_gpa);
		break;
	}
	return 0;
fail:
	plan_free(plan);
	return -1;
}
