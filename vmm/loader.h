/* loader.h: parsers for guest images (ELF64 with or without a PVH note, bzImage). */
#ifndef CLOAK_LOADER_H
#define CLOAK_LOADER_H

#include "cloak.h"

#define ELF_MAX_SEGMENTS 16

struct elf_segment {
	uint64_t paddr;
	uint64_t filesz;
	uint64_t memsz;
	uint64_t offset;
};

struct elf_image {
	uint64_t entry;        /* physical address of the 64-bit entry */
	bool has_pvh;
	uint64_t pvh_entry;    /* XEN_ELFNOTE_PHYS32_ENTRY, physical */
	unsigned nsegments;
	struct elf_segment segments[ELF_MAX_SEGMENTS];
	uint64_t lowest, highest;  /* span of the loaded segments */
};

bool elf_is_elf(const uint8_t *buf, size_t len);

/*
 * Checks a whole ELF image: header, program headers, every PT_LOAD inside the
 * file and at or above `min_paddr`, the entry inside a segment. `what` names
 * the file in messages.
 */
int elf_parse(const uint8_t *buf, size_t len, uint64_t min_paddr, const char *what,
	      struct elf_image *out, struct cloak_err *err);

#define BZ_MIN_VERSION 0x020c  /* 2.12: xloadflags says whether the 64-bit entry exists */

struct bzimage {
	uint16_t version;
	unsigned setup_sects;
	uint64_t setup_size;        /* bytes of real-mode setup before the kernel proper */
	const uint8_t *kernel;      /* the protected-mode kernel */
	uint64_t kernel_len;
	bool relocatable;
	uint32_t kernel_alignment;
	uint64_t pref_address;
	uint32_t init_size;         /* memory the kernel needs from its load address */
	uint32_t cmdline_size;
	uint32_t initrd_addr_max;
	uint16_t xloadflags;
};

bool bzimage_is_bzimage(const uint8_t *buf, size_t len);
int bzimage_parse(const uint8_t *buf, size_t len, const char *what, struct bzimage *out,
		  struct cloak_err *err);

#endif
