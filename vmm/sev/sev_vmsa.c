/* sev_vmsa.c: the SEV-ES VMSA: its layout, the reset state sev-snp-measure models, and KVM's copy of a vCPU into it. */
#include "sev/vmsa.h"

#include <stddef.h>
#include <string.h>

struct vmsa_seg {
	uint16_t selector;
	uint16_t attrib;
	uint32_t limit;
	uint64_t base;
} __attribute__((packed));

/* The fields a reset VMSA sets, at the offsets of the SEV-ES save area; the rest stays zero. */
struct vmsa_page {
	struct vmsa_seg es, cs, ss, ds, fs, gs, gdtr, ldtr, idtr, tr;   /* 0x000 */
	uint8_t ssp_cet[0x28];                                           /* 0x0a0: vmpl0-3 SSP, U_CET */
	uint8_t reserved_0xc8[2];
	uint8_t vmpl, cpl;
	uint8_t reserved_0xcc[4];
	uint64_t efer;                                                   /* 0x0d0 */
	uint8_t reserved_0xd8[104];
	uint64_t xss, cr4, cr3, cr0, dr7, dr6, rflags, rip;              /* 0x140 */
	uint8_t dr0_3_and_masks[0x40];                                   /* 0x180 */
	uint8_t reserved_0x1c0[24];
	uint64_t rsp, s_cet, ssp, isst_addr, rax, star, lstar, cstar, sfmask, kernel_gs_base;  /* 0x1d8 */
	uint64_t sysenter_cs, sysenter_esp, sysenter_eip, cr2;           /* 0x228 */
	uint8_t reserved_0x248[32];
	uint64_t g_pat;                                                  /* 0x268 */
	uint8_t dbgctl_and_lbr[0x30];                                    /* 0x270 */
	uint8_t reserved_0x2a0[0x48];
	uint32_t pkru, tsc_aux;                                          /* 0x2e8 */
	uint8_t reserved_0x2f0[24];
	uint64_t rcx, rdx, rbx;                                          /* 0x308 */
	uint8_t gprs_0x320[0x60];                                        /* 0x320: reserved, rbp ... r15 */
	uint8_t reserved_0x380[16];
	uint64_t exit_info_and_nrip[4];                                  /* 0x390 */
	uint64_t sev_features;                                           /* 0x3b0 */
	uint64_t vintr_ctrl, guest_exit_code, virtual_tom, tlb_id, pcpu_id, event_inj;  /* 0x3b8 */
	uint64_t xcr0;                                                   /* 0x3e8 */
	uint8_t reserved_0x3f0[16];
	uint64_t x87_dp;                                                 /* 0x400 */
	uint32_t mxcsr;                                                  /* 0x408 */
	uint16_t x87_ftw, x87_fsw, x87_fcw, x87_fop, x87_ds, x87_cs;     /* 0x40c */
	uint64_t x87_rip;                                                /* 0x418 */
	uint8_t fpreg_x87[80];                                           /* 0x420 */
	uint8_t fpreg_xmm[256];                                          /* 0x470 */
	uint8_t fpreg_ymm[256];                                          /* 0x570 */
	uint8_t rest[VMSA_SIZE - 0x670];
} __attribute__((packed));

