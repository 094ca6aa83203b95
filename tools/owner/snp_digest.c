/* snp_digest.c: SEV-ES and SEV-SNP launch digests of OVMF guests: the reset VMSA, OVMF's SEV metadata, the page order. */
#include "snp_digest.h"

#include "owner.h"

#include <openssl/evp.h>
#include <stddef.h>
#include <string.h>

/* ---- the VMSA ---- */

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
	uint16_t x87_ftw, x87_fsw, x87_fcw;                              /* 0x40c */
	uint8_t rest[SNP_PAGE_SIZE - 0x412];
} __attribute__((packed));

_Static_assert(sizeof(struct vmsa_page) == SNP_PAGE_SIZE, "a VMSA is one page");
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

void vmsa_build(const struct vmsa_params *p, uint8_t page[SNP_PAGE_SIZE])
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
	memcpy(page, &v, SNP_PAGE_SIZE);
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

/* ---- OVMF ---- */

static uint32_t le32(const uint8_t *p)
{
	return (uint32_t)p[0] | (uint32_t)p[1] << 8 | (uint32_t)p[2] << 16 | (uint32_t)p[3] << 24;
}

/* A footer entry's leading u32, or false when the entry is absent or too short. */
static int footer_u32(const uint8_t *img, size_t size, const char *guid, unsigned idx, bool *found, uint32_t *v,
		      struct cloak_err *err)
{
	const uint8_t *d;
	size_t dl;
	int rc = ovmf_table_find(img, size, guid, &d, &dl, err);

	*found = false;
	if (rc < 0)
		return -1;
	if (rc == 0)
		return 0;
	if (dl < 4 * (idx + 1))
		return err_set(err, "the OVMF footer entry %s holds %zu bytes, too few for its fields", guid, dl);
	*v = le32(d + 4 * idx);
	*found = true;
	return 0;
}

int ovmf_info_parse(const uint8_t *image, size_t size, struct ovmf_info *o, struct cloak_err *err)
{
	uint32_t off, hsize, version, n, i;
	bool found;
	const uint8_t *h;

	memset(o, 0, sizeof(*o));
	o->image = image;
	o->size = size;
	if (size == 0 || size > 4 * GiB)
		return err_set(err, "the image is %zu bytes; an OVMF image is more than 0 and at most 4 GiB", size);
	o->gpa = 4 * GiB - size;
	if (footer_u32(image, size, OVMF_SEV_HASH_TABLE_GUID, 0, &found, &o->hash_table_gpa, err) < 0)
		return -1;
	if (found && o->hash_table_gpa && footer_u32(image, size, OVMF_SEV_HASH_TABLE_GUID, 1, &found,
						     &o->hash_table_size, err) < 0)
		return -1;
	o->has_hash_table = found && o->hash_table_gpa != 0;
	if (footer_u32(image, size, OVMF_SEV_ES_RESET_GUID, 0, &o->has_reset_eip, &o->reset_eip, err) < 0)
		return -1;
	if (footer_u32(image, size, OVMF_SEV_METADATA_GUID, 0, &found, &off, err) < 0)
		return -1;
	if (!found)
		return 0;
	/* The metadata entry gives the header's distance from the image's end. */
	if (off < 16 || off > size)
		return err_set(err, "the OVMF SEV metadata offset 0x%x points outside the %zu-byte image", off, size);
	h = image + size - off;
	if (memcmp(h, "ASEV", 4))
		return err_set(err, "the OVMF SEV metadata at 0x%zx lacks its ASEV signature", size - off);
	hsize = le32(h + 4);
	version = le32(h + 8);
	n = le32(h + 12);
	if (version != 1)
		return err_set(err, "the OVMF SEV metadata is version %u; version 1 is the one known", version);
	if (hsize > off || hsize < 16 || n > (hsize - 16) / 12)
		return err_set(err, "the OVMF SEV metadata claims %u sections in %u bytes, which do not fit", n, hsize);
	if (n > OVMF_MAX_SECTIONS)
		return err_set(err, "the OVMF SEV metadata has %u sections; at most %d are expected", n, OVMF_MAX_SECTIONS);
	for (i = 0; i < n; i++) {
		const uint8_t *s = h + 16 + 12 * i;

		o->sections[i].gpa = le32(s);
		o->sections[i].size = le32(s + 4);
		o->sections[i].type = le32(s + 8);
	}
	o->nsections = n;
	return 0;
}

const char *sev_mode_name(enum sev_mode m)
{
	return m == SEV_MODE_SNP ? "SEV_SNP" : m == SEV_MODE_ES ? "SEV_ES" : "SEV";
}

