/* snp_digest.c: SEV-ES and SEV-SNP launch digests of OVMF guests: OVMF's SEV metadata and the order of pages and VMSAs. */
#include "snp_digest.h"

#include "owner.h"

#include <openssl/evp.h>
#include <stddef.h>
#include <string.h>

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
