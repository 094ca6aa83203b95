/* lazylib.c: libcrypto and libsystemd opened by soname when first needed, behind their own function names and prototypes. */
#include "lazylib.h"

#include <dlfcn.h>
#include <openssl/asn1.h>
#include <openssl/bio.h>
#include <openssl/bn.h>
#include <openssl/crypto.h>
#include <openssl/ec.h>
#include <openssl/evp.h>
#include <openssl/hmac.h>
#include <openssl/objects.h>
#include <openssl/param_build.h>
#include <openssl/params.h>
#include <openssl/pem.h>
#include <openssl/rand.h>
#include <openssl/rsa.h>
#include <openssl/x509.h>
#include <openssl/x509v3.h>
#include <pthread.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <systemd/sd-daemon.h>

#ifdef LAZYLIB_LINKED
/* Built with -Dlazy_libs=false: the libraries are linked, so there is nothing to open. */
int lazylib_load_soname(enum lazylib_id lib, const char *soname, const char *why, struct cloak_err *err)
{
	(void)lib, (void)soname, (void)why, (void)err;
	return 0;
}

int lazylib_load(enum lazylib_id lib, const char *why, struct cloak_err *err)
{
	return lazylib_load_soname(lib, NULL, why, err);
}

bool lazylib_loaded(enum lazylib_id lib)
{
	(void)lib;
	return true;
}
#else
/*
 * Every function cloak calls in a lazily opened library: X for those that
 * return a value, V for void ones. The definitions below repeat the library's
 * prototype, so the compiler checks each against the library's header. A
 * function cloak starts to call must be added here, or the link fails with
 * "undefined reference" to it.
 */