static bool has_section(const struct ovmf_info *o, uint32_t type)
{
	unsigned i;

	for (i = 0; i < o->nsections; i++)
		if (o->sections[i].type == type)
			return true;
	return false;
}

/* The VMSA of vCPU i: the BSP starts at the reset vector, the APs where the SEV-ES reset block says. */
static void vmsa_of(const struct guest_launch *l, unsigned i, uint64_t features, uint8_t page[SNP_PAGE_SIZE])
{
	struct vmsa_params p = {
		.eip = i == 0 ? 0xfffffff0u : l->ovmf->reset_eip,
		.sev_features = features,
		.vcpu_sig = l->vcpu_sig,
		.vmm = l->vmm,
	};

	vmsa_build(&p, page);
}

int snp_ovmf_digest(const struct ovmf_info *o, uint8_t out[SNP_LD_LEN], struct cloak_err *err)
{
	struct snp_gctx g;

	snp_gctx_init(&g, NULL);
	if (snp_gctx_normal_pages(&g, o->gpa, o->image, o->size, err) < 0)
		return err_prefix(err, "--ovmf: ");
	memcpy(out, g.ld, SNP_LD_LEN);
	return 0;
}

static int snp_kernel_hashes(struct snp_gctx *g, const struct guest_launch *l, const struct ovmf_section *s,
			     struct cloak_err *err)
{
	uint8_t page[SNP_PAGE_SIZE], table[SEV_PADDED_HASH_TABLE_LEN];
	uint32_t in_page;

	if (!l->kernel)
		return snp_gctx_blank_pages(g, SNP_PAGE_ZERO, s->gpa, s->size, err);
	if (!l->ovmf->has_hash_table)
		return err_set(err, "--ovmf: the image has an SNP kernel-hashes section but no kernel-hashes footer entry "
				    "(GUID %s) to place the table", OVMF_SEV_HASH_TABLE_GUID);
	if (s->size != SNP_PAGE_SIZE)
		return err_set(err, "--ovmf: the SNP kernel-hashes section is 0x%x bytes; QEMU fills exactly one page",
			       s->size);
	in_page = l->ovmf->hash_table_gpa & (SNP_PAGE_SIZE - 1);
	if (in_page + sizeof(table) > SNP_PAGE_SIZE)
		return err_set(err, "--ovmf: the kernel-hashes table at 0x%x crosses a page", l->ovmf->hash_table_gpa);
	if (sev_hash_table_build(l->kernel, l->kernel_len, l->initrd, l->initrd_len, l->cmdline, table) < 0)
		return err_set(err, "cannot hash the kernel, initrd and command line (OpenSSL)");
	memset(page, 0, sizeof(page));
	memcpy(page + in_page, table, sizeof(table));
	return snp_gctx_normal_pages(g, s->gpa, page, sizeof(page), err);
}

static int snp_digest(const struct guest_launch *l, uint8_t out[SNP_LD_LEN], struct cloak_err *err)
{
	const struct ovmf_info *o = l->ovmf;
	uint8_t page[SNP_PAGE_SIZE];
	struct snp_gctx g;
	unsigned i;
	int rc = 0;

	if (l->kernel && !has_section(o, OVMF_SECTION_SNP_KERNEL_HASHES))
		return err_set(err, "--kernel: the OVMF's SEV metadata has no SNP_KERNEL_HASHES section, so it cannot "
				    "measure a kernel under SNP; use an AmdSev OVMF build or drop --kernel");
	if (!o->has_reset_eip)
		return err_set(err, "--ovmf: the image has no SEV-ES reset block (footer GUID %s); it cannot start "
				    "SEV-ES or SNP vCPUs", OVMF_SEV_ES_RESET_GUID);
	snp_gctx_init(&g, l->ovmf_seed);
	if (!l->ovmf_seed && snp_gctx_normal_pages(&g, o->gpa, o->image, o->size, err) < 0)
		return err_prefix(err, "--ovmf: ");
	for (i = 0; i < o->nsections && rc == 0; i++) {
		const struct ovmf_section *s = &o->sections[i];

		switch (s->type) {
		case OVMF_SECTION_SNP_SEC_MEM:
			/* GCE leaves the early memory unmeasured; QEMU and EC2 zero it. */
			rc = snp_gctx_blank_pages(&g, l->vmm == VMM_GCE ? SNP_PAGE_UNMEASURED : SNP_PAGE_ZERO, s->gpa,
						  s->size, err);
			break;
		case OVMF_SECTION_SNP_SECRETS:
			rc = snp_gctx_blank_pages(&g, SNP_PAGE_SECRETS, s->gpa, SNP_PAGE_SIZE, err);
			break;
		case OVMF_SECTION_CPUID:
			/* EC2 adds the CPUID page after all the other sections. */
			if (l->vmm != VMM_EC2)
				rc = snp_gctx_blank_pages(&g, SNP_PAGE_CPUID, s->gpa, SNP_PAGE_SIZE, err);
			break;
		case OVMF_SECTION_SNP_KERNEL_HASHES:
			rc = snp_kernel_hashes(&g, l, s, err);
			break;
		case OVMF_SECTION_SVSM_CAA:
			rc = snp_gctx_blank_pages(&g, SNP_PAGE_ZERO, s->gpa, s->size, err);
			break;
		default:
			return err_set(err, "--ovmf: the SEV metadata has a section of unknown type 0x%x at 0x%x", s->type,
				       s->gpa);
		}
	}
	if (rc < 0)
		return -1;
	if (l->vmm == VMM_EC2)
		for (i = 0; i < o->nsections; i++)
			if (o->sections[i].type == OVMF_SECTION_CPUID &&
			    snp_gctx_blank_pages(&g, SNP_PAGE_CPUID, o->sections[i].gpa, SNP_PAGE_SIZE, err) < 0)
				return -1;
	for (i = 0; i < l->vcpus; i++) {
		vmsa_of(l, i, l->guest_features, page);
		if (snp_gctx_vmsa_page(&g, page, err) < 0)
			return -1;
		if (l->vmsa_out && l->vmsa_out(l->vmsa_ctx, i, page, err) < 0)
			return -1;
	}
	memcpy(out, g.ld, SNP_LD_LEN);
	return SNP_LD_LEN;
}

