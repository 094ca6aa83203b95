/* sev_crypto.c: the SEV formats and their cryptography (OpenSSL): KDF, session, MEASURE, secrets, certs. */
#include "sev/sev.h"

#include <openssl/core_names.h>
#include <openssl/crypto.h>
#include <openssl/ec.h>
#include <openssl/evp.h>
#include <openssl/hmac.h>
#include <openssl/param_build.h>
#include <openssl/rand.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

static void put_le32(uint8_t *p, uint32_t v)
{
	p[0] = (uint8_t)v;
	p[1] = (uint8_t)(v >> 8);
	p[2] = (uint8_t)(v >> 16);
	p[3] = (uint8_t)(v >> 24);
}

static uint32_t get_le32(const uint8_t *p)
{
	return (uint32_t)p[0] | (uint32_t)p[1] << 8 | (uint32_t)p[2] << 16 | (uint32_t)p[3] << 24;
}

int sev_sha256(const void *data, size_t len, uint8_t out[32])
{
	return EVP_Digest(data, len, out, NULL, EVP_sha256(), NULL) == 1 ? 0 : -1;
}

int sev_hmac_sha256(const uint8_t *key, size_t keylen, const void *data, size_t len, uint8_t out[32])
{
	unsigned outlen = 0;

	if (!HMAC(EVP_sha256(), key, (int)keylen, data, len, out, &outlen) || outlen != 32)
		return -1;
	return 0;
}

int sev_aes128_ctr(const uint8_t key[16], const uint8_t iv[16], const uint8_t *in, uint8_t *out, size_t len)
{
	EVP_CIPHER_CTX *c = EVP_CIPHER_CTX_new();
	int n = 0, rc = -1;

	if (!c)
		return -1;
	if (len > INT32_MAX)
		goto out;
	if (EVP_EncryptInit_ex(c, EVP_aes_128_ctr(), NULL, key, iv) == 1 &&
	    (len == 0 || EVP_EncryptUpdate(c, out, &n, in, (int)len) == 1) && (size_t)n == len)
		rc = 0;
out:
	EVP_CIPHER_CTX_free(c);
	return rc;
}

int sev_kdf(const uint8_t *key, size_t keylen, const char *label, const uint8_t *ctx, size_t ctxlen,
	    uint8_t *out, size_t outlen)
{
	size_t lablen = strlen(label), done = 0;
	size_t inlen = 4 + lablen + 1 + ctxlen + 4;
	uint8_t *in = malloc(inlen);
	uint32_t i;
	int rc = 0;

	if (!in)
		return -1;
	memcpy(in + 4, label, lablen);
	in[4 + lablen] = 0;
	if (ctxlen)
		memcpy(in + 5 + lablen, ctx, ctxlen);
	put_le32(in + 5 + lablen + ctxlen, (uint32_t)(outlen * 8));
	for (i = 1; done < outlen && rc == 0; i++) {
		uint8_t block[32];
		size_t n = outlen - done < 32 ? outlen - done : 32;

		put_le32(in, i);
		rc = sev_hmac_sha256(key, keylen, in, inlen, block);
		memcpy(out + done, block, n);
		done += n;
		OPENSSL_cleanse(block, sizeof(block));
	}
	free(in);
	return rc;
}

int sev_digest_begin(struct sev_digest *d)
{
	d->bytes = 0;
	d->ctx = EVP_MD_CTX_new();
	if (!d->ctx || EVP_DigestInit_ex(d->ctx, EVP_sha256(), NULL) != 1) {
		EVP_MD_CTX_free(d->ctx);
		d->ctx = NULL;
		return -1;
	}
	return 0;
}

int sev_digest_add(struct sev_digest *d, const void *data, size_t len)
{
	if (!d->ctx || (len && EVP_DigestUpdate(d->ctx, data, len) != 1))
		return -1;
	d->bytes += len;
	return 0;
}

int sev_digest_zeros(struct sev_digest *d, uint64_t len)
{
	static const uint8_t zero[4096];

	while (len) {
		size_t n = len < sizeof(zero) ? (size_t)len : sizeof(zero);

		if (sev_digest_add(d, zero, n) < 0)
			return -1;
		len -= n;
	}
	return 0;
}

int sev_digest_end(struct sev_digest *d, uint8_t out[32])
{
	unsigned n = 0;
	int rc = d->ctx && EVP_DigestFinal_ex(d->ctx, out, &n) == 1 && n == 32 ? 0 : -1;

	EVP_MD_CTX_free(d->ctx);
	d->ctx = NULL;
	return rc;
}

