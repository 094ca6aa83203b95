/* test_lazylib.c: lazylib-tests, the libraries cloak opens when first needed: what a missing one says, and a present one working behind its own function names. */
#include "lazylib.h"
#include <check.h>

#include "sandbox.h"

#include <openssl/evp.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <sys/syscall.h>
#include <sys/un.h>
#include <sys/wait.h>
#include <unistd.h>
#include <systemd/sd-daemon.h>

START_TEST(missing_library_names_the_package)
{
	struct cloak_err err = { "" };

	ck_assert_int_eq(lazylib_load_soname(LAZYLIB_CRYPTO, "libcloak-test-absent.so.9", "--sev", &err), -1);
	ck_assert_msg(strstr(err.msg, "--sev needs libcloak-test-absent.so.9, which cannot be loaded (dlopen: "), "%s",
		      err.msg);
	ck_assert_msg(strstr(err.msg, "install the Debian package libssl3"), "%s", err.msg);
	ck_assert_int_eq(lazylib_load_soname(LAZYLIB_SYSTEMD, "libcloak-test-absent.so.9", "$NOTIFY_SOCKET", &err), -1);
	ck_assert_msg(strstr(err.msg, "install the Debian package libsystemd0"), "%s", err.msg);
}
END_TEST

/* A library that is there but lacks a function cloak calls is refused as a whole, naming the function. */
START_TEST(library_without_a_function_is_refused)
{
	struct cloak_err err = { "" };

	ck_assert_int_eq(lazylib_load_soname(LAZYLIB_CRYPTO, "libc.so.6", "--sev", &err), -1);
	ck_assert_msg(strstr(err.msg, "--sev needs BIO_ctrl from libc.so.6, which lacks it (dlsym: "), "%s", err.msg);
}
END_TEST

START_TEST(present_library_serves_its_functions)
{
	struct cloak_err err = { "" };
	unsigned char md[EVP_MAX_MD_SIZE];
	unsigned int len = 0;
	/* SHA-256("abc"), FIPS 180-2 appendix B.1 */
	static const unsigned char abc[32] = {
		0xba, 0x78, 0x16, 0xbf, 0x8f, 0x01, 0xcf, 0xea, 0x41, 0x41, 0x40, 0xde, 0x5d, 0xae, 0x22, 0x23,
		0xb0, 0x03, 0x61, 0xa3, 0x96, 0x17, 0x7a, 0x9c, 0xb4, 0x10, 0xff, 0x61, 0xf2, 0x00, 0x15, 0xad,
	};

	ck_assert_int_eq(lazylib_load(LAZYLIB_CRYPTO, "the test", &err), 0);
	ck_assert(lazylib_loaded(LAZYLIB_CRYPTO));
	ck_assert_int_eq(EVP_Digest("abc", 3, md, &len, EVP_sha256(), NULL), 1);
	ck_assert_uint_eq(len, 32);
	ck_assert(!memcmp(md, abc, 32));
	/* Loading again is a no-op. */
	ck_assert_int_eq(lazylib_load(LAZYLIB_CRYPTO, "the test", &err), 0);
}
END_TEST

/* sd_notify without $NOTIFY_SOCKET does nothing, and so opens nothing. */
START_TEST(sd_notify_without_socket_opens_nothing)
{
	unsetenv("NOTIFY_SOCKET");
	ck_assert_int_eq(sd_notify(0, "READY=1"), 0);
	ck_assert(!lazylib_loaded(LAZYLIB_SYSTEMD));
}
END_TEST

/*
 * As cloak run does with $NOTIFY_SOCKET: libsystemd opened before the main
 * thread's seccomp filter, which forbids opening libraries, and sd_notify
 * working under it.
 */
START_TEST(systemd_loaded_before_the_filter_notifies_under_it)
{
	struct sockaddr_un addr = { .sun_family = AF_UNIX };
	char buf[256];
	int fd = socket(AF_UNIX, SOCK_DGRAM, 0), st;
	ssize_t n;
	pid_t pid;

	ck_assert_int_ge(fd, 0);
	snprintf(addr.sun_path, sizeof(addr.sun_path), "/tmp/cloak-lazylib-test.%d", (int)getpid());
	unlink(addr.sun_path);
	ck_assert_int_eq(bind(fd, (struct sockaddr *)&addr, sizeof(addr)), 0);
	pid = fork();
	ck_assert_int_ge(pid, 0);
	if (pid == 0) {
		struct cloak_err err;

		setenv("NOTIFY_SOCKET", addr.sun_path, 1);
		if (lazylib_load(LAZYLIB_SYSTEMD, "$NOTIFY_SOCKET", &err) < 0 ||
		    sandbox_load_filter(SANDBOX_MAIN, CLOAK_SECCOMP_ON, &err) < 0)
			syscall(SYS_exit_group, 99);
		/* The raw call: a sanitizer's _exit makes calls of its own, which the filter may forbid. */
		syscall(SYS_exit_group, sd_notify(0, "READY=1") > 0 ? 0 : 98);
	}
	ck_assert_int_eq(waitpid(pid, &st, 0), pid);
	ck_assert_msg(WIFEXITED(st) && WEXITSTATUS(st) == 0, "wait status 0x%x", st);
	n = recv(fd, buf, sizeof(buf) - 1, MSG_DONTWAIT);
	ck_assert_int_gt(n, 0);
	buf[n] = 0;
	ck_assert_str_eq(buf, "READY=1");
	close(fd);
	unlink(addr.sun_path);
}
END_TEST

int main(void)
{
	Suite *s = suite_create("lazylib");
	TCase *tc = tcase_create("load");
	SRunner *sr;
	int failed;

	tcase_add_test(tc, missing_library_names_the_package);
	tcase_add_test(tc, library_without_a_function_is_refused);
	tcase_add_test(tc, present_library_serves_its_functions);
	tcase_add_test(tc, sd_notify_without_socket_opens_nothing);
	tcase_add_test(tc, systemd_loaded_before_the_filter_notifies_under_it);
	suite_add_tcase(s, tc);
	sr = srunner_create(s);
	srunner_set_tap(sr, "-");
	srunner_run_all(sr, CK_SILENT);
	failed = srunner_ntests_failed(sr);
	srunner_free(sr);
	return failed ? EXIT_FAILURE : EXIT_SUCCESS;
}
