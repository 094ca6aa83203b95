/* test_ghcb.c: the guest runtime's GHCB encodings and #VC instruction decoder, run on the host against the GHCB specification's values. */
#include "firmware/runtime/ghcb.h"
#include "unit.h"

#include <string.h>

/*
 * The expected values are written out from the GHCB specification (version
 * 2) and SVM's IOIO intercept format, not computed by the code under test.
 */

START_TEST(sev_info_request_and_response)
{
	unsigned min = 99, max = 99, cbit = 99;

	ck_assert_uint_eq(ghcb_msr_sev_info_req(), 0x002);
	/* max 2, min 1, C-bit 51, code 0x001 */
	ck_assert(ghcb_msr_sev_info_parse(0x0002000133000001ull, &min, &max, &cbit));
	ck_assert_uint_eq(max, 2);
	ck_assert_uint_eq(min, 1);
	ck_assert_uint_eq(cbit, 51);
	ck_assert(ghcb_msr_sev_info_parse(0x0005000327000001ull, &min, &max, &cbit));
	ck_assert_uint_eq(max, 5);
	ck_assert_uint_eq(min, 3);
	ck_assert_uint_eq(cbit, 39);
	/* Anything but response code 0x001 is not an SEV_INFO response. */
	ck_assert(!ghcb_msr_sev_info_parse(0x0002000133000002ull, &min, &max, &cbit));
	ck_assert(!ghcb_msr_sev_info_parse(0x0002000133000005ull, &min, &max, &cbit));
	ck_assert(!ghcb_msr_sev_info_parse(0, &min, &max, &cbit));
}
END_TEST

START_TEST(version_is_picked_within_both_ranges)
{
	ck_assert_uint_eq(ghcb_pick_version(1, 2), 2);
	ck_assert_uint_eq(ghcb_pick_version(1, 1), 1);
	ck_assert_uint_eq(ghcb_pick_version(2, 2), 2);
	ck_assert_uint_eq(ghcb_pick_version(1, 7), 2);
	ck_assert_uint_eq(ghcb_pick_version(2, 7), 2);
	ck_assert_uint_eq(ghcb_pick_version(3, 7), 0);  /* the host speaks only newer versions */
	ck_assert_uint_eq(ghcb_pick_version(0, 0), 0);  /* ... or none */
	ck_assert_uint_eq(ghcb_pick_version(2, 1), 0);  /* an empty range */
}
END_TEST

START_TEST(cpuid_request_and_response)
{
	uint32_t v = 0;

	ck_assert_uint_eq(ghcb_msr_cpuid_req(0x8000001f, GHCB_CPUID_EAX), 0x8000001f00000004ull);
	ck_assert_uint_eq(ghcb_msr_cpuid_req(0x8000001f, GHCB_CPUID_EBX), 0x8000001f40000004ull);
	ck_assert_uint_eq(ghcb_msr_cpuid_req(0x8000001f, GHCB_CPUID_ECX), 0x8000001f80000004ull);
	ck_assert_uint_eq(ghcb_msr_cpuid_req(0x8000001f, GHCB_CPUID_EDX), 0x8000001fc0000004ull);
	ck_assert_uint_eq(ghcb_msr_cpuid_req(1, GHCB_CPUID_ECX), 0x0000000180000004ull);
	ck_assert(ghcb_msr_cpuid_parse(0x0000ef7300000005ull, &v));
	ck_assert_uint_eq(v, 0xef73);
	ck_assert(ghcb_msr_cpuid_parse(0xffffffff00000005ull, &v));
	ck_assert_uint_eq(v, 0xffffffffu);
	ck_assert(!ghcb_msr_cpuid_parse(0x0000ef7300000004ull, &v));  /* our own request echoed */
	ck_assert(!ghcb_msr_cpuid_parse(0x0000ef7300000105ull, &v));
}
END_TEST

START_TEST(ghcb_gpa_registration)
{
	ck_assert_uint_eq(ghcb_msr_reg_gpa_req(0x105), 0x105012ull);
	ck_assert_uint_eq(ghcb_msr_reg_gpa_req(0xfffffffffull), 0xfffffffff012ull);
	ck_assert(ghcb_msr_reg_gpa_ok(0x105013ull, 0x105));
	ck_assert(!ghcb_msr_reg_gpa_ok(0x106013ull, 0x105));             /* another page registered */
	ck_assert(!ghcb_msr_reg_gpa_ok(0xfffffffffffff013ull, 0x105));   /* the host's refusal: all ones */
	ck_assert(!ghcb_msr_reg_gpa_ok(0x105012ull, 0x105));             /* not a response */
}
END_TEST