#define CRYPTO_FUNCTIONS(X, V)                                                                                    \
	X(long, BIO_ctrl, (BIO * bp, int cmd, long larg, void *parg), (bp, cmd, larg, parg))                      \
	X(int, BIO_free, (BIO * a), (a))                                                                          \
	X(BIO *, BIO_new, (const BIO_METHOD *type), (type))                                                       \
	X(const BIO_METHOD *, BIO_s_mem, (void), ())                                                              \
	X(int, BN_bn2lebinpad, (const BIGNUM *a, unsigned char *to, int tolen), (a, to, tolen))                   \
	V(BN_free, (BIGNUM * a), (a))                                                                             \
	X(int, CRYPTO_memcmp, (const void *in_a, const void *in_b, size_t len), (in_a, in_b, len))                \
	V(EVP_CIPHER_CTX_free, (EVP_CIPHER_CTX * c), (c))                                                         \
	X(EVP_CIPHER_CTX *, EVP_CIPHER_CTX_new, (void), ())                                                       \
	X(int, EVP_DecodeBlock, (unsigned char *t, const unsigned char *f, int n), (t, f, n))                     \
	X(int, EVP_Digest, (const void *data, size_t count, unsigned char *md, unsigned int *size,                \
			    const EVP_MD *type, ENGINE *impl), (data, count, md, size, type, impl))                \
	X(int, EVP_DigestFinal_ex, (EVP_MD_CTX * ctx, unsigned char *md, unsigned int *s), (ctx, md, s))          \
	X(int, EVP_DigestInit_ex, (EVP_MD_CTX * ctx, const EVP_MD *type, ENGINE *impl), (ctx, type, impl))        \
	X(int, EVP_DigestUpdate, (EVP_MD_CTX * ctx, const void *d, size_t cnt), (ctx, d, cnt))                    \
	X(int, EVP_EncodeBlock, (unsigned char *t, const unsigned char *f, int n), (t, f, n))                     \
	X(int, EVP_EncryptInit_ex, (EVP_CIPHER_CTX * ctx, const EVP_CIPHER *cipher, ENGINE *impl,                 \
				    const unsigned char *key, const unsigned char *iv), (ctx, cipher, impl, key, iv))   \
	X(int, EVP_EncryptUpdate, (EVP_CIPHER_CTX * ctx, unsigned char *out, int *outl, const unsigned char *in,  \
				   int inl), (ctx, out, outl, in, inl))                                            \
	V(EVP_MD_CTX_free, (EVP_MD_CTX * ctx), (ctx))                                                             \
	X(EVP_MD_CTX *, EVP_MD_CTX_new, (void), ())                                                               \
	V(EVP_PKEY_CTX_free, (EVP_PKEY_CTX * ctx), (ctx))                                                         \
	X(EVP_PKEY_CTX *, EVP_PKEY_CTX_new, (EVP_PKEY * pkey, ENGINE *e), (pkey, e))                              \
	X(EVP_PKEY_CTX *, EVP_PKEY_CTX_new_from_name, (OSSL_LIB_CTX * libctx, const char *name,                   \
						       const char *propquery), (libctx, name, propquery))           \
	X(int, EVP_PKEY_derive, (EVP_PKEY_CTX * ctx, unsigned char *key, size_t *keylen), (ctx, key, keylen))     \
	X(int, EVP_PKEY_derive_init, (EVP_PKEY_CTX * ctx), (ctx))                                                 \
	X(int, EVP_PKEY_derive_set_peer, (EVP_PKEY_CTX * ctx, EVP_PKEY *peer), (ctx, peer))                       \
	V(EVP_PKEY_free, (EVP_PKEY * pkey), (pkey))                                                               \
	X(int, EVP_PKEY_fromdata, (EVP_PKEY_CTX * ctx, EVP_PKEY **ppkey, int selection, OSSL_PARAM param[]),      \
	  (ctx, ppkey, selection, param))                                                                         \
	X(int, EVP_PKEY_fromdata_init, (EVP_PKEY_CTX * ctx), (ctx))                                               \
	X(int, EVP_PKEY_get_base_id, (const EVP_PKEY *pkey), (pkey))                                              \
	X(int, EVP_PKEY_get_bn_param, (const EVP_PKEY *pkey, const char *key_name, BIGNUM **bn),                  \
	  (pkey, key_name, bn))                                                                                   \
	X(const EVP_CIPHER *, EVP_aes_128_ctr, (void), ())                                                        \
	X(const EVP_MD *, EVP_sha256, (void), ())                                                                 \
	X(const EVP_MD *, EVP_sha384, (void), ())                                                                 \
	X(unsigned char *, HMAC, (const EVP_MD *evp_md, const void *key, int key_len, const unsigned char *data,  \
				  size_t data_len, unsigned char *md, unsigned int *md_len),                        \
	  (evp_md, key, key_len, data, data_len, md, md_len))                                                     \
	V(OPENSSL_cleanse, (void *ptr, size_t len), (ptr, len))                                                   \
	X(OSSL_PARAM, OSSL_PARAM_construct_end, (void), ())                                                       \
	X(OSSL_PARAM, OSSL_PARAM_construct_octet_string, (const char *key, void *buf, size_t bsize),              \
	  (key, buf, bsize))                                                                                      \
	X(OSSL_PARAM, OSSL_PARAM_construct_utf8_string, (const char *key, char *buf, size_t bsize),               \
	  (key, buf, bsize))                                                                                      \
	X(EVP_PKEY *, PEM_read_PrivateKey, (FILE * out, EVP_PKEY **x, pem_password_cb *cb, void *u),              \
	  (out, x, cb, u))                                                                                        \
	X(int, PEM_write_bio_PrivateKey, (BIO * out, const EVP_PKEY *x, const EVP_CIPHER *enc,                    \
					  const unsigned char *kstr, int klen, pem_password_cb *cb, void *u),       \
	  (out, x, enc, kstr, klen, cb, u))                                                                       \
	V(ASN1_INTEGER_free, (ASN1_INTEGER *p0), (p0)) \
	X(long, ASN1_INTEGER_get, (const ASN1_INTEGER *p0), (p0)) \
	X(ASN1_INTEGER *, ASN1_INTEGER_new, (void), ()) \
	X(int, ASN1_INTEGER_set, (ASN1_INTEGER *p0, long p1), (p0, p1)) \
	V(ASN1_OBJECT_free, (ASN1_OBJECT *p0), (p0)) \
	V(ASN1_OCTET_STRING_free, (ASN1_OCTET_STRING *p0), (p0)) \
	X(ASN1_OCTET_STRING *, ASN1_OCTET_STRING_new, (void), ()) \
	X(int, ASN1_OCTET_STRING_set, (ASN1_OCTET_STRING *p0, const unsigned char *p1, int p2), (p0, p1, p2)) \
	X(const unsigned char *, ASN1_STRING_get0_data, (const ASN1_STRING *p0), (p0)) \
	X(int, ASN1_STRING_length, (const ASN1_STRING *p0), (p0)) \
	X(int, BN_is_odd, (const BIGNUM *p0), (p0)) \
	X(int, BN_is_zero, (const BIGNUM *p0), (p0)) \
	X(BIGNUM *, BN_lebin2bn, (const unsigned char *p0, int p1, BIGNUM *p2), (p0, p1, p2)) \
	V(CRYPTO_free, (void *p0, const char *p1, int p2), (p0, p1, p2)) \
	X(void *, CRYPTO_malloc, (size_t p0, const char *p1, int p2), (p0, p1, p2)) \
	V(ECDSA_SIG_free, (ECDSA_SIG *p0), (p0)) \
	X(const BIGNUM *, ECDSA_SIG_get0_r, (const ECDSA_SIG *p0), (p0)) \
	X(const BIGNUM *, ECDSA_SIG_get0_s, (const ECDSA_SIG *p0), (p0)) \
	X(ECDSA_SIG *, ECDSA_SIG_new, (void), ()) \
	X(int, ECDSA_SIG_set0, (ECDSA_SIG *p0, BIGNUM *p1, BIGNUM *p2), (p0, p1, p2)) \
	X(int, EVP_DigestSign, (EVP_MD_CTX *p0, unsigned char *p1, size_t *p2, const unsigned char *p3, size_t p4), (p0, p1, p2, p3, p4)) \
	X(int, EVP_DigestSignInit, (EVP_MD_CTX *p0, EVP_PKEY_CTX **p1, const EVP_MD *p2, ENGINE *p3, EVP_PKEY *p4), (p0, p1, p2, p3, p4)) \
	X(int, EVP_DigestVerify, (EVP_MD_CTX *p0, const unsigned char *p1, size_t p2, const unsigned char *p3, size_t p4), (p0, p1, p2, p3, p4)) \
	X(int, EVP_DigestVerifyInit, (EVP_MD_CTX *p0, EVP_PKEY_CTX **p1, const EVP_MD *p2, ENGINE *p3, EVP_PKEY *p4), (p0, p1, p2, p3, p4)) \
	X(int, EVP_PKEY_CTX_set_rsa_mgf1_md, (EVP_PKEY_CTX *p0, const EVP_MD *p1), (p0, p1)) \
	X(int, EVP_PKEY_CTX_set_rsa_padding, (EVP_PKEY_CTX *p0, int p1), (p0, p1)) \
	X(int, EVP_PKEY_CTX_set_rsa_pss_saltlen, (EVP_PKEY_CTX *p0, int p1), (p0, p1)) \
	X(int, EVP_PKEY_get_size, (const EVP_PKEY *p0), (p0)) \
	X(int, EVP_PKEY_get_utf8_string_param, (const EVP_PKEY *p0, const char *p1, char *p2, size_t p3, size_t *p4), (p0, p1, p2, p3, p4)) \
	X(ASN1_OBJECT *, OBJ_txt2obj, (const char *p0, int p1), (p0, p1)) \
	V(OSSL_PARAM_BLD_free, (OSSL_PARAM_BLD *p0), (p0)) \
	X(OSSL_PARAM_BLD *, OSSL_PARAM_BLD_new, (void), ()) \
	X(int, OSSL_PARAM_BLD_push_BN, (OSSL_PARAM_BLD *p0, const char *p1, const BIGNUM *p2), (p0, p1, p2)) \
	X(OSSL_PARAM *, OSSL_PARAM_BLD_to_param, (OSSL_PARAM_BLD *p0), (p0)) \
	V(OSSL_PARAM_free, (OSSL_PARAM *p0), (p0)) \
	X(X509 *, PEM_read_X509, (FILE *p0, X509 **p1, pem_password_cb *p2, void *p3), (p0, p1, p2, p3)) \
	X(int, PEM_write_bio_X509, (BIO *p0, const X509 *p1), (p0, p1)) \
	X(X509_EXTENSION *, X509_EXTENSION_create_by_OBJ, (X509_EXTENSION **p0, const ASN1_OBJECT *p1, int p2, ASN1_OCTET_STRING *p3), (p0, p1, p2, p3)) \
	V(X509_EXTENSION_free, (X509_EXTENSION *p0), (p0)) \
	X(ASN1_OCTET_STRING *, X509_EXTENSION_get_data, (X509_EXTENSION *p0), (p0)) \
	X(int, X509_NAME_add_entry_by_txt, (X509_NAME *p0, const char *p1, int p2, const unsigned char *p3, int p4, int p5, int p6), (p0, p1, p2, p3, p4, p5, p6)) \
	X(int, X509_NAME_cmp, (const X509_NAME *p0, const X509_NAME *p1), (p0, p1)) \
	V(X509_NAME_free, (X509_NAME *p0), (p0)) \
	X(int, X509_NAME_get_text_by_NID, (const X509_NAME *p0, int p1, char *p2, int p3), (p0, p1, p2, p3)) \
	X(X509_NAME *, X509_NAME_new, (void), ()) \
	X(int, X509_add_ext, (X509 *p0, X509_EXTENSION *p1, int p2), (p0, p1, p2)) \
	V(X509_free, (X509 *p0), (p0)) \
	X(EVP_PKEY *, X509_get0_pubkey, (const X509 *p0), (p0)) \
	X(X509_EXTENSION *, X509_get_ext, (const X509 *p0, int p1), (p0, p1)) \
	X(int, X509_get_ext_by_OBJ, (const X509 *p0, const ASN1_OBJECT *p1, int p2), (p0, p1, p2)) \
	X(X509_NAME *, X509_get_issuer_name, (const X509 *p0), (p0)) \
	X(ASN1_INTEGER *, X509_get_serialNumber, (X509 *p0), (p0)) \
	X(int, X509_get_signature_nid, (const X509 *p0), (p0)) \
	X(X509_NAME *, X509_get_subject_name, (const X509 *p0), (p0)) \
	X(ASN1_TIME *, X509_getm_notAfter, (const X509 *p0), (p0)) \
	X(ASN1_TIME *, X509_getm_notBefore, (const X509 *p0), (p0)) \
	X(ASN1_TIME *, X509_gmtime_adj, (ASN1_TIME *p0, long p1), (p0, p1)) \
	X(X509 *, X509_new, (void), ()) \
	X(int, X509_set_issuer_name, (X509 *p0, const X509_NAME *p1), (p0, p1)) \
	X(int, X509_set_pubkey, (X509 *p0, EVP_PKEY *p1), (p0, p1)) \
	X(int, X509_set_subject_name, (X509 *p0, const X509_NAME *p1), (p0, p1)) \
	X(int, X509_set_version, (X509 *p0, long p1), (p0, p1)) \
	X(int, X509_sign_ctx, (X509 *p0, EVP_MD_CTX *p1), (p0, p1)) \
	X(int, X509_verify, (X509 *p0, EVP_PKEY *p1), (p0, p1)) \
	X(ASN1_INTEGER *, d2i_ASN1_INTEGER, (ASN1_INTEGER **p0, const unsigned char **p1, long p2), (p0, p1, p2)) \
	X(ECDSA_SIG *, d2i_ECDSA_SIG, (ECDSA_SIG **p0, const unsigned char **p1, long p2), (p0, p1, p2)) \
	X(int, i2d_ASN1_INTEGER, (const ASN1_INTEGER *p0, unsigned char **p1), (p0, p1)) \
	X(int, i2d_ECDSA_SIG, (const ECDSA_SIG *p0, unsigned char **p1), (p0, p1)) \
	X(int, i2d_PUBKEY, (const EVP_PKEY *p0, unsigned char **p1), (p0, p1)) \
	X(int, i2d_X509, (const X509 *p0, unsigned char **p1), (p0, p1)) \
	X(int, RAND_bytes, (unsigned char *buf, int num), (buf, num))

