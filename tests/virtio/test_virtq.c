/* test_virtq.c: chain walking against fake guest memory: good chains and every way a guest can lie. */
#include "vt.h"

#include "virtq.h"

#define QSIZE 8
#define DESC_GPA 0x1000
#define AVAIL_GPA 0x2000
#define USED_GPA 0x3000
#define BUF_GPA 0x10000

static struct guest_mem mem;
static struct dma_space dma;
static struct virtq vq;
static struct virtq_req req;
static atomic_bool reported;

static struct virtq_desc *desc(unsigned i)
{
	return (struct virtq_desc *)(mem.host + DESC_GPA) + i;
}

static uint16_t *avail(void)
{
	return (uint16_t *)(mem.host + AVAIL_GPA);
}

static uint16_t *used16(void)
{
	return (uint16_t *)(mem.host + USED_GPA);
}

static void set_desc(unsigned i, uint64_t addr, uint32_t len, uint16_t flags, uint16_t next)
{
	*desc(i) = (struct virtq_desc){ addr, len, flags, next };
}

/* Puts head on the avail ring and bumps the index, as a driver does. */
static void post(uint16_t head)
{
	avail()[2 + avail()[1] % QSIZE] = head;
	avail()[1]++;
}

static void setup(void)
{
	fake_mem_init(&mem);
	atomic_store(&reported, false);
	dma = (struct dma_space){ .mem = &mem, .shared = NULL, .reported = &reported };
	virtq_reset(&vq);
	vq.size = QSIZE;
	vq.desc_gpa = DESC_GPA;
	vq.avail_gpa = AVAIL_GPA;
	vq.used_gpa = USED_GPA;
	vq.indirect = true;
	ck_assert_int_eq(virtq_enable(&vq, &dma), 0);
}

static void teardown(void)
{
	fake_mem_free(&mem);
}

START_TEST(good_chain)
{
	set_desc(0, BUF_GPA, 16, VIRTQ_DESC_F_NEXT, 1);
	set_desc(1, BUF_GPA + 0x100, 512, VIRTQ_DESC_F_NEXT | VIRTQ_DESC_F_WRITE, 2);
	set_desc(2, BUF_GPA + 0x400, 1, VIRTQ_DESC_F_WRITE, 0);
	post(0);
	ck_assert_int_eq(virtq_pop(&vq, &req), VIRTQ_GOT);
	ck_assert_uint_eq(req.head, 0);
	ck_assert_uint_eq(req.nseg, 3);
	ck_assert_uint_eq(req.out_len, 16);
	ck_assert_uint_eq(req.in_len, 513);
	ck_assert_ptr_eq(req.seg[1].host, mem.host + BUF_GPA + 0x100);
	ck_assert(!req.seg[0].writable && req.seg[1].writable);
	ck_assert_int_eq(virtq_pop(&vq, &req), VIRTQ_EMPTY);
	virtq_push(&vq, 0, 513);
	ck_assert_uint_eq(used16()[1], 1);
	ck_assert_uint_eq(((uint32_t *)(mem.host + USED_GPA + 4))[0], 0);
	ck_assert_uint_eq(((uint32_t *)(mem.host + USED_GPA + 4))[1], 513);
}
END_TEST

START_TEST(loop_fails_the_request)
{
	set_desc(0, BUF_GPA, 16, VIRTQ_DESC_F_NEXT, 1);
	set_desc(1, BUF_GPA, 16, VIRTQ_DESC_F_NEXT, 0);
	post(0);
	ck_assert_int_eq(virtq_pop(&vq, &req), VIRTQ_BAD_CHAIN);
	ck_assert_uint_eq(req.head, 0);
	ck_assert_msg_has(vq.error, "loop");
	/* The queue goes on: the next request is served. */
	set_desc(2, BUF_GPA, 16, 0, 0);
	post(2);
	ck_assert_int_eq(virtq_pop(&vq, &req), VIRTQ_GOT);
	ck_assert_uint_eq(req.head, 2);
}
END_TEST

START_TEST(self_loop)
{
	set_desc(3, BUF_GPA, 16, VIRTQ_DESC_F_NEXT, 3);
	post(3);
	ck_assert_int_eq(virtq_pop(&vq, &req), VIRTQ_BAD_CHAIN);
}
END_TEST

