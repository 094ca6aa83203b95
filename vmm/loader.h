/* loader.h: parsers for guest images (ELF64, ELF32 or ELF64 with a PVH note, Multiboot 1 and 2, bzImage). */
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
	uint64_t entry;        /* physical address of e_entry (valid when has_entry) */
	bool has_entry;        /* e_entry lies inside a loadable segment */
	bool is32;             /* ELFCLASS32 (i386): only a PVH note or a Multiboot header can enter it */
	bool has_pvh;
	uint64_t pvh_entry;    /* XEN_ELFNOTE_PHYS32_ENTRY, physical */
	unsigned nsegments;
	struct elf_segment segments[ELF_MAX_SEGMENTS];
	uint64_t lowest, highest;  /* span of the loaded segments */
};

bool elf_is_elf(const uint8_t *buf, size_t len);

/*
 * Checks a whole ELF image (ELF64 x86-64 or ELF32 i386): header, program
 * headers, every PT_LOAD inside the file and at or above `min_paddr`, a PVH
 * entry inside a loaded segment, and for an ELF64 without a PVH note its entry
 * inside a segment. `what` names the file in messages. The caller decides
 * whether an ELF32 has a way in (a PVH note or a Multiboot header).
 */
int elf_parse(const uint8_t *buf, size_t len, uint64_t min_paddr, const char *what,
	      struct elf_image *out, struct cloak_err *err);

/* True when [addr, addr+1) lies inside one of the image's loaded segments. */
bool elf_in_segment(const struct elf_image *elf, uint64_t addr);

/*
 * Multiboot 1 (header in the first 8 KiB) and Multiboot 2 (header in the
 * first 32 KiB): what the kernel's header asks of the loader.
 */
#define MB1_HEADER_MAGIC   0x1badb002u
#define MB1_BOOT_MAGIC     0x2badb002u  /* EAX at entry */
#define MB1_SEARCH         8192u
#define MB1_PAGE_ALIGN     (1u << 0)   /* modules page-aligned */
#define MB1_MEMORY_INFO    (1u << 1)   /* mem_lower/mem_upper and the memory map wanted */
#define MB1_VIDEO_MODE     (1u << 2)   /* a video mode wanted: cloak has no display */
#define MB1_AOUT_KLUDGE    (1u << 16)  /* load from the header's address fields */
#define MB2_HEADER_MAGIC   0xe85250d6u
#define MB2_BOOT_MAGIC     0x36d76289u /* EAX at entry */
#define MB2_SEARCH         32768u

struct multiboot_header {
	unsigned version;          /* 1 or 2 */
	uint64_t offset;           /* of the header in the file */
	uint32_t flags;            /* Multiboot 1 header flags */
	bool has_addr;             /* load from the address fields (a.out kludge / address tag) */
	uint32_t header_addr, load_addr, load_end_addr, bss_end_addr;
	bool has_entry;            /* entry_addr given (a.out kludge / entry address tag) */
	uint32_t entry_addr;
};

/*
 * Looks for a valid Multiboot 1 (or 2) header where the specification puts
 * it: 1 found and usable, 0 none, -1 found but cloak cannot honour it (err
 * names the flag or tag).
 */
int multiboot1_find(const uint8_t *buf, size_t len, const char *what, struct multiboot_header *out,
		    struct cloak_err *err);
int multiboot2_find(const uint8_t *buf, size_t len, const char *what, struct multiboot_header *out,
		    struct cloak_err *err);

/*
 * For an image that no loader takes: when it holds a Multiboot header that
 * does not count (bad checksum, or lying past the first 8 KiB / 32 KiB), sets
 * err to say so and returns -1; otherwise 0.
 */
int multiboot_explain(const uint8_t *buf, size_t len, const char *what, struct cloak_err *err);

/* One piece of a Multiboot image loaded from the header's address fields. */
struct multiboot_load {
	uint64_t paddr, filesz, memsz, offset;
};

/* Where the address fields put the file's bytes; checks them against the file. */
int multiboot_addr_load(const struct multiboot_header *mb, size_t len, const char *what,
			struct multiboot_load *out, struct cloak_err *err);

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