START_TEST(page_state_change)
{
	ck_assert_uint_eq(ghcb_msr_psc_req(0x12345, GHCB_PSC_SHARED), 0x0020000012345014ull);
	ck_assert_uint_eq(ghcb_msr_psc_req(0x12345, GHCB_PSC_PRIVATE), 0x0010000012345014ull);
	/* The frame number has 40 bits: a wider one cannot spill into the operation. */
	ck_assert_uint_eq(ghcb_msr_psc_req(0x1ffffffffffull, GHCB_PSC_SHARED), 0x002ffffffffff014ull);
	ck_assert(ghcb_msr_psc_ok(0x015));
	ck_assert(!ghcb_msr_psc_ok(0x0000000100000015ull));  /* an error code in [63:32] */
	ck_assert(!ghcb_msr_psc_ok(0x014));
}
END_TEST

START_TEST(termination_request)
{
	ck_assert_uint_eq(ghcb_msr_term_req(GHCB_TERM_SET_GENERAL, GHCB_TERM_GENERAL), 0x100);
	ck_assert_uint_eq(ghcb_msr_term_req(GHCB_TERM_SET_GENERAL, GHCB_TERM_PROTOCOL_UNSUPPORTED), 0x10100);
	ck_assert_uint_eq(ghcb_msr_term_req(GHCB_TERM_SET_GENERAL, GHCB_TERM_SNP_UNSUPPORTED), 0x20100);
	ck_assert_uint_eq(ghcb_msr_term_req(1, 3), 0x31100);
}
END_TEST

START_TEST(ghcb_fields_and_valid_bitmap)
{
	static uint8_t g[GHCB_SIZE];
	unsigned i;

	memset(g, 0xa5, sizeof(g));
	ghcb_begin(g, 2);
	for (i = 0; i < 0x400; i++)
		ck_assert_msg(g[i] == 0, "byte 0x%x of the save area or bitmap not cleared", i);
	ck_assert_uint_eq(g[0xffa], 2);
	ck_assert_uint_eq(g[0xffb], 0);
	ck_assert_uint_eq(g[0xffc] | g[0xffd] | g[0xffe] | g[0xfff], 0);  /* usage 0 */
	ck_assert_uint_eq(g[0x800], 0xa5);  /* the shared buffer is the request's own to fill */

	ghcb_set(g, GHCB_OFF_RAX, 0x1122334455667788ull);
	/* RAX at 0x1f8, little-endian; its bit is 0x1f8 / 8 = 63: bitmap byte 7, bit 7. */
	ck_assert_uint_eq(g[0x1f8], 0x88);
	ck_assert_uint_eq(g[0x1ff], 0x11);
	ck_assert_uint_eq(g[0x3f0 + 7], 0x80);
	ck_assert(ghcb_is_valid(g, GHCB_OFF_RAX));
	ck_assert(!ghcb_is_valid(g, GHCB_OFF_RCX));

	ghcb_set(g, GHCB_OFF_SW_EXIT_CODE, SVM_EXIT_IOIO);     /* 0x390: bit 114, byte 14 bit 2 */
	ghcb_set(g, GHCB_OFF_SW_EXIT_INFO_1, 1);               /* 0x398: bit 115, byte 14 bit 3 */
	ghcb_set(g, GHCB_OFF_SW_EXIT_INFO_2, 2);               /* 0x3a0: bit 116, byte 14 bit 4 */
	ghcb_set(g, GHCB_OFF_SW_SCRATCH, 0x123800);            /* 0x3a8: bit 117, byte 14 bit 5 */
	ck_assert_uint_eq(g[0x3f0 + 14], 0x3c);
	ck_assert_uint_eq(g[0x390], 0x7b);
	ghcb_set(g, GHCB_OFF_RCX, 1);                          /* 0x308: bit 97, byte 12 bit 1 */
	ghcb_set(g, GHCB_OFF_RDX, 1);                          /* 0x310: bit 98, byte 12 bit 2 */
	ghcb_set(g, GHCB_OFF_RBX, 1);                          /* 0x318: bit 99, byte 12 bit 3 */
	ck_assert_uint_eq(g[0x3f0 + 12], 0x0e);
	ghcb_set_cpl(g, 0);                                    /* 0xcb: bit 25, byte 3 bit 1 */
	ck_assert_uint_eq(g[0x3f0 + 3], 0x02);
	ck_assert(ghcb_is_valid(g, GHCB_OFF_CPL));
	ck_assert_uint_eq(ghcb_get(g, GHCB_OFF_SW_SCRATCH), 0x123800);

	/* The host's verdict: sw_exit_info_1[31:0]. */
	ghcb_set(g, GHCB_OFF_SW_EXIT_INFO_1, 0xffffffff00000000ull);
	ck_assert_uint_eq(ghcb_result(g), 0);
	ghcb_set(g, GHCB_OFF_SW_EXIT_INFO_1, 1);
	ck_assert_uint_eq(ghcb_result(g), 1);

	/* The next request starts with nothing valid. */
	ghcb_begin(g, 1);
	ck_assert(!ghcb_is_valid(g, GHCB_OFF_RAX));
	ck_assert(!ghcb_is_valid(g, GHCB_OFF_SW_EXIT_CODE));
	ck_assert_uint_eq(g[0xffa], 1);
}
END_TEST

