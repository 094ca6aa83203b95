/* loader_bzimage.c: reads a Linux bzImage's setup header for the 64-bit boot protocol. */
#include "loader.h"

#include <string.h>

/* Offsets in the file, from Documentation/arch/x86/boot.rst. */
#define BZ_SETUP_SECTS   0x1f1
#define BZ_BOOT_FLAG     0x1fe
#define BZ_HEADER        0x202
#define BZ_VERSION       0x206
#define BZ_INITRD_MAX    0x22c
#define BZ_KERNEL_ALIGN  0x230
#define BZ_RELOCATABLE   0x234
#define BZ_XLOADFLAGS    0x236
#define BZ_CMDLINE_SIZE  0x238
#define BZ_PREF_ADDRESS  0x258
#define BZ_INIT_SIZE     0x260
#define BZ_HEADER_END    0x268

#define XLF_KERNEL_64 (1u << 0)

static uint16_t rd16(const uint8_t *p) { uint16_t v; memcpy(&v, p, 2); return v; }
static uint32_t rd32(const uint8_t *p) { uint32_t v; memcpy(&v, p, 4); return v; }
static uint64_t rd64(const uint8_t *p) { uint64_t v; memcpy(&v, p, 8); return v; }

bool bzimage_is_bzimage(const uint8_t *buf, size_t len)
{
	return len >= BZ_HEADER + 4 && !memcmp(buf + BZ_HEADER, "HdrS", 4);
}

int bzimage_parse(const uint8_t *buf, size_t len, const char *what, struct bzimage *out,
		  struct cloak_err *err)
{
	memset(out, 0, sizeof(*out));
	if (!bzimage_is_bzimage(buf, len))
		return err_set(err, "%s is not a bzImage (no HdrS signature)", what);
	/* The length first: a file may end right after "HdrS", before the version field. */
	if (len < BZ_HEADER_END)
		return err_set(err, "%s is truncated inside its setup header", what);
	out->version = rd16(buf + BZ_VERSION);
	if (out->version < BZ_MIN_VERSION)
		return err_set(err, "%s uses boot protocol %u.%02u, too old for the 64-bit entry; cloak needs "
				    "2.12 or later (Linux 3.8+)", what, out->version >> 8, out->version & 0xff);
	if (rd16(buf + BZ_BOOT_FLAG) != 0xaa55)
		return err_set(err, "%s is corrupt: the setup header's boot flag is not 0xAA55", what);
	out->xloadflags = rd16(buf + BZ_XLOADFLAGS);
	if (!(out->xloadflags & XLF_KERNEL_64))
		return err_set(err, "%s has no 64-bit entry point (xloadflags lacks XLF_KERNEL_64); build a "
				    "64-bit kernel", what);
	out->setup_sects = buf[BZ_SETUP_SECTS] ? buf[BZ_SETUP_SECTS] : 4;
	out->setup_size = ((uint64_t)out->setup_sects + 1) * 512;
	if (out->setup_size >= len)
		return err_set(err, "%s is truncated: %zu bytes, but its setup alone takes %llu", what, len,
			       (unsigned long long)out->setup_size);
	out->kernel = buf + out->setup_size;
	out->kernel_len = len - out->setup_size;
	out->relocatable = buf[BZ_RELOCATABLE] != 0;
	out->kernel_alignment = rd32(buf + BZ_KERNEL_ALIGN);
	out->pref_address = rd64(buf + BZ_PREF_ADDRESS);
	out->init_size = rd32(buf + BZ_INIT_SIZE);
	out->cmdline_size = rd32(buf + BZ_CMDLINE_SIZE);
	out->initrd_addr_max = rd32(buf + BZ_INITRD_MAX);
	if (out->kernel_len <= 0x200)
		return err_set(err, "%s is truncated: the kernel after the setup is only %llu bytes", what,
			       (unsigned long long)out->kernel_len);
	return 0;
}
