/* test_loader.c: the ELF, Multiboot and bzImage parsers against images built in memory, good and broken. */
#include "loader.h"
#include "unit.h"
#include "fake_bzimage.h"

#include <elf.h>
#include <string.h>
#include <sys/mman.h>
#include <unistd.h>

/* An ELF with `n` PT_LOAD headers at `paddr[i]` (4 KiB each, file bytes from 0x1000 on). */
static size_t make_elf(uint8_t *buf, size_t cap, unsigned n, const uint64_t *paddr, uint64_t entry)
{
	Elf64_Ehdr eh = { 0 };
	unsigned i;

	memset(buf, 0, cap);
	memcpy(eh.e_ident, ELFMAG, SELFMAG);
	eh.e_ident[EI_CLASS] = ELFCLASS64;
	eh.e_ident[EI_DATA] = ELFDATA2LSB;
	eh.e_type = ET_EXEC;
	eh.e_machine = EM_X86_64;
	eh.e_entry = entry;
	eh.e_phoff = sizeof(eh);
	eh.e_phentsize = sizeof(Elf64_Phdr);
	eh.e_phnum = (uint16_t)n;
	memcpy(buf, &eh, sizeof(eh));
	for (i = 0; i < n; i++) {
		Elf64_Phdr ph = { .p_type = PT_LOAD, .p_offset = 0x1000 + i * 0x1000ull, .p_vaddr = paddr[i],
				  .p_paddr = paddr[i], .p_filesz = 0x100, .p_memsz = 0x1000 };

		memcpy(buf + sizeof(eh) + i * sizeof(ph), &ph, sizeof(ph));
	}
	return 0x1000 + n * 0x1000ull;
}

static Elf64_Phdr *phdr(uint8_t *buf, unsigned i)
{
	return (Elf64_Phdr *)(buf + sizeof(Elf64_Ehdr) + i * sizeof(Elf64_Phdr));
}

static uint8_t img[0x8000];

START_TEST(elf_good)
{
	uint64_t pa[2] = { 0x100000, 0x200000 };
	size_t len = make_elf(img, sizeof(img), 2, pa, 0x100010);
	struct elf_image e;
	struct cloak_err err;

	ck_assert_int_eq(elf_parse(img, len, 0x100000, "k", &e, &err), 0);
	ck_assert_uint_eq(e.nsegments, 2);
	ck_assert_uint_eq(e.entry, 0x100010);
	ck_assert_uint_eq(e.lowest, 0x100000);
	ck_assert_uint_eq(e.highest, 0x201000);
	ck_assert(!e.has_pvh);
}
END_TEST

START_TEST(elf_high_virtual_entry_maps_to_physical)
{
	uint64_t pa[1] = { 0x1000000 };
	size_t len = make_elf(img, sizeof(img), 1, pa, 0xffffffff81000040ull);
	struct elf_image e;
	struct cloak_err err;

	phdr(img, 0)->p_vaddr = 0xffffffff81000000ull;
	ck_assert_int_eq(elf_parse(img, len, 0x100000, "k", &e, &err), 0);
	ck_assert_uint_eq(e.entry, 0x1000040);
}
END_TEST

/* Makes program header `index` a PT_NOTE at `off` holding XEN_ELFNOTE_PHYS32_ENTRY = entry. */
static Elf64_Phdr *put_pvh_note(unsigned index, uint64_t off, uint32_t entry)
{
	Elf64_Nhdr nh = { .n_namesz = 4, .n_descsz = 4, .n_type = 18 };
	Elf64_Phdr *note = phdr(img, index);

	*note = (Elf64_Phdr){ .p_type = PT_NOTE, .p_offset = off, .p_filesz = sizeof(nh) + 8 };
	memcpy(img + off, &nh, sizeof(nh));
	memcpy(img + off + sizeof(nh), "Xen", 4);
	memcpy(img + off + sizeof(nh) + 4, &entry, 4);
	return note;
}

