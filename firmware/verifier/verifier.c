/* verifier.c: the measured-boot verifier: copies the staged payloads to private memory, checks them, enters the guest. */
#include "guest.h"
#include "sha256.h"
#include "sha384.h"
#include "verify_table.h"

/*
 * cloak enters here in 64-bit mode on its identity page tables (every entry
 * with the C-bit), RDI = the measured table. Only this program and the table
 * are measured; everything it copies is checked before the guest runs. The
 * bytes are hashed from the private copy, after copying, so the host cannot
 * change what was hashed between the check and the use.
 */

#define PD_LARGE_PAGE (2ull << 20)
#define PTE_ADDR_MASK 0x000ffffffffff000ull
#define CHUNK 4096u

/* Sets or clears the C-bit on the 2 MiB entries that map [gpa, gpa + size) (cloak's tables: PML4[0], 2 MiB pages). */
static void set_encrypted(uint64_t gpa, uint64_t size, int cbit, int on)
{
	uint64_t mask = 1ull << cbit, addr_mask = PTE_ADDR_MASK & ~mask, cr3, a;

	__asm__ volatile("mov %%cr3, %0" : "=r"(cr3));
	for (a = gpa; a < gpa + size; a += PD_LARGE_PAGE) {
		uint64_t *pml4 = (uint64_t *)(uintptr_t)(cr3 & addr_mask);
		uint64_t *pdpt = (uint64_t *)(uintptr_t)(pml4[0] & addr_mask);
		uint64_t *pd = (uint64_t *)(uintptr_t)(pdpt[a >> 30] & addr_mask);

		if (on)
			pd[(a >> 21) & 511] |= mask;
		else
			pd[(a >> 21) & 511] &= ~mask;
	}
	/* A page's two views (C-bit set and clear) are not coherent in the caches: write back, then reload the TLB. */
	__asm__ volatile("wbinvd; mov %0, %%cr3" : : "r"(cr3) : "memory");
}

static void print_digest(const uint8_t *d, unsigned len)
{
	unsigned i;

	for (i = 0; i < len; i++)
		gprintf("%02x", d[i]);
}

static __attribute__((noreturn)) void refuse(const char *why)
{
	gprintf("cloak verifier: %s; refusing to boot\n", why);
	guest_exit(VERIFY_EXIT_REFUSED);
}

/* The table's hash: SHA-256, or SHA-384 for SNP (the SNP launch digest's own hash). */
struct hasher {
	uint32_t alg;
	union {
		struct sha256 s256;
		struct sha384 s384;
	} u;
};

static unsigned digest_len(uint32_t alg)
{
	return alg == VERIFY_HASH_SHA384 ? SHA384_LEN : SHA256_LEN;
}

static const char *alg_name(uint32_t alg)
{
	return alg == VERIFY_HASH_SHA384 ? "SHA-384" : "SHA-256";
}

static void hasher_init(struct hasher *h, uint32_t alg)
{
	h->alg = alg;
	if (alg == VERIFY_HASH_SHA384)
		sha384_init(&h->u.s384);
	else
		sha256_init(&h->u.s256);
}

static void hasher_update(struct hasher *h, const void *p, size_t n)
{
	if (h->alg == VERIFY_HASH_SHA384)
		sha384_update(&h->u.s384, p, n);
	else
		sha256_update(&h->u.s256, p, n);
}

static void hasher_final(struct hasher *h, uint8_t out[VERIFY_DIGEST_MAX])
{
	if (h->alg == VERIFY_HASH_SHA384)
		sha384_final(&h->u.s384, out);
	else
		sha256_final(&h->u.s256, out);
}

/* Copies one item from shared to private memory, hashing the private copy, and checks its hash. */
static void verify_item(const struct verify_item *it, uint32_t alg)
{
	const uint8_t *src = (const uint8_t *)(uintptr_t)it->staged_gpa;
	uint8_t *dst = (uint8_t *)(uintptr_t)it->dest_gpa;
	uint8_t got[VERIFY_DIGEST_MAX];
	char name[VERIFY_NAME_MAX + 1];
	struct hasher h;
	uint64_t off;

	hasher_init(&h, alg);
	for (off = 0; off < it->len; off += CHUNK) {
		size_t n = it->len - off < CHUNK ? (size_t)(it->len - off) : CHUNK;

		memcpy(dst + off, src + off, n);
		hasher_update(&h, dst + off, n);
	}
	hasher_final(&h, got);
	memset(dst + it->len, 0, it->zero_len);
	if (memcmp(got, it->digest, digest_len(alg))) {
		memcpy(name, it->name, VERIFY_NAME_MAX);
		name[VERIFY_NAME_MAX] = 0;
		gprintf("cloak verifier: the %s staged at 0x%llx (%llu bytes) does not match the measured "
			"table: its %s is ", name, (unsigned long long)it->staged_gpa, (unsigned long long)it->len,
			alg_name(alg));
		print_digest(got, digest_len(alg));
		gprintf(", the launch measured ");
		print_digest(it->digest, digest_len(alg));
		gprintf("; refusing to boot\n");
		guest_exit(VERIFY_EXIT_REFUSED);
	}
}

int guest_main(const void *arg)
{
	const struct verify_table *t = arg;
	unsigned i;

	if (memcmp(t->magic, VERIFY_TABLE_MAGIC, 8) || t->version != VERIFY_TABLE_VERSION ||
	    t->nitems > VERIFY_MAX_ITEMS)
		refuse("the measured table is not a version 1 cloak table");
	if (t->hash_alg != VERIFY_HASH_SHA256 && t->hash_alg != VERIFY_HASH_SHA384)
		refuse("the measured table asks for a hash this verifier does not implement (SHA-256, SHA-384)");
	if (t->cbit >= 0)
		set_encrypted(t->staging_gpa, t->staging_size, t->cbit, 0);
	for (i = 0; i < t->nitems; i++)
		verify_item(&t->items[i], t->hash_alg);
	if (t->cbit >= 0)
		set_encrypted(t->staging_gpa, t->staging_size, t->cbit, 1);
	gprintf("cloak verifier: %u items match the measured %s table; entering the guest at 0x%llx\n", t->nitems,
		alg_name(t->hash_alg), (unsigned long long)t->entry_rip);
	/*
	 * The guest starts as cloak would have started it: its RIP, RSP, RDI and
	 * RSI, RFLAGS 0x2 and every other general register zero (the entry's
	 * address rides on the new stack, below RSP, and RET takes it).
	 */
	__asm__ volatile("mov %0, %%rsp\n\t"
			 "push %1\n\t"
			 "push $2\n\t"
			 "popfq\n\t"
			 "xor %%eax, %%eax\n\txor %%ebx, %%ebx\n\txor %%ecx, %%ecx\n\txor %%edx, %%edx\n\t"
			 "xor %%ebp, %%ebp\n\txor %%r8d, %%r8d\n\txor %%r9d, %%r9d\n\txor %%r10d, %%r10d\n\t"
			 "xor %%r11d, %%r11d\n\txor %%r12d, %%r12d\n\txor %%r13d, %%r13d\n\txor %%r14d, %%r14d\n\t"
			 "xor %%r15d, %%r15d\n\t"
			 "ret"
			 : : "r"(t->entry_rsp), "r"(t->entry_rip), "D"(t->entry_rdi), "S"(t->entry_rsi) : "memory");
	__builtin_unreachable();
}
