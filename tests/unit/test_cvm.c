/* test_cvm.c: the confidential-VM seam: each kind's defaults and steps, driven the way the launch sequence drives them. */
#include "cvm.h"
#include "machine.h"
#include "sev/sev.h"
#include "unit.h"

#include <errno.h>
#include <linux/kvm.h>
#include <linux/kvm_para.h>
#include <stdlib.h>
#include <string.h>

#define MSR_SEV_STATUS 0xc0010131

static struct kvm_cpuid2 *cpuid_table(unsigned capacity)
{
	struct kvm_cpuid2 *c = calloc(1, sizeof(*c) + capacity * sizeof(c->entries[0]));

	c->nent = 2;
	c->entries[0] = (struct kvm_cpuid_entry2){ .function = 0x40000001 };
	c->entries[1] = (struct kvm_cpuid_entry2){ .function = 0x80000000, .eax = 0x80000021 };
	return c;
}

static const struct kvm_cpuid_entry2 *cpuid_find(const struct kvm_cpuid2 *c, uint32_t fn)
{
	unsigned i;

	for (i = 0; i < c->nent; i++)
		if (c->entries[i].function == fn)
			return &c->entries[i];
	return NULL;
}

START_TEST(none_kind_keeps_every_default)
{
	struct cloak_err err = { "" };
	struct launch_plan plan = { .mem_size = 64 * MiB, .cbit = -1, .kind = PLAN_KIND_ELF };
	struct kvm_cpuid2 *c = cpuid_table(4);
	struct kvm_run run = { .exit_reason = KVM_EXIT_HYPERCALL };
	struct vm_config cfg;
	struct cvm cvm;
	int cbit = 7;

	config_defaults(&cfg);
	ck_assert_int_eq(cvm_open(&cvm, &cfg, &cbit, &err), 0);
	ck_assert_str_eq(cvm.ops->name, "none");
	ck_assert_int_eq(cbit, -1);
	ck_assert_uint_eq(cvm_pin_bytes(&cvm, &plan), 64 * MiB);
	cfg.pin = false;
	ck_assert_uint_eq(cvm_pin_bytes(&cvm, &plan), 0);
	ck_assert_uint_eq(cvm_vm_type(&cvm, -1), 0);
	ck_assert(!cvm_guest_shares(&cvm, &plan));
	run.hypercall.nr = KVM_HC_MAP_GPA_RANGE;
	ck_assert(!cvm_handle_exit(&cvm, NULL, 0, &run));
	cvm_cpuid(&cvm, NULL, c, 4);
	ck_assert_uint_eq(c->nent, 2);
	ck_assert_uint_eq(c->entries[0].eax, 0);
	cvm_close(&cvm);
	free(c);
}
END_TEST

