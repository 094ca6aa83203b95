/* config.h: what the user asked for, validated, before anything is opened. */
#ifndef CLOAK_CONFIG_H
#define CLOAK_CONFIG_H

#include "cloak.h"

#include <stdio.h>
#include <string.h>

#define CONFIG_MIN_MEM (16 * MiB)
#define CONFIG_MAX_MEM (1024 * GiB)
#define CONFIG_DEFAULT_MEM (128 * MiB)
#define CONFIG_MAX_CPUS 64
#define CONFIG_MAX_CPUID_CLEAR 32
#define CONFIG_MAX_CMDLINE 4096
#define CONFIG_DEFAULT_SHUTDOWN_TIMEOUT 10
#define CONFIG_MAX_SHUTDOWN_TIMEOUT 3600

enum cpuid_reg { CPUID_EAX, CPUID_EBX, CPUID_ECX, CPUID_EDX };

/*
 * A device's command-line option, as far as the core knows it: its name, its
 * --config key, how many the VM may have and the guest memory each may have
 * in flight (the DMA budget, which sizes the measured swiotlb=). The grammar
 * of the value is the device's own: devices/devices.h parses it, so that
 * cloak-owner, which links nothing from devices/, still takes the option.
 */
struct device_option {
	const char *name;      /* --NAME VALUE */
	const char *file_key;  /* its key in --config (one value or a list; config print writes one when max is 1) */
	const char *noun;      /* one of what it adds, for messages: "disk" */
	unsigned max;          /* how many the VM may have */
	uint64_t dma_bytes;    /* the guest memory one may have in flight (vmm/dma_budget.c) */
};

extern const struct device_option config_device_options[];
extern const unsigned config_ndevice_options;

#define CONFIG_MAX_DISKS 8         /* --disk's max: virtio-blk keeps a slot for each */
#define CONFIG_MAX_DEVICE_ARGS 16  /* at least the sum of the options' max */

/* One device option as given, in order; its device parses the value (devices/devices.h). */
struct device_arg {
	const struct device_option *option;  /* its row in config_device_options */
	const char *value;   /* as on the command line: points into argv or into the --config file's tree */
	bool from_file;      /* from --config's key, else from the command line */
	int file_item;       /* the item of the key's list; -1: the key's value itself */
};

/* One set of bits to hide from the guest's CPUID. */
struct cpuid_clear {
	uint32_t leaf;
	uint32_t subleaf;     /* matched only when the leaf is indexed */
	enum cpuid_reg reg;
	uint32_t mask;
};

enum sev_backend_kind { SEV_BACKEND_REAL, SEV_BACKEND_SIM };

/*
 * --measured-boot: under --sev, what the launch measures. verifier (the
 * default): the boot verifier and a table of hashes, with the kernel, initrd
 * and command line staged in shared memory; full: every byte of them.
 * The verifier speaks neither the GHCB protocol nor PVALIDATE, so SEV-ES and
 * SNP launches measure in full (config_measured_boot).
 */
enum measured_boot_mode { MEASURED_BOOT_DEFAULT, MEASURED_BOOT_VERIFIER, MEASURED_BOOT_FULL };
/* --sev-mode: which SEV generation launches the guest (vmm/cvm.h picks the kind from it). */
enum sev_launch_mode { SEV_LAUNCH_SEV, SEV_LAUNCH_ES, SEV_LAUNCH_SNP };

/* --seccomp: on (a forbidden call stops cloak), off, or log (the kernel logs it and lets it run). */
enum seccomp_mode { CLOAK_SECCOMP_ON, CLOAK_SECCOMP_OFF, CLOAK_SECCOMP_LOG };

struct vm_config {
	const char *kernel_path;    /* NULL: the demo guest embedded in cloak */
	const char *initrd_path;
	const char *cmdline;        /* NULL: none given */
	uint64_t mem_size;
	unsigned cpus;
	const char *timeline_path;
	const char *kvm_device;     /* default /dev/kvm */
	bool pin;                   /* lock guest memory (default) */
	bool hugepages;
	struct cpuid_clear cpuid_clear[CONFIG_MAX_CPUID_CLEAR];
	unsigned ncpuid_clear;
	struct device_arg device_args[CONFIG_MAX_DEVICE_ARGS];  /* --disk, --net, --console ... */
	unsigned ndevice_args;
	/* SEV launch (vmm/sev/sev.h); the other sev_* fields need sev. */
	bool sev;
	enum sev_backend_kind sev_backend;
	enum sev_launch_mode sev_mode;   /* --sev-mode: sev (default), es, snp */
	uint32_t sev_policy;
	uint64_t snp_policy;              /* --policy under --sev-mode snp (default 0x30000) */
	const char *policy_arg;           /* --policy as given: read by --sev-mode's rules once all options are in */
	bool policy_from_file;            /* policy_arg is the config file's sev.policy, not --policy */
	const char *sev_device;           /* default /dev/sev */
	const char *sev_dh_cert_path;     /* the guest owner's GODH certificate, base64 */
	const char *sev_session_path;     /* the guest owner's session blob, base64 */
	const char *sev_measurement_out;
	const char *sev_attest_cmd;
	const char *sev_sim_key;          /* the simulated platform's PDH key (PEM) */
	enum measured_boot_mode measured_boot;
	const char *debug_tamper_staged;  /* tests only: the staged item cloak changes after LAUNCH_FINISH */
	/* SEV-SNP's SNP_LAUNCH_FINISH (--sev-mode snp). */
	const char *snp_id_block_path;    /* --id-block: the ID block, base64 (`cloak-owner id-block build`) */
	const char *snp_id_auth_path;     /* --id-auth: its authentication information, base64 */
	bool snp_has_host_data;
	uint8_t snp_host_data[32];        /* --host-data: 32 bytes, base64, that every report carries */
	const char *snp_sim_report_dir;   /* --sev-sim-report: the simulator's report and VCEK chain go there */
	/* Confinement (vmm/sandbox.h). */
	enum seccomp_mode seccomp;
	bool has_user;                    /* --user: run as user_uid:user_gid once set up */
	uint32_t user_uid, user_gid;
	unsigned shutdown_timeout;        /* --shutdown-timeout: seconds a guest gets to power off on SIGTERM */
	void *file_json;                  /* --config: the parsed file, which the strings above may point into */
	const char *file_path;            /* --config FILE, for the messages about its device values */
	/* The `cloak run` arguments as given (argv[0] is the subcommand): the owner recomputes the plan from them. */
	int run_argc;
	char **run_argv;
};

