/* test_sandbox.c: the seccomp filters of each thread role, loaded in forked children: what they refuse and allow. */
#include "unit.h"

#include "config.h"
#include "sandbox.h"
#include "sandbox_filters.h"
#include "sandbox_rules.h"
#include "service.h"

#include <fcntl.h>
#include <pthread.h>
#include <linux/kvm.h>
#include <signal.h>
#include <stdlib.h>
#include <string.h>
#include <sys/ioctl.h>
#include <sys/mman.h>
#include <sys/socket.h>
#include <sys/un.h>
#include <sys/syscall.h>
#include <sys/wait.h>
#include <unistd.h>

/* The child ends with the raw call: a sanitizer's _exit makes calls of its own, which a filter may forbid. */
__attribute__((noreturn)) static void child_exit(int code)
{
	for (;;)
		syscall(SYS_exit_group, code);
}

enum probe { PROBE_SOCKET, PROBE_PREAD_FLUSH, PROBE_FLUSH, PROBE_EXEC_MMAP, PROBE_TTY_IOCTL, PROBE_KVM_IRQ_IOCTL, PROBE_FORK };

/*
 * Runs `probe` in a child confined as `role` with `mode`; returns its wait
 * status and what it wrote to stderr (the SIGSYS report).
 */
static int run_confined(enum sandbox_role role, enum seccomp_mode mode, enum probe probe, char *errbuf, size_t len)
{
	struct vm_config cfg;
	struct cloak_err err;
	int pipefd[2], status = -1;
	ssize_t n;
	pid_t pid;

	ck_assert_int_eq(pipe(pipefd), 0);
	pid = fork();
	ck_assert_int_ge(pid, 0);
	if (pid == 0) {
		char buf[16];
		int fd;

		dup2(pipefd[1], STDERR_FILENO);
		config_defaults(&cfg);
		cfg.seccomp = mode;
		fd = open("/dev/null", O_RDWR);
		if (sandbox_configure(&cfg, &err) < 0 || sandbox_load_filter(role, mode, &err) < 0) {
			(void)!write(STDERR_FILENO, err.msg, strlen(err.msg));
			child_exit(99);
		}
		switch (probe) {
		case PROBE_SOCKET:
			fd = socket(AF_INET, SOCK_DGRAM, 0);
			child_exit(fd >= 0 ? 0 : 98);
		case PROBE_PREAD_FLUSH:
			child_exit(pread(fd, buf, sizeof(buf), 0) == 0 && (fdatasync(fd) == 0 || 1) ? 0 : 98);
		case PROBE_FLUSH:
			child_exit(fdatasync(fd) == 0 || 1 ? 0 : 98);
		case PROBE_EXEC_MMAP:
			child_exit(mmap(NULL, 4096, PROT_READ | PROT_EXEC, MAP_PRIVATE | MAP_ANONYMOUS, -1, 0) != MAP_FAILED ? 0 : 98);
		case PROBE_TTY_IOCTL: {
			struct winsize ws;

			(void)ioctl(fd, TIOCGWINSZ, &ws);  /* fails on /dev/null: reaching the kernel is the point */
			child_exit(0);
		}
		case PROBE_KVM_IRQ_IOCTL: {
			struct kvm_irq_level l = { 0 };

			(void)ioctl(fd, KVM_IRQ_LINE, &l);
			child_exit(0);
		}
		case PROBE_FORK:
			child_exit(fork() >= 0 ? 0 : 98);
		}
		child_exit(97);
	}
	close(pipefd[1]);
	n = read(pipefd[0], errbuf, len - 1);
	errbuf[n > 0 ? n : 0] = 0;
	close(pipefd[0]);
	ck_assert_int_eq(waitpid(pid, &status, 0), pid);
	return status;
}

static void assert_refused(enum sandbox_role role, enum probe probe, const char *call)
{
	char msg[512], want[64];
	int st = run_confined(role, CLOAK_SECCOMP_ON, probe, msg, sizeof(msg));

	ck_assert_msg(WIFEXITED(st) && WEXITSTATUS(st) == 2, "role %s, %s: wait status 0x%x (%s)",
		      sandbox_role_name(role), call, st, msg);
	snprintf(want, sizeof(want), "made system call %s (", call);
	ck_assert_msg_has(msg, want);
	ck_assert_msg_has(msg, "which its filter forbids");
}

static void assert_allowed(enum sandbox_role role, enum seccomp_mode mode, enum probe probe)
{
	char msg[512];
	int st = run_confined(role, mode, probe, msg, sizeof(msg));

	ck_assert_msg(WIFEXITED(st) && WEXITSTATUS(st) == 0, "role %s, probe %d: wait status 0x%x (%s)",
		      sandbox_role_name(role), probe, st, msg);
}

