/* mkbzimage.c: wraps a flat 64-bit test payload in a Linux bzImage setup header (for tests only). */
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

static void put16(uint8_t *p, uint16_t v) { memcpy(p, &v, 2); }
static void put32(uint8_t *p, uint32_t v) { memcpy(p, &v, 4); }
static void put64(uint8_t *p, uint64_t v) { memcpy(p, &v, 8); }

int main(int argc, char **argv)
{
	unsigned long version = 0x020f;
	int no64 = 0, argi = 1;
	uint8_t setup[1024];
	uint8_t *payload;
	long len;
	FILE *in, *out;

	while (argi < argc && argv[argi][0] == '-') {
		if (!strcmp(argv[argi], "--version") && argi + 1 < argc)
			version = strtoul(argv[++argi], NULL, 0);
		else if (!strcmp(argv[argi], "--no-64"))
			no64 = 1;
		else
			break;
		argi++;
	}
	if (argc - argi != 2) {
		fprintf(stderr, "usage: mkbzimage [--version 0x20f] [--no-64] PAYLOAD.bin OUT\n");
		return 2;
	}
	in = fopen(argv[argi], "rb");
	if (!in || fseek(in, 0, SEEK_END) || (len = ftell(in)) <= 0 || fseek(in, 0, SEEK_SET)) {
		perror(argv[argi]);
		return 1;
	}
	payload = malloc((size_t)len);
	if (!payload || fread(payload, 1, (size_t)len, in) != (size_t)len) {
		perror(argv[argi]);
		return 1;
	}
	fclose(in);

	memset(setup, 0, sizeof(setup));
	setup[0x1f1] = 1;                            /* setup_sects: the boot sector plus one */
	put16(setup + 0x1fe, 0xaa55);
	setup[0x200] = 0xeb;                         /* jmp over the header ... */
	setup[0x201] = 0x66;                         /* ... whose end is 0x202 + this byte */
	memcpy(setup + 0x202, "HdrS", 4);
	put16(setup + 0x206, (uint16_t)version);
	setup[0x210] = 0;                            /* type_of_loader: the loader fills it in */
	setup[0x211] = 0x01;                         /* loadflags: LOADED_HIGH */
	put32(setup + 0x214, 0x100000);              /* code32_start */
	put32(setup + 0x22c, 0x7fffffff);            /* initrd_addr_max */
	put32(setup + 0x230, 0x200000);              /* kernel_alignment */
	setup[0x234] = 0;                            /* not relocatable */
	put16(setup + 0x236, no64 ? 0 : 1);          /* xloadflags: XLF_KERNEL_64 */
	put32(setup + 0x238, 255);                   /* cmdline_size */
	put64(setup + 0x258, 0x100000);              /* pref_address */
	put32(setup + 0x260, (uint32_t)((len + 0x10000 + 0xfff) & ~0xfffl)); /* init_size: image + bss */

	out = fopen(argv[argi + 1], "wb");
	if (!out || fwrite(setup, 1, sizeof(setup), out) != sizeof(setup) ||
	    fwrite(payload, 1, (size_t)len, out) != (size_t)len || fclose(out)) {
		perror(argv[argi + 1]);
		return 1;
	}
	free(payload);
	return 0;
}
