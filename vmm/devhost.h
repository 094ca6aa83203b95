/* devhost.h: everything a device gets from the VMM: DMA, bus ranges, interrupts, doorbells, the I/O thread, stop, stats. */
#ifndef CLOAK_DEVHOST_H
#define CLOAK_DEVHOST_H

/*
 * Devices see the machine only through this interface, as a Firecracker
 * device sees guest memory and an interrupt: no VM fd, no KVM ioctl, no
 * struct machine. The VMM (vmm/devhost.c) backs it with KVM; the unit tests
 * and fuzz targets back it with fakes, so a device links alone.
 */
#include "cloak.h"
#include "config.h"
#include "iobus.h"
#include "shared_map.h"
#include "timeline.h"

#include <stdarg.h>
#include <stdio.h>

enum dev_space { DEV_SPACE_PIO, DEV_SPACE_MMIO };

/* The threads a device starts; each confines itself (capabilities, seccomp) with its role's rules. */
enum dev_thread_role { DEV_THREAD_DISK, DEV_THREAD_CONSOLE_READER };

/* Runs on the device I/O thread with the epoll events that fired. */
typedef void (*dev_watch_fn)(void *opaque, uint32_t events);

struct dev_host_ops {
	/* Claims [base, base+len) of port or MMIO space for `fn`. */
	int (*io_register)(void *ctx, enum dev_space space, uint64_t base, uint64_t len, const char *name, io_fn fn,
			   void *opaque, struct cloak_err *err);
	/* An access inside a device's range that nothing behind it claimed (counted in the timeline). */
	void (*io_unclaimed)(void *ctx, enum dev_space space);
	/* Drives a pin of the in-kernel PIC/IOAPIC. */
	void (*irq_line)(void *ctx, unsigned irq, int level);
	/*
	 * An MSI vector: returns its handle and an eventfd whose write raises it
	 * without an exit; msi_route points it at an address/data (valid false:
	 * nowhere); msi_close gives both back.
	 */
	int (*msi_open)(void *ctx, int *fd, struct cloak_err *err);
	int (*msi_route)(void *ctx, int handle, bool valid, uint64_t addr, uint32_t data);
	void (*msi_close)(void *ctx, int handle, int fd);
	/* A guest write of `len` bytes at MMIO `addr` signals `fd` without an exit (on: add; off: remove). */
	int (*doorbell)(void *ctx, int fd, uint64_t addr, unsigned len, bool on);
	/* Watches fd on the device I/O thread; unwatch returns once the callback is not running. */
	int (*watch)(void *ctx, int fd, uint32_t events, dev_watch_fn fn, void *opaque, struct cloak_err *err);
	void (*unwatch)(void *ctx, int fd);
	/* Ends the VM with `status` (the first request wins). */
	void (*stop)(void *ctx, int status, const char *reason);
	/* The guest said it has booted (the boot timer). */
	void (*booted)(void *ctx);
	/* Per-device counts for the timeline: a row, and the moments a request starts and ends. */
	struct tl_device *(*stats)(void *ctx, const char *name);
	void (*io_begin)(void *ctx, struct tl_device *d);
	void (*io_end)(void *ctx, struct tl_device *d);
	/*
	 * The first call of a thread a device starts: waits until cloak is set
	 * up, then drops the thread's privileges and installs its seccomp
	 * filter. False: the launch is being abandoned (the thread may just wait
	 * to be stopped).
	 */
	bool (*thread_enter)(void *ctx, enum dev_thread_role role);
};

struct pci_bus;

struct dev_host {
	const struct dev_host_ops *ops;
	void *ctx;
	const struct vm_config *cfg;  /* the devices' own options */
	struct dma_space dma;         /* guest memory as devices may use it: shared memory only, when confidential */
	struct pci_bus *pci;          /* the PCI bus, set up by the host bridge (devices/pci.c) for the functions after it */
};

/* What devices call; inline, so a device and its fakes link without any VMM code. */
static inline int devhost_io_register(struct dev_host *h, enum dev_space space, uint64_t base, uint64_t len,
				      const char *name, io_fn fn, void *opaque, struct cloak_err *err)
{
	return h->ops->io_register(h->ctx, space, base, len, name, fn, opaque, err);
}

static inline void devhost_stop(struct dev_host *h, int status, const char *fmt, ...)
	__attribute__((format(printf, 3, 4)));
static inline void devhost_stop(struct dev_host *h, int status, const char *fmt, ...)
{
	char reason[256];
	va_list ap;

	va_start(ap, fmt);
	vsnprintf(reason, sizeof(reason), fmt, ap);
	va_end(ap);
	h->ops->stop(h->ctx, status, reason);
}

/* Without an I/O thread (unit tests), nothing is watched and devices are driven by hand. */
static inline int devhost_watch(struct dev_host *h, int fd, uint32_t events, dev_watch_fn fn, void *opaque,
				struct cloak_err *err)
{
	return h->ops->watch ? h->ops->watch(h->ctx, fd, events, fn, opaque, err) : 0;
}

static inline void devhost_unwatch(struct dev_host *h, int fd)
{
	if (h->ops->unwatch)
		h->ops->unwatch(h->ctx, fd);
}

static inline bool devhost_thread_enter(struct dev_host *h, enum dev_thread_role role)
{
	return h->ops->thread_enter ? h->ops->thread_enter(h->ctx, role) : true;
}

static inline struct tl_device *devhost_stats(struct dev_host *h, const char *name)
{
	return h->ops->stats ? h->ops->stats(h->ctx, name) : NULL;
}

#endif
