/* pci.c: PCI configuration mechanism #1 (ports 0xcf8/0xcfc) and bus 0 enumeration for guests. */
#include "virtio.h"

static inline void outw(uint16_t port, uint16_t v) { __asm__ volatile("outw %0, %1" : : "a"(v), "Nd"(port)); }
static inline uint32_t inl(uint16_t port)
{
	uint32_t v;

	__asm__ volatile("inl %1, %0" : "=a"(v) : "Nd"(port));
	return v;
}

static void pci_select(unsigned slot, unsigned off)
{
	outl(0xcf8, 0x80000000u | (slot & 31) << 11 | (off & 0xfc));
}

uint32_t pci_cfg_read32(unsigned slot, unsigned off)
{
	pci_select(slot, off);
	return inl(0xcfc);
}

uint16_t pci_cfg_read16(unsigned slot, unsigned off)
{
	return (uint16_t)(pci_cfg_read32(slot, off) >> (8 * (off & 2)));
}

uint8_t pci_cfg_read8(unsigned slot, unsigned off)
{
	return (uint8_t)(pci_cfg_read32(slot, off) >> (8 * (off & 3)));
}

void pci_cfg_write32(unsigned slot, unsigned off, uint32_t v)
{
	pci_select(slot, off);
	outl(0xcfc, v);
}

void pci_cfg_write16(unsigned slot, unsigned off, uint16_t v)
{
	pci_select(slot, off);
	outw((uint16_t)(0xcfc + (off & 2)), v);
}

unsigned pci_enumerate(struct pci_fn *out, unsigned max)
{
	unsigned slot, n = 0;

	for (slot = 0; slot < 32 && n < max; slot++) {
		uint32_t id = pci_cfg_read32(slot, 0);

		if ((id & 0xffff) == 0xffff)
			continue;
		out[n].slot = slot;
		out[n].vendor = (uint16_t)id;
		out[n].device = (uint16_t)(id >> 16);
		out[n].class_code = pci_cfg_read32(slot, 8) >> 8;
		n++;
	}
	return n;
}

uint32_t pci_bar(unsigned slot, unsigned bar)
{
	return pci_cfg_read32(slot, 0x10 + 4 * bar) & ~0xfu;
}

unsigned pci_find_cap(unsigned slot, uint8_t id, unsigned from)
{
	unsigned off = from ? pci_cfg_read8(slot, from + 1) : pci_cfg_read8(slot, 0x34), guard;

	/* A bounded walk: a list that loops ends after the 48 capabilities 256 bytes can hold. */
	for (guard = 0; off >= 0x40 && guard < 48; guard++, off = pci_cfg_read8(slot, off + 1))
		if (pci_cfg_read8(slot, off) == id)
			return off;
	return 0;
}

const char *pci_describe(const struct pci_fn *f)
{
	if (f->vendor == 0x1af4) {
		switch (f->device) {
		case 0x1041: return "virtio-net";
		case 0x1042: return "virtio-blk";
		case 0x1043: return "virtio-console";
		}
		return "virtio (other)";
	}
	if (f->class_code >> 8 == 0x0600)
		return "host bridge";
	return "unknown";
}
