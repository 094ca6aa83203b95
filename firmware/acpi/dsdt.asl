/*
 * dsdt.asl: the DSDT cloak gives Linux guests. The FADT says "hardware
 * reduced", and then Linux sets up no legacy device it is not told about:
 * the PCI host bridge (bus 0 through configuration mechanism #1 at
 * 0xCF8-0xCFF; devices use MSI-X, so there is no _PRT; the memory window is
 * where cloak places BARs, devices/pci.h), COM1 with its IRQ, and the CMOS
 * clock. CPUs and the IOAPIC are in the MADT. With no fixed hardware there
 * is no fixed power button: a Generic Event Device (ACPI0013) takes cloak's
 * power-button line (GSI 16, level, high while port 0x7F's bit 0 is set, see
 * devices/power_button.c), acknowledges it and notifies the power button
 * device (PNP0C0C), which Linux turns into KEY_POWER.
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

        Device (COM1)
        {
            Name (_HID, EisaId ("PNP0501"))
            Name (_UID, One)
            Name (_CRS, ResourceTemplate ()
            {
                IO (Decode16, 0x03F8, 0x03F8, 0x01, 0x08)
                IRQNoFlags () {4}
            })
        }

        Device (PWRB)
        {
            Name (_HID, EisaId ("PNP0C0C"))
            Name (_UID, Zero)
        }

        Device (GED0)
        {
            Name (_HID, "ACPI0013")
            Name (_UID, Zero)
            Name (_CRS, ResourceTemplate ()
            {
                Interrupt (ResourceConsumer, Level, ActiveHigh, Exclusive, ,, ) {16}
            })
            OperationRegion (PBIO, SystemIO, 0x7F, One)
            Field (PBIO, ByteAcc, NoLock, Preserve)
            {
                PBST, 8
            }
            Method (_EVT, 1, Serialized)
            {
                If (LEqual (Arg0, 16))
                {
                    If (And (PBST, One))
                    {
                        Store (One, PBST)
                        Notify (PWRB, 0x80)
                    }
                }
            }
        }

        Device (RTC)
        {
            Name (_HID, EisaId ("PNP0B00"))
            Name (_CRS, ResourceTemplate ()
            {
                IO (Decode16, 0x0070, 0x0070, 0x01, 0x02)
            })
        }
    }
}