#define SYSTEMD_FUNCTIONS(X, V) X(int, sd_notify, (int unset_environment, const char *state), (unset_environment, state))

/* One slot per function, numbered across both libraries; EVP_PKEY_Q_keygen (variadic) is written out below. */
#define SLOT_X(ret, name, params, args) SLOT_##name,
#define SLOT_V(name, params, args) SLOT_##name,
enum lazylib_slot {
	CRYPTO_FUNCTIONS(SLOT_X, SLOT_V)
	SLOT_EVP_PKEY_Q_keygen,
	SLOT_CRYPTO_END,
	SYSTEMD_FUNCTIONS(SLOT_X, SLOT_V)
	SLOT_COUNT,
};

#define NAME_X(ret, name, params, args) #name,
#define NAME_V(name, params, args) #name,
static const char *const slot_names[SLOT_COUNT] = {
	CRYPTO_FUNCTIONS(NAME_X, NAME_V)
	"EVP_PKEY_Q_keygen",
	"",
	SYSTEMD_FUNCTIONS(NAME_X, NAME_V)
};

/* Debian's sonames for this release's packages, and the package to install when one is missing. */
static const struct lazylib_info {
	const char *soname, *package;
	enum lazylib_slot first, end;
} libs[LAZYLIB_COUNT] = {
	[LAZYLIB_CRYPTO] = { "libcrypto.so.3", "libssl3", 0, SLOT_CRYPTO_END },
	[LAZYLIB_SYSTEMD] = { "libsystemd.so.0", "libsystemd0", SLOT_CRYPTO_END + 1, SLOT_COUNT },
};

