/* timeline.c: per-phase launch times and exit counts, written as JSON for benchmark harnesses. */
#include "timeline.h"

#include <errno.h>
#include <fcntl.h>
#include <libgen.h>
#include <linux/kvm.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

static const char *const phase_names[TL_NPHASES] = {
	[TL_PROCESS_START] = "process_start",
	[TL_KVM_OPEN] = "kvm_open",
	[TL_VM_CREATE] = "vm_create",
	[TL_MEMORY_READY] = "memory_map_and_lock",
	[TL_SEV_LAUNCH_START] = "sev_launch_start",    /* INIT, pinning, LAUNCH_START done */
	[TL_LOAD] = "load",
	[TL_SEV_LAUNCH_UPDATE] = "sev_launch_update",  /* every measured region encrypted */
	[TL_SEV_LAUNCH_UPDATE_VMSA] = "sev_launch_update_vmsa",  /* SEV-ES: every vCPU's VMSA encrypted */
	[TL_VCPU_CREATE] = "vcpu_create",
	[TL_SEV_LAUNCH_FINISH] = "sev_launch_finish",  /* measured, attested, secret in, finished */
	[TL_SANDBOX_SEALED] = "sandbox_sealed",  /* every thread confined: its capabilities dropped, its filter in */
	[TL_FIRST_GUEST_EXIT] = "first_guest_exit",
	[TL_BOOT_TIMER] = "boot_timer",
	[TL_GUEST_EXIT] = "guest_exit",
	[TL_TEARDOWN] = "teardown",  /* devices stopped, threads joined: all before the timeline is written */
};

const char *timeline_phase_name(enum tl_phase phase)
{
	return phase < TL_NPHASES ? phase_names[phase] : "?";
}

void timeline_mark_at(struct timeline *tl, enum tl_phase phase, uint64_t us)
{
	uint64_t zero = 0;

	/* The first time wins; +1 keeps "reached at 0 us" apart from "not reached". */
	if (us)
		atomic_compare_exchange_strong(&tl->at[phase], &zero, us + 1);
}

void timeline_mark(struct timeline *tl, enum tl_phase phase)
{
	timeline_mark_at(tl, phase, clock_us());
}

void timeline_count_exit(struct timeline *tl, unsigned reason)
{
	if (reason < TL_MAX_EXIT_REASONS)
		atomic_fetch_add(&tl->exits[reason], 1);
	atomic_fetch_add(&tl->exits_total, 1);
}

struct tl_device *timeline_device(struct timeline *tl, const char *name)
{
	unsigned i = atomic_fetch_add(&tl->ndev, 1);

	if (i >= TL_MAX_DEVICES) {
		atomic_store(&tl->ndev, TL_MAX_DEVICES);
		return NULL;
	}
	snprintf(tl->dev[i].name, sizeof(tl->dev[i].name), "%s", name);
	return &tl->dev[i];
}

void timeline_io_begin(struct timeline *tl, struct tl_device *d)
{
	uint64_t zero = 0;

	if (d)
		atomic_compare_exchange_strong(&d->exits_first, &zero, atomic_load(&tl->exits_total) + 1);
}

void timeline_io_end(struct timeline *tl, struct tl_device *d)
{
	if (d)
		atomic_store(&d->exits_last, atomic_load(&tl->exits_total) + 1);
}

