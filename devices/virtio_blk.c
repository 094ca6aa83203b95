/* virtio_blk.c: virtio-blk on a raw image, served by a worker thread so a slow disk never holds a vCPU. */
#include "virtio_blk.h"

#include "devices.h"
#include "virtio_queues.h"

#include <errno.h>
#include <fcntl.h>
#include <linux/falloc.h>
#include <linux/fs.h>
#include <linux/virtio_blk.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/file.h>
#include <sys/ioctl.h>
#include <sys/stat.h>
#include <unistd.h>

#define BLK_SECTOR 512ull
/*
 * One DISCARD or WRITE_ZEROES request carries one range of up to 2 GiB: the
 * limits blk_config announces (virtio 1.2 §5.2.4), which the driver splits by.
 */
#define BLK_MAX_RANGES 1
#define BLK_MAX_RANGE_SECTORS (1u << 22)  /* 2 GiB per range */

struct blk_range {
	uint64_t sector;
	uint32_t num_sectors;
	uint32_t flags;
};

static struct virtio_blk disks[CONFIG_MAX_DISKS];
static struct virtio_blk_options disk_options[CONFIG_MAX_DISKS];  /* the disks' paths live here while they run */
static unsigned ndisks;

static void blk_config(struct virtio_dev *vd, uint32_t off, bool is_write, uint8_t *data, unsigned size)
{
	struct virtio_blk *b = vd->priv;
	struct virtio_blk_config c;

	if (is_write)
		return;  /* nothing in it is writable without CONFIG_WCE, which cloak does not offer */
	memset(&c, 0, sizeof(c));
	c.capacity = b->sectors;
	c.seg_max = BLK_QUEUE_SIZE - 2;  /* the header and the status take a buffer each */
	c.blk_size = (uint32_t)BLK_SECTOR;
	c.num_queues = 1;
	c.max_discard_sectors = BLK_MAX_RANGE_SECTORS;
	c.max_discard_seg = BLK_MAX_RANGES;
	c.discard_sector_alignment = 1;
	c.max_write_zeroes_sectors = BLK_MAX_RANGE_SECTORS;
	c.max_write_zeroes_seg = BLK_MAX_RANGES;
	c.write_zeroes_may_unmap = 1;
	memcpy(data, (uint8_t *)&c + off, size);
}

/* Moves `len` bytes between the image at `pos` and the request's buffers (after `skip` bytes of them). */
static int blk_rw(struct virtio_blk *b, const struct virtq_req *req, bool to_guest, size_t skip, uint64_t pos,
		  uint64_t len)
{
	unsigned i;

	for (i = 0; i < req->nseg && len; i++) {
		const struct virtq_seg *s = &req->seg[i];
		uint64_t n, done = 0;

		if (s->writable != to_guest)
			continue;
		if (skip >= s->len) {
			skip -= s->len;
			continue;
		}
		n = s->len - skip;
		if (n > len)
			n = len;
		while (done < n) {
			ssize_t r = to_guest ? pread(b->fd, s->host + skip + done, n - done, (off_t)(pos + done))
					     : pwrite(b->fd, s->host + skip + done, n - done, (off_t)(pos + done));

			if (r < 0 && errno == EINTR)
				continue;
			if (r <= 0)
				return -1;  /* an error, or the image shrank under us */
			done += (uint64_t)r;
		}
		pos += n;
		len -= n;
		skip = 0;
	}
	return len ? -1 : 0;
}

static bool range_ok(const struct virtio_blk *b, uint64_t sector, uint64_t sectors)
{
	return sector <= b->sectors && sectors <= b->sectors - sector;
}

