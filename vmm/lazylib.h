/* lazylib.h: the shared libraries only some runs need (libcrypto for SEV, libsystemd for sd_notify), opened when first needed. */
#ifndef CLOAK_LAZYLIB_H
#define CLOAK_LAZYLIB_H

#include "cloak.h"

/*
 * The cloak executable does not link these libraries: lazylib.c defines the
 * few functions cloak calls, with the libraries' own prototypes, and each
 * opens its library by soname on first use. A plain `cloak run` so never maps
 * libcrypto, nor libsystemd and the five libraries it pulls in.
 */
enum lazylib_id {
	LAZYLIB_CRYPTO,   /* OpenSSL's libcrypto: the SEV launch, its formats and measurement */
	LAZYLIB_SYSTEMD,  /* libsystemd: sd_notify, only when $NOTIFY_SOCKET is set */
	LAZYLIB_COUNT,
};

/*
 * Opens `lib` now, for `why` (e.g. "--sev"): callers do this before the
 * sandbox is sealed, and so that a missing library is reported before the
 * launch begins. 0, or -1 with a message naming the library, the reason and
 * the Debian package that has it. Safe from any thread; loads once.
 */
int lazylib_load(enum lazylib_id lib, const char *why, struct cloak_err *err);

/* As lazylib_load, from the soname given (tests: what a missing library looks like). */
int lazylib_load_soname(enum lazylib_id lib, const char *soname, const char *why, struct cloak_err *err);

/* Whether `lib` is open (a test's view: a plain run must not have opened libcrypto). */
bool lazylib_loaded(enum lazylib_id lib);

#endif
