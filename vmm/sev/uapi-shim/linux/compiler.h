/* compiler.h: stands in for the kernel-internal header that the raw 6.12 uapi names and headers_install strips. */
#ifndef CLOAK_UAPI_SHIM_COMPILER_H
#define CLOAK_UAPI_SHIM_COMPILER_H
/*
 * vmm/sev/meson.build compiles the SNP files against the uapi of Debian's
 * linux-headers-6.12.*-common as shipped (not run through headers_install), so
 * the two rewrites headers_install makes are made by -D flags there: __user
 * vanishes and __packed becomes the GCC attribute. This file only has to exist.
 */
#endif
