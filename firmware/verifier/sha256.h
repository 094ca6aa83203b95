/* sha256.h: a freestanding SHA-256 (FIPS 180-4) for the boot verifier; the unit tests check it against OpenSSL. */
#ifndef CLOAK_VERIFIER_SHA256_H
#define CLOAK_VERIFIER_SHA256_H

#include <stddef.h>
#include <stdint.h>

#define SHA256_LEN 32
#define SHA256_BLOCK 64

struct sha256 {
	uint32_t h[8];
	uint64_t total;              /* bytes fed so far */
	uint8_t buf[SHA256_BLOCK];   /* a partial block */
	size_t used;                 /* bytes in buf */
};

void sha256_init(struct sha256 *s);
void sha256_update(struct sha256 *s, const void *data, size_t len);
void sha256_final(struct sha256 *s, uint8_t out[SHA256_LEN]);

#endif
