/* loader_multiboot.c: finds and checks the Multiboot 1 and Multiboot 2 headers of a kernel image. */
#include "loader.h"

#include <string.h>

#define MB1_HEADER_SIZE      12u  /* magic, flags, checksum */
#define MB1_HEADER_ADDR_SIZE 32u  /* ... and the five address fields of the a.out kludge */
/* Bits 0-15 are requirements a loader must refuse when it cannot meet them; cloak meets 0 and 1. */
#define MB1_REQUIRED_MASK    0xffffu
#define MB1_KNOWN_REQUIRED   (MB1_PAGE_ALIGN | MB1_MEMORY_INFO)

#define MB2_HEADER_SIZE      16u  /* magic, architecture, header_length, checksum */
#define MB2_ARCH_I386        0u
#define MB2_TAG_OPTIONAL     1u

enum mb2_header_tag {
	MB2_TAG_END = 0,
	MB2_TAG_INFO_REQUEST = 1,
	MB2_TAG_ADDRESS = 2,
	MB2_TAG_ENTRY = 3,
	MB2_TAG_CONSOLE = 4,
	MB2_TAG_FRAMEBUFFER = 5,
	MB2_TAG_MODULE_ALIGN = 6,
	MB2_TAG_EFI_BS = 7,
	MB2_TAG_EFI_I386_ENTRY = 8,
	MB2_TAG_EFI_AMD64_ENTRY = 9,
	MB2_TAG_RELOCATABLE = 10,
};

/* The boot information tags cloak gives (vmm/boot_multiboot.c), which a kernel may require. */
static bool mb2_info_given(uint32_t type)
{
	switch (type) {
	case 1:   /* command line */
	case 2:   /* boot loader name */
	case 3:   /* modules */
	case 4:   /* basic memory information */
	case 6:   /* memory map */
	case 14:  /* ACPI RSDP, old */
	case 15:  /* ACPI RSDP, new */
		return true;
	}
	return false;
}

static uint32_t get32(const uint8_t *p)
{
	uint32_t v;

	memcpy(&v, p, sizeof(v));
	return v;
}

static uint16_t get16(const uint8_t *p)
{
	uint16_t v;

	memcpy(&v, p, sizeof(v));
	return v;
}

static bool mb1_header_at(const uint8_t *buf, size_t len, size_t off)
{
	return off + MB1_HEADER_SIZE <= len && get32(buf + off) == MB1_HEADER_MAGIC &&
	       (uint32_t)(get32(buf + off) + get32(buf + off + 4) + get32(buf + off + 8)) == 0;
}

static bool mb2_header_at(const uint8_t *buf, size_t len, size_t off)
{
	return off + MB2_HEADER_SIZE <= len && get32(buf + off) == MB2_HEADER_MAGIC &&
	       (uint32_t)(get32(buf + off) + get32(buf + off + 4) + get32(buf + off + 8) + get32(buf + off + 12)) == 0;
}

int multiboot1_find(const uint8_t *buf, size_t len, const char *what, struct multiboot_header *out,
		    struct cloak_err *err)
{
	size_t off, size;
	uint32_t flags;

	memset(out, 0, sizeof(*out));
	for (off = 0; off + MB1_HEADER_SIZE <= len && off + MB1_HEADER_SIZE <= MB1_SEARCH; off += 4)
		if (mb1_header_at(buf, len, off))
			break;
	if (off + MB1_HEADER_SIZE > len || off + MB1_HEADER_SIZE > MB1_SEARCH)
		return 0;
	flags = get32(buf + off + 4);
	if (flags & MB1_VIDEO_MODE)
		return err_set(err, "%s: its Multiboot header asks for a video mode (flags bit 2, flags 0x%x); cloak "
				    "has no display, only the serial port: build the kernel without that flag",
			       what, flags);
	if (flags & MB1_REQUIRED_MASK & ~MB1_KNOWN_REQUIRED)
		return err_set(err, "%s: its Multiboot header has unsupported flags 0x%x (required bits 0x%x that "
				    "cloak does not know; it honours 0x%x, page alignment and memory information), "
				    "and a loader must refuse what it cannot honour", what, flags,
			       flags & MB1_REQUIRED_MASK & ~MB1_KNOWN_REQUIRED, MB1_KNOWN_REQUIRED);
	size = flags & MB1_AOUT_KLUDGE ? MB1_HEADER_ADDR_SIZE : MB1_HEADER_SIZE;
	if (off + size > MB1_SEARCH)
		return err_set(err, "%s: its Multiboot header at offset 0x%zx ends at 0x%zx, past the first 8 KiB "
				    "(0x2000) where the whole header must lie; move it nearer the start of the image",
			       what, off, off + size);
	if (off + size > len)
		return err_set(err, "%s is truncated: its Multiboot header at offset 0x%zx needs %zu bytes", what,
			       off, size);
	out->version = 1;
	out->offset = off;
	out->flags = flags;
	if (flags & MB1_AOUT_KLUDGE) {
		out->has_addr = out->has_entry = true;
		out->header_addr = get32(buf + off + 12);
		out->load_addr = get32(buf + off + 16);
		out->load_end_addr = get32(buf + off + 20);
		out->bss_end_addr = get32(buf + off + 24);
		out->entry_addr = get32(buf + off + 28);
	}
	return 1;
}