START_TEST(out_of_range_addresses)
{
	set_desc(0, FAKE_MEM_SIZE - 8, 16, 0, 0);  /* straddles the end of RAM */
	post(0);
	ck_assert_int_eq(virtq_pop(&vq, &req), VIRTQ_BAD_CHAIN);
	ck_assert_msg_has(vq.error, "outside guest memory");
	set_desc(0, UINT64_MAX - 10, 100, 0, 0);   /* wraps around */
	post(0);
	ck_assert_int_eq(virtq_pop(&vq, &req), VIRTQ_BAD_CHAIN);
	set_desc(0, 0x40000000, 1, 0, 0);          /* far past RAM */
	post(0);
	ck_assert_int_eq(virtq_pop(&vq, &req), VIRTQ_BAD_CHAIN);
	set_desc(0, BUF_GPA, 0xffffffffu, 0, 0);   /* a huge length */
	post(0);
	ck_assert_int_eq(virtq_pop(&vq, &req), VIRTQ_BAD_CHAIN);
}
END_TEST

START_TEST(next_past_the_queue)
{
	set_desc(0, BUF_GPA, 16, VIRTQ_DESC_F_NEXT, QSIZE);
	post(0);
	ck_assert_int_eq(virtq_pop(&vq, &req), VIRTQ_BAD_CHAIN);
	ck_assert_msg_has(vq.error, "past the queue");
}
END_TEST

START_TEST(zero_length_buffers)
{
	set_desc(0, BUF_GPA, 0, VIRTQ_DESC_F_NEXT, 1);
	set_desc(1, 0xdeadbeef0000ull, 0, VIRTQ_DESC_F_WRITE, 0);  /* no bytes: the address is never used */
	post(0);
	ck_assert_int_eq(virtq_pop(&vq, &req), VIRTQ_GOT);
	ck_assert_uint_eq(req.nseg, 2);
	ck_assert_uint_eq(req.in_len + req.out_len, 0);
	ck_assert_ptr_null(req.seg[1].host);
}
END_TEST

START_TEST(overlapping_buffers)
{
	uint8_t hdr[4] = { 1, 2, 3, 4 }, got[4];

	/* A readable buffer and a writable one over the same bytes: legal to walk, the device copies first. */
	memcpy(mem.host + BUF_GPA, hdr, 4);
	set_desc(0, BUF_GPA, 4, VIRTQ_DESC_F_NEXT, 1);
	set_desc(1, BUF_GPA, 4, VIRTQ_DESC_F_WRITE, 0);
	post(0);
	ck_assert_int_eq(virtq_pop(&vq, &req), VIRTQ_GOT);
	ck_assert_uint_eq(virtq_req_read(&req, 0, got, 4), 4);
	ck_assert_uint_eq(virtq_req_write(&req, 0, "\xff\xff\xff\xff", 4), 4);
	ck_assert(!memcmp(got, hdr, 4));
	ck_assert_uint_eq(mem.host[BUF_GPA], 0xff);
}
END_TEST

START_TEST(readable_after_writable)
{
	set_desc(0, BUF_GPA, 16, VIRTQ_DESC_F_NEXT | VIRTQ_DESC_F_WRITE, 1);
	set_desc(1, BUF_GPA, 16, 0, 0);
	post(0);
	ck_assert_int_eq(virtq_pop(&vq, &req), VIRTQ_BAD_CHAIN);
	ck_assert_msg_has(vq.error, "after a writable");
}
END_TEST

START_TEST(indirect_chain)
{
	struct virtq_desc *t = (struct virtq_desc *)(mem.host + BUF_GPA + 0x1000);

	t[0] = (struct virtq_desc){ BUF_GPA, 16, VIRTQ_DESC_F_NEXT, 1 };
	t[1] = (struct virtq_desc){ BUF_GPA + 0x100, 8, VIRTQ_DESC_F_WRITE, 0 };
	set_desc(0, BUF_GPA + 0x1000, 2 * sizeof(struct virtq_desc), VIRTQ_DESC_F_INDIRECT, 0);
	post(0);
	ck_assert_int_eq(virtq_pop(&vq, &req), VIRTQ_GOT);
	ck_assert_uint_eq(req.nseg, 2);
	ck_assert_uint_eq(req.in_len, 8);
}
END_TEST

