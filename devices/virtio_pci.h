/* virtio_pci.h: the modern virtio-pci transport (virtio 1.2 §4.1) that every cloak virtio device sits on. */
#ifndef CLOAK_VIRTIO_PCI_H
#define CLOAK_VIRTIO_PCI_H

#include "pci.h"
#include "virtq.h"

#define VIRTIO_MAX_QUEUES 4
#define VIRTIO_NO_VECTOR 0xffff

#define VIRTIO_STATUS_ACKNOWLEDGE 1
#define VIRTIO_STATUS_DRIVER 2
#define VIRTIO_STATUS_DRIVER_OK 4
#define VIRTIO_STATUS_FEATURES_OK 8
#define VIRTIO_STATUS_NEEDS_RESET 0x40
#define VIRTIO_STATUS_FAILED 0x80

/* Where each structure sits in BAR 0; the capabilities point here. */
#define VPCI_COMMON_OFF 0x0000
#define VPCI_COMMON_LEN 0x38
#define VPCI_ISR_OFF 0x1000
#define VPCI_DEVICE_OFF 0x2000
#define VPCI_NOTIFY_OFF 0x3000
#define VPCI_NOTIFY_MULT 4
#define VPCI_MSIX_TABLE_OFF 0x4000
#define VPCI_MSIX_PBA_OFF 0x5000
#define VPCI_BAR_SIZE 0x8000

/* virtio_pci_cap cfg_type values. */
#define VPCI_CAP_COMMON 1
#define VPCI_CAP_NOTIFY 2
#define VPCI_CAP_ISR 3
#define VPCI_CAP_DEVICE 4
#define VPCI_CAP_PCI_CFG 5

struct virtio_dev;

struct virtio_dev_ops {
	const char *kind;      /* "virtio-blk" */
	uint16_t type;         /* virtio device ID: 1 net, 2 block, 3 console */
	uint32_t pci_class;
	unsigned nqueues;
	uint16_t queue_max;
	uint64_t features;     /* device-specific bits; the transport adds its own */
	uint32_t config_size;
	/* Device configuration space, with vd->lock held. */
	void (*config_access)(struct virtio_dev *vd, uint32_t off, bool is_write, uint8_t *data, unsigned size);
	/* Queue q was kicked: runs on the I/O thread, without vd->lock. */
	void (*queue_kick)(struct virtio_dev *vd, unsigned q);
	/* The driver set DRIVER_OK, or reset the device; with vd->lock held. */
	void (*driver_ok)(struct virtio_dev *vd);
	void (*reset)(struct virtio_dev *vd);
};

struct virtio_kick {
	struct virtio_dev *vd;
	unsigned q;
};

struct virtio_dev {
	char name[24];            /* "virtio-blk0": in reports and the timeline */
	const struct virtio_dev_ops *ops;
	struct dev_host *host;
	void *priv;
	pthread_mutex_t lock;     /* everything below, and the queues' rings */

	uint64_t features, driver_features;
	uint32_t dfselect, gfselect;
	uint8_t status, config_gen, isr;
	uint16_t queue_sel, config_vector;
	struct virtq vq[VIRTIO_MAX_QUEUES];
	uint16_t queue_vector[VIRTIO_MAX_QUEUES];
	unsigned generation;      /* bumped by every reset: completions of an older generation are dropped */

	int kick_fd[VIRTIO_MAX_QUEUES];
	struct virtio_kick kick[VIRTIO_MAX_QUEUES];
	uint64_t doorbell_base;   /* BAR address the queues' doorbells are registered at; 0: none */
	bool doorbell_reported;   /* a failed doorbell registration is reported once */
	unsigned pci_cfg_cap;     /* offset of the VIRTIO_PCI_CAP_PCI_CFG window */

	struct dma_space dma;
	struct pci_device pci;
	struct pci_msix msix;
	struct tl_device *stats;
	unsigned reports;
	bool ready;               /* registered on the bus (fini undoes only what init did) */
};

/* Builds the PCI function, its capabilities, MSI-X and kick eventfds, and puts it on host->pci. */
int virtio_pci_init(struct virtio_dev *vd, struct dev_host *host, const struct virtio_dev_ops *ops, const char *name,
		    void *priv, struct cloak_err *err);
void virtio_pci_fini(struct virtio_dev *vd);

/* BAR 0 and configuration-space hooks, exported for the unit tests and the fuzz target. */
void virtio_pci_bar_access(struct pci_device *d, unsigned bar, uint64_t off, bool is_write, uint8_t *data,
			   unsigned size);

/* With vd->lock held: */
/* The next well-formed request of queue q; bad chains are failed and reported, a broken ring resets. */
bool virtio_pop(struct virtio_dev *vd, unsigned q, struct virtq_req *req);
void virtio_push(struct virtio_dev *vd, unsigned q, uint16_t head, uint32_t written);
/*
 * Without vd->lock: serves every request on queue q that the device only
 * reads (transmit queues), completing each with nothing written, re-arms the
 * driver's notifications until the queue stays empty, then interrupts once.
 */
void virtio_drain(struct virtio_dev *vd, unsigned q, struct virtq_req *req,
		  void (*serve)(struct virtio_dev *vd, const struct virtq_req *req));
/* Interrupts the driver for queue q if it asked for it. */
void virtio_interrupt(struct virtio_dev *vd, unsigned q);
/* The device cannot go on until the driver resets it (virtio 1.2 §2.1.2). */
void virtio_needs_reset(struct virtio_dev *vd, const char *fmt, ...) __attribute__((format(printf, 2, 3)));
void virtio_config_changed(struct virtio_dev *vd);
/* Whether queue q can be served: DRIVER_OK, enabled, not NEEDS_RESET. */
bool virtio_queue_live(const struct virtio_dev *vd, unsigned q);

/* A guest mistake, on stderr: the first few per device, then a note that the rest are not shown. */
void virtio_report(struct virtio_dev *vd, const char *fmt, ...) __attribute__((format(printf, 2, 3)));

/* Kicks queue q from cloak itself (a notify that reached userspace, or a device with new input). */
void virtio_kick(struct virtio_dev *vd, unsigned q);

#endif
