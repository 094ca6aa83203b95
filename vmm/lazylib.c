/* lazylib.c: libcrypto and libsystemd opened by soname when first needed, behind their own function names and prototypes. */
#include "lazylib.h"

#include <dlfcn.h>
#include <openssl/bio.h>
#include <openssl/bn.h>
#include <openssl/crypto.h>
#include <openssl/evp.h>
#include <openssl/hmac.h>
#include <openssl/params.h>
#include <openssl/pem.h>
#include <openssl/rand.h>
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
