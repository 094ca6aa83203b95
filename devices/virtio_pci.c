/* virtio_pci.c: modern virtio-pci: capabilities, common configuration, doorbells the host signals without exits, MSI-X. */
#include "virtio_pci.h"

#include <errno.h>
#include <stdarg.h>
#include <stdio.h>
#include <string.h>
#include <sys/epoll.h>
#include <sys/eventfd.h>
#include <unistd.h>

#define VIRTIO_PCI_VENDOR 0x1af4
#define VIRTIO_PCI_DEVICE_BASE 0x1040  /* + device ID: the modern, non-transitional IDs */
#define VIRTIO_REPORTS_MAX 8

static uint64_t offered_features(const struct virtio_dev_ops *ops)
{
	return ops->features | 1ull << VIRTIO_F_VERSION_1 | 1ull << VIRTIO_F_ACCESS_PLATFORM |
	       1ull << VIRTIO_F_RING_EVENT_IDX | 1ull << VIRTIO_F_RING_INDIRECT_DESC;
}

void virtio_report(struct virtio_dev *vd, const char *fmt, ...)
{
	char msg[256];
	va_list ap;

	if (vd->reports > VIRTIO_REPORTS_MAX)
		return;
	va_start(ap, fmt);
	vsnprintf(msg, sizeof(msg), fmt, ap);
	va_end(ap);
	if (vd->reports++ < VIRTIO_REPORTS_MAX)
		fprintf(stderr, "cloak: %s: guest error: %s\n", vd->name, msg);
	else
		fprintf(stderr, "cloak: %s: more guest errors; not reporting them any more\n", vd->name);
}

bool virtio_queue_live(const struct virtio_dev *vd, unsigned q)
{
	return q < vd->ops->nqueues && vd->vq[q].enabled && (vd->status & VIRTIO_STATUS_DRIVER_OK) &&
	       !(vd->status & VIRTIO_STATUS_NEEDS_RESET);
}

static void send_vector(struct virtio_dev *vd, uint16_t vector, uint8_t isr_bit)
{
	/* Without MSI-X the driver polls the ISR; cloak's functions have no INTx pin to raise. */
	if (!vd->msix.enabled) {
		vd->isr |= isr_bit;
		return;
	}
	if (vector != VIRTIO_NO_VECTOR && pci_msix_notify(&vd->msix, vector) && vd->stats)
		atomic_fetch_add(&vd->stats->interrupts, 1);
}

void virtio_interrupt(struct virtio_dev *vd, unsigned q)
{
	if (virtq_should_interrupt(&vd->vq[q]))
		send_vector(vd, vd->queue_vector[q], 1);
}

void virtio_config_changed(struct virtio_dev *vd)
{
	vd->config_gen++;
	send_vector(vd, vd->config_vector, 2);
}

void virtio_needs_reset(struct virtio_dev *vd, const char *fmt, ...)
{
	char msg[200];
	va_list ap;

	va_start(ap, fmt);
	vsnprintf(msg, sizeof(msg), fmt, ap);
	va_end(ap);
	if (vd->status & VIRTIO_STATUS_NEEDS_RESET)
		return;
	virtio_report(vd, "%s; the device stops until the driver resets it", msg);
	vd->status |= VIRTIO_STATUS_NEEDS_RESET;
	if (vd->status & VIRTIO_STATUS_DRIVER_OK)
		virtio_config_changed(vd);
}

bool virtio_pop(struct virtio_dev *vd, unsigned q, struct virtq_req *req)
{
	for (;;) {
		enum virtq_pop_result r;

		if (!virtio_queue_live(vd, q))
			return false;
		r = virtq_pop(&vd->vq[q], req);
		switch (r) {
		case VIRTQ_EMPTY:
			return false;
		case VIRTQ_GOT:
			if (vd->stats) {
				atomic_fetch_add(&vd->stats->requests, 1);
				vd->host->ops->io_begin(vd->host->ctx, vd->stats);
			}
			return true;
		case VIRTQ_BAD_CHAIN:
			/* The head is known, so the request can be failed alone: returned unwritten. */
			virtio_report(vd, "queue %u, request %u: %s; the request fails", q, req->head, vd->vq[q].error);
			if (vd->stats)
				atomic_fetch_add(&vd->stats->failed, 1);
			virtq_push(&vd->vq[q], req->head, 0);
			virtio_interrupt(vd, q);
			continue;
		case VIRTQ_BROKEN:
			virtio_needs_reset(vd, "queue %u: %s", q, vd->vq[q].error);
			return false;
		}
	}
}

