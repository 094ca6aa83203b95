/* config.c: `cloak run` arguments -> struct vm_config, every error naming its option. */
#include "config.h"

#include "sev/sev.h"
#include "sev/snp.h"
#include "virtio_queues.h"

#include <ctype.h>
#include <errno.h>
#include <getopt.h>
#include <grp.h>
#include <inttypes.h>
#include <limits.h>
#include <libgen.h>
#include <pwd.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>

void config_defaults(struct vm_config *cfg)
{
	memset(cfg, 0, sizeof(*cfg));
	cfg->mem_size = CONFIG_DEFAULT_MEM;
	cfg->cpus = 1;
	cfg->kvm_device = "/dev/kvm";
	cfg->pin = true;
	cfg->sev_backend = SEV_BACKEND_REAL;
	cfg->sev_policy = SEV_POLICY_DEFAULT;
	cfg->snp_policy = SNP_POLICY_DEFAULT;
	cfg->sev_device = "/dev/sev";
	cfg->shutdown_timeout = CONFIG_DEFAULT_SHUTDOWN_TIMEOUT;
}

int config_parse_size(const char *s, uint64_t *out)
{
	unsigned long long v;
	uint64_t mult = 1;
	char *end;

	if (!s || !*s || *s == '-' || *s == '+')
		return -1;
	errno = 0;
	v = strtoull(s, &end, 10);
	if (errno || end == s)
		return -1;
	if (*end) {
		switch (*end) {
		case 'k': case 'K': mult = KiB; break;
		case 'm': case 'M': mult = MiB; break;
		case 'g': case 'G': mult = GiB; break;
		case 't': case 'T': mult = 1024 * GiB; break;
		default: return -1;
		}
		end++;
		if (!strcmp(end, "iB") || !strcmp(end, "B") || !strcmp(end, "ib"))
			end += strlen(end);
		if (*end)
			return -1;
	}
	if (v > UINT64_MAX / mult)
		return -1;
	*out = v * mult;
	return 0;
}

struct cpuid_feature {
	const char *name;
	uint32_t leaf, subleaf;
	enum cpuid_reg reg;
	unsigned bit;
};

/* Names for the bits worth hiding on our machines (docs/test-machines.md) and the usual suspects. */
static const struct cpuid_feature cpuid_features[] = {
	{ "pclmulqdq", 1, 0, CPUID_ECX, 1 },
	{ "vmx", 1, 0, CPUID_ECX, 5 },
	{ "ssse3", 1, 0, CPUID_ECX, 9 },
	{ "fma", 1, 0, CPUID_ECX, 12 },
	{ "cx16", 1, 0, CPUID_ECX, 13 },
	{ "sse4_1", 1, 0, CPUID_ECX, 19 },
	{ "sse4_2", 1, 0, CPUID_ECX, 20 },
	{ "x2apic", 1, 0, CPUID_ECX, 21 },
	{ "movbe", 1, 0, CPUID_ECX, 22 },
	{ "tsc-deadline", 1, 0, CPUID_ECX, 24 },
	{ "aes", 1, 0, CPUID_ECX, 25 },
	{ "xsave", 1, 0, CPUID_ECX, 26 },
	{ "avx", 1, 0, CPUID_ECX, 28 },
	{ "f16c", 1, 0, CPUID_ECX, 29 },
	{ "rdrand", 1, 0, CPUID_ECX, 30 },
	{ "bmi1", 7, 0, CPUID_EBX, 3 },
	{ "avx2", 7, 0, CPUID_EBX, 5 },
	{ "bmi2", 7, 0, CPUID_EBX, 8 },
	{ "avx512f", 7, 0, CPUID_EBX, 16 },
	{ "rdseed", 7, 0, CPUID_EBX, 18 },
	{ "sha", 7, 0, CPUID_EBX, 29 },
	{ "xsaveopt", 0xd, 1, CPUID_EAX, 0 },
	{ "svm", 0x80000001, 0, CPUID_ECX, 2 },
	{ "pdpe1gb", 0x80000001, 0, CPUID_EDX, 26 },
	{ "rdtscp", 0x80000001, 0, CPUID_EDX, 27 },
	{ "kvmclock", 0x40000001, 0, CPUID_EAX, 3 },
};

static int cpuid_add(struct vm_config *cfg, uint32_t leaf, uint32_t subleaf, enum cpuid_reg reg,
		     uint32_t mask, struct cloak_err *err)
{
	if (cfg->ncpuid_clear >= CONFIG_MAX_CPUID_CLEAR)
		return err_set(err, "--cpuid-clear: more than %d entries; merge bits of one register into one entry",
			       CONFIG_MAX_CPUID_CLEAR);
	cfg->cpuid_clear[cfg->ncpuid_clear++] = (struct cpuid_clear){ leaf, subleaf, reg, mask };
	return 0;
}

/*
 * One number of LEAF[.SUBLEAF]:REG:BIT, decimal or 0x-hex. strtoul alone would
 * also take leading blanks and a sign, so the text must start with a digit.
 */
static bool cpuid_number(const char **p, unsigned long max, unsigned long *out)
{
	char *end;

	if (!isdigit((unsigned char)**p))
		return false;
	errno = 0;
	*out = strtoul(*p, &end, 0);
	if (errno || end == *p || *out > max)
		return false;
	*p = end;
	return true;
}

