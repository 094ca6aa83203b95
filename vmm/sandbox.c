/* sandbox.c: the gate every thread passes before the guest runs: no capabilities, no_new_privs, --user, seccomp per role. */
#include "sandbox.h"

#include "privs.h"
#include "sandbox_filters.h"

#include <errno.h>
#include <fcntl.h>
#include <linux/seccomp.h>
#include <pthread.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/prctl.h>
#include <sys/socket.h>
#include <sys/syscall.h>
#include <time.h>
#include <unistd.h>

/*
 * Why a gate: capabilities, no_new_privs and seccomp filters belong to each
 * thread, and the device threads start while cloak still needs its
 * privileges (a tap's TUNSETIFF comes after the disk workers start). So each
 * thread waits at its start until the main thread has opened everything;
 * then all confine themselves, each with its role's filter, and only then
 * does a vCPU thread enter the guest.
 */

enum gate_phase { GATE_OPEN, GATE_WAITING, GATE_RELEASED, GATE_SEALED, GATE_ABORTED };

static struct {
	pthread_mutex_t lock;
	pthread_cond_t cond;
	enum gate_phase phase;
	enum seccomp_mode mode;
	bool has_user;
	uid_t uid;
	gid_t gid;
	unsigned arrived;   /* threads waiting at the gate or past it */
	unsigned confined;  /* threads that confined themselves after the release */
	char failure[256];  /* the first thread's failure to confine itself */
} gate = { PTHREAD_MUTEX_INITIALIZER, PTHREAD_COND_INITIALIZER, GATE_OPEN, CLOAK_SECCOMP_ON, false, 0, 0, 0, 0, "" };

static _Thread_local enum sandbox_role my_role = SANDBOX_MAIN;

/* When the main thread sealed the gate (clock_us()); 0: not yet. For the timeline. */
static uint64_t sealed_at_us;

/* Test hook (tests/integration/kvm-suite.sh): the role whose thread makes one forbidden call once confined. */
static int violate_role = -1;

static const char *const role_names[SANDBOX_NROLES] = {
	[SANDBOX_MAIN] = "main",
	[SANDBOX_VCPU] = "vCPU",
	[SANDBOX_DEVICE_IO] = "device I/O",
	[SANDBOX_DISK] = "disk worker",
	[SANDBOX_CONSOLE_READER] = "console reader",
	[SANDBOX_SIGNAL] = "signal",
};

/* Thread names (comm, at most 15 bytes) so ps -L and /proc/PID/task tell the threads apart. */
static const char *const thread_names[SANDBOX_NROLES] = {
	[SANDBOX_VCPU] = "cloak-vcpu",
	[SANDBOX_DEVICE_IO] = "cloak-device-io",
	[SANDBOX_DISK] = "cloak-disk",
	[SANDBOX_CONSOLE_READER] = "cloak-com1-in",
	[SANDBOX_SIGNAL] = "cloak-signal",
};

/* The roles as the test hook names them. */
static const char *const role_keys[SANDBOX_NROLES] = {
	[SANDBOX_MAIN] = "main", [SANDBOX_VCPU] = "vcpu", [SANDBOX_DEVICE_IO] = "device-io",
	[SANDBOX_DISK] = "disk", [SANDBOX_CONSOLE_READER] = "com1-in", [SANDBOX_SIGNAL] = "signal",
};

const char *sandbox_role_name(enum sandbox_role role)
{
	return role < SANDBOX_NROLES ? role_names[role] : "?";
}

/* --- seccomp filters -------------------------------------------------------------------------------------- */

/*
 * The allowlists are in vmm/sandbox_rules.c; vmm/sandbox_gen.c compiles them
 * into BPF programs when cloak is built (sandbox_filters.h), so a launch
 * only copies a program, writes its own pid into tgkill's rule and installs
 * it: no libseccomp, no compiling on the path to the guest.
 */