START_TEST(elf_pvh_note)
{
	uint64_t pa[2] = { 0x100000, 0 };
	size_t len = make_elf(img, sizeof(img), 2, pa, 0x100000);
	Elf64_Phdr *note = put_pvh_note(1, 0x2000, 0x100200);
	struct elf_image e;
	struct cloak_err err;

	ck_assert_int_eq(elf_parse(img, len, 0x100000, "k", &e, &err), 0);
	ck_assert(e.has_pvh);
	ck_assert_uint_eq(e.pvh_entry, 0x100200);
	/* A note that claims more bytes than it has is refused. */
	note->p_filesz = sizeof(Elf64_Nhdr) + 2;
	ck_assert_int_eq(elf_parse(img, len, 0x100000, "k", &e, &err), -1);
	ck_assert_msg_has(err.msg, "note segment is malformed");
}
END_TEST

START_TEST(elf_broken)
{
	uint64_t pa[2] = { 0x100000, 0x200000 };
	size_t len = make_elf(img, sizeof(img), 2, pa, 0x100000);
	struct elf_image e;
	struct cloak_err err;

	ck_assert_int_eq(elf_parse(img, 40, 0x100000, "k", &e, &err), -1);
	ck_assert_msg_has(err.msg, "k is not an ELF file");
	ck_assert_int_eq(elf_parse(img, 100, 0x100000, "k", &e, &err), -1);
	ck_assert_msg_has(err.msg, "program headers lie outside the file");
	ck_assert_int_eq(elf_parse(img, 0x2050, 0x100000, "k", &e, &err), -1);
	ck_assert_msg_has(err.msg, "is truncated: segment 1");

	phdr(img, 1)->p_paddr = 0x100800;  /* overlaps segment 0 */
	ck_assert_int_eq(elf_parse(img, len, 0x100000, "k", &e, &err), -1);
	ck_assert_msg_has(err.msg, "segments 0 and 1 overlap");
	phdr(img, 1)->p_paddr = 0x80000;
	ck_assert_int_eq(elf_parse(img, len, 0x100000, "k", &e, &err), -1);
	ck_assert_msg_has(err.msg, "lies below 0x100000");
	phdr(img, 1)->p_paddr = UINT64_MAX - 0x10;
	ck_assert_int_eq(elf_parse(img, len, 0x100000, "k", &e, &err), -1);
	ck_assert_msg_has(err.msg, "beyond any guest memory");
	phdr(img, 1)->p_paddr = 0x200000;
	phdr(img, 1)->p_offset = 0x1000;
	phdr(img, 1)->p_filesz = 0x1001;
	ck_assert_int_eq(elf_parse(img, len, 0x100000, "k", &e, &err), -1);
	ck_assert_msg_has(err.msg, "more file bytes than memory bytes");
	phdr(img, 1)->p_filesz = 0x100;
	phdr(img, 1)->p_offset = 0x2000;
	phdr(img, 1)->p_type = PT_INTERP;
	ck_assert_int_eq(elf_parse(img, len, 0x100000, "k", &e, &err), -1);
	ck_assert_msg_has(err.msg, "dynamically linked");
	phdr(img, 1)->p_type = PT_LOAD;

	((Elf64_Ehdr *)img)->e_entry = 0x5000000;
	ck_assert_int_eq(elf_parse(img, len, 0x100000, "k", &e, &err), -1);
	ck_assert_msg_has(err.msg, "entry point 0x5000000 is not inside any loadable segment");
	((Elf64_Ehdr *)img)->e_entry = 0x100000;
	((Elf64_Ehdr *)img)->e_type = ET_DYN;
	ck_assert_int_eq(elf_parse(img, len, 0x100000, "k", &e, &err), -1);
	ck_assert_msg_has(err.msg, "not a static executable");
	((Elf64_Ehdr *)img)->e_type = ET_EXEC;
	img[EI_CLASS] = ELFCLASS32;
	ck_assert_int_eq(elf_parse(img, len, 0x100000, "k", &e, &err), -1);
	ck_assert_msg_has(err.msg, "32-bit ELF for machine 62, not i386");
	img[EI_CLASS] = ELFCLASS64;
	((Elf64_Ehdr *)img)->e_machine = EM_AARCH64;
	ck_assert_int_eq(elf_parse(img, len, 0x100000, "k", &e, &err), -1);
	ck_assert_msg_has(err.msg, "not an x86-64 ELF");
}
END_TEST

