/* dev_glue.h: the host and the guest driver around one fuzzed virtio device (the device targets' only glue). */
#ifndef FUZZ_DEV_GLUE_H
#define FUZZ_DEV_GLUE_H

#include "virtio_pci.h"

#define FUZZ_RAM_SIZE (64 * 1024)

/*
 * The first FUZZ_DEV_HDR bytes of an input are the driver's choices:
 *   [0]        bit 0 EVENT_IDX, bit 1 INDIRECT_DESC, bit 2 the device's own
 *              feature (blk: read-only disk, net: MRG_RXBUF), bit 3 only the
 *              lower half of RAM is shared (a confidential guest's bounce area);
 *   [1 + 7q..] queue q: log2 of its size (mod 9), then the descriptor table,
 *              avail ring and used ring addresses as little-endian u16 in
 *              units of 16, 2 and 4 bytes (mod RAM size).
 */
#define FUZZ_DEV_HDR 15
#define FUZZ_F_EVENT_IDX 1
#define FUZZ_F_INDIRECT 2
#define FUZZ_F_DEVICE 4
#define FUZZ_F_HALF_SHARED 8

/* Host side: guest RAM behind the fake device host, and the PCI bus a device is put on (once per process). */
struct dev_host *fuzz_host(void);
/* Puts the input's memory image at guest address 0 (the rest is zero) and sets what is shared. */
void fuzz_host_load(const uint8_t *image, size_t len, bool half_shared);

/* Driver side, through BAR 0 as a guest would: reset, features, queues from the header, DRIVER_OK. */
void fuzz_driver_start(struct virtio_dev *vd, const uint8_t hdr[FUZZ_DEV_HDR], uint64_t device_features);
/* The guest's notify of queue q and what the I/O thread does with it (inline: no threads here). */
void fuzz_driver_kick(struct virtio_dev *vd, unsigned q);

#endif