void virtio_push(struct virtio_dev *vd, unsigned q, uint16_t head, uint32_t written)
{
	virtq_push(&vd->vq[q], head, written);
	if (vd->stats)
		vd->host->ops->io_end(vd->host->ctx, vd->stats);
}

void virtio_drain(struct virtio_dev *vd, unsigned q, struct virtq_req *req,
		  void (*serve)(struct virtio_dev *vd, const struct virtq_req *req))
{
	pthread_mutex_lock(&vd->lock);
	for (;;) {
		while (virtio_pop(vd, q, req)) {
			serve(vd, req);
			virtio_push(vd, q, req->head, 0);
		}
		/* Work that arrived while notifications were off is seen on the next round. */
		if (!virtio_queue_live(vd, q) || !virtq_arm_notify(&vd->vq[q]))
			break;
	}
	virtio_interrupt(vd, q);
	pthread_mutex_unlock(&vd->lock);
}

void virtio_kick(struct virtio_dev *vd, unsigned q)
{
	uint64_t one = 1;

	if (q < vd->ops->nqueues)
		(void)!write(vd->kick_fd[q], &one, sizeof(one));
}

static void virtio_reset(struct virtio_dev *vd)
{
	unsigned q;

	vd->generation++;
	if (vd->ops->reset)
		vd->ops->reset(vd);
	for (q = 0; q < vd->ops->nqueues; q++) {
		virtq_reset(&vd->vq[q]);
		vd->vq[q].size = vd->ops->queue_max;
		vd->queue_vector[q] = VIRTIO_NO_VECTOR;
	}
	vd->status = 0;
	vd->driver_features = 0;
	vd->dfselect = vd->gfselect = 0;
	vd->queue_sel = 0;
	vd->config_vector = VIRTIO_NO_VECTOR;
	vd->isr = 0;
}

static bool features_acceptable(struct virtio_dev *vd)
{
	uint64_t f = vd->driver_features;

	if (f & ~vd->features) {
		virtio_report(vd, "the driver accepted features 0x%llx that were not offered",
			      (unsigned long long)(f & ~vd->features));
		return false;
	}
	if (!(f & (1ull << VIRTIO_F_VERSION_1))) {
		virtio_report(vd, "the driver did not accept VIRTIO_F_VERSION_1 (cloak offers no legacy interface)");
		return false;
	}
	/* A confidential guest's driver must bounce through shared memory, which is what this bit asks for. */
	if (vd->dma.shared && !(f & (1ull << VIRTIO_F_ACCESS_PLATFORM))) {
		virtio_report(vd, "the driver of a confidential guest refused VIRTIO_F_ACCESS_PLATFORM");
		return false;
	}
	return true;
}

static void status_write(struct virtio_dev *vd, uint8_t v)
{
	uint8_t old = vd->status;

	if (v == 0) {
		virtio_reset(vd);
		return;
	}
	if ((v & VIRTIO_STATUS_FEATURES_OK) && !(old & VIRTIO_STATUS_FEATURES_OK) && !features_acceptable(vd))
		v &= (uint8_t)~VIRTIO_STATUS_FEATURES_OK;
	if ((v & VIRTIO_STATUS_DRIVER_OK) && !(v & VIRTIO_STATUS_FEATURES_OK)) {
		virtio_report(vd, "DRIVER_OK without FEATURES_OK");
		v &= (uint8_t)~VIRTIO_STATUS_DRIVER_OK;
	}
	/* NEEDS_RESET is the device's to set and only a reset clears it. */
	vd->status = (uint8_t)((v & ~VIRTIO_STATUS_NEEDS_RESET) | (old & VIRTIO_STATUS_NEEDS_RESET));
	if ((vd->status & VIRTIO_STATUS_DRIVER_OK) && !(old & VIRTIO_STATUS_DRIVER_OK) && vd->ops->driver_ok)
		vd->ops->driver_ok(vd);
}

