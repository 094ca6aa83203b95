/* ovmf.c: the launch digest of an OVMF guest as QEMU measures it: footer table, kernel hashes, VMSAs. */
#include "owner.h"

#include <string.h>

static uint16_t get_le16(const uint8_t *p)
{
	return (uint16_t)(p[0] | p[1] << 8);
}

int ovmf_table_find(const uint8_t *img, size_t len, const char *guid, const uint8_t **data, size_t *dlen,
		    struct cloak_err *err)
{
	uint8_t footer[16], want[16];
	size_t end, start, p;
	uint16_t total;

	sev_guid_parse(OVMF_FOOTER_GUID, footer);
	if (sev_guid_parse(guid, want) < 0)
		return err_set(err, "internal error: bad GUID %s", guid);
	if (len < 32 + 18)
		return err_set(err, "the firmware image is %zu bytes, too small to hold an OVMF footer table", len);
	end = len - 32;
	if (memcmp(img + end - 16, footer, 16))
		return err_set(err, "the firmware image has no OVMF GUIDed footer table (GUID %s 32 bytes before its "
				    "end); is it an OVMF build?", OVMF_FOOTER_GUID);
	total = get_le16(img + end - 18);
	if (total < 18 || total > end)
		return err_set(err, "the firmware image's footer table claims %u bytes, which does not fit", total);
	start = end - total;
	/* Entries run backwards from the footer: data, then u16 size (counting the 18-byte tail), then GUID. */
	for (p = end - 18; p > start;) {
		uint16_t sz;

		if (p - start < 18)
			return err_set(err, "the firmware image's footer table is malformed near offset 0x%zx", p);
		sz = get_le16(img + p - 18);
		if (sz < 18 || sz > p - start)
			return err_set(err, "the firmware image's footer table has an entry of %u bytes at offset 0x%zx, "
					    "which does not fit", sz, p);
		if (!memcmp(img + p - 16, want, 16)) {
			*data = img + p - sz;
			*dlen = sz - 18u;
			return 1;
		}
		p -= sz;
	}
	return 0;
}

static void put_entry(uint8_t *p, const char *guid, const uint8_t hash[32])
{
	sev_guid_parse(guid, p);
	p[16] = 50;
	p[17] = 0;
	memcpy(p + 18, hash, 32);
}

int sev_hash_table_build(const uint8_t *kernel, size_t klen, const uint8_t *initrd, size_t ilen,
			 const char *cmdline, uint8_t out[SEV_PADDED_HASH_TABLE_LEN])
{
	uint8_t h[32];
	const char *c = cmdline ? cmdline : "";

	memset(out, 0, SEV_PADDED_HASH_TABLE_LEN);
	sev_guid_parse("9438d606-4f22-4cc9-b479-a793d411fd21", out);
	out[16] = SEV_HASH_TABLE_LEN;
	out[17] = 0;
	/* The command line is hashed with its terminating NUL, as the kernel receives it. */
	if (sev_sha256(c, strlen(c) + 1, h) < 0)
		return -1;
	put_entry(out + 18, "97d02dd8-bd20-4c94-aa78-e7714d36ab2a", h);
	if (sev_sha256(initrd ? initrd : (const uint8_t *)"", initrd ? ilen : 0, h) < 0)
		return -1;
	put_entry(out + 68, "44baf731-3a2f-4bd7-9af1-41e29169781d", h);
	if (sev_sha256(kernel, klen, h) < 0)
		return -1;
	put_entry(out + 118, "4de79437-abd2-427f-b835-d5b172d2045b", h);
	return 0;
}

int ovmf_launch_digest(const struct ovmf_inputs *in, uint8_t digest[32], struct cloak_err *err)
{
	uint8_t table[SEV_PADDED_HASH_TABLE_LEN];
	struct sev_digest d;
	const uint8_t *area;
	size_t alen;
	unsigned i;

	if (in->kernel) {
		int found = ovmf_table_find(in->fw, in->fwlen, OVMF_SEV_HASH_TABLE_GUID, &area, &alen, err);
		uint32_t size;

		if (found < 0)
			return err_prefix(err, "--firmware: ");
		if (found == 0)
			return err_set(err, "--firmware: this OVMF has no kernel-hashes area (footer GUID %s), so QEMU "
					    "cannot measure --kernel with it; use an AmdSev OVMF build or drop --kernel",
				       OVMF_SEV_HASH_TABLE_GUID);
		if (alen < 8)
			return err_set(err, "--firmware: the kernel-hashes entry holds %zu bytes, not base and size", alen);
		size = (uint32_t)area[4] | (uint32_t)area[5] << 8 | (uint32_t)area[6] << 16 | (uint32_t)area[7] << 24;
		if (size < SEV_PADDED_HASH_TABLE_LEN)
			return err_set(err, "--firmware: the kernel-hashes area is %u bytes, smaller than the %d-byte table",
				       size, SEV_PADDED_HASH_TABLE_LEN);
		if (sev_hash_table_build(in->kernel, in->klen, in->initrd, in->ilen, in->cmdline, table) < 0)
			return err_set(err, "cannot hash the kernel, initrd and command line (OpenSSL)");
	}
	if (sev_digest_begin(&d) < 0)
		return err_set(err, "cannot start SHA-256 (OpenSSL)");
	if (sev_digest_add(&d, in->fw, in->fwlen) < 0 || (in->kernel && sev_digest_add(&d, table, sizeof(table)) < 0))
		goto fail;
	for (i = 0; i < in->ncpus; i++)
		if (sev_digest_add(&d, i == 0 ? in->vmsa0 : in->vmsa1, 4096) < 0)
			goto fail;
	if (sev_digest_end(&d, digest) < 0)
		return err_set(err, "cannot hash the launch (OpenSSL)");
	return 0;
fail:
	sev_digest_abort(&d);
	return err_set(err, "cannot hash the launch (OpenSSL)");
}