START_TEST(ioio_exit_info)
{
	/* port << 16 | size (bit 4, 5, 6) | 64-bit address (bit 9) | IN (bit 0) */
	ck_assert_uint_eq(ghcb_ioio_exitinfo(0x3f8, 1, false), 0x03f80210ull);
	ck_assert_uint_eq(ghcb_ioio_exitinfo(0x3fd, 1, true), 0x03fd0211ull);
	ck_assert_uint_eq(ghcb_ioio_exitinfo(0xf4, 4, false), 0x00f40240ull);
	ck_assert_uint_eq(ghcb_ioio_exitinfo(0xcfc, 4, true), 0x0cfc0241ull);
	ck_assert_uint_eq(ghcb_ioio_exitinfo(0xcfe, 2, false), 0x0cfe0220ull);
	ck_assert_uint_eq(ghcb_ioio_exitinfo(0xffff, 2, true), 0xffff0221ull);
}
END_TEST

static struct vc_insn decode_ok(const uint8_t *b, unsigned n)
{
	struct vc_insn in;
	const char *why = NULL;

	ck_assert_msg(vc_decode(b, n, &in, &why), "refused %02x %02x %02x: %s", b[0], n > 1 ? b[1] : 0,
		      n > 2 ? b[2] : 0, why);
	ck_assert_uint_eq(in.len, n);
	return in;
}

#define DECODE(...) decode_ok((const uint8_t[]){ __VA_ARGS__ }, sizeof((const uint8_t[]){ __VA_ARGS__ }))

START_TEST(decode_port_io)
{
	struct vc_insn in;

	in = DECODE(0xee);  /* out %al,(%dx): serial_putc */
	ck_assert(in.kind == VC_OUT && in.size == 1 && in.port_in_dx);
	in = DECODE(0xef);  /* out %eax,(%dx) */
	ck_assert(in.kind == VC_OUT && in.size == 4 && in.port_in_dx);
	in = DECODE(0x66, 0xef);  /* out %ax,(%dx): pci's outw */
	ck_assert(in.kind == VC_OUT && in.size == 2 && in.port_in_dx);
	in = DECODE(0xec);  /* in (%dx),%al */
	ck_assert(in.kind == VC_IN && in.size == 1 && in.port_in_dx);
	in = DECODE(0xed);  /* in (%dx),%eax: pci's inl */
	ck_assert(in.kind == VC_IN && in.size == 4);
	in = DECODE(0x66, 0xed);
	ck_assert(in.kind == VC_IN && in.size == 2);
	in = DECODE(0xe6, 0x7e);  /* out %al,$0x7e: the boot timer */
	ck_assert(in.kind == VC_OUT && in.size == 1 && !in.port_in_dx && in.port == 0x7e);
	in = DECODE(0xe7, 0xf4);  /* out %eax,$0xf4: guest_exit */
	ck_assert(in.kind == VC_OUT && in.size == 4 && in.port == 0xf4);
	in = DECODE(0xe4, 0x7f);  /* in $0x7f,%al: the power button */
	ck_assert(in.kind == VC_IN && in.size == 1 && in.port == 0x7f);
	in = DECODE(0x66, 0xe5, 0x10);
	ck_assert(in.kind == VC_IN && in.size == 2 && in.port == 0x10);
}
END_TEST

