/* test_vmsa.c: SEV-ES VMSAs: KVM's copy of the registers, the plan's VMSAs, their digest, the register seal. */
#include "sev_tests.h"

#include "cvm.h"
#include "sev/sev.h"
#include "sev/vmsa.h"
#include "snp_digest.h"

#include <errno.h>
#include <stdlib.h>

#define OFF_CS_ATTRIB 0x12
#define OFF_EFER 0xd0
#define OFF_CR3 0x150
#define OFF_RIP 0x178
#define OFF_RDX 0x310
#define OFF_SEV_FEATURES 0x3b0
#define OFF_MXCSR 0x408
#define OFF_FCW 0x410

static uint64_t u64_at(const uint8_t *page, size_t off)
{
	uint64_t v;

	memcpy(&v, page + off, sizeof(v));
	return v;
}

static uint16_t u16_at(const uint8_t *page, size_t off)
{
	uint16_t v;

	memcpy(&v, page + off, sizeof(v));
	return v;
}

/* The reset state cloak gives APs, through KVM's copy, is sev-snp-measure's QEMU VMSA byte for byte. */
START_TEST(kvm_copy_of_the_reset_state_is_sev_snp_measures_vmsa)
{
	struct vmsa_params p = { .eip = 0xfffffff0u, .vcpu_sig = cpu_sig(25, 1, 1), .vmm = VMM_QEMU };
	uint8_t want[VMSA_SIZE], got[VMSA_SIZE];
	struct vmsa_vcpu_state st;
	unsigned i;

	memset(&st, 0, sizeof(st));
	vmsa_ap_reset_regs(p.vcpu_sig, &st.regs, &st.sregs);
	vmsa_reset_fpu(&st.fpu);
	st.fpu_synced = true;
	st.xcr0 = 1;
	vmsa_build(&p, want);
	vmsa_from_vcpu(&st, got);
	for (i = 0; i < VMSA_SIZE; i++)
		ck_assert_msg(want[i] == got[i], "VMSA byte 0x%x: sev-snp-measure 0x%02x, KVM's copy 0x%02x", i, want[i],
			      got[i]);
	/* Legacy KVM_SEV_ES_INIT copies no x87/SSE state: the control words stay zero. */
	st.fpu_synced = false;
	vmsa_from_vcpu(&st, got);
	ck_assert_uint_eq(u16_at(got, OFF_FCW), 0);
	ck_assert_uint_eq(u16_at(got, OFF_MXCSR), 0);
	ck_assert_int_ne(memcmp(want, got, VMSA_SIZE), 0);
}
END_TEST

struct es_plan {
	struct vm_config cfg;
	struct plan_inputs in;
	struct launch_plan plan;
};

static void es_plan_build(struct es_plan *e, unsigned cpus, bool es, uint64_t features, uint32_t sig)
{
	struct cloak_err err = { "" };

	config_defaults(&e->cfg);
	e->cfg.cpus = cpus;
	ck_assert_msg(plan_inputs_open(&e->in, &e->cfg, &err) == 0, "%s", err.msg);
	e->in.cbit = PSP_SIM_CBIT;
	if (es)
		e->in.vmsa = (struct plan_vmsa_inputs){ .on = true, .features = features, .vcpu_sig = sig,
							.fpu_synced = true };
	ck_assert_msg(plan_build(&e->in, &e->plan, &err) == 0, "%s", err.msg);
}

static void es_plan_free(struct es_plan *e)
{
	plan_free(&e->plan);
	plan_inputs_close(&e->in);
}

START_TEST(plan_carries_one_vmsa_per_vcpu)
{
	uint32_t sig = cpu_sig(25, 17, 0);
	struct vmsa_params ap = { .eip = 0xfffffff0u, .sev_features = SEV_FEAT_DEBUG_SWAP, .vcpu_sig = sig,
				  .vmm = VMM_QEMU };
	uint8_t want_ap[VMSA_SIZE];
	const uint8_t *bsp;
	struct es_plan e;
	unsigned i;

	es_plan_build(&e, 3, true, SEV_FEAT_DEBUG_SWAP, sig);
	ck_assert_ptr_nonnull(e.plan.vmsas);
	bsp = e.plan.vmsas;
	/* The boot vCPU starts at the plan's entry in long mode, on the plan's page tables. */
	ck_assert_uint_eq(u64_at(bsp, OFF_RIP), e.plan.entry.rip);
	ck_assert_uint_eq(u64_at(bsp, OFF_CR3), e.plan.entry.cr3);
	ck_assert_uint_eq(u64_at(bsp, OFF_EFER), 0x1500);          /* LME | LMA | SVME */
	ck_assert_uint_eq(u16_at(bsp, OFF_CS_ATTRIB), 0xa9b);      /* present 64-bit code, G */
	ck_assert_uint_eq(u64_at(bsp, OFF_SEV_FEATURES), SEV_FEAT_DEBUG_SWAP);
	ck_assert_uint_eq(u64_at(bsp, OFF_RDX), 0);
	/* Each AP: the reset state, as sev-snp-measure builds QEMU's. */
	vmsa_build(&ap, want_ap);
	for (i = 1; i < 3; i++)
		ck_assert_msg(!memcmp(e.plan.vmsas + i * VMSA_SIZE, want_ap, VMSA_SIZE), "AP %u's VMSA", i);
	es_plan_free(&e);

	es_plan_build(&e, 2, false, 0, 0);
	ck_assert_ptr_null(e.plan.vmsas);
	es_plan_free(&e);
}
END_TEST

