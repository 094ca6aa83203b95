/* fuzz_virtq.c: libFuzzer target: a guest-controlled queue (rings, descriptors, indices) walked by the device side. */
#include "virtq.h"

#include <stdlib.h>
#include <string.h>

#define MEM_SIZE (64 * 1024)

/*
 * The input is guest memory: its first bytes choose the queue size, ring
 * addresses and features; the rest is what the guest wrote. Every chain is
 * popped and its buffers read and written, as a device would.
 */
int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	static uint8_t *host;
	static struct virtq_req req;
	struct guest_mem mem = { 0 };
	struct shared_map sm;
	atomic_bool reported = false;
	struct dma_space dma;
	struct virtq vq;
	uint8_t scratch[256];
	unsigned rounds;

	if (size < 16)
		return 0;
	if (!host)
		host = malloc(MEM_SIZE);
	memset(host, 0, MEM_SIZE);
	memcpy(host, data + 16, size - 16 < MEM_SIZE ? size - 16 : MEM_SIZE);
	mem.host = host;
	mem.size = MEM_SIZE;
	mem.ram[0] = (struct plan_ram){ 0, MEM_SIZE, 0 };
	mem.nram = 1;
	shared_map_init(&sm, data[15] & 1);
	shared_map_set(&sm, 0, MEM_SIZE / 2, true);
	dma = (struct dma_space){ &mem, (data[15] & 1) ? &sm : NULL, &reported };
	virtq_reset(&vq);
	vq.size = (uint16_t)(1u << (data[0] % 10));
	vq.desc_gpa = (uint64_t)(data[1] | data[2] << 8) * 16;
	vq.avail_gpa = (uint64_t)(data[3] | data[4] << 8) * 2;
	vq.used_gpa = (uint64_t)(data[5] | data[6] << 8) * 4;
	vq.event_idx = data[7] & 1;
	vq.indirect = data[7] & 2;
	if (virtq_enable(&vq, &dma) < 0)
		return 0;
	for (rounds = 0; rounds < 512; rounds++) {
		enum virtq_pop_result r = virtq_pop(&vq, &req);

		if (r == VIRTQ_EMPTY || r == VIRTQ_BROKEN)
			break;
		if (r == VIRTQ_GOT) {
			virtq_req_read(&req, data[8], scratch, sizeof(scratch));
			virtq_req_write(&req, data[9], scratch, sizeof(scratch));
		}
		virtq_push(&vq, req.head, (uint32_t)req.in_len);
		(void)virtq_should_interrupt(&vq);
		(void)virtq_arm_notify(&vq);
	}
	return 0;
}
