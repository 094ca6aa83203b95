/* sandbox.h: every thread's confinement: capabilities, no_new_privs, the --user switch and its seccomp filter. */
#ifndef CLOAK_SANDBOX_H
#define CLOAK_SANDBOX_H

#include "cloak.h"
#include "config.h"

#include <linux/filter.h>
#include <sys/types.h>

/* Sanitizer builds (tests) let the sanitizer's runtime make its calls; see sandbox.c. */
#if defined(__SANITIZE_ADDRESS__) || defined(__SANITIZE_UNDEFINED__)
#define CLOAK_SANITIZED 1
#elif defined(__has_feature)
#if __has_feature(address_sanitizer) || __has_feature(undefined_behavior_sanitizer)
#define CLOAK_SANITIZED 1
#endif
#endif

/* What a thread does, which decides the system calls its seccomp filter allows (README "Sandbox"). */
enum sandbox_role {
	SANDBOX_MAIN,            /* setup, then waits for the stop and tears down */
	SANDBOX_VCPU,            /* KVM_RUN and the device code that exits call */
	SANDBOX_DEVICE_IO,       /* the epoll thread: queue kicks, tap frames, console sockets */
	SANDBOX_DISK,            /* a virtio-blk worker: reads, writes, flushes of its image */
	SANDBOX_CONSOLE_READER,  /* the COM1 reader: stdin into the UART */
	SANDBOX_SIGNAL,          /* waits for SIGINT/SIGTERM */
	SANDBOX_NROLES
};

const char *sandbox_role_name(enum sandbox_role role);

/*
 * Arms the gate: from now on every thread that calls sandbox_thread_enter
 * waits there until sandbox_seal. Called by the main thread before it
 * starts any other thread.
 */
int sandbox_configure(const struct vm_config *cfg, struct cloak_err *err);

/*
 * The first call of every thread cloak starts. Before the seal, the thread
 * empties its capability bounding set and waits; at the seal it drops its
 * capabilities, sets no_new_privs and installs its role's filter, and goes
 * on once every thread is confined. False: the launch was aborted or a
 * thread could not confine itself (a vCPU must then not run the guest).
 * Without sandbox_configure (unit tests) it only records the role.
 */
bool sandbox_thread_enter(enum sandbox_role role);

/*
 * Main thread, once every thread it needs is started and waiting: checks
 * that every thread of the process reached the gate, switches to --user's
 * ids (glibc applies setresuid on every thread), lets each thread confine
 * itself, then confines the main thread. Nothing may start a thread after.
 */
int sandbox_seal(struct cloak_err *err);

/* When the seal confined the last thread (clock_us(), before any vCPU went on); 0: not sealed. */
uint64_t sandbox_sealed_us(void);

/* A launch that fails before the seal: the waiting threads go on (without a filter) so they can be joined. */
void sandbox_abort(void);

/*
 * Builds and loads `role`'s filter on the calling thread only (the seal
 * does this; tests call it in a forked child). mode is --seccomp's.
 */
int sandbox_load_filter(enum sandbox_role role, enum seccomp_mode mode, struct cloak_err *err);

/*
 * `role`'s BPF program for `mode` (on or log) as this build installs it,
 * with `own_pid` as the one process tgkill may name, copied into `out`: its
 * length in instructions, or -1 (mode off, or more than `cap`). Tests compare
 * it with what libseccomp builds at run time (vmm/sandbox_rules.c).
 */
long sandbox_filter_program(enum sandbox_role role, enum seccomp_mode mode, pid_t own_pid, struct sock_filter *out,
			    size_t cap);

#endif