START_TEST(no_role_may_open_a_socket_or_fork)
{
	enum sandbox_role r;

	for (r = 0; r < SANDBOX_NROLES; r++) {
#ifdef CLOAK_SANITIZED
		if (r == SANDBOX_MAIN)
			continue;  /* under a sanitizer the main thread's filter only logs (sandbox.c) */
#endif
		assert_refused(r, PROBE_SOCKET, "socket");
		assert_refused(r, PROBE_FORK, "clone");
	}
}
END_TEST

START_TEST(no_role_maps_executable_memory)
{
	assert_refused(SANDBOX_VCPU, PROBE_EXEC_MMAP, "mmap");
#ifndef CLOAK_SANITIZED
	assert_refused(SANDBOX_MAIN, PROBE_EXEC_MMAP, "mmap");
#endif
}
END_TEST

START_TEST(each_role_gets_what_it_needs)
{
	assert_allowed(SANDBOX_DISK, CLOAK_SECCOMP_ON, PROBE_PREAD_FLUSH);
	assert_allowed(SANDBOX_DISK, CLOAK_SECCOMP_ON, PROBE_KVM_IRQ_IOCTL);
	assert_allowed(SANDBOX_VCPU, CLOAK_SECCOMP_ON, PROBE_KVM_IRQ_IOCTL);
	assert_allowed(SANDBOX_CONSOLE_READER, CLOAK_SECCOMP_ON, PROBE_KVM_IRQ_IOCTL);
	/* The main thread restores the terminal at exit. */
	assert_allowed(SANDBOX_MAIN, CLOAK_SECCOMP_ON, PROBE_TTY_IOCTL);
}
END_TEST

START_TEST(device_threads_only_issue_their_ioctls)
{
	assert_refused(SANDBOX_DISK, PROBE_TTY_IOCTL, "ioctl");
	assert_refused(SANDBOX_VCPU, PROBE_TTY_IOCTL, "ioctl");
	assert_refused(SANDBOX_DEVICE_IO, PROBE_TTY_IOCTL, "ioctl");
	/* Only the disk workers flush an image. */
	assert_refused(SANDBOX_DEVICE_IO, PROBE_FLUSH, "fdatasync");
	assert_refused(SANDBOX_VCPU, PROBE_FLUSH, "fdatasync");
}
END_TEST

START_TEST(log_and_off_let_calls_run)
{
	assert_allowed(SANDBOX_DISK, CLOAK_SECCOMP_LOG, PROBE_SOCKET);
	assert_allowed(SANDBOX_DISK, CLOAK_SECCOMP_OFF, PROBE_SOCKET);
}
END_TEST

START_TEST(user_and_seccomp_options)
{
	struct vm_config cfg;
	struct cloak_err err;

	config_defaults(&cfg);
	ck_assert_int_eq(cfg.seccomp, CLOAK_SECCOMP_ON);
	ck_assert_int_eq(config_parse_seccomp("log", &cfg, &err), 0);
	ck_assert_int_eq(cfg.seccomp, CLOAK_SECCOMP_LOG);
	ck_assert_int_eq(config_parse_seccomp("strict", &cfg, &err), -1);
	ck_assert_msg_has(err.msg, "--seccomp: 'strict' is not a mode");
	ck_assert_int_eq(config_parse_user("65534:65533", &cfg, &err), 0);
	ck_assert(cfg.has_user);
	ck_assert_uint_eq(cfg.user_uid, 65534);
	ck_assert_uint_eq(cfg.user_gid, 65533);
	ck_assert_int_eq(config_parse_user("root", &cfg, &err), -1);
	ck_assert_msg_has(err.msg, "--user: 'root' is root");
	ck_assert_int_eq(config_parse_user("0", &cfg, &err), -1);
	ck_assert_int_eq(config_parse_user("65534:0", &cfg, &err), -1);
	ck_assert_msg_has(err.msg, "group 0");
	ck_assert_int_eq(config_parse_user("no-such-user-here", &cfg, &err), -1);
	ck_assert_msg_has(err.msg, "no user 'no-such-user-here'");
	ck_assert_int_eq(config_parse_user("65534:", &cfg, &err), -1);
	ck_assert_int_eq(config_parse_user(":1", &cfg, &err), -1);
	ck_assert_msg_has(err.msg, "is not USER[:GROUP]");
}
END_TEST

/*
 * The programs compiled at build time, with a pid written into tgkill's rule,
 * are exactly what libseccomp builds at run time for that pid: every role,
 * both modes, this build's variant (the sanitizer's calls in build-asan).
 */
