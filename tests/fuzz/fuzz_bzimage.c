/* fuzz_bzimage.c: libFuzzer target: a Linux bzImage's setup header (bzimage_parse, then the plan). */
#include "loader.h"
#include "plan_glue.h"

#include <stdlib.h>

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

/* The input is the --kernel file. An accepted image's kernel part lies inside the file. */
int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	struct cloak_err err = { "" };
	struct bzimage bz;

	if (bzimage_parse(data, size, "fuzz-kernel", &bz, &err) == 0) {
		if (bz.kernel < data || bz.kernel_len > size || (size_t)(bz.kernel - data) != size - bz.kernel_len)
			abort();
	} else if (!err.msg[0]) {
		abort();
	}
	fuzz_plan_image(data, size);
	return 0;
}
