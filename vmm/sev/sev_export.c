/* sev_export.c: `cloak sev-export`: the platform's PDH certificate, for the guest owner's session. */
#include "sev/sev.h"

#include <getopt.h>
#include <stdio.h>
#include <string.h>

static int export_set(void *ctx, int opt, const char *arg, struct cloak_err *err)
{
	struct vm_config *cfg = ctx;

	switch (opt) {
	case 'b':
		if (!strcmp(arg, "real"))
			cfg->sev_backend = SEV_BACKEND_REAL;
		else if (!strcmp(arg, "sim"))
			cfg->sev_backend = SEV_BACKEND_SIM;
		else
			return err_set(err, "--sev-backend: '%s' is not real or sim", arg);
		return 0;
	case 's': cfg->sev_device = arg; return 0;
	case 'k': cfg->sev_sim_key = arg; return 0;
	}
	return err_set(err, "internal error: option %d has no handler", opt);
}

int sev_export_main(int argc, char **argv)
{
	static const struct option opts[] = {
		{ "sev-backend", required_argument, NULL, 'b' },
		{ "sev-device", required_argument, NULL, 's' },
		{ "sev-sim-key", required_argument, NULL, 'k' },
		{ "help", no_argument, NULL, 'h' },
		{ NULL, 0, NULL, 0 },
	};
	static const struct sev_cli cli = {
		.cmd = "sev-export",
		.opts = opts,
		.help = "usage: cloak sev-export [--sev-backend real|sim] [--sev-device PATH] [--sev-sim-key FILE] PDH_OUT\n"
			"\n"
			"Writes the platform's PDH certificate (2084 bytes, SEV format) to PDH_OUT, for the guest\n"
			"owner's `cloak-owner session`. With --sev-backend sim, --sev-sim-key names the simulated\n"
			"platform's key (created when missing); give `cloak run` the same file.\n",
		.set = export_set,
		.min_args = 1,
		.max_args = 1,
		.args_hint = "exactly one output file (PDH_OUT)",
	};
	struct cloak_err err = { "" };
	struct sev_user_data_status st;
	uint8_t pdh[SEV_CERT_LEN];
	struct vm_config cfg;
	struct psp *psp;
	int rc;

	config_defaults(&cfg);
	cfg.sev = true;
	rc = sev_cli_parse(&cli, argc, argv, &cfg);
	if (rc != SEV_CLI_OK)
		return rc == SEV_CLI_HELP ? 0 : CLOAK_EXIT_ERROR;
	if (cfg.sev_backend == SEV_BACKEND_SIM && !cfg.sev_sim_key) {
		fprintf(stderr, "cloak sev-export: --sev-backend sim needs --sev-sim-key FILE: a simulated platform "
				"without a kept key would have another PDH at every run\n");
		return CLOAK_EXIT_ERROR;
	}
	if (cfg.sev_sim_key && cfg.sev_backend != SEV_BACKEND_SIM) {
		fprintf(stderr, "cloak sev-export: --sev-sim-key needs --sev-backend sim\n");
		return CLOAK_EXIT_ERROR;
	}
	if (cfg.sev_backend == SEV_BACKEND_SIM)
		fprintf(stderr, "cloak: --sev-backend sim: the PSP is SIMULATED; its PDH key is a file on this host\n");
	psp = psp_open(&cfg, true, &err);
	if (!psp) {
		fprintf(stderr, "cloak sev-export: %s\n", err.msg);
		return CLOAK_EXIT_ERROR;
	}
	rc = psp_platform_status(psp, &st, &err);
	if (rc == 0)
		rc = psp_pdh_export(psp, pdh, &err);
	if (rc == 0)
		rc = sev_file_write(argv[optind], "PDH certificate", pdh, sizeof(pdh), 0644, &err);
	psp_close(psp);
	if (rc < 0) {
		fprintf(stderr, "cloak sev-export: %s\n", err.msg);
		return CLOAK_EXIT_ERROR;
	}
	fprintf(stderr, "cloak sev-export: wrote the PDH certificate of the %s platform (API %u.%u build %u) to %s\n",
		cfg.sev_backend == SEV_BACKEND_SIM ? "simulated" : "SEV", st.api_major, st.api_minor, st.build,
		argv[optind]);
	return 0;
}