void sev_digest_abort(struct sev_digest *d)
{
	EVP_MD_CTX_free(d->ctx);
	d->ctx = NULL;
}

bool sev_api_has_measure_prefix(uint8_t api_major, uint8_t api_minor)
{
	return api_major > 0 || api_minor >= 17;
}

int sev_measure_compute(const uint8_t tik[SEV_KEY_LEN], const struct sev_measure_input *in,
			uint8_t out[SEV_MEASURE_LEN])
{
	uint8_t buf[4 + 4 + 32 + SEV_MNONCE_LEN];
	size_t n = 0;

	if (sev_api_has_measure_prefix(in->api_major, in->api_minor)) {
		buf[n++] = 0x04;  /* SEV_CHANNEL_CTX_MEASURE */
		buf[n++] = in->api_major;
		buf[n++] = in->api_minor;
		buf[n++] = in->build;
	}
	put_le32(buf + n, in->policy);
	n += 4;
	memcpy(buf + n, in->digest, 32);
	n += 32;
	memcpy(buf + n, in->mnonce, SEV_MNONCE_LEN);
	n += SEV_MNONCE_LEN;
	return sev_hmac_sha256(tik, SEV_KEY_LEN, buf, n, out);
}

/* ---- P-384 keys and certificates ---- */

#define CERT_OFF_USAGE 0x008
#define CERT_OFF_ALGO 0x00c
#define CERT_OFF_PUBKEY 0x010
#define CERT_OFF_SIG1 0x414
#define CERT_OFF_SIG2 0x61c
#define CERT_COORD_LEN 72  /* coordinates are little-endian, zero-padded to 72 bytes */
#define P384_LEN 48

EVP_PKEY *sev_ec_generate(struct cloak_err *err)
{
	EVP_PKEY *k = EVP_EC_gen("P-384");

	if (!k)
		err_set(err, "cannot generate a P-384 key (OpenSSL EVP_EC_gen)");
	return k;
}

static void reverse(uint8_t *p, size_t n)
{
	size_t i;

	for (i = 0; i < n / 2; i++) {
		uint8_t t = p[i];

		p[i] = p[n - 1 - i];
		p[n - 1 - i] = t;
	}
}

int sev_cert_from_key(EVP_PKEY *key, uint32_t usage, uint8_t api_major, uint8_t api_minor,
		      uint8_t cert[SEV_CERT_LEN], struct cloak_err *err)
{
	BIGNUM *x = NULL, *y = NULL;
	uint8_t *p;
	int rc = -1;

	memset(cert, 0, SEV_CERT_LEN);
	if (!EVP_PKEY_get_bn_param(key, OSSL_PKEY_PARAM_EC_PUB_X, &x) ||
	    !EVP_PKEY_get_bn_param(key, OSSL_PKEY_PARAM_EC_PUB_Y, &y)) {
		err_set(err, "cannot read the public point of a P-384 key (OpenSSL)");
		goto out;
	}
	put_le32(cert, 1);
	cert[4] = api_major;
	cert[5] = api_minor;
	put_le32(cert + CERT_OFF_USAGE, usage);
	put_le32(cert + CERT_OFF_ALGO, SEV_ALGO_ECDH_SHA256);
	p = cert + CERT_OFF_PUBKEY;
	put_le32(p, SEV_CURVE_P384);
	/* BN_bn2lebinpad writes little-endian, padded: the SEV layout exactly. */
	if (BN_bn2lebinpad(x, p + 4, CERT_COORD_LEN) != CERT_COORD_LEN ||
	    BN_bn2lebinpad(y, p + 4 + CERT_COORD_LEN, CERT_COORD_LEN) != CERT_COORD_LEN) {
		err_set(err, "cannot encode a P-384 point (OpenSSL)");
		goto out;
	}
	/* Unsigned: both signature slots say "no key". */
	put_le32(cert + CERT_OFF_SIG1, SEV_USAGE_INVALID);
	put_le32(cert + CERT_OFF_SIG2, SEV_USAGE_INVALID);
	rc = 0;
out:
	BN_free(x);
	BN_free(y);
	return rc;
}

