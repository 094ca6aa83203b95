/* host_check.c: `cloak host-check`: can this host launch SEV and SEV-SNP guests, and if not, what to change. */
#include "sev/sev.h"
#include "sev/snp_abi.h"

#include "plan.h"

#include <cpuid.h>
#include <errno.h>
#include <fcntl.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/capability.h>
#include <sys/ioctl.h>
#include <sys/resource.h>
#include <sys/stat.h>
#include <unistd.h>

static void read_param(const char *dir, const char *name, char *out, size_t len)
{
	char path[512];
	FILE *f;

	out[0] = 0;
	snprintf(path, sizeof(path), "%s/%s", dir, name);
	f = fopen(path, "re");
	if (!f)
		return;
	if (!fgets(out, (int)len, f))
		out[0] = 0;
	fclose(f);
	out[strcspn(out, "\n")] = 0;
	if (!out[0])
		snprintf(out, len, "?");
}

static bool param_on(const char *v)
{
	return !strcmp(v, "Y") || !strcmp(v, "1") || !strcmp(v, "y");
}

/* SNP_PLATFORM_STATUS: a 6.1 PSP driver does not know the command and answers EINVAL. */
static void probe_snp_status(struct sev_host_facts *f, int fd)
{
	struct sev_user_data_snp_status st;
	struct sev_issue_cmd cmd = { .cmd = SNP_PLATFORM_STATUS, .data = (uint64_t)(uintptr_t)&st };

	memset(&st, 0, sizeof(st));
	if (ioctl(fd, SEV_ISSUE_CMD, &cmd) < 0) {
		f->snp_status_errno = errno;
		f->snp_status_fw_error = cmd.error;
		return;
	}
	f->snp_status_ok = true;
	f->snp_api_major = st.api_major;
	f->snp_api_minor = st.api_minor;
	f->snp_state = st.state;
	f->snp_rmp_initialized = st.is_rmp_initialized;
	f->snp_build = st.build_id;
	f->snp_guest_count = st.guest_count;
	f->snp_current_tcb = st.current_tcb_version;
	f->snp_reported_tcb = st.reported_tcb_version;
}

void sev_host_probe(struct sev_host_facts *f, const char *sev_device, const char *kvm_device,
		    const char *kvm_amd_params)
{
	const char *params = kvm_amd_params ? kvm_amd_params : "/sys/module/kvm_amd/parameters";

	unsigned a, b, c, d;
	cap_flag_value_t v = CAP_CLEAR;
	struct rlimit rl;
	struct stat st;
	cap_t caps;
	int fd;

	memset(f, 0, sizeof(*f));
	__cpuid(0, a, b, c, d);
	memcpy(f->vendor, &b, 4);
	memcpy(f->vendor + 4, &d, 4);
	memcpy(f->vendor + 8, &c, 4);
	f->cpuid_amd = !strcmp(f->vendor, "AuthenticAMD");
	__cpuid(0x80000000, a, b, c, d);
	if (a >= 0x8000001f) {
		f->leaf_present = true;
		__cpuid(0x8000001f, f->eax, f->ebx, f->ecx, f->edx);
	}

	/* The module's directory holds its parameters; a substitute directory stands for both. */
	f->kvm_amd_loaded = stat(kvm_amd_params ? params : "/sys/module/kvm_amd", &st) == 0;
	read_param(params, "sev", f->kvm_amd_sev, sizeof(f->kvm_amd_sev));
	read_param(params, "sev_es", f->kvm_amd_sev_es, sizeof(f->kvm_amd_sev_es));
	read_param(params, "sev_snp", f->kvm_amd_sev_snp, sizeof(f->kvm_amd_sev_snp));

	if (stat(sev_device, &st) == 0) {
		f->dev_sev_exists = true;
		f->dev_sev_mode = st.st_mode & 07777;
		f->dev_sev_uid = st.st_uid;
		f->dev_sev_gid = st.st_gid;
		f->dev_sev_rw = access(sev_device, R_OK | W_OK) == 0;
		fd = open(sev_device, O_RDWR | O_CLOEXEC);
		if (fd < 0) {
			f->dev_sev_open_errno = errno;
		} else {
			struct sev_issue_cmd cmd = { .cmd = SEV_PLATFORM_STATUS,
						     .data = (uint64_t)(uintptr_t)&f->status };

			if (ioctl(fd, SEV_ISSUE_CMD, &cmd) == 0)
				f->status_ok = true;
			else
				f->status_errno = errno;
			f->status_fw_error = cmd.error;
			probe_snp_status(f, fd);
			close(fd);
		}
	} else {
		f->dev_sev_open_errno = errno;
	}

	fd = open(kvm_device, O_RDWR | O_CLOEXEC);
	if (fd < 0) {
		f->kvm_open_errno = errno;
		f->kvm_exists = errno != ENOENT;
		f->vm_types = -1;
	} else {
		f->kvm_exists = true;
		f->vm_types = ioctl(fd, KVM_CHECK_EXTENSION, KVM_CAP_VM_TYPES);
		close(fd);
	}

	if (getrlimit(RLIMIT_MEMLOCK, &rl) == 0) {
		f->memlock_cur = rl.rlim_cur;
		f->memlock_max = rl.rlim_max;
	}
	caps = cap_get_proc();
	if (caps) {
		cap_get_flag(caps, CAP_IPC_LOCK, CAP_EFFECTIVE, &v);
		cap_free(caps);
	}
	f->cap_ipc_lock = v == CAP_SET;
}