/* An ELF32 i386 image with one PT_LOAD at 1 MiB (file bytes from 0x1000) and, when pvh_entry, a PVH note. */
static size_t make_elf32(uint8_t *buf, size_t cap, uint32_t entry, uint32_t pvh_entry)
{
	Elf32_Ehdr eh = { 0 };
	Elf32_Phdr load = { .p_type = PT_LOAD, .p_offset = 0x1000, .p_vaddr = 0x100000, .p_paddr = 0x100000,
			    .p_filesz = 0x200, .p_memsz = 0x3000 };
	Elf32_Phdr note = { .p_type = PT_NOTE, .p_offset = 0x1100, .p_filesz = sizeof(Elf32_Nhdr) + 8 };
	Elf32_Nhdr nh = { .n_namesz = 4, .n_descsz = 4, .n_type = 18 };

	memset(buf, 0, cap);
	memcpy(eh.e_ident, ELFMAG, SELFMAG);
	eh.e_ident[EI_CLASS] = ELFCLASS32;
	eh.e_ident[EI_DATA] = ELFDATA2LSB;
	eh.e_type = ET_EXEC;
	eh.e_machine = EM_386;
	eh.e_entry = entry;
	eh.e_phoff = sizeof(eh);
	eh.e_phentsize = sizeof(Elf32_Phdr);
	eh.e_phnum = pvh_entry ? 2 : 1;
	memcpy(buf, &eh, sizeof(eh));
	memcpy(buf + sizeof(eh), &load, sizeof(load));
	if (pvh_entry) {
		memcpy(buf + sizeof(eh) + sizeof(load), &note, sizeof(note));
		memcpy(buf + 0x1100, &nh, sizeof(nh));
		memcpy(buf + 0x1100 + sizeof(nh), "Xen", 4);
		memcpy(buf + 0x1100 + sizeof(nh) + 4, &pvh_entry, 4);
	}
	return 0x2000;
}

START_TEST(elf32_pvh)
{
	size_t len = make_elf32(img, sizeof(img), 0x100000, 0x100040);
	struct elf_image e;
	struct cloak_err err;

	ck_assert_int_eq(elf_parse(img, len, 0x100000, "k32", &e, &err), 0);
	ck_assert(e.is32);
	ck_assert(e.has_pvh);
	ck_assert_uint_eq(e.pvh_entry, 0x100040);
	ck_assert_uint_eq(e.nsegments, 1);
	ck_assert_uint_eq(e.segments[0].memsz, 0x3000);
	/* The entry may lie in the segment's zero-filled tail, never past it. */
	len = make_elf32(img, sizeof(img), 0x100000, 0x103000);
	ck_assert_int_eq(elf_parse(img, len, 0x100000, "k32", &e, &err), -1);
	ck_assert_msg_has(err.msg, "k32: PVH entry 0x103000 is not inside any loaded segment");
	/* An ELF32 without a note parses; the plan then looks for a Multiboot header. */
	len = make_elf32(img, sizeof(img), 0x100000, 0);
	ck_assert_int_eq(elf_parse(img, len, 0x100000, "k32", &e, &err), 0);
	ck_assert(e.is32 && !e.has_pvh && e.has_entry);
	((Elf32_Ehdr *)img)->e_machine = EM_X86_64;
	ck_assert_int_eq(elf_parse(img, len, 0x100000, "k32", &e, &err), -1);
	ck_assert_msg_has(err.msg, "32-bit ELF for machine 62, not i386");
}
END_TEST

/* Issue 12: a PVH entry in the gap between two segments was accepted, though nothing is loaded there. */
START_TEST(elf_pvh_entry_between_segments)
{
	uint64_t pa[3] = { 0x100000, 0x300000, 0 };
	size_t len = make_elf(img, sizeof(img), 3, pa, 0x100000);
	struct elf_image e;
	struct cloak_err err;

	put_pvh_note(2, 0x3000, 0x200000);
	ck_assert_int_eq(elf_parse(img, len, 0x100000, "k", &e, &err), -1);
	ck_assert_msg_has(err.msg, "PVH entry 0x200000 is not inside any loaded segment");
	put_pvh_note(2, 0x3000, 0x300ffc);
	ck_assert_int_eq(elf_parse(img, len, 0x100000, "k", &e, &err), 0);
	ck_assert_uint_eq(e.pvh_entry, 0x300ffc);
}
END_TEST

