/* test_blk.c: virtio-blk requests against a temporary image: round trips, flush, read-only, bad requests. */
#include "vt.h"

#include "fake_host.h"
#include "virtio_blk.h"

#include <fcntl.h>
#include <linux/userfaultfd.h>
#include <linux/virtio_blk.h>
#include <poll.h>
#include <pthread.h>
#include <stdlib.h>
#include <sys/ioctl.h>
#include <sys/mman.h>
#include <sys/syscall.h>
#include <time.h>
#include <unistd.h>

static char path[64];
static struct virtio_blk blk;
static struct virtq_req req;
static uint8_t hdr_buf[16], data[4096], status;

static void make_image(bool ro)
{
	struct cloak_err err;
	int fd;

	strcpy(path, "/tmp/cloak-blk-test.XXXXXX");
	fd = mkstemp(path);
	ck_assert_int_ge(fd, 0);
	ck_assert_int_eq(ftruncate(fd, 64 * 512), 0);
	ck_assert_int_eq(pwrite(fd, "sector-one", 10, 512), 10);
	close(fd);
	ck_assert_msg(virtio_blk_open(&blk, path, ro, &err) == 0, "%s", err.msg);
	/* Only the request path is under test: no PCI function, no worker. */
	snprintf(blk.vd.name, sizeof(blk.vd.name), "virtio-blk-test");
}

static void teardown(void)
{
	close(blk.fd);
	unlink(path);
}

/* header | data (readable when write) | status */
static void build(uint32_t type, uint64_t sector, uint32_t len, bool data_writable)
{
	struct virtio_blk_outhdr h = { .type = type, .sector = sector };

	memcpy(hdr_buf, &h, sizeof(h));
	status = 0xee;
	req.nseg = 0;
	req.in_len = req.out_len = 0;
	req.seg[req.nseg++] = (struct virtq_seg){ hdr_buf, sizeof(h), false };
	req.out_len = sizeof(h);
	if (len) {
		req.seg[req.nseg++] = (struct virtq_seg){ data, len, data_writable };
		if (data_writable)
			req.in_len += len;
		else
			req.out_len += len;
	}
	req.seg[req.nseg++] = (struct virtq_seg){ &status, 1, true };
	req.in_len += 1;
}

static void setup_rw(void)
{
	make_image(false);
}

static void setup_ro(void)
{
	make_image(true);
}

START_TEST(read_write_round_trip)
{
	char back[16] = "";
	int fd;

	build(VIRTIO_BLK_T_IN, 1, 512, true);
	ck_assert_uint_eq(virtio_blk_handle(&blk, &req), 513);
	ck_assert_uint_eq(status, VIRTIO_BLK_S_OK);
	ck_assert(!memcmp(data, "sector-one", 10));
	memset(data, 'w', 1024);
	build(VIRTIO_BLK_T_OUT, 10, 1024, false);
	ck_assert_uint_eq(virtio_blk_handle(&blk, &req), 1);
	ck_assert_uint_eq(status, VIRTIO_BLK_S_OK);
	build(VIRTIO_BLK_T_FLUSH, 0, 0, false);
	ck_assert_uint_eq(virtio_blk_handle(&blk, &req), 1);
	ck_assert_uint_eq(status, VIRTIO_BLK_S_OK);
	/* The host file holds it. */
	fd = open(path, O_RDONLY);
	ck_assert_int_eq(pread(fd, back, 4, 10 * 512 + 1020), 4);
	close(fd);
	ck_assert(!memcmp(back, "wwww", 4));
	memset(data, 0, sizeof(data));
	build(VIRTIO_BLK_T_IN, 10, 1024, true);
	virtio_blk_handle(&blk, &req);
	ck_assert_uint_eq(data[1023], 'w');
}
END_TEST