static int blk_zero(struct virtio_blk *b, uint64_t pos, uint64_t len, bool unmap)
{
	static const uint8_t zeros[64 * 1024];

	if (unmap && fallocate(b->fd, FALLOC_FL_PUNCH_HOLE | FALLOC_FL_KEEP_SIZE, (off_t)pos, (off_t)len) == 0)
		return 0;
	if (fallocate(b->fd, FALLOC_FL_ZERO_RANGE | FALLOC_FL_KEEP_SIZE, (off_t)pos, (off_t)len) == 0)
		return 0;
	/* A file system or block device without either: write the zeros. */
	while (len) {
		size_t n = len < sizeof(zeros) ? (size_t)len : sizeof(zeros);
		ssize_t r = pwrite(b->fd, zeros, n, (off_t)pos);

		if (r < 0 && errno == EINTR)
			continue;
		if (r <= 0)
			return -1;
		pos += (uint64_t)r;
		len -= (uint64_t)r;
	}
	return 0;
}

static uint8_t blk_ranges(struct virtio_blk *b, const struct virtq_req *req, uint32_t type)
{
	struct blk_range r;
	uint64_t data = req->out_len - sizeof(struct virtio_blk_outhdr);

	if (data == 0 || data % sizeof(r) || data / sizeof(r) > BLK_MAX_RANGES)
		return VIRTIO_BLK_S_UNSUPP;
	virtq_req_read(req, sizeof(struct virtio_blk_outhdr), &r, sizeof(r));
	if (r.num_sectors > BLK_MAX_RANGE_SECTORS || !range_ok(b, r.sector, r.num_sectors))
		return VIRTIO_BLK_S_IOERR;
	if (type == VIRTIO_BLK_T_DISCARD) {
		if (r.flags)
			return VIRTIO_BLK_S_UNSUPP;
		/* Discard is advisory: a file system that cannot punch holes keeps the data, which is allowed. */
		(void)fallocate(b->fd, FALLOC_FL_PUNCH_HOLE | FALLOC_FL_KEEP_SIZE, (off_t)(r.sector * BLK_SECTOR),
				(off_t)(r.num_sectors * BLK_SECTOR));
		return VIRTIO_BLK_S_OK;
	}
	if (r.flags & ~(uint32_t)VIRTIO_BLK_WRITE_ZEROES_FLAG_UNMAP)
		return VIRTIO_BLK_S_UNSUPP;
	return blk_zero(b, r.sector * BLK_SECTOR, r.num_sectors * BLK_SECTOR,
			r.flags & VIRTIO_BLK_WRITE_ZEROES_FLAG_UNMAP) < 0 ? VIRTIO_BLK_S_IOERR : VIRTIO_BLK_S_OK;
}

/*
 * A driver that did not negotiate VIRTIO_BLK_F_FLUSH has no way to ask for
 * durability, so it is owed write-through: a write completes only once it is
 * on stable storage (virtio 1.2 §5.2.6.1; Linux's virtio_blk relies on it).
 */
static uint8_t blk_write_through(struct virtio_blk *b)
{
	if (b->vd.driver_features & (1ull << VIRTIO_BLK_F_FLUSH))
		return VIRTIO_BLK_S_OK;
	if (fdatasync(b->fd) < 0)
		return VIRTIO_BLK_S_IOERR;
	b->write_through_syncs++;
	return VIRTIO_BLK_S_OK;
}

/*
 * Serves one request; returns the bytes written into the guest's buffers
 * (the status byte included). The header is copied out first, so buffers
 * that overlap it cannot change the request halfway.
 */