static int cpuid_parse_raw(const char *item, struct vm_config *cfg, struct cloak_err *err)
{
	static const char *regs[] = { "eax", "ebx", "ecx", "edx" };
	unsigned long leaf, subleaf = 0, bit;
	char regname[8];
	const char *p = item;
	unsigned r;

	if (!cpuid_number(&p, UINT32_MAX, &leaf))
		goto bad;
	if (*p == '.') {
		p++;
		if (!cpuid_number(&p, UINT32_MAX, &subleaf))
			goto bad;
	}
	if (*p++ != ':' || strlen(p) < 5 || p[3] != ':')
		goto bad;
	memcpy(regname, p, 3);
	regname[3] = 0;
	for (r = 0; r < 4; r++)
		if (!strcasecmp(regname, regs[r]))
			break;
	if (r == 4)
		goto bad;
	p += 4;
	if (!cpuid_number(&p, 31, &bit) || *p)
		goto bad;
	return cpuid_add(cfg, (uint32_t)leaf, (uint32_t)subleaf, (enum cpuid_reg)r, 1u << bit, err);
bad:
	return err_set(err, "--cpuid-clear: '%s' is neither a known feature name nor LEAF[.SUBLEAF]:REG:BIT "
			    "(for example cx16 or 0x1:ecx:13); `cloak run --help` lists the names", item);
}

int config_parse_cpuid_clear(const char *s, struct vm_config *cfg, struct cloak_err *err)
{
	char *copy = strdup(s), *save = NULL, *item;
	int rc = 0;

	if (!copy)
		return err_set(err, "out of memory");
	if (!*s)
		rc = err_set(err, "--cpuid-clear: empty list; give feature names such as cx16,xsave");
	for (item = strtok_r(copy, ",", &save); item && !rc; item = strtok_r(NULL, ",", &save)) {
		size_t i;

		for (i = 0; i < ARRAY_SIZE(cpuid_features); i++)
			if (!strcasecmp(item, cpuid_features[i].name))
				break;
		if (i < ARRAY_SIZE(cpuid_features)) {
			const struct cpuid_feature *f = &cpuid_features[i];

			rc = cpuid_add(cfg, f->leaf, f->subleaf, f->reg, 1u << f->bit, err);
		} else {
			rc = cpuid_parse_raw(item, cfg, err);
		}
	}
	free(copy);
	return rc;
}

/*
 * The device options. Each row is all cloak-owner needs of a device to take
 * `cloak run`'s arguments and size the DMA budget; the device parses the
 * value (devices/devices.h) and names its option in the same way.
 */
const struct device_option config_device_options[] = {
	{ "disk", "disks", "disk", CONFIG_MAX_DISKS, (uint64_t)BLK_QUEUE_SIZE * BLK_SEGMENT_DMA_BYTES },
	{ "net", "net", "network device", 1, (uint64_t)NET_QUEUES * NET_QUEUE_SIZE * QUEUE_BUFFER_DMA_BYTES },
	{ "console", "console", "console", 1, (uint64_t)CONSOLE_QUEUES * CONSOLE_QUEUE_SIZE * QUEUE_BUFFER_DMA_BYTES },
};
const unsigned config_ndevice_options = ARRAY_SIZE(config_device_options);
_Static_assert(ARRAY_SIZE(config_device_options) <= 32, "config_parse_run keeps one bit per device option");

const struct device_option *config_device_option(const char *name)
{
	unsigned i;

	for (i = 0; i < config_ndevice_options; i++)
		if (!strcmp(config_device_options[i].name, name))
			return &config_device_options[i];
	return NULL;
}

static unsigned option_count(const struct vm_config *cfg, unsigned option)
{
	unsigned i, n = 0;

	for (i = 0; i < cfg->ndevice_args; i++)
		n += cfg->device_args[i].option == &config_device_options[option];
	return n;
}

/* Appends a value of option `option`; from_file/item say where it came from. */
static int add_device(struct vm_config *cfg, unsigned option, const char *value, bool from_file, int item,
		      struct cloak_err *err)
{
	const struct device_option *o = &config_device_options[option];

	if (option_count(cfg, option) >= o->max) {
		if (o->max == 1)
			return err_set(err, "--%s: given twice; cloak attaches one %s", o->name, o->noun);
		return err_set(err, "--%s: more than %u %ss; attach at most %u", o->name, o->max, o->noun, o->max);
	}
	if (cfg->ndevice_args == CONFIG_MAX_DEVICE_ARGS)
		return err_set(err, "--%s: more than %d device options in all; attach fewer devices", o->name,
			       CONFIG_MAX_DEVICE_ARGS);
	cfg->device_args[cfg->ndevice_args++] = (struct device_arg){ o, value, from_file, item };
	return 0;
}

int config_add_device(struct vm_config *cfg, const char *name, const char *value, struct cloak_err *err)
{
	const struct device_option *o = config_device_option(name);

	if (!o)
		return err_set(err, "--%s: no device takes this option; see `cloak run --help`", name);
	return add_device(cfg, (unsigned)(o - config_device_options), value, false, -1, err);
}

int config_add_file_device(struct vm_config *cfg, unsigned option, const char *value, int item,
			   struct cloak_err *err)
{
	return add_device(cfg, option, value, true, item, err);
}

/* Forgets the values of `option` that came from the file: the command line's replace them. */
static void drop_file_devices(struct vm_config *cfg, unsigned option)
{
	unsigned i, n = 0;

	for (i = 0; i < cfg->ndevice_args; i++)
		if (cfg->device_args[i].option != &config_device_options[option] || !cfg->device_args[i].from_file)
			cfg->device_args[n++] = cfg->device_args[i];
	cfg->ndevice_args = n;
}