/* Per-request costs: userspace exits and interrupts divided by requests, as harnesses compare them. */
static void timeline_write_devices(FILE *f, const struct timeline *tl)
{
	unsigned i, n = atomic_load(&tl->ndev);

	fprintf(f, ",\n  \"devices\": [");
	for (i = 0; i < n && i < TL_MAX_DEVICES; i++) {
		const struct tl_device *d = &tl->dev[i];
		uint64_t req = atomic_load(&d->requests), first = atomic_load(&d->exits_first);
		uint64_t last = atomic_load(&d->exits_last), irq = atomic_load(&d->interrupts);
		uint64_t exits = first && last >= first ? last - first : 0;

		fprintf(f, "%s\n    {\"name\": \"%s\", \"requests\": %llu, \"failed\": %llu, \"kicks\": %llu, "
			   "\"interrupts\": %llu, \"exits_during_io\": %llu, \"exits_per_request\": %.4f, "
			   "\"interrupts_per_request\": %.4f}",
			i ? "," : "", d->name, (unsigned long long)req, (unsigned long long)atomic_load(&d->failed),
			(unsigned long long)atomic_load(&d->kicks), (unsigned long long)irq, (unsigned long long)exits,
			req ? (double)exits / (double)req : 0.0, req ? (double)irq / (double)req : 0.0);
	}
	fprintf(f, "%s]", n ? "\n  " : "");
}

const char *kvm_exit_reason_name(unsigned reason)
{
	switch (reason) {
	case KVM_EXIT_UNKNOWN: return "unknown";
	case KVM_EXIT_EXCEPTION: return "exception";
	case KVM_EXIT_IO: return "io";
	case KVM_EXIT_HYPERCALL: return "hypercall";
	case KVM_EXIT_DEBUG: return "debug";
	case KVM_EXIT_HLT: return "hlt";
	case KVM_EXIT_MMIO: return "mmio";
	case KVM_EXIT_IRQ_WINDOW_OPEN: return "irq_window_open";
	case KVM_EXIT_SHUTDOWN: return "shutdown";
	case KVM_EXIT_FAIL_ENTRY: return "fail_entry";
	case KVM_EXIT_INTR: return "intr";
	case KVM_EXIT_SET_TPR: return "set_tpr";
	case KVM_EXIT_TPR_ACCESS: return "tpr_access";
	case KVM_EXIT_NMI: return "nmi";
	case KVM_EXIT_INTERNAL_ERROR: return "internal_error";
	case KVM_EXIT_SYSTEM_EVENT: return "system_event";
	case KVM_EXIT_X86_RDMSR: return "rdmsr";
	case KVM_EXIT_X86_WRMSR: return "wrmsr";
	}
	return NULL;
}

/* Paths, kernel names and reasons go into JSON strings: escape what JSON requires. */
uint64_t timeline_psp_model_us(uint64_t measured_bytes)
{
	return measured_bytes * 1000000ull / TIMELINE_PSP_MODEL_BYTES_PER_S;
}

static void json_string(FILE *f, const char *s)
{
	fputc('"', f);
	for (; *s; s++) {
		unsigned char c = (unsigned char)*s;

		if (c == '"' || c == '\\')
			fprintf(f, "\\%c", c);
		else if (c < 0x20)
			fprintf(f, "\\u%04x", c);
		else
			fputc(c, f);
	}
	fputc('"', f);
}

/* The rename is durable only once the directory holding the name is synced too. */
static int timeline_sync_dir(const char *path, struct cloak_err *err)
{
	char *copy = strdup(path);
	int fd, rc = 0;

	if (!copy)
		return err_set(err, "out of memory");
	fd = open(dirname(copy), O_RDONLY | O_DIRECTORY | O_CLOEXEC);
	if (fd < 0 || fsync(fd) < 0)
		rc = err_errno(err, "--timeline: cannot sync the directory of %s", path);
	if (fd >= 0)
		close(fd);
	free(copy);
	return rc;
}

int timeline_write(const struct timeline *tl, const char *path, const struct launch_plan *plan, int status,
		   struct cloak_err *err)
{
	size_t len = strlen(path) + 16;
	char *tmp = malloc(len);
	unsigned i;
	bool first = true;
	FILE *f;
	int fd;

