/* devices.h: the devices a guest sees, and the table that starts them. */
#ifndef CLOAK_DEVICES_H
#define CLOAK_DEVICES_H

#include "machine.h"

/* Ports of cloak's own devices (the guest ABI, README "Guest ABI"). */
#define PORT_COM1         0x3f8
#define IRQ_COM1          4
#define PORT_DEBUG_EXIT   0xf4
#define PORT_BOOT_TIMER   0x7e
#define BOOT_TIMER_MAGIC  123
#define PORT_I8042_DATA   0x60
#define PORT_I8042_CMD    0x64
#define I8042_CMD_RESET   0xfe

/* Adding a device means writing its file and one line in devices.c. */
struct device_ops {
	const char *name;
	int (*init)(struct machine *m, struct cloak_err *err);
	void (*fini)(struct machine *m);
	/*
	 * Bytes of guest DMA this device may have in flight for `cfg` (0 or NULL:
	 * none); a confidential Linux guest's swiotlb is sized from their sum.
	 */
	uint64_t (*dma_bytes)(const struct vm_config *cfg);
};

/* The sum of every device's dma_bytes for `cfg`. */
uint64_t devices_dma_bytes(const struct vm_config *cfg);

extern const struct device_ops uart8250_device;
extern const struct device_ops debug_exit_device;
extern const struct device_ops boot_timer_device;
extern const struct device_ops i8042_device;
extern const struct device_ops rtc_cmos_device;
/* PCI and virtio: the bus first, then the virtio functions, the I/O thread last. */
extern const struct device_ops pci_host_device;
extern const struct device_ops virtio_blk_device;
extern const struct device_ops virtio_net_device;
extern const struct device_ops virtio_console_device;
extern const struct device_ops io_thread_device;

#endif