static void *slots[SLOT_COUNT];
static pthread_mutex_t load_lock = PTHREAD_MUTEX_INITIALIZER;
static bool loaded[LAZYLIB_COUNT];

int lazylib_load_soname(enum lazylib_id lib, const char *soname, const char *why, struct cloak_err *err)
{
	const struct lazylib_info *li = &libs[lib];
	void *handle, *found[SLOT_COUNT];
	int rc = 0;

	pthread_mutex_lock(&load_lock);
	if (loaded[lib])
		goto out;
	/* RTLD_NOW: a missing function is found here, not at some later call; never RTLD_GLOBAL, so that the
	 * library's own symbols never stand in for the definitions in this file, nor these for the library's. */
	handle = dlopen(soname, RTLD_NOW | RTLD_LOCAL);
	if (!handle) {
		rc = err_set(err, "%s needs %s, which cannot be loaded (dlopen: %s); install the Debian package %s",
			     why, soname, dlerror(), li->package);
		goto out;
	}
	/* All or nothing: the slots are filled only once every function was found. */
	for (unsigned s = li->first; s < li->end; s++) {
		found[s] = dlsym(handle, slot_names[s]);
		if (!found[s]) {
			rc = err_set(err, "%s needs %s from %s, which lacks it (dlsym: %s); install the Debian package %s "
					  "of this release", why, slot_names[s], soname, dlerror(), li->package);
			dlclose(handle);
			goto out;
		}
	}
	for (unsigned s = li->first; s < li->end; s++)
		__atomic_store_n(&slots[s], found[s], __ATOMIC_RELEASE);
	loaded[lib] = true;
out:
	pthread_mutex_unlock(&load_lock);
	return rc;
}

