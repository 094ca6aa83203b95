/* devhost.c: the device interface backed by the running machine: KVM for interrupts and doorbells, the I/O thread, the timeline. */
#include "devhost.h"

#include "eventloop.h"
#include "machine.h"
#include "sandbox.h"

static int host_io_register(void *ctx, enum dev_space space, uint64_t base, uint64_t len, const char *name,
			    io_fn fn, void *opaque, struct cloak_err *err)
{
	struct machine *m = ctx;

	return io_bus_register(space == DEV_SPACE_PIO ? &m->pio : &m->mmio, base, len, name, fn, opaque, err);
}

static void host_io_unclaimed(void *ctx, enum dev_space space)
{
	struct machine *m = ctx;

	atomic_fetch_add(space == DEV_SPACE_PIO ? &m->tl.pio_unclaimed : &m->tl.mmio_unclaimed, 1);
}

static void host_irq_line(void *ctx, unsigned irq, int level)
{
	kvm_irq_line(ctx, irq, level);
}

static int host_msi_open(void *ctx, int *fd, struct cloak_err *err)
{
	return kvm_msi_open(ctx, fd, err);
}

static int host_msi_route(void *ctx, int handle, bool valid, uint64_t addr, uint32_t data)
{
	return kvm_msi_route(ctx, handle, valid, addr, data);
}

static void host_msi_close(void *ctx, int handle, int fd)
{
	kvm_msi_close(ctx, handle, fd);
}

static int host_doorbell(void *ctx, int fd, uint64_t addr, unsigned len, bool on)
{
	return kvm_doorbell(ctx, fd, addr, len, on);
}

static int host_watch(void *ctx, int fd, uint32_t events, dev_watch_fn fn, void *opaque, struct cloak_err *err)
{
	struct machine *m = ctx;

	if (!m->ev)
		return err_set(err, "internal error: no device I/O thread to watch fd %d", fd);
	return eventloop_add(m->ev, fd, events, fn, opaque, err);
}

static void host_unwatch(void *ctx, int fd)
{
	struct machine *m = ctx;

	/* Once the I/O thread is gone nothing is watched any more. */
	if (m->ev)
		eventloop_del(m->ev, fd);
}

static void host_stop(void *ctx, int status, const char *reason)
{
	machine_request_stop(ctx, status, "%s", reason);
}

static void host_booted(void *ctx)
{
	struct machine *m = ctx;

	timeline_mark(&m->tl, TL_BOOT_TIMER);
}

static struct tl_device *host_stats(void *ctx, const char *name)
{
	struct machine *m = ctx;

	return timeline_device(&m->tl, name);
}

static void host_io_begin(void *ctx, struct tl_device *d)
{
	struct machine *m = ctx;

	timeline_io_begin(&m->tl, d);
}

static void host_io_end(void *ctx, struct tl_device *d)
{
	struct machine *m = ctx;

	timeline_io_end(&m->tl, d);
}

static bool host_thread_enter(void *ctx, enum dev_thread_role role)
{
	(void)ctx;
	return sandbox_thread_enter(role == DEV_THREAD_DISK ? SANDBOX_DISK : SANDBOX_CONSOLE_READER);
}

static const struct dev_host_ops machine_host_ops = {
	.io_register = host_io_register,
	.io_unclaimed = host_io_unclaimed,
	.irq_line = host_irq_line,
	.msi_open = host_msi_open,
	.msi_route = host_msi_route,
	.msi_close = host_msi_close,
	.doorbell = host_doorbell,
	.watch = host_watch,
	.unwatch = host_unwatch,
	.stop = host_stop,
	.booted = host_booted,
	.stats = host_stats,
	.io_begin = host_io_begin,
	.io_end = host_io_end,
	.thread_enter = host_thread_enter,
};

void machine_host_init(struct machine *m)
{
	m->host = (struct dev_host){
		.ops = &machine_host_ops,
		.ctx = m,
		.cfg = m->cfg,
		.dma = { .mem = &m->mem, .shared = m->confidential ? &m->shared : NULL, .reported = &m->dma_reported },
	};
}