static void put32(uint8_t *p, uint32_t v)
{
	memcpy(p, &v, 4);
}

/* A Multiboot 1 header at `off`: flags, a right (or, with bad_sum, wrong) checksum, then the address fields. */
static void put_mb1(uint8_t *buf, size_t off, uint32_t flags, bool bad_sum)
{
	put32(buf + off, MB1_HEADER_MAGIC);
	put32(buf + off + 4, flags);
	put32(buf + off + 8, -(MB1_HEADER_MAGIC + flags) + (bad_sum ? 1 : 0));
}

START_TEST(multiboot1_header)
{
	struct multiboot_header mb;
	struct multiboot_load ld;
	struct cloak_err err;

	memset(img, 0, sizeof(img));
	ck_assert_int_eq(multiboot1_find(img, sizeof(img), "mb", &mb, &err), 0);
	ck_assert_int_eq(multiboot_explain(img, sizeof(img), "mb", &err), 0);

	/* The a.out kludge: header at file offset 0x40, loaded from file offset 0 at 1 MiB. */
	put_mb1(img, 0x40, MB1_PAGE_ALIGN | MB1_MEMORY_INFO | MB1_AOUT_KLUDGE, false);
	put32(img + 0x4c, 0x100040);   /* header_addr */
	put32(img + 0x50, 0x100000);   /* load_addr */
	put32(img + 0x54, 0x101000);   /* load_end_addr */
	put32(img + 0x58, 0x104000);   /* bss_end_addr */
	put32(img + 0x5c, 0x100060);   /* entry_addr */
	ck_assert_int_eq(multiboot1_find(img, sizeof(img), "mb", &mb, &err), 1);
	ck_assert_uint_eq(mb.version, 1);
	ck_assert_uint_eq(mb.offset, 0x40);
	ck_assert(mb.has_addr && mb.has_entry);
	ck_assert_uint_eq(mb.entry_addr, 0x100060);
	ck_assert_int_eq(multiboot_addr_load(&mb, sizeof(img), "mb", &ld, &err), 0);
	ck_assert_uint_eq(ld.paddr, 0x100000);
	ck_assert_uint_eq(ld.offset, 0);
	ck_assert_uint_eq(ld.filesz, 0x1000);
	ck_assert_uint_eq(ld.memsz, 0x4000);
	/* load_end_addr 0: the rest of the file; bss_end_addr 0: no bss. */
	mb.load_end_addr = 0;
	mb.bss_end_addr = 0;
	ck_assert_int_eq(multiboot_addr_load(&mb, sizeof(img), "mb", &ld, &err), 0);
	ck_assert_uint_eq(ld.filesz, sizeof(img));
	ck_assert_uint_eq(ld.memsz, sizeof(img));
	/* Address fields that contradict the file. */
	mb.load_end_addr = 0x100000 + sizeof(img) + 1;
	ck_assert_int_eq(multiboot_addr_load(&mb, sizeof(img), "mb", &ld, &err), -1);
	ck_assert_msg_has(err.msg, "is truncated: its Multiboot load_end_addr");
	mb.load_end_addr = 0x101000;
	mb.bss_end_addr = 0x100800;
	ck_assert_int_eq(multiboot_addr_load(&mb, sizeof(img), "mb", &ld, &err), -1);
	ck_assert_msg_has(err.msg, "bss_end_addr 0x100800 lies below the end of the loaded bytes");
	mb.bss_end_addr = 0;
	mb.load_addr = 0x100080;
	ck_assert_int_eq(multiboot_addr_load(&mb, sizeof(img), "mb", &ld, &err), -1);
	ck_assert_msg_has(err.msg, "load_addr 0x100080 lies above header_addr 0x100040");
	mb.load_addr = 0xf0000;
	ck_assert_int_eq(multiboot_addr_load(&mb, sizeof(img), "mb", &ld, &err), -1);
	ck_assert_msg_has(err.msg, "before the header, but the header is at file offset 0x40");

	/* Required flags cloak cannot honour are refused, as the specification says. */
	put_mb1(img, 0x40, MB1_MEMORY_INFO | MB1_VIDEO_MODE, false);
	ck_assert_int_eq(multiboot1_find(img, sizeof(img), "mb", &mb, &err), -1);
	ck_assert_msg_has(err.msg, "asks for a video mode (flags bit 2");
	put_mb1(img, 0x40, MB1_MEMORY_INFO | (1u << 5), false);
	ck_assert_int_eq(multiboot1_find(img, sizeof(img), "mb", &mb, &err), -1);
	ck_assert_msg_has(err.msg, "unsupported flags 0x22 (required bits 0x20");
	/* Optional flags (16-31) cloak does not know are ignored. */
	put_mb1(img, 0x40, MB1_MEMORY_INFO | (1u << 20), false);
	ck_assert_int_eq(multiboot1_find(img, sizeof(img), "mb", &mb, &err), 1);

	/* A bad checksum: not a header to a loader, and the refusal says why. */
	put_mb1(img, 0x40, MB1_MEMORY_INFO, true);
	ck_assert_int_eq(multiboot1_find(img, sizeof(img), "mb", &mb, &err), 0);
	ck_assert_int_eq(multiboot_explain(img, sizeof(img), "mb", &err), -1);
	ck_assert_msg_has(err.msg, "mb has a Multiboot header at offset 0x40 with a bad checksum");
	memset(img, 0, sizeof(img));

	/* Past the first 8 KiB: not found, and said so. */
	put_mb1(img, 0x2000, MB1_MEMORY_INFO, false);
	ck_assert_int_eq(multiboot1_find(img, sizeof(img), "mb", &mb, &err), 0);
	ck_assert_int_eq(multiboot_explain(img, sizeof(img), "mb", &err), -1);
	ck_assert_msg_has(err.msg, "at offset 0x2000, past the first 8 KiB");
	memset(img, 0, sizeof(img));
	/* The magic inside 8 KiB, but address fields running past it. */
	put_mb1(img, 0x1ff0, MB1_MEMORY_INFO | MB1_AOUT_KLUDGE, false);
	ck_assert_int_eq(multiboot1_find(img, sizeof(img), "mb", &mb, &err), -1);
	ck_assert_msg_has(err.msg, "ends at 0x2010, past the first 8 KiB");
	memset(img, 0, sizeof(img));
}
END_TEST

