/* loader_elf.c: checks a static ELF guest (ELF64, or ELF32 i386) and finds its segments and entry points. */
#include "loader.h"

#include <elf.h>
#include <string.h>

#define XEN_ELFNOTE_PHYS32_ENTRY 18

bool elf_is_elf(const uint8_t *buf, size_t len)
{
	return len >= SELFMAG && !memcmp(buf, ELFMAG, SELFMAG);
}

/* True when [off, off+len) lies inside a file of `size` bytes. */
static bool in_file(uint64_t off, uint64_t len, size_t size)
{
	return off <= size && len <= size - off;
}

static int elf_scan_notes(const uint8_t *buf, uint64_t off, uint64_t len, struct elf_image *out)
{
	uint64_t end = off + len;

	while (end - off >= sizeof(Elf64_Nhdr)) {
		Elf64_Nhdr nh;
		uint64_t name_sz, desc_sz, desc_off;

		memcpy(&nh, buf + off, sizeof(nh));
		name_sz = ALIGN_UP((uint64_t)nh.n_namesz, 4);
		desc_sz = ALIGN_UP((uint64_t)nh.n_descsz, 4);
		desc_off = off + sizeof(nh) + name_sz;
		if (name_sz > end - off - sizeof(nh) || desc_sz > end - desc_off)
			return -1;
		if (nh.n_type == XEN_ELFNOTE_PHYS32_ENTRY && nh.n_namesz == 4 &&
		    !memcmp(buf + off + sizeof(nh), "Xen", 4)) {
			if (nh.n_descsz == 4) {
				uint32_t e;

				memcpy(&e, buf + desc_off, 4);
				out->pvh_entry = e;
			} else if (nh.n_descsz == 8) {
				memcpy(&out->pvh_entry, buf + desc_off, 8);
			} else {
				return -1;
			}
			out->has_pvh = true;
		}
		off = desc_off + desc_sz;
	}
	return 0;
}

/* The fields cloak reads from an ELF header, whichever its class. */
struct elf_header {
	bool is32;
	uint16_t type, machine, phentsize, phnum;
	uint64_t entry, phoff;
};

static void elf_read_header(const uint8_t *buf, struct elf_header *h)
{
	if (buf[EI_CLASS] == ELFCLASS32) {
		Elf32_Ehdr eh;

		memcpy(&eh, buf, sizeof(eh));
		*h = (struct elf_header){ .is32 = true, .type = eh.e_type, .machine = eh.e_machine,
					  .phentsize = eh.e_phentsize, .phnum = eh.e_phnum,
					  .entry = eh.e_entry, .phoff = eh.e_phoff };
	} else {
		Elf64_Ehdr eh;

		memcpy(&eh, buf, sizeof(eh));
		*h = (struct elf_header){ .is32 = false, .type = eh.e_type, .machine = eh.e_machine,
					  .phentsize = eh.e_phentsize, .phnum = eh.e_phnum,
					  .entry = eh.e_entry, .phoff = eh.e_phoff };
	}
}

/* Reads program header `i` of either class as an Elf64_Phdr. */
static void elf_read_phdr(const uint8_t *buf, const struct elf_header *h, unsigned i, Elf64_Phdr *ph)
{
	if (h->is32) {
		Elf32_Phdr p;

		memcpy(&p, buf + h->phoff + (uint64_t)i * sizeof(p), sizeof(p));
		*ph = (Elf64_Phdr){ .p_type = p.p_type, .p_flags = p.p_flags, .p_offset = p.p_offset,
				    .p_vaddr = p.p_vaddr, .p_paddr = p.p_paddr, .p_filesz = p.p_filesz,
				    .p_memsz = p.p_memsz, .p_align = p.p_align };
	} else {
		memcpy(ph, buf + h->phoff + (uint64_t)i * sizeof(*ph), sizeof(*ph));
	}
}

bool elf_in_segment(const struct elf_image *elf, uint64_t addr)
{
	unsigned i;

	for (i = 0; i < elf->nsegments; i++)
		if (addr >= elf->segments[i].paddr && addr - elf->segments[i].paddr < elf->segments[i].memsz)
			return true;
	return false;
}

int elf_parse(const uint8_t *buf, size_t len, uint64_t min_paddr, const char *what,
	      struct elf_image *out, struct cloak_err *err)
{
	struct elf_header eh;
	size_t ehdr_size, phdr_size;
	unsigned i;

