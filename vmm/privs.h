/* privs.h: the memory-lock limits checked before the launch, and the privileges dropped after it. */
#ifndef CLOAK_PRIVS_H
#define CLOAK_PRIVS_H

#include "cloak.h"

#include <sys/types.h>

/*
 * Whether `bytes` of guest memory can be locked, given RLIMIT_MEMLOCK and
 * CAP_IPC_LOCK; *raise_to is set when the soft limit must be raised first.
 */
int pin_decide(uint64_t bytes, uint64_t rlim_cur, uint64_t rlim_max, bool has_cap_ipc_lock,
	       uint64_t *raise_to, struct cloak_err *err);
/* pin_decide against this process's limits and capabilities; raises the soft limit when needed. */
int pin_preflight(uint64_t bytes, struct cloak_err *err);

/*
 * Capabilities and no_new_privs belong to each thread (vmm/sandbox.c
 * orders these): first the bounding set, while CAP_SETPCAP is held, by the
 * main thread before it starts any other (they inherit it); then, once the
 * process runs as --user, every thread drops every capability and sets
 * no_new_privs for itself.
 */
int privs_drop_bounding(struct cloak_err *err);
int privs_drop_thread(struct cloak_err *err);
/* setgroups, setresgid, setresuid: the process (every thread) becomes uid:gid. */
int privs_switch_user(uid_t uid, gid_t gid, struct cloak_err *err);

#endif
