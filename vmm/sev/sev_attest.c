/* sev_attest.c: the guest owner's side of the launch as cloak sees it: --attest-cmd, its reply, the secret's target. */
#include "sev/sev.h"

#include <errno.h>
#include <fcntl.h>
#include <linux/capability.h>
#include <linux/close_range.h>
#include <sched.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/prctl.h>
#include <sys/syscall.h>
#include <sys/wait.h>
#include <unistd.h>

#define ATTEST_OUT_MAX (64 * 1024)
/* What the guest's first page tables map (boot_x86.c): one page directory of 2 MiB pages per GiB. */
#define IDENTITY_MAP_END ((uint64_t)(PLAN_PT_PAGES - 2) * GiB)

int sev_secret_target_check(const struct launch_plan *plan, bool hugepages, uint64_t gpa, size_t len,
			    struct cloak_err *err)
{
	uint64_t page = hugepages ? 2 * MiB : PAGE_SIZE, at, size;
	const char *what;
	unsigned i;

	if (gpa % 16)
		return err_set(err, "--attest-cmd: SECRET_GPA 0x%llx is not 16-byte aligned", (unsigned long long)gpa);
	if (!plan_in_ram(plan, gpa, len))
		return err_set(err, "--attest-cmd: the secret (0x%llx+%zu) is not inside guest RAM",
			       (unsigned long long)gpa, len);
	if (gpa + len > IDENTITY_MAP_END)
		return err_set(err, "--attest-cmd: the secret (0x%llx+%zu) lies above 4 GiB, outside the identity map the "
				    "guest starts on, so the guest could not read it before building page tables of its "
				    "own; put it below 4 GiB", (unsigned long long)gpa, len);
	if (plan->dma_size && gpa < plan->dma_gpa + plan->dma_size && plan->dma_gpa < gpa + len)
		return err_set(err, "--attest-cmd: the secret (0x%llx+%zu) would land in the shared DMA window "
				    "(0x%llx+0x%llx), which the host can read; put it in private guest memory",
			       (unsigned long long)gpa, len, (unsigned long long)plan->dma_gpa,
			       (unsigned long long)plan->dma_size);
	if (gpa < PLAN_STACK_TOP && PLAN_STACK_BOTTOM < gpa + len)
		return err_set(err, "--attest-cmd: the secret (0x%llx+%zu) would land in the boot stack (0x%llx-0x%llx), "
				    "which the guest's first calls overwrite; put it elsewhere", (unsigned long long)gpa,
			       len, (unsigned long long)PLAN_STACK_BOTTOM, (unsigned long long)PLAN_STACK_TOP);
	if (gpa % page + len > page)
		return err_set(err, "--attest-cmd: the secret (0x%llx+%zu) crosses a %s page boundary; KVM needs its "
				    "pages physically contiguous, which only one page guarantees; move it%s",
			       (unsigned long long)gpa, len, hugepages ? "2 MiB" : "4 KiB",
			       hugepages ? "" : " or run with --hugepages");
	if ((what = plan_verifier_conflict(plan, gpa, len, &at, &size)))
		return err_set(err, "--attest-cmd: the secret (0x%llx+%zu) would land in %s (0x%llx+0x%llx); put it "
				    "in free guest memory", (unsigned long long)gpa, len, what, (unsigned long long)at,
			       (unsigned long long)size);
	for (i = 0; i < plan->nregions; i++) {
		const struct plan_region *r = &plan->regions[i];
		uint64_t sgpa, slen;

		sev_region_span(r, &sgpa, &slen);
		if (gpa < sgpa + slen && sgpa < gpa + len)
			return err_set(err, "--attest-cmd: the secret (0x%llx+%zu) would overwrite %s (0x%llx+0x%llx); "
					    "put it in free guest memory", (unsigned long long)gpa, len, r->name,
				       (unsigned long long)sgpa, (unsigned long long)slen);
	}
	return 0;
}

void sev_attest_reply_free(struct sev_attest_reply *r)
{
	free(r->payload);
	memset(r, 0, sizeof(*r));
}

