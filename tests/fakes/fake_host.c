/* fake_host.c: the device interface over flat memory with every interrupt, route and stop recorded, for tests and fuzzing. */
#include "fake_host.h"

#include <string.h>
#include <sys/eventfd.h>
#include <unistd.h>

static int fake_io_register(void *ctx, enum dev_space space, uint64_t base, uint64_t len, const char *name,
			    io_fn fn, void *opaque, struct cloak_err *err)
{
	struct fake_host *f = ctx;

	if (f->nranges == FAKE_HOST_MAX_RANGES)
		return err_set(err, "fake host: too many ranges (registering %s)", name);
	f->range_space[f->nranges] = space;
	f->ranges[f->nranges++] = (struct io_range){ base, len, name, fn, opaque };
	return 0;
}

static void fake_io_unclaimed(void *ctx, enum dev_space space)
{
	struct fake_host *f = ctx;

	(void)space;
	f->unclaimed++;
}

static void fake_irq_line(void *ctx, unsigned irq, int level)
{
	struct fake_host *f = ctx;

	if (irq < 24) {
		f->irq_level[irq] = level;
		f->irq_changes++;
	}
}

static int fake_msi_open(void *ctx, int *fd, struct cloak_err *err)
{
	struct fake_host *f = ctx;
	unsigned h;

	*fd = -1;
	if (f->nmsi == FAKE_HOST_MAX_MSI)
		return err_set(err, "out of MSI interrupt numbers (%d); attach fewer devices", FAKE_HOST_MAX_MSI);
	*fd = eventfd(0, EFD_CLOEXEC | EFD_NONBLOCK);
	if (*fd < 0)
		return err_errno(err, "cannot create an interrupt eventfd");
	h = f->nmsi++;
	f->msi[h].fd = *fd;
	f->msi[h].valid = false;
	return (int)h;
}

static int fake_msi_route(void *ctx, int handle, bool valid, uint64_t addr, uint32_t data)
{
	struct fake_host *f = ctx;

	if (handle < 0 || (unsigned)handle >= f->nmsi)
		return -1;
	f->msi[handle].valid = valid;
	f->msi[handle].addr = addr;
	f->msi[handle].data = data;
	f->route_updates++;
	return 0;
}

static void fake_msi_close(void *ctx, int handle, int fd)
{
	struct fake_host *f = ctx;

	if (handle >= 0 && (unsigned)handle < f->nmsi)
		f->msi[handle].fd = -1;
	if (fd >= 0)
		close(fd);
}

static void fake_stop(void *ctx, int status, const char *reason)
{
	struct fake_host *f = ctx;

	if (f->stopped)
		return;
	f->stopped = true;
	f->stop_status = status;
	snprintf(f->stop_reason, sizeof(f->stop_reason), "%s", reason);
}

static void fake_booted(void *ctx)
{
	struct fake_host *f = ctx;

	f->booted++;
}

static struct tl_device *fake_stats(void *ctx, const char *name)
{
	struct fake_host *f = ctx;
	struct tl_device *d;

	if (f->ndev == sizeof(f->dev) / sizeof(f->dev[0]))
		return NULL;
	d = &f->dev[f->ndev++];
	memset(d, 0, sizeof(*d));
	snprintf(d->name, sizeof(d->name), "%s", name);
	return d;
}

static void fake_io_mark(void *ctx, struct tl_device *d)
{
	(void)ctx;
	(void)d;
}

/* Device threads run unconfined here; the count shows each announced its role. */
static bool fake_thread_enter(void *ctx, enum dev_thread_role role)
{
	struct fake_host *f = ctx;

	atomic_fetch_add(&f->threads_entered[role], 1);
	return true;
}

/* No doorbells and no I/O thread: kicks come through the notify BAR, devices are driven by hand. */
static const struct dev_host_ops fake_host_ops = {
	.io_register = fake_io_register,
	.io_unclaimed = fake_io_unclaimed,
	.irq_line = fake_irq_line,
	.msi_open = fake_msi_open,
	.msi_route = fake_msi_route,
	.msi_close = fake_msi_close,
	.stop = fake_stop,
	.booted = fake_booted,
	.stats = fake_stats,
	.io_begin = fake_io_mark,
	.io_end = fake_io_mark,
	.thread_enter = fake_thread_enter,
};

void fake_host_init(struct fake_host *f, uint8_t *ram, uint64_t ram_size, bool confidential,
		    const struct vm_config *cfg)
{
	memset(f, 0, sizeof(*f));
	f->mem.host = ram;
	f->mem.size = ram_size;
	f->mem.ram[0] = (struct plan_ram){ .gpa = 0, .size = ram_size, .host_offset = 0 };
	f->mem.nram = 1;
	shared_map_init(&f->shared, confidential);
	f->host = (struct dev_host){
		.ops = &fake_host_ops,
		.ctx = f,
		.cfg = cfg,
		.dma = { .mem = &f->mem, .shared = confidential ? &f->shared : NULL, .reported = &f->reported },
	};
}

void fake_host_share(struct fake_host *f, uint64_t gpa, uint64_t len)
{
	shared_map_set(&f->shared, gpa, len, true);
}

void fake_host_fini(struct fake_host *f)
{
	unsigned i;

	for (i = 0; i < f->nmsi; i++)
		if (f->msi[i].fd >= 0) {
			close(f->msi[i].fd);
			f->msi[i].fd = -1;
		}
	pthread_rwlock_destroy(&f->shared.lock);
}

bool fake_host_msi_fired(struct fake_host *f, int handle)
{
	uint64_t n;

	if (handle < 0 || (unsigned)handle >= f->nmsi || f->msi[handle].fd < 0)
		return false;
	return read(f->msi[handle].fd, &n, sizeof(n)) == sizeof(n);
}
