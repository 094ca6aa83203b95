/* compiler_types.h: stands in for the kernel-internal header that the raw 6.12 uapi's stddef.h names and headers_install strips. */
#ifndef CLOAK_UAPI_SHIM_COMPILER_TYPES_H
#define CLOAK_UAPI_SHIM_COMPILER_TYPES_H
/* Nothing the uapi uses comes from it in user space; see compiler.h beside it. */
#endif