int sev_attest_parse(const char *out, size_t len, struct sev_attest_reply *r, struct cloak_err *err)
{
	bool has_hdr = false, has_gpa = false;
	size_t pos = 0;
	unsigned lineno = 0;

	memset(r, 0, sizeof(*r));
	while (pos < len) {
		const char *line = out + pos, *nl = memchr(line, '\n', len - pos);
		size_t n = nl ? (size_t)(nl - line) : len - pos;
		const char *v;
		size_t vlen;

		pos += n + (nl ? 1 : 0);
		lineno++;
		while (n && (line[n - 1] == '\r' || line[n - 1] == ' ' || line[n - 1] == '\t'))
			n--;
		while (n && (*line == ' ' || *line == '\t')) {
			line++;
			n--;
		}
		if (n == 0 || *line == '#')
			continue;
		v = memchr(line, '=', n);
		if (!v)
			goto bad;
		vlen = n - (size_t)(v + 1 - line);
		if ((size_t)(v - line) == 13 && !memcmp(line, "SECRET_HEADER", 13)) {
			uint8_t *h;
			size_t hl;

			if (sev_b64_decode(v + 1, vlen, &h, &hl) < 0 || hl != SEV_SECRET_HDR_LEN) {
				free(h);
				sev_attest_reply_free(r);
				return err_set(err, "--attest-cmd output line %u: SECRET_HEADER must be base64 of the %u-byte "
						    "secret header (cloak-owner secret build writes it)", lineno,
					       SEV_SECRET_HDR_LEN);
			}
			memcpy(r->header, h, SEV_SECRET_HDR_LEN);
			free(h);
			has_hdr = true;
		} else if ((size_t)(v - line) == 14 && !memcmp(line, "SECRET_PAYLOAD", 14)) {
			free(r->payload);
			r->payload = NULL;
			if (sev_b64_decode(v + 1, vlen, &r->payload, &r->payload_len) < 0 || r->payload_len == 0 ||
			    r->payload_len % 16 || r->payload_len > SEV_SECRET_MAX) {
				sev_attest_reply_free(r);
				return err_set(err, "--attest-cmd output line %u: SECRET_PAYLOAD must be base64 of the "
						    "encrypted secret, a non-zero multiple of 16 bytes, at most %u", lineno,
					       SEV_SECRET_MAX);
			}
		} else if ((size_t)(v - line) == 10 && !memcmp(line, "SECRET_GPA", 10)) {
			char num[32];
			char *end;

			if (vlen == 0 || vlen >= sizeof(num))
				goto bad;
			memcpy(num, v + 1, vlen);
			num[vlen] = 0;
			errno = 0;
			r->gpa = strtoull(num, &end, 0);
			if (errno || *end || num[0] == '-')
				goto bad;
			has_gpa = true;
		} else {
			goto bad;
		}
	}
	if (!has_hdr && !r->payload && !has_gpa)
		return 0;
	if (!has_hdr || !r->payload || !has_gpa) {
		sev_attest_reply_free(r);
		return err_set(err, "--attest-cmd output has %s but lacks %s; a secret needs SECRET_HEADER, "
				    "SECRET_PAYLOAD and SECRET_GPA", has_hdr ? "SECRET_HEADER" : r->payload ?
				    "SECRET_PAYLOAD" : "SECRET_GPA",
			       !has_hdr ? "SECRET_HEADER" : !r->payload ? "SECRET_PAYLOAD" : "SECRET_GPA");
	}
	r->has_secret = true;
	return 0;
bad:
	sev_attest_reply_free(r);
	return err_set(err, "--attest-cmd output line %u is not understood; the command prints nothing (no secret) "
			    "or the lines SECRET_HEADER=<base64>, SECRET_PAYLOAD=<base64> and SECRET_GPA=<address>",
		       lineno);
}

/*
 * What the attest command's child does between clone and exec. It shares
 * cloak's memory (CLONE_VM, as posix_spawn does: a fork would copy the pages
 * REG_REGION pinned), so it makes system calls only: no malloc, no locks.
 */
struct attest_child {
	const char *cmd;
	char **envp;
	int out_fd;     /* the pipe's write end: the command's stdout */
	int err_fd;     /* CLOEXEC pipe: the child writes its errno here when a step fails */
	const char *step;
};

/* The child runs on a stack of our own making, which the address sanitizer cannot follow. */
#define ATTEST_CHILD __attribute__((no_sanitize_address))