/* The SEV kind on the simulated PSP, stepped as launch.c steps it, with a made-up VM fd only the simulator sees. */
START_TEST(sev_kind_drives_the_launch)
{
	char *argv[] = { "run", "--sev", "--sev-backend", "sim", "--mem", "32M", NULL };
	struct cloak_err err = { "" };
	struct kvm_cpuid2 *c = cpuid_table(8);
	const struct kvm_cpuid_entry2 *leaf;
	struct kvm_run run;
	struct plan_inputs in;
	struct launch_plan plan;
	struct vm_config cfg;
	struct machine m;
	struct cvm cvm;

	/* No /dev/kvm here (vm_fd is made up): the simulator's memory views need KVM, so they are left out. */
	setenv("CLOAK_SIM_MEMORY", "off", 1);
	config_defaults(&cfg);
	ck_assert_msg(config_parse_run(6, argv, &cfg, &err) == 0, "%s", err.msg);
	ck_assert_msg(plan_inputs_open(&in, &cfg, &err) == 0, "%s", err.msg);
	ck_assert_msg(cvm_open(&cvm, &cfg, &in.cbit, &err) == 0, "%s", err.msg);
	ck_assert_str_eq(cvm.ops->name, "sev");
	ck_assert_int_ge(in.cbit, 32);
	ck_assert_msg(plan_build(&in, &plan, &err) == 0, "%s", err.msg);
	/* REG_REGION pins all RAM, and each LAUNCH_UPDATE_DATA a region more. */
	ck_assert_uint_gt(cvm_pin_bytes(&cvm, &plan), 32 * MiB);

	machine_init(&m, &cfg, &plan, &cvm);
	/* The demo is an ELF guest: under the simulator it is shown SEV and must share what devices touch. */
	ck_assert(m.confidential);
	ck_assert_ptr_eq(m.host.dma.shared, &m.shared);
	ck_assert_msg(guestmem_map(&m.mem, &plan, false, &err) == 0, "%s", err.msg);
	m.vm_fd = 42;
	ck_assert_msg(cvm_memory_ready(&cvm, &m, &err) == 0, "%s", err.msg);
	ck_assert_msg(cvm_load(&cvm, &m, &err) == 0, "%s", err.msg);
	ck_assert_msg(cvm_vcpus_ready(&cvm, &m, &err) == 0, "%s", err.msg);
	ck_assert_msg(cvm_finish(&cvm, &m, &err) == 0, "%s", err.msg);
	ck_assert_uint_ne(m.tl.at[TL_SEV_LAUNCH_START], 0);
	ck_assert_uint_ne(m.tl.at[TL_SEV_LAUNCH_UPDATE], 0);
	ck_assert_uint_ne(m.tl.at[TL_SEV_LAUNCH_FINISH], 0);
	/* What the launch measured reaches the timeline (measured_bytes), and the owner computes the same. */
	ck_assert_uint_eq(m.tl.measured_bytes, sev_plan_measured(&plan, NULL, NULL));
	ck_assert_uint_gt(m.tl.measured_bytes, 0);
	/* The kind copied the plan in: the boot-info tree sits where the plan put it. */
	ck_assert_ptr_nonnull(gpa_range(&m.mem, PLAN_FDT_GPA, 4));
	ck_assert_uint_eq(*(uint32_t *)gpa_range(&m.mem, PLAN_FDT_GPA, 4), 0xedfe0dd0);  /* FDT magic, big-endian */

	/* CPUID: the SEV leaf with the C-bit, and the KVM feature under which Linux reports what it shares. */
	cvm_cpuid(&cvm, &m, c, 8);
	leaf = cpuid_find(c, 0x8000001f);
	ck_assert_ptr_nonnull(leaf);
	ck_assert_uint_eq(leaf->eax & 2, 2);
	ck_assert_uint_eq(leaf->ebx & 0x3f, (unsigned)plan.cbit);
	ck_assert_uint_ne(cpuid_find(c, 0x40000001)->eax & (1u << KVM_FEATURE_MIGRATION_CONTROL), 0);

	/* The simulator answers SEV_STATUS; other MSRs are not the kind's. */
	memset(&run, 0, sizeof(run));
	run.exit_reason = KVM_EXIT_X86_RDMSR;
	run.msr.index = MSR_SEV_STATUS;
	run.msr.error = 1;
	ck_assert(cvm_handle_exit(&cvm, &m, 0, &run));
	ck_assert_uint_eq(run.msr.error, 0);
	ck_assert_uint_eq(run.msr.data, 1);
	run.msr.index = 0x10;
	ck_assert(!cvm_handle_exit(&cvm, &m, 0, &run));
	/* MSR_KVM_MIGRATION_CONTROL writes, which KVM leaves to the VMM that offers the feature. */
	run.exit_reason = KVM_EXIT_X86_WRMSR;
	run.msr.index = MSR_KVM_MIGRATION_CONTROL;
	run.msr.data = 1;
	run.msr.error = 1;
	ck_assert(cvm_handle_exit(&cvm, &m, 0, &run));
	ck_assert_uint_eq(run.msr.error, 0);
	run.msr.data = 2;
	ck_assert(cvm_handle_exit(&cvm, &m, 0, &run));
	ck_assert_uint_eq(run.msr.error, 1);

	/* KVM_HC_MAP_GPA_RANGE: a page shared, then taken back; a misaligned range is refused. */
	memset(&run, 0, sizeof(run));
	run.exit_reason = KVM_EXIT_HYPERCALL;
	run.hypercall.nr = KVM_HC_MAP_GPA_RANGE;
	run.hypercall.args[0] = 0x200000;
	run.hypercall.args[1] = 2;
	ck_assert(!shared_map_covers(&m.shared, 0x200000, 0x2000));
	ck_assert(cvm_handle_exit(&cvm, &m, 0, &run));
	ck_assert_uint_eq(run.hypercall.ret, 0);
	ck_assert(shared_map_covers(&m.shared, 0x200000, 0x2000));
	run.hypercall.args[2] = KVM_MAP_GPA_RANGE_ENCRYPTED;
	ck_assert(cvm_handle_exit(&cvm, &m, 0, &run));
	ck_assert(!shared_map_covers(&m.shared, 0x200000, 0x1000));
	run.hypercall.args[0] = 0x200010;
	ck_assert(cvm_handle_exit(&cvm, &m, 0, &run));
	ck_assert_uint_eq(run.hypercall.ret, (uint64_t)-KVM_EINVAL);
	/* Another hypercall is not the kind's. */
	run.hypercall.nr = KVM_HC_KICK_CPU;
	ck_assert(!cvm_handle_exit(&cvm, &m, 0, &run));

	guestmem_unmap(&m.mem);
	cvm_close(&cvm);
	plan_free(&plan);
	plan_inputs_close(&in);
	free(c);
	unsetenv("CLOAK_SIM_MEMORY");
}
END_TEST