static void queue_enable(struct virtio_dev *vd, struct virtq *vq, unsigned q)
{
	vq->event_idx = vd->driver_features & (1ull << VIRTIO_F_RING_EVENT_IDX);
	vq->indirect = vd->driver_features & (1ull << VIRTIO_F_RING_INDIRECT_DESC);
	if (virtq_enable(vq, &vd->dma) < 0)
		virtio_needs_reset(vd, "queue %u: %s", q, vq->error);
}

/* The common configuration as the driver reads it (virtio 1.2 §4.1.4.3), little-endian. */
static void common_image(struct virtio_dev *vd, uint8_t img[VPCI_COMMON_LEN])
{
	unsigned q = vd->queue_sel;
	bool have = q < vd->ops->nqueues;
	const struct virtq *vq = have ? &vd->vq[q] : NULL;
	uint32_t dfeat = vd->dfselect < 2 ? (uint32_t)(vd->features >> (32 * vd->dfselect)) : 0;
	uint32_t gfeat = vd->gfselect < 2 ? (uint32_t)(vd->driver_features >> (32 * vd->gfselect)) : 0;
	uint16_t v16;

#define PUT(off, val) do { __typeof__(val) v_ = (val); memcpy(img + (off), &v_, sizeof(v_)); } while (0)
	memset(img, 0, VPCI_COMMON_LEN);
	PUT(0x00, vd->dfselect);
	PUT(0x04, dfeat);
	PUT(0x08, vd->gfselect);
	PUT(0x0c, gfeat);
	PUT(0x10, vd->config_vector);
	v16 = (uint16_t)vd->ops->nqueues;
	PUT(0x12, v16);
	img[0x14] = vd->status;
	img[0x15] = vd->config_gen;
	PUT(0x16, vd->queue_sel);
	if (have) {
		uint16_t enabled = vq->enabled, off = (uint16_t)q;

		PUT(0x18, vq->size);
		PUT(0x1a, vd->queue_vector[q]);
		PUT(0x1c, enabled);
		PUT(0x1e, off);
		PUT(0x20, vq->desc_gpa);
		PUT(0x28, vq->avail_gpa);
		PUT(0x30, vq->used_gpa);
	}
#undef PUT
}

static void set_half(uint64_t *field, unsigned off, unsigned size, uint64_t v)
{
	if (size == 8)
		*field = v;
	else if (off & 4)
		*field = (*field & 0xffffffffull) | v << 32;
	else
		*field = (*field & ~0xffffffffull) | (v & 0xffffffffull);
}

static void common_write(struct virtio_dev *vd, unsigned off, unsigned size, uint64_t v)
{
	unsigned q = vd->queue_sel;
	struct virtq *vq = q < vd->ops->nqueues ? &vd->vq[q] : NULL;
	/* Queue addresses and sizes are frozen once a queue is enabled (virtio 1.2 §4.1.4.3.2). */
	bool queue_open = vq && !vq->enabled;

	switch (off) {
	case 0x00:
		if (size == 4)
			vd->dfselect = (uint32_t)v;
		return;
	case 0x08:
		if (size == 4)
			vd->gfselect = (uint32_t)v;
		return;
	case 0x0c:
		if (size == 4 && vd->gfselect < 2 && !(vd->status & VIRTIO_STATUS_FEATURES_OK))
			set_half(&vd->driver_features, vd->gfselect ? 4 : 0, 4, v);
		return;
	case 0x10:
		if (size == 2)
			vd->config_vector = v < vd->msix.nvec ? (uint16_t)v : VIRTIO_NO_VECTOR;
		return;
	case 0x14:
		if (size == 1)
			status_write(vd, (uint8_t)v);
		return;
	case 0x16:
		if (size == 2)
			vd->queue_sel = (uint16_t)v;
		return;
	case 0x18:
		if (size == 2 && queue_open)
			vq->size = (uint16_t)v;
		return;
	case 0x1a:
		if (size == 2 && vq)
			vd->queue_vector[q] = v < vd->msix.nvec ? (uint16_t)v : VIRTIO_NO_VECTOR;
		return;
	case 0x1c:
		/* Only 1 may be written; taking a queue away needs VIRTIO_F_RING_RESET, not offered. */
		if (size == 2 && v == 1 && queue_open)
			queue_enable(vd, vq, q);
		return;
	}
	if (!queue_open || (size != 4 && size != 8) || (off & (size - 1)))
		return;
	if (off >= 0x20 && off < 0x28)
		set_half(&vq->desc_gpa, off, size, v);
	else if (off >= 0x28 && off < 0x30)
		set_half(&vq->avail_gpa, off, size, v);
	else if (off >= 0x30 && off < 0x38)
		set_half(&vq->used_gpa, off, size, v);
}