static void __attribute__((format(printf, 3, 4))) missing(char list[][256], unsigned *n, const char *fmt, ...)
{
	va_list ap;

	if (*n >= 12)
		return;
	va_start(ap, fmt);
	vsnprintf(list[*n], 256, fmt, ap);
	va_end(ap);
	(*n)++;
}

/* SNP_PLATFORM_STATUS's platform states (SNP ABI): UNINIT, INIT. */
#define SNP_PSTATE_INIT 1

/*
 * What an SNP launch needs besides what every SEV launch does (KVM, /dev/sev,
 * the memory limit, which the SEV list covers): the CPU's SNP, a 6.11+ kernel
 * whose kvm_amd enabled it, the firmware's SNP platform, and ASIDs for it.
 * KVM (arch/x86/kvm/svm/sev.c, 6.12) gives SEV-ES and SNP guests the ASIDs
 * 1 .. min_sev_asid-1 together, and enables sev_snp only with sev_es.
 */
static void snp_verdict(const struct sev_host_facts *f, struct sev_verdict *v)
{
#define SNP(...) missing(v->missing_snp, &v->nmissing_snp, __VA_ARGS__)
	if (!f->cpuid_amd || !f->leaf_present)
		SNP("no AMD memory-encryption CPUID leaf (see the SEV verdict): SEV-SNP needs an EPYC 7xx3 \"Milan\" "
		    "or later host, not a VM");
	else if (!(f->eax & 16))
		SNP("CPUID 0x8000001F EAX bit 4 (SEV-SNP) is clear: enable SEV-SNP and SNP memory coverage in the "
		    "BIOS (EPYC 7xx3 \"Milan\" or later); inside a VM it is never offered");
	else if (f->edx <= 1)
		SNP("no ASID is left for SNP: KVM gives SEV-ES and SNP guests the ASIDs 1 to min_sev_asid-1, and "
		    "min_sev_asid (CPUID 0x8000001F EDX) is %u: raise the BIOS \"SEV-ES ASID space limit\"", f->edx);

	if (f->vm_types >= 0 && !(f->vm_types & (1 << KVM_X86_SNP_VM)))
		SNP("this kernel has no SNP support: KVM_CAP_VM_TYPES (0x%x) lacks KVM_X86_SNP_VM (%d); SNP guests "
		    "need Linux 6.11 or later (Debian 12: a linux-image-6.12 kernel) with kvm_amd sev_snp=1",
		    (unsigned)f->vm_types, KVM_X86_SNP_VM);
	if (f->kvm_amd_loaded && !f->kvm_amd_sev_snp[0])
		SNP("kvm_amd has no sev_snp parameter: this kernel predates SNP (Linux 6.11); boot a 6.11+ kernel");
	else if (f->kvm_amd_loaded && !param_on(f->kvm_amd_sev_snp))
		SNP("kvm_amd runs with sev_snp=%s: reload it with sev_es=1 sev_snp=1; it stays N when the "
		    "firmware did not start SNP (look for \"SEV-SNP\" in dmesg; the IOMMU must be on)",
		    f->kvm_amd_sev_snp);
	if (f->kvm_amd_loaded && f->kvm_amd_sev_snp[0] && param_on(f->kvm_amd_sev_snp) && !param_on(f->kvm_amd_sev_es))
		SNP("kvm_amd runs with sev_es=%s, and KVM enables SNP only together with SEV-ES: reload it with "
		    "sev_es=1", f->kvm_amd_sev_es[0] ? f->kvm_amd_sev_es : "absent");

	if (f->dev_sev_exists && !f->dev_sev_open_errno) {
		if (!f->snp_status_ok && f->snp_status_errno == EINVAL && !f->snp_status_fw_error)
			SNP("SNP_PLATFORM_STATUS on /dev/sev is unknown to this kernel's PSP driver (EINVAL): SNP "
			    "needs Linux 6.11 or later");
		else if (!f->snp_status_ok)
			SNP("SNP_PLATFORM_STATUS on /dev/sev failed (%s, firmware status 0x%x): update the SEV "
			    "firmware to one with SNP (API 1.51 or later) and check dmesg",
			    strerror(f->snp_status_errno), f->snp_status_fw_error);
		else if (!f->snp_rmp_initialized || f->snp_state != SNP_PSTATE_INIT)
			SNP("SNP_PLATFORM_STATUS reports the SNP platform %s and the RMP %s: the kernel did not "
			    "start SNP at boot; enable SNP in the BIOS, keep the IOMMU on, and look for \"SEV-SNP\" "
			    "in dmesg", f->snp_state == SNP_PSTATE_INIT ? "initialized" : "UNINIT",
			    f->snp_rmp_initialized ? "initialized" : "NOT initialized");
	}
	/* The missing /dev/sev, /dev/kvm and memory-limit causes are the SEV list's; SNP needs them too. */
	if (v->nmissing_sev && !(f->edx > f->ecx && f->ecx))
		SNP("what the SEV verdict lists as missing (/dev/sev, /dev/kvm, memory locking) SNP needs as well");
#undef SNP
}