static void assert_same_as_libseccomp(enum sandbox_role role, enum seccomp_mode mode, pid_t pid)
{
	static struct sock_filter built[SANDBOX_FILTER_MAX_INSNS], installed[SANDBOX_FILTER_MAX_INSNS];
	const char *what = "?";
	scmp_filter_ctx ctx;
	long want, got;
#ifdef CLOAK_SANITIZED
	const bool sanitized = true;
#else
	const bool sanitized = false;
#endif

	ctx = sandbox_rules_build(role, mode == CLOAK_SECCOMP_LOG, sanitized, (uint32_t)pid, &what);
	ck_assert_msg(ctx != NULL, "%s failed", what);
	want = sandbox_rules_export(ctx, built, ARRAY_SIZE(built));
	seccomp_release(ctx);
	ck_assert_int_gt(want, 0);
	got = sandbox_filter_program(role, mode, pid, installed, ARRAY_SIZE(installed));
	ck_assert_msg(got == want, "role %s, mode %d, pid %d: %ld instructions, libseccomp builds %ld",
		      sandbox_role_name(role), mode, (int)pid, got, want);
	for (long i = 0; i < want; i++)
		ck_assert_msg(!memcmp(&built[i], &installed[i], sizeof(built[i])),
			      "role %s, mode %d, pid %d: instruction %ld is {0x%x, %u, %u, 0x%x}, libseccomp builds "
			      "{0x%x, %u, %u, 0x%x}", sandbox_role_name(role), mode, (int)pid, i, installed[i].code,
			      installed[i].jt, installed[i].jf, installed[i].k, built[i].code, built[i].jt, built[i].jf,
			      built[i].k);
}

START_TEST(build_time_filters_match_libseccomp_at_run_time)
{
	/* This process's pid, the extremes a pid can take (pid_max is at most 2^22), and 1, which equals AF_UNIX. */
	const pid_t pids[] = { getpid(), 1, 2, 4194303 };

	for (enum sandbox_role r = 0; r < SANDBOX_NROLES; r++)
		for (size_t p = 0; p < ARRAY_SIZE(pids); p++) {
			assert_same_as_libseccomp(r, CLOAK_SECCOMP_ON, pids[p]);
			assert_same_as_libseccomp(r, CLOAK_SECCOMP_LOG, pids[p]);
		}
	ck_assert_int_eq(sandbox_filter_program(SANDBOX_VCPU, CLOAK_SECCOMP_OFF, getpid(), NULL, 0), -1);
}
END_TEST

/* tgkill may name this process only: a signal to its own thread passes, one to another process traps. */
START_TEST(tgkill_names_only_the_own_process)
{
	char msg[512];
	pid_t parent = getpid(), pid;
	int pipefd[2], st;
	ssize_t n;

	ck_assert_int_eq(pipe(pipefd), 0);
	pid = fork();
	ck_assert_int_ge(pid, 0);
	if (pid == 0) {
		struct cloak_err err;
		struct vm_config cfg;

		dup2(pipefd[1], STDERR_FILENO);
		config_defaults(&cfg);
		if (sandbox_configure(&cfg, &err) < 0 || sandbox_load_filter(SANDBOX_SIGNAL, CLOAK_SECCOMP_ON, &err) < 0)
			child_exit(99);
		/* Signal 0 checks only: to itself it succeeds; to its parent the filter traps before the kernel sees it. */
		if (syscall(SYS_tgkill, getpid(), syscall(SYS_gettid), 0) != 0)
			child_exit(98);
		syscall(SYS_tgkill, parent, parent, 0);
		child_exit(97);
	}
	close(pipefd[1]);
	n = read(pipefd[0], msg, sizeof(msg) - 1);
	msg[n > 0 ? n : 0] = 0;
	close(pipefd[0]);
	ck_assert_int_eq(waitpid(pid, &st, 0), pid);
	ck_assert_msg(WIFEXITED(st) && WEXITSTATUS(st) == 2, "wait status 0x%x (%s)", st, msg);
	ck_assert_msg_has(msg, "made system call tgkill (");
}
END_TEST

static void *enter_as_disk(void *opaque)
{
	return (void *)(uintptr_t)sandbox_thread_enter(*(enum sandbox_role *)opaque);
}

static void *stray_thread(void *opaque)
{
	char c;

	(void)!read(*(int *)opaque, &c, 1);  /* until the test closes the pipe */
	return NULL;
}

/*
 * The gate in a child: with `stray`, one more thread that never comes to the
 * gate, which the seal must notice from the process's thread count. Returns
 * the child's wait status; it exits 0 when the seal did what was expected.
 */
