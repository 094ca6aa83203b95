/* sandbox_filters.h: every thread role's seccomp BPF program and the system call names, made at build time. */
#ifndef CLOAK_SANDBOX_FILTERS_H
#define CLOAK_SANDBOX_FILTERS_H

#include "sandbox.h"

#include <linux/filter.h>

/* The longest program the generator accepts (the kernel's limit is BPF_MAXINSNS, 4096). */
#define SANDBOX_FILTER_MAX_INSNS 1024
/* System call numbers the SIGSYS report names. */
#define SANDBOX_SYSCALL_NAMES 512
/*
 * The pid the generator builds tgkill's rule with: it must equal no other
 * constant of any program (sandbox_gen checks), so the one instruction that
 * compares with it is found and cloak writes its own pid there.
 */
#define SANDBOX_PID_MARKER 0x3ecc0b1du

struct sandbox_filter {
	const struct sock_filter *insns;
	unsigned short len;
	short pid_at;  /* the instruction whose k is the pid tgkill may name; -1: none */
};

/* [0]: forbidden calls trap (SIGSYS); [1]: they are logged and run. This build's variant (CLOAK_SANITIZED). */
extern const struct sandbox_filter sandbox_filters[2][SANDBOX_NROLES];
/*
 * The programs for the pids that make libseccomp's program differ from the
 * patched one (it merges identical comparisons: a pid equal to another
 * constant of the filter), ending with pid 0. Used in their place.
 */
struct sandbox_pid_filter {
	uint32_t pid;
	int mode;  /* the index into sandbox_filters */
	int role;
	struct sandbox_filter filter;
};
extern const struct sandbox_pid_filter sandbox_pid_filters[];
/* NULL where the number names no system call of this architecture. */
extern const char *const sandbox_syscall_names[SANDBOX_SYSCALL_NAMES];

#endif