uint64_t sev_host_pin_estimate(uint64_t guest_mem)
{
	struct cloak_err err = { "" };
	struct plan_inputs in;
	struct launch_plan plan;
	struct vm_config cfg;
	uint64_t pin;

	/* What `cloak run --sev --mem guest_mem` pins for the demo guest: its own plan, its own formula. */
	config_defaults(&cfg);
	cfg.sev = true;
	cfg.mem_size = guest_mem;
	if (plan_inputs_open(&in, &cfg, &err) < 0)
		return sev_pin_estimate(guest_mem, 0);
	in.cbit = PSP_SIM_CBIT;
	if (plan_build(&in, &plan, &err) < 0) {
		plan_inputs_close(&in);
		return sev_pin_estimate(guest_mem, 0);
	}
	pin = sev_pin_bytes(&plan);
	plan_free(&plan);
	plan_inputs_close(&in);
	return pin;
}

void sev_host_verdict(const struct sev_host_facts *f, uint64_t guest_mem, uint64_t pin_bytes, struct sev_verdict *v)
{
	uint64_t need = pin_bytes;
	char a[32], b[32];

	memset(v, 0, sizeof(*v));
#define BOTH(...) do { missing(v->missing_sev, &v->nmissing_sev, __VA_ARGS__); \
		       missing(v->missing_es, &v->nmissing_es, __VA_ARGS__); } while (0)
	if (!f->cpuid_amd)
		BOTH("the CPU is %s, not AMD: SEV needs an AMD EPYC host", f->vendor[0] ? f->vendor : "unknown");
	else if (!f->leaf_present)
		BOTH("CPUID has no leaf 0x8000001F: this AMD CPU (or the hypervisor cloak runs under) offers no "
		     "memory encryption; run on an EPYC host, not inside a VM");
	else if (!(f->eax & 2))
		BOTH("CPUID 0x8000001F EAX bit 1 (SEV) is clear: enable SME and SEV in the host firmware (BIOS), "
		     "and boot the host kernel with mem_encrypt=on; inside a VM, SEV is never offered");
	else if (f->ecx == 0)
		BOTH("CPUID 0x8000001F offers no SEV ASIDs (ECX %u, EDX %u): raise the SEV ASID count in the BIOS",
		     f->ecx, f->edx);
	else if (f->edx > f->ecx)
		missing(v->missing_sev, &v->nmissing_sev, "every ASID went to SEV-ES/SNP: the minimum SEV ASID "
			"(CPUID 0x8000001F EDX, %u) is above the maximum (ECX, %u), so KVM gives ENOTTY at "
			"KVM_SEV_INIT; lower the BIOS \"SEV-ES ASID space limit\" below %u", f->edx, f->ecx, f->ecx + 1);
	if (f->leaf_present && (f->eax & 2) && !(f->eax & 8))
		missing(v->missing_es, &v->nmissing_es, "CPUID 0x8000001F EAX bit 3 (SEV-ES) is clear: this CPU "
			"has no SEV-ES (EPYC 7xx1 \"Naples\" lacks it)");
	if (f->leaf_present && (f->eax & 8) && f->edx <= 1)
		missing(v->missing_es, &v->nmissing_es, "minimum SEV ASID (CPUID 0x8000001F EDX) is %u, so no ASID "
			"is left for SEV-ES guests: set the BIOS \"SEV-ES ASID space limit\" above 1", f->edx);

	if (!f->kvm_amd_loaded)
		BOTH("kvm_amd is not loaded (/sys/module/kvm_amd missing): modprobe kvm_amd sev=1");
	else if (!param_on(f->kvm_amd_sev))
		BOTH("kvm_amd runs with sev=%s (/sys/module/kvm_amd/parameters/sev): reload it with sev=1 "
		     "(modprobe -r kvm_amd; modprobe kvm_amd sev=1)", f->kvm_amd_sev[0] ? f->kvm_amd_sev : "absent");
	if (f->kvm_amd_loaded && !param_on(f->kvm_amd_sev_es))
		missing(v->missing_es, &v->nmissing_es, "kvm_amd runs with sev_es=%s: reload it with sev_es=1",
			f->kvm_amd_sev_es[0] ? f->kvm_amd_sev_es : "absent");

	if (!f->dev_sev_exists)
		BOTH("/dev/sev does not exist: load the PSP driver (modprobe ccp) and look for \"SEV API\" or "
		     "\"SEV: failed to INIT\" in dmesg");
	else if (f->dev_sev_open_errno)
		BOTH("/dev/sev cannot be opened read-write by this user (%s): run as root, or give the user the "
		     "device's group (gid %u, mode %04o)", strerror(f->dev_sev_open_errno), f->dev_sev_gid,
		     f->dev_sev_mode);
	else if (!f->status_ok)
		BOTH("SEV_PLATFORM_STATUS on /dev/sev failed (%s, firmware status 0x%x): the PSP firmware is not "
		     "usable; check dmesg for SEV INIT errors and update the SEV firmware",
		     strerror(f->status_errno), f->status_fw_error);
	else if (!(f->status.flags & SEV_STATUS_FLAGS_CONFIG_ES))
		missing(v->missing_es, &v->nmissing_es, "SEV_PLATFORM_STATUS reports SEV-ES not configured (flags "
			"0x%x lack 0x100): update the SEV firmware and enable SEV-ES in the BIOS", f->status.flags);

	if (!f->kvm_exists)
		BOTH("/dev/kvm does not exist: load kvm_amd on an AMD host with virtualization enabled");
	else if (f->kvm_open_errno)
		BOTH("/dev/kvm cannot be opened (%s): add the user to the kvm group or run as root",
		     strerror(f->kvm_open_errno));

	if (!f->cap_ipc_lock && f->memlock_max != (uint64_t)RLIM_INFINITY && f->memlock_max < need)
		BOTH("RLIMIT_MEMLOCK hard limit is %s and cloak lacks CAP_IPC_LOCK, but SEV pins all guest memory "
		     "(%s for a %s guest): run with CAP_IPC_LOCK or raise memlock (ulimit -l, limits.conf)",
		     fmt_size(f->memlock_max, a), fmt_size(need, b), fmt_size(guest_mem, (char[32]){ 0 }));