uint32_t virtio_blk_handle(struct virtio_blk *b, const struct virtq_req *req)
{
	struct virtio_blk_outhdr hdr;
	uint64_t data_in, data_out;
	uint32_t written = 0;
	uint8_t status = VIRTIO_BLK_S_OK;

	if (req->out_len < sizeof(hdr) || req->in_len < 1) {
		virtio_report(&b->vd, "request %u has no %s; it fails", req->head,
			      req->in_len < 1 ? "status byte" : "16-byte header");
		return 0;
	}
	virtq_req_read(req, 0, &hdr, sizeof(hdr));
	data_in = req->in_len - 1;  /* the last writable byte is the status */
	data_out = req->out_len - sizeof(hdr);
	/* The used ring reports what was written in 32 bits: a longer request cannot be told its length. */
	if (req->in_len > UINT32_MAX) {
		virtio_report(&b->vd, "request %u offers %llu writable bytes, more than a used-ring length can count; "
			      "it fails", req->head, (unsigned long long)req->in_len);
		virtq_req_write(req, req->in_len - 1, &(uint8_t){ VIRTIO_BLK_S_IOERR }, 1);
		return 1;
	}
	switch (hdr.type) {
	case VIRTIO_BLK_T_IN:
		if (data_in % BLK_SECTOR || !range_ok(b, hdr.sector, data_in / BLK_SECTOR)) {
			status = VIRTIO_BLK_S_IOERR;
			break;
		}
		if (blk_rw(b, req, true, 0, hdr.sector * BLK_SECTOR, data_in) < 0)
			status = VIRTIO_BLK_S_IOERR;
		else
			written = (uint32_t)data_in;
		break;
	case VIRTIO_BLK_T_OUT:
		if (b->ro || data_out % BLK_SECTOR || !range_ok(b, hdr.sector, data_out / BLK_SECTOR)) {
			status = VIRTIO_BLK_S_IOERR;
			break;
		}
		if (blk_rw(b, req, false, sizeof(hdr), hdr.sector * BLK_SECTOR, data_out) < 0)
			status = VIRTIO_BLK_S_IOERR;
		else
			status = blk_write_through(b);
		break;
	case VIRTIO_BLK_T_FLUSH:
		/* Acknowledged only once the data is on stable storage. */
		if (!b->ro && fdatasync(b->fd) < 0)
			status = VIRTIO_BLK_S_IOERR;
		break;
	case VIRTIO_BLK_T_GET_ID: {
		uint32_t n = data_in < VIRTIO_BLK_ID_BYTES ? (uint32_t)data_in : VIRTIO_BLK_ID_BYTES;

		written = (uint32_t)virtq_req_write(req, 0, b->serial, n);
		break;
	}
	case VIRTIO_BLK_T_DISCARD:
	case VIRTIO_BLK_T_WRITE_ZEROES:
		status = b->ro ? VIRTIO_BLK_S_IOERR : blk_ranges(b, req, hdr.type);
		if (status == VIRTIO_BLK_S_OK && hdr.type == VIRTIO_BLK_T_WRITE_ZEROES)
			status = blk_write_through(b);
		break;
	default:
		status = VIRTIO_BLK_S_UNSUPP;
		break;
	}
	virtq_req_write(req, req->in_len - 1, &status, 1);
	return written + 1;
}

/* The worker: takes requests under the device lock, does the I/O without it, completes them under it again. */
void virtio_blk_serve(struct virtio_blk *b)
{
	struct virtio_dev *vd = &b->vd;

	for (;;) {
		unsigned gen;
		uint32_t written;

		pthread_mutex_lock(&vd->lock);
		if (!virtio_pop(vd, 0, b->req)) {
			bool more = virtio_queue_live(vd, 0) && virtq_arm_notify(&vd->vq[0]);

			virtio_interrupt(vd, 0);
			pthread_mutex_unlock(&vd->lock);
			if (more)
				continue;
			return;
		}
		virtq_suppress_notify(&vd->vq[0]);
		gen = vd->generation;
		b->in_flight = true;
		pthread_mutex_unlock(&vd->lock);
		written = virtio_blk_handle(b, b->req);
		pthread_mutex_lock(&vd->lock);
		/* A reset waited for this I/O; the request was the old driver's: drop it. */
		if (gen == vd->generation)
			virtio_push(vd, 0, b->req->head, written);
		b->in_flight = false;
		pthread_cond_broadcast(&b->idle);
		pthread_mutex_unlock(&vd->lock);
	}
}

/* The worker: woken by kicks, it serves the queue until it is empty. */
static void *blk_worker(void *opaque)
{
	struct virtio_blk *b = opaque;

	(void)devhost_thread_enter(b->vd.host, DEV_THREAD_DISK);
	pthread_mutex_lock(&b->wlock);
	for (;;) {
		while (!b->work && !b->stop)
			pthread_cond_wait(&b->wcond, &b->wlock);
		if (b->stop)
			break;
		b->work = false;
		pthread_mutex_unlock(&b->wlock);
		virtio_blk_serve(b);
		pthread_mutex_lock(&b->wlock);
	}
	pthread_mutex_unlock(&b->wlock);
	return NULL;
}

