/* virtio_blk.h: the virtio-blk device, exposed for the unit tests and the fuzz target. */
#ifndef CLOAK_VIRTIO_BLK_H
#define CLOAK_VIRTIO_BLK_H

#include "virtio_pci.h"

struct virtio_blk {
	struct virtio_dev vd;
	int fd;
	bool ro;
	uint64_t sectors;
	unsigned tail;     /* bytes past the last whole sector, which the guest does not see */
	const char *path;  /* as given to virtio_blk_open; the caller keeps it */
	char serial[20];

	/* The worker thread and its wake-up. */
	pthread_t worker;
	pthread_mutex_t wlock;
	pthread_cond_t wcond;
	bool work, stop, running;
	struct virtq_req *req;
	/* With vd.lock: a request is between pop and push, its I/O running; a reset waits on `idle`. */
	bool in_flight;
	pthread_cond_t idle;
	/* Writes made durable before completion because the driver did not negotiate FLUSH. */
	uint64_t write_through_syncs;
};

/*
 * --disk PATH[,ro]: the image and whether the guest may write it. The keyed
 * form path=PATH[,ro=on|off] is what --config's {"path": PATH, "ro": BOOL}
 * becomes; a first item that is neither path= nor ro= is the path.
 */
struct virtio_blk_options {
	char path[4096];  /* copied, since the value carries ",ro" after it */
	bool ro;
};

/* One --disk value; the message names --disk and the remedy. */
int virtio_blk_parse_options(const char *value, struct virtio_blk_options *out, struct cloak_err *err);
/* Opens and locks the image (errors name --disk). */
int virtio_blk_open(struct virtio_blk *b, const char *path, bool ro, struct cloak_err *err);
/* Puts it on the PCI bus as virtio-blk<index> and starts its worker. */
int virtio_blk_attach(struct virtio_blk *b, struct dev_host *host, unsigned index, struct cloak_err *err);
void virtio_blk_close(struct virtio_blk *b);
/*
 * What the worker does when kicked, on the calling thread: pops requests under
 * the device lock, does their I/O without it, completes them under it again,
 * until the queue stays empty (the fuzz target calls it directly).
 */
void virtio_blk_serve(struct virtio_blk *b);
/* Serves one request against the image; returns the bytes written into the guest's buffers. */
uint32_t virtio_blk_handle(struct virtio_blk *b, const struct virtq_req *req);

#endif
