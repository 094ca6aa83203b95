/* test_blk.c: virtio-blk requests against a temporary image: round trips, flush, read-only, bad requests. */
#include "vt.h"

#include "virtio_blk.h"

#include <fcntl.h>
#include <linux/virtio_blk.h>
#include <stdlib.h>
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

Suite *blk_suite(void)
{
	Suite *s = suite_create("virtio-blk");
	TCase *rw = tcase_create("read-write"), *ro = tcase_create("read-only");

	tcase_add_checked_fixture(rw, setup_rw, teardown);
	tcase_add_test(rw, read_write_round_trip);
	tcase_add_test(rw, bounds_and_odd_lengths);
	tcase_add_test(rw, overlapping_header_and_data);
	tcase_add_test(rw, get_id_discard_write_zeroes);
	tcase_add_test(rw, open_errors_name_the_option);
	tcase_add_checked_fixture(ro, setup_ro, teardown);
	tcase_add_test(ro, read_only_refuses_writes);
	suite_add_tcase(s, rw);
	suite_add_tcase(s, ro);
	return s;
}
