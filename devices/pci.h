/* pci.h: the PCI host bridge (configuration mechanism #1), BARs in the MMIO hole, and MSI-X. */
#ifndef CLOAK_PCI_H
#define CLOAK_PCI_H

#include "devhost.h"

#include <pthread.h>

/*
 * BARs live in the hole below 4 GiB, from 0xE0000000, well clear of the
 * IOAPIC (0xFEC00000), the LAPIC (0xFEE00000) and KVM's TSS pages.
 */
#define PCI_MMIO_BASE 0xe0000000ull
#define PCI_MMIO_SIZE 0x01000000ull
#define PCI_PORT_ADDR 0xcf8
#define PCI_PORT_DATA 0xcfc
#define PCI_MAX_SLOTS 32
#define PCI_CFG_SIZE 256
#define PCI_NUM_BARS 6

/* Configuration space offsets and bits used here (PCI Local Bus 3.0, §6). */
#define PCI_VENDOR_ID 0x00
#define PCI_DEVICE_ID 0x02
#define PCI_COMMAND 0x04
#define PCI_STATUS 0x06
#define PCI_REVISION 0x08
#define PCI_CLASS_PROG 0x09
#define PCI_HEADER_TYPE 0x0e
#define PCI_BAR0 0x10
#define PCI_SUBSYS_VENDOR 0x2c
#define PCI_SUBSYS_ID 0x2e
#define PCI_CAP_PTR 0x34
#define PCI_INTERRUPT_LINE 0x3c
#define PCI_INTERRUPT_PIN 0x3d
#define PCI_COMMAND_MEMORY 0x2
#define PCI_COMMAND_MASTER 0x4
#define PCI_STATUS_CAP_LIST 0x10
#define PCI_CAP_ID_MSIX 0x11
#define PCI_CAP_ID_VNDR 0x09

struct pci_device {
	const char *name;
	unsigned slot;
	uint8_t cfg[PCI_CFG_SIZE];
	uint8_t wmask[PCI_CFG_SIZE];   /* bits the guest may change */
	uint32_t bar_size[PCI_NUM_BARS]; /* 0: no BAR; else a power of two, 32-bit memory */
	uint8_t cap_end;               /* where the next capability goes */
	uint8_t cap_last;              /* the last capability's next pointer, to chain the next one */
	void *opaque;
	/* A guest access to one of the BARs; off is relative to the BAR's base. */
	void (*bar_access)(struct pci_device *d, unsigned bar, uint64_t off, bool is_write, uint8_t *data,
			   unsigned size);
	/* Called with the bus lock held: after a config write, and before a config read. */
	void (*config_written)(struct pci_device *d, unsigned off, unsigned size);
	void (*config_reading)(struct pci_device *d, unsigned off, unsigned size);
};

struct pci_bus {
	pthread_mutex_t lock;       /* configuration space and the device table */
	uint32_t addr;              /* the 0xcf8 register */
	struct pci_device *dev[PCI_MAX_SLOTS];
	struct pci_device bridge;
	uint64_t mmio_next;
	struct dev_host *host;      /* MSI vectors come from here */
};

void pci_bus_init(struct pci_bus *bus, struct dev_host *host);
/* Puts a device in the next free slot and gives its BARs addresses in the MMIO window. */
int pci_bus_add(struct pci_bus *bus, struct pci_device *d, struct cloak_err *err);

/* Configuration mechanism #1 as the guest sees it; `bdf_off` is the 0xcf8 value's bus/dev/fn/reg part. */
uint32_t pci_config_read(struct pci_bus *bus, unsigned slot, unsigned fn, unsigned off, unsigned size);
void pci_config_write(struct pci_bus *bus, unsigned slot, unsigned fn, unsigned off, unsigned size, uint32_t val);
/* Port handlers for 0xcf8 and 0xcfc-0xcff. */
void pci_port_access(void *opaque, uint64_t port, bool is_write, uint8_t *data, unsigned size);
/* An access inside the MMIO window; false when no enabled BAR holds it. */
bool pci_mmio_access(struct pci_bus *bus, uint64_t addr, bool is_write, uint8_t *data, unsigned size);

/* Builders for a device's configuration space. */
void pci_device_init(struct pci_device *d, const char *name, uint16_t vendor, uint16_t device, uint32_t class_code,
		     uint8_t revision);
void pci_set_bar(struct pci_device *d, unsigned bar, uint32_t size);
/* The guest's address of a BAR, or 0 when memory decoding is off or the BAR is not in the window. */
uint64_t pci_bar_addr(const struct pci_device *d, unsigned bar);
/* Appends a capability of `len` bytes; returns its offset (0 when there is no room). */
unsigned pci_add_cap(struct pci_device *d, uint8_t id, unsigned len);
void pci_cfg_put16(struct pci_device *d, unsigned off, uint16_t v);
void pci_cfg_put32(struct pci_device *d, unsigned off, uint32_t v);
uint16_t pci_cfg_get16(const struct pci_device *d, unsigned off);
uint32_t pci_cfg_get32(const struct pci_device *d, unsigned off);

/*
 * MSI-X: the table and pending bits live in a BAR; each vector has an MSI
 * handle and an eventfd from the host (an irqfd under KVM), so raising it is
 * one eventfd write and no exit to userspace.
 */
#define PCI_MSIX_MAX 16

struct pci_msix {
	pthread_mutex_t lock;
	struct pci_bus *bus;
	struct pci_device *dev;
	unsigned cap;       /* offset of the capability in configuration space */
	unsigned nvec;
	uint32_t table[PCI_MSIX_MAX][4];  /* address low, address high, data, vector control */
	uint64_t pending;
	int msi[PCI_MSIX_MAX];   /* the host's handle for each vector's route */
	int irqfd[PCI_MSIX_MAX];
	bool routed[PCI_MSIX_MAX];
	bool enabled, masked;  /* the capability's enable and function-mask bits */
};

/* Adds the capability (table at table_off, PBA at pba_off in `bar`) and opens the vectors with the host. */
int pci_msix_init(struct pci_msix *x, struct pci_bus *bus, struct pci_device *d, unsigned nvec, unsigned bar,
		  uint32_t table_off, uint32_t pba_off, struct cloak_err *err);
void pci_msix_fini(struct pci_msix *x);
/* Accesses to the table and PBA, offsets relative to the table's start and the PBA's start. */
void pci_msix_table_access(struct pci_msix *x, uint64_t off, bool is_write, uint8_t *data, unsigned size);
void pci_msix_pba_access(struct pci_msix *x, uint64_t off, bool is_write, uint8_t *data, unsigned size);
/* Call after a config write touching the capability (enable, function mask). */
void pci_msix_config_written(struct pci_msix *x);
/* Raises `vector`: true when it was sent or left pending, false when MSI-X is off or the vector absent. */
bool pci_msix_notify(struct pci_msix *x, unsigned vector);

#endif