/* A Multiboot 2 header at `off` with the tags `tags` (each 8-aligned, ending in an end tag). */
static void put_mb2(uint8_t *buf, size_t off, uint32_t arch, const uint8_t *tags, size_t tags_len)
{
	uint32_t hlen = (uint32_t)(16 + tags_len);

	put32(buf + off, MB2_HEADER_MAGIC);
	put32(buf + off + 4, arch);
	put32(buf + off + 8, hlen);
	put32(buf + off + 12, -(MB2_HEADER_MAGIC + arch + hlen));
	memcpy(buf + off + 16, tags, tags_len);
}

START_TEST(multiboot2_header)
{
	/* information request for 1, 4, 6; entry address; end */
	static const uint8_t good[] = { 1, 0, 0, 0, 20, 0, 0, 0, 1, 0, 0, 0, 4, 0, 0, 0, 6, 0, 0, 0, 0, 0, 0, 0,
					3, 0, 0, 0, 12, 0, 0, 0, 0x40, 0, 0x10, 0, 0, 0, 0, 0,
					0, 0, 0, 0, 8, 0, 0, 0 };
	static const uint8_t wants_vbe[] = { 1, 0, 0, 0, 12, 0, 0, 0, 7, 0, 0, 0, 0, 0, 0, 0,
					     0, 0, 0, 0, 8, 0, 0, 0 };
	static const uint8_t fb_required[] = { 5, 0, 0, 0, 20, 0, 0, 0, 0, 4, 0, 0, 0, 3, 0, 0, 32, 0, 0, 0,
					       0, 0, 0, 0, 0, 0, 0, 0, 8, 0, 0, 0 };
	static const uint8_t fb_optional[] = { 5, 0, 1, 0, 20, 0, 0, 0, 0, 4, 0, 0, 0, 3, 0, 0, 32, 0, 0, 0,
					       0, 0, 0, 0, 0, 0, 0, 0, 8, 0, 0, 0 };
	static const uint8_t efi[] = { 7, 0, 0, 0, 8, 0, 0, 0, 0, 0, 0, 0, 8, 0, 0, 0 };
	static const uint8_t no_end[] = { 6, 0, 0, 0, 8, 0, 0, 0 };
	struct multiboot_header mb;
	struct cloak_err err;

	memset(img, 0, sizeof(img));
	put_mb2(img, 0x1000, 0, good, sizeof(good));
	ck_assert_int_eq(multiboot2_find(img, sizeof(img), "mb2", &mb, &err), 1);
	ck_assert_uint_eq(mb.version, 2);
	ck_assert_uint_eq(mb.offset, 0x1000);
	ck_assert(mb.has_entry && !mb.has_addr);
	ck_assert_uint_eq(mb.entry_addr, 0x100040);
	put_mb2(img, 0x1000, 0, wants_vbe, sizeof(wants_vbe));
	ck_assert_int_eq(multiboot2_find(img, sizeof(img), "mb2", &mb, &err), -1);
	ck_assert_msg_has(err.msg, "requires boot information of type 7");
	put_mb2(img, 0x1000, 0, fb_required, sizeof(fb_required));
	ck_assert_int_eq(multiboot2_find(img, sizeof(img), "mb2", &mb, &err), -1);
	ck_assert_msg_has(err.msg, "required tag 5 (a framebuffer; cloak has no display)");
	put_mb2(img, 0x1000, 0, fb_optional, sizeof(fb_optional));
	ck_assert_int_eq(multiboot2_find(img, sizeof(img), "mb2", &mb, &err), 1);
	put_mb2(img, 0x1000, 0, efi, sizeof(efi));
	ck_assert_int_eq(multiboot2_find(img, sizeof(img), "mb2", &mb, &err), -1);
	ck_assert_msg_has(err.msg, "EFI");
	put_mb2(img, 0x1000, 0, no_end, sizeof(no_end));
	ck_assert_int_eq(multiboot2_find(img, sizeof(img), "mb2", &mb, &err), -1);
	ck_assert_msg_has(err.msg, "corrupt");
	put_mb2(img, 0x1000, 4, good, sizeof(good));
	ck_assert_int_eq(multiboot2_find(img, sizeof(img), "mb2", &mb, &err), -1);
	ck_assert_msg_has(err.msg, "is for architecture 4");
	/* A bad checksum: no header to a loader, and said so. */
	put_mb2(img, 0x1000, 0, good, sizeof(good));
	img[0x100c] ^= 1;
	ck_assert_int_eq(multiboot2_find(img, sizeof(img), "mb2", &mb, &err), 0);
	ck_assert_int_eq(multiboot_explain(img, sizeof(img), "mb2", &err), -1);
	ck_assert_msg_has(err.msg, "Multiboot 2 header at offset 0x1000 with a bad checksum");
	/* Misaligned (Multiboot 2 headers are 8-byte aligned): not a header. */
	memset(img, 0, sizeof(img));
	put_mb2(img, 0x1004, 0, good, sizeof(good));
	ck_assert_int_eq(multiboot2_find(img, sizeof(img), "mb2", &mb, &err), 0);
	memset(img, 0, sizeof(img));
}
END_TEST