START_TEST(decode_mmio_forms)
{
	struct vc_regs r = { { 0 } };
	struct vc_insn in;

	r.r[0] = 0xfee00000;   /* rax */
	r.r[1] = 3;            /* rcx */
	r.r[3] = 0xfe000000;   /* rbx */
	r.r[12] = 0xfe001000;  /* r12 */

	in = DECODE(0xc7, 0x00, 0x00, 0x00, 0x00, 0x00);  /* movl $0,(%rax): the EOI */
	ck_assert(in.kind == VC_MMIO_WRITE && in.size == 4 && in.has_imm && in.imm == 0);
	ck_assert_uint_eq(vc_effective_addr(&in, &r, 0x100000), 0xfee00000);
	in = DECODE(0xc7, 0x80, 0xb0, 0x00, 0x00, 0x00, 0xff, 0x01, 0x00, 0x00);  /* movl $0x1ff,0xb0(%rax) */
	ck_assert(in.kind == VC_MMIO_WRITE && in.size == 4 && in.imm == 0x1ff);
	ck_assert_uint_eq(vc_effective_addr(&in, &r, 0), 0xfee000b0);
	in = DECODE(0x66, 0xc7, 0x00, 0x34, 0x12);  /* movw $0x1234,(%rax) */
	ck_assert(in.size == 2 && in.imm == 0x1234);
	in = DECODE(0x48, 0xc7, 0x00, 0xff, 0xff, 0xff, 0xff);  /* movq $-1,(%rax): imm32 sign-extended */
	ck_assert(in.size == 8 && in.imm == UINT64_MAX);
	in = DECODE(0xc6, 0x40, 0x14, 0xab);  /* movb $0xab,0x14(%rax) */
	ck_assert(in.size == 1 && in.imm == 0xab && in.disp == 0x14);

	in = DECODE(0x89, 0x10);  /* mov %edx,(%rax) */
	ck_assert(in.kind == VC_MMIO_WRITE && in.size == 4 && in.reg == 2 && !in.has_imm);
	in = DECODE(0x66, 0x89, 0x10);  /* mov %dx,(%rax): a virtqueue notify */
	ck_assert(in.size == 2 && in.reg == 2);
	in = DECODE(0x88, 0x50, 0x14);  /* mov %dl,0x14(%rax): the device status */
	ck_assert(in.size == 1 && in.reg == 2 && !in.high_byte);
	ck_assert_uint_eq(vc_effective_addr(&in, &r, 0), 0xfee00014);
	in = DECODE(0x41, 0x89, 0x04, 0x24);  /* mov %eax,(%r12): SIB, base r12, no index */
	ck_assert(in.reg == 0 && in.has_base && in.base == 12 && !in.has_index);
	ck_assert_uint_eq(vc_effective_addr(&in, &r, 0), 0xfe001000);
	in = DECODE(0x48, 0x89, 0x44, 0x8b, 0xf8);  /* mov %rax,-0x8(%rbx,%rcx,4) */
	ck_assert(in.size == 8 && in.has_index && in.index == 1 && in.scale == 4 && in.base == 3);
	ck_assert_uint_eq(vc_effective_addr(&in, &r, 0), 0xfe000000 + 12 - 8);

	in = DECODE(0x48, 0x8b, 0x00);  /* mov (%rax),%rax: the disk's capacity */
	ck_assert(in.kind == VC_MMIO_READ && in.size == 8 && in.reg == 0);
	in = DECODE(0x44, 0x8b, 0x48, 0x04);  /* mov 0x4(%rax),%r9d */
	ck_assert(in.size == 4 && in.reg == 9 && in.disp == 4);
	in = DECODE(0x0f, 0xb7, 0x40, 0x12);  /* movzwl 0x12(%rax),%eax */
	ck_assert(in.kind == VC_MMIO_READ && in.size == 2 && in.zero_extend && in.dst_size == 4);
	in = DECODE(0x0f, 0xb6, 0x40, 0x14);  /* movzbl 0x14(%rax),%eax */
	ck_assert(in.size == 1 && in.zero_extend && in.dst_size == 4 && !in.high_byte);
	in = DECODE(0x8a, 0x60, 0x01);  /* mov 0x1(%rax),%ah */
	ck_assert(in.size == 1 && in.high_byte && in.reg == 0);
	in = DECODE(0x40, 0x8a, 0x70, 0x01);  /* mov 0x1(%rax),%sil: with REX, 6 is SIL */
	ck_assert(in.size == 1 && !in.high_byte && in.reg == 6);
	in = DECODE(0x8b, 0x05, 0x10, 0x00, 0x00, 0x00);  /* mov 0x10(%rip),%eax */
	ck_assert(in.rip_relative);
	ck_assert_uint_eq(vc_effective_addr(&in, &r, 0x101000), 0x101000 + 6 + 0x10);
	in = DECODE(0x8b, 0x04, 0x25, 0xb0, 0x00, 0xe0, 0xfe);  /* mov 0xfee000b0,%eax: disp32, sign-extended as the CPU does */
	ck_assert(!in.has_base && !in.has_index);
	ck_assert_uint_eq(vc_effective_addr(&in, &r, 0), 0xfffffffffee000b0ull);
	in = DECODE(0x8b, 0x45, 0x08);  /* mov 0x8(%rbp),%eax: rm 101 with mod 01 is RBP, not RIP */
	ck_assert(!in.rip_relative && in.has_base && in.base == 5);
}
END_TEST

