/* sandbox.c: the gate every thread passes before the guest runs: no capabilities, no_new_privs, --user, seccomp per role. */
#include "sandbox.h"

#include "privs.h"

#include <errno.h>
#include <linux/kvm.h>
#include <pthread.h>
#include <seccomp.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/mman.h>
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

/* System call names for the SIGSYS report, resolved before any filter (the handler may not allocate). */
#define SYSCALL_NAMES 512
static const char *syscall_names[SYSCALL_NAMES];

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

/* --- seccomp allowlists ------------------------------------------------------------------------------------ */

struct allow {
	int nr;
	int ioctl_set;  /* for ioctl: which request list (0: any request) */
};

/* What every thread does: locks, memory for malloc, stderr, its own exit, and the SIGSYS report. */
static const int base_calls[] = {
	SCMP_SYS(futex), SCMP_SYS(read), SCMP_SYS(write), SCMP_SYS(close), SCMP_SYS(exit), SCMP_SYS(exit_group),
	SCMP_SYS(rt_sigreturn), SCMP_SYS(rt_sigprocmask), SCMP_SYS(restart_syscall), SCMP_SYS(clock_gettime),
	SCMP_SYS(clock_nanosleep), SCMP_SYS(nanosleep), SCMP_SYS(sched_yield), SCMP_SYS(getpid), SCMP_SYS(gettid),
	SCMP_SYS(brk), SCMP_SYS(munmap), SCMP_SYS(madvise), SCMP_SYS(fstat), SCMP_SYS(newfstatat),
	SCMP_SYS(getrandom),
};

static const int vcpu_calls[] = { SCMP_SYS(ioctl), SCMP_SYS(sendto), SCMP_SYS(writev) };
static const int device_io_calls[] = {
	SCMP_SYS(ioctl), SCMP_SYS(epoll_wait), SCMP_SYS(epoll_pwait), SCMP_SYS(epoll_ctl), SCMP_SYS(accept4),
	SCMP_SYS(recvfrom), SCMP_SYS(sendto), SCMP_SYS(readv), SCMP_SYS(writev), SCMP_SYS(shutdown),
};
static const int disk_calls[] = {
	SCMP_SYS(ioctl), SCMP_SYS(pread64), SCMP_SYS(pwrite64), SCMP_SYS(preadv), SCMP_SYS(pwritev),
	SCMP_SYS(fdatasync), SCMP_SYS(fsync), SCMP_SYS(fallocate),
};
static const int console_reader_calls[] = { SCMP_SYS(ioctl), SCMP_SYS(poll), SCMP_SYS(ppoll) };
static const int signal_calls[] = { SCMP_SYS(ioctl), SCMP_SYS(rt_sigtimedwait), SCMP_SYS(tgkill) };
/*
 * The main thread runs no guest-driven code once the guest runs: it waits
 * for the stop, then tears down (KVM and PSP fds, the terminal, the timeline
 * file, /proc/self/status and mincore for the memory figures) and tells
 * systemd (sd_notify: a Unix datagram socket). It may not start a thread
 * or a process, nor open any other socket.
 */
static const int main_calls[] = {
	SCMP_SYS(ioctl), SCMP_SYS(tgkill), SCMP_SYS(openat), SCMP_SYS(open), SCMP_SYS(lseek), SCMP_SYS(fcntl),
	SCMP_SYS(fsync), SCMP_SYS(fdatasync), SCMP_SYS(rename), SCMP_SYS(renameat), SCMP_SYS(renameat2),
	SCMP_SYS(unlink), SCMP_SYS(unlinkat), SCMP_SYS(fchmod), SCMP_SYS(epoll_ctl), SCMP_SYS(rt_sigaction),
	SCMP_SYS(writev), SCMP_SYS(mremap), SCMP_SYS(shutdown), SCMP_SYS(rt_sigtimedwait), SCMP_SYS(getuid),
	SCMP_SYS(geteuid), SCMP_SYS(mincore), SCMP_SYS(munlock), SCMP_SYS(getgid), SCMP_SYS(getegid),
	SCMP_SYS(socket), SCMP_SYS(connect), SCMP_SYS(sendmsg), SCMP_SYS(sendto), SCMP_SYS(setsockopt),
	SCMP_SYS(getsockopt),
};

