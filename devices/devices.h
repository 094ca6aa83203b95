/* devices.h: the devices a guest sees, and the table that starts them. */
#ifndef CLOAK_DEVICES_H
#define CLOAK_DEVICES_H

#include "devhost.h"

#include <stdio.h>

/* Ports of cloak's own devices (the guest ABI, docs/guest-abi.md). */
#define PORT_COM1         0x3f8
#define IRQ_COM1          4
#define PORT_DEBUG_EXIT   0xf4
#define PORT_BOOT_TIMER   0x7e
#define BOOT_TIMER_MAGIC  123
#define PORT_I8042_DATA   0x60
#define PORT_I8042_CMD    0x64
#define I8042_CMD_RESET   0xfe
#define PORT_POWER_BUTTON 0x7f
#define POWER_BUTTON_PRESSED 0x01
#define GSI_POWER_BUTTON  16  /* an IOAPIC pin above the ISA ones, which Linux assumes edge-triggered */

/*
 * Adding a device means writing its file, one line in devices.c (and its
 * extern below) and one in devices/meson.build; a device with a command-line
 * option also names it in the core's table (config_device_options,
 * vmm/config.c: its name, --config key, count and DMA bytes), which
 * cloak-owner needs without linking devices/.
 * A device reaches the machine only through `host`.
 */
struct device_ops {
	const char *name;
	/*
	 * The device's option (its row in config_device_options), or NULL. The
	 * device owns the option's grammar and help: init reads each value with
	 * the same parser the hooks use.
	 *   parse: checks one value as init will read it, touching nothing on
	 *          the host; the message names the option and the remedy.
	 *   probe: (optional) checks what a parsed value names on the host (an
	 *          image, /dev/net/tun, a directory) before /dev/kvm opens.
	 *   help:  prints the option's lines of `cloak run --help`.
	 */
	const char *option;
	int (*parse)(const char *value, struct cloak_err *err);
	int (*probe)(const char *value, struct cloak_err *err);
	void (*help)(FILE *out);
	int (*init)(struct dev_host *host, struct cloak_err *err);
	void (*fini)(struct dev_host *host);
};

/*
 * Starts every device in table order; on failure runs the failing device's
 * fini too (so every fini must undo a partial init and be safe to run twice),
 * then stops those started, in reverse.
 */
int devices_init(struct dev_host *host, struct cloak_err *err);
void devices_fini(struct dev_host *host);

/*
 * Every device option of cfg through its device's parse hook, in order, and
 * with probe_host through its probe hook too; a value from --config gets the
 * file and key in front of the device's message.
 */
int devices_check_options(const struct vm_config *cfg, bool probe_host, struct cloak_err *err);
/* The device options' lines of `cloak run --help`, from each device's help hook. */
void devices_print_help(FILE *out);
/* The device that takes option `name` (without --), or NULL. */
const struct device_ops *devices_for_option(const char *name);

extern const struct device_ops uart8250_device;
extern const struct device_ops debug_exit_device;
extern const struct device_ops boot_timer_device;
extern const struct device_ops i8042_device;
extern const struct device_ops rtc_cmos_device;
extern const struct device_ops power_button_device;
/* SIGTERM asks the guest to power off: raises the button (false: no VM attached it yet). */
bool power_button_press(void);
/* PCI and virtio: the bus first, then the virtio functions. */
extern const struct device_ops pci_host_device;
extern const struct device_ops virtio_blk_device;
extern const struct device_ops virtio_net_device;
extern const struct device_ops virtio_console_device;

#endif