void config_device_origin(const struct vm_config *cfg, const struct device_arg *a, char *buf, size_t len)
{
	if (!a->from_file)
		snprintf(buf, len, "%s", "");
	else if (a->file_item < 0)
		snprintf(buf, len, "--config %s: key \"%s\": ", cfg->file_path ? cfg->file_path : "",
			 a->option->file_key);
	else
		snprintf(buf, len, "--config %s: key \"%s\": item %d: ", cfg->file_path ? cfg->file_path : "",
			 a->option->file_key, a->file_item);
}

int config_check_parent_dir(const char *opt, const char *path, struct cloak_err *err)
{
	char *copy = strdup(path);
	struct stat st;
	const char *dir;
	int rc = 0;

	if (!copy)
		return err_set(err, "out of memory");
	dir = dirname(copy);
	if (stat(dir, &st) < 0)
		rc = err_errno(err, "%s: the directory %s of %s is not usable; create it or give another path", opt,
			       dir, path);
	else if (!S_ISDIR(st.st_mode))
		rc = err_set(err, "%s: %s is not a directory, so %s cannot be created; give another path", opt, dir,
			     path);
	free(copy);
	return rc;
}

void config_print_run_help(FILE *out, void (*device_help)(FILE *out))
{
	size_t i;

	fprintf(out,
		"usage: cloak run [OPTIONS]\n"
		"\n"
		"Boots one guest on /dev/kvm. With no --kernel, boots the demo guest built into cloak.\n"
		"\n"
		"  --kernel FILE        guest image (README \"Guest ABI\"); the first kind it is, in this order:\n"
		"                         Linux bzImage (64-bit boot protocol 2.12 or later)\n"
		"                         Multiboot 1 kernel (ELF32, or flat with the a.out-kludge fields)\n"
		"                         ELF32 or ELF64 with a Xen PVH note (entered the PVH way)\n"
		"                         Multiboot 2 kernel (ELF32, ELF64 or flat with an address tag)\n"
		"                         static ELF64 (64-bit mode, RDI = boot-info device tree)\n"
		"                       Under --sev (real or sim) only the 64-bit entries run: ELF64 and\n"
		"                       bzImage. PVH and Multiboot kernels start in 32-bit mode and turn\n"
		"                       paging on without the C-bit, so they are refused.\n"
		"  --initrd FILE        initial ramdisk / boot module (Multiboot: module 0)\n"
		"  --cmdline STR        kernel command line (at most %d bytes)\n"
		"  --mem SIZE           guest memory, with K/M/G suffix (default 128M; %llu MiB to %llu GiB,\n"
		"                       a multiple of 2 MiB)\n"
		"  --cpus N             number of vCPUs (default 1, at most %d)\n"
		"  --timeline FILE      write the launch timeline and exit counts as JSON to FILE\n"
		"  --cpuid-clear LIST   hide CPUID bits from the guest: comma-separated feature names or\n"
		"                       LEAF[.SUBLEAF]:REG:BIT (e.g. cx16,xsave or 0x1:ecx:13)\n"
		"  --no-pin             do not lock guest memory in RAM (it is locked by default)\n"
		"  --hugepages          back guest memory with 2 MiB huge pages (hugetlbfs must have enough)\n"
		"  --kvm-device PATH    the KVM device to open (default /dev/kvm)\n"
		"  --user USER[:GROUP]  once set up, run as USER (name or number) and GROUP (default:\n"
		"                       USER's primary group) on every thread\n"
		"  --seccomp on|off|log every thread gets a seccomp allowlist for its role (default on: a\n"
		"                       call outside it stops cloak with status 2 and names the call;\n"
		"                       log: the kernel logs such calls to the audit log and lets them run)\n"
		"  --shutdown-timeout SECS\n"
		"                       on SIGTERM, press the guest's power button and give it SECS\n"
		"                       seconds to power off before stopping it (default %d, at most %d;\n"
		"                       0: stop at once)\n"
		"  --config FILE        the whole VM as one JSON file (README \"Configuration file\"); the\n"
		"                       options given beside it override its keys\n"
		"  -h, --help           this text\n"
		"\n"
		"AMD SEV (README \"SEV launch\"; `cloak host-check` says whether this host can):\n"
		"  --sev                launch the guest encrypted: INIT, LAUNCH_START, LAUNCH_UPDATE_DATA over\n"
		"                       the measured plan, LAUNCH_MEASURE, [LAUNCH_SECRET], LAUNCH_FINISH\n"
		"  --sev-mode MODE      sev (default: plain SEV), es (SEV-ES: the vCPUs' VMSAs are encrypted\n"
		"                       and measured too) or snp (SEV-SNP: private memory, page types,\n"
		"                       the CPUID and secrets pages, attestation reports)\n"
		"  --policy HEX         guest policy (default 0x%x = NODBG); bits 6-15 are reserved, and\n"
		"                       bit 2 (SEV-ES) is set by --sev-mode es, never by hand. Under\n"
		"                       --sev-mode snp: the 64-bit SNP policy (default 0x30000: SMT allowed;\n"
		"                       0-15 lowest ABI, 16 SMT, 17 must be 1, 18 MIGRATE_MA, 19 DEBUG,\n"
		"                       20 SINGLE_SOCKET, 21-25 newer ABI bits; 26-63 reserved)\n"
		"  --dh-cert-file FILE  the guest owner's GODH certificate, base64 (`cloak-owner session`)\n"
		"  --session-file FILE  the guest owner's session blob, base64; needs --dh-cert-file\n"
		"  --measurement-out F  write the launch measurement to F: under sev MEASURE | MNONCE in\n"
		"                       base64; under es and snp the launch digest in hex, as `cloak-owner measure`\n"
		"                       (and sev-snp-measure) print it\n"
		"  --attest-cmd CMD     run CMD (sh -c) with the measurement in its environment; its output\n"
		"                       is empty or a secret to inject; a non-zero status aborts the launch.\n"
		"                       CMD runs with no capabilities, no_new_privs, only fds 0-2 and an\n"
		"                       environment of PATH=/usr/bin:/bin and the CLOAK_SEV_ variables\n"
		"  --sev-backend KIND   real (default: /dev/sev and KVM) or sim (a simulated PSP on plain KVM;\n"
		"                       guest memory is NOT encrypted)\n"
		"  --sev-device PATH    the PSP device (default /dev/sev)\n"
		"  --sev-sim-key FILE   the simulated platform's PDH key (PEM, from `cloak sev-export`)\n"
		"  --measured-boot verifier|full\n"
		"                       what the launch measures. verifier (default under --sev-mode sev):\n"
		"                       cloak's boot verifier and a table of SHA-256 hashes, at most\n"
		"                       64 KiB whatever the kernel;\n"
		"                       the kernel, initrd and command line are staged in shared memory and\n"
		"                       the verifier copies, hashes and checks them before entering the\n"
		"                       guest (a mismatch stops it with exit status 123). full: the\n"
		"                       kernel, initrd and command line themselves are measured (default,\n"
		"                       and the only mode, under --sev-mode es and snp)\n"
		"  --debug-tamper-staged ITEM\n"
		"                       FOR TESTS ONLY: after LAUNCH_FINISH, change one byte of the staged\n"
		"                       ITEM (kernel, initrd or cmdline), which the verifier must refuse\n"
		"  --id-block FILE      snp: the ID block for SNP_LAUNCH_FINISH, base64 (`cloak-owner id-block\n"
		"                       build`); the firmware refuses the launch unless it names its digest\n"
		"                       and policy; needs --id-auth\n"
		"  --id-auth FILE       snp: the ID block's authentication information (ID key, its\n"
		"                       signature, optionally the author key's), base64\n"
		"  --host-data B64      snp: 32 bytes, base64, that every attestation report carries\n"
		"  --sev-sim-report DIR snp under --sev-backend sim: after the launch, write a report the\n"
		"                       simulated firmware signed (report.bin) and its VCEK chain (ca.pem,\n"
		"                       vcek.der) to DIR for `cloak-owner report verify --allow-unknown-ark`\n"
		"\n"
		"Feature names for --cpuid-clear:",
		CONFIG_MAX_CMDLINE - 1, (unsigned long long)(CONFIG_MIN_MEM / MiB),
		(unsigned long long)(CONFIG_MAX_MEM / GiB), CONFIG_MAX_CPUS,
		CONFIG_DEFAULT_SHUTDOWN_TIMEOUT, CONFIG_MAX_SHUTDOWN_TIMEOUT, SEV_POLICY_DEFAULT);
	for (i = 0; i < ARRAY_SIZE(cpuid_features); i++)
		fprintf(out, "%s%s", i % 10 ? " " : "\n  ", cpuid_features[i].name);
	fprintf(out, "\n");
	if (device_help) {
		fprintf(out, "\nDevice options (README \"Devices\"; their --config keys:");
		for (i = 0; i < ARRAY_SIZE(config_device_options); i++)
			fprintf(out, "%s%s", i ? ", " : " ", config_device_options[i].file_key);
		fprintf(out, "):\n");
		device_help(out);
	}
	fprintf(out,
		"\n"
		"Guest devices: COM1 8250 UART at 0x3f8 (stdout; stdin when it is a terminal or pipe),\n"
		"the exit device at port 0xf4, the boot-timer port 0x%x, the i8042 reset line (0x64),\n"
		"the CMOS clock (0x70), the power button (0x7f, GSI 16: pressed on SIGTERM), a PCI host\n"
		"bridge (0xcf8) with the virtio devices above, and the in-kernel PIC, IOAPIC, LAPIC and\n"
		"PIT. bzImage, PVH and Multiboot guests also get ACPI tables; under --sev a bzImage's\n"
		"command line gets swiotlb=<slabs> sized from the devices unless it has a swiotlb= of\n"
		"its own.\n"
		"\n"
		"Exit status: 0 the guest powered off or reset itself; odd values (v << 1) | 1 the guest\n"
		"wrote v to port 0xf4; 2 cloak could not start or run the guest, or a thread made a system\n"
		"call its seccomp filter forbids (the message says why);\n"
		"4 the guest crashed (triple fault); 6 KVM could not go on running the guest (emulation or\n"
		"entry failure); 8 cloak was stopped by SIGINT, or by SIGTERM when the guest did not power\n"
		"off within --shutdown-timeout (a guest that does gives 0).\n",
		0x7e);
}

