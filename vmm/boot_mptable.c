/* boot_mptable.c: the Intel MultiProcessor table, so a Linux guest finds its CPUs and the IOAPIC without ACPI. */
#include "plan.h"

#include <string.h>

/* Intel MultiProcessor Specification 1.4, chapter 4. */
#define MP_LAPIC_GPA 0xfee00000u
#define MP_IOAPIC_GPA 0xfec00000u
#define MP_SPEC_REV 4
#define MP_FLOATING_OFF (PAGE_SIZE - 16)  /* ends at 640 KiB: inside the last KiB Linux scans */

enum { MP_PROCESSOR = 0, MP_BUS = 1, MP_IOAPIC = 2, MP_IOINTR = 3, MP_LINTR = 4 };
enum { MP_INT = 0, MP_NMI = 1, MP_EXTINT = 3 };

static void put16(uint8_t *p, uint16_t v)
{
	p[0] = (uint8_t)v;
	p[1] = (uint8_t)(v >> 8);
}

static void put32(uint8_t *p, uint32_t v)
{
	put16(p, (uint16_t)v);
	put16(p + 2, (uint16_t)(v >> 16));
}

static uint8_t mp_checksum(const uint8_t *p, size_t len)
{
	uint8_t sum = 0;

	while (len--)
		sum = (uint8_t)(sum + *p++);
	return (uint8_t)-sum;
}

size_t boot_mptable_build(uint8_t page[PAGE_SIZE], uint64_t page_gpa, unsigned cpus)
{
	uint8_t *cfg = page, *e = page + 44, *fp = page + MP_FLOATING_OFF;
	uint8_t ioapic_id = (uint8_t)cpus;
	unsigned i, entries = 0;

	memset(page, 0, PAGE_SIZE);
	for (i = 0; i < cpus; i++, e += 20, entries++) {
		e[0] = MP_PROCESSOR;
		e[1] = (uint8_t)i;            /* local APIC ID: KVM numbers vCPUs from 0 */
		e[2] = 0x14;                  /* an integrated local APIC */
		e[3] = (uint8_t)(1 | (i == 0 ? 2 : 0));  /* enabled; the first is the bootstrap processor */
		put32(e + 4, 0x600);          /* family 6 signature: Linux reads it only for old quirks */
		put32(e + 8, 0x201);          /* FPU and APIC present */
	}
	/* Bus 0 is PCI (cloak's virtio functions, MSI-X only) and bus 1 the ISA legacy devices. */
	e[0] = MP_BUS;
	e[1] = 0;
	memcpy(e + 2, "PCI   ", 6);
	e += 8, entries++;
	e[0] = MP_BUS;
	e[1] = 1;
	memcpy(e + 2, "ISA   ", 6);
	e += 8, entries++;
	e[0] = MP_IOAPIC;
	e[1] = ioapic_id;
	e[2] = 0x11;
	e[3] = 1;
	put32(e + 4, MP_IOAPIC_GPA);
	e += 8, entries++;
	/*
	 * ISA IRQ n is IOAPIC pin n: KVM's default routing sends GSI n to pin n
	 * (the PIT included), so no IRQ0-to-pin-2 override here. IRQ 2 is the
	 * PICs' cascade and has no pin.
	 */
	for (i = 0; i < 16; i++) {
		if (i == 2)
			continue;
		e[0] = MP_IOINTR;
		e[1] = MP_INT;
		put16(e + 2, 0);  /* polarity and trigger as the ISA bus has them: edge, active high */
		e[4] = 1;
		e[5] = (uint8_t)i;
		e[6] = ioapic_id;
		e[7] = (uint8_t)i;
		e += 8, entries++;
	}
	/* Every local APIC: LINT0 takes the PIC's ExtINT, LINT1 NMI, as on a PC. */
	for (i = 0; i < 2; i++) {
		e[0] = MP_LINTR;
		e[1] = i == 0 ? MP_EXTINT : MP_NMI;
		put16(e + 2, 0);
		e[4] = 1;
		e[5] = 0;
		e[6] = 0xff;
		e[7] = (uint8_t)i;
		e += 8, entries++;
	}

	memcpy(cfg, "PCMP", 4);
	put16(cfg + 4, (uint16_t)(e - cfg));
	cfg[6] = MP_SPEC_REV;
	memcpy(cfg + 8, "CLOAK   ", 8);
	memcpy(cfg + 16, "MICROVM     ", 12);
	put16(cfg + 34, (uint16_t)entries);
	put32(cfg + 36, MP_LAPIC_GPA);
	cfg[7] = mp_checksum(cfg, (size_t)(e - cfg));

	memcpy(fp, "_MP_", 4);
	put32(fp + 4, (uint32_t)page_gpa);
	fp[8] = 1;  /* length in 16-byte units */
	fp[9] = MP_SPEC_REV;
	/* Feature bytes 0: the configuration table above is used, no default configuration. */
	fp[10] = mp_checksum(fp, 16);
	return (size_t)(e - cfg);
}
