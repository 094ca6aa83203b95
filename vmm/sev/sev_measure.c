/* sev_measure.c: the bytes a launch plan measures and their digest; cloak and cloak-owner share this file. */
#include "sev/sev.h"

#include <errno.h>
#include <stdlib.h>
#include <string.h>

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
	/* SEV-ES: LAUNCH_UPDATE_VMSA comes after every LAUNCH_UPDATE_DATA, one page per vCPU in index order. */
	if (w.rc == 0 && plan->vmsas) {
		w.rc = sev_digest_add(&w.d, plan->vmsas, (size_t)plan->cpus * PAGE_SIZE);
		n += (uint64_t)plan->cpus * PAGE_SIZE;
	}
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

uint64_t sev_pin_estimate(uint64_t mem_size, uint64_t largest_span)
{
	if (largest_span > SEV_UPDATE_CHUNK)
		largest_span = SEV_UPDATE_CHUNK;
	/*
	 * KVM counts REG_REGION's pins and each UPDATE_DATA's (or the secret's)
	 * temporary pins together; one page more for a span that starts mid-page.
	 */
	return mem_size + ALIGN_UP(largest_span, PAGE_SIZE) + PAGE_SIZE;
}

uint64_t sev_pin_bytes(const struct launch_plan *plan)
{
	uint64_t biggest = 0;

	sev_plan_measured(plan, max_span, &biggest);
	return sev_pin_estimate(plan->mem_size, biggest);
}

/* ---- the owner's command that recomputes a launch digest ---- */

/* Appends `word` to the buffer, single-quoted for sh when it holds anything but safe characters. */
static bool append_word(char **buf, size_t *len, size_t *cap, const char *word)
{
	size_t need = 4 * strlen(word) + 4;
	const char *p;
	bool plain = *word != 0;
	char *o;

	for (p = word; *p; p++)
		if (!strchr("ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789-_./=:,+@%", *p))
			plain = false;
	if (*len + need + 1 > *cap) {
		char *n = realloc(*buf, *cap = 2 * (*len + need + 1));

		if (!n)
			return false;
		*buf = n;
	}
	o = *buf + *len;
	if (*len)
		*o++ = ' ';
	if (plain) {
		o += sprintf(o, "%s", word);
	} else {
		*o++ = '\'';
		for (p = word; *p; p++)
			if (*p == '\'') {
				memcpy(o, "'\\''", 4);
				o += 4;
			} else {
				*o++ = *p;
			}
		*o++ = '\'';
		*o = 0;
	}
	*len = (size_t)(o - *buf);
	return true;
}

char *sev_owner_command(const struct launch_plan *plan, bool simulated, int argc, char *const *argv)
{
	char head[256], cbit[32], *buf = NULL, *tok, *save = NULL;
	size_t len = 0, cap = 0;
	int i;

	if (!plan->vmsas || plan->cbit < 0)
		return NULL;
	/* The simulator's C-bit is a generation of its own ("sim"), which --cbit does not take. */
	if (simulated)
		snprintf(cbit, sizeof(cbit), "--cpu-generation %s", plan->cbit == PSP_SIM_SNP_CBIT ? "sim-snp" : "sim");
	else
		snprintf(cbit, sizeof(cbit), "--cbit %d", plan->cbit);
	snprintf(head, sizeof(head), "cloak-owner measure --mode seves %s --vcpu-sig 0x%x --guest-features 0x%llx "
		 "--kvm-sev-init %s --vcpus %u --cloak-plan", cbit, plan->vmsa.vcpu_sig,
		 (unsigned long long)plan->vmsa.features, plan->vmsa.fpu_synced ? "init2" : "legacy", plan->cpus);
	for (tok = strtok_r(head, " ", &save); tok; tok = strtok_r(NULL, " ", &save))
		if (!append_word(&buf, &len, &cap, tok))
			goto fail;
	for (i = 1; i < argc; i++)
		if (!append_word(&buf, &len, &cap, argv[i]))
			goto fail;
	return buf;
fail:
	free(buf);
	return NULL;
}

/* ---- the guest policy, which MEASURE covers ---- */

int sev_policy_check(uint32_t policy, const char *what, struct cloak_err *err)
{
	if (policy & SEV_POLICY_RESERVED)
		return err_set(err, "%s 0x%x: bits 6-15 (0x%x here) are reserved and must be 0; the firmware refuses "
				    "them with POLICY_FAILURE", what, policy, policy & SEV_POLICY_RESERVED);
	if (policy & SEV_POLICY_ES)
		return err_set(err, "%s 0x%x: bit 2 (ES) is cloak's to set: give --sev-mode es for an SEV-ES launch "
				    "and clear bit 2", what, policy);
	return 0;
}

int sev_policy_parse(const char *s, uint32_t *out, const char *what, struct cloak_err *err)
{
	uint64_t v;

	if (!parse_hex_u64(s, UINT32_MAX, &v))
		return err_set(err, "%s: '%s' is not a 32-bit hex number; write it like 0x1 (NODBG) or 0x3 "
				    "(NODBG|NOKS)", what, s);
	if (sev_policy_check((uint32_t)v, what, err) < 0)
		return -1;
	*out = (uint32_t)v;
	return 0;
}