static void refused(const uint8_t *b, unsigned n, const char *reason)
{
	struct vc_insn in;
	const char *why = NULL;

	ck_assert_msg(!vc_decode(b, n, &in, &why), "accepted %02x %02x", b[0], n > 1 ? b[1] : 0);
	ck_assert_msg_has(why, reason);
}

#define REFUSED(reason, ...) refused((const uint8_t[]){ __VA_ARGS__ }, sizeof((const uint8_t[]){ __VA_ARGS__ }), reason)

START_TEST(decode_refuses_the_rest)
{
	REFUSED("never use", 0xf3, 0xa4);                 /* rep movsb */
	REFUSED("never use", 0x6c);                       /* insb */
	REFUSED("never use", 0xff, 0x00);                 /* incl (%rax) */
	REFUSED("never use", 0xf0, 0x01, 0x00);           /* lock add */
	REFUSED("other than MOVZX", 0x0f, 0xa2);          /* cpuid: not an I/O or MMIO form */
	REFUSED("REX", 0x40, 0xee);                       /* even an empty REX */
	REFUSED("register operand", 0x89, 0xc0);          /* mov %eax,%eax */
	REFUSED("reg field", 0xc7, 0x08, 0, 0, 0, 0);     /* C7 /1 */
	REFUSED("REX", 0x48, 0xef);
	REFUSED("MOVZX", 0x0f, 0xbe, 0x00);               /* movsbl */
	REFUSED("cut short", 0x8b, 0x80, 0x00, 0x00);     /* disp32 missing a byte */
	REFUSED("cut short", 0xe6);
	REFUSED("cut short", 0xc7, 0x00, 0x01);
	REFUSED("cut short", 0x66);
}
END_TEST

START_TEST(register_writes_follow_the_cpu)
{
	struct vc_regs r;

	memset(&r, 0x11, sizeof(r));
	vc_write_reg(&r, 0, false, 1, 0xab);
	ck_assert_uint_eq(r.r[0], 0x11111111111111abull);
	vc_write_reg(&r, 0, true, 1, 0xcd);
	ck_assert_uint_eq(r.r[0], 0x111111111111cdabull);
	vc_write_reg(&r, 2, false, 2, 0x12345);
	ck_assert_uint_eq(r.r[2], 0x1111111111112345ull);
	vc_write_reg(&r, 9, false, 4, 0xdeadbeefcafeull);
	ck_assert_uint_eq(r.r[9], 0xbeefcafeull);  /* a 32-bit write zero-extends */
	vc_write_reg(&r, 15, false, 8, 0x0123456789abcdefull);
	ck_assert_uint_eq(r.r[15], 0x0123456789abcdefull);
	ck_assert_uint_eq(vc_read_reg(&r, 0, true, 1), 0xcd);
	ck_assert_uint_eq(vc_read_reg(&r, 0, false, 1), 0xab);
	ck_assert_uint_eq(vc_read_reg(&r, 15, false, 2), 0xcdef);
	ck_assert_uint_eq(vc_read_reg(&r, 15, false, 4), 0x89abcdefull);
}
END_TEST

Suite *ghcb_suite(void)
{
	Suite *s = suite_create("ghcb");
	TCase *t = tcase_create("protocol");

	tcase_add_test(t, sev_info_request_and_response);
	tcase_add_test(t, version_is_picked_within_both_ranges);
	tcase_add_test(t, cpuid_request_and_response);
	tcase_add_test(t, ghcb_gpa_registration);
	tcase_add_test(t, page_state_change);
	tcase_add_test(t, termination_request);
	tcase_add_test(t, ghcb_fields_and_valid_bitmap);
	tcase_add_test(t, ioio_exit_info);
	tcase_add_test(t, decode_port_io);
	tcase_add_test(t, decode_mmio_forms);
	tcase_add_test(t, decode_refuses_the_rest);
	tcase_add_test(t, register_writes_follow_the_cpu);
	suite_add_tcase(s, t);
	return s;
}