START_TEST(indirect_abuse)
{
	struct virtq_desc *t = (struct virtq_desc *)(mem.host + BUF_GPA + 0x1000);
	unsigned i;

	/* A table longer than the queue. */
	for (i = 0; i < QSIZE + 1; i++)
		t[i] = (struct virtq_desc){ BUF_GPA, 1, VIRTQ_DESC_F_NEXT, (uint16_t)(i + 1) };
	set_desc(0, BUF_GPA + 0x1000, (QSIZE + 1) * sizeof(struct virtq_desc), VIRTQ_DESC_F_INDIRECT, 0);
	post(0);
	ck_assert_int_eq(virtq_pop(&vq, &req), VIRTQ_BAD_CHAIN);
	ck_assert_msg_has(vq.error, "longer than the queue");
	/* A loop inside the table. */
	t[0] = (struct virtq_desc){ BUF_GPA, 1, VIRTQ_DESC_F_NEXT, 1 };
	t[1] = (struct virtq_desc){ BUF_GPA, 1, VIRTQ_DESC_F_NEXT, 0 };
	set_desc(0, BUF_GPA + 0x1000, 2 * sizeof(struct virtq_desc), VIRTQ_DESC_F_INDIRECT, 0);
	post(0);
	ck_assert_int_eq(virtq_pop(&vq, &req), VIRTQ_BAD_CHAIN);
	/* Nested indirection. */
	t[0] = (struct virtq_desc){ BUF_GPA + 0x1000, 32, VIRTQ_DESC_F_INDIRECT, 0 };
	post(0);
	ck_assert_int_eq(virtq_pop(&vq, &req), VIRTQ_BAD_CHAIN);
	/* NEXT past the table's end. */
	t[0] = (struct virtq_desc){ BUF_GPA, 1, VIRTQ_DESC_F_NEXT, 5 };
	post(0);
	ck_assert_int_eq(virtq_pop(&vq, &req), VIRTQ_BAD_CHAIN);
	/* A ragged length, and an indirect descriptor with NEXT. */
	set_desc(0, BUF_GPA + 0x1000, 20, VIRTQ_DESC_F_INDIRECT, 0);
	post(0);
	ck_assert_int_eq(virtq_pop(&vq, &req), VIRTQ_BAD_CHAIN);
	set_desc(0, BUF_GPA + 0x1000, 32, VIRTQ_DESC_F_INDIRECT | VIRTQ_DESC_F_NEXT, 1);
	post(0);
	ck_assert_int_eq(virtq_pop(&vq, &req), VIRTQ_BAD_CHAIN);
	/* Indirect without the feature negotiated. */
	vq.indirect = false;
	set_desc(0, BUF_GPA + 0x1000, 32, VIRTQ_DESC_F_INDIRECT, 0);
	post(0);
	ck_assert_int_eq(virtq_pop(&vq, &req), VIRTQ_BAD_CHAIN);
}
END_TEST

START_TEST(longest_chain_is_the_queue)
{
	unsigned i;

	/* Every descriptor once: exactly as long as the queue, which is allowed. */
	for (i = 0; i < QSIZE; i++)
		set_desc(i, BUF_GPA + i, 1, i + 1 < QSIZE ? VIRTQ_DESC_F_NEXT : 0, (uint16_t)(i + 1));
	post(0);
	ck_assert_int_eq(virtq_pop(&vq, &req), VIRTQ_GOT);
	ck_assert_uint_eq(req.nseg, QSIZE);
	/* One more link makes it revisit a descriptor: refused. */
	set_desc(QSIZE - 1, BUF_GPA, 1, VIRTQ_DESC_F_NEXT, 0);
	post(0);
	ck_assert_int_eq(virtq_pop(&vq, &req), VIRTQ_BAD_CHAIN);
}
END_TEST

START_TEST(broken_avail_ring)
{
	avail()[1] = QSIZE + 1;  /* more entries than the ring holds */
	ck_assert_int_eq(virtq_pop(&vq, &req), VIRTQ_BROKEN);
	ck_assert_msg_has(vq.error, "jumped");
	avail()[1] = 1;
	avail()[2] = QSIZE;      /* a head past the table */
	ck_assert_int_eq(virtq_pop(&vq, &req), VIRTQ_BROKEN);
	ck_assert_msg_has(vq.error, "names descriptor");
}
END_TEST

START_TEST(enable_checks_rings)
{
	struct virtq q;

	virtq_reset(&q);
	q.size = 6;
	ck_assert_int_eq(virtq_enable(&q, &dma), -1);
	ck_assert_msg_has(q.error, "power of two");
	q.size = 512;
	ck_assert_int_eq(virtq_enable(&q, &dma), -1);
	q.size = 8;
	q.desc_gpa = 0x1008;
	ck_assert_int_eq(virtq_enable(&q, &dma), -1);
	ck_assert_msg_has(q.error, "misaligned");
	q.avail_gpa = AVAIL_GPA;
	q.used_gpa = USED_GPA;
	q.desc_gpa = FAKE_MEM_SIZE - 64;  /* 128 bytes of table do not fit */
	ck_assert_int_eq(virtq_enable(&q, &dma), -1);
	ck_assert_msg_has(q.error, "outside");
	ck_assert(!q.enabled);
	q.desc_gpa = DESC_GPA;
	q.avail_gpa = AVAIL_GPA;
	q.used_gpa = USED_GPA;
	ck_assert_int_eq(virtq_enable(&q, &dma), 0);
}
END_TEST