static int mb2_tag_refused(const char *what, uint16_t type, const char *why, struct cloak_err *err)
{
	return err_set(err, "%s: its Multiboot 2 header has a required tag %u (%s); mark the tag optional or "
			    "build the kernel without it", what, type, why);
}

/* Walks the header's tags: what cloak must do, and whether it can. */
static int mb2_parse_tags(const uint8_t *buf, size_t off, size_t end, const char *what,
			  struct multiboot_header *out, struct cloak_err *err)
{
	while (off + 8 <= end) {
		uint16_t type = get16(buf + off), tflags = get16(buf + off + 2);
		uint32_t size = get32(buf + off + 4), i;
		bool optional = tflags & MB2_TAG_OPTIONAL;

		if (size < 8 || size > end - off)
			return err_set(err, "%s is corrupt: Multiboot 2 header tag %u at offset 0x%zx has size %u, "
					    "outside the header", what, type, off, size);
		switch (type) {
		case MB2_TAG_END:
			return 0;
		case MB2_TAG_INFO_REQUEST:
			for (i = 8; i + 4 <= size; i += 4) {
				uint32_t want = get32(buf + off + i);

				if (!optional && !mb2_info_given(want))
					return err_set(err, "%s: its Multiboot 2 header requires boot information of "
							    "type %u, which cloak does not give (it gives 1, 2, 3, 4, 6, "
							    "14 and 15)", what, want);
			}
			break;
		case MB2_TAG_ADDRESS:
			if (size < 24)
				return err_set(err, "%s is corrupt: its Multiboot 2 address tag is %u bytes, not 24",
					       what, size);
			out->has_addr = true;
			out->header_addr = get32(buf + off + 8);
			out->load_addr = get32(buf + off + 12);
			out->load_end_addr = get32(buf + off + 16);
			out->bss_end_addr = get32(buf + off + 20);
			break;
		case MB2_TAG_ENTRY:
			if (size < 12)
				return err_set(err, "%s is corrupt: its Multiboot 2 entry tag is %u bytes, not 12",
					       what, size);
			out->has_entry = true;
			out->entry_addr = get32(buf + off + 8);
			break;
		case MB2_TAG_CONSOLE:
			/* Bit 0: a console described in the boot information must exist; cloak's is a serial port. */
			if (!optional && size >= 12 && (get32(buf + off + 8) & 1))
				return mb2_tag_refused(what, type, "a console the boot information describes; cloak "
						   "has only the serial port", err);
			break;
		case MB2_TAG_FRAMEBUFFER:
			if (!optional)
				return mb2_tag_refused(what, type, "a framebuffer; cloak has no display", err);
			break;
		case MB2_TAG_EFI_BS:
		case MB2_TAG_EFI_I386_ENTRY:
		case MB2_TAG_EFI_AMD64_ENTRY:
			if (!optional)
				return mb2_tag_refused(what, type, "EFI; cloak boots without firmware", err);
			break;
		case MB2_TAG_MODULE_ALIGN:   /* cloak page-aligns modules anyway */
		case MB2_TAG_RELOCATABLE:    /* the image then runs at its link address too */
			break;
		default:
			if (!optional)
				return mb2_tag_refused(what, type, "unknown to cloak", err);
			break;
		}
		off += ALIGN_UP((size_t)size, 8);
	}
	return err_set(err, "%s is corrupt: its Multiboot 2 header has no end tag", what);
}

int multiboot2_find(const uint8_t *buf, size_t len, const char *what, struct multiboot_header *out,
		    struct cloak_err *err)
{
	size_t off;
	uint32_t arch, hlen;

	memset(out, 0, sizeof(*out));
	for (off = 0; off + MB2_HEADER_SIZE <= len && off + MB2_HEADER_SIZE <= MB2_SEARCH; off += 8)
		if (mb2_header_at(buf, len, off))
			break;
	if (off + MB2_HEADER_SIZE > len || off + MB2_HEADER_SIZE > MB2_SEARCH)
		return 0;
	arch = get32(buf + off + 4);
	hlen = get32(buf + off + 8);
	if (arch != MB2_ARCH_I386)
		return err_set(err, "%s: its Multiboot 2 header is for architecture %u; cloak boots i386 (0) "
				    "kernels", what, arch);
	if (hlen < MB2_HEADER_SIZE + 8 || hlen > len - off)
		return err_set(err, "%s is corrupt: its Multiboot 2 header at offset 0x%zx claims %u bytes", what,
			       off, hlen);
	if (off + hlen > MB2_SEARCH)
		return err_set(err, "%s: its Multiboot 2 header at offset 0x%zx ends at 0x%zx, past the first 32 KiB "
				    "(0x8000) where the whole header must lie", what, off, off + hlen);
	if (mb2_parse_tags(buf, off + MB2_HEADER_SIZE, off + hlen, what, out, err) < 0)
		return -1;
	out->version = 2;
	out->offset = off;
	return 1;
}