	if (!tmp)
		return err_set(err, "out of memory");
	snprintf(tmp, len, "%s.XXXXXX", path);
	fd = mkstemp(tmp);
	if (fd < 0) {
		err_errno(err, "--timeline: cannot create a file beside %s", path);
		free(tmp);
		return -1;
	}
	f = fdopen(fd, "w");
	if (!f) {
		close(fd);
		unlink(tmp);
		free(tmp);
		return err_errno(err, "--timeline: fdopen");
	}
	fprintf(f, "{\n  \"cloak_version\": \"%s\",\n  \"kernel\": ", CLOAK_VERSION_STRING);
	json_string(f, plan->kernel_name ? plan->kernel_name : "");
	fprintf(f, ",\n  \"boot\": \"%s\",\n  \"mem_bytes\": %llu,\n  \"cpus\": %u,\n  \"sev\": %s,\n",
		plan_kind_name(plan->kind), (unsigned long long)plan->mem_size, plan->cpus,
		plan->cbit >= 0 ? "true" : "false");
	if (plan->cbit >= 0)
		fprintf(f, "  \"measured_boot\": \"%s\",\n  \"psp_modelled_us\": %llu,\n",
			plan->verifier ? "verifier" : "full", (unsigned long long)timeline_psp_model_us(tl->measured_bytes));
	if (tl->owner_command) {
		fprintf(f, "  \"owner_command\": ");
		json_string(f, tl->owner_command);
		fprintf(f, ",\n");
	}
	if (tl->snp_launch_update_pages)
		fprintf(f, "  \"snp_launch_update_pages\": %llu,\n  \"snp_launch_update_calls\": %llu,\n",
			(unsigned long long)tl->snp_launch_update_pages, (unsigned long long)tl->snp_launch_update_calls);
	fprintf(f, "  \"exit_status\": %d,\n  \"measured_bytes\": %llu,\n  \"before_main_us\": %llu,\n"
		   "  \"phases_us\": {", status, (unsigned long long)tl->measured_bytes,
		(unsigned long long)clock_before_main_us());
	for (i = 0; i < TL_NPHASES; i++) {
		uint64_t at = atomic_load(&tl->at[i]);

		if (!at)
			continue;
		fprintf(f, "%s\n    \"%s\": %llu", first ? "" : ",", phase_names[i], (unsigned long long)(at - 1));
		first = false;
	}
	fprintf(f, "\n  },\n  \"exits\": {");
	first = true;
	for (i = 0; i < TL_MAX_EXIT_REASONS; i++) {
		uint64_t n = atomic_load(&tl->exits[i]);
		const char *name = kvm_exit_reason_name(i);
		char other[24];

		if (!n)
			continue;
		if (!name) {
			snprintf(other, sizeof(other), "reason_%u", i);
			name = other;
		}
		fprintf(f, "%s\n    \"%s\": %llu", first ? "" : ",", name, (unsigned long long)n);
		first = false;
	}
	fprintf(f, "\n  },\n  \"io_unclaimed\": %llu,\n  \"mmio_unclaimed\": %llu,\n  \"sev_violations\": %llu",
		(unsigned long long)atomic_load(&tl->pio_unclaimed),
		(unsigned long long)atomic_load(&tl->mmio_unclaimed),
		(unsigned long long)atomic_load(&tl->sev_violations));
	timeline_write_devices(f, tl);
	fprintf(f, ",\n  \"memory_kib\": {\n    \"process_rss\": %llu,\n    \"guest_resident\": %llu,\n"
		   "    \"vmm_rss\": %llu\n  }\n}\n",
		(unsigned long long)tl->rss_kib, (unsigned long long)tl->guest_resident_kib,
		(unsigned long long)(tl->rss_kib > tl->guest_resident_kib ? tl->rss_kib - tl->guest_resident_kib : 0));
	if (fflush(f) != 0 || fsync(fileno(f)) != 0 || ferror(f)) {
		err_errno(err, "--timeline: cannot write %s", tmp);
		fclose(f);
		unlink(tmp);
		free(tmp);
		return -1;
	}
	fclose(f);
	if (rename(tmp, path) < 0) {
		err_errno(err, "--timeline: cannot rename %s to %s", tmp, path);
		unlink(tmp);
		free(tmp);
		return -1;
	}
	free(tmp);
	return timeline_sync_dir(path, err);
}
