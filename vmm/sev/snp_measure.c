/* snp_measure.c: the SEV-SNP launch digest, as the firmware extends it at each SNP_LAUNCH_UPDATE page (PAGE_INFO chaining). */
#include "sev/snp_measure.h"

#include <openssl/evp.h>
#include <string.h>

int snp_sha384(const void *data, size_t len, uint8_t out[SNP_LD_LEN])
{
	unsigned int n = 0;

	return EVP_Digest(data, len, out, &n, EVP_sha384(), NULL) == 1 && n == SNP_LD_LEN ? 0 : -1;
}

/* ---- PAGE_INFO chaining ---- */

void snp_gctx_init(struct snp_gctx *g, const uint8_t *seed)
{
	if (seed)
		memcpy(g->ld, seed, SNP_LD_LEN);
	else
		memset(g->ld, 0, SNP_LD_LEN);
}

int snp_gctx_update(struct snp_gctx *g, enum snp_page_type type, uint64_t gpa, const uint8_t contents[SNP_LD_LEN],
		    struct cloak_err *err)
{
	struct snp_page_info pi;

	memset(&pi, 0, sizeof(pi));
	memcpy(pi.digest_cur, g->ld, SNP_LD_LEN);
	memcpy(pi.contents, contents, SNP_LD_LEN);
	/* The struct is packed little-endian as x86 lays it out, which is what the firmware hashes. */
	pi.length = sizeof(pi);
	pi.page_type = (uint8_t)type;
	pi.gpa = gpa;
	if (snp_sha384(&pi, sizeof(pi), g->ld) < 0)
		return err_set(err, "cannot compute SHA-384 (OpenSSL)");
	return 0;
}

int snp_gctx_normal_pages(struct snp_gctx *g, uint64_t gpa, const uint8_t *data, size_t len, struct cloak_err *err)
{
	uint8_t h[SNP_LD_LEN];
	size_t off;

	if (len % SNP_PAGE_SIZE)
		return err_set(err, "%zu bytes at guest 0x%llx are not whole 4 KiB pages, which SNP measures", len,
			       (unsigned long long)gpa);
	for (off = 0; off < len; off += SNP_PAGE_SIZE) {
		if (snp_sha384(data + off, SNP_PAGE_SIZE, h) < 0)
			return err_set(err, "cannot compute SHA-384 (OpenSSL)");
		if (snp_gctx_update(g, SNP_PAGE_NORMAL, gpa + off, h, err) < 0)
			return -1;
	}
	return 0;
}

int snp_gctx_blank_pages(struct snp_gctx *g, enum snp_page_type type, uint64_t gpa, uint64_t len,
			 struct cloak_err *err)
{
	static const uint8_t zeros[SNP_LD_LEN];
	uint64_t off;

	if (len % SNP_PAGE_SIZE)
		return err_set(err, "0x%llx bytes at guest 0x%llx are not whole 4 KiB pages, which SNP measures",
			       (unsigned long long)len, (unsigned long long)gpa);
	for (off = 0; off < len; off += SNP_PAGE_SIZE)
		if (snp_gctx_update(g, type, gpa + off, zeros, err) < 0)
			return -1;
	return 0;
}

int snp_gctx_vmsa_page(struct snp_gctx *g, const uint8_t page[SNP_PAGE_SIZE], struct cloak_err *err)
{
	uint8_t h[SNP_LD_LEN];

	if (snp_sha384(page, SNP_PAGE_SIZE, h) < 0)
		return err_set(err, "cannot compute SHA-384 (OpenSSL)");
	return snp_gctx_update(g, SNP_PAGE_VMSA, SNP_VMSA_GPA, h, err);
}