void virtio_pci_bar_access(struct pci_device *d, unsigned bar, uint64_t off, bool is_write, uint8_t *data,
			   unsigned size)
{
	struct virtio_dev *vd = d->opaque;
	uint64_t v = 0;

	if (bar != 0 || size == 0 || size > 8) {
		if (!is_write)
			memset(data, 0xff, size);
		return;
	}
	if (off >= VPCI_MSIX_TABLE_OFF && off < VPCI_MSIX_PBA_OFF) {
		pci_msix_table_access(&vd->msix, off - VPCI_MSIX_TABLE_OFF, is_write, data, size);
		return;
	}
	if (off >= VPCI_MSIX_PBA_OFF) {
		pci_msix_pba_access(&vd->msix, off - VPCI_MSIX_PBA_OFF, is_write, data, size);
		return;
	}
	if (off >= VPCI_NOTIFY_OFF) {
		/* A notify that did not hit an ioeventfd (none yet, or an odd width): kick from here. */
		if (is_write && (off - VPCI_NOTIFY_OFF) % VPCI_NOTIFY_MULT == 0)
			virtio_kick(vd, (unsigned)((off - VPCI_NOTIFY_OFF) / VPCI_NOTIFY_MULT));
		else if (!is_write)
			memset(data, 0, size);
		return;
	}
	pthread_mutex_lock(&vd->lock);
	if (off >= VPCI_DEVICE_OFF) {
		uint64_t c = off - VPCI_DEVICE_OFF;

		if (c < vd->ops->config_size && size <= vd->ops->config_size - c && vd->ops->config_access)
			vd->ops->config_access(vd, (uint32_t)c, is_write, data, size);
		else if (!is_write)
			memset(data, 0, size);
	} else if (off >= VPCI_ISR_OFF) {
		if (!is_write) {
			memset(data, 0, size);
			if (off == VPCI_ISR_OFF) {
				data[0] = vd->isr;
				vd->isr = 0;  /* reading the ISR acknowledges it */
			}
		}
	} else if (off + size <= VPCI_COMMON_LEN) {
		if (is_write) {
			memcpy(&v, data, size);
			common_write(vd, (unsigned)off, size, v);
		} else {
			uint8_t img[VPCI_COMMON_LEN];

			common_image(vd, img);
			memcpy(data, img + off, size);
		}
	} else if (!is_write) {
		memset(data, 0, size);
	}
	pthread_mutex_unlock(&vd->lock);
}