ATTEST_CHILD static void attest_child_fail(struct attest_child *c, const char *step)
{
	int e = errno;

	c->step = step;  /* shared memory: the parent reads it after the child is gone */
	if (write(c->err_fd, &e, sizeof(e)) < 0)
		_exit(127);
	_exit(127);
}

ATTEST_CHILD static int attest_child_main(void *arg)
{
	struct attest_child *c = arg;
	struct __user_cap_header_struct hdr = { .version = _LINUX_CAPABILITY_VERSION_3, .pid = 0 };
	struct __user_cap_data_struct none[_LINUX_CAPABILITY_U32S_3];
	struct sigaction dfl;
	sigset_t empty;
	int fd, cap;

	if (dup2(c->out_fd, 1) < 0)
		attest_child_fail(c, "dup2 (stdout)");
	fd = open("/dev/null", O_RDONLY);
	if (fd < 0 || dup2(fd, 0) < 0)
		attest_child_fail(c, "open /dev/null (stdin)");
	/* Every inherited descriptor from 3 on is gone at exec; the error pipe stays until then. */
	if (syscall(SYS_close_range, 3u, ~0u, CLOSE_RANGE_CLOEXEC) < 0) {
		for (fd = 3; fd < 65536; fd++)
			if (fd != c->err_fd)
				close(fd);
	}
	/*
	 * No capabilities in any set. The bounding set needs CAP_SETPCAP to shrink:
	 * without it (cloak not root) EPERM is fine, because no_new_privs below
	 * keeps exec from granting anything beyond the empty permitted set.
	 */
	for (cap = 0; cap <= 63; cap++)
		if (prctl(PR_CAPBSET_READ, cap, 0, 0, 0) == 1 && prctl(PR_CAPBSET_DROP, cap, 0, 0, 0) < 0 &&
		    errno != EPERM)
			attest_child_fail(c, "prctl(PR_CAPBSET_DROP)");
	if (prctl(PR_CAP_AMBIENT, PR_CAP_AMBIENT_CLEAR_ALL, 0, 0, 0) < 0 && errno != EINVAL)
		attest_child_fail(c, "prctl(PR_CAP_AMBIENT_CLEAR_ALL)");
	memset(none, 0, sizeof(none));
	if (syscall(SYS_capset, &hdr, none) < 0)
		attest_child_fail(c, "capset");
	if (prctl(PR_SET_NO_NEW_PRIVS, 1, 0, 0, 0) < 0)
		attest_child_fail(c, "prctl(PR_SET_NO_NEW_PRIVS)");
	/* cloak blocks SIGINT/SIGTERM in its threads; the command gets the ordinary defaults. */
	memset(&dfl, 0, sizeof(dfl));
	dfl.sa_handler = SIG_DFL;
	sigaction(SIGPIPE, &dfl, NULL);
	sigemptyset(&empty);
	sigprocmask(SIG_SETMASK, &empty, NULL);
	execve("/bin/sh", (char *[]){ "sh", "-c", (char *)c->cmd, NULL }, c->envp);
	attest_child_fail(c, "execve /bin/sh");
	return 127;
}

/* The command's whole environment: PATH and the protocol's variables, nothing of cloak's own. */
#define ATTEST_PATH "PATH=/usr/bin:/bin"

