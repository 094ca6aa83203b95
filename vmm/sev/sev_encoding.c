/* sev_encoding.c: the text forms of SEV data: base64 (sevctl's files), hex, EFI GUIDs. */
#include "sev/sev.h"

#include <ctype.h>
#include <openssl/evp.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

int sev_guid_parse(const char *s, uint8_t out[16])
{
	/* Text order of the 16 bytes in EFI's mixed-endian layout. */
	static const int pos[16] = { 3, 2, 1, 0, 5, 4, 7, 6, 8, 9, 10, 11, 12, 13, 14, 15 };
	uint8_t text[16];
	int i, k = 0;

	if (strlen(s) != 36 || s[8] != '-' || s[13] != '-' || s[18] != '-' || s[23] != '-')
		return -1;
	for (i = 0; i < 36; i++) {
		int hi, lo;

		if (i == 8 || i == 13 || i == 18 || i == 23)
			continue;
		if (!isxdigit((unsigned char)s[i]) || !isxdigit((unsigned char)s[i + 1]))
			return -1;
		hi = isdigit((unsigned char)s[i]) ? s[i] - '0' : (tolower((unsigned char)s[i]) - 'a' + 10);
		lo = isdigit((unsigned char)s[i + 1]) ? s[i + 1] - '0' : (tolower((unsigned char)s[i + 1]) - 'a' + 10);
		text[k++] = (uint8_t)(hi << 4 | lo);
		i++;
	}
	for (i = 0; i < 16; i++)
		out[pos[i]] = text[i];
	return 0;
}

void sev_guid_format(const uint8_t g[16], char out[37])
{
	snprintf(out, 37, "%02x%02x%02x%02x-%02x%02x-%02x%02x-%02x%02x-%02x%02x%02x%02x%02x%02x", g[3], g[2], g[1], g[0],
		 g[5], g[4], g[7], g[6], g[8], g[9], g[10], g[11], g[12], g[13], g[14], g[15]);
}

char *sev_b64_encode(const uint8_t *data, size_t len)
{
	char *out;

	if (len > INT32_MAX / 2)
		return NULL;
	out = malloc(4 * ((len + 2) / 3) + 1);
	if (out)
		EVP_EncodeBlock((unsigned char *)out, data, (int)len);
	return out;
}

int sev_b64_decode(const char *s, size_t slen, uint8_t **out, size_t *len)
{
	char *clean;
	size_t n = 0, i, pad = 0;
	uint8_t *buf;
	int got;

	/* Set on every path, so that a caller may free *out whatever happened. */
	*out = NULL;
	*len = 0;
	clean = malloc(slen + 1);
	if (!clean)
		return -1;
	for (i = 0; i < slen; i++)
		if (!isspace((unsigned char)s[i]))
			clean[n++] = s[i];
	clean[n] = 0;
	if (n % 4 || n > INT32_MAX) {
		free(clean);
		return -1;
	}
	if (n && clean[n - 1] == '=')
		pad++;
	if (n > 1 && clean[n - 2] == '=')
		pad++;
	buf = malloc(n / 4 * 3 + 1);
	if (!buf) {
		free(clean);
		return -1;
	}
	got = n ? EVP_DecodeBlock(buf, (unsigned char *)clean, (int)n) : 0;
	/* '=' may only pad the end. */
	if (got < 0 || memchr(clean, '=', n - pad)) {
		free(clean);
		free(buf);
		return -1;
	}
	free(clean);
	*out = buf;
	*len = (size_t)got - pad;
	return 0;
}

void sev_hex(const uint8_t *data, size_t len, char *out)
{
	size_t i;

	for (i = 0; i < len; i++)
		sprintf(out + 2 * i, "%02x", data[i]);
	out[2 * len] = 0;
}