/* Moves the queues' doorbells to where BAR 0 now decodes; the host then signals kicks without an exit to us. */
static void update_doorbells(struct virtio_dev *vd)
{
	const struct dev_host_ops *ops = vd->host->ops;
	uint64_t base = pci_bar_addr(&vd->pci, 0);
	unsigned q;

	if (base == vd->doorbell_base || !ops->doorbell)
		return;
	for (q = 0; q < vd->ops->nqueues; q++) {
		if (vd->doorbell_base)
			(void)ops->doorbell(vd->host->ctx, vd->kick_fd[q],
					    vd->doorbell_base + VPCI_NOTIFY_OFF + q * VPCI_NOTIFY_MULT, 2, false);
		if (base && ops->doorbell(vd->host->ctx, vd->kick_fd[q], base + VPCI_NOTIFY_OFF + q * VPCI_NOTIFY_MULT,
					  2, true) < 0 && !vd->doorbell_reported) {
			/* Once per device: a guest that moves its BAR again and again cannot flood stderr. */
			vd->doorbell_reported = true;
			fprintf(stderr, "cloak: %s: KVM_IOEVENTFD failed (%s); kicks of queue %u will exit to "
					"cloak instead\n", vd->name, strerror(errno), q);
		}
	}
	vd->doorbell_base = base;
}

static bool touches(unsigned off, unsigned size, unsigned start, unsigned len)
{
	return off < start + len && start < off + size;
}

/* The VIRTIO_PCI_CAP_PCI_CFG window: an access to its data field reaches BAR 0 at the offset it names. */
static void pci_cfg_window(struct virtio_dev *vd, bool is_write)
{
	unsigned cap = vd->pci_cfg_cap;
	uint8_t bar = vd->pci.cfg[cap + 4];
	uint32_t off = pci_cfg_get32(&vd->pci, cap + 8), len = pci_cfg_get32(&vd->pci, cap + 12);

	if (bar != 0 || (len != 1 && len != 2 && len != 4) || off % len || off >= VPCI_BAR_SIZE)
		return;
	virtio_pci_bar_access(&vd->pci, 0, off, is_write, &vd->pci.cfg[cap + 16], len);
}

static void vpci_config_written(struct pci_device *d, unsigned off, unsigned size)
{
	struct virtio_dev *vd = d->opaque;

	if (touches(off, size, vd->msix.cap + 2, 2))
		pci_msix_config_written(&vd->msix);
	if (touches(off, size, PCI_COMMAND, 2) || touches(off, size, PCI_BAR0, 4))
		update_doorbells(vd);
	if (touches(off, size, vd->pci_cfg_cap + 16, 4))
		pci_cfg_window(vd, true);
}

static void vpci_config_reading(struct pci_device *d, unsigned off, unsigned size)
{
	struct virtio_dev *vd = d->opaque;

	if (touches(off, size, vd->pci_cfg_cap + 16, 4))
		pci_cfg_window(vd, false);
}

static void add_virtio_cap(struct pci_device *d, uint8_t type, uint32_t off, uint32_t len, unsigned extra,
			   unsigned *at)
{
	unsigned c = pci_add_cap(d, PCI_CAP_ID_VNDR, 16 + extra);

	d->cfg[c + 2] = (uint8_t)(16 + extra);
	d->cfg[c + 3] = type;
	d->cfg[c + 4] = 0;  /* BAR 0 */
	pci_cfg_put32(d, c + 8, off);
	pci_cfg_put32(d, c + 12, len);
	if (at)
		*at = c;
}

static void kick_ready(void *opaque, uint32_t events)
{
	struct virtio_kick *k = opaque;
	uint64_t n;

	(void)events;
	if (read(k->vd->kick_fd[k->q], &n, sizeof(n)) != sizeof(n))
		return;
	if (k->vd->stats)
		atomic_fetch_add(&k->vd->stats->kicks, n);
	if (k->vd->ops->queue_kick)
		k->vd->ops->queue_kick(k->vd, k->q);
}

