/* sha384.h: a freestanding SHA-384 (FIPS 180-4) for the boot verifier's SNP tables; tested against OpenSSL. */
#ifndef CLOAK_VERIFIER_SHA384_H
#define CLOAK_VERIFIER_SHA384_H

#include <stddef.h>
#include <stdint.h>

#define SHA384_LEN 48
#define SHA512_BLOCK 128

struct sha384 {
	uint64_t h[8];
	uint64_t total;              /* bytes fed so far (the 128-bit length's high half stays 0 below 2^61 bytes) */
	uint8_t buf[SHA512_BLOCK];   /* a partial block */
	size_t used;                 /* bytes in buf */
};

void sha384_init(struct sha384 *s);
void sha384_update(struct sha384 *s, const void *data, size_t len);
void sha384_final(struct sha384 *s, uint8_t out[SHA384_LEN]);

#endif