START_TEST(bounds_and_odd_lengths)
{
	build(VIRTIO_BLK_T_IN, 63, 1024, true);  /* runs past the last sector */
	virtio_blk_handle(&blk, &req);
	ck_assert_uint_eq(status, VIRTIO_BLK_S_IOERR);
	build(VIRTIO_BLK_T_IN, UINT64_MAX, 512, true);  /* sector * 512 would wrap */
	virtio_blk_handle(&blk, &req);
	ck_assert_uint_eq(status, VIRTIO_BLK_S_IOERR);
	build(VIRTIO_BLK_T_OUT, 0, 100, false);  /* not whole sectors */
	virtio_blk_handle(&blk, &req);
	ck_assert_uint_eq(status, VIRTIO_BLK_S_IOERR);
	build(99, 0, 0, false);
	virtio_blk_handle(&blk, &req);
	ck_assert_uint_eq(status, VIRTIO_BLK_S_UNSUPP);
	/* No status byte at all: the request fails with nothing written. */
	build(VIRTIO_BLK_T_IN, 0, 512, false);
	req.nseg--;
	req.in_len = 0;
	ck_assert_uint_eq(virtio_blk_handle(&blk, &req), 0);
	/* A header split over two buffers is still one header. */
	build(VIRTIO_BLK_T_IN, 1, 512, true);
	memmove(&req.seg[1], &req.seg[0], 3 * sizeof(req.seg[0]));
	req.seg[0] = (struct virtq_seg){ hdr_buf, 5, false };
	req.seg[1] = (struct virtq_seg){ hdr_buf + 5, 11, false };
	req.nseg = 4;
	virtio_blk_handle(&blk, &req);
	ck_assert_uint_eq(status, VIRTIO_BLK_S_OK);
	ck_assert(!memcmp(data, "sector-one", 10));
}
END_TEST

START_TEST(overlapping_header_and_data)
{
	/* The data buffer is the header itself: the device must act on the header it read first. */
	build(VIRTIO_BLK_T_IN, 1, 0, true);
	req.seg[2] = req.seg[1];
	req.seg[1] = (struct virtq_seg){ data, 512, true };
	req.nseg = 3;
	req.in_len = 513;
	memcpy(data, hdr_buf, 16);
	req.seg[0].host = data;  /* header and data share bytes */
	virtio_blk_handle(&blk, &req);
	ck_assert_uint_eq(status, VIRTIO_BLK_S_OK);
	ck_assert(!memcmp(data, "sector-one", 10));
}
END_TEST

START_TEST(get_id_discard_write_zeroes)
{
	struct { uint64_t sector; uint32_t num, flags; } range = { 10, 2, 0 };
	char id[21] = "";

	build(VIRTIO_BLK_T_GET_ID, 0, 20, true);
	ck_assert_uint_eq(virtio_blk_handle(&blk, &req), 21);
	memcpy(id, data, 20);
	ck_assert_msg_has(id, "cloak-blk-test");
	memset(data, 'x', 512);
	build(VIRTIO_BLK_T_OUT, 10, 512, false);
	virtio_blk_handle(&blk, &req);
	memcpy(data, &range, sizeof(range));
	build(VIRTIO_BLK_T_WRITE_ZEROES, 0, sizeof(range), false);
	virtio_blk_handle(&blk, &req);
	ck_assert_uint_eq(status, VIRTIO_BLK_S_OK);
	build(VIRTIO_BLK_T_IN, 10, 512, true);
	virtio_blk_handle(&blk, &req);
	ck_assert_uint_eq(data[0], 0);
	ck_assert_uint_eq(data[511], 0);
	range.flags = 1;  /* DISCARD takes no flags */
	memcpy(data, &range, sizeof(range));
	build(VIRTIO_BLK_T_DISCARD, 0, sizeof(range), false);
	virtio_blk_handle(&blk, &req);
	ck_assert_uint_eq(status, VIRTIO_BLK_S_UNSUPP);
	range = (__typeof__(range)){ 60, 8, 0 };  /* past the end */
	memcpy(data, &range, sizeof(range));
	build(VIRTIO_BLK_T_DISCARD, 0, sizeof(range), false);
	virtio_blk_handle(&blk, &req);
	ck_assert_uint_eq(status, VIRTIO_BLK_S_IOERR);
}
END_TEST

