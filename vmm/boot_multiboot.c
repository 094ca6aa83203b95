/* boot_multiboot.c: the boot information a Multiboot 1 or Multiboot 2 kernel finds at EBX. */
#include "boot.h"

#include <stdio.h>
#include <string.h>

/* Multiboot 1 info flags: which fields are valid. */
#define MBI_MEMORY      (1u << 0)
#define MBI_CMDLINE     (1u << 2)
#define MBI_MODS        (1u << 3)
#define MBI_MMAP        (1u << 6)
#define MBI_LOADER_NAME (1u << 9)

/* Multiboot 1 info layout in its area (offsets from the start). */
#define MB1_INFO_SIZE     116u
#define MB1_MMAP_OFF      0x100u
#define MB1_MOD_OFF       0x200u
#define MB1_NAME_OFF      0x300u
#define MB1_MODSTR_OFF    0x340u

#define MB_LOADER_NAME "cloak"

static void put32(uint8_t *p, uint32_t v)
{
	memcpy(p, &v, sizeof(v));
}

static void put64(uint8_t *p, uint64_t v)
{
	memcpy(p, &v, sizeof(v));
}

/* KiB of RAM from 0 (mem_lower) and from 1 MiB up to the first hole (mem_upper), as the e820 map says. */
static void mb_mem_kib(const struct launch_plan *plan, uint32_t *lower, uint32_t *upper)
{
	uint64_t up = 0;
	unsigned i;

	*lower = 0;
	for (i = 0; i < plan->ne820; i++) {
		const struct plan_e820 *e = &plan->e820[i];

		if (e->type == E820_RAM && e->addr == 0)
			*lower = (uint32_t)((e->size < 640 * KiB ? e->size : 640 * KiB) / KiB);
		if (e->type == E820_RAM && e->addr == PLAN_LOW_RESERVED)
			up = e->size / KiB;
	}
	*upper = up > UINT32_MAX ? UINT32_MAX : (uint32_t)up;
}

size_t boot_multiboot1_build(uint8_t *area, size_t size, uint64_t area_gpa, const struct launch_plan *plan,
			     uint64_t cmdline_gpa, uint64_t initrd_gpa, uint64_t initrd_size, const char *module_name)
{
	uint8_t *info = area;
	uint32_t lower, upper, flags = MBI_MEMORY | MBI_CMDLINE | MBI_MMAP | MBI_LOADER_NAME;
	unsigned i;

	memset(area, 0, size);
	mb_mem_kib(plan, &lower, &upper);
	put32(info + 4, lower);
	put32(info + 8, upper);
	put32(info + 16, (uint32_t)cmdline_gpa);
	/* Entries are { size (20, not counting itself), base, length, type }; mmap_addr points at a size. */
	for (i = 0; i < plan->ne820; i++) {
		uint8_t *e = area + MB1_MMAP_OFF + i * 24;

		put32(e, 20);
		put64(e + 4, plan->e820[i].addr);
		put64(e + 12, plan->e820[i].size);
		put32(e + 20, plan->e820[i].type);
	}
	put32(info + 44, plan->ne820 * 24);
	put32(info + 48, (uint32_t)(area_gpa + MB1_MMAP_OFF));
	memcpy(area + MB1_NAME_OFF, MB_LOADER_NAME, sizeof(MB_LOADER_NAME));
	put32(info + 64, (uint32_t)(area_gpa + MB1_NAME_OFF));
	if (initrd_size) {
		uint8_t *mod = area + MB1_MOD_OFF;

		flags |= MBI_MODS;
		put32(info + 20, 1);
		put32(info + 24, (uint32_t)(area_gpa + MB1_MOD_OFF));
		put32(mod, (uint32_t)initrd_gpa);
		put32(mod + 4, (uint32_t)(initrd_gpa + initrd_size));  /* one past the last byte, as GRUB gives */
		snprintf((char *)area + MB1_MODSTR_OFF, size - MB1_MODSTR_OFF, "%s", module_name);
		put32(mod + 8, (uint32_t)(area_gpa + MB1_MODSTR_OFF));
	}
	put32(info, flags);
	return MB1_MODSTR_OFF + strlen((const char *)area + MB1_MODSTR_OFF) + 1;
}

/* Appends one tag (8-byte aligned, as Multiboot 2 wants) and returns the offset past it. */
static size_t mb2_tag(uint8_t *area, size_t off, uint32_t type, const void *body, size_t body_len)
{
	put32(area + off, type);
	put32(area + off + 4, (uint32_t)(8 + body_len));
	if (body_len)
		memcpy(area + off + 8, body, body_len);
	return ALIGN_UP(off + 8 + body_len, 8);
}

size_t boot_multiboot2_build(uint8_t *area, size_t size, uint64_t area_gpa, const struct launch_plan *plan,
			     uint64_t initrd_gpa, uint64_t initrd_size, const char *module_name,
			     const uint8_t *rsdp, size_t rsdp_len)
{
	uint8_t body[8 + PLAN_MAX_E820 * 24];
	size_t off = 8, name_len = strlen(module_name) + 1;
	uint32_t lower, upper;
	unsigned i;

	(void)area_gpa;
	memset(area, 0, size);
	off = mb2_tag(area, off, 1, plan->cmdline, strlen(plan->cmdline) + 1);
	off = mb2_tag(area, off, 2, MB_LOADER_NAME, sizeof(MB_LOADER_NAME));
	if (initrd_size) {
		uint8_t mod[8 + 256] = { 0 };

		if (name_len > sizeof(mod) - 8)
			name_len = sizeof(mod) - 8;
		put32(mod, (uint32_t)initrd_gpa);
		put32(mod + 4, (uint32_t)(initrd_gpa + initrd_size));
		memcpy(mod + 8, module_name, name_len - 1);
		off = mb2_tag(area, off, 3, mod, 8 + name_len);
	}
	mb_mem_kib(plan, &lower, &upper);
	put32(body, lower);
	put32(body + 4, upper);
	off = mb2_tag(area, off, 4, body, 8);
	put32(body, 24);  /* entry_size */
	put32(body + 4, 0);  /* entry_version */
	for (i = 0; i < plan->ne820; i++) {
		uint8_t *e = body + 8 + i * 24;

		put64(e, plan->e820[i].addr);
		put64(e + 8, plan->e820[i].size);
		put32(e + 16, plan->e820[i].type);
		put32(e + 20, 0);
	}
	off = mb2_tag(area, off, 6, body, 8 + plan->ne820 * 24);
	if (rsdp_len >= 20)
		off = mb2_tag(area, off, 14, rsdp, 20);  /* the ACPI 1.0 part of the RSDP */
	if (rsdp_len >= 36)
		off = mb2_tag(area, off, 15, rsdp, 36);
	off = mb2_tag(area, off, 0, NULL, 0);
	put32(area, (uint32_t)off);  /* total_size */
	return off;
}