START_TEST(bzimage_good)
{
	size_t len = fake_bzimage(img, sizeof(img), 0x020f, 1);
	struct bzimage bz;
	struct cloak_err err;

	ck_assert(bzimage_is_bzimage(img, len));
	ck_assert_int_eq(bzimage_parse(img, len, "bz", &bz, &err), 0);
	ck_assert_uint_eq(bz.setup_size, 1024);
	ck_assert_ptr_eq(bz.kernel, img + 1024);
	ck_assert_uint_eq(bz.kernel_len, len - 1024);
	ck_assert(bz.relocatable);
	ck_assert_uint_eq(bz.pref_address, 0x1000000);
	ck_assert_uint_eq(bz.init_size, 0x2000000);
	ck_assert_uint_eq(bz.cmdline_size, 2047);
	img[0x1f1] = 0;  /* 0 means 4, for old kernels */
	ck_assert_int_eq(bzimage_parse(img, len, "bz", &bz, &err), 0);
	ck_assert_uint_eq(bz.setup_size, 5 * 512);
}
END_TEST

START_TEST(bzimage_broken)
{
	struct bzimage bz;
	struct cloak_err err;
	size_t len = fake_bzimage(img, sizeof(img), 0x020b, 1);

	ck_assert_int_eq(bzimage_parse(img, len, "bz", &bz, &err), -1);
	ck_assert_msg_has(err.msg, "uses boot protocol 2.11, too old for the 64-bit entry");
	len = fake_bzimage(img, sizeof(img), 0x020f, 0);
	ck_assert_int_eq(bzimage_parse(img, len, "bz", &bz, &err), -1);
	ck_assert_msg_has(err.msg, "no 64-bit entry point");
	len = fake_bzimage(img, sizeof(img), 0x020f, 1);
	ck_assert_int_eq(bzimage_parse(img, 0x260, "bz", &bz, &err), -1);
	ck_assert_msg_has(err.msg, "truncated inside its setup header");
	ck_assert_int_eq(bzimage_parse(img, 0x300, "bz", &bz, &err), -1);
	ck_assert_msg_has(err.msg, "its setup alone takes 1024");
	ck_assert_int_eq(bzimage_parse(img, 1024 + 0x100, "bz", &bz, &err), -1);
	ck_assert_msg_has(err.msg, "the kernel after the setup is only 256 bytes");
	img[0x1fe] = 0;
	ck_assert_int_eq(bzimage_parse(img, len, "bz", &bz, &err), -1);
	ck_assert_msg_has(err.msg, "boot flag is not 0xAA55");
	memcpy(img + 0x202, "HdrX", 4);
	ck_assert(!bzimage_is_bzimage(img, len));
	ck_assert_int_eq(bzimage_parse(img, len, "bz", &bz, &err), -1);
	ck_assert_msg_has(err.msg, "no HdrS signature");
}
END_TEST