static void blk_kick(struct virtio_dev *vd, unsigned q)
{
	struct virtio_blk *b = vd->priv;

	(void)q;
	pthread_mutex_lock(&b->wlock);
	b->work = true;
	pthread_cond_signal(&b->wcond);
	pthread_mutex_unlock(&b->wlock);
}

static void blk_driver_ok(struct virtio_dev *vd)
{
	/* Requests may have been posted before DRIVER_OK; look at the queue once. */
	blk_kick(vd, 0);
}

/*
 * With vd->lock held. Once the driver reads status 0 the device must not touch
 * its buffers any more (virtio 1.2 §2.4.1), so the reset waits for the I/O in
 * flight: it would otherwise read into buffers the driver reuses, or write
 * stale memory to the disk.
 */
static void blk_reset(struct virtio_dev *vd)
{
	struct virtio_blk *b = vd->priv;

	while (b->in_flight)
		pthread_cond_wait(&b->idle, &vd->lock);
}

/* What only a writable disk offers; a read-only one offers VIRTIO_BLK_F_RO instead. */
#define BLK_WRITE_FEATURES (1ull << VIRTIO_BLK_F_DISCARD | 1ull << VIRTIO_BLK_F_WRITE_ZEROES)

static const struct virtio_dev_ops blk_ops = {
	.kind = "virtio-blk",
	.type = 2,
	.pci_class = 0x018000,  /* mass storage, other */
	.nqueues = 1,
	.queue_max = BLK_QUEUE_SIZE,
	.features = 1ull << VIRTIO_BLK_F_SEG_MAX | 1ull << VIRTIO_BLK_F_BLK_SIZE | 1ull << VIRTIO_BLK_F_FLUSH |
		    BLK_WRITE_FEATURES,
	.config_size = sizeof(struct virtio_blk_config),
	.config_access = blk_config,
	.queue_kick = blk_kick,
	.driver_ok = blk_driver_ok,
	.reset = blk_reset,
};

int virtio_blk_open(struct virtio_blk *b, const char *path, bool ro, struct cloak_err *err)
{
	struct stat st;
	uint64_t bytes;
	const char *base;

	memset(b, 0, sizeof(*b));
	/* O_NONBLOCK: a FIFO with no peer would block the open forever; fstat refuses it below. */
	b->fd = open(path, (ro ? O_RDONLY : O_RDWR) | O_NONBLOCK | O_CLOEXEC);
	if (b->fd < 0) {
		if (errno == ENOENT)
			return err_set(err, "--disk: %s does not exist; create the image first (e.g. truncate -s 64M %s)",
				       path, path);
		if (errno == EACCES || errno == EROFS)
			return err_errno(err, "--disk: cannot open %s for %s%s", path, ro ? "reading" : "writing",
					 ro ? "" : "; give --disk PATH,ro to attach it read-only");
		return err_errno(err, "--disk: cannot open %s", path);
	}
	if (fstat(b->fd, &st) < 0) {
		err_errno(err, "--disk: cannot stat %s", path);
		goto fail;
	}
	if (!S_ISBLK(st.st_mode) && !S_ISREG(st.st_mode)) {
		err_set(err, "--disk: %s is neither a regular file nor a block device%s; give a raw disk image", path,
			S_ISFIFO(st.st_mode) ? " (it is a FIFO)" : "");
		goto fail;
	}
	/* The image is a file or a disk: its I/O blocks as it should. */
	if (fcntl(b->fd, F_SETFL, fcntl(b->fd, F_GETFL) & ~O_NONBLOCK) < 0) {
		err_errno(err, "--disk: cannot make %s blocking (fcntl)", path);
		goto fail;
	}
	/* Two writers on one image corrupt it: take a lock other cloak processes respect. */
	if (flock(b->fd, (ro ? LOCK_SH : LOCK_EX) | LOCK_NB) < 0) {
		err_set(err, "--disk: %s is in use by another process (it holds a lock on it); stop that one or "
			     "attach a copy", path);
		goto fail;
	}
	if (S_ISBLK(st.st_mode)) {
		if (ioctl(b->fd, BLKGETSIZE64, &bytes) < 0) {
			err_errno(err, "--disk: cannot read the size of block device %s", path);
			goto fail;
		}
	} else {
		bytes = (uint64_t)st.st_size;
	}
	if (bytes < BLK_SECTOR) {
		err_set(err, "--disk: %s holds %llu bytes, less than one 512-byte sector; give a raw image of at "
			     "least 512 bytes", path, (unsigned long long)bytes);
		goto fail;
	}
	b->tail = (unsigned)(bytes % BLK_SECTOR);  /* reported by attach: cloak opens each image twice */
	b->sectors = bytes / BLK_SECTOR;
	b->ro = ro;
	b->path = path;
	base = strrchr(path, '/');
	/* The ID the guest reads (GET_ID, /sys/block/vdX/serial): the image's file name, cut to 20 bytes. */
	base = base ? base + 1 : path;
	memcpy(b->serial, base, strnlen(base, sizeof(b->serial)));
	return 0;
fail:
	close(b->fd);
	b->fd = -1;
	return -1;
}

