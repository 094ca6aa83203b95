/* virtio_queues.h: the queue sizes cloak's virtio devices offer, which the swiotlb budget of a confidential guest follows. */
#ifndef CLOAK_VIRTIO_QUEUES_H
#define CLOAK_VIRTIO_QUEUES_H

/*
 * Constants only, so the launch plan (and with it cloak-owner) can size a
 * confidential guest's bounce buffers without linking any device code.
 */
#define BLK_QUEUE_SIZE 256
#define BLK_SEGMENT_DMA_BYTES (64 * 1024)  /* a block segment bounced through swiotlb is commonly up to 64 KiB */
#define NET_QUEUE_SIZE 256
#define NET_QUEUES 2                       /* receive and transmit */
#define CONSOLE_QUEUE_SIZE 64
#define CONSOLE_QUEUES 2
#define QUEUE_BUFFER_DMA_BYTES 4096        /* net and console: a page-sized buffer per descriptor at most */

#endif