#undef BOTH
	missing(v->missing_es, &v->nmissing_es, "cloak itself launches plain SEV guests only (no "
		"LAUNCH_UPDATE_VMSA step): SEV-ES guests need another VMM for now");
	snp_verdict(f, v);
	v->sev_ok = v->nmissing_sev == 0;
	v->sev_es_ok = false;
	v->snp_ok = v->nmissing_snp == 0;
}

struct item {
	const char *section, *name, *source;
	char value[96];
};

static void json_str(FILE *out, const char *s)
{
	fputc('"', out);
	for (; *s; s++) {
		if (*s == '"' || *s == '\\')
			fprintf(out, "\\%c", *s);
		else if ((unsigned char)*s < 0x20)
			fprintf(out, "\\u%04x", *s);
		else
			fputc(*s, out);
	}
	fputc('"', out);
}

void sev_host_report(FILE *out, const struct sev_host_facts *f, const struct sev_verdict *v, bool json,
		     const char *sev_device)
{
	struct item it[40];
	unsigned n = 0, i;
	char a[32], b[32];
	const char *section = "";

#define ITEM(sec, nm, src, ...) do { it[n] = (struct item){ sec, nm, src, "" }; \
				    snprintf(it[n].value, sizeof(it[n].value), __VA_ARGS__); n++; } while (0)
	ITEM("cpu", "vendor", "CPUID 0x0", "%s", f->vendor);
	ITEM("cpu", "leaf 0x8000001F", "CPUID 0x80000000 EAX", "%s", f->leaf_present ? "present" : "absent");
	ITEM("cpu", "SEV", "CPUID 0x8000001F EAX bit 1", "%s", f->eax & 2 ? "yes" : "no");
	ITEM("cpu", "SEV-ES", "CPUID 0x8000001F EAX bit 3", "%s", f->eax & 8 ? "yes" : "no");
	ITEM("cpu", "SEV-SNP", "CPUID 0x8000001F EAX bit 4", "%s", f->eax & 16 ? "yes" : "no");
	ITEM("cpu", "C-bit position", "CPUID 0x8000001F EBX[5:0]", "%u", f->ebx & 0x3f);
	ITEM("cpu", "physical address reduction", "CPUID 0x8000001F EBX[11:6]", "%u", (f->ebx >> 6) & 0x3f);
	ITEM("cpu", "encrypted guests (max ASID)", "CPUID 0x8000001F ECX", "%u", f->ecx);
	ITEM("cpu", "minimum SEV ASID", "CPUID 0x8000001F EDX", "%u", f->edx);
	if (f->edx > f->ecx)
		ITEM("cpu", "SEV ASIDs", "EDX..ECX", "none: all %u go to SEV-ES/SNP", f->ecx);
	else if (f->ecx)
		ITEM("cpu", "SEV ASIDs", "EDX..ECX", "%u-%u (%u guests)", f->edx ? f->edx : 1, f->ecx,
		     f->ecx - (f->edx ? f->edx : 1) + 1);
	if (f->edx > 1)
		ITEM("cpu", "SEV-ES and SNP ASIDs", "1..EDX-1, shared", "1-%u (%u guests, ES and SNP together)",
		     f->edx - 1, f->edx - 1);
	else if (f->leaf_present)
		ITEM("cpu", "SEV-ES and SNP ASIDs", "1..EDX-1, shared", "none (minimum SEV ASID %u)", f->edx);
	ITEM("kvm_amd", "loaded", "/sys/module/kvm_amd", "%s", f->kvm_amd_loaded ? "yes" : "no");
	ITEM("kvm_amd", "sev", "/sys/module/kvm_amd/parameters/sev", "%s", f->kvm_amd_sev[0] ? f->kvm_amd_sev : "absent");
	ITEM("kvm_amd", "sev_es", "/sys/module/kvm_amd/parameters/sev_es", "%s",
	     f->kvm_amd_sev_es[0] ? f->kvm_amd_sev_es : "absent");
	ITEM("kvm_amd", "sev_snp", "/sys/module/kvm_amd/parameters/sev_snp", "%s",
	     f->kvm_amd_sev_snp[0] ? f->kvm_amd_sev_snp : "absent");
	if (f->dev_sev_exists)
		ITEM("psp", "device", sev_device, "mode %04o uid %u gid %u, %s", f->dev_sev_mode, f->dev_sev_uid,
		     f->dev_sev_gid, f->dev_sev_rw ? "read-write for this user" : "NOT read-write for this user");
	else
		ITEM("psp", "device", sev_device, "absent (%s)", strerror(f->dev_sev_open_errno));
	if (f->status_ok) {
		ITEM("psp", "API version", "SEV_PLATFORM_STATUS", "%u.%u", f->status.api_major, f->status.api_minor);
		ITEM("psp", "build", "SEV_PLATFORM_STATUS", "%u", f->status.build);
		ITEM("psp", "state", "SEV_PLATFORM_STATUS", "%s", sev_platform_state_name(f->status.state));
		ITEM("psp", "guests", "SEV_PLATFORM_STATUS", "%u", f->status.guest_count);
		ITEM("psp", "SEV-ES configured", "SEV_PLATFORM_STATUS flags 0x100", "%s",
		     f->status.flags & SEV_STATUS_FLAGS_CONFIG_ES ? "yes" : "no");
	} else {
		ITEM("psp", "platform status", "SEV_PLATFORM_STATUS", "%s",
		     f->dev_sev_exists ? "unavailable (see the device line)" : "not run: no /dev/sev");
	}
	if (f->snp_status_ok) {
		ITEM("psp", "SNP API version", "SNP_PLATFORM_STATUS", "%u.%u (build %u)", f->snp_api_major,
		     f->snp_api_minor, f->snp_build);
		ITEM("psp", "SNP state", "SNP_PLATFORM_STATUS", "%s, RMP %s", f->snp_state == SNP_PSTATE_INIT ?
		     "INIT" : "UNINIT", f->snp_rmp_initialized ? "initialized" : "not initialized");
		ITEM("psp", "SNP guests", "SNP_PLATFORM_STATUS", "%u", f->snp_guest_count);
		ITEM("psp", "SNP TCB (current, reported)", "SNP_PLATFORM_STATUS", "0x%016llx, 0x%016llx",
		     (unsigned long long)f->snp_current_tcb, (unsigned long long)f->snp_reported_tcb);
	} else if (f->dev_sev_exists && !f->dev_sev_open_errno) {
		ITEM("psp", "SNP platform status", "SNP_PLATFORM_STATUS", "failed: %s, firmware status 0x%x",
		     strerror(f->snp_status_errno), f->snp_status_fw_error);
	}
	if (f->vm_types >= 0)
		ITEM("kvm", "VM types", "KVM_CHECK_EXTENSION(KVM_CAP_VM_TYPES)", "0x%x: %s", (unsigned)f->vm_types,
		     f->vm_types & (1 << KVM_X86_SEV_VM) ? "KVM_X86_SEV_VM, cloak uses KVM_SEV_INIT2" :
							    "no KVM_X86_SEV_VM, cloak uses legacy KVM_SEV_INIT");
	if (f->vm_types >= 0)
		ITEM("kvm", "SNP VM type", "KVM_CAP_VM_TYPES bit 4", "%s", f->vm_types & (1 << KVM_X86_SNP_VM) ?
		     "KVM_X86_SNP_VM offered" : "no KVM_X86_SNP_VM: this kernel has no SNP support");
	else
		ITEM("kvm", "VM types", "KVM_CHECK_EXTENSION(KVM_CAP_VM_TYPES)", "not asked: /dev/kvm %s",
		     f->kvm_exists ? "cannot be opened" : "is absent");
	ITEM("limits", "RLIMIT_MEMLOCK", "getrlimit", "%s (hard %s)",
	     f->memlock_cur == (uint64_t)RLIM_INFINITY ? "unlimited" : fmt_size(f->memlock_cur, a),
	     f->memlock_max == (uint64_t)RLIM_INFINITY ? "unlimited" : fmt_size(f->memlock_max, b));
	ITEM("limits", "CAP_IPC_LOCK", "capget (effective set)", "%s", f->cap_ipc_lock ? "yes" : "no");