/* Rings that share a byte within one queue are refused: the device's writes would become driver input. */
START_TEST(enable_refuses_overlapping_rings)
{
	static const struct { uint64_t desc, avail, used; } cases[] = {
		{ DESC_GPA, AVAIL_GPA, AVAIL_GPA },           /* used ring on the avail ring */
		{ DESC_GPA, AVAIL_GPA, AVAIL_GPA - 4 },       /* used ring's tail over the avail index */
		{ DESC_GPA, DESC_GPA + 16 * QSIZE - 2, USED_GPA },  /* avail ring inside the table */
		{ DESC_GPA, AVAIL_GPA, DESC_GPA + 16 },      /* used ring inside the table */
	};
	struct virtq q;
	size_t i;

	for (i = 0; i < ARRAY_SIZE(cases); i++) {
		virtq_reset(&q);
		q.size = QSIZE;
		q.desc_gpa = cases[i].desc;
		q.avail_gpa = cases[i].avail;
		q.used_gpa = cases[i].used;
		ck_assert_msg(virtq_enable(&q, &dma) == -1, "case %zu was accepted", i);
		ck_assert_msg_has(q.error, "rings overlap");
		ck_assert(!q.enabled);
	}
	/* Rings that touch without sharing a byte are fine. */
	virtq_reset(&q);
	q.size = QSIZE;
	q.desc_gpa = DESC_GPA;
	q.avail_gpa = DESC_GPA + 16 * QSIZE;
	q.used_gpa = ALIGN_UP(q.avail_gpa + VIRTQ_AVAIL_SIZE(QSIZE), 4);
	ck_assert_msg(virtq_enable(&q, &dma) == 0, "%s", q.error);
}
END_TEST

/* A driver cannot have more requests available than the queue holds while the device still owns them all. */
START_TEST(more_outstanding_than_the_queue_is_broken)
{
	unsigned i;

	set_desc(0, BUF_GPA, 16, 0, 0);
	for (i = 0; i < QSIZE; i++) {
		post(0);
		ck_assert_int_eq(virtq_pop(&vq, &req), VIRTQ_GOT);
	}
	post(0);
	ck_assert_int_eq(virtq_pop(&vq, &req), VIRTQ_BROKEN);
	ck_assert_msg_has(vq.error, "more requests available than the queue");
	/* Returning one makes room for exactly one more. */
	virtq_push(&vq, 0, 0);
	ck_assert_int_eq(virtq_pop(&vq, &req), VIRTQ_GOT);
	post(0);
	ck_assert_int_eq(virtq_pop(&vq, &req), VIRTQ_BROKEN);
}
END_TEST

START_TEST(event_idx_interrupts)
{
	uint16_t *used_event = &avail()[2 + QSIZE];

	vq.event_idx = true;
	set_desc(0, BUF_GPA, 1, 0, 0);
	/* The first completion always interrupts (nothing signalled yet). */
	virtq_push(&vq, 0, 0);
	ck_assert(virtq_should_interrupt(&vq));
	/* The driver wants to hear when used index passes 3 (entries 0-3 done). */
	*used_event = 3;
	virtq_push(&vq, 0, 0);  /* idx 2 */
	ck_assert(!virtq_should_interrupt(&vq));
	virtq_push(&vq, 0, 0);  /* idx 3 */
	ck_assert(!virtq_should_interrupt(&vq));
	virtq_push(&vq, 0, 0);  /* idx 4: passed 3 */
	ck_assert(virtq_should_interrupt(&vq));
	virtq_push(&vq, 0, 0);
	ck_assert(!virtq_should_interrupt(&vq));
	/* Without EVENT_IDX the flag decides. */
	vq.event_idx = false;
	avail()[0] = VIRTQ_AVAIL_F_NO_INTERRUPT;
	ck_assert(!virtq_should_interrupt(&vq));
	avail()[0] = 0;
	ck_assert(virtq_should_interrupt(&vq));
}
END_TEST

