/* fake_bzimage.h: the minimal relocatable bzImage the unit and SEV tests load, made in memory. */
#ifndef CLOAK_FAKE_BZIMAGE_H
#define CLOAK_FAKE_BZIMAGE_H

#include <stddef.h>
#include <stdint.h>

/*
 * Fills buf[0, len) with a bzImage of boot protocol `version` and `xloadflags`: one setup sector
 * (relocatable, 2 MiB aligned, preferred at 16 MiB, init_size 32 MiB), then len - 1024 bytes of
 * patterned kernel. Returns len.
 */
size_t fake_bzimage(uint8_t *buf, size_t len, uint16_t version, uint16_t xloadflags);

#endif
