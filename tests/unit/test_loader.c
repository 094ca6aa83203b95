/* test_loader.c: the ELF64 and bzImage parsers against images built in memory, good and broken. */
#include "loader.h"
#include "unit.h"

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

START_TEST(elf_pvh_note)
{
	uint64_t pa[2] = { 0x100000, 0 };
	size_t len = make_elf(img, sizeof(img), 2, pa, 0x100000);
	Elf64_Phdr *note = phdr(img, 1);
	Elf64_Nhdr nh = { .n_namesz = 4, .n_descsz = 4, .n_type = 18 };
	uint32_t entry = 0x100200;
	struct elf_image e;
	struct cloak_err err;

	*note = (Elf64_Phdr){ .p_type = PT_NOTE, .p_offset = 0x2000, .p_filesz = sizeof(nh) + 8 };
	memcpy(img + 0x2000, &nh, sizeof(nh));
	memcpy(img + 0x2000 + sizeof(nh), "Xen", 4);
	memcpy(img + 0x2000 + sizeof(nh) + 4, &entry, 4);
	ck_assert_int_eq(elf_parse(img, len, 0x100000, "k", &e, &err), 0);
	ck_assert(e.has_pvh);
	ck_assert_uint_eq(e.pvh_entry, 0x100200);
	/* A note that claims more bytes than it has is refused. */
	note->p_filesz = sizeof(nh) + 2;
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
	ck_assert_msg_has(err.msg, "32-bit ELF");
	img[EI_CLASS] = ELFCLASS64;
	((Elf64_Ehdr *)img)->e_machine = EM_AARCH64;
	ck_assert_int_eq(elf_parse(img, len, 0x100000, "k", &e, &err), -1);
	ck_assert_msg_has(err.msg, "not an x86-64 ELF");
}
END_TEST

static size_t make_bzimage(uint8_t *buf, size_t cap, uint16_t version, uint16_t xloadflags)
{
	memset(buf, 0, cap);
	buf[0x1f1] = 1;
	buf[0x1fe] = 0x55;
	buf[0x1ff] = 0xaa;
	buf[0x201] = 0x66;
	memcpy(buf + 0x202, "HdrS", 4);
	memcpy(buf + 0x206, &version, 2);
	memcpy(buf + 0x236, &xloadflags, 2);
	buf[0x234] = 1;
	*(uint32_t *)(buf + 0x230) = 0x200000;
	*(uint64_t *)(buf + 0x258) = 0x1000000;
	*(uint32_t *)(buf + 0x260) = 0x2000000;
	*(uint32_t *)(buf + 0x238) = 2047;
	*(uint32_t *)(buf + 0x22c) = 0x7fffffff;
	return cap;
}

START_TEST(bzimage_good)
{
	size_t len = make_bzimage(img, sizeof(img), 0x020f, 1);
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
	size_t len = make_bzimage(img, sizeof(img), 0x020b, 1);

	ck_assert_int_eq(bzimage_parse(img, len, "bz", &bz, &err), -1);
	ck_assert_msg_has(err.msg, "uses boot protocol 2.11, too old for the 64-bit entry");
	len = make_bzimage(img, sizeof(img), 0x020f, 0);
	ck_assert_int_eq(bzimage_parse(img, len, "bz", &bz, &err), -1);
	ck_assert_msg_has(err.msg, "no 64-bit entry point");
	len = make_bzimage(img, sizeof(img), 0x020f, 1);
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
	make_bzimage(img, sizeof(img), 0x020f, 1);
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
	tcase_add_test(bz, bzimage_good);
	tcase_add_test(bz, bzimage_broken);
	tcase_add_test(bz, bzimage_ends_after_signature);
	suite_add_tcase(s, tc);
	suite_add_tcase(s, bz);
	return s;
}
