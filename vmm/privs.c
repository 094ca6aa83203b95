/* privs.c: memory-locking limits before the launch, and dropping privileges after it. */
#include "privs.h"

#include <errno.h>
#include <stdio.h>
#include <string.h>
#include <sys/capability.h>
#include <sys/prctl.h>
#include <grp.h>
#include <sys/resource.h>
#include <unistd.h>

int pin_decide(uint64_t bytes, uint64_t rlim_cur, uint64_t rlim_max, bool has_cap_ipc_lock,
	       uint64_t *raise_to, struct cloak_err *err)
{
	char a[32], b[32];

	*raise_to = 0;
	if (has_cap_ipc_lock || rlim_cur == (uint64_t)RLIM_INFINITY || rlim_cur >= bytes)
		return 0;
	if (rlim_max == (uint64_t)RLIM_INFINITY || rlim_max >= bytes) {
		*raise_to = bytes;
		return 0;
	}
	return err_set(err, "cannot lock %s of guest memory: RLIMIT_MEMLOCK is %s (hard limit %s) and cloak "
			    "lacks CAP_IPC_LOCK; run with CAP_IPC_LOCK, raise the limit (ulimit -l, "
			    "limits.conf), or pass --no-pin",
		       fmt_size(bytes, a), fmt_size(rlim_cur, b),
		       rlim_max == rlim_cur ? "the same" : fmt_size(rlim_max, (char[32]){ 0 }));
}

static bool has_effective_cap(cap_value_t cap)
{
	cap_flag_value_t v = CAP_CLEAR;
	cap_t caps = cap_get_proc();

	if (!caps)
		return false;
	cap_get_flag(caps, cap, CAP_EFFECTIVE, &v);
	cap_free(caps);
	return v == CAP_SET;
}

int pin_preflight(uint64_t bytes, struct cloak_err *err)
{
	struct rlimit rl;
	uint64_t raise_to;

	if (getrlimit(RLIMIT_MEMLOCK, &rl) < 0)
		return err_errno(err, "getrlimit(RLIMIT_MEMLOCK)");
	if (pin_decide(bytes, rl.rlim_cur, rl.rlim_max, has_effective_cap(CAP_IPC_LOCK), &raise_to, err) < 0)
		return -1;
	if (raise_to) {
		rl.rlim_cur = raise_to;
		if (setrlimit(RLIMIT_MEMLOCK, &rl) < 0)
			return err_errno(err, "cannot raise RLIMIT_MEMLOCK to lock guest memory (setrlimit); "
					      "raise it with ulimit -l or pass --no-pin");
	}
	return 0;
}

int privs_drop_bounding(struct cloak_err *err)
{
	cap_value_t c;

	/* The bounding set is per thread, and emptying it needs CAP_SETPCAP: without it there is nothing to drop. */
	if (!has_effective_cap(CAP_SETPCAP))
		return 0;
	for (c = 0; c <= CAP_LAST_CAP; c++)
		if (CAP_IS_SUPPORTED(c) && cap_drop_bound(c) < 0)
			return err_errno(err, "cannot drop capability %d from the bounding set (cap_drop_bound)", c);
	return 0;
}

int privs_switch_user(uid_t uid, gid_t gid, struct cloak_err *err)
{
	/* glibc runs each of these on every thread of the process (its setxid broadcast). */
	if (setgroups(1, &gid) < 0)
		return err_errno(err, "--user: cannot drop supplementary groups (setgroups)");
	if (setresgid(gid, gid, gid) < 0)
		return err_errno(err, "--user: cannot switch to group %u (setresgid)", (unsigned)gid);
	if (setresuid(uid, uid, uid) < 0)
		return err_errno(err, "--user: cannot switch to user %u (setresuid)", (unsigned)uid);
	return 0;
}

int privs_drop_thread(struct cloak_err *err)
{
	cap_t none = cap_init();

	if (!none)
		return err_errno(err, "cap_init");
	/* capset acts on the calling thread only: every thread calls this for itself. */
	if (cap_set_proc(none) < 0) {
		cap_free(none);
		return err_errno(err, "cannot drop capabilities (cap_set_proc)");
	}
	cap_free(none);
	if (prctl(PR_SET_NO_NEW_PRIVS, 1, 0, 0, 0) < 0)
		return err_errno(err, "cannot set no_new_privs (prctl PR_SET_NO_NEW_PRIVS)");
	return 0;
}
