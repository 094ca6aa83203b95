/* fuzz_attest.c: libFuzzer target: what the --attest-command prints back to cloak (sev_attest_parse). */
#include "sev/sev.h"

#include <stdlib.h>
#include <string.h>

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

/*
 * The input is the command's whole output. A reply that parses must be
 * complete and within the limits the parser promises; anything else must be
 * refused with a message and nothing left allocated.
 */
int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	struct sev_attest_reply r;
	struct cloak_err err = { "" };

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