START_TEST(event_idx_kicks)
{
	uint16_t *avail_event = (uint16_t *)(mem.host + USED_GPA + 4 + 8 * QSIZE);

	vq.event_idx = true;
	set_desc(0, BUF_GPA, 1, 0, 0);
	post(0);
	post(0);
	ck_assert_int_eq(virtq_pop(&vq, &req), VIRTQ_GOT);
	/* Work is still waiting: arming reports it, so the device goes round again. */
	ck_assert(virtq_arm_notify(&vq));
	ck_assert_uint_eq(*avail_event, 1);
	ck_assert_int_eq(virtq_pop(&vq, &req), VIRTQ_GOT);
	ck_assert(!virtq_arm_notify(&vq));
	ck_assert_uint_eq(*avail_event, 2);
	vq.event_idx = false;
	virtq_suppress_notify(&vq);
	ck_assert_uint_eq(used16()[0], VIRTQ_USED_F_NO_NOTIFY);
	virtq_arm_notify(&vq);
	ck_assert_uint_eq(used16()[0], 0);
}
END_TEST

START_TEST(shared_memory_only)
{
	struct shared_map sm;

	shared_map_init(&sm, true);
	ck_assert_int_eq(shared_map_set(&sm, 0x1000, 0x3000, true), 0);  /* rings */
	dma.shared = &sm;
	set_desc(0, BUF_GPA, 16, 0, 0);  /* a buffer the guest did not share */
	post(0);
	ck_assert(!atomic_load(&reported));
	ck_assert_int_eq(virtq_pop(&vq, &req), VIRTQ_BAD_CHAIN);
	ck_assert(atomic_load(&reported));
	/* Once the guest shares it (KVM_HC_MAP_GPA_RANGE), the same request goes through. */
	ck_assert_int_eq(shared_map_set(&sm, BUF_GPA, 0x1000, true), 0);
	post(0);
	ck_assert_int_eq(virtq_pop(&vq, &req), VIRTQ_GOT);
	/* Taken back (made private again): refused again. */
	ck_assert_int_eq(shared_map_set(&sm, BUF_GPA, 0x1000, false), 0);
	post(0);
	ck_assert_int_eq(virtq_pop(&vq, &req), VIRTQ_BAD_CHAIN);
}
END_TEST

START_TEST(shared_map_ranges)
{
	struct shared_map sm;
	unsigned i;

	shared_map_init(&sm, true);
	ck_assert(!shared_map_covers(&sm, 0, 1));
	shared_map_set(&sm, 0x3000, 0x1000, true);
	shared_map_set(&sm, 0x1000, 0x1000, true);
	shared_map_set(&sm, 0x2000, 0x1000, true);  /* joins the two */
	ck_assert_uint_eq(sm.n, 1);
	ck_assert(shared_map_covers(&sm, 0x1000, 0x3000));
	ck_assert(!shared_map_covers(&sm, 0x1000, 0x3001));
	shared_map_set(&sm, 0x2000, 0x800, false);  /* a hole in the middle */
	ck_assert_uint_eq(sm.n, 2);
	ck_assert(!shared_map_covers(&sm, 0x1800, 0x1000));
	ck_assert(shared_map_covers(&sm, 0x2800, 0x1800));
	ck_assert(!shared_map_covers(&sm, UINT64_MAX - 1, 4));
	/* Filling the table is refused cleanly, not overflowed. */
	for (i = 0; i < SHARED_MAX_RANGES + 4; i++)
		if (shared_map_set(&sm, 0x100000 + 0x2000ull * i, 0x1000, true) < 0)
			break;
	ck_assert_uint_le(sm.n, SHARED_MAX_RANGES);
	ck_assert(sm.overflow);
	shared_map_init(&sm, false);
	ck_assert(shared_map_covers(&sm, 0, 1));
}
END_TEST

Suite *virtq_suite(void)
{
	Suite *s = suite_create("virtq");
	TCase *tc = tcase_create("chains");

	tcase_add_checked_fixture(tc, setup, teardown);
	tcase_add_test(tc, good_chain);
	tcase_add_test(tc, loop_fails_the_request);
	tcase_add_test(tc, self_loop);
	tcase_add_test(tc, out_of_range_addresses);
	tcase_add_test(tc, next_past_the_queue);
	tcase_add_test(tc, zero_length_buffers);
	tcase_add_test(tc, overlapping_buffers);
	tcase_add_test(tc, readable_after_writable);
	tcase_add_test(tc, indirect_chain);
	tcase_add_test(tc, indirect_abuse);
	tcase_add_test(tc, longest_chain_is_the_queue);
	tcase_add_test(tc, broken_avail_ring);
	tcase_add_test(tc, enable_checks_rings);
	tcase_add_test(tc, enable_refuses_overlapping_rings);
	tcase_add_test(tc, more_outstanding_than_the_queue_is_broken);
	tcase_add_test(tc, event_idx_interrupts);
	tcase_add_test(tc, event_idx_kicks);
	tcase_add_test(tc, shared_memory_only);
	tcase_add_test(tc, shared_map_ranges);
	suite_add_tcase(s, tc);
	return s;
}
