/* sev_launch.c: `cloak run --sev`: from the launch plan to LAUNCH_FINISH, and the plan's launch digest. */
#include "sev/sev.h"

#include "guestmem.h"

#include <errno.h>
#include <fcntl.h>
#include <signal.h>
#include <spawn.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/ioctl.h>
#include <sys/wait.h>
#include <unistd.h>

extern char **environ;

#define ATTEST_OUT_MAX (64 * 1024)
/* One LAUNCH_UPDATE_DATA carries a u32 length; larger regions go in pieces of this size. */
#define UPDATE_CHUNK (1ull << 30)

/* ---- the plan's measured bytes, shared with cloak-owner ---- */

void sev_region_span(const struct plan_region *r, uint64_t *gpa, uint64_t *len)
{
	*gpa = ALIGN_DOWN(r->gpa, 16);
	*len = ALIGN_UP(r->gpa + r->size, 16) - *gpa;
}

uint64_t sev_plan_measured(const struct launch_plan *plan,
			   void (*fn)(void *ctx, const struct plan_region *r, uint64_t gpa, uint64_t len), void *ctx)
{
	uint64_t total = 0, gpa, len;
	unsigned i;

	for (i = 0; i < plan->nregions; i++) {
		const struct plan_region *r = &plan->regions[i];

		if (!(r->flags & PLAN_MEASURED))
			continue;
		sev_region_span(r, &gpa, &len);
		if (fn)
			fn(ctx, r, gpa, len);
		total += len;
	}
	return total;
}

struct digest_walk {
	struct sev_digest d;
	int rc;
};

static void digest_region(void *ctx, const struct plan_region *r, uint64_t gpa, uint64_t len)
{
	struct digest_walk *w = ctx;
	uint64_t lead = r->gpa - gpa;

	/* Guest memory holds zeros, then the region's data, then zeros to the end of the span. */
	if (w->rc == 0)
		w->rc = sev_digest_zeros(&w->d, lead);
	if (w->rc == 0)
		w->rc = sev_digest_add(&w->d, r->data, r->data_len);
	if (w->rc == 0)
		w->rc = sev_digest_zeros(&w->d, len - lead - r->data_len);
}

int sev_plan_digest(const struct launch_plan *plan, uint8_t digest[32], uint64_t *bytes, struct cloak_err *err)
{
	struct digest_walk w = { .rc = 0 };
	uint64_t n;

	if (sev_digest_begin(&w.d) < 0)
		return err_set(err, "cannot start SHA-256 (OpenSSL)");
	n = sev_plan_measured(plan, digest_region, &w);
	if (w.rc < 0 || sev_digest_end(&w.d, digest) < 0) {
		sev_digest_abort(&w.d);
		return err_set(err, "cannot hash the launch plan (OpenSSL)");
	}
	if (bytes)
		*bytes = n;
	return 0;
}

static void max_span(void *ctx, const struct plan_region *r, uint64_t gpa, uint64_t len)
{
	uint64_t *m = ctx;

	(void)r;
	(void)gpa;
	if (len > *m)
		*m = len;
}

uint64_t sev_pin_bytes(const struct launch_plan *plan)
{
	uint64_t biggest = 0;

	sev_plan_measured(plan, max_span, &biggest);
	if (biggest > UPDATE_CHUNK)
		biggest = UPDATE_CHUNK;
	/* KVM counts REG_REGION's pins and each UPDATE_DATA's (or the secret's) temporary pins together. */
	return plan->mem_size + ALIGN_UP(biggest, PAGE_SIZE) + PAGE_SIZE;
}

/* ---- the guest's CPUID ---- */

void sev_cpuid_leaf(struct kvm_cpuid2 *cpuid, unsigned capacity, int cbit)
{
	struct kvm_cpuid_entry2 *leaf = NULL;
	unsigned i;

	for (i = 0; i < cpuid->nent; i++) {
		if (cpuid->entries[i].function == 0x80000000 && cpuid->entries[i].eax < 0x8000001f)
			cpuid->entries[i].eax = 0x8000001f;
		if (cpuid->entries[i].function == 0x8000001f)
			leaf = &cpuid->entries[i];
	}
	if (!leaf) {
		if (cpuid->nent >= capacity)
			return;
		leaf = &cpuid->entries[cpuid->nent++];
		memset(leaf, 0, sizeof(*leaf));
		leaf->function = 0x8000001f;
	}
	/*
	 * As QEMU gives it: SEV (bit 1), the C-bit, and one bit of physical
	 * address lost to encryption; no ASID counts. With the simulated PSP the
	 * guest's read of SEV_STATUS is trapped and answered by cloak (kvm.c).
	 */
	leaf->eax = 1u << 1;
	leaf->ebx = (uint32_t)(cbit & 0x3f) | 1u << 6;
	leaf->ecx = 0;
	leaf->edx = 0;
}