	memset(out, 0, sizeof(*out));
	if (len < EI_NIDENT || !elf_is_elf(buf, len))
		return err_set(err, "%s is not an ELF file (truncated or bad magic)", what);
	if (buf[EI_CLASS] != ELFCLASS32 && buf[EI_CLASS] != ELFCLASS64)
		return err_set(err, "%s is corrupt: ELF class %u is neither 32- nor 64-bit", what, buf[EI_CLASS]);
	ehdr_size = buf[EI_CLASS] == ELFCLASS32 ? sizeof(Elf32_Ehdr) : sizeof(Elf64_Ehdr);
	phdr_size = buf[EI_CLASS] == ELFCLASS32 ? sizeof(Elf32_Phdr) : sizeof(Elf64_Phdr);
	if (len < ehdr_size)
		return err_set(err, "%s is not an ELF file (truncated or bad magic)", what);
	elf_read_header(buf, &eh);
	out->is32 = eh.is32;
	if (eh.is32 && (buf[EI_DATA] != ELFDATA2LSB || eh.machine != EM_386))
		return err_set(err, "%s is a 32-bit ELF for machine %u, not i386 (3); cloak boots ELF32 i386 and "
				    "ELF64 x86-64 images", what, eh.machine);
	if (!eh.is32 && (buf[EI_DATA] != ELFDATA2LSB || eh.machine != EM_X86_64))
		return err_set(err, "%s is not an x86-64 ELF (machine %u)", what, eh.machine);
	if (eh.type != ET_EXEC)
		return err_set(err, "%s is not a static executable (ELF type %u); link it with -static -no-pie",
			       what, eh.type);
	if (eh.phentsize != phdr_size || eh.phnum == 0 || eh.phnum > 128 ||
	    !in_file(eh.phoff, (uint64_t)eh.phnum * phdr_size, len))
		return err_set(err, "%s is truncated or corrupt: its program headers lie outside the file", what);

	out->lowest = UINT64_MAX;
	for (i = 0; i < eh.phnum; i++) {
		Elf64_Phdr ph;
		struct elf_segment *seg;

		elf_read_phdr(buf, &eh, i, &ph);
		if (ph.p_type == PT_INTERP)
			return err_set(err, "%s is dynamically linked; cloak boots static executables", what);
		if (ph.p_type == PT_NOTE && in_file(ph.p_offset, ph.p_filesz, len)) {
			if (elf_scan_notes(buf, ph.p_offset, ph.p_filesz, out) < 0)
				return err_set(err, "%s is corrupt: a note segment is malformed", what);
			continue;
		}
		if (ph.p_type != PT_LOAD || ph.p_memsz == 0)
			continue;
		if (!in_file(ph.p_offset, ph.p_filesz, len))
			return err_set(err, "%s is truncated: segment %u needs bytes up to offset %llu but the file "
					    "has %zu", what, i,
				       (unsigned long long)(ph.p_offset + ph.p_filesz), len);
		if (ph.p_filesz > ph.p_memsz)
			return err_set(err, "%s is corrupt: segment %u has more file bytes than memory bytes", what, i);
		if (ph.p_paddr > UINT64_MAX - ph.p_memsz || ph.p_paddr + ph.p_memsz > (1ull << 46))
			return err_set(err, "%s: segment %u at 0x%llx is beyond any guest memory", what, i,
				       (unsigned long long)ph.p_paddr);
		if (ph.p_paddr < min_paddr)
			return err_set(err, "%s: segment %u at 0x%llx lies below 0x%llx, where cloak keeps its boot "
					    "structures; link the guest at 1 MiB or above", what, i,
				       (unsigned long long)ph.p_paddr, (unsigned long long)min_paddr);
		if (out->nsegments == ELF_MAX_SEGMENTS)
			return err_set(err, "%s has more than %d loadable segments", what, ELF_MAX_SEGMENTS);
		seg = &out->segments[out->nsegments++];
		seg->paddr = ph.p_paddr;
		seg->filesz = ph.p_filesz;
		seg->memsz = ph.p_memsz;
		seg->offset = ph.p_offset;
		if (ph.p_paddr < out->lowest)
			out->lowest = ph.p_paddr;
		if (ph.p_paddr + ph.p_memsz > out->highest)
			out->highest = ph.p_paddr + ph.p_memsz;
		/* Kernels link at high virtual addresses and load low: enter at the physical twin. */
		if (!out->has_entry && eh.entry >= ph.p_vaddr && eh.entry - ph.p_vaddr < ph.p_memsz) {
			out->entry = eh.entry - ph.p_vaddr + ph.p_paddr;
			out->has_entry = true;
		}
	}
	if (out->nsegments == 0)
		return err_set(err, "%s has no loadable segments", what);
	for (i = 0; i < out->nsegments; i++) {
		unsigned j;

		for (j = i + 1; j < out->nsegments; j++) {
			const struct elf_segment *a = &out->segments[i], *b = &out->segments[j];

			if (a->paddr < b->paddr + b->memsz && b->paddr < a->paddr + a->memsz)
				return err_set(err, "%s is corrupt: segments %u and %u overlap", what, i, j);
		}
	}
	if (!out->has_entry && !out->has_pvh && !out->is32)
		return err_set(err, "%s: entry point 0x%llx is not inside any loadable segment", what,
			       (unsigned long long)eh.entry);
	/* Between segments or past them there is nothing loaded (and nothing measured) to run. */
	if (out->has_pvh && !elf_in_segment(out, out->pvh_entry))
		return err_set(err, "%s: PVH entry 0x%llx is not inside any loaded segment", what,
			       (unsigned long long)out->pvh_entry);
	return 0;
}