/* Without VIRTIO_BLK_F_FLUSH a write completes only after fdatasync; with it, FLUSH does that job. */
START_TEST(write_through_without_flush)
{
	memset(data, 'd', 512);
	blk.vd.driver_features = 1ull << VIRTIO_F_VERSION_1;
	build(VIRTIO_BLK_T_OUT, 3, 512, false);
	ck_assert_uint_eq(virtio_blk_handle(&blk, &req), 1);
	ck_assert_uint_eq(status, VIRTIO_BLK_S_OK);
	ck_assert_uint_eq(blk.write_through_syncs, 1);
	blk.vd.driver_features |= 1ull << VIRTIO_BLK_F_FLUSH;
	build(VIRTIO_BLK_T_OUT, 4, 512, false);
	ck_assert_uint_eq(virtio_blk_handle(&blk, &req), 1);
	ck_assert_uint_eq(status, VIRTIO_BLK_S_OK);
	ck_assert_uint_eq(blk.write_through_syncs, 1);
	/* Reads never need it. */
	blk.vd.driver_features = 1ull << VIRTIO_F_VERSION_1;
	build(VIRTIO_BLK_T_IN, 3, 512, true);
	virtio_blk_handle(&blk, &req);
	ck_assert_uint_eq(blk.write_through_syncs, 1);
	ck_assert_uint_eq(data[0], 'd');
}
END_TEST

/*
 * A read whose buffers add up to more than 4 GiB (here 130 buffers of 32 MiB,
 * all the same memory) cannot be told its length in the used ring's 32 bits:
 * it fails instead of reporting a truncated count.
 */
START_TEST(payload_over_4gib_fails)
{
	const uint32_t chunk = 32u << 20;
	uint8_t *buf = mmap(NULL, chunk, PROT_READ | PROT_WRITE, MAP_PRIVATE | MAP_ANONYMOUS, -1, 0);
	struct virtio_blk_outhdr h = { .type = VIRTIO_BLK_T_IN, .sector = 0 };
	unsigned i;

	ck_assert(buf != MAP_FAILED);
	ck_assert_int_eq(ftruncate(blk.fd, 8ll << 30), 0);
	blk.sectors = (8ull << 30) / 512;
	memcpy(hdr_buf, &h, sizeof(h));
	status = 0xee;
	req.nseg = 0;
	req.in_len = 0;
	req.seg[req.nseg++] = (struct virtq_seg){ hdr_buf, sizeof(h), false };
	req.out_len = sizeof(h);
	for (i = 0; i < 130; i++) {
		req.seg[req.nseg++] = (struct virtq_seg){ buf, chunk, true };
		req.in_len += chunk;
	}
	req.seg[req.nseg++] = (struct virtq_seg){ &status, 1, true };
	req.in_len += 1;
	ck_assert_uint_gt(req.in_len, UINT32_MAX);
	ck_assert_uint_eq(virtio_blk_handle(&blk, &req), 1);
	ck_assert_uint_eq(status, VIRTIO_BLK_S_IOERR);
	munmap(buf, chunk);
}
END_TEST

START_TEST(read_only_refuses_writes)
{
	struct { uint64_t sector; uint32_t num, flags; } range = { 0, 1, 0 };

	memset(data, 'z', 512);
	build(VIRTIO_BLK_T_OUT, 1, 512, false);
	virtio_blk_handle(&blk, &req);
	ck_assert_uint_eq(status, VIRTIO_BLK_S_IOERR);
	memcpy(data, &range, sizeof(range));
	build(VIRTIO_BLK_T_WRITE_ZEROES, 0, sizeof(range), false);
	virtio_blk_handle(&blk, &req);
	ck_assert_uint_eq(status, VIRTIO_BLK_S_IOERR);
	build(VIRTIO_BLK_T_IN, 1, 512, true);
	virtio_blk_handle(&blk, &req);
	ck_assert_uint_eq(status, VIRTIO_BLK_S_OK);
	ck_assert(!memcmp(data, "sector-one", 10));
}
END_TEST