enum {
	OPT_KERNEL = 256, OPT_INITRD, OPT_CMDLINE, OPT_MEM, OPT_CPUS, OPT_TIMELINE,
	OPT_CPUID_CLEAR, OPT_NO_PIN, OPT_HUGEPAGES, OPT_KVM_DEVICE,
	OPT_SEV, OPT_POLICY, OPT_DH_CERT, OPT_SESSION, OPT_MEASUREMENT_OUT, OPT_ATTEST_CMD, OPT_SEV_BACKEND,
	OPT_SEV_DEVICE, OPT_SEV_SIM_KEY, OPT_MEASURED_BOOT, OPT_DEBUG_TAMPER_STAGED, OPT_SEV_MODE, OPT_ID_BLOCK,
	OPT_ID_AUTH, OPT_HOST_DATA, OPT_SEV_SIM_REPORT, OPT_USER, OPT_SECCOMP, OPT_SHUTDOWN_TIMEOUT, OPT_CONFIG,
};

static const struct option run_options[] = {
	{ "kernel", required_argument, NULL, OPT_KERNEL },
	{ "initrd", required_argument, NULL, OPT_INITRD },
	{ "cmdline", required_argument, NULL, OPT_CMDLINE },
	{ "mem", required_argument, NULL, OPT_MEM },
	{ "cpus", required_argument, NULL, OPT_CPUS },
	{ "timeline", required_argument, NULL, OPT_TIMELINE },
	{ "cpuid-clear", required_argument, NULL, OPT_CPUID_CLEAR },
	{ "no-pin", no_argument, NULL, OPT_NO_PIN },
	{ "hugepages", no_argument, NULL, OPT_HUGEPAGES },
	{ "kvm-device", required_argument, NULL, OPT_KVM_DEVICE },
	{ "sev", no_argument, NULL, OPT_SEV },
	{ "policy", required_argument, NULL, OPT_POLICY },
	{ "dh-cert-file", required_argument, NULL, OPT_DH_CERT },
	{ "session-file", required_argument, NULL, OPT_SESSION },
	{ "measurement-out", required_argument, NULL, OPT_MEASUREMENT_OUT },
	{ "attest-cmd", required_argument, NULL, OPT_ATTEST_CMD },
	{ "sev-backend", required_argument, NULL, OPT_SEV_BACKEND },
	{ "sev-device", required_argument, NULL, OPT_SEV_DEVICE },
	{ "sev-sim-key", required_argument, NULL, OPT_SEV_SIM_KEY },
	{ "measured-boot", required_argument, NULL, OPT_MEASURED_BOOT },
	{ "debug-tamper-staged", required_argument, NULL, OPT_DEBUG_TAMPER_STAGED },
	{ "sev-mode", required_argument, NULL, OPT_SEV_MODE },
	{ "id-block", required_argument, NULL, OPT_ID_BLOCK },
	{ "id-auth", required_argument, NULL, OPT_ID_AUTH },
	{ "host-data", required_argument, NULL, OPT_HOST_DATA },
	{ "sev-sim-report", required_argument, NULL, OPT_SEV_SIM_REPORT },
	{ "user", required_argument, NULL, OPT_USER },
	{ "seccomp", required_argument, NULL, OPT_SECCOMP },
	{ "shutdown-timeout", required_argument, NULL, OPT_SHUTDOWN_TIMEOUT },
	{ "config", required_argument, NULL, OPT_CONFIG },
	{ "help", no_argument, NULL, 'h' },
	{ NULL, 0, NULL, 0 },
};