_Static_assert(sizeof(struct vmsa_page) == VMSA_SIZE, "a VMSA is one page");
_Static_assert(offsetof(struct vmsa_page, tr) == 0x90, "tr");
_Static_assert(offsetof(struct vmsa_page, vmpl) == 0xca, "vmpl");
_Static_assert(offsetof(struct vmsa_page, efer) == 0xd0, "efer");
_Static_assert(offsetof(struct vmsa_page, xss) == 0x140, "xss");
_Static_assert(offsetof(struct vmsa_page, rip) == 0x178, "rip");
_Static_assert(offsetof(struct vmsa_page, rsp) == 0x1d8, "rsp");
_Static_assert(offsetof(struct vmsa_page, cr2) == 0x240, "cr2");
_Static_assert(offsetof(struct vmsa_page, g_pat) == 0x268, "g_pat");
_Static_assert(offsetof(struct vmsa_page, pkru) == 0x2e8, "pkru");
_Static_assert(offsetof(struct vmsa_page, rcx) == 0x308, "rcx");
_Static_assert(offsetof(struct vmsa_page, rdx) == 0x310, "rdx");
_Static_assert(offsetof(struct vmsa_page, sev_features) == 0x3b0, "sev_features");
_Static_assert(offsetof(struct vmsa_page, xcr0) == 0x3e8, "xcr0");
_Static_assert(offsetof(struct vmsa_page, x87_dp) == 0x400, "x87_dp");
_Static_assert(offsetof(struct vmsa_page, mxcsr) == 0x408, "mxcsr");
_Static_assert(offsetof(struct vmsa_page, x87_fcw) == 0x410, "x87_fcw");
_Static_assert(offsetof(struct vmsa_page, x87_rip) == 0x418, "x87_rip");
_Static_assert(offsetof(struct vmsa_page, fpreg_x87) == 0x420, "fpreg_x87");
_Static_assert(offsetof(struct vmsa_page, fpreg_xmm) == 0x470, "fpreg_xmm");
_Static_assert(offsetof(struct vmsa_page, fpreg_ymm) == 0x570, "fpreg_ymm");

static struct vmsa_seg seg(uint16_t selector, uint16_t attrib, uint64_t base)
{
	return (struct vmsa_seg){ .selector = selector, .attrib = attrib, .limit = 0xffff, .base = base };
}

int vmm_type_parse(const char *s)
{
	if (!strcmp(s, "QEMU"))
		return VMM_QEMU;
	if (!strcmp(s, "ec2"))
		return VMM_EC2;
	if (!strcmp(s, "gce"))
		return VMM_GCE;
	return -1;
}

const char *vmm_type_name(enum vmm_type t)
{
	return t == VMM_EC2 ? "ec2" : t == VMM_GCE ? "gce" : "QEMU";
}

void vmsa_build(const struct vmsa_params *p, uint8_t page[VMSA_SIZE])
{
	/*
	 * The reset state differs by hypervisor: EC2 marks the reset CS as not
	 * yet accessed, uses other SS/TR types and leaves the FPU control words
	 * zero; GCE keeps QEMU's segments but its own PAT and zero FPU words. EC2
	 * and GCE put 0x600 in RDX whatever CPU the guest sees.
	 */
	uint16_t cs_attr = 0x9b, ss_attr = 0x93, tr_attr = 0x8b, fcw = 0x37f;
	uint64_t g_pat = 0x0007040600070406ull, rdx = p->vcpu_sig;
	uint32_t mxcsr = 0x1f80;
	struct vmsa_page v;

	if (p->vmm == VMM_EC2) {
		cs_attr = p->eip == 0xfffffff0u ? 0x9a : 0x9b;
		ss_attr = 0x92;
		tr_attr = 0x83;
		rdx = 0x600;
		mxcsr = 0;
		fcw = 0;
	} else if (p->vmm == VMM_GCE) {
		g_pat = 0x00070106;
		rdx = 0x600;
		mxcsr = 0;
		fcw = 0;
	}
	memset(&v, 0, sizeof(v));
	v.es = seg(0, 0x93, 0);
	v.cs = seg(0xf000, cs_attr, p->eip & 0xffff0000u);
	v.ss = seg(0, ss_attr, 0);
	v.ds = seg(0, 0x93, 0);
	v.fs = seg(0, 0x93, 0);
	v.gs = seg(0, 0x93, 0);
	v.gdtr = seg(0, 0, 0);
	v.idtr = seg(0, 0, 0);
	v.ldtr = seg(0, 0x82, 0);
	v.tr = seg(0, tr_attr, 0);
	v.efer = 0x1000;        /* EFER.SVME: KVM sets it for every SEV-ES vCPU */
	v.cr4 = 0x40;           /* CR4.MCE, as KVM resets it */
	v.cr0 = 0x10;           /* CR0.ET */
	v.dr7 = 0x400;
	v.dr6 = 0xffff0ff0;
	v.rflags = 0x2;
	v.rip = p->eip & 0xffff;
	v.g_pat = g_pat;
	v.rdx = rdx;
	v.sev_features = p->sev_features;
	v.xcr0 = 0x1;
	v.mxcsr = mxcsr;
	v.x87_fcw = fcw;
	memcpy(page, &v, VMSA_SIZE);
}