long sandbox_filter_program(enum sandbox_role role, enum seccomp_mode mode, pid_t own_pid, struct sock_filter *out,
			    size_t cap)
{
	const struct sandbox_filter *f;

	if (role >= SANDBOX_NROLES || mode == CLOAK_SECCOMP_OFF)
		return -1;
	f = &sandbox_filters[mode == CLOAK_SECCOMP_LOG][role];
	for (const struct sandbox_pid_filter *p = sandbox_pid_filters; p->pid; p++)
		if (p->pid == (uint32_t)own_pid && p->mode == (mode == CLOAK_SECCOMP_LOG) && p->role == (int)role)
			f = &p->filter;
	if (f->len > cap)
		return -1;
	memcpy(out, f->insns, f->len * sizeof(*out));
	if (f->pid_at >= 0)
		out[f->pid_at].k = (uint32_t)own_pid;
	return f->len;
}

int sandbox_load_filter(enum sandbox_role role, enum seccomp_mode mode, struct cloak_err *err)
{
	struct sock_filter insns[SANDBOX_FILTER_MAX_INSNS];
	struct sock_fprog prog;
	long len;

	if (mode == CLOAK_SECCOMP_OFF)
		return 0;
#ifdef CLOAK_SANITIZED
	if (role == SANDBOX_MAIN)
		mode = CLOAK_SECCOMP_LOG;
#endif
	len = sandbox_filter_program(role, mode, getpid(), insns, ARRAY_SIZE(insns));
	if (len < 0)
		return err_set(err, "internal error: no seccomp filter for the %s thread", sandbox_role_name(role));
	prog = (struct sock_fprog){ .len = (unsigned short)len, .filter = insns };
	/* The kernel takes a filter from a thread without CAP_SYS_ADMIN only under no_new_privs (the gate sets it too). */
	if (prctl(PR_SET_NO_NEW_PRIVS, 1, 0, 0, 0) < 0)
		return err_errno(err, "cannot set no_new_privs for the %s thread's seccomp filter (prctl)",
				 sandbox_role_name(role));
	if (prctl(PR_SET_SECCOMP, SECCOMP_MODE_FILTER, &prog, 0, 0) < 0)
		return err_errno(err, "cannot install the seccomp filter of the %s thread (prctl PR_SET_SECCOMP); "
				      "--seccomp off runs without one", sandbox_role_name(role));
	return 0;
}

/* --- the SIGSYS report ------------------------------------------------------------------------------------- */

static size_t put_str(char *buf, size_t at, size_t cap, const char *s)
{
	while (*s && at + 1 < cap)
		buf[at++] = *s++;
	return at;
}

static size_t put_uint(char *buf, size_t at, size_t cap, unsigned long v)
{
	char digits[24];
	int n = 0;

	do
		digits[n++] = (char)('0' + v % 10);
	while ((v /= 10) && n < (int)sizeof(digits));
	while (n && at + 1 < cap)
		buf[at++] = digits[--n];
	return at;
}

/* Async-signal-safe: formats by hand, writes once, exits. */
static void sigsys_handler(int sig, siginfo_t *si, void *uctx)
{
	char msg[256];
	size_t n = 0;
	int nr = si->si_syscall;

	(void)sig;
	(void)uctx;
	n = put_str(msg, n, sizeof(msg), "cloak: seccomp: the ");
	n = put_str(msg, n, sizeof(msg), sandbox_role_name(my_role));
	n = put_str(msg, n, sizeof(msg), " thread made system call ");
	n = put_str(msg, n, sizeof(msg), nr >= 0 && nr < SANDBOX_SYSCALL_NAMES && sandbox_syscall_names[nr] ? sandbox_syscall_names[nr] : "?");
	n = put_str(msg, n, sizeof(msg), " (");
	n = put_uint(msg, n, sizeof(msg), (unsigned long)nr);
	n = put_str(msg, n, sizeof(msg), "), which its filter forbids; cloak stops (--seccomp log lets it run)\n");
	/* Raw system calls: a sanitizer's _exit or write wrappers may make calls the filter forbids. */
	(void)!syscall(SYS_write, STDERR_FILENO, msg, n);
	syscall(SYS_exit_group, CLOAK_EXIT_ERROR);
	for (;;)
		;
}

static int install_sigsys_report(struct cloak_err *err)
{
	struct sigaction sa = { .sa_sigaction = sigsys_handler, .sa_flags = SA_SIGINFO };

	/* The names are a table made at build time (sandbox_filters.h): the handler may not allocate. */
	sigemptyset(&sa.sa_mask);
	if (sigaction(SIGSYS, &sa, NULL) < 0)
		return err_errno(err, "sigaction(SIGSYS)");
	return 0;
}