#undef ITEM

	if (json) {
		fprintf(out, "{\n  \"items\": [\n");
		for (i = 0; i < n; i++) {
			fprintf(out, "    {\"section\": ");
			json_str(out, it[i].section);
			fprintf(out, ", \"name\": ");
			json_str(out, it[i].name);
			fprintf(out, ", \"value\": ");
			json_str(out, it[i].value);
			fprintf(out, ", \"source\": ");
			json_str(out, it[i].source);
			fprintf(out, "}%s\n", i + 1 < n ? "," : "");
		}
		fprintf(out, "  ],\n  \"verdict\": {\n");
		for (i = 0; i < 3; i++) {
			static const char *const names[] = { "sev", "sev_es", "sev_snp" };
			const bool ok[] = { v->sev_ok, v->sev_es_ok, v->snp_ok };
			const unsigned cnt[] = { v->nmissing_sev, v->nmissing_es, v->nmissing_snp };
			const char (*const lists[])[256] = { v->missing_sev, v->missing_es, v->missing_snp };
			unsigned k;

			fprintf(out, "    \"%s\": {\"available\": %s, \"missing\": [", names[i], ok[i] ? "true" : "false");
			for (k = 0; k < cnt[i]; k++) {
				fprintf(out, "%s", k ? ", " : "");
				json_str(out, lists[i][k]);
			}
			fprintf(out, "]}%s\n", i < 2 ? "," : "");
		}
		fprintf(out, "  }\n}\n");
		return;
	}
	fprintf(out, "cloak host-check: can this host launch AMD SEV and SEV-SNP guests?\n");
	for (i = 0; i < n; i++) {
		if (strcmp(section, it[i].section)) {
			section = it[i].section;
			fprintf(out, "\n%s\n", section);
		}
		fprintf(out, "  %-28s %-44s [%s]\n", it[i].name, it[i].value, it[i].source);
	}
	fprintf(out, "\nverdict\n");
	if (v->sev_ok)
		fprintf(out, "  SEV: available\n");
	else
		fprintf(out, "  SEV: NOT available on this host, because:\n");
	for (i = 0; i < v->nmissing_sev; i++)
		fprintf(out, "    - %s\n", v->missing_sev[i]);
	fprintf(out, "  SEV-ES: %s\n", v->sev_es_ok ? "available" : "NOT available, because:");
	for (i = 0; i < v->nmissing_es; i++)
		fprintf(out, "    - %s\n", v->missing_es[i]);
	fprintf(out, "  SEV-SNP: %s\n", v->snp_ok ? "available" : "NOT available, because:");
	for (i = 0; i < v->nmissing_snp; i++)
		fprintf(out, "    - %s\n", v->missing_snp[i]);
	if (!v->sev_ok)
		fprintf(out, "\nWithout SEV hardware, `cloak run --sev --sev-backend sim` runs the launch against a "
			     "simulated PSP (guest memory NOT encrypted).\n");
}