/* SEV and SEV-ES: SHA-256 over the image, the hashes table and (ES) the VMSAs, in LAUNCH_UPDATE order. */
static int sev_es_digest(const struct guest_launch *l, uint8_t out[SNP_LD_LEN], struct cloak_err *err)
{
	uint8_t table[SEV_PADDED_HASH_TABLE_LEN], page[SNP_PAGE_SIZE];
	struct sev_digest d;
	unsigned i;

	if (l->kernel && !l->ovmf->has_hash_table)
		return err_set(err, "--kernel: this OVMF has no kernel-hashes area (footer GUID %s), so QEMU cannot "
				    "measure a kernel with it; use an AmdSev OVMF build or drop --kernel",
			       OVMF_SEV_HASH_TABLE_GUID);
	if (l->mode == SEV_MODE_ES && l->vcpus && !l->ovmf->has_reset_eip)
		return err_set(err, "--ovmf: the image has no SEV-ES reset block (footer GUID %s); it cannot start "
				    "SEV-ES vCPUs", OVMF_SEV_ES_RESET_GUID);
	if (l->kernel && sev_hash_table_build(l->kernel, l->kernel_len, l->initrd, l->initrd_len, l->cmdline, table) < 0)
		return err_set(err, "cannot hash the kernel, initrd and command line (OpenSSL)");
	if (sev_digest_begin(&d) < 0)
		return err_set(err, "cannot start SHA-256 (OpenSSL)");
	if (sev_digest_add(&d, l->ovmf->image, l->ovmf->size) < 0 ||
	    (l->kernel && sev_digest_add(&d, table, sizeof(table)) < 0))
		goto fail;
	for (i = 0; l->mode == SEV_MODE_ES && i < l->vcpus; i++) {
		/* QEMU launches SEV-ES guests with no SEV_FEATURES beyond SEV-ES itself. */
		vmsa_of(l, i, 0, page);
		if (sev_digest_add(&d, page, sizeof(page)) < 0)
			goto fail;
		if (l->vmsa_out && l->vmsa_out(l->vmsa_ctx, i, page, err) < 0) {
			sev_digest_abort(&d);
			return -1;
		}
	}
	if (sev_digest_end(&d, out) < 0)
		return err_set(err, "cannot hash the launch (OpenSSL)");
	return 32;
fail:
	sev_digest_abort(&d);
	return err_set(err, "cannot hash the launch (OpenSSL)");
}

int guest_launch_digest(const struct guest_launch *l, uint8_t out[SNP_LD_LEN], struct cloak_err *err)
{
	if ((l->initrd || l->cmdline) && !l->kernel)
		return err_set(err, "--initrd and --append need --kernel: QEMU measures them only with a kernel");
	if (l->ovmf_seed && l->mode != SEV_MODE_SNP)
		return err_set(err, "--snp-ovmf-hash works only with --mode snp");
	if (l->mode == SEV_MODE_SNP)
		return snp_digest(l, out, err);
	return sev_es_digest(l, out, err);
}