int sev_attest_run(const struct sev_launch *sl, const char *b64, char **out, size_t *outlen, struct cloak_err *err)
{
	char vars[8][160];
	char *mvar = NULL, *envp[11];
	size_t i, cap = ATTEST_OUT_MAX, got = 0;
	bool too_long = false;
	int pipefd[2] = { -1, -1 }, errpipe[2] = { -1, -1 }, status, rc = -1, child_errno = 0;
	struct attest_child child;
	char *buf = NULL, *stack = NULL;
	const size_t stack_size = 64 * 1024;
	pid_t pid;
	ssize_t nerr;

	mvar = malloc(strlen(b64) + 32);
	buf = malloc(cap + 1);
	stack = malloc(stack_size);
	if (!mvar || !buf || !stack) {
		err_set(err, "out of memory");
		goto out;
	}
	sprintf(mvar, "CLOAK_SEV_MEASUREMENT=%s", b64);
	snprintf(vars[0], sizeof(vars[0]), "CLOAK_SEV_API_MAJOR=%u", sl->status.api_major);
	snprintf(vars[1], sizeof(vars[1]), "CLOAK_SEV_API_MINOR=%u", sl->status.api_minor);
	snprintf(vars[2], sizeof(vars[2]), "CLOAK_SEV_BUILD=%u", sl->status.build);
	snprintf(vars[3], sizeof(vars[3]), "CLOAK_SEV_POLICY=0x%x", sl->cfg->sev_policy);
	snprintf(vars[4], sizeof(vars[4]), "CLOAK_SEV_CBIT=%d", sl->psp->cbit);
	snprintf(vars[5], sizeof(vars[5]), "CLOAK_SEV_BACKEND=%s", sl->psp->name);
	snprintf(vars[6], sizeof(vars[6]), "CLOAK_SEV_HANDLE=%u", sl->handle);
	envp[0] = (char *)ATTEST_PATH;
	envp[1] = mvar;
	for (i = 0; i < 7; i++)
		envp[2 + i] = vars[i];
	envp[9] = NULL;

	if (pipe2(pipefd, O_CLOEXEC) < 0 || pipe2(errpipe, O_CLOEXEC) < 0) {
		err_errno(err, "--attest-cmd: pipe");
		goto out;
	}
	child = (struct attest_child){ .cmd = sl->cfg->sev_attest_cmd, .envp = envp, .out_fd = pipefd[1],
				       .err_fd = errpipe[1], .step = NULL };
	/* CLONE_VFORK: cloak waits here until the child has exec'd or failed, so `child` stays valid. */
	pid = clone(attest_child_main, stack + stack_size, CLONE_VM | CLONE_VFORK | SIGCHLD, &child);
	close(pipefd[1]);
	pipefd[1] = -1;
	close(errpipe[1]);
	errpipe[1] = -1;
	if (pid < 0) {
		err_errno(err, "--attest-cmd: clone");
		goto out;
	}
	nerr = read(errpipe[0], &child_errno, sizeof(child_errno));
	if (nerr == (ssize_t)sizeof(child_errno)) {
		while (waitpid(pid, &status, 0) < 0 && errno == EINTR)
			;
		errno = child_errno;
		err_errno(err, "--attest-cmd: cannot start it without privileges: %s failed",
			  child.step ? child.step : "a step");
		goto out;
	}
	for (;;) {
		char tmp[4096];
		ssize_t n = read(pipefd[0], tmp, sizeof(tmp));

		if (n < 0 && errno == EINTR)
			continue;
		if (n <= 0)
			break;
		if (got + (size_t)n > cap) {
			too_long = true;  /* keep draining, so the command is not stuck on a full pipe */
			continue;
		}
		memcpy(buf + got, tmp, (size_t)n);
		got += (size_t)n;
	}
	while (waitpid(pid, &status, 0) < 0)
		if (errno != EINTR) {
			err_errno(err, "--attest-cmd: waitpid");
			goto out;
		}
	if (WIFSIGNALED(status)) {
		err_set(err, "--attest-cmd was killed by signal %d (%s); the launch is aborted and the guest never ran",
			WTERMSIG(status), strsignal(WTERMSIG(status)));
		goto out;
	}
	if (WEXITSTATUS(status) != 0) {
		err_set(err, "--attest-cmd exited with status %d: the guest owner did not accept the measurement; the "
			     "launch is aborted and the guest never ran", WEXITSTATUS(status));
		goto out;
	}
	if (too_long) {
		err_set(err, "--attest-cmd wrote more than %d KiB; it prints nothing or a secret of at most %u bytes",
			ATTEST_OUT_MAX / 1024, SEV_SECRET_MAX);
		goto out;
	}
	buf[got] = 0;
	*out = buf;
	*outlen = got;
	buf = NULL;
	rc = 0;
out:
	if (pipefd[0] >= 0)
		close(pipefd[0]);
	if (pipefd[1] >= 0)
		close(pipefd[1]);
	if (errpipe[0] >= 0)
		close(errpipe[0]);
	if (errpipe[1] >= 0)
		close(errpipe[1]);
	free(stack);
	free(buf);
	free(mvar);
	return rc;
}