struct host_check_args {
	const char *sev_device, *kvm_device, *kvm_amd_params;
	uint64_t mem;
	bool json;
};

static int host_check_set(void *ctx, int opt, const char *arg, struct cloak_err *err)
{
	struct host_check_args *a = ctx;

	switch (opt) {
	case 'j': a->json = true; return 0;
	case 's': a->sev_device = arg; return 0;
	case 'k': a->kvm_device = arg; return 0;
	case 'p': a->kvm_amd_params = arg; return 0;
	case 'm':
		if (config_parse_size(arg, &a->mem) < 0 || a->mem == 0)
			return err_set(err, "--mem: '%s' is not a size; write it like 512M", arg);
		return 0;
	}
	return err_set(err, "internal error: option %d has no handler", opt);
}

int sev_host_check_main(int argc, char **argv)
{
	static const struct option opts[] = {
		{ "json", no_argument, NULL, 'j' },
		{ "sev-device", required_argument, NULL, 's' },
		{ "kvm-device", required_argument, NULL, 'k' },
		{ "kvm-amd-params", required_argument, NULL, 'p' },
		{ "mem", required_argument, NULL, 'm' },
		{ "help", no_argument, NULL, 'h' },
		{ NULL, 0, NULL, 0 },
	};
	static const struct sev_cli cli = {
		.cmd = "host-check",
		.opts = opts,
		.help = "usage: cloak host-check [--json] [--mem SIZE] [--sev-device PATH] [--kvm-device PATH]\n"
			"                         [--kvm-amd-params DIR]\n"
			"\n"
			"Reports what this host offers for AMD SEV, SEV-ES and SEV-SNP, where each fact comes from,\n"
			"and for each missing piece what to change. --kvm-amd-params reads kvm_amd's parameters\n"
			"from DIR instead of /sys/module/kvm_amd/parameters (for tests and containers).\n"
			"--mem (default 128M) sizes the memory-locking check: what\n"
			"`cloak run --sev --mem SIZE` pins for the demo guest, i.e. guest memory, its largest\n"
			"measured region and one page. Larger images pin more: their largest measured region.\n"
			"Exit status: 0 SEV guests can be launched, 1 they cannot, 2 bad usage.\n",
		.set = host_check_set,
	};
	struct host_check_args a = { .sev_device = "/dev/sev", .kvm_device = "/dev/kvm", .mem = CONFIG_DEFAULT_MEM };
	struct sev_host_facts f;
	struct sev_verdict v;
	int rc = sev_cli_parse(&cli, argc, argv, &a);

	if (rc != SEV_CLI_OK)
		return rc == SEV_CLI_HELP ? 0 : CLOAK_EXIT_ERROR;
	sev_host_probe(&f, a.sev_device, a.kvm_device, a.kvm_amd_params);
	sev_host_verdict(&f, a.mem, sev_host_pin_estimate(a.mem), &v);
	sev_host_report(stdout, &f, &v, a.json, a.sev_device);
	return v.sev_ok ? 0 : 1;
}