struct collect {
	uint8_t *buf;
	size_t len;
};

static void collect_region(void *ctx, const struct plan_region *r, uint64_t gpa, uint64_t len)
{
	struct collect *c = ctx;

	c->buf = realloc(c->buf, c->len + len);
	ck_assert_ptr_nonnull(c->buf);
	memset(c->buf + c->len, 0, len);
	memcpy(c->buf + c->len + (r->gpa - gpa), r->data, r->data_len);
	c->len += len;
}

/* The ES digest is SHA-256 over the measured regions, then one VMSA per vCPU, in LAUNCH_UPDATE order. */
START_TEST(es_digest_is_the_regions_then_the_vmsas)
{
	struct cloak_err err = { "" };
	uint8_t got[32], want[32], sev[32], other[32];
	struct collect c = { NULL, 0 };
	struct es_plan e;

	es_plan_build(&e, 2, true, 0, 0x800f12);
	sev_plan_measured(&e.plan, collect_region, &c);
	c.buf = realloc(c.buf, c.len + 2 * VMSA_SIZE);
	memcpy(c.buf + c.len, e.plan.vmsas, 2 * VMSA_SIZE);
	ck_assert_int_eq(sev_sha256(c.buf, c.len + 2 * VMSA_SIZE, want), 0);
	ck_assert_msg(sev_plan_digest(&e.plan, got, NULL, &err) == 0, "%s", err.msg);
	ck_assert_int_eq(memcmp(got, want, 32), 0);
	ck_assert_int_eq(sev_sha256(c.buf, c.len, sev), 0);
	ck_assert_int_ne(memcmp(got, sev, 32), 0);
	free(c.buf);
	es_plan_free(&e);
	/* What the host chose for the VMSAs is in the digest: another signature, another digest. */
	es_plan_build(&e, 2, true, 0, 0x800f11);
	ck_assert_int_eq(sev_plan_digest(&e.plan, other, NULL, &err), 0);
	ck_assert_int_ne(memcmp(got, other, 32), 0);
	es_plan_free(&e);
}
END_TEST

START_TEST(owner_command_names_everything_the_digest_depends_on)
{
	char *argv[] = { "run", "--sev", "--sev-mode", "es", "--cmdline", "a b'c", NULL };
	struct es_plan e;
	char *cmd;

	es_plan_build(&e, 2, true, SEV_FEAT_DEBUG_SWAP, 0xa00f11);
	cmd = sev_owner_command(&e.plan, true, 6, argv);
	ck_assert_ptr_nonnull(cmd);
	ck_assert_str_eq(cmd, "cloak-owner measure --mode seves --cpu-generation sim --vcpu-sig 0xa00f11 "
			      "--guest-features 0x20 --kvm-sev-init init2 --vcpus 2 --cloak-plan --sev --sev-mode es "
			      "--cmdline 'a b'\\''c'");
	free(cmd);
	cmd = sev_owner_command(&e.plan, false, 1, argv);
	ck_assert_ptr_nonnull(strstr(cmd, "--cbit 39 "));
	free(cmd);
	es_plan_free(&e);
	es_plan_build(&e, 1, false, 0, 0);
	ck_assert_ptr_null(sev_owner_command(&e.plan, true, 1, argv));
	es_plan_free(&e);
}
END_TEST

