/* bootinfo.c: reads the flattened device tree cloak hands the guest (memory, bootargs, SEV). */
#include "guest.h"

#define FDT_MAGIC 0xd00dfeedu
#define FDT_BEGIN_NODE 1
#define FDT_END_NODE 2
#define FDT_PROP 3
#define FDT_NOP 4
#define FDT_END 9

uint32_t be32(const void *p)
{
	const uint8_t *b = p;

	return (uint32_t)b[0] << 24 | (uint32_t)b[1] << 16 | (uint32_t)b[2] << 8 | b[3];
}

uint64_t be64(const void *p)
{
	return (uint64_t)be32(p) << 32 | be32((const uint8_t *)p + 4);
}

bool bootinfo_valid(const void *fdt)
{
	return fdt && be32(fdt) == FDT_MAGIC;
}

/* "memory" matches "memory@0": asking without a unit address matches any. */
static bool node_matches(const char *name, const char *want)
{
	size_t n = strlen(want);

	return !strncmp(name, want, n) && (name[n] == 0 || name[n] == '@');
}

const void *bootinfo_prop(const void *fdt, const char *node, const char *prop, uint32_t *len)
{
	const uint8_t *base = fdt;
	const uint8_t *p, *strings;
	int depth = 0;
	bool in_node = false;

	if (!bootinfo_valid(fdt))
		return NULL;
	p = base + be32(base + 8);
	strings = base + be32(base + 12);
	for (;;) {
		uint32_t tok = be32(p);

		p += 4;
		switch (tok) {
		case FDT_BEGIN_NODE: {
			const char *name = (const char *)p;

			depth++;
			in_node = (depth == 1 && !*node) || (depth == 2 && node_matches(name, node));
			p += (strlen(name) + 4) & ~3ul;
			break;
		}
		case FDT_END_NODE:
			depth--;
			in_node = depth == 1 && !*node;
			break;
		case FDT_PROP: {
			uint32_t plen = be32(p), nameoff = be32(p + 4);

			if (in_node && !strcmp((const char *)strings + nameoff, prop)) {
				if (len)
					*len = plen;
				return p + 8;
			}
			p += 8 + ((plen + 3) & ~3u);
			break;
		}
		case FDT_NOP:
			break;
		default:
			return NULL;
		}
	}
}

uint64_t bootinfo_mem_size(const void *fdt, unsigned *ranges)
{
	uint32_t len = 0;
	const uint8_t *reg = bootinfo_prop(fdt, "memory", "reg", &len);
	uint64_t total = 0;
	unsigned i;

	for (i = 0; reg && i < len / 16; i++)
		total += be64(reg + 16 * i + 8);
	if (ranges)
		*ranges = reg ? len / 16 : 0;
	return total;
}

const char *bootinfo_bootargs(const void *fdt)
{
	const char *s = bootinfo_prop(fdt, "chosen", "bootargs", NULL);

	return s ? s : "";
}

uint32_t bootinfo_u32(const void *fdt, const char *node, const char *prop, uint32_t dflt)
{
	uint32_t len = 0;
	const void *v = bootinfo_prop(fdt, node, prop, &len);

	return v && len == 4 ? be32(v) : dflt;
}

void sev_view_read(const void *fdt, struct sev_view *out)
{
	uint32_t r[4];

	memset(out, 0, sizeof(*out));
	out->host_says_sev = bootinfo_u32(fdt, "chosen", "cloak,sev", 0) != 0;
	cpuid(0x80000000, 0, r);
	if (r[0] < 0x8000001f)
		return;
	cpuid(0x8000001f, 0, r);
	out->cpuid_offers_sev = r[0] & 2;
	out->cbit = r[1] & 0x3f;
	/* SEV_STATUS exists only where SEV does; reading it elsewhere may fault. */
	if (out->cpuid_offers_sev)
		out->active = rdmsr(0xc0010131) & 1;
}