/*
 * Sanitizer builds (tests under ASan+UBSan) run the sanitizer's runtime in
 * every thread: alternate signal stacks at thread exit, /proc reads. And at
 * exit LeakSanitizer clones a tracer from the main thread that ptraces the
 * others; it inherits the main thread's filter, so there that filter only
 * logs (sandbox_load_filter). Never in a plain build.
 */
#ifdef CLOAK_SANITIZED
static const int sanitizer_calls[] = {
	SCMP_SYS(sigaltstack), SCMP_SYS(rt_sigaction), SCMP_SYS(getpid), SCMP_SYS(gettid), SCMP_SYS(sched_getaffinity),
	SCMP_SYS(openat), SCMP_SYS(open), SCMP_SYS(readlink), SCMP_SYS(readlinkat), SCMP_SYS(getdents64),
	SCMP_SYS(lseek), SCMP_SYS(pread64), SCMP_SYS(uname), SCMP_SYS(prctl), SCMP_SYS(getppid),
};
#endif

/* The ioctls a thread that runs device code may issue: interrupts, and what a vCPU needs. */
static const unsigned long device_ioctls[] = { KVM_IRQ_LINE, KVM_IRQFD, KVM_SET_GSI_ROUTING };
/*
 * KVM_SET_USER_MEMORY_REGION: under the simulated PSP a guest's KVM_HC_MAP_GPA_RANGE changes the memslots
 * of the shared view (vmm/sev/sim_memview.c) on the vCPU thread that took the exit.
 */
static const unsigned long vcpu_ioctls[] = {
	KVM_RUN, KVM_GET_REGS, KVM_IRQ_LINE, KVM_IRQFD, KVM_SET_GSI_ROUTING, KVM_IOEVENTFD, KVM_MEMORY_ENCRYPT_OP,
	KVM_SET_USER_MEMORY_REGION,
};

struct role_list {
	const int *calls;
	size_t ncalls;
	const unsigned long *ioctls;  /* NULL: any ioctl */
	size_t nioctls;
};

#define LIST(a) a, ARRAY_SIZE(a)
static const struct role_list role_lists[SANDBOX_NROLES] = {
	[SANDBOX_MAIN] = { LIST(main_calls), NULL, 0 },
	[SANDBOX_VCPU] = { LIST(vcpu_calls), LIST(vcpu_ioctls) },
	[SANDBOX_DEVICE_IO] = { LIST(device_io_calls), LIST(device_ioctls) },
	[SANDBOX_DISK] = { LIST(disk_calls), LIST(device_ioctls) },
	[SANDBOX_CONSOLE_READER] = { LIST(console_reader_calls), LIST(device_ioctls) },
	[SANDBOX_SIGNAL] = { LIST(signal_calls), LIST(device_ioctls) },
};

static int add_rule(scmp_filter_ctx ctx, int nr, unsigned n, const struct scmp_arg_cmp *cmp, struct cloak_err *err)
{
	int rc = seccomp_rule_add_array(ctx, SCMP_ACT_ALLOW, nr, n, cmp);

	if (rc < 0) {
		errno = -rc;
		return err_errno(err, "cannot build the seccomp filter (seccomp_rule_add for system call %d)", nr);
	}
	return 0;
}