START_TEST(open_errors_name_the_option)
{
	struct virtio_blk b2;
	struct cloak_err err;

	ck_assert_int_eq(virtio_blk_open(&b2, "/nonexistent/disk.img", false, &err), -1);
	ck_assert_msg_has(err.msg, "--disk: /nonexistent/disk.img does not exist");
	ck_assert_int_eq(virtio_blk_open(&b2, "/tmp", false, &err), -1);
	ck_assert_msg_has(err.msg, "--disk");
	/* A second writer on the same image is refused. */
	ck_assert_int_eq(virtio_blk_open(&b2, path, false, &err), -1);
	ck_assert_msg_has(err.msg, "in use");
}
END_TEST

/*
 * The whole device: on a PCI bus, with its worker thread, driven through BAR 0
 * as a driver would, in guest memory that is page-aligned so userfaultfd can
 * hold one of its pages and so stall the worker's I/O on demand.
 */
#define DEV_MEM (1024 * 1024)
#define DEV_DESC 0x1000
#define DEV_AVAIL 0x2000
#define DEV_USED 0x3000
#define DEV_HDR 0x4000
#define DEV_STATUS 0x4100
#define DEV_DATA 0x10000  /* its own page: the one userfaultfd holds */

static struct fake_host dfh;
static struct vm_config dcfg;
static struct pci_bus dbus;
static struct virtio_blk dev;
static uint8_t *dram;

static void bar_write(uint64_t off, unsigned size, uint64_t v)
{
	virtio_pci_bar_access(&dev.vd.pci, 0, off, true, (uint8_t *)&v, size);
}

static uint64_t bar_read(uint64_t off, unsigned size)
{
	uint64_t v = 0;

	virtio_pci_bar_access(&dev.vd.pci, 0, off, false, (uint8_t *)&v, size);
	return v;
}

static void setup_dev(void)
{
	struct cloak_err err;

	make_image(false);
	dev = blk;
	blk.fd = -1;
	config_defaults(&dcfg);
	dram = mmap(NULL, DEV_MEM, PROT_READ | PROT_WRITE, MAP_PRIVATE | MAP_ANONYMOUS, -1, 0);
	ck_assert(dram != MAP_FAILED);
	fake_host_init(&dfh, dram, DEV_MEM, false, &dcfg);
	pci_bus_init(&dbus, &dfh.host);
	dfh.host.pci = &dbus;
	ck_assert_msg(virtio_blk_attach(&dev, &dfh.host, 0, &err) == 0, "%s", err.msg);
}

static void teardown_dev(void)
{
	virtio_blk_close(&dev);
	fake_host_fini(&dfh);
	munmap(dram, DEV_MEM);
	unlink(path);
}

/* ACKNOWLEDGE, DRIVER, the features, FEATURES_OK and queue 0 of 8 at DEV_DESC/AVAIL/USED. */
static void dev_driver_start(uint64_t features)
{
	bar_write(0x14, 1, VIRTIO_STATUS_ACKNOWLEDGE | VIRTIO_STATUS_DRIVER);
	bar_write(0x08, 4, 0);
	bar_write(0x0c, 4, (uint32_t)features);
	bar_write(0x08, 4, 1);
	bar_write(0x0c, 4, (uint32_t)(features >> 32));
	bar_write(0x14, 1, VIRTIO_STATUS_ACKNOWLEDGE | VIRTIO_STATUS_DRIVER | VIRTIO_STATUS_FEATURES_OK);
	ck_assert_uint_eq(bar_read(0x14, 1) & VIRTIO_STATUS_FEATURES_OK, VIRTIO_STATUS_FEATURES_OK);
	bar_write(0x16, 2, 0);
	bar_write(0x18, 2, 8);
	bar_write(0x20, 8, DEV_DESC);
	bar_write(0x28, 8, DEV_AVAIL);
	bar_write(0x30, 8, DEV_USED);
	bar_write(0x1c, 2, 1);
	ck_assert_uint_eq(bar_read(0x1c, 2), 1);
}