uint32_t cpu_sig(unsigned family, unsigned model, unsigned stepping)
{
	unsigned fam_lo = family > 0xf ? 0xf : family, fam_hi = family > 0xf ? (family - 0xf) & 0xff : 0;

	return (uint32_t)(fam_hi << 20 | ((model >> 4) & 0xf) << 16 | fam_lo << 8 | (model & 0xf) << 4 |
			  (stepping & 0xf));
}

/* QEMU's EPYC CPU models and the family/model/stepping each reports. */
static const struct {
	const char *name;
	unsigned family, model, stepping;
} cpu_types[] = {
	{ "EPYC", 23, 1, 2 }, { "EPYC-v1", 23, 1, 2 }, { "EPYC-v2", 23, 1, 2 }, { "EPYC-IBPB", 23, 1, 2 },
	{ "EPYC-v3", 23, 1, 2 }, { "EPYC-v4", 23, 1, 2 }, { "EPYC-Rome", 23, 49, 0 }, { "EPYC-Rome-v1", 23, 49, 0 },
	{ "EPYC-Rome-v2", 23, 49, 0 }, { "EPYC-Rome-v3", 23, 49, 0 }, { "EPYC-Milan", 25, 1, 1 },
	{ "EPYC-Milan-v1", 25, 1, 1 }, { "EPYC-Milan-v2", 25, 1, 1 }, { "EPYC-Genoa", 25, 17, 0 },
	{ "EPYC-Genoa-v1", 25, 17, 0 }, { "EPYC-Turin", 26, 0, 0 },
};

bool cpu_sig_of_type(const char *name, uint32_t *sig)
{
	size_t i;

	for (i = 0; i < sizeof(cpu_types) / sizeof(cpu_types[0]); i++)
		if (!strcmp(cpu_types[i].name, name)) {
			*sig = cpu_sig(cpu_types[i].family, cpu_types[i].model, cpu_types[i].stepping);
			return true;
		}
	return false;
}

const char *cpu_type_names(void)
{
	return "EPYC, EPYC-v1, EPYC-v2, EPYC-IBPB, EPYC-v3, EPYC-v4, EPYC-Rome, EPYC-Rome-v1, EPYC-Rome-v2, "
	       "EPYC-Rome-v3, EPYC-Milan, EPYC-Milan-v1, EPYC-Milan-v2, EPYC-Genoa, EPYC-Genoa-v1, EPYC-Turin";
}

/* ---- what KVM puts in the VMSA ---- */

#define CR0_NW (1ull << 29)
#define CR0_CD (1ull << 30)
#define CR4_MCE (1ull << 6)
#define EFER_SVME (1ull << 12)
#define DR6_ACTIVE_LOW 0xffff0ff0ull
#define DR7_FIXED_1 0x400ull
#define PAT_RESET 0x0007040600070406ull

/* svm_set_segment: the VMCB's packed attributes; an unusable segment is not present. */
static struct vmsa_seg seg_from_kvm(const struct kvm_segment *k)
{
	uint16_t attrib = (uint16_t)((k->type & 0xf) | (k->s & 1) << 4 | (k->dpl & 3) << 5 |
				     ((k->present & 1) && !k->unusable) << 7 | (k->avl & 1) << 8 | (k->l & 1) << 9 |
				     (k->db & 1) << 10 | (k->g & 1) << 11);