static int parse_cpus(const char *s, unsigned *out, struct cloak_err *err)
{
	unsigned long v;
	char *end;

	errno = 0;
	v = strtoul(s, &end, 10);
	if (errno || end == s || *end || *s == '-' || *s == '+')
		return err_set(err, "--cpus: '%s' is not a number; give 1 to %d", s, CONFIG_MAX_CPUS);
	if (v == 0)
		return err_set(err, "--cpus: 0 vCPUs cannot run anything; give 1 to %d", CONFIG_MAX_CPUS);
	if (v > CONFIG_MAX_CPUS)
		return err_set(err, "--cpus: %lu vCPUs are more than cloak supports; give 1 to %d", v,
			       CONFIG_MAX_CPUS);
	*out = (unsigned)v;
	return 0;
}

static int parse_mem(const char *s, uint64_t *out, struct cloak_err *err)
{
	char a[32], b[32];
	uint64_t v;

	if (config_parse_size(s, &v) < 0)
		return err_set(err, "--mem: '%s' is not a size; write it like 512M or 2G", s);
	if (v < CONFIG_MIN_MEM || v > CONFIG_MAX_MEM)
		return err_set(err, "--mem: %s is out of range; give %s to %s", s, fmt_size(CONFIG_MIN_MEM, a),
			       fmt_size(CONFIG_MAX_MEM, b));
	if (v % (2 * MiB))
		return err_set(err, "--mem: %s is not a multiple of 2 MiB; round it, for example to %lluM", s,
			       (unsigned long long)(ALIGN_UP(v, 2 * MiB) / MiB));
	*out = v;
	return 0;
}

int config_parse_mem(const char *s, uint64_t *out, struct cloak_err *err)
{
	return parse_mem(s, out, err);
}

int config_parse_cpus(const char *s, unsigned *out, struct cloak_err *err)
{
	return parse_cpus(s, out, err);
}

/* A plain decimal id, or false. */
static bool parse_id(const char *s, uint32_t *out)
{
	unsigned long v;
	char *end;

	if (!*s || *s < '0' || *s > '9')
		return false;
	errno = 0;
	v = strtoul(s, &end, 10);
	if (errno || *end || v >= UINT32_MAX)
		return false;
	*out = (uint32_t)v;
	return true;
}