/* A file that ends right after "HdrS" (0x206 bytes), placed against an unmapped page: reading past it faults. */
START_TEST(bzimage_ends_after_signature)
{
	long page = sysconf(_SC_PAGESIZE);
	uint8_t *map = mmap(NULL, 2 * (size_t)page, PROT_READ | PROT_WRITE, MAP_PRIVATE | MAP_ANONYMOUS, -1, 0);
	uint8_t *file;
	struct bzimage bz;
	struct cloak_err err;

	ck_assert(map != MAP_FAILED);
	ck_assert_int_eq(mprotect(map + page, (size_t)page, PROT_NONE), 0);
	file = map + page - 0x206;
	fake_bzimage(img, sizeof(img), 0x020f, 1);
	memcpy(file, img, 0x206);
	ck_assert(bzimage_is_bzimage(file, 0x206));
	ck_assert_int_eq(bzimage_parse(file, 0x206, "bz", &bz, &err), -1);
	ck_assert_msg_has(err.msg, "truncated inside its setup header");
	munmap(map, 2 * (size_t)page);
}
END_TEST

Suite *loader_suite(void)
{
	Suite *s = suite_create("loader");
	TCase *tc = tcase_create("elf");
	TCase *bz = tcase_create("bzimage");

	tcase_add_test(tc, elf_good);
	tcase_add_test(tc, elf_high_virtual_entry_maps_to_physical);
	tcase_add_test(tc, elf_pvh_note);
	tcase_add_test(tc, elf_broken);
	tcase_add_test(tc, elf32_pvh);
	tcase_add_test(tc, elf_pvh_entry_between_segments);
	tcase_add_test(tc, multiboot1_header);
	tcase_add_test(tc, multiboot2_header);
	tcase_add_test(bz, bzimage_good);
	tcase_add_test(bz, bzimage_broken);
	tcase_add_test(bz, bzimage_ends_after_signature);
	suite_add_tcase(s, tc);
	suite_add_tcase(s, bz);
	return s;
}