static int run_gate(bool stray)
{
	pid_t pid = fork();
	int st;

	ck_assert_int_ge(pid, 0);
	if (pid == 0) {
		enum sandbox_role role = SANDBOX_DISK;
		struct vm_config cfg;
		struct cloak_err err = { "" };
		pthread_t t[2], s;
		void *entered[2];
		int pipefd[2], rc;

		config_defaults(&cfg);
		cfg.seccomp = CLOAK_SECCOMP_OFF;
		if (pipe(pipefd) < 0 || sandbox_configure(&cfg, &err) < 0)
			child_exit(99);
		if (pthread_create(&t[0], NULL, enter_as_disk, &role) || pthread_create(&t[1], NULL, enter_as_disk, &role))
			child_exit(99);
		if (stray && pthread_create(&s, NULL, stray_thread, &pipefd[0]))
			child_exit(99);
		rc = sandbox_seal(&err);
		for (int i = 0; i < 2; i++)
			pthread_join(t[i], &entered[i]);
		if (stray) {
			close(pipefd[1]);
			pthread_join(s, NULL);
			child_exit(rc < 0 && strstr(err.msg, "2 of the 3 other threads reached the sandbox gate") &&
				   !entered[0] && !entered[1] ? 0 : 98);
		}
		child_exit(rc == 0 && entered[0] && entered[1] ? 0 : 98);
	}
	ck_assert_int_eq(waitpid(pid, &st, 0), pid);
	return st;
}

START_TEST(the_seal_counts_every_thread_of_the_process)
{
	int st = run_gate(false);

	ck_assert_msg(WIFEXITED(st) && WEXITSTATUS(st) == 0, "every thread at the gate: wait status 0x%x", st);
	/* A thread that never reaches the gate: the seal waits 5 s for it, then refuses. */
	st = run_gate(true);
	ck_assert_msg(WIFEXITED(st) && WEXITSTATUS(st) == 0, "a stray thread: wait status 0x%x", st);
}
END_TEST

/* sd_notify from a child confined as the main thread: systemd hears READY=1, then STOPPING=1 and the reason. */
START_TEST(main_thread_notifies_systemd_under_its_filter)
{
	struct sockaddr_un addr = { .sun_family = AF_UNIX };
	char buf[512];
	int fd = socket(AF_UNIX, SOCK_DGRAM, 0), st;
	ssize_t n;
	pid_t pid;

	ck_assert_int_ge(fd, 0);
	snprintf(addr.sun_path, sizeof(addr.sun_path), "/tmp/cloak-notify-test.%d", (int)getpid());
	unlink(addr.sun_path);
	ck_assert_int_eq(bind(fd, (struct sockaddr *)&addr, sizeof(addr)), 0);
	pid = fork();
	ck_assert_int_ge(pid, 0);
	if (pid == 0) {
		struct cloak_err err;

		setenv("NOTIFY_SOCKET", addr.sun_path, 1);
		if (sandbox_load_filter(SANDBOX_MAIN, CLOAK_SECCOMP_ON, &err) < 0)
			child_exit(99);
		service_ready();
		service_stopping("the guest powered off");
		child_exit(0);
	}
	ck_assert_int_eq(waitpid(pid, &st, 0), pid);
	ck_assert_msg(WIFEXITED(st) && WEXITSTATUS(st) == 0, "wait status 0x%x", st);
	n = recv(fd, buf, sizeof(buf) - 1, MSG_DONTWAIT);
	ck_assert_int_gt(n, 0);
	buf[n] = 0;
	ck_assert_msg_has(buf, "READY=1");
	n = recv(fd, buf, sizeof(buf) - 1, MSG_DONTWAIT);
	ck_assert_int_gt(n, 0);
	buf[n] = 0;
	ck_assert_msg_has(buf, "STOPPING=1\nSTATUS=the guest powered off");
	close(fd);
	unlink(addr.sun_path);
}
END_TEST

Suite *sandbox_suite(void)
{
	Suite *s = suite_create("sandbox");
	TCase *tc = tcase_create("filters");

	tcase_set_timeout(tc, 60);
	tcase_add_test(tc, no_role_may_open_a_socket_or_fork);
	tcase_add_test(tc, no_role_maps_executable_memory);
	tcase_add_test(tc, each_role_gets_what_it_needs);
	tcase_add_test(tc, device_threads_only_issue_their_ioctls);
	tcase_add_test(tc, log_and_off_let_calls_run);
	tcase_add_test(tc, user_and_seccomp_options);
	tcase_add_test(tc, main_thread_notifies_systemd_under_its_filter);
	tcase_add_test(tc, build_time_filters_match_libseccomp_at_run_time);
	tcase_add_test(tc, tgkill_names_only_the_own_process);
	tcase_add_test(tc, the_seal_counts_every_thread_of_the_process);
	suite_add_tcase(s, tc);
	return s;
}
