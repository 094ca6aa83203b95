/* fake_bzimage.c: a minimal relocatable bzImage, made in memory for the tests that load one. */
#include "fake_bzimage.h"

#include <string.h>

size_t fake_bzimage(uint8_t *buf, size_t len, uint16_t version, uint16_t xloadflags)
{
	uint32_t align = 0x200000, init_size = 0x2000000, cmdline_size = 2047, initrd_max = 0x7fffffff;
	uint64_t pref = 0x1000000;
	size_t i;

	memset(buf, 0, len);
	for (i = 1024; i < len; i++)
		buf[i] = (uint8_t)(i * 7);
	buf[0x1f1] = 1;   /* setup_sects */
	buf[0x1fe] = 0x55;
	buf[0x1ff] = 0xaa;
	buf[0x201] = 0x66;
	memcpy(buf + 0x202, "HdrS", 4);
	memcpy(buf + 0x206, &version, 2);
	memcpy(buf + 0x236, &xloadflags, 2);
	buf[0x234] = 1;   /* relocatable_kernel */
	memcpy(buf + 0x230, &align, 4);
	memcpy(buf + 0x258, &pref, 8);
	memcpy(buf + 0x260, &init_size, 4);
	memcpy(buf + 0x238, &cmdline_size, 4);
	memcpy(buf + 0x22c, &initrd_max, 4);
	return len;
}
