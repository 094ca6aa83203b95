/* config.h: what the user asked for, validated, before anything is opened. */
#ifndef CLOAK_CONFIG_H
#define CLOAK_CONFIG_H

#include "cloak.h"

#include <stdio.h>

#define CONFIG_MIN_MEM (16 * MiB)
#define CONFIG_MAX_MEM (1024 * GiB)
#define CONFIG_DEFAULT_MEM (128 * MiB)
#define CONFIG_MAX_CPUS 64
#define CONFIG_MAX_CPUID_CLEAR 32
#define CONFIG_MAX_CMDLINE 4096
#define CONFIG_DEFAULT_SHUTDOWN_TIMEOUT 10
#define CONFIG_MAX_SHUTDOWN_TIMEOUT 3600

enum cpuid_reg { CPUID_EAX, CPUID_EBX, CPUID_ECX, CPUID_EDX };

/* Virtio devices (README "Devices"). */
#define CONFIG_MAX_DISKS 8

struct disk_config {
	char path[4096];  /* copied, since the option's value carries ",ro" after it */
	bool ro;
};

enum console_kind { CONSOLE_NONE, CONSOLE_STDIO, CONSOLE_FILE, CONSOLE_SOCKET };

/* One set of bits to hide from the guest's CPUID. */
struct cpuid_clear {
	uint32_t leaf;
	uint32_t subleaf;     /* matched only when the leaf is indexed */
	enum cpuid_reg reg;
	uint32_t mask;
};

enum sev_backend_kind { SEV_BACKEND_REAL, SEV_BACKEND_SIM };

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
	struct disk_config disks[CONFIG_MAX_DISKS];  /* --disk: virtio-blk */
	unsigned ndisks;
	char net_tap[16];           /* --net tap=NAME: virtio-net; empty: none */
	uint8_t net_mac[6];
	bool net_has_mac;
	enum console_kind console;  /* --console: virtio-console (hvc0) */
	const char *console_path;
	/* SEV launch (vmm/sev/sev.h); the other sev_* fields need sev. */
	bool sev;
	enum sev_backend_kind sev_backend;
	enum sev_launch_mode sev_mode;   /* --sev-mode: sev (default), es, snp */
	uint32_t sev_policy;
	const char *sev_device;           /* default /dev/sev */
	const char *sev_dh_cert_path;     /* the guest owner's GODH certificate, base64 */
	const char *sev_session_path;     /* the guest owner's session blob, base64 */
	const char *sev_measurement_out;
	const char *sev_attest_cmd;
	const char *sev_sim_key;          /* the simulated platform's PDH key (PEM) */
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

void config_print_run_help(FILE *out);

/* The values of --disk, --net and --console (each may name its option in errors). */
int config_parse_disk(const char *s, struct vm_config *cfg, struct cloak_err *err);
int config_parse_net(const char *s, struct vm_config *cfg, struct cloak_err *err);
int config_parse_console(const char *s, struct vm_config *cfg, struct cloak_err *err);
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

/* --shutdown-timeout SECS: 0 to CONFIG_MAX_SHUTDOWN_TIMEOUT. */
int config_parse_shutdown_timeout(const char *s, struct vm_config *cfg, struct cloak_err *err);

#endif