/* ---- the launch ---- */

int sev_launch_open(struct sev_launch *sl, const struct vm_config *cfg, int *cbit, struct cloak_err *err)
{
	uint8_t *data;
	size_t len;
	unsigned want_major, want_minor;

	memset(sl, 0, sizeof(*sl));
	sl->cfg = cfg;
	sl->vm_fd = -1;
	if (sev_policy_check(cfg->sev_policy, "--policy", err) < 0)
		return -1;
	/* The owner's files first: a wrong file is the user's to fix before anything is opened. */
	if (cfg->sev_dh_cert_path) {
		if (sev_file_read_b64(cfg->sev_dh_cert_path, "--dh-cert-file", SEV_FW_BLOB_MAX, &data, &len, err) < 0)
			return -1;
		if (len != SEV_CERT_LEN) {
			free(data);
			return err_set(err, "--dh-cert-file %s decodes to %zu bytes; a GODH certificate has %u "
					    "(cloak-owner session or sevctl session write it)",
				       cfg->sev_dh_cert_path, len, SEV_CERT_LEN);
		}
		memcpy(sl->godh, data, SEV_CERT_LEN);
		free(data);
		if (sev_file_read_b64(cfg->sev_session_path, "--session-file", SEV_FW_BLOB_MAX, &data, &len, err) < 0)
			return -1;
		if (len != SEV_SESSION_LEN) {
			free(data);
			return err_set(err, "--session-file %s decodes to %zu bytes; a session blob has %u",
				       cfg->sev_session_path, len, SEV_SESSION_LEN);
		}
		memcpy(sl->session, data, SEV_SESSION_LEN);
		free(data);
		sl->has_session = true;
	}
	if (cfg->sev_backend == SEV_BACKEND_SIM)
		fprintf(stderr, "cloak: --sev-backend sim: the PSP is SIMULATED; guest memory is NOT encrypted and "
				"the measurement proves nothing about this host\n");
	sl->psp = psp_open(cfg, false, err);
	if (!sl->psp)
		return -1;
	if (psp_platform_status(sl->psp, &sl->status, err) < 0) {
		err_prefix(err, "cannot read the SEV platform status: ");
		goto fail;
	}
	want_major = (cfg->sev_policy >> 16) & 0xff;
	want_minor = cfg->sev_policy >> 24;
	if (want_major > sl->status.api_major || (want_major == sl->status.api_major && want_minor > sl->status.api_minor)) {
		err_set(err, "--policy 0x%x asks for SEV firmware API %u.%u or later; this platform runs %u.%u; lower "
			     "bits 16-31 of the policy or update the firmware", cfg->sev_policy, want_major, want_minor,
			sl->status.api_major, sl->status.api_minor);
		goto fail;
	}
	*cbit = sl->psp->cbit;
	return 0;
fail:
	psp_close(sl->psp);
	sl->psp = NULL;
	return -1;
}

unsigned long sev_vm_type(const struct vm_config *cfg, int kvm_fd)
{
	int types;

	if (!cfg->sev || cfg->sev_backend != SEV_BACKEND_REAL)
		return KVM_X86_DEFAULT_VM;
	types = ioctl(kvm_fd, KVM_CHECK_EXTENSION, KVM_CAP_VM_TYPES);
	if (types > 0 && (types & (1 << KVM_X86_SEV_VM)))
		return KVM_X86_SEV_VM;
	return KVM_X86_DEFAULT_VM;
}