EVP_PKEY *sev_cert_pubkey(const uint8_t cert[SEV_CERT_LEN], uint32_t usage, const char *what, struct cloak_err *err)
{
	uint8_t point[1 + 2 * P384_LEN];
	const uint8_t *p = cert + CERT_OFF_PUBKEY;
	EVP_PKEY_CTX *ctx = NULL;
	OSSL_PARAM params[3];
	EVP_PKEY *key = NULL;
	size_t i;

	if (get_le32(cert) != 1) {
		err_set(err, "%s: certificate version %u, not 1", what, get_le32(cert));
		return NULL;
	}
	if (get_le32(cert + CERT_OFF_USAGE) != usage) {
		err_set(err, "%s: key usage 0x%x, not 0x%x (PDH)", what, get_le32(cert + CERT_OFF_USAGE), usage);
		return NULL;
	}
	if (get_le32(cert + CERT_OFF_ALGO) != SEV_ALGO_ECDH_SHA256) {
		err_set(err, "%s: key algorithm 0x%x, not 0x%x (ECDH SHA-256)", what, get_le32(cert + CERT_OFF_ALGO),
			SEV_ALGO_ECDH_SHA256);
		return NULL;
	}
	if (get_le32(p) != SEV_CURVE_P384) {
		err_set(err, "%s: curve %u, not %u (P-384)", what, get_le32(p), SEV_CURVE_P384);
		return NULL;
	}
	for (i = P384_LEN; i < CERT_COORD_LEN; i++)
		if (p[4 + i] || p[4 + CERT_COORD_LEN + i]) {
			err_set(err, "%s: a coordinate is longer than P-384 allows", what);
			return NULL;
		}
	point[0] = 0x04;
	memcpy(point + 1, p + 4, P384_LEN);
	reverse(point + 1, P384_LEN);
	memcpy(point + 1 + P384_LEN, p + 4 + CERT_COORD_LEN, P384_LEN);
	reverse(point + 1 + P384_LEN, P384_LEN);
	params[0] = OSSL_PARAM_construct_utf8_string(OSSL_PKEY_PARAM_GROUP_NAME, (char *)"P-384", 0);
	params[1] = OSSL_PARAM_construct_octet_string(OSSL_PKEY_PARAM_PUB_KEY, point, sizeof(point));
	params[2] = OSSL_PARAM_construct_end();
	ctx = EVP_PKEY_CTX_new_from_name(NULL, "EC", NULL);
	if (!ctx || EVP_PKEY_fromdata_init(ctx) != 1 || EVP_PKEY_fromdata(ctx, &key, EVP_PKEY_PUBLIC_KEY, params) != 1) {
		err_set(err, "%s: the public key is not a point on P-384", what);
		key = NULL;
	}
	EVP_PKEY_CTX_free(ctx);
	return key;
}

int sev_ecdh(EVP_PKEY *mine, EVP_PKEY *peer, uint8_t z[48], struct cloak_err *err)
{
	EVP_PKEY_CTX *ctx = EVP_PKEY_CTX_new(mine, NULL);
	size_t n = 48;
	int rc = -1;

	/* Z is the x coordinate as OpenSSL returns it, big-endian: what the owner tools feed the KDF. */
	if (ctx && EVP_PKEY_derive_init(ctx) == 1 && EVP_PKEY_derive_set_peer(ctx, peer) == 1 &&
	    EVP_PKEY_derive(ctx, z, &n) == 1 && n == 48)
		rc = 0;
	else
		err_set(err, "ECDH on P-384 failed (OpenSSL)");
	EVP_PKEY_CTX_free(ctx);
	return rc;
}

/* ---- the session (LAUNCH_START) ---- */

#define SESS_NONCE 0
#define SESS_WRAP_TK 16
#define SESS_WRAP_IV 48
#define SESS_WRAP_MAC 64
#define SESS_POLICY_MAC 96

struct channel_keys {
	uint8_t kek[16], kik[16];
};

static int channel_derive(const uint8_t z[48], const uint8_t nonce[16], struct channel_keys *k)
{
	uint8_t master[16];
	int rc = sev_kdf(z, 48, "sev-master-secret", nonce, 16, master, sizeof(master));

	rc = rc ? rc : sev_kdf(master, sizeof(master), "sev-kek", NULL, 0, k->kek, sizeof(k->kek));
	rc = rc ? rc : sev_kdf(master, sizeof(master), "sev-kik", NULL, 0, k->kik, sizeof(k->kik));
	OPENSSL_cleanse(master, sizeof(master));
	return rc;
}

