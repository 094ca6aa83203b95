/* owner_verify.c: `cloak-owner verify`, the SEV platform's certificate chain checked as `sevctl verify` does. */
#include "owner_cmds.h"

#include "sev/amd_cert.h"
#include "owner.h"

#include <getopt.h>
#include <stdlib.h>
#include <string.h>

static int read_sev_cert(const char *path, const char *what, uint8_t **out, struct cloak_err *err)
{
	size_t n;

	if (sev_file_read(path, what, 4 * AMD_SEV_CERT_LEN, out, &n, err) < 0)
		return -1;
	if (n != AMD_SEV_CERT_LEN) {
		free(*out);
		*out = NULL;
		return err_set(err, "%s %s is %zu bytes; an SEV certificate is %d (as `sevctl export` writes it)", what,
			       path, n, AMD_SEV_CERT_LEN);
	}
	return 0;
}

int cmd_verify(int argc, char **argv)
{
	enum { V_ARK = 256, V_ASK, V_CEK, V_OCA, V_PEK, V_PDH, V_QUIET };
	static const struct option opts[] = {
		{ "ark", required_argument, NULL, V_ARK }, { "ask", required_argument, NULL, V_ASK },
		{ "cek", required_argument, NULL, V_CEK }, { "oca", required_argument, NULL, V_OCA },
		{ "pek", required_argument, NULL, V_PEK }, { "pdh", required_argument, NULL, V_PDH },
		{ "quiet", no_argument, NULL, V_QUIET }, { NULL, 0, NULL, 0 },
	};
	static const char *const names[6] = { "--ark", "--ask", "--cek", "--oca", "--pek", "--pdh" };
	const char *path[6] = { NULL };
	uint8_t *data[6] = { NULL };
	struct cloak_err err = { "" };
	struct amd_sev_chain chain;
	bool quiet = false;
	int c, i, rc = 2;

	optind = 1;
	opterr = 0;
	while ((c = getopt_long(argc, argv, ":q", opts, NULL)) != -1) {
		if (c >= V_ARK && c <= V_PDH) {
			path[c - V_ARK] = optarg;
		} else if (c == V_QUIET || c == 'q') {
			quiet = true;
		} else if (c == ':') {
			err_set(&err, "%s needs a value", argv[optind - 1]);
			goto out;
		} else {
			err_set(&err, "unknown option %s", argv[optind - 1]);
			goto out;
		}
	}
	if (optind < argc) {
		err_set(&err, "unexpected argument '%s'", argv[optind]);
		goto out;
	}
	for (i = 0; i < 6; i++)
		if (!path[i]) {
			err_set(&err, "%s FILE is needed: the chain is ARK -> ASK -> CEK -> PEK <- OCA, PEK -> PDH "
				      "(`sevctl export --full` writes the platform's; AMD's KDS serves ARK and ASK)", names[i]);
			goto out;
		}
	memset(&chain, 0, sizeof(chain));
	/* Twice the largest certificate: AMD's ask_ark_<product>.cert holds both, and is taken for either. */
	if (sev_file_read(path[0], "--ark", 2 * AMD_CA_CERT_MAX, &data[0], &chain.ark_len, &err) < 0 ||
	    sev_file_read(path[1], "--ask", 2 * AMD_CA_CERT_MAX, &data[1], &chain.ask_len, &err) < 0)
		goto out;
	for (i = 2; i < 6; i++)
		if (read_sev_cert(path[i], names[i], &data[i], &err) < 0)
			goto out;
	{
		size_t off;

		amd_ca_cert_pick(data[0], chain.ark_len, AMD_USAGE_ARK, &off, &chain.ark_len);
		chain.ark = data[0] + off;
		amd_ca_cert_pick(data[1], chain.ask_len, AMD_USAGE_ASK, &off, &chain.ask_len);
		chain.ask = data[1] + off;
	}
	chain.cek = data[2];
	chain.oca = data[3];
	chain.pek = data[4];
	chain.pdh = data[5];
	switch (amd_sev_chain_verify(&chain, quiet ? NULL : stdout, &err)) {
	case 0:
		if (!quiet)
			printf("the chain is valid: the PDH belongs to a platform whose CEK the ASK and ARK signed\n");
		rc = 0;
		break;
	case 1:
		fprintf(stderr, "cloak-owner: verify: the chain is NOT valid: %s\n", err.msg);
		rc = 1;
		break;
	default:
		break;
	}
out:
	if (rc == 2)
		fprintf(stderr, "cloak-owner: verify: %s\n", err.msg);
	for (i = 0; i < 6; i++)
		free(data[i]);
	return rc;
}
