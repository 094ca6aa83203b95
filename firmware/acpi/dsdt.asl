/*
 * dsdt.asl: the DSDT cloak gives Linux guests: one PCI host bridge, so that a
 * kernel using ACPI scans PCI bus 0 through configuration mechanism #1
 * (ports 0xCF8-0xCFF). Devices use MSI-X, so there is no _PRT. The memory
 * window is the part of the hole below the IOAPIC where cloak places BARs
 * (devices/pci.h); the other hardware is in the MADT and on legacy ports.
 */
DefinitionBlock ("dsdt.aml", "DSDT", 2, "CLOAK ", "CLOAKVM ", 1)
{
    Scope (\_SB)
    {
        Device (PCI0)
        {
            Name (_HID, EisaId ("PNP0A03"))
            Name (_UID, Zero)
            Name (_SEG, Zero)
            Name (_BBN, Zero)
            Name (_CRS, ResourceTemplate ()
            {
                WordBusNumber (ResourceProducer, MinFixed, MaxFixed, PosDecode,
                    0x0000, 0x0000, 0x0000, 0x0000, 0x0001)
                IO (Decode16, 0x0CF8, 0x0CF8, 0x01, 0x08)
                WordIO (ResourceProducer, MinFixed, MaxFixed, PosDecode, EntireRange,
                    0x0000, 0x0000, 0x0CF7, 0x0000, 0x0CF8)
                WordIO (ResourceProducer, MinFixed, MaxFixed, PosDecode, EntireRange,
                    0x0000, 0x0D00, 0xFFFF, 0x0000, 0xF300)
                DWordMemory (ResourceProducer, PosDecode, MinFixed, MaxFixed, NonCacheable, ReadWrite,
                    0x00000000, 0xE0000000, 0xFEBFFFFF, 0x00000000, 0x1EC00000)
            })
        }
    }
}