int config_parse_user(const char *s, struct vm_config *cfg, struct cloak_err *err)
{
	char user[256];
	const char *group = strchr(s, ':');
	size_t ulen = group ? (size_t)(group - s) : strlen(s);
	struct passwd *pw;
	struct group *gr;
	uint32_t uid, gid;

	if (ulen == 0 || ulen >= sizeof(user) || (group && !group[1]))
		return err_set(err, "--user: '%s' is not USER[:GROUP]; give a user name or number, e.g. --user cloak "
				    "or --user 1000:1000", s);
	memcpy(user, s, ulen);
	user[ulen] = 0;
	pw = getpwnam(user);
	if (pw)
		uid = pw->pw_uid;
	else if (!parse_id(user, &uid))
		return err_set(err, "--user: no user '%s' on this host; create it (useradd --system %s) or give a "
				    "number", user, user);
	if (uid == 0)
		return err_set(err, "--user: '%s' is root; give an unprivileged user", user);
	if (group) {
		gr = getgrnam(group + 1);
		if (gr)
			gid = gr->gr_gid;
		else if (!parse_id(group + 1, &gid))
			return err_set(err, "--user: no group '%s' on this host; give an existing group or a number",
				       group + 1);
	} else {
		if (!pw)
			pw = getpwuid(uid);
		gid = pw ? pw->pw_gid : uid;
	}
	if (gid == 0)
		return err_set(err, "--user: group 0 is root's; give an unprivileged group");
	cfg->has_user = true;
	cfg->user_uid = uid;
	cfg->user_gid = gid;
	return 0;
}

int config_parse_seccomp(const char *s, struct vm_config *cfg, struct cloak_err *err)
{
	if (!strcmp(s, "on"))
		cfg->seccomp = CLOAK_SECCOMP_ON;
	else if (!strcmp(s, "off"))
		cfg->seccomp = CLOAK_SECCOMP_OFF;
	else if (!strcmp(s, "log"))
		cfg->seccomp = CLOAK_SECCOMP_LOG;
	else
		return err_set(err, "--seccomp: '%s' is not a mode; give on, off or log", s);
	return 0;
}

int config_parse_shutdown_timeout(const char *s, struct vm_config *cfg, struct cloak_err *err)
{
	unsigned long v;
	char *end;

	errno = 0;
	v = strtoul(s, &end, 10);
	if (errno || end == s || *end || *s == '-' || *s == '+' || v > CONFIG_MAX_SHUTDOWN_TIMEOUT)
		return err_set(err, "--shutdown-timeout: '%s' is not a number of seconds from 0 to %d", s,
			       CONFIG_MAX_SHUTDOWN_TIMEOUT);
	cfg->shutdown_timeout = (unsigned)v;
	return 0;
}

/* The SEV options only mean something together with --sev; says which one came without it. */
static int config_check_sev(const struct vm_config *cfg, const char *sev_only_opt, struct cloak_err *err)
{
	if (!cfg->sev) {
		if (sev_only_opt)
			return err_set(err, "%s needs --sev: it configures the SEV launch", sev_only_opt);
		return 0;
	}
	if (!cfg->pin)
		return err_set(err, "--no-pin cannot go with --sev: SEV guest memory must stay pinned "
				    "(KVM_MEMORY_ENCRYPT_REG_REGION); drop --no-pin");
	if (!!cfg->sev_dh_cert_path != !!cfg->sev_session_path)
		return err_set(err, "%s needs %s: the guest owner's GODH certificate and session blob come as a pair "
				    "(`cloak-owner session` writes both)",
			       cfg->sev_dh_cert_path ? "--dh-cert-file" : "--session-file",
			       cfg->sev_dh_cert_path ? "--session-file" : "--dh-cert-file");
	if (cfg->sev_sim_key && cfg->sev_backend != SEV_BACKEND_SIM)
		return err_set(err, "--sev-sim-key needs --sev-backend sim: the real PSP keeps its own PDH key");
	if (cfg->measured_boot == MEASURED_BOOT_VERIFIER && cfg->sev_mode != SEV_LAUNCH_SEV)
		return err_set(err, "--measured-boot verifier: under --sev-mode %s the verifier would meet #VC exceptions "
				    "(and, under snp, unvalidated pages) it cannot handle yet; give --measured-boot full, "
				    "the default under es and snp", config_sev_mode_name(cfg->sev_mode));
	if (cfg->debug_tamper_staged && config_measured_boot(cfg) != MEASURED_BOOT_VERIFIER)
		return err_set(err, "--debug-tamper-staged needs --measured-boot verifier: only then is anything staged");
	if (cfg->sev_mode != SEV_LAUNCH_SNP && (cfg->snp_id_block_path || cfg->snp_id_auth_path ||
						  cfg->snp_has_host_data || cfg->snp_sim_report_dir))
		return err_set(err, "--id-block, --id-auth, --host-data and --sev-sim-report configure SNP_LAUNCH_FINISH: "
				    "they need --sev-mode snp");
	if (!!cfg->snp_id_block_path != !!cfg->snp_id_auth_path)
		return err_set(err, "%s needs %s: the firmware checks the ID block with the keys in its authentication "
				    "information (`cloak-owner id-block build` writes both)",
			       cfg->snp_id_block_path ? "--id-block" : "--id-auth",
			       cfg->snp_id_block_path ? "--id-auth" : "--id-block");
	if (cfg->snp_sim_report_dir && cfg->sev_backend != SEV_BACKEND_SIM)
		return err_set(err, "--sev-sim-report needs --sev-backend sim: on hardware the guest asks the firmware "
				    "for its reports");
	return 0;
}

