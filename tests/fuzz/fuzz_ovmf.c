/* fuzz_ovmf.c: libFuzzer target: the GUIDed footer table of an OVMF image, as cloak-owner measures it. */
#include "owner.h"

#include <stdlib.h>
#include <string.h>

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

/*
 * The input is the firmware image. Every entry cloak-owner looks up must lie
 * inside the image; then the launch digest is computed with and without a
 * kernel, as `cloak-owner measurement --firmware` does.
 */
int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	static const char *const guids[] = { OVMF_SEV_HASH_TABLE_GUID, OVMF_SEV_SECRET_GUID, OVMF_SEV_ES_RESET_GUID };
	static const uint8_t kernel[] = "kernel", vmsa[4096];
	struct cloak_err err = { "" };
	struct ovmf_inputs in = { .fw = data, .fwlen = size };
	uint8_t digest[32];
	const uint8_t *area;
	size_t i, alen;

	for (i = 0; i < sizeof(guids) / sizeof(guids[0]); i++) {
		int found = ovmf_table_find(data, size, guids[i], &area, &alen, &err);

		if (found < 0 && !err.msg[0])
			abort();
		if (found == 1 && (area < data || alen > size || (size_t)(area - data) > size - alen))
			abort();
	}
	(void)ovmf_launch_digest(&in, digest, &err);
	in.kernel = kernel;
	in.klen = sizeof(kernel);
	in.cmdline = "console=ttyS0";
	in.ncpus = 2;
	in.vmsa0 = in.vmsa1 = vmsa;
	(void)ovmf_launch_digest(&in, digest, &err);
	return 0;
}
