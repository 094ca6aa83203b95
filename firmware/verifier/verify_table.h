/* verify_table.h: the measured table of hashes the boot verifier checks; cloak's plan writes it. */
#ifndef CLOAK_VERIFY_TABLE_H
#define CLOAK_VERIFY_TABLE_H

#include <stdint.h>

/*
 * Under --measured-boot verifier the launch measures only the verifier, this
 * table and the small boot structures; the kernel, initrd and command line are
 * staged in shared memory. The verifier copies each staged item to its place
 * in private memory, hashing what it copied, and enters the guest only when
 * every hash equals the one here. Layout is little-endian with natural
 * alignment, the same for the host's compiler and the guest's (both x86-64):
 * the static assertions below pin the sizes. See docs/sev-launch.md
 * "Measured boot".
 */
#define VERIFY_TABLE_MAGIC   "CLOAKVT1"
#define VERIFY_TABLE_VERSION 1
#define VERIFY_MAX_ITEMS     20      /* ELF segments (at most 16), the initrd, the command line */
#define VERIFY_DIGEST_MAX    48      /* room for SHA-384 */
#define VERIFY_NAME_MAX      16
/* The verifier refuses by writing this to the exit port: cloak then exits with status (0x3d << 1) | 1 = 123. */
#define VERIFY_EXIT_REFUSED  0x3d

/* The hash of every item; the field makes room for SHA-384 under SNP. */
enum verify_hash_alg {
	VERIFY_HASH_SHA256 = 1,  /* 32 bytes */
	VERIFY_HASH_SHA384 = 2,  /* 48 bytes: for SNP, whose launch digest is SHA-384 */
};

struct verify_item {
	char name[VERIFY_NAME_MAX];  /* NUL-terminated: "kernel", "initrd", "command line", "segment 1"... */
	uint64_t staged_gpa;         /* where cloak staged the bytes, in shared memory */
	uint64_t dest_gpa;           /* where the guest expects them, in private memory */
	uint64_t len;                /* bytes copied and hashed */
	uint64_t zero_len;           /* bytes cleared after them at dest (an ELF segment's .bss) */
	uint8_t digest[VERIFY_DIGEST_MAX];  /* hash of the len bytes; unused tail zero */
};

struct verify_table {
	char magic[8];               /* VERIFY_TABLE_MAGIC, no NUL */
	uint32_t version;            /* VERIFY_TABLE_VERSION */
	uint32_t hash_alg;           /* enum verify_hash_alg */
	uint32_t nitems;
	int32_t cbit;                /* C-bit position: cleared to read the staging area, -1: no C-bit */
	uint64_t staging_gpa;        /* 2 MiB-aligned shared area that holds every staged item */
	uint64_t staging_size;       /* a multiple of 2 MiB */
	uint64_t entry_rip, entry_rsp, entry_rdi, entry_rsi;  /* the guest's 64-bit entry */
	struct verify_item items[VERIFY_MAX_ITEMS];
};

/* Bytes of the table that hold n items: the measured region is that long (the PSP measures it in 16-byte units). */
#define VERIFY_TABLE_HEADER_SIZE 72u
#define VERIFY_TABLE_SIZE(n) (VERIFY_TABLE_HEADER_SIZE + (uint64_t)(n) * sizeof(struct verify_item))

_Static_assert(sizeof(struct verify_item) == 96, "verify_item layout");
_Static_assert(__builtin_offsetof(struct verify_table, items) == VERIFY_TABLE_HEADER_SIZE, "verify_table layout");

#endif
