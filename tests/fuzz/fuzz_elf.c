/* fuzz_elf.c: libFuzzer target: an ELF64 guest image, with or without a PVH note (elf_parse, then the plan). */
#include "loader.h"
#include "plan_glue.h"

#include <stdlib.h>

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

/* The input is the --kernel file. What elf_parse accepts must lie inside the file and above the floor asked for. */
int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	struct cloak_err err = { "" };
	struct elf_image elf;
	unsigned i;

	if (elf_parse(data, size, 1 << 20, "fuzz-kernel", &elf, &err) == 0) {
		if (elf.nsegments > ELF_MAX_SEGMENTS)
			abort();
		for (i = 0; i < elf.nsegments; i++) {
			const struct elf_segment *s = &elf.segments[i];

			if (s->paddr < (1 << 20) || s->filesz > s->memsz || s->offset > size || s->filesz > size - s->offset)
				abort();
		}
	} else if (!err.msg[0]) {
		abort();
	}
	fuzz_plan_image(data, size);
	return 0;
}