/* --sev-mode es picks the SEV-ES kind, which tells the plan what the (simulated) host chose for the VMSAs. */
START_TEST(es_mode_opens_the_es_kind_and_fills_the_vmsa_inputs)
{
	struct cloak_err err = { "" };
	struct plan_inputs in;
	struct vm_config cfg;
	struct cvm c;
	int cbit = -1;

	config_defaults(&cfg);
	cfg.sev = true;
	cfg.sev_backend = SEV_BACKEND_SIM;
	cfg.sev_mode = SEV_LAUNCH_ES;
	memset(&in, 0, sizeof(in));
	unsetenv("CLOAK_SEV_SIM_VM_TYPES");
	ck_assert_msg(cvm_open(&c, &cfg, &cbit, &err) == 0, "%s", err.msg);
	ck_assert_ptr_eq(c.ops, &cvm_sev_es_ops);
	ck_assert_int_eq(cbit, PSP_SIM_CBIT);
	cvm_plan_inputs(&c, &in);
	ck_assert(in.vmsa.on);
	ck_assert(!in.vmsa.fpu_synced);          /* a 6.1 KVM: KVM_SEV_ES_INIT */
	ck_assert_uint_eq(in.vmsa.features, 0);
	ck_assert_uint_ne(in.vmsa.vcpu_sig, 0);   /* this host's CPUID 1 EAX */
	cvm_close(&c);

	setenv("CLOAK_SEV_SIM_VM_TYPES", "1", 1);
	ck_assert_msg(cvm_open(&c, &cfg, &cbit, &err) == 0, "%s", err.msg);
	cvm_plan_inputs(&c, &in);
	unsetenv("CLOAK_SEV_SIM_VM_TYPES");
	ck_assert(in.vmsa.fpu_synced);           /* a 6.10+ KVM: KVM_SEV_INIT2 */
	ck_assert_uint_eq(in.vmsa.features, SEV_FEAT_DEBUG_SWAP);
	cvm_close(&c);

	cfg.sev_mode = SEV_LAUNCH_SEV;
	memset(&in, 0, sizeof(in));
	ck_assert_msg(cvm_open(&c, &cfg, &cbit, &err) == 0, "%s", err.msg);
	ck_assert_ptr_eq(c.ops, &cvm_sev_ops);
	cvm_plan_inputs(&c, &in);
	ck_assert(!in.vmsa.on);
	cvm_close(&c);
}
END_TEST

/* The x87/SSE state goes to KVM and back through the XSAVE legacy area, MXCSR included, with x87 and SSE marked present. */
START_TEST(fpu_state_round_trips_through_xsave)
{
	static struct kvm_xsave x;
	struct kvm_fpu in, out;
	uint64_t bv;

	memset(&x, 0, sizeof(x));
	vmsa_reset_fpu(&in);
	in.fsw = 0x1234;
	in.ftwx = 0x81;
	in.last_ip = 0x1122334455ull;
	in.fpr[3][9] = 0x77;
	in.xmm[15][15] = 0x99;
	vmsa_fpu_to_xsave(&in, &x);
	ck_assert_uint_eq(((uint32_t *)x.region)[6], 0x1f80);  /* MXCSR at byte 24 */
	memcpy(&bv, (uint8_t *)x.region + 512, 8);
	ck_assert_uint_eq(bv & 3, 3);
	vmsa_fpu_from_xsave(&x, &out);
	ck_assert_int_eq(memcmp(&in, &out, sizeof(in)), 0);
}
END_TEST

/* After LAUNCH_UPDATE_VMSA nothing asks KVM for a register: the door refuses before the ioctl. */
START_TEST(sealed_registers_never_reach_kvm)
{
	struct cvm c = { 0 };
	struct kvm_regs regs;

	errno = 0;
	ck_assert_int_eq(cvm_vcpu_regs(&c, -1, KVM_GET_REGS, &regs), -1);
	ck_assert_int_eq(errno, EBADF);  /* unsealed: the ioctl was made (on no fd) */
	cvm_seal_regs(&c);
	errno = 0;
	ck_assert_int_eq(cvm_vcpu_regs(&c, -1, KVM_GET_REGS, &regs), -1);
	ck_assert_int_eq(errno, EPERM);
	ck_assert_int_eq(cvm_vcpu_regs(&c, -1, KVM_SET_SREGS, &regs), -1);
	ck_assert_int_eq(errno, EPERM);
}
END_TEST

Suite *vmsa_suite(void)
{
	Suite *s = suite_create("vmsa");
	TCase *t = tcase_create("vmsa");

	tcase_add_test(t, kvm_copy_of_the_reset_state_is_sev_snp_measures_vmsa);
	tcase_add_test(t, plan_carries_one_vmsa_per_vcpu);
	tcase_add_test(t, es_digest_is_the_regions_then_the_vmsas);
	tcase_add_test(t, owner_command_names_everything_the_digest_depends_on);
	tcase_add_test(t, sealed_registers_never_reach_kvm);
	tcase_add_test(t, fpu_state_round_trips_through_xsave);
	tcase_add_test(t, es_mode_opens_the_es_kind_and_fills_the_vmsa_inputs);
	suite_add_tcase(s, t);
	return s;
}