int sev_launch_start(struct sev_launch *sl, int kvm_fd, int vm_fd, const struct guest_mem *mem, struct cloak_err *err)
{
	struct kvm_sev_launch_start start = { .policy = sl->cfg->sev_policy };
	struct kvm_enc_region region = { .addr = (uint64_t)(uintptr_t)mem->host, .size = mem->size };
	char a[32];
	int rc;

	sl->vm_type = sev_vm_type(sl->cfg, kvm_fd);
	sl->vm_fd = vm_fd;
	if (sl->vm_type == KVM_X86_SEV_VM) {
		struct kvm_sev_init init = { 0 };  /* plain SEV: no VMSA features, no GHCB */

		if (psp_vm(sl->psp, vm_fd, KVM_SEV_INIT2, &init, NULL, err) < 0)
			return -1;
	} else if (psp_vm(sl->psp, vm_fd, KVM_SEV_INIT, NULL, NULL, err) < 0) {
		return -1;
	}
	sl->inited = true;
	rc = sl->psp->ops->reg_region(sl->psp, vm_fd, &region);
	if (sl->psp->trace)
		fprintf(stderr, "cloak: sev[%s]: KVM_MEMORY_ENCRYPT_REG_REGION %s: %s\n", sl->psp->name,
			fmt_size(mem->size, a), rc ? strerror(-rc) : "ok");
	if (rc < 0) {
		psp_describe_failure(err, "KVM_MEMORY_ENCRYPT_REG_REGION", rc, 0);
		return err_prefix(err, "cannot pin %s of guest memory for SEV: ", fmt_size(mem->size, a));
	}
	if (sl->has_session) {
		start.dh_uaddr = (uint64_t)(uintptr_t)sl->godh;
		start.dh_len = SEV_CERT_LEN;
		start.session_uaddr = (uint64_t)(uintptr_t)sl->session;
		start.session_len = SEV_SESSION_LEN;
	}
	if (psp_vm(sl->psp, vm_fd, KVM_SEV_LAUNCH_START, &start, NULL, err) < 0)
		return -1;
	sl->handle = start.handle;
	return 0;
}

struct update_walk {
	struct sev_launch *sl;
	const struct guest_mem *mem;
	struct cloak_err *err;
	uint64_t done_first[PLAN_MAX_REGIONS], done_end[PLAN_MAX_REGIONS];
	unsigned ndone;
	int rc;
};

static void update_region(void *ctx, const struct plan_region *r, uint64_t gpa, uint64_t len)
{
	struct update_walk *w = ctx;
	uint64_t first = gpa / PAGE_SIZE, end = (gpa + len + PAGE_SIZE - 1) / PAGE_SIZE, off;
	uint8_t *host;
	unsigned i;

	if (w->rc < 0)
		return;
	host = gpa_range(w->mem, gpa, len);
	if (!host || gpa % 16 || len % 16) {
		w->rc = err_set(w->err, "internal error: measured region %s (0x%llx+0x%llx) is outside guest memory or "
					"not 16-byte aligned", r->name, (unsigned long long)gpa, (unsigned long long)len);
		return;
	}
	/* The plan keeps regions on pages of their own; measuring a page twice would measure ciphertext. */
	for (i = 0; i < w->ndone; i++)
		if (first < w->done_end[i] && w->done_first[i] < end) {
			w->rc = err_set(w->err, "internal error: measured region %s shares a page with an earlier one",
					r->name);
			return;
		}
	w->done_first[w->ndone] = first;
	w->done_end[w->ndone++] = end;
	for (off = 0; off < len; off += UPDATE_CHUNK) {
		struct kvm_sev_launch_update_data u = {
			.uaddr = (uint64_t)(uintptr_t)(host + off),
			.len = (uint32_t)(len - off < UPDATE_CHUNK ? len - off : UPDATE_CHUNK),
		};

		if (psp_vm(w->sl->psp, w->sl->vm_fd, KVM_SEV_LAUNCH_UPDATE_DATA, &u, NULL, w->err) < 0) {
			w->rc = err_prefix(w->err, "measuring %s (guest 0x%llx+0x%llx): ", r->name,
					   (unsigned long long)gpa, (unsigned long long)len);
			return;
		}
		w->sl->updates++;
	}
	w->sl->measured_bytes += len;
}

int sev_launch_update(struct sev_launch *sl, const struct launch_plan *plan, const struct guest_mem *mem,
		      struct cloak_err *err)
{
	struct update_walk *w = calloc(1, sizeof(*w));
	int rc;

	if (!w)
		return err_set(err, "out of memory");
	w->sl = sl;
	w->mem = mem;
	w->err = err;
	sev_plan_measured(plan, update_region, w);
	rc = w->rc;
	free(w);
	return rc;
}