bool config_sev_mode_parse(const char *s, enum sev_launch_mode *out)
{
	static const char *const names[] = { [SEV_LAUNCH_SEV] = "sev", [SEV_LAUNCH_ES] = "es", [SEV_LAUNCH_SNP] = "snp" };
	unsigned i;

	for (i = 0; i < ARRAY_SIZE(names); i++)
		if (!strcmp(s, names[i])) {
			*out = (enum sev_launch_mode)i;
			return true;
		}
	return false;
}

const char *config_sev_mode_name(enum sev_launch_mode m)
{
	return m == SEV_LAUNCH_SNP ? "snp" : m == SEV_LAUNCH_ES ? "es" : "sev";
}

enum measured_boot_mode config_measured_boot(const struct vm_config *cfg)
{
	if (cfg->measured_boot != MEASURED_BOOT_DEFAULT)
		return cfg->measured_boot;
	return cfg->sev_mode == SEV_LAUNCH_SEV ? MEASURED_BOOT_VERIFIER : MEASURED_BOOT_FULL;
}

int config_parse_measured_boot(const char *s, struct vm_config *cfg, struct cloak_err *err)
{
	if (!strcmp(s, "verifier"))
		cfg->measured_boot = MEASURED_BOOT_VERIFIER;
	else if (!strcmp(s, "full"))
		cfg->measured_boot = MEASURED_BOOT_FULL;
	else
		return err_set(err, "--measured-boot: '%s' is not a mode; give verifier (measure cloak's boot verifier "
				    "and a table of hashes) or full (measure the kernel, initrd and command line)", s);
	return 0;
}

/* The device options' getopt codes: OPT_DEVICE + their row in config_device_options. */
#define OPT_DEVICE 1024

/* run_options behind one entry per device option. */
static const struct option *all_run_options(void)
{
	static struct option all[ARRAY_SIZE(config_device_options) + ARRAY_SIZE(run_options)];
	size_t i;

	for (i = 0; i < ARRAY_SIZE(config_device_options); i++)
		all[i] = (struct option){ config_device_options[i].name, required_argument, NULL, OPT_DEVICE + (int)i };
	memcpy(&all[i], run_options, sizeof(run_options));
	return all;
}