int virtio_pci_init(struct virtio_dev *vd, struct dev_host *host, const struct virtio_dev_ops *ops, const char *name,
		    void *priv, struct cloak_err *err)
{
	struct pci_device *d = &vd->pci;
	unsigned q, notify_cap = 0;

	memset(vd, 0, sizeof(*vd));
	for (q = 0; q < PCI_MSIX_MAX; q++)
		vd->msix.irqfd[q] = -1;  /* fini may run before MSI-X is set up */
	snprintf(vd->name, sizeof(vd->name), "%s", name);
	vd->ops = ops;
	vd->host = host;
	vd->priv = priv;
	pthread_mutex_init(&vd->lock, NULL);
	vd->features = offered_features(ops);
	vd->dma = host->dma;
	for (q = 0; q < VIRTIO_MAX_QUEUES; q++)
		vd->kick_fd[q] = -1;
	for (q = 0; q < ops->nqueues; q++) {
		vd->kick_fd[q] = eventfd(0, EFD_CLOEXEC | EFD_NONBLOCK);
		if (vd->kick_fd[q] < 0)
			return err_errno(err, "cannot create a queue notification eventfd");
		vd->kick[q] = (struct virtio_kick){ vd, q };
	}
	virtio_reset(vd);

	pci_device_init(d, vd->name, VIRTIO_PCI_VENDOR, (uint16_t)(VIRTIO_PCI_DEVICE_BASE + ops->type), ops->pci_class,
			1);
	pci_cfg_put16(d, PCI_SUBSYS_VENDOR, VIRTIO_PCI_VENDOR);
	pci_cfg_put16(d, PCI_SUBSYS_ID, 0x40);  /* virtio 1.2 §4.1.2: 0x40 or more for modern devices */
	d->opaque = vd;
	d->bar_access = virtio_pci_bar_access;
	d->config_written = vpci_config_written;
	d->config_reading = vpci_config_reading;
	pci_set_bar(d, 0, VPCI_BAR_SIZE);
	add_virtio_cap(d, VPCI_CAP_COMMON, VPCI_COMMON_OFF, VPCI_COMMON_LEN, 0, NULL);
	add_virtio_cap(d, VPCI_CAP_NOTIFY, VPCI_NOTIFY_OFF, ops->nqueues * VPCI_NOTIFY_MULT, 4, &notify_cap);
	pci_cfg_put32(d, notify_cap + 16, VPCI_NOTIFY_MULT);
	add_virtio_cap(d, VPCI_CAP_ISR, VPCI_ISR_OFF, 1, 0, NULL);
	if (ops->config_size)
		add_virtio_cap(d, VPCI_CAP_DEVICE, VPCI_DEVICE_OFF, ops->config_size, 0, NULL);
	add_virtio_cap(d, VPCI_CAP_PCI_CFG, 0, 0, 4, &vd->pci_cfg_cap);
	/* The window's bar, offset, length and data are the driver's to set. */
	d->wmask[vd->pci_cfg_cap + 4] = 0xff;
	memset(&d->wmask[vd->pci_cfg_cap + 8], 0xff, 12);
	if (!host->pci)
		return err_set(err, "internal error: %s comes before the PCI host bridge in the device table", name);
	if (pci_msix_init(&vd->msix, host->pci, d, ops->nqueues + 1, 0, VPCI_MSIX_TABLE_OFF, VPCI_MSIX_PBA_OFF,
			  err) < 0)
		return -1;
	if (pci_bus_add(host->pci, d, err) < 0)
		return -1;
	vd->ready = true;
	vd->stats = devhost_stats(host, vd->name);
	for (q = 0; q < ops->nqueues; q++)
		if (devhost_watch(host, vd->kick_fd[q], EPOLLIN, kick_ready, &vd->kick[q], err) < 0)
			return -1;
	return 0;
}

void virtio_pci_fini(struct virtio_dev *vd)
{
	unsigned q;

	for (q = 0; q < VIRTIO_MAX_QUEUES; q++) {
		if (vd->kick_fd[q] < 0)
			continue;
		devhost_unwatch(vd->host, vd->kick_fd[q]);
		if (vd->doorbell_base && vd->host->ops->doorbell)
			(void)vd->host->ops->doorbell(vd->host->ctx, vd->kick_fd[q],
						      vd->doorbell_base + VPCI_NOTIFY_OFF + q * VPCI_NOTIFY_MULT, 2, false);
		close(vd->kick_fd[q]);
		vd->kick_fd[q] = -1;
	}
	pci_msix_fini(&vd->msix);
}