	return (struct vmsa_seg){ .selector = k->selector, .attrib = attrib, .limit = k->limit, .base = k->base };
}

void vmsa_from_vcpu(const struct vmsa_vcpu_state *s, uint8_t page[VMSA_SIZE])
{
	const struct kvm_sregs *sr = &s->sregs;
	const struct kvm_regs *r = &s->regs;
	struct vmsa_page v;
	unsigned i;

	memset(&v, 0, sizeof(v));
	v.es = seg_from_kvm(&sr->es);
	v.cs = seg_from_kvm(&sr->cs);
	v.ss = seg_from_kvm(&sr->ss);
	v.ds = seg_from_kvm(&sr->ds);
	v.fs = seg_from_kvm(&sr->fs);
	v.gs = seg_from_kvm(&sr->gs);
	v.ldtr = seg_from_kvm(&sr->ldt);
	v.tr = seg_from_kvm(&sr->tr);
	v.gdtr = (struct vmsa_seg){ .limit = sr->gdt.limit, .base = sr->gdt.base };
	v.idtr = (struct vmsa_seg){ .limit = sr->idt.limit, .base = sr->idt.base };
	v.cpl = sr->ss.dpl & 3;                      /* svm_set_segment: CPL follows SS.DPL */
	v.efer = sr->efer | EFER_SVME;               /* svm_set_efer */
	v.cr0 = sr->cr0 & ~(CR0_CD | CR0_NW);        /* svm_set_cr0 under KVM_X86_QUIRK_CD_NW_CLEARED */
	v.cr3 = sr->cr3;                             /* sev_post_set_cr3 writes it for SEV-ES at once */
	/*
	 * svm_set_cr4 adds the host's CR4.MCE, which every x86-64 Linux host
	 * sets; sev-snp-measure's reset VMSA has it too.
	 */
	v.cr4 = sr->cr4 | CR4_MCE;
	v.dr7 = DR7_FIXED_1;
	v.dr6 = DR6_ACTIVE_LOW;
	v.rflags = r->rflags;
	v.rip = r->rip;
	v.rsp = r->rsp;
	v.rax = r->rax;
	v.g_pat = PAT_RESET;
	v.rcx = r->rcx;
	v.rdx = r->rdx;
	v.rbx = r->rbx;
	/* rbp, rsi, rdi, r8-r15 follow the reserved slot at 0x320, in this order. */
	{
		const uint64_t gprs[12] = { 0, r->rbp, r->rsi, r->rdi, r->r8, r->r9, r->r10, r->r11,
					    r->r12, r->r13, r->r14, r->r15 };

		memcpy(v.gprs_0x320, gprs, sizeof(gprs));
	}
	v.sev_features = s->sev_features;
	v.xcr0 = s->xcr0;
	if (s->fpu_synced) {
		const struct kvm_fpu *f = &s->fpu;

		v.x87_dp = f->last_dp;
		v.mxcsr = f->mxcsr;
		v.x87_ftw = f->ftwx;
		v.x87_fsw = f->fsw;
		v.x87_fcw = f->fcw;
		v.x87_fop = f->last_opcode;
		v.x87_rip = f->last_ip;
		/* Bytes 0-7 of each register in one block, then bytes 8-9 of each: not the FXSAVE layout. */
		for (i = 0; i < 8; i++) {
			memcpy(v.fpreg_x87 + i * 8, f->fpr[i], 8);
			v.fpreg_x87[64 + i * 2] = f->fpr[i][8];
			v.fpreg_x87[64 + i * 2 + 1] = f->fpr[i][9];
		}
		memcpy(v.fpreg_xmm, f->xmm, sizeof(v.fpreg_xmm));
		/* The upper YMM halves are not in struct kvm_fpu; cloak never sets them, so they stay zero. */
	}
	memcpy(page, &v, VMSA_SIZE);
}

void vmsa_reset_fpu(struct kvm_fpu *fpu)
{
	memset(fpu, 0, sizeof(*fpu));
	fpu->fcw = 0x37f;
	fpu->mxcsr = 0x1f80;
}