int virtio_blk_attach(struct virtio_blk *b, struct dev_host *host, unsigned index, struct cloak_err *err)
{
	char name[24];
	int rc;

	snprintf(name, sizeof(name), "virtio-blk%u", index);
	if (b->tail)
		fprintf(stderr, "cloak: --disk: %s is not a multiple of 512 bytes; the guest sees %llu sectors and "
				"not the last %u bytes\n", b->path, (unsigned long long)b->sectors, b->tail);
	b->req = malloc(sizeof(*b->req));
	if (!b->req)
		return err_set(err, "out of memory");
	pthread_mutex_init(&b->wlock, NULL);
	pthread_cond_init(&b->wcond, NULL);
	pthread_cond_init(&b->idle, NULL);
	if (virtio_pci_init(&b->vd, host, &blk_ops, name, b, err) < 0)
		return -1;
	/* Before the driver can read them: one ops table, the features follow the disk. */
	if (b->ro)
		b->vd.features = (b->vd.features & ~BLK_WRITE_FEATURES) | 1ull << VIRTIO_BLK_F_RO;
	rc = pthread_create(&b->worker, NULL, blk_worker, b);
	if (rc) {
		errno = rc;
		return err_errno(err, "cannot start the disk thread of %s (pthread_create)", name);
	}
	b->running = true;
	return 0;
}

void virtio_blk_close(struct virtio_blk *b)
{
	if (b->running) {
		pthread_mutex_lock(&b->wlock);
		b->stop = true;
		pthread_cond_signal(&b->wcond);
		pthread_mutex_unlock(&b->wlock);
		pthread_join(b->worker, NULL);
		b->running = false;
	}
	if (b->vd.ready || b->vd.host)
		virtio_pci_fini(&b->vd);
	/* However the VM ended (poweroff, SIGTERM, timeout), what the guest wrote reaches the disk before cloak exits. */
	if (b->fd >= 0 && !b->ro && fdatasync(b->fd) < 0)
		fprintf(stderr, "cloak: %s: fdatasync failed at exit (%s); the image may lack the last writes\n",
			b->vd.name[0] ? b->vd.name : "virtio-blk", strerror(errno));
	if (b->fd >= 0)
		close(b->fd);
	b->fd = -1;
	free(b->req);
	b->req = NULL;
}

/* Whether `item` (len bytes) is `key`=... ; *val then points past the '='. */
static bool item_key(const char *item, size_t len, const char *key, const char **val, size_t *val_len)
{
	size_t k = strlen(key);

	if (len <= k || strncmp(item, key, k) || item[k] != '=')
		return false;
	*val = item + k + 1;
	*val_len = len - k - 1;
	return true;
}