/* Searching a whole multi-GiB image for a stray header would only page it in: this covers any real kernel's. */
#define MB_EXPLAIN_LIMIT (16 * MiB)

int multiboot_explain(const uint8_t *buf, size_t len, const char *what, struct cloak_err *err)
{
	size_t off, limit = len < MB_EXPLAIN_LIMIT ? len : MB_EXPLAIN_LIMIT;

	for (off = 0; off + MB1_HEADER_SIZE <= limit && off + MB1_HEADER_SIZE <= MB1_SEARCH; off += 4)
		if (get32(buf + off) == MB1_HEADER_MAGIC && !mb1_header_at(buf, len, off))
			return err_set(err, "%s has a Multiboot header at offset 0x%zx with a bad checksum (magic + "
					    "flags + checksum is 0x%x, not 0); fix the checksum", what, off,
				       (uint32_t)(get32(buf + off) + get32(buf + off + 4) + get32(buf + off + 8)));
	for (off = 0; off + MB2_HEADER_SIZE <= limit && off + MB2_HEADER_SIZE <= MB2_SEARCH; off += 8)
		if (get32(buf + off) == MB2_HEADER_MAGIC && !mb2_header_at(buf, len, off))
			return err_set(err, "%s has a Multiboot 2 header at offset 0x%zx with a bad checksum (magic + "
					    "architecture + header_length + checksum is 0x%x, not 0); fix the checksum",
				       what, off,
				       (uint32_t)(get32(buf + off) + get32(buf + off + 4) + get32(buf + off + 8) +
						  get32(buf + off + 12)));
	for (off = MB1_SEARCH - MB1_HEADER_SIZE + 4; off + MB1_HEADER_SIZE <= limit; off += 4)
		if (mb1_header_at(buf, len, off))
			return err_set(err, "%s has a Multiboot header at offset 0x%zx, past the first 8 KiB (0x2000) "
					    "where a loader looks for it; put it at the start of the image (a section "
					    "of its own, first in the linker script)", what, off);
	for (off = MB2_SEARCH - MB2_HEADER_SIZE + 8; off + MB2_HEADER_SIZE <= limit; off += 8)
		if (mb2_header_at(buf, len, off))
			return err_set(err, "%s has a Multiboot 2 header at offset 0x%zx, past the first 32 KiB "
					    "(0x8000) where a loader looks for it; put it at the start of the image",
				       what, off);
	return 0;
}

int multiboot_addr_load(const struct multiboot_header *mb, size_t len, const char *what,
			struct multiboot_load *out, struct cloak_err *err)
{
	uint64_t load = mb->load_addr, delta, offset, filesz, memsz;

	/* Multiboot 2: a load_addr of -1 means the file loads from its first byte. */
	if (mb->version == 2 && mb->load_addr == UINT32_MAX) {
		if (mb->header_addr < mb->offset)
			return err_set(err, "%s: its Multiboot 2 header_addr 0x%x would put the file's start below 0",
				       what, mb->header_addr);
		load = mb->header_addr - mb->offset;
	}
	if (load > mb->header_addr)
		return err_set(err, "%s: its Multiboot load_addr 0x%llx lies above header_addr 0x%x; it must be at or "
				    "below it", what, (unsigned long long)load, mb->header_addr);
	delta = mb->header_addr - load;
	if (delta > mb->offset)
		return err_set(err, "%s: its Multiboot address fields put the start of the image 0x%llx bytes "
				    "before the header, but the header is at file offset 0x%llx", what,
			       (unsigned long long)delta, (unsigned long long)mb->offset);
	offset = mb->offset - delta;
	if (mb->load_end_addr) {
		if (mb->load_end_addr < load)
			return err_set(err, "%s: its Multiboot load_end_addr 0x%x lies below load_addr 0x%llx", what,
				       mb->load_end_addr, (unsigned long long)load);
		filesz = mb->load_end_addr - load;
		if (filesz > len - offset)
			return err_set(err, "%s is truncated: its Multiboot load_end_addr 0x%x needs 0x%llx bytes of "
					    "file from offset 0x%llx, and the file has %zu", what, mb->load_end_addr,
				       (unsigned long long)filesz, (unsigned long long)offset, len);
	} else {
		filesz = len - offset;
	}
	memsz = filesz;
	if (mb->bss_end_addr) {
		if (mb->bss_end_addr < load + filesz)
			return err_set(err, "%s: its Multiboot bss_end_addr 0x%x lies below the end of the loaded "
					    "bytes 0x%llx", what, mb->bss_end_addr, (unsigned long long)(load + filesz));
		memsz = mb->bss_end_addr - load;
	}
	if (memsz == 0)
		return err_set(err, "%s: its Multiboot address fields load nothing", what);
	*out = (struct multiboot_load){ .paddr = load, .filesz = filesz, .memsz = memsz, .offset = offset };
	return 0;
}
