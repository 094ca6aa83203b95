/* sev_cli.c: the option loop that cloak's SEV subcommands (host-check, sev-export) share. */
#include "sev/sev.h"

#include <stdio.h>

int sev_cli_parse(const struct sev_cli *c, int argc, char **argv, void *ctx)
{
	struct cloak_err err = { "" };
	int opt;
	unsigned npos;

	optind = 1;
	opterr = 0;
	while ((opt = getopt_long(argc, argv, ":h", c->opts, NULL)) != -1) {
		if (opt == 'h') {
			fputs(c->help, stdout);
			return SEV_CLI_HELP;
		}
		if (opt == ':') {
			fprintf(stderr, "cloak %s: %s needs a value\n", c->cmd, argv[optind - 1]);
			return SEV_CLI_BAD;
		}
		if (opt == '?') {
			fprintf(stderr, "cloak %s: unknown option %s; see `cloak %s --help`\n", c->cmd, argv[optind - 1],
				c->cmd);
			return SEV_CLI_BAD;
		}
		if (c->set(ctx, opt, optarg, &err) < 0) {
			fprintf(stderr, "cloak %s: %s\n", c->cmd, err.msg);
			return SEV_CLI_BAD;
		}
	}
	npos = (unsigned)(argc - optind);
	if (npos < c->min_args || npos > c->max_args) {
		if (c->max_args == 0)
			fprintf(stderr, "cloak %s: unexpected argument '%s'\n", c->cmd, argv[optind]);
		else
			fprintf(stderr, "cloak %s: give %s; see `cloak %s --help`\n", c->cmd, c->args_hint, c->cmd);
		return SEV_CLI_BAD;
	}
	return SEV_CLI_OK;
}
