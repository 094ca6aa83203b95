/* privs.h: the memory-lock limits checked before the launch, and the privileges dropped after it. */
#ifndef CLOAK_PRIVS_H
#define CLOAK_PRIVS_H

#include "cloak.h"

/*
 * Whether `bytes` of guest memory can be locked, given RLIMIT_MEMLOCK and
 * CAP_IPC_LOCK; *raise_to is set when the soft limit must be raised first.
 */
int pin_decide(uint64_t bytes, uint64_t rlim_cur, uint64_t rlim_max, bool has_cap_ipc_lock,
	       uint64_t *raise_to, struct cloak_err *err);
/* pin_decide against this process's limits and capabilities; raises the soft limit when needed. */
int pin_preflight(uint64_t bytes, struct cloak_err *err);

/* Drops every capability and sets no_new_privs: called once all host resources are open. */
int privs_drop(struct cloak_err *err);

#endif
