/* plan_glue.c: the launch plan of a fuzzed guest image, built and checked; shared by the loader targets. */
#include "plan_glue.h"

#include "plan.h"

#include <stdlib.h>
#include <string.h>

/* The DSDT blob the plan copies (empty: its bytes are copied, not parsed). */
__asm__(".section .rodata\n.globl cloak_dsdt_start\n.globl cloak_dsdt_end\ncloak_dsdt_start:\ncloak_dsdt_end:\n"
	".previous\n");
/*
 * A stand-in for the measured-boot verifier's image (the real one is built by
 * meson for the guest): an ELF64 with one 128-byte segment at 0x60000 whose
 * entry is a HLT loop, enough for the plan to place it and its table.
 */
__asm__(".section .rodata\n.balign 16\n.globl cloak_verifier_start\n.globl cloak_verifier_end\n"
	"cloak_verifier_start:\n"
	".byte 0x7f, 'E', 'L', 'F', 2, 1, 1, 0\n.quad 0\n"          /* ident: ELF64, little-endian */
	".short 2, 62\n.long 1\n.quad 0x60078, 64, 0\n"           /* EXEC, x86-64; entry, phoff, shoff */
	".long 0\n.short 64, 56, 1, 64, 0, 0\n"                    /* flags; ehsize, phentsize, phnum */
	".long 1, 7\n.quad 0, 0x60000, 0x60000, 0x80, 0x80, 0x1000\n" /* PT_LOAD RWX at 0x60000 */
	".byte 0xf4, 0xeb, 0xfd, 0, 0, 0, 0, 0\n"                   /* hlt; jmp .-3 */
	"cloak_verifier_end:\n.previous\n");

static bool in_region(const struct launch_plan *plan, uint64_t gpa)
{
	unsigned i;

	for (i = 0; i < plan->nregions; i++)
		if (gpa >= plan->regions[i].gpa && gpa - plan->regions[i].gpa < plan->regions[i].size)
			return true;
	return false;
}

/*
 * Every region lies in guest RAM and its bytes come from the image, the
 * initrd or the plan itself; the entry point is code the plan loads.
 */
static bool inside(const uint8_t *p, size_t len, const uint8_t *buf, size_t size)
{
	return p >= buf && len <= size && (size_t)(p - buf) <= size - len;
}

static void check_plan(const struct launch_plan *plan, const uint8_t *image, size_t size, const uint8_t *initrd,
		       size_t initrd_len)
{
	unsigned i;

	for (i = 0; i < plan->nregions; i++) {
		const struct plan_region *r = &plan->regions[i];

		if (!plan_in_ram(plan, r->gpa, r->size) || r->data_len > r->size)
			abort();
		if (!(r->flags & PLAN_OWNED) && r->data_len && !inside(r->data, r->data_len, image, size) &&
		    !inside(r->data, r->data_len, initrd, initrd_len) &&
		    !inside(r->data, r->data_len, cloak_verifier_start,
			    (size_t)(cloak_verifier_end - cloak_verifier_start)))
			abort();
		/* Under the verifier no payload is measured: each is staged, in the staging area. */
		if (plan->verifier && (r->flags & PLAN_PAYLOAD))
			abort();
		if ((r->flags & PLAN_STAGED) && (r->gpa < plan->staging_gpa ||
						 r->gpa + r->size > plan->staging_gpa + plan->staging_size))
			abort();
	}
	if (!in_region(plan, plan->entry.rip))
		abort();
}

static void plan_once(const uint8_t *image, size_t size, uint64_t mem, unsigned cpus, int cbit,
		      const char *cmdline, const uint8_t *initrd, size_t initrd_len, enum measured_boot_mode measured_boot)
{
	static struct vm_config cfg;  /* static: it is 33 KiB */
	struct plan_inputs in;
	struct cloak_err err = { "" };
	static struct launch_plan plan;

	config_defaults(&cfg);
	cfg.mem_size = mem;
	cfg.cpus = cpus;
	cfg.cmdline = cmdline;
	cfg.measured_boot = measured_boot;
	memset(&in, 0, sizeof(in));
	in.cfg = &cfg;
	in.cbit = cbit;
	in.kernel = (struct file_map){ .path = "fuzz-kernel", .data = image, .size = size };
	in.initrd = (struct file_map){ .path = "fuzz-initrd", .data = initrd, .size = initrd_len };
	if (plan_build(&in, &plan, &err) < 0) {
		if (!err.msg[0])
			abort();
		return;
	}
	check_plan(&plan, image, size, initrd, initrd_len);
	plan_free(&plan);
}

void fuzz_plan_image(const uint8_t *image, size_t size)
{
	static const uint8_t initrd[4096] = { 0x30, 0x37, 0x30, 0x37, 0x30, 0x31 };

	/*
	 * A small plain guest, and a large confidential one with an initrd and RAM
	 * above 4 GiB, measured whole and through the verifier.
	 */
	plan_once(image, size, 128ull << 20, 1, -1, NULL, NULL, 0, MEASURED_BOOT_VERIFIER);
	plan_once(image, size, 5ull << 30, 4, 51, "console=hvc0 quiet", initrd, sizeof(initrd), MEASURED_BOOT_FULL);
	plan_once(image, size, 5ull << 30, 4, 51, "console=hvc0 quiet", initrd, sizeof(initrd), MEASURED_BOOT_VERIFIER);
}