/* Linux's virtio_blk sends DISCARD and WRITE_ZEROES only when offered, and sizes them from the config. */
START_TEST(offers_discard_and_write_zeroes)
{
	struct virtio_blk_config c;
	uint32_t f;
	unsigned i;

	bar_write(0x00, 4, 0);
	f = (uint32_t)bar_read(0x04, 4);
	ck_assert_uint_eq(f & (1u << VIRTIO_BLK_F_DISCARD), 1u << VIRTIO_BLK_F_DISCARD);
	ck_assert_uint_eq(f & (1u << VIRTIO_BLK_F_WRITE_ZEROES), 1u << VIRTIO_BLK_F_WRITE_ZEROES);
	ck_assert_uint_eq(f & (1u << VIRTIO_BLK_F_FLUSH), 1u << VIRTIO_BLK_F_FLUSH);
	for (i = 0; i < sizeof(c); i++)
		((uint8_t *)&c)[i] = (uint8_t)bar_read(VPCI_DEVICE_OFF + i, 1);
	ck_assert_uint_eq(c.capacity, 64);
	ck_assert_uint_gt(c.max_discard_sectors, 0);
	ck_assert_uint_gt(c.max_discard_seg, 0);
	ck_assert_uint_gt(c.discard_sector_alignment, 0);
	ck_assert_uint_gt(c.max_write_zeroes_sectors, 0);
	ck_assert_uint_gt(c.max_write_zeroes_seg, 0);
	ck_assert_uint_eq(c.write_zeroes_may_unmap, 1);
}
END_TEST

/* A read-only disk offers RO and neither DISCARD nor WRITE_ZEROES, from the same ops table. */
START_TEST(read_only_disk_offers_ro_only)
{
	struct cloak_err err;
	uint32_t f;

	virtio_blk_close(&dev);
	ck_assert_msg(virtio_blk_open(&dev, path, true, &err) == 0, "%s", err.msg);
	pci_bus_init(&dbus, &dfh.host);
	ck_assert_msg(virtio_blk_attach(&dev, &dfh.host, 0, &err) == 0, "%s", err.msg);
	bar_write(0x00, 4, 0);
	f = (uint32_t)bar_read(0x04, 4);
	ck_assert_uint_eq(f & (1u << VIRTIO_BLK_F_RO), 1u << VIRTIO_BLK_F_RO);
	ck_assert_uint_eq(f & (1u << VIRTIO_BLK_F_DISCARD | 1u << VIRTIO_BLK_F_WRITE_ZEROES), 0);
	ck_assert_uint_eq(f & (1u << VIRTIO_BLK_F_FLUSH), 1u << VIRTIO_BLK_F_FLUSH);
}
END_TEST

struct resetter {
	pthread_t thread;
	atomic_bool done;
};

static void *reset_device(void *opaque)
{
	struct resetter *r = opaque;

	bar_write(0x14, 1, 0);
	atomic_store(&r->done, true);
	return NULL;
}

/*
 * A reset while a read is in flight: the worker's pread lands in a page that
 * userfaultfd holds, so the I/O stays in flight until the test lets it go.
 * The reset must not return before then, and the request, now the old
 * driver's, is never completed.
 */
