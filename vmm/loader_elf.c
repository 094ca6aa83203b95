/* loader_elf.c: checks a static ELF64 guest and finds its segments and entry points. */
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

int elf_parse(const uint8_t *buf, size_t len, uint64_t min_paddr, const char *what,
	      struct elf_image *out, struct cloak_err *err)
{
	Elf64_Ehdr eh;
	bool entry_found = false;
	unsigned i;

	memset(out, 0, sizeof(*out));
	if (len < sizeof(eh) || !elf_is_elf(buf, len))
		return err_set(err, "%s is not an ELF file (truncated or bad magic)", what);
	memcpy(&eh, buf, sizeof(eh));
	if (eh.e_ident[EI_CLASS] != ELFCLASS64)
		return err_set(err, "%s is a 32-bit ELF; cloak boots ELF64 guests (or a bzImage)", what);
	if (eh.e_ident[EI_DATA] != ELFDATA2LSB || eh.e_machine != EM_X86_64)
		return err_set(err, "%s is not an x86-64 ELF (machine %u)", what, eh.e_machine);
	if (eh.e_type != ET_EXEC)
		return err_set(err, "%s is not a static executable (ELF type %u); link it with -static -no-pie",
			       what, eh.e_type);
	if (eh.e_phentsize != sizeof(Elf64_Phdr) || eh.e_phnum == 0 || eh.e_phnum > 128 ||
	    !in_file(eh.e_phoff, (uint64_t)eh.e_phnum * sizeof(Elf64_Phdr), len))
		return err_set(err, "%s is truncated or corrupt: its program headers lie outside the file", what);

	out->lowest = UINT64_MAX;
	for (i = 0; i < eh.e_phnum; i++) {
		Elf64_Phdr ph;
		struct elf_segment *seg;

		memcpy(&ph, buf + eh.e_phoff + (uint64_t)i * sizeof(ph), sizeof(ph));
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
		if (!entry_found && eh.e_entry >= ph.p_vaddr && eh.e_entry - ph.p_vaddr < ph.p_memsz) {
			out->entry = eh.e_entry - ph.p_vaddr + ph.p_paddr;
			entry_found = true;
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
	if (!entry_found && !out->has_pvh)
		return err_set(err, "%s: entry point 0x%llx is not inside any loadable segment", what,
			       (unsigned long long)eh.e_entry);
	if (out->has_pvh && (out->pvh_entry < out->lowest || out->pvh_entry >= out->highest))
		return err_set(err, "%s: PVH entry 0x%llx is not inside the loaded image", what,
			       (unsigned long long)out->pvh_entry);
	return 0;
}