/* ---- --attest-cmd ---- */

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
				if (hl != SEV_SECRET_HDR_LEN)
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

static int attest_run(struct sev_launch *sl, const char *b64, char **out, size_t *outlen, struct cloak_err *err)
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

static int sev_inject_secret(struct sev_launch *sl, const struct launch_plan *plan, const struct guest_mem *mem,
			     const struct sev_attest_reply *r, struct cloak_err *err)
{
	struct kvm_sev_launch_secret s;
	uint8_t *host;

	if (sev_secret_target_check(plan, mem->hugepages, r->gpa, r->payload_len, err) < 0)
		return -1;
	host = gpa_range(mem, r->gpa, r->payload_len);
	if (!host)
		return err_set(err, "--attest-cmd: SECRET_GPA 0x%llx is not guest RAM", (unsigned long long)r->gpa);
	s = (struct kvm_sev_launch_secret){
		.hdr_uaddr = (uint64_t)(uintptr_t)r->header, .hdr_len = SEV_SECRET_HDR_LEN,
		.guest_uaddr = (uint64_t)(uintptr_t)host, .guest_len = (uint32_t)r->payload_len,
		.trans_uaddr = (uint64_t)(uintptr_t)r->payload, .trans_len = (uint32_t)r->payload_len,
	};
	return psp_vm(sl->psp, sl->vm_fd, KVM_SEV_LAUNCH_SECRET, &s, NULL, err);
}

int sev_launch_finish(struct sev_launch *sl, const struct launch_plan *plan, const struct guest_mem *mem,
		      struct cloak_err *err)
{
	struct kvm_sev_launch_measure m = { 0 };
	struct sev_attest_reply reply = { 0 };
	char *b64 = NULL, *out = NULL;
	size_t outlen = 0;
	uint32_t fw = 0;
	int rc = -1;

	/* The length query: the firmware answers INVALID_LEN and the size it needs. */
	if (psp_vm(sl->psp, sl->vm_fd, KVM_SEV_LAUNCH_MEASURE, &m, &fw, NULL) < 0 && fw != SEV_RET_INVALID_LEN)
		return psp_vm(sl->psp, sl->vm_fd, KVM_SEV_LAUNCH_MEASURE, &m, NULL, err);
	if (m.len != SEV_MEASURE_BLOB_LEN)
		return err_set(err, "KVM_SEV_LAUNCH_MEASURE: the firmware wants %u bytes for the measurement, not %u; "
				    "cloak does not know this firmware", m.len, SEV_MEASURE_BLOB_LEN);
	m.uaddr = (uint64_t)(uintptr_t)sl->blob;
	if (psp_vm(sl->psp, sl->vm_fd, KVM_SEV_LAUNCH_MEASURE, &m, NULL, err) < 0)
		return -1;
	b64 = sev_b64_encode(sl->blob, sizeof(sl->blob));
	if (!b64)
		return err_set(err, "out of memory");
	fprintf(stderr, "cloak: sev: measured %llu bytes in %u LAUNCH_UPDATE_DATA; measurement %s\n",
		(unsigned long long)sl->measured_bytes, sl->updates, b64);
	if (sl->cfg->sev_measurement_out) {
		size_t n = strlen(b64);

		b64[n] = '\n';
		rc = sev_file_write(sl->cfg->sev_measurement_out, "--measurement-out file", b64, n + 1, 0644, err);
		b64[n] = 0;
		if (rc < 0)
			goto out;
		rc = -1;
	}
	if (sl->cfg->sev_attest_cmd) {
		if (attest_run(sl, b64, &out, &outlen, err) < 0 || sev_attest_parse(out, outlen, &reply, err) < 0)
			goto out;
		if (reply.has_secret && sev_inject_secret(sl, plan, mem, &reply, err) < 0)
			goto out;
	}
	if (psp_vm(sl->psp, sl->vm_fd, KVM_SEV_LAUNCH_FINISH, NULL, NULL, err) < 0)
		goto out;
	rc = 0;
out:
	sev_attest_reply_free(&reply);
	free(out);
	free(b64);
	return rc;
}

void sev_launch_close(struct sev_launch *sl)
{
	if (!sl->psp)
		return;
	if (sl->vm_fd >= 0)
		sl->psp->ops->vm_release(sl->psp, sl->vm_fd);
	psp_close(sl->psp);
	sl->psp = NULL;
}