int lazylib_load(enum lazylib_id lib, const char *why, struct cloak_err *err)
{
	return lazylib_load_soname(lib, libs[lib].soname, why, err);
}

bool lazylib_loaded(enum lazylib_id lib)
{
	bool ret;

	pthread_mutex_lock(&load_lock);
	ret = loaded[lib];
	pthread_mutex_unlock(&load_lock);
	return ret;
}

/*
 * The function in `slot`, opening its library if no one did: callers are
 * meant to lazylib_load() first, where a failure can be reported well; this
 * is the last resort, and stops cloak with the same message.
 */
static void *slot_fn(enum lazylib_slot slot, enum lazylib_id lib)
{
	void *fn = __atomic_load_n(&slots[slot], __ATOMIC_ACQUIRE);
	struct cloak_err err = { "" };

	if (fn)
		return fn;
	if (lazylib_load(lib, slot_names[slot], &err) < 0) {
		fprintf(stderr, "cloak: %s\n", err.msg);
		exit(CLOAK_EXIT_ERROR);
	}
	return __atomic_load_n(&slots[slot], __ATOMIC_ACQUIRE);
}

#define DEFINE_X(lib, ret, name, params, args)                                   \
	ret name params                                                          \
	{                                                                        \
		ret(*fn) params = (ret(*) params)slot_fn(SLOT_##name, lib);      \
		return fn args;                                                  \
	}
#define DEFINE_V(lib, name, params, args)                                        \
	void name params                                                         \
	{                                                                        \
		void(*fn) params = (void(*) params)slot_fn(SLOT_##name, lib);    \
		fn args;                                                         \
	}
#define CRYPTO_X(ret, name, params, args) DEFINE_X(LAZYLIB_CRYPTO, ret, name, params, args)
#define CRYPTO_V(name, params, args) DEFINE_V(LAZYLIB_CRYPTO, name, params, args)
CRYPTO_FUNCTIONS(CRYPTO_X, CRYPTO_V)

/*
 * Variadic, so written out: the key types OpenSSL documents for it take one
 * more argument ("EC": the curve's name; "RSA": the bits, a size_t) or none.
 */
EVP_PKEY *EVP_PKEY_Q_keygen(OSSL_LIB_CTX *libctx, const char *propq, const char *type, ...)
{
	EVP_PKEY *(*fn)(OSSL_LIB_CTX *, const char *, const char *, ...) =
		(EVP_PKEY * (*)(OSSL_LIB_CTX *, const char *, const char *, ...)) slot_fn(SLOT_EVP_PKEY_Q_keygen,
											    LAZYLIB_CRYPTO);
	EVP_PKEY *key;
	va_list ap;

	va_start(ap, type);
	if (!strcmp(type, "EC"))
		key = fn(libctx, propq, type, va_arg(ap, char *));
	else if (!strcmp(type, "RSA"))
		key = fn(libctx, propq, type, va_arg(ap, size_t));
	else
		key = fn(libctx, propq, type);
	va_end(ap);
	return key;
}

/* sd_notify does nothing without $NOTIFY_SOCKET: neither is libsystemd opened then. */
int sd_notify(int unset_environment, const char *state)
{
	int (*fn)(int, const char *);

	if (!getenv("NOTIFY_SOCKET"))
		return 0;
	fn = (int (*)(int, const char *))slot_fn(SLOT_sd_notify, LAZYLIB_SYSTEMD);
	return fn(unset_environment, state);
}
#endif
