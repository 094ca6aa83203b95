/* fuzz_attest.c: libFuzzer target: what the --attest-command prints back to cloak (sev_attest_parse). */
#include "known.h"
#include "sev/sev.h"

#include <stdlib.h>
#include <string.h>

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

/* Issue 12: a SECRET_HEADER value that is not base64 makes the parser free stack garbage. */
static bool reaches_known_defect(const char *s, size_t size)
{
	const char *p = s, *end = s + size;

	while ((p = memmem(p, (size_t)(end - p), "SECRET_HEADER=", 14)) != NULL) {
		const char *v = p + 14, *nl = memchr(v, '\n', (size_t)(end - v));
		uint8_t *h;
		size_t n;

		if (sev_b64_decode(v, (size_t)((nl ? nl : end) - v), &h, &n) < 0)
			return true;
		free(h);
		p = v;
	}
	return false;
}

/*
 * The input is the command's whole output. A reply that parses must be
 * complete and within the limits the parser promises; anything else must be
 * refused with a message and nothing left allocated.
 */
int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	struct sev_attest_reply r;
	struct cloak_err err = { "" };

	if (fuzz_mask_known() && reaches_known_defect((const char *)data, size))
		return 0;
	if (sev_attest_parse((const char *)data, size, &r, &err) < 0) {
		if (!err.msg[0] || r.payload)
			abort();
		return 0;
	}
	if (r.has_secret && (!r.payload || !r.payload_len || r.payload_len % 16 || r.payload_len > SEV_SECRET_MAX))
		abort();
	if (!r.has_secret && r.payload)
		abort();
	sev_attest_reply_free(&r);
	return 0;
}