/* --- the gate ---------------------------------------------------------------------------------------------- */

/*
 * Threads of this process, from /proc/self/status (0 when unreadable). One
 * read and a search, no stdio and no sscanf per line: the gate asks at every
 * thread's arrival, and under emulation that parsing was a visible cost.
 */
static unsigned process_threads(void)
{
	char buf[4096];
	const char *line;
	ssize_t n;
	int fd = open("/proc/self/status", O_RDONLY | O_CLOEXEC);

	if (fd < 0)
		return 0;
	n = read(fd, buf, sizeof(buf) - 1);
	close(fd);
	if (n <= 0)
		return 0;
	buf[n] = 0;
	line = strstr(buf, "\nThreads:");
	return line ? (unsigned)strtoul(line + strlen("\nThreads:"), NULL, 10) : 0;
}

int sandbox_configure(const struct vm_config *cfg, struct cloak_err *err)
{
	/* glibc reads /etc/localtime on the first gmtime_r (the CMOS clock, on a vCPU thread): read it now. */
	tzset();
	if (cfg->seccomp != CLOAK_SECCOMP_OFF && install_sigsys_report(err) < 0)
		return -1;
	/*
	 * The bounding set is per thread and a new thread inherits it, so
	 * emptying the main thread's now, before it starts any other thread,
	 * empties every thread's, once instead of once per thread. It only
	 * limits what an execve could gain: the capabilities setup still uses
	 * stay until each thread drops them at the seal.
	 */
	if (privs_drop_bounding(err) < 0)
		return -1;
	pthread_mutex_lock(&gate.lock);
	gate.mode = cfg->seccomp;
	gate.has_user = cfg->has_user;
	gate.uid = cfg->user_uid;
	gate.gid = cfg->user_gid;
	gate.arrived = gate.confined = 0;
	gate.failure[0] = 0;
	gate.phase = GATE_WAITING;
	sealed_at_us = 0;
	violate_role = -1;
	if (getenv("CLOAK_TEST_SECCOMP_VIOLATE"))
		for (int r = 0; r < SANDBOX_NROLES; r++)
			if (!strcmp(getenv("CLOAK_TEST_SECCOMP_VIOLATE"), role_keys[r]))
				violate_role = r;
	pthread_mutex_unlock(&gate.lock);
	return 0;
}

/* A thread's own confinement, after the release: capabilities, no_new_privs, its filter. */
static int confine_self(enum sandbox_role role, struct cloak_err *err)
{
	if (privs_drop_thread(err) < 0)
		return -1;
	return sandbox_load_filter(role, gate.mode, err);
}

static void note_failure(const struct cloak_err *e, enum sandbox_role role)
{
	if (!gate.failure[0])
		snprintf(gate.failure, sizeof(gate.failure), "the %s thread: %s", sandbox_role_name(role), e->msg);
}

bool sandbox_thread_enter(enum sandbox_role role)
{
	struct cloak_err e = { "" };
	bool sealed;
	int rc;

	my_role = role;
	if (thread_names[role])
		(void)prctl(PR_SET_NAME, thread_names[role], 0, 0, 0);
	pthread_mutex_lock(&gate.lock);
	if (gate.phase == GATE_OPEN || gate.phase == GATE_ABORTED) {
		sealed = gate.phase == GATE_OPEN;
		pthread_mutex_unlock(&gate.lock);
		return sealed;
	}
	if (gate.phase == GATE_SEALED) {
		/* Started after the seal (cloak does not do this): it inherited the main thread's filter; narrow it. */
		pthread_mutex_unlock(&gate.lock);
		if (confine_self(role, &e) < 0) {
			fprintf(stderr, "cloak: a %s thread started late could not confine itself: %s\n",
				sandbox_role_name(role), e.msg);
			return false;
		}
		return true;
	}
	/* Its capability bounding set is already empty: inherited from the main thread (sandbox_configure). */
	gate.arrived++;
	pthread_cond_broadcast(&gate.cond);
	while (gate.phase == GATE_WAITING)
		pthread_cond_wait(&gate.cond, &gate.lock);
	if (gate.phase != GATE_RELEASED) {
		pthread_mutex_unlock(&gate.lock);
		return false;
	}
	pthread_mutex_unlock(&gate.lock);
	rc = confine_self(role, &e);
	pthread_mutex_lock(&gate.lock);
	if (rc < 0)
		note_failure(&e, role);
	gate.confined++;
	pthread_cond_broadcast(&gate.cond);
	/* No thread goes on (no vCPU enters the guest) before every thread, the main one last, is confined. */
	while (gate.phase == GATE_RELEASED)
		pthread_cond_wait(&gate.cond, &gate.lock);
	sealed = gate.phase == GATE_SEALED;
	pthread_mutex_unlock(&gate.lock);
	if (sealed && (int)role == violate_role) {
		int fd = socket(AF_INET, SOCK_DGRAM, 0);

		if (fd >= 0)
			close(fd);
	}
	return sealed;
}