int config_parse_run(int argc, char **argv, struct vm_config *cfg, struct cloak_err *err)
{
	const struct option *options = all_run_options();
	unsigned cli_devices = 0;  /* bit k: option k was given here, so the file's values of it are gone */
	const char *sev_only_opt = NULL, *config_path = NULL;
	bool cli_cpuid = false;
	int c;

	cfg->run_argc = argc;
	cfg->run_argv = argv;

	/* --config first, wherever it stands: the other options override the file's keys. */
	optind = 0;  /* 0, not 1: glibc then also forgets a cluster (-xh) a previous parse stopped inside */
	opterr = 0;
	while ((c = getopt_long(argc, argv, ":h", options, NULL)) != -1)
		if (c == OPT_CONFIG)
			config_path = optarg;
	if (config_path && config_load_file(config_path, cfg, err) < 0)
		return -1;
	optind = 0;
	while ((c = getopt_long(argc, argv, ":h", options, NULL)) != -1) {
		if (c >= OPT_DEVICE && c < OPT_DEVICE + (int)ARRAY_SIZE(config_device_options)) {
			unsigned k = (unsigned)(c - OPT_DEVICE);

			/* The command line's values of a device option replace the file's. */
			if (!(cli_devices & 1u << k))
				drop_file_devices(cfg, k);
			cli_devices |= 1u << k;
			if (add_device(cfg, k, optarg, false, -1, err) < 0)
				return -1;
			continue;
		}
		switch (c) {
		case OPT_CONFIG: break;
		case OPT_KERNEL: cfg->kernel_path = optarg; break;
		case OPT_INITRD: cfg->initrd_path = optarg; break;
		case OPT_CMDLINE:
			if (strlen(optarg) >= CONFIG_MAX_CMDLINE)
				return err_set(err, "--cmdline: %zu bytes is longer than the %d cloak passes; shorten it",
					       strlen(optarg), CONFIG_MAX_CMDLINE - 1);
			cfg->cmdline = optarg;
			break;
		case OPT_MEM:
			if (parse_mem(optarg, &cfg->mem_size, err) < 0)
				return -1;
			break;
		case OPT_CPUS:
			if (parse_cpus(optarg, &cfg->cpus, err) < 0)
				return -1;
			break;
		case OPT_TIMELINE: cfg->timeline_path = optarg; break;
		case OPT_CPUID_CLEAR:
			if (!cli_cpuid)
				cfg->ncpuid_clear = 0;  /* replaces the file's list */
			cli_cpuid = true;
			if (config_parse_cpuid_clear(optarg, cfg, err) < 0)
				return -1;
			break;
		case OPT_NO_PIN: cfg->pin = false; break;
		case OPT_HUGEPAGES: cfg->hugepages = true; break;
		case OPT_KVM_DEVICE: cfg->kvm_device = optarg; break;
		case OPT_SEV: cfg->sev = true; break;
		case OPT_POLICY:
			/* SEV's 32-bit policy or SNP's 64-bit one: read once --sev-mode is known. */
			cfg->policy_arg = optarg;
			cfg->policy_from_file = false;
			sev_only_opt = "--policy";
			break;
		case OPT_DH_CERT: cfg->sev_dh_cert_path = optarg; sev_only_opt = "--dh-cert-file"; break;
		case OPT_SESSION: cfg->sev_session_path = optarg; sev_only_opt = "--session-file"; break;
		case OPT_MEASUREMENT_OUT: cfg->sev_measurement_out = optarg; sev_only_opt = "--measurement-out"; break;
		case OPT_ATTEST_CMD:
			if (!*optarg)
				return err_set(err, "--attest-cmd: empty command; give the command that verifies the "
						    "measurement");
			cfg->sev_attest_cmd = optarg;
			sev_only_opt = "--attest-cmd";
			break;
		case OPT_SEV_BACKEND:
			if (!strcmp(optarg, "real"))
				cfg->sev_backend = SEV_BACKEND_REAL;
			else if (!strcmp(optarg, "sim"))
				cfg->sev_backend = SEV_BACKEND_SIM;
			else
				return err_set(err, "--sev-backend: '%s' is not a backend; give real (/dev/sev) or sim "
						    "(the simulated PSP)", optarg);
			sev_only_opt = "--sev-backend";
			break;
		case OPT_SEV_DEVICE: cfg->sev_device = optarg; sev_only_opt = "--sev-device"; break;
		case OPT_SEV_SIM_KEY: cfg->sev_sim_key = optarg; sev_only_opt = "--sev-sim-key"; break;
		case OPT_MEASURED_BOOT:
			if (config_parse_measured_boot(optarg, cfg, err) < 0)
				return -1;
			sev_only_opt = "--measured-boot";
			break;
		case OPT_DEBUG_TAMPER_STAGED:
			if (strcmp(optarg, "kernel") && strcmp(optarg, "initrd") && strcmp(optarg, "command line") &&
			    strcmp(optarg, "cmdline"))
				return err_set(err, "--debug-tamper-staged: '%s' is not a staged item; give kernel, initrd "
						    "or cmdline", optarg);
			cfg->debug_tamper_staged = strcmp(optarg, "cmdline") ? optarg : "command line";
			sev_only_opt = "--debug-tamper-staged";
			break;
		case OPT_SEV_MODE:
			if (!config_sev_mode_parse(optarg, &cfg->sev_mode))
				return err_set(err, "--sev-mode: '%s' is not a mode; give sev (plain SEV), es (SEV-ES) or "
						    "snp (SEV-SNP)", optarg);
			sev_only_opt = "--sev-mode";
			break;
		case OPT_ID_BLOCK: cfg->snp_id_block_path = optarg; sev_only_opt = "--id-block"; break;
		case OPT_ID_AUTH: cfg->snp_id_auth_path = optarg; sev_only_opt = "--id-auth"; break;
		case OPT_SEV_SIM_REPORT: cfg->snp_sim_report_dir = optarg; sev_only_opt = "--sev-sim-report"; break;
		case OPT_HOST_DATA: {
			uint8_t *d = NULL;
			size_t n = 0;

			if (sev_b64_decode(optarg, strlen(optarg), &d, &n) < 0 || n != sizeof(cfg->snp_host_data)) {
				free(d);
				return err_set(err, "--host-data: give exactly 32 bytes in base64 (44 characters), as QEMU's "
						    "host-data takes them");
			}
			memcpy(cfg->snp_host_data, d, n);
			free(d);
			cfg->snp_has_host_data = true;
			sev_only_opt = "--host-data";
			break;
		}
		case OPT_USER:
			if (config_parse_user(optarg, cfg, err) < 0)
				return -1;
			break;
		case OPT_SECCOMP:
			if (config_parse_seccomp(optarg, cfg, err) < 0)
				return -1;
			break;
		case OPT_SHUTDOWN_TIMEOUT:
			if (config_parse_shutdown_timeout(optarg, cfg, err) < 0)
				return -1;
			break;
		case 'h': return 1;
		case ':':
			return err_set(err, "%s needs a value; see `cloak run --help`", argv[optind - 1]);
		default:
			/*
			 * A short option inside a cluster (-xh) leaves optind on the
			 * previous word, so name the letter getopt stopped at.
			 */
			if (optopt > 0 && optopt < 256)
				return err_set(err, "unknown option -%c; see `cloak run --help`", optopt);
			return err_set(err, "unknown option %s; see `cloak run --help`", argv[optind - 1]);
		}
	}
	if (optind < argc)
		return err_set(err, "unexpected argument '%s'; options start with --, see `cloak run --help`",
			       argv[optind]);
	if (cfg->initrd_path && !cfg->kernel_path)
		return err_set(err, "--initrd needs --kernel: the demo guest takes no initrd");
	if (cfg->policy_arg) {
		char what[PATH_MAX + 32];

		if (cfg->policy_from_file)
			snprintf(what, sizeof(what), "--config %s: key \"sev.policy\"", cfg->file_path ? cfg->file_path : "");
		else
			snprintf(what, sizeof(what), "--policy");
		if ((cfg->sev_mode == SEV_LAUNCH_SNP ? snp_policy_parse(cfg->policy_arg, &cfg->snp_policy, what, err) :
						       sev_policy_parse(cfg->policy_arg, &cfg->sev_policy, what, err)) < 0)
			return -1;
	}
	return config_check_sev(cfg, sev_only_opt, err);
}