int virtio_blk_parse_options(const char *s, struct virtio_blk_options *o, struct cloak_err *err)
{
	const char *item = s, *path = NULL, *val = NULL;
	size_t path_len = 0, len, val_len = 0;
	bool first = true;

	o->ro = false;
	for (;; first = false) {
		const char *comma = strchr(item, ',');
		bool keyed_path = false, bare_path = false;

		len = comma ? (size_t)(comma - item) : strlen(item);
		if (item_key(item, len, "path", &val, &val_len))
			keyed_path = true;
		else if (first && !item_key(item, len, "ro", &val, &val_len))
			bare_path = true;  /* --disk PATH[,ro]: even a file named "ro" */
		if (keyed_path || bare_path) {
			if (path)
				return err_set(err, "--disk: '%s' gives the path twice; give one", s);
			path = keyed_path ? val : item;
			path_len = keyed_path ? val_len : len;
		} else if ((len == 2 && !strncmp(item, "ro", 2)) ||
			   (item_key(item, len, "ro", &val, &val_len) && val_len == 2 && !strncmp(val, "on", 2))) {
			o->ro = true;
		} else if (item_key(item, len, "ro", &val, &val_len) && val_len == 3 && !strncmp(val, "off", 3)) {
			o->ro = false;
		} else {
			return err_set(err, "--disk: unknown flag '%.*s' in '%s'; the only flag is ro (--disk PATH,ro)",
				       (int)len, item, s);
		}
		if (!comma)
			break;
		item = comma + 1;
	}
	if (!path || path_len == 0)
		return err_set(err, "--disk: no path in '%s'; write --disk PATH or --disk PATH,ro", s);
	if (path_len >= sizeof(o->path))
		return err_set(err, "--disk: the path is longer than %zu bytes; use a shorter one", sizeof(o->path) - 1);
	memcpy(o->path, path, path_len);
	o->path[path_len] = 0;
	return 0;
}

static int blk_parse(const char *value, struct cloak_err *err)
{
	struct virtio_blk_options o;

	return virtio_blk_parse_options(value, &o, err);
}

/* The image exists, is a file or a block device, and can be opened and locked as the disk will be. */
static int blk_probe(const char *value, struct cloak_err *err)
{
	struct virtio_blk_options o;
	struct virtio_blk probe;

	if (virtio_blk_parse_options(value, &o, err) < 0 || virtio_blk_open(&probe, o.path, o.ro, err) < 0)
		return -1;
	close(probe.fd);
	return 0;
}

static void blk_help(FILE *out)
{
	fprintf(out,
		"  --disk PATH[,ro]     a virtio-blk disk on the raw image PATH (repeatable, up to %d);\n"
		"                       ro: the guest can read but not write it (also path=PATH,ro=on|off)\n",
		CONFIG_MAX_DISKS);
}

static int blk_init(struct dev_host *host, struct cloak_err *err)
{
	const char *value;
	unsigned i;

	for (ndisks = 0; (value = config_device_value(host->cfg, "disk", ndisks)); ndisks++) {
		struct virtio_blk_options *o = &disk_options[ndisks];

		if (ndisks == CONFIG_MAX_DISKS) {
			err_set(err, "--disk: more than %d disks; attach at most %d", CONFIG_MAX_DISKS, CONFIG_MAX_DISKS);
			goto fail;
		}
		if (virtio_blk_parse_options(value, o, err) < 0 || virtio_blk_open(&disks[ndisks], o->path, o->ro, err) < 0)
			goto fail;
		if (virtio_blk_attach(&disks[ndisks], host, ndisks, err) < 0) {
			ndisks++;
			goto fail;
		}
	}
	return 0;
fail:
	for (i = 0; i < ndisks; i++)
		virtio_blk_close(&disks[i]);
	ndisks = 0;
	return -1;
}

static void blk_fini(struct dev_host *host)
{
	unsigned i;

	(void)host;
	for (i = 0; i < ndisks; i++)
		virtio_blk_close(&disks[i]);
	ndisks = 0;
}

const struct device_ops virtio_blk_device = {
	.name = "virtio-blk",
	.option = "disk",
	.parse = blk_parse,
	.probe = blk_probe,
	.help = blk_help,
	.init = blk_init,
	.fini = blk_fini,
};
