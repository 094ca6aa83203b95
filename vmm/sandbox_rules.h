/* sandbox_rules.h: each thread role's seccomp allowlist as libseccomp rules, for the build-time generator and tests. */
#ifndef CLOAK_SANDBOX_RULES_H
#define CLOAK_SANDBOX_RULES_H

#include "sandbox.h"

#include <linux/filter.h>
#include <seccomp.h>

/*
 * The filter of `role`: allowlist plus, with `sanitized`, the calls a
 * sanitizer's runtime makes; forbidden calls trap (SIGSYS) or, with `log`,
 * are logged and run. `own_pid` is the only process tgkill may name.
 * NULL on failure, with errno set and *what naming the libseccomp call.
 * cloak itself never calls this: vmm/sandbox_gen.c compiles every filter
 * at build time (see vmm/sandbox.c).
 */
scmp_filter_ctx sandbox_rules_build(enum sandbox_role role, bool log, bool sanitized, uint32_t own_pid,
				    const char **what);

/* The BPF program of `ctx`, as seccomp_export_bpf writes it, into `out`: its length, or -1 with errno set. */
long sandbox_rules_export(scmp_filter_ctx ctx, struct sock_filter *out, size_t cap);

#endif