/* Waits (up to `ms`) until `done()` holds, with the gate locked. */
static bool gate_wait(bool (*done)(void), unsigned ms)
{
	struct timespec until;

	clock_gettime(CLOCK_REALTIME, &until);
	until.tv_sec += ms / 1000;
	until.tv_nsec += (long)(ms % 1000) * 1000000L;
	if (until.tv_nsec >= 1000000000L) {
		until.tv_sec++;
		until.tv_nsec -= 1000000000L;
	}
	while (!done())
		if (pthread_cond_timedwait(&gate.cond, &gate.lock, &until) == ETIMEDOUT)
			return done();
	return true;
}

static bool all_arrived(void)
{
	return gate.arrived + 1 >= process_threads();
}

static bool all_confined(void)
{
	return gate.confined == gate.arrived;
}

int sandbox_seal(struct cloak_err *err)
{
	struct cloak_err e = { "" };
	unsigned threads;
	bool sealed;

	pthread_mutex_lock(&gate.lock);
	if (gate.phase != GATE_WAITING) {
		pthread_mutex_unlock(&gate.lock);
		return err_set(err, "internal error: the sandbox was sealed twice or never configured");
	}
	/* Every thread of the process, not only those cloak counted, must be at the gate. */
	if (!gate_wait(all_arrived, 5000)) {
		threads = process_threads();
		gate.phase = GATE_ABORTED;
		pthread_cond_broadcast(&gate.cond);
		pthread_mutex_unlock(&gate.lock);
		return err_set(err, "internal error: %u of the %u other threads reached the sandbox gate; a thread "
				    "without a seccomp filter would run beside the guest", gate.arrived, threads - 1);
	}
	if (gate.has_user && privs_switch_user(gate.uid, gate.gid, err) < 0) {
		gate.phase = GATE_ABORTED;
		pthread_cond_broadcast(&gate.cond);
		pthread_mutex_unlock(&gate.lock);
		return -1;
	}
#ifdef CLOAK_SANITIZED
	/* A uid switch makes the process undumpable, and LeakSanitizer's tracer could then not attach at exit. */
	if (gate.has_user)
		(void)prctl(PR_SET_DUMPABLE, 1, 0, 0, 0);
#endif
	gate.phase = GATE_RELEASED;
	pthread_cond_broadcast(&gate.cond);
	gate_wait(all_confined, 5000);
	if (!all_confined() && !gate.failure[0])
		snprintf(gate.failure, sizeof(gate.failure), "%u thread(s) did not confine themselves in 5 s",
			 gate.arrived - gate.confined);
	if (!gate.failure[0] && confine_self(SANDBOX_MAIN, &e) < 0)
		note_failure(&e, SANDBOX_MAIN);
	sealed = !gate.failure[0];
	if (sealed)
		sealed_at_us = clock_us();
	gate.phase = sealed ? GATE_SEALED : GATE_ABORTED;
	pthread_cond_broadcast(&gate.cond);
	pthread_mutex_unlock(&gate.lock);
	if (!sealed)
		return err_set(err, "cannot confine every thread: %s", gate.failure);
	return 0;
}

uint64_t sandbox_sealed_us(void)
{
	return sealed_at_us;
}

void sandbox_abort(void)
{
	pthread_mutex_lock(&gate.lock);
	if (gate.phase == GATE_WAITING) {
		gate.phase = GATE_ABORTED;
		pthread_cond_broadcast(&gate.cond);
	}
	pthread_mutex_unlock(&gate.lock);
}