void config_defaults(struct vm_config *cfg);
/* Parses a --sev-mode value (sev, es, snp); false for anything else. */
bool config_sev_mode_parse(const char *s, enum sev_launch_mode *out);
/* "sev", "es", "snp": the --sev-mode spelling. */
const char *config_sev_mode_name(enum sev_launch_mode m);

/*
 * Parses the arguments of `cloak run` (argv[0] is "run"). Returns 0, 1 when
 * --help was printed, or -1 with a message that names the option.
 */
int config_parse_run(int argc, char **argv, struct vm_config *cfg, struct cloak_err *err);

/* "128M", "1G", "512MiB", "4096K", plain bytes. */
int config_parse_size(const char *s, uint64_t *out);

/* "cx16", "xsave,avx" or raw "LEAF[.SUBLEAF]:REG:BIT". */
int config_parse_cpuid_clear(const char *s, struct vm_config *cfg, struct cloak_err *err);

/* `cloak run --help`; device_help prints the device options' lines (devices_print_help), or NULL. */
void config_print_run_help(FILE *out, void (*device_help)(FILE *out));

/* The option named `name` (without --), or NULL. */
const struct device_option *config_device_option(const char *name);
/*
 * Records one value of a device option after those given before it; refuses
 * one more than the option's max with a message naming it. The value is not
 * copied: it must live as long as cfg.
 */
int config_add_device(struct vm_config *cfg, const char *name, const char *value, struct cloak_err *err);
/* The same for the --config file's key of option row `option` (item -1: the key's value itself). */
int config_add_file_device(struct vm_config *cfg, unsigned option, const char *value, int item,
			   struct cloak_err *err);
/*
 * How many values the device option `name` has, and the nth of them (NULL past
 * the last). Inline, so a device reads its values without linking the core.
 */
static inline unsigned config_device_count(const struct vm_config *cfg, const char *name)
{
	unsigned i, n = 0;

	for (i = 0; i < cfg->ndevice_args; i++)
		n += !strcmp(cfg->device_args[i].option->name, name);
	return n;
}

static inline const char *config_device_value(const struct vm_config *cfg, const char *name, unsigned nth)
{
	unsigned i;

	for (i = 0; i < cfg->ndevice_args; i++)
		if (!strcmp(cfg->device_args[i].option->name, name) && nth-- == 0)
			return cfg->device_args[i].value;
	return NULL;
}
/*
 * "--config FILE: key \"disks\": item 1: " for a value from the file, "" for
 * one from the command line: what a message about the value starts with.
 */
void config_device_origin(const struct vm_config *cfg, const struct device_arg *a, char *buf, size_t len);
/* Whether the directory a file is to be created in exists; `opt` names the option in the message. */
int config_check_parent_dir(const char *opt, const char *path, struct cloak_err *err);
/* --user USER[:GROUP] (names or numbers; GROUP defaults to USER's primary group) and --seccomp on|off|log. */
int config_parse_user(const char *s, struct vm_config *cfg, struct cloak_err *err);
int config_parse_seccomp(const char *s, struct vm_config *cfg, struct cloak_err *err);
/* --mem and --cpus values (the messages name the option). */
int config_parse_mem(const char *s, uint64_t *out, struct cloak_err *err);
int config_parse_cpus(const char *s, unsigned *out, struct cloak_err *err);

/*
 * --config FILE: a JSON object whose keys are the long options with _ for -
 * (README "Configuration file"); errors name the file and the key.
 * config_parse_run loads it before the other options, which override it.
 */
int config_load_file(const char *path, struct vm_config *cfg, struct cloak_err *err);
/* Frees what --config loaded (the strings it gave cfg go with it). */
void config_release(struct vm_config *cfg);
/* The effective configuration as a JSON text --config reads back (malloc'd; NULL when out of memory). */
char *config_to_json(const struct vm_config *cfg);

/* --measured-boot as the launch applies it: verifier under plain SEV unless given, full under SEV-ES and SNP. */
enum measured_boot_mode config_measured_boot(const struct vm_config *cfg);
/* --measured-boot verifier|full. */
int config_parse_measured_boot(const char *s, struct vm_config *cfg, struct cloak_err *err);

/* --shutdown-timeout SECS: 0 to CONFIG_MAX_SHUTDOWN_TIMEOUT. */
int config_parse_shutdown_timeout(const char *s, struct vm_config *cfg, struct cloak_err *err);

#endif
