/* sandbox_rules.c: each thread role's seccomp allowlist, built with libseccomp (at build time, by sandbox_gen). */
#include "sandbox_rules.h"

#include <errno.h>
#include <linux/kvm.h>
#include <stdio.h>
#include <sys/mman.h>
#include <sys/socket.h>
#include <unistd.h>

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
static const int sanitizer_calls[] = {
	SCMP_SYS(sigaltstack), SCMP_SYS(rt_sigaction), SCMP_SYS(getpid), SCMP_SYS(gettid), SCMP_SYS(sched_getaffinity),
	SCMP_SYS(openat), SCMP_SYS(open), SCMP_SYS(readlink), SCMP_SYS(readlinkat), SCMP_SYS(getdents64),
	SCMP_SYS(lseek), SCMP_SYS(pread64), SCMP_SYS(uname), SCMP_SYS(prctl), SCMP_SYS(getppid),
};

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

static bool allow(scmp_filter_ctx ctx, int nr, unsigned n, const struct scmp_arg_cmp *cmp, const char **what)
{
	int rc = seccomp_rule_add_array(ctx, SCMP_ACT_ALLOW, nr, n, cmp);

	if (rc < 0) {
		errno = -rc;
		*what = "seccomp_rule_add";
		return false;
	}
	return true;
}

static bool allow_all(scmp_filter_ctx ctx, const int *calls, size_t n, const char **what)
{
	for (size_t i = 0; i < n; i++)
		if (!allow(ctx, calls[i], 0, NULL, what))
			return false;
	return true;
}

/* One role's own calls; ioctl, socket and tgkill only with the arguments the role needs. */
static bool allow_role(scmp_filter_ctx ctx, const struct role_list *l, uint32_t own_pid, const char **what)
{
	for (size_t i = 0; i < l->ncalls; i++) {
		int nr = l->calls[i];

		if (nr == SCMP_SYS(ioctl) && l->ioctls) {
			/* The request is an unsigned int in the kernel: compare its low 32 bits. */
			for (size_t j = 0; j < l->nioctls; j++) {
				struct scmp_arg_cmp req = SCMP_A1(SCMP_CMP_MASKED_EQ, 0xffffffffu, l->ioctls[j]);

				if (!allow(ctx, nr, 1, &req, what))
					return false;
			}
		} else if (nr == SCMP_SYS(socket)) {
			struct scmp_arg_cmp unix_only = SCMP_A0(SCMP_CMP_EQ, AF_UNIX);

			if (!allow(ctx, nr, 1, &unix_only, what))
				return false;
		} else if (nr == SCMP_SYS(tgkill)) {
			/* Signals to its own threads only (the vCPU kick, the signal thread's wake-up). */
			struct scmp_arg_cmp own_process = SCMP_A0(SCMP_CMP_EQ, (scmp_datum_t)own_pid);

			if (!allow(ctx, nr, 1, &own_process, what))
				return false;
		} else if (!allow(ctx, nr, 0, NULL, what)) {
			return false;
		}
	}
	return true;
}

scmp_filter_ctx sandbox_rules_build(enum sandbox_role role, bool log, bool sanitized, uint32_t own_pid,
				    const char **what)
{
	/* Memory may not become executable: nothing in cloak maps code once running. */
	struct scmp_arg_cmp no_exec = SCMP_A2(SCMP_CMP_MASKED_EQ, PROT_EXEC, 0);
	scmp_filter_ctx ctx;

	if (role >= SANDBOX_NROLES) {
		errno = EINVAL;
		*what = "sandbox_rules_build";
		return NULL;
	}
	ctx = seccomp_init(log ? SCMP_ACT_LOG : SCMP_ACT_TRAP);
	if (!ctx) {
		errno = EINVAL;
		*what = "seccomp_init";
		return NULL;
	}
	if (allow_all(ctx, base_calls, ARRAY_SIZE(base_calls), what) &&
	    allow(ctx, SCMP_SYS(mmap), 1, &no_exec, what) && allow(ctx, SCMP_SYS(mprotect), 1, &no_exec, what) &&
	    (!sanitized || allow_all(ctx, sanitizer_calls, ARRAY_SIZE(sanitizer_calls), what)) &&
	    allow_role(ctx, &role_lists[role], own_pid, what))
		return ctx;
	seccomp_release(ctx);
	return NULL;
}

long sandbox_rules_export(scmp_filter_ctx ctx, struct sock_filter *out, size_t cap)
{
	FILE *f = tmpfile();
	long len = -1;
	int rc;

	if (!f)
		return -1;
	rc = seccomp_export_bpf(ctx, fileno(f));
	if (rc < 0) {
		errno = -rc;
	} else if (fseek(f, 0, SEEK_END) == 0 && ftell(f) % sizeof(*out) == 0 &&
		   (size_t)ftell(f) / sizeof(*out) <= cap) {
		len = ftell(f) / (long)sizeof(*out);
		rewind(f);
		if (fread(out, sizeof(*out), (size_t)len, f) != (size_t)len)
			len = -1;
	} else {
		errno = EFBIG;
	}
	fclose(f);
	return len;
}