START_TEST(reset_waits_for_io_in_flight)
{
	struct virtio_blk_outhdr h = { .type = VIRTIO_BLK_T_IN, .sector = 1 };
	struct uffdio_api api = { .api = UFFD_API };
	struct uffdio_register reg;
	struct uffdio_zeropage zero;
	struct uffd_msg msg;
	struct resetter r;
	struct pollfd p;
	uint8_t *g = dram;
	struct virtq_desc *d = (struct virtq_desc *)(g + DEV_DESC);
	uint16_t *avail = (uint16_t *)(g + DEV_AVAIL);
	long page = sysconf(_SC_PAGESIZE);
	int uffd = (int)syscall(SYS_userfaultfd, O_CLOEXEC | O_NONBLOCK);

	if (uffd < 0 || ioctl(uffd, UFFDIO_API, &api) < 0) {
		/* Without userfaultfd the I/O cannot be held in flight; say so loudly rather than pass. */
		ck_abort_msg("userfaultfd is not available here (run as root or set vm.unprivileged_userfaultfd=1)");
	}
	/* Drop the data page and let userfaultfd own it: the first touch now waits for us. */
	ck_assert_int_eq(madvise(g + DEV_DATA, (size_t)page, MADV_DONTNEED), 0);
	reg = (struct uffdio_register){ .range = { (uintptr_t)(g + DEV_DATA), (uint64_t)page },
					.mode = UFFDIO_REGISTER_MODE_MISSING };
	ck_assert_int_eq(ioctl(uffd, UFFDIO_REGISTER, &reg), 0);

	dev_driver_start(1ull << VIRTIO_F_VERSION_1 | 1ull << VIRTIO_BLK_F_FLUSH);
	memcpy(g + DEV_HDR, &h, sizeof(h));
	d[0] = (struct virtq_desc){ DEV_HDR, sizeof(h), VIRTQ_DESC_F_NEXT, 1 };
	d[1] = (struct virtq_desc){ DEV_DATA, 512, VIRTQ_DESC_F_NEXT | VIRTQ_DESC_F_WRITE, 2 };
	d[2] = (struct virtq_desc){ DEV_STATUS, 1, VIRTQ_DESC_F_WRITE, 0 };
	avail[2] = 0;
	avail[1] = 1;
	/* DRIVER_OK makes the device look at the queue: the worker takes the request and faults. */
	bar_write(0x14, 1, VIRTIO_STATUS_ACKNOWLEDGE | VIRTIO_STATUS_DRIVER | VIRTIO_STATUS_FEATURES_OK |
				   VIRTIO_STATUS_DRIVER_OK);
	p = (struct pollfd){ uffd, POLLIN, 0 };
	ck_assert_msg(poll(&p, 1, 5000) == 1, "the worker never touched the data buffer");
	ck_assert_int_eq(read(uffd, &msg, sizeof(msg)), sizeof(msg));
	ck_assert_uint_eq(msg.event, UFFD_EVENT_PAGEFAULT);

	atomic_init(&r.done, false);
	ck_assert_int_eq(pthread_create(&r.thread, NULL, reset_device, &r), 0);
	nanosleep(&(struct timespec){ 0, 300 * 1000 * 1000 }, NULL);
	ck_assert_msg(!atomic_load(&r.done), "the reset returned while the device was still reading into guest memory");

	zero = (struct uffdio_zeropage){ .range = { (uintptr_t)(g + DEV_DATA), (uint64_t)page } };
	ck_assert_int_eq(ioctl(uffd, UFFDIO_ZEROPAGE, &zero), 0);
	pthread_join(r.thread, NULL);
	ck_assert(atomic_load(&r.done));
	ck_assert_uint_eq(bar_read(0x14, 1), 0);
	/* The old driver's request is dropped, not completed. */
	ck_assert_uint_eq(*(uint16_t *)(g + DEV_USED + 2), 0);
	close(uffd);
}
END_TEST

Suite *blk_suite(void)
{
	Suite *s = suite_create("virtio-blk");
	TCase *rw = tcase_create("read-write"), *ro = tcase_create("read-only"), *device = tcase_create("device");

	tcase_add_checked_fixture(rw, setup_rw, teardown);
	tcase_add_test(rw, read_write_round_trip);
	tcase_add_test(rw, bounds_and_odd_lengths);
	tcase_add_test(rw, overlapping_header_and_data);
	tcase_add_test(rw, get_id_discard_write_zeroes);
	tcase_add_test(rw, open_errors_name_the_option);
	tcase_add_test(rw, write_through_without_flush);
	tcase_add_test(rw, payload_over_4gib_fails);
	tcase_add_checked_fixture(ro, setup_ro, teardown);
	tcase_add_test(ro, read_only_refuses_writes);
	tcase_add_checked_fixture(device, setup_dev, teardown_dev);
	tcase_add_test(device, offers_discard_and_write_zeroes);
	tcase_add_test(device, read_only_disk_offers_ro_only);
	tcase_add_test(device, reset_waits_for_io_in_flight);
	suite_add_tcase(s, rw);
	suite_add_tcase(s, ro);
	suite_add_tcase(s, device);
	return s;
}
