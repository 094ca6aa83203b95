/* secret_guest.c: SEV test guest: finds the secret the owner injected at launch and prints a digest of each entry. */
#include "guest.h"

/* 1e74f542-71dd-4d66-963e-ef4287ff173b as it lies in memory (EFI mixed-endian). */
static const uint8_t table_guid[16] = { 0x42, 0xf5, 0x74, 0x1e, 0xdd, 0x71, 0x66, 0x4d,
					0x96, 0x3e, 0xef, 0x42, 0x87, 0xff, 0x17, 0x3b };

static uint32_t le32(const uint8_t *p)
{
	return (uint32_t)p[0] | (uint32_t)p[1] << 8 | (uint32_t)p[2] << 16 | (uint32_t)p[3] << 24;
}

/*
 * The POSIX `cksum` CRC, so that the host checks the digest with a stock
 * tool: a test digest, not cryptography.
 */
static uint32_t crc_byte(uint32_t crc, uint8_t c)
{
	int i;

	crc ^= (uint32_t)c << 24;
	for (i = 0; i < 8; i++)
		crc = crc & 0x80000000u ? (crc << 1) ^ 0x04c11db7u : crc << 1;
	return crc;
}

static uint32_t posix_cksum(const uint8_t *p, uint32_t n)
{
	uint32_t crc = 0, i, len = n;

	for (i = 0; i < n; i++)
		crc = crc_byte(crc, p[i]);
	for (; len; len >>= 8)
		crc = crc_byte(crc, (uint8_t)len);
	return ~crc;
}

/* The runtime's parse_ulong reads decimal; the address comes as 0x... too. */
static unsigned long parse_addr(const char *s)
{
	unsigned long v = 0;

	if (s[0] != '0' || (s[1] != 'x' && s[1] != 'X'))
		return parse_ulong(s, 0);
	for (s += 2;; s++) {
		if (*s >= '0' && *s <= '9')
			v = v << 4 | (unsigned long)(*s - '0');
		else if ((*s | 0x20) >= 'a' && (*s | 0x20) <= 'f')
			v = v << 4 | (unsigned long)((*s | 0x20) - 'a' + 10);
		else
			return v;
	}
}

static void print_guid(const uint8_t *g)
{
	static const int order[16] = { 3, 2, 1, 0, 5, 4, 7, 6, 8, 9, 10, 11, 12, 13, 14, 15 };
	int i;

	for (i = 0; i < 16; i++) {
		gprintf("%02x", g[order[i]]);
		if (i == 3 || i == 5 || i == 7 || i == 9)
			gprintf("-");
	}
}

int guest_main(const void *bootinfo)
{
	const char *args, *at;
	const uint8_t *t;
	uint32_t total, off;
	unsigned long gpa;
	struct sev_view sev;

	guest_boot_done();
	gprintf("cloak sev secret guest\n");
	if (!bootinfo_valid(bootinfo)) {
		gprintf("no boot-info device tree\n");
		guest_exit(2);
	}
	sev_view_read(bootinfo, &sev);
	gprintf("boot info: cloak,sev %u, C-bit %u\n", sev.host_says_sev,
		bootinfo_u32(bootinfo, "chosen", "cloak,c-bit", 0));
	args = bootinfo_bootargs(bootinfo);
	at = args ? strstr(args, "sev-secret=") : 0;
	if (!at) {
		gprintf("no sev-secret=ADDRESS on the command line\n");
		guest_exit(2);
	}
	gpa = parse_addr(at + 11);
	/* Low memory is identity-mapped, with the C-bit under SEV: the firmware's plaintext reads back. */
	t = (const uint8_t *)gpa;
	if (memcmp(t, table_guid, 16)) {
		gprintf("no secret table at 0x%lx: nothing was injected\n", gpa);
		guest_exit(3);
	}
	total = le32(t + 16);
	if (total < 20 || total > 16384) {
		gprintf("secret table at 0x%lx claims %u bytes\n", gpa, total);
		guest_exit(4);
	}
	for (off = 20; off + 20 <= total;) {
		uint32_t len = le32(t + off + 16);

		if (len < 20 || len > total - off) {
			gprintf("secret entry at +%u claims %u bytes\n", off, len);
			guest_exit(4);
		}
		gprintf("secret ");
		print_guid(t + off);
		gprintf(": %u bytes, cksum %u %u\n", len - 20, posix_cksum(t + off + 20, len - 20), len - 20);
		off += len;
	}
	return 0;
}