/* Linux is shown SEV under the simulator only with the private view its C-bit tables need. */
START_TEST(sev_kind_under_the_simulator_spares_linux)
{
	struct cloak_err err = { "" };
	struct launch_plan plan = { .cbit = PSP_SIM_CBIT, .kind = PLAN_KIND_BZIMAGE };
	char *argv[] = { "run", "--sev", "--sev-backend", "sim", NULL };
	struct vm_config cfg;
	struct cvm cvm;
	int cbit;

	config_defaults(&cfg);
	ck_assert_msg(config_parse_run(4, argv, &cfg, &err) == 0, "%s", err.msg);
	setenv("CLOAK_SIM_MEMORY", "off", 1);
	ck_assert_msg(cvm_open(&cvm, &cfg, &cbit, &err) == 0, "%s", err.msg);
	ck_assert(!cvm_guest_shares(&cvm, &plan));
	plan.kind = PLAN_KIND_ELF;
	ck_assert(cvm_guest_shares(&cvm, &plan));
	plan.cbit = -1;
	ck_assert(!cvm_guest_shares(&cvm, &plan));
	cvm_close(&cvm);

	unsetenv("CLOAK_SIM_MEMORY");  /* strict, the default */
	plan = (struct launch_plan){ .cbit = PSP_SIM_CBIT, .kind = PLAN_KIND_BZIMAGE };
	ck_assert_msg(cvm_open(&cvm, &cfg, &cbit, &err) == 0, "%s", err.msg);
	ck_assert(cvm_guest_shares(&cvm, &plan));
	cvm_close(&cvm);

	setenv("CLOAK_SIM_MEMORY", "lax", 1);
	ck_assert_int_eq(cvm_open(&cvm, &cfg, &cbit, &err), -1);
	ck_assert_msg(strstr(err.msg, "CLOAK_SIM_MEMORY=lax: give strict, report or off"), "%s", err.msg);
	unsetenv("CLOAK_SIM_MEMORY");
}
END_TEST

START_TEST(msi_routes_keep_the_irqchip_routes)
{
	struct kvm_irq_routing *t = calloc(1, sizeof(*t) + MSI_ROUTES_TABLE_MAX * sizeof(t->entries[0]));
	struct msi_routes r;
	int a, b;
	unsigned i, n, msi = 0;

	msi_routes_init(&r);
	a = msi_routes_alloc(&r);
	b = msi_routes_alloc(&r);
	ck_assert_int_eq(a, KVM_FIRST_MSI_GSI);
	ck_assert_int_eq(b, KVM_FIRST_MSI_GSI + 1);
	r.msi[b - KVM_FIRST_MSI_GSI].valid = true;
	r.msi[b - KVM_FIRST_MSI_GSI].addr = 0xfee00000;
	r.msi[b - KVM_FIRST_MSI_GSI].data = 0x4041;
	n = msi_routes_table(&r, t);
	/* KVM replaces its whole table: the PIC and IOAPIC pins must be in every new one (24 + 16 entries). */
	ck_assert_uint_eq(n, 41);
	ck_assert_uint_eq(t->nr, n);
	for (i = 0; i < n; i++)
		if (t->entries[i].type == KVM_IRQ_ROUTING_MSI) {
			msi++;
			ck_assert_uint_eq(t->entries[i].gsi, (unsigned)b);
			ck_assert_uint_eq(t->entries[i].u.msi.address_lo, 0xfee00000);
			ck_assert_uint_eq(t->entries[i].u.msi.data, 0x4041);
		}
	ck_assert_uint_eq(msi, 1);
	while (msi_routes_alloc(&r) >= 0)
		;
	ck_assert_uint_eq(r.ngsi, KVM_MAX_MSI_GSI - KVM_FIRST_MSI_GSI);
	free(t);
}
END_TEST

Suite *cvm_suite(void)
{
	Suite *s = suite_create("cvm");
	TCase *tc = tcase_create("seam");

	tcase_set_timeout(tc, 60);
	tcase_add_test(tc, none_kind_keeps_every_default);
	tcase_add_test(tc, sev_kind_drives_the_launch);
	tcase_add_test(tc, sev_kind_under_the_simulator_spares_linux);
	tcase_add_test(tc, msi_routes_keep_the_irqchip_routes);
	suite_add_tcase(s, tc);
	return s;
}