int sandbox_load_filter(enum sandbox_role role, enum seccomp_mode mode, struct cloak_err *err)
{
	const struct role_list *l = &role_lists[role];
	/* Memory may not become executable: nothing in cloak maps code once running. */
	struct scmp_arg_cmp no_exec = SCMP_A2(SCMP_CMP_MASKED_EQ, PROT_EXEC, 0);
	struct scmp_arg_cmp own_process = SCMP_A0(SCMP_CMP_EQ, (scmp_datum_t)getpid());
	scmp_filter_ctx ctx;
	size_t i;
	int rc;

	if (mode == CLOAK_SECCOMP_OFF)
		return 0;
#ifdef CLOAK_SANITIZED
	if (role == SANDBOX_MAIN)
		mode = CLOAK_SECCOMP_LOG;
#endif
	ctx = seccomp_init(mode == CLOAK_SECCOMP_LOG ? SCMP_ACT_LOG : SCMP_ACT_TRAP);
	if (!ctx)
		return err_set(err, "cannot build the seccomp filter (seccomp_init)");
	for (i = 0; i < ARRAY_SIZE(base_calls); i++)
		if (add_rule(ctx, base_calls[i], 0, NULL, err) < 0)
			goto fail;
	if (add_rule(ctx, SCMP_SYS(mmap), 1, &no_exec, err) < 0 || add_rule(ctx, SCMP_SYS(mprotect), 1, &no_exec, err) < 0)
		goto fail;
#ifdef CLOAK_SANITIZED
	for (i = 0; i < ARRAY_SIZE(sanitizer_calls); i++)
		if (add_rule(ctx, sanitizer_calls[i], 0, NULL, err) < 0)
			goto fail;
#endif
	for (i = 0; i < l->ncalls; i++) {
		if (l->calls[i] == SCMP_SYS(ioctl) && l->ioctls) {
			size_t j;

			/* The request is an unsigned int in the kernel: compare its low 32 bits. */
			for (j = 0; j < l->nioctls; j++) {
				struct scmp_arg_cmp req = SCMP_A1(SCMP_CMP_MASKED_EQ, 0xffffffffu, l->ioctls[j]);

				if (add_rule(ctx, SCMP_SYS(ioctl), 1, &req, err) < 0)
					goto fail;
			}
			continue;
		}
		if (l->calls[i] == SCMP_SYS(socket)) {
			struct scmp_arg_cmp unix_only = SCMP_A0(SCMP_CMP_EQ, AF_UNIX);

			if (add_rule(ctx, SCMP_SYS(socket), 1, &unix_only, err) < 0)
				goto fail;
			continue;
		}
		if (l->calls[i] == SCMP_SYS(tgkill)) {
			/* Signals to its own threads only (the vCPU kick, the signal thread's wake-up). */
			if (add_rule(ctx, SCMP_SYS(tgkill), 1, &own_process, err) < 0)
				goto fail;
			continue;
		}
		if (add_rule(ctx, l->calls[i], 0, NULL, err) < 0)
			goto fail;
	}
	rc = seccomp_load(ctx);
	if (rc < 0) {
		errno = -rc;
		err_errno(err, "cannot install the seccomp filter of the %s thread (seccomp_load); --seccomp off runs "
			       "without one", sandbox_role_name(role));
		goto fail;
	}
	seccomp_release(ctx);
	return 0;
fail:
	seccomp_release(ctx);
	return -1;
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
	n = put_str(msg, n, sizeof(msg), nr >= 0 && nr < SYSCALL_NAMES && syscall_names[nr] ? syscall_names[nr] : "?");
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
	int nr;

	for (nr = 0; nr < SYSCALL_NAMES; nr++)
		if (!syscall_names[nr])
			syscall_names[nr] = seccomp_syscall_resolve_num_arch(SCMP_ARCH_NATIVE, nr);
	sigemptyset(&sa.sa_mask);
	if (sigaction(SIGSYS, &sa, NULL) < 0)
		return err_errno(err, "sigaction(SIGSYS)");
	return 0;
}

/* --- the gate ---------------------------------------------------------------------------------------------- */

/* Threads of this process, from /proc/self/status (0 when unreadable). */
static unsigned process_threads(void)
{
	FILE *f = fopen("/proc/self/status", "r");
	char line[128];
	unsigned n = 0;

	if (!f)
		return 0;
	while (fgets(line, sizeof(line), f))
		if (sscanf(line, "Threads: %u", &n) == 1)
			break;
	fclose(f);
	return n;
}

int sandbox_configure(const struct vm_config *cfg, struct cloak_err *err)
{
	/* glibc reads /etc/localtime on the first gmtime_r (the CMOS clock, on a vCPU thread): read it now. */
	tzset();
	if (cfg->seccomp != CLOAK_SECCOMP_OFF && install_sigsys_report(err) < 0)
		return -1;
	pthread_mutex_lock(&gate.lock);
	gate.mode = cfg->seccomp;
	gate.has_user = cfg->has_user;
	gate.uid = cfg->user_uid;
	gate.gid = cfg->user_gid;
	gate.arrived = gate.confined = 0;
	gate.failure[0] = 0;
	gate.phase = GATE_WAITING;
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
	gate.arrived++;
	if (privs_drop_bounding(&e) < 0)
		note_failure(&e, role);
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
	if (privs_drop_bounding(err) < 0 || (gate.has_user && privs_switch_user(gate.uid, gate.gid, err) < 0)) {
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
	gate.phase = sealed ? GATE_SEALED : GATE_ABORTED;
	pthread_cond_broadcast(&gate.cond);
	pthread_mutex_unlock(&gate.lock);
	if (!sealed)
		return err_set(err, "cannot confine every thread: %s", gate.failure);
	return 0;
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