/* The FXSAVE layout of the XSAVE area's first 512 bytes, and XSTATE_BV after them. */
#define FX_FCW 0
#define FX_FSW 2
#define FX_FTW 4
#define FX_FOP 6
#define FX_RIP 8
#define FX_RDP 16
#define FX_MXCSR 24
#define FX_ST 32
#define FX_XMM 160
#define XSAVE_XSTATE_BV 512
#define XFEATURE_X87_SSE 0x3ull

void vmsa_fpu_from_xsave(const struct kvm_xsave *x, struct kvm_fpu *fpu)
{
	const uint8_t *a = (const uint8_t *)x->region;
	unsigned i;

	memset(fpu, 0, sizeof(*fpu));
	memcpy(&fpu->fcw, a + FX_FCW, 2);
	memcpy(&fpu->fsw, a + FX_FSW, 2);
	fpu->ftwx = a[FX_FTW];
	memcpy(&fpu->last_opcode, a + FX_FOP, 2);
	memcpy(&fpu->last_ip, a + FX_RIP, 8);
	memcpy(&fpu->last_dp, a + FX_RDP, 8);
	memcpy(&fpu->mxcsr, a + FX_MXCSR, 4);
	for (i = 0; i < 8; i++)
		memcpy(fpu->fpr[i], a + FX_ST + 16 * i, 16);
	memcpy(fpu->xmm, a + FX_XMM, sizeof(fpu->xmm));
}

void vmsa_fpu_to_xsave(const struct kvm_fpu *fpu, struct kvm_xsave *x)
{
	uint8_t *a = (uint8_t *)x->region;
	uint64_t bv;
	unsigned i;

	memcpy(a + FX_FCW, &fpu->fcw, 2);
	memcpy(a + FX_FSW, &fpu->fsw, 2);
	a[FX_FTW] = fpu->ftwx;
	memcpy(a + FX_FOP, &fpu->last_opcode, 2);
	memcpy(a + FX_RIP, &fpu->last_ip, 8);
	memcpy(a + FX_RDP, &fpu->last_dp, 8);
	memcpy(a + FX_MXCSR, &fpu->mxcsr, 4);
	for (i = 0; i < 8; i++)
		memcpy(a + FX_ST + 16 * i, fpu->fpr[i], 16);
	memcpy(a + FX_XMM, fpu->xmm, sizeof(fpu->xmm));
	memcpy(&bv, a + XSAVE_XSTATE_BV, 8);
	bv |= XFEATURE_X87_SSE;
	memcpy(a + XSAVE_XSTATE_BV, &bv, 8);
}

static struct kvm_segment kseg(uint16_t selector, uint8_t type, uint8_t s, uint64_t base)
{
	return (struct kvm_segment){ .base = base, .limit = 0xffff, .selector = selector, .type = type,
				     .present = 1, .s = s };
}

void vmsa_ap_reset_regs(uint32_t vcpu_sig, struct kvm_regs *regs, struct kvm_sregs *sregs)
{
	memset(regs, 0, sizeof(*regs));
	regs->rip = 0xfff0;
	regs->rflags = 0x2;
	regs->rdx = vcpu_sig;
	sregs->cs = kseg(0xf000, 0xb, 1, 0xffff0000);
	sregs->ds = sregs->es = sregs->fs = sregs->gs = sregs->ss = kseg(0, 0x3, 1, 0);
	sregs->ldt = kseg(0, 0x2, 0, 0);
	sregs->tr = kseg(0, 0xb, 0, 0);
	sregs->gdt = (struct kvm_dtable){ .base = 0, .limit = 0xffff };
	sregs->idt = (struct kvm_dtable){ .base = 0, .limit = 0xffff };
	sregs->cr0 = 0x60000010;  /* CD | NW | ET, as after RESET */
	sregs->cr3 = 0;
	sregs->cr4 = 0;
	sregs->efer = 0;
}
