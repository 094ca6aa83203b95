/* boot_acpi.c: minimal hardware-reduced ACPI tables (RSDP, XSDT, FADT, MADT, DSDT) for Linux guests. */
#include "boot.h"

#include <string.h>

/*
 * Debian's kernels are built without MP-table parsing (CONFIG_X86_MPPARSE is
 * off), so ACPI's MADT is the only way they find more than one CPU and the
 * IOAPIC. Hardware-reduced ACPI needs no PM timer, SCI or GPE blocks: the
 * tables are pure data, laid out in one page:
 */
#define ACPI_RSDP_OFF 0x000
#define ACPI_XSDT_OFF 0x040
#define ACPI_FADT_OFF 0x080
#define ACPI_MADT_OFF 0x200
#define ACPI_DSDT_OFF 0x500
#define ACPI_HDR_LEN 36
#define ACPI_FADT_LEN 276
#define ACPI_FADT_HW_REDUCED (1u << 20)
#define ACPI_BOOT_VGA_NOT_PRESENT (1u << 2)
#define LAPIC_GPA 0xfee00000u
#define IOAPIC_GPA 0xfec00000u

_Static_assert(ACPI_MADT_OFF + 44 + 8 * CONFIG_MAX_CPUS + 12 <= ACPI_DSDT_OFF, "the MADT fits before the DSDT");
#define ACPI_DSDT_MAX (PAGE_SIZE - ACPI_DSDT_OFF)

static void put16(uint8_t *p, uint16_t v) { memcpy(p, &v, 2); }
static void put32(uint8_t *p, uint32_t v) { memcpy(p, &v, 4); }
static void put64(uint8_t *p, uint64_t v) { memcpy(p, &v, 8); }

static uint8_t acpi_checksum(const uint8_t *p, size_t len)
{
	uint8_t sum = 0;

	while (len--)
		sum = (uint8_t)(sum + *p++);
	return (uint8_t)(0x100 - sum);
}

static void acpi_header(uint8_t *t, const char sig[4], uint32_t len, uint8_t rev)
{
	memcpy(t, sig, 4);
	put32(t + 4, len);
	t[8] = rev;
	memcpy(t + 10, "CLOAK ", 6);
	memcpy(t + 16, "CLOAKVM ", 8);
	put32(t + 24, 1);
	memcpy(t + 28, "CLOK", 4);
	put32(t + 32, 1);
}

static void acpi_seal(uint8_t *t)
{
	uint32_t len;

	memcpy(&len, t + 4, 4);
	t[9] = 0;
	t[9] = acpi_checksum(t, len);
}

uint64_t boot_acpi_build(uint8_t page[PAGE_SIZE], uint64_t page_gpa, unsigned cpus)
{
	uint8_t *rsdp = page + ACPI_RSDP_OFF, *xsdt = page + ACPI_XSDT_OFF, *fadt = page + ACPI_FADT_OFF;
	uint8_t *madt = page + ACPI_MADT_OFF, *dsdt = page + ACPI_DSDT_OFF, *e;
	uint32_t madt_len = 44 + 8 * cpus + 12;
	unsigned i;

	memset(page, 0, PAGE_SIZE);
	if ((size_t)(cloak_dsdt_end - cloak_dsdt_start) > ACPI_DSDT_MAX)
		return 0;  /* a build-time mistake: the unit tests catch it */

	/* The DSDT is compiled from firmware/acpi/dsdt.asl; it carries its own checksum. */
	memcpy(dsdt, cloak_dsdt_start, (size_t)(cloak_dsdt_end - cloak_dsdt_start));

	acpi_header(fadt, "FACP", ACPI_FADT_LEN, 6);
	put32(fadt + 40, (uint32_t)(page_gpa + ACPI_DSDT_OFF));
	fadt[108] = 0x32;  /* CMOS century register, as devices/rtc_cmos.c keeps it */
	put16(fadt + 109, ACPI_BOOT_VGA_NOT_PRESENT);
	put32(fadt + 112, ACPI_FADT_HW_REDUCED);
	fadt[131] = 0;     /* FADT minor version */
	put64(fadt + 140, page_gpa + ACPI_DSDT_OFF);
	memcpy(fadt + 268, "CLOAKVMM", 8);  /* hypervisor vendor identity */
	acpi_seal(fadt);

	acpi_header(madt, "APIC", madt_len, 5);
	put32(madt + 36, LAPIC_GPA);
	put32(madt + 40, 1);  /* PCAT_COMPAT: the 8259s are there (in KVM) */
	for (i = 0, e = madt + 44; i < cpus; i++, e += 8) {
		e[0] = 0;  /* processor local APIC */
		e[1] = 8;
		e[2] = (uint8_t)i;  /* ACPI processor UID */
		e[3] = (uint8_t)i;  /* APIC ID, as kvm_cpuid_adjust gives vCPU i */
		put32(e + 4, 1);    /* enabled */
	}
	e[0] = 1;  /* I/O APIC: KVM's in-kernel one, GSIs 0-23 map to ISA IRQs one to one */
	e[1] = 12;
	e[2] = (uint8_t)cpus;
	put32(e + 4, IOAPIC_GPA);
	put32(e + 8, 0);
	acpi_seal(madt);

	acpi_header(xsdt, "XSDT", ACPI_HDR_LEN + 16, 1);
	put64(xsdt + 36, page_gpa + ACPI_FADT_OFF);
	put64(xsdt + 44, page_gpa + ACPI_MADT_OFF);
	acpi_seal(xsdt);

	memcpy(rsdp, "RSD PTR ", 8);
	memcpy(rsdp + 9, "CLOAK ", 6);
	rsdp[15] = 2;  /* ACPI 2.0+: use the XSDT */
	put32(rsdp + 20, 36);
	put64(rsdp + 24, page_gpa + ACPI_XSDT_OFF);
	rsdp[8] = acpi_checksum(rsdp, 20);
	rsdp[32] = acpi_checksum(rsdp, 36);
	return page_gpa + ACPI_RSDP_OFF;
}