int sev_session_create(const uint8_t pdh_cert[SEV_CERT_LEN], uint32_t policy, const struct sev_keys *keys,
		       uint8_t godh_cert[SEV_CERT_LEN], uint8_t session[SEV_SESSION_LEN], struct cloak_err *err)
{
	EVP_PKEY *pdh = NULL, *godh = NULL;
	struct channel_keys ck;
	uint8_t z[48], plain[32], pol[4];
	int rc = -1;

	pdh = sev_cert_pubkey(pdh_cert, SEV_USAGE_PDH, "PDH certificate", err);
	if (!pdh)
		return -1;
	godh = sev_ec_generate(err);
	if (!godh)
		goto out;
	if (sev_cert_from_key(godh, SEV_USAGE_PDH, pdh_cert[4], pdh_cert[5], godh_cert, err) < 0 ||
	    sev_ecdh(godh, pdh, z, err) < 0)
		goto out;
	memset(session, 0, SEV_SESSION_LEN);
	if (RAND_bytes(session + SESS_NONCE, 16) != 1 || RAND_bytes(session + SESS_WRAP_IV, 16) != 1) {
		err_set(err, "no random bytes (OpenSSL RAND_bytes)");
		goto out;
	}
	memcpy(plain, keys->tek, 16);
	memcpy(plain + 16, keys->tik, 16);
	put_le32(pol, policy);
	if (channel_derive(z, session + SESS_NONCE, &ck) < 0 ||
	    sev_aes128_ctr(ck.kek, session + SESS_WRAP_IV, plain, session + SESS_WRAP_TK, 32) < 0 ||
	    sev_hmac_sha256(ck.kik, 16, session + SESS_WRAP_TK, 32, session + SESS_WRAP_MAC) < 0 ||
	    sev_hmac_sha256(keys->tik, 16, pol, 4, session + SESS_POLICY_MAC) < 0) {
		err_set(err, "cannot build the session blob (OpenSSL)");
		goto out;
	}
	rc = 0;
out:
	OPENSSL_cleanse(z, sizeof(z));
	OPENSSL_cleanse(plain, sizeof(plain));
	OPENSSL_cleanse(&ck, sizeof(ck));
	EVP_PKEY_free(pdh);
	EVP_PKEY_free(godh);
	return rc;
}

uint32_t sev_session_open(EVP_PKEY *pdh_private, const uint8_t godh_cert[SEV_CERT_LEN],
			  const uint8_t session[SEV_SESSION_LEN], uint32_t policy, struct sev_keys *out)
{
	struct channel_keys ck;
	uint8_t z[48], mac[32], plain[32], pol[4];
	EVP_PKEY *godh;
	uint32_t status = SEV_RET_SUCCESS;

	godh = sev_cert_pubkey(godh_cert, SEV_USAGE_PDH, "GODH certificate", NULL);
	if (!godh)
		return SEV_RET_INVALID_CERTIFICATE;
	if (sev_ecdh(pdh_private, godh, z, NULL) < 0 || channel_derive(z, session + SESS_NONCE, &ck) < 0 ||
	    sev_hmac_sha256(ck.kik, 16, session + SESS_WRAP_TK, 32, mac) < 0) {
		status = SEV_RET_INVALID_CERTIFICATE;
		goto out;
	}
	if (CRYPTO_memcmp(mac, session + SESS_WRAP_MAC, 32)) {
		status = SEV_RET_BAD_MEASUREMENT;
		goto out;
	}
	put_le32(pol, policy);
	if (sev_aes128_ctr(ck.kek, session + SESS_WRAP_IV, session + SESS_WRAP_TK, plain, 32) < 0 ||
	    sev_hmac_sha256(plain + 16, 16, pol, 4, mac) < 0) {
		status = SEV_RET_HWSEV_RET_PLATFORM;
		goto out;
	}
	if (CRYPTO_memcmp(mac, session + SESS_POLICY_MAC, 32)) {
		status = SEV_RET_BAD_MEASUREMENT;
		goto out;
	}
	memcpy(out->tek, plain, 16);
	memcpy(out->tik, plain + 16, 16);
out:
	OPENSSL_cleanse(z, sizeof(z));
	OPENSSL_cleanse(plain, sizeof(plain));
	OPENSSL_cleanse(&ck, sizeof(ck));
	EVP_PKEY_free(godh);
	return status;
}

/* ---- LAUNCH_SECRET ---- */

