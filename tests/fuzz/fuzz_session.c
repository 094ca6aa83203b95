/* fuzz_session.c: libFuzzer target: the owner's session files and the platform's PDH certificate, as read from disk. */
#include "sev/sev.h"

#include <openssl/evp.h>

#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/mman.h>
#include <unistd.h>

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

/*
 * The input is the content of one file, read the three ways cloak reads such
 * files from the untrusted host or the owner:
 *  - as `cloak run --dh-cert-file`/`--session-file` read them (base64, then a
 *    GODH certificate and a session blob the simulated PSP opens);
 *  - as `cloak-owner session` reads a PDH (raw 0x824 bytes, or base64 of them),
 *    whose public key must be a P-384 point;
 *  - and base64 itself, which must give back what it encoded.
 */
static int file_fd = -1;
static char file_path[64];
static EVP_PKEY *platform_pdh;

static void file_put(const uint8_t *data, size_t size)
{
	if (file_fd < 0) {
		file_fd = memfd_create("fuzz-session", MFD_CLOEXEC);
		if (file_fd < 0)
			abort();
		snprintf(file_path, sizeof(file_path), "/proc/self/fd/%d", file_fd);
		platform_pdh = sev_ec_generate(NULL);
		if (!platform_pdh)
			abort();
	}
	if (ftruncate(file_fd, 0) < 0 || (size && pwrite(file_fd, data, size, 0) != (ssize_t)size))
		abort();
}

static void read_as_launch(void)
{
	struct cloak_err err = { "" };
	uint8_t godh[SEV_CERT_LEN], session[SEV_SESSION_LEN];
	struct sev_keys keys;
	uint8_t *dec;
	size_t n;

	if (sev_file_read_b64(file_path, "--dh-cert-file", SEV_FW_BLOB_MAX, &dec, &n, &err) < 0) {
		if (!err.msg[0])
			abort();
		return;
	}
	if (n > SEV_FW_BLOB_MAX)
		abort();
	/* A GODH certificate, and whatever follows it as the session blob. */
	if (n >= SEV_CERT_LEN) {
		memcpy(godh, dec, SEV_CERT_LEN);
		memset(session, 0, sizeof(session));
		memcpy(session, dec + SEV_CERT_LEN, n - SEV_CERT_LEN < SEV_SESSION_LEN ? n - SEV_CERT_LEN : SEV_SESSION_LEN);
		(void)sev_session_open(platform_pdh, godh, session, SEV_POLICY_DEFAULT, &keys);
	}
	free(dec);
}

static void read_as_owner_pdh(void)
{
	struct cloak_err err = { "" };
	uint8_t *raw, *dec = NULL;
	size_t n, dn;
	EVP_PKEY *key;

	if (sev_file_read(file_path, "PDH certificate", 4 * SEV_CERT_LEN, &raw, &n, &err) < 0)
		return;
	if (n != SEV_CERT_LEN) {
		if (sev_b64_decode((const char *)raw, n, &dec, &dn) < 0 || dn != SEV_CERT_LEN) {
			free(raw);
			if (dec)
				free(dec);
			return;
		}
		free(raw);
		raw = dec;
	}
	key = sev_cert_pubkey(raw, SEV_USAGE_PDH, "PDH certificate", &err);
	if (!key && !err.msg[0])
		abort();
	EVP_PKEY_free(key);
	free(raw);
}

static void b64_round_trip(const uint8_t *data, size_t size)
{
	uint8_t *dec, *again;
	size_t n, n2;
	char *enc;

	if (sev_b64_decode((const char *)data, size, &dec, &n) < 0)
		return;
	if (n > size)
		abort();
	enc = sev_b64_encode(dec, n);
	if (!enc)
		abort();
	if (sev_b64_decode(enc, strlen(enc), &again, &n2) < 0 || n2 != n || memcmp(again, dec, n))
		abort();
	free(again);
	free(enc);
	free(dec);
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	if (size > 4 * SEV_FW_BLOB_MAX)
		return 0;
	file_put(data, size);
	read_as_launch();
	read_as_owner_pdh();
	b64_round_trip(data, size);
	return 0;
}
