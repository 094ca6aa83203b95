/* sev_attest.c: the guest owner's side of the launch as cloak sees it: --attest-cmd, its reply, the secret's target. */
#include "sev/sev.h"

#include <errno.h>
#include <fcntl.h>
#include <signal.h>
#include <spawn.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/wait.h>
#include <unistd.h>

extern char **environ;

#define ATTEST_OUT_MAX (64 * 1024)

int sev_secret_target_check(const struct launch_plan *plan, bool hugepages, uint64_t gpa, size_t len,
			    struct cloak_err *err)
{
	uint64_t page = hugepages ? 2 * MiB : PAGE_SIZE;
	unsigned i;

	if (gpa % 16)
		return err_set(err, "--attest-cmd: SECRET_GPA 0x%llx is not 16-byte aligned", (unsigned long long)gpa);
	if (!plan_in_ram(plan, gpa, len))
		return err_set(err, "--attest-cmd: the secret (0x%llx+%zu) is not inside guest RAM",
			       (unsigned long long)gpa, len);
	if (gpa % page + len > page)
		return err_set(err, "--attest-cmd: the secret (0x%llx+%zu) crosses a %s page boundary; KVM needs its "
				    "pages physically contiguous, which only one page guarantees; move it%s",
			       (unsigned long long)gpa, len, hugepages ? "2 MiB" : "4 KiB",
			       hugepages ? "" : " or run with --hugepages");
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
			    r->payload_len % 16 || r->payload_len > SEV_SECRET_FW_MAX) {
				sev_attest_reply_free(r);
				return err_set(err, "--attest-cmd output line %u: SECRET_PAYLOAD must be base64 of the "
						    "encrypted secret, a non-zero multiple of 16 bytes, at most %u", lineno,
					       SEV_SECRET_FW_MAX);
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

int sev_attest_run(const struct sev_launch *sl, const char *b64, char **out, size_t *outlen, struct cloak_err *err)
{
	char vars[8][160];
	char *mvar = NULL, **envp = NULL;
	posix_spawn_file_actions_t fa;
	posix_spawnattr_t attr;
	size_t nenv = 0, i, cap = ATTEST_OUT_MAX, got = 0;
	bool too_long = false;
	sigset_t none;
	int pipefd[2] = { -1, -1 }, status, rc = -1;
	char *buf = NULL;
	pid_t pid;

	while (environ[nenv])
		nenv++;
	envp = calloc(nenv + 9, sizeof(*envp));
	mvar = malloc(strlen(b64) + 32);
	buf = malloc(cap + 1);
	if (!envp || !mvar || !buf) {
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
	for (i = 0; i < nenv; i++) {
		/* Ours win over stale copies in cloak's own environment. */
		if (!strncmp(environ[i], "CLOAK_SEV_", 10))
			continue;
		envp[i] = environ[i];
	}
	for (i = 0, nenv = 0; environ[i]; i++)
		if (envp[i])
			envp[nenv++] = envp[i];
	envp[nenv++] = mvar;
	for (i = 0; i < 7; i++)
		envp[nenv++] = vars[i];
	envp[nenv] = NULL;

	if (pipe2(pipefd, O_CLOEXEC) < 0) {
		err_errno(err, "--attest-cmd: pipe");
		goto out;
	}
	posix_spawn_file_actions_init(&fa);
	posix_spawn_file_actions_addopen(&fa, 0, "/dev/null", O_RDONLY, 0);
	posix_spawn_file_actions_adddup2(&fa, pipefd[1], 1);
	posix_spawnattr_init(&attr);
	/* cloak blocks SIGINT/SIGTERM in its threads; the command gets the ordinary defaults. */
	sigemptyset(&none);
	posix_spawnattr_setsigmask(&attr, &none);
	posix_spawnattr_setflags(&attr, POSIX_SPAWN_SETSIGMASK);
	status = posix_spawn(&pid, "/bin/sh", &fa, &attr, (char *[]){ "sh", "-c", (char *)sl->cfg->sev_attest_cmd, NULL },
			     envp);
	posix_spawn_file_actions_destroy(&fa);
	posix_spawnattr_destroy(&attr);
	close(pipefd[1]);
	pipefd[1] = -1;
	if (status != 0) {
		errno = status;
		err_errno(err, "--attest-cmd: cannot start /bin/sh");
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
			ATTEST_OUT_MAX / 1024, SEV_SECRET_FW_MAX);
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
	free(buf);
	free(mvar);
	free(envp);
	return rc;
}

