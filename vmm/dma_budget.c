/* dma_budget.c: the guest memory the configured devices may have in flight: a pure function of the config. */
#include "plan.h"

#include "virtio_queues.h"

uint64_t plan_dma_budget(const struct vm_config *cfg)
{
	uint64_t bytes = (uint64_t)cfg->ndisks * BLK_QUEUE_SIZE * BLK_SEGMENT_DMA_BYTES;

	if (cfg->net_tap[0])
		bytes += (uint64_t)NET_QUEUES * NET_QUEUE_SIZE * QUEUE_BUFFER_DMA_BYTES;
	if (cfg->console != CONSOLE_NONE)
		bytes += (uint64_t)CONSOLE_QUEUES * CONSOLE_QUEUE_SIZE * QUEUE_BUFFER_DMA_BYTES;
	return bytes;
}