static int secret_mac(const struct sev_keys *keys, const uint8_t measure[SEV_MEASURE_LEN], bool measure_prefix,
		      const uint8_t hdr[SEV_SECRET_HDR_LEN], const uint8_t *trans, uint32_t trans_len,
		      uint32_t guest_len, uint8_t mac[32])
{
	size_t n = 1 + 4 + 16 + 4 + 4 + (size_t)trans_len + (measure_prefix ? SEV_MEASURE_LEN : 0);
	uint8_t *buf = malloc(n);
	size_t o = 0;
	int rc;

	if (!buf)
		return -1;
	buf[o++] = 0x01;  /* SEV_CHANNEL_CTX_SECRET */
	memcpy(buf + o, hdr, 4 + 16);  /* FLAGS and IV */
	o += 20;
	put_le32(buf + o, guest_len);
	o += 4;
	put_le32(buf + o, trans_len);
	o += 4;
	memcpy(buf + o, trans, trans_len);
	o += trans_len;
	if (measure_prefix)
		memcpy(buf + o, measure, SEV_MEASURE_LEN);
	rc = sev_hmac_sha256(keys->tik, 16, buf, n, mac);
	free(buf);
	return rc;
}

int sev_secret_wrap(const struct sev_keys *keys, const uint8_t measure[SEV_MEASURE_LEN], bool measure_prefix,
		    const uint8_t iv[16], const uint8_t *plain, size_t len, uint8_t hdr[SEV_SECRET_HDR_LEN],
		    uint8_t *trans, struct cloak_err *err)
{
	if (len == 0 || len % 16 || len > SEV_SECRET_MAX)
		return err_set(err, "a secret of %zu bytes cannot be injected: it must be a non-zero multiple of 16 "
				    "bytes, at most %u", len, SEV_SECRET_MAX);
	memset(hdr, 0, SEV_SECRET_HDR_LEN);
	memcpy(hdr + 4, iv, 16);
	if (sev_aes128_ctr(keys->tek, iv, plain, trans, len) < 0 ||
	    secret_mac(keys, measure, measure_prefix, hdr, trans, (uint32_t)len, (uint32_t)len, hdr + 20) < 0)
		return err_set(err, "cannot encrypt the secret (OpenSSL)");
	return 0;
}

uint32_t sev_secret_unwrap(const struct sev_keys *keys, const uint8_t measure[SEV_MEASURE_LEN], bool measure_prefix,
			   const uint8_t hdr[SEV_SECRET_HDR_LEN], const uint8_t *trans, uint32_t trans_len,
			   uint32_t guest_len, uint8_t *out)
{
	uint8_t mac[32];

	if (guest_len == 0 || guest_len % 16 || guest_len != trans_len || guest_len > SEV_FW_SCRATCH_LEN)
		return SEV_RET_INVALID_LEN;
	if (get_le32(hdr) & 1)  /* COMPRESSED */
		return SEV_RET_UNSUPPORTED;
	if (secret_mac(keys, measure, measure_prefix, hdr, trans, trans_len, guest_len, mac) < 0)
		return SEV_RET_HWSEV_RET_PLATFORM;
	if (CRYPTO_memcmp(mac, hdr + 20, 32))
		return SEV_RET_BAD_MEASUREMENT;
	if (sev_aes128_ctr(keys->tek, hdr + 4, trans, out, trans_len) < 0)
		return SEV_RET_HWSEV_RET_PLATFORM;
	return SEV_RET_SUCCESS;
}

int sev_secret_table_build(const struct sev_secret_entry *e, unsigned n, uint8_t **out, size_t *len,
			   struct cloak_err *err)
{
	size_t total = 20, padded, o;
	uint8_t *buf;
	unsigned i;

	for (i = 0; i < n; i++) {
		if (e[i].len > SEV_SECRET_MAX)
			return err_set(err, "secret %u is %zu bytes; a LAUNCH_SECRET carries at most %u", i + 1, e[i].len,
				       SEV_SECRET_MAX);
		total += 20 + e[i].len;
	}
	padded = ALIGN_UP(total, 16);
	if (padded > SEV_SECRET_MAX)
		return err_set(err, "the secrets add up to %zu bytes with their headers; one LAUNCH_SECRET carries at "
				    "most %u", padded, SEV_SECRET_MAX);
	buf = calloc(1, padded);
	if (!buf)
		return err_set(err, "out of memory");
	sev_guid_parse(SEV_SECRET_TABLE_GUID, buf);
	/* The table's length leaves the padding out; each entry's length counts its 20-byte header. */
	put_le32(buf + 16, (uint32_t)total);
	o = 20;
	for (i = 0; i < n; i++) {
		memcpy(buf + o, e[i].guid, 16);
		put_le32(buf + o + 16, (uint32_t)(20 + e[i].len));
		memcpy(buf + o + 20, e[i].data, e[i].len);
		o += 20 + e[i].len;
	}
	*out = buf;
	*len = padded;
	return 0;
}
