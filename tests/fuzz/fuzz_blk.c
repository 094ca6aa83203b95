/* fuzz_blk.c: libFuzzer target: the virtio-blk request path (rings, headers, data buffers) against a small image. */
#include "dev_glue.h"
#include "virtio_blk.h"

#include <linux/virtio_blk.h>
#include <stdio.h>
#include <stdlib.h>
#include <sys/mman.h>
#include <unistd.h>

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

#define IMAGE_BYTES (16 * 512)

static struct virtio_blk disk;

/* The disk worker's part, run inline when the queue is kicked (no threads in a fuzz target). */
static void blk_serve(struct virtio_dev *vd, unsigned q)
{
	(void)q;
	virtio_blk_serve(vd->priv);
}

static const struct virtio_dev_ops fuzz_blk_ops = {
	.kind = "virtio-blk", .type = 2, .pci_class = 0x018000, .nqueues = 1, .queue_max = 256,
	.features = 1ull << VIRTIO_BLK_F_SEG_MAX | 1ull << VIRTIO_BLK_F_BLK_SIZE | 1ull << VIRTIO_BLK_F_FLUSH,
	.queue_kick = blk_serve,
};

/* The image is a memory file, opened by path the way --disk opens one; its contents are reset per input. */
static int image_fd = -1;

static void disk_setup(void)
{
	struct cloak_err err;
	char path[64];

	image_fd = memfd_create("fuzz-blk", MFD_CLOEXEC);
	if (image_fd < 0 || ftruncate(image_fd, IMAGE_BYTES) < 0)
		abort();
	snprintf(path, sizeof(path), "/proc/self/fd/%d", image_fd);
	if (virtio_blk_open(&disk, path, false, &err) < 0) {
		fprintf(stderr, "fuzz_blk: %s\n", err.msg);
		abort();
	}
	disk.req = malloc(sizeof(*disk.req));
	if (!disk.req || virtio_pci_init(&disk.vd, fuzz_host(), &fuzz_blk_ops, "virtio-blk0", &disk, &err) < 0)
		abort();
}

/* The input: the driver header (dev_glue.h), then guest memory from address 0. */
int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	if (size < FUZZ_DEV_HDR)
		return 0;
	if (image_fd < 0)
		disk_setup();
	if (ftruncate(image_fd, 0) < 0 || ftruncate(image_fd, IMAGE_BYTES) < 0)
		abort();
	disk.ro = data[0] & FUZZ_F_DEVICE;
	fuzz_host_load(data + FUZZ_DEV_HDR, size - FUZZ_DEV_HDR, data[0] & FUZZ_F_HALF_SHARED);
	fuzz_driver_start(&disk.vd, data, 1ull << VIRTIO_BLK_F_FLUSH);
	fuzz_driver_kick(&disk.vd, 0);
	/* A second kick finds what the guest's rings say is left, as a driver's later notify would. */
	fuzz_driver_kick(&disk.vd, 0);
	return 0;
}
