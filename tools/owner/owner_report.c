/* owner_report.c: `cloak-owner report verify|show` for SNP attestation reports and `cloak-owner id-block build`. */
#include "owner_cmds.h"

#include "owner.h"
#include "sev/snp.h"
#include "sev/snp_report.h"

#include <errno.h>
#include <getopt.h>
#include <openssl/pem.h>
#include <openssl/x509.h>
#include <stdlib.h>
#include <string.h>

#define EXIT_INVALID 1
#define EXIT_BAD_INPUT 2

static int hex_exact(const char *s, const char *what, uint8_t *out, size_t want, struct cloak_err *err)
{
	size_t i;

	if (s[0] == '0' && (s[1] == 'x' || s[1] == 'X'))
		s += 2;
	if (strlen(s) != 2 * want)
		return err_set(err, "%s: '%s' is not %zu hex digits", what, s, 2 * want);
	for (i = 0; i < 2 * want; i++)
		if (!strchr("0123456789abcdefABCDEF", s[i]))
			return err_set(err, "%s: '%s' is not %zu hex digits", what, s, 2 * want);
	for (i = 0; i < want; i++) {
		unsigned v;

		sscanf(s + 2 * i, "%2x", &v);
		out[i] = (uint8_t)v;
	}
	return 0;
}

static int read_report(const char *path, struct snp_report *r, struct cloak_err *err)
{
	uint8_t *d;
	size_t n;
	int rc;

	if (sev_file_read(path, "--report", 4 * SNP_REPORT_LEN, &d, &n, err) < 0)
		return -1;
	rc = snp_report_parse(d, n, r, err);
	free(d);
	return rc < 0 ? err_prefix(err, "--report %s: ", path) : 0;
}

/* A certificate in DER (as KDS serves a VCEK) or PEM. */
static X509 *read_cert(const char *path, const char *what, struct cloak_err *err)
{
	const unsigned char *p;
	X509 *c = NULL;
	uint8_t *d;
	size_t n;

	if (sev_file_read(path, what, 64 * 1024, &d, &n, err) < 0)
		return NULL;
	p = d;
	c = d2i_X509(NULL, &p, (long)n);
	if (!c) {
		BIO *b = BIO_new_mem_buf(d, (int)n);

		c = b ? PEM_read_bio_X509(b, NULL, NULL, NULL) : NULL;
		BIO_free(b);
	}
	free(d);
	if (!c)
		err_set(err, "%s %s is not an X.509 certificate in DER or PEM (KDS serves the VCEK in DER)", what, path);
	return c;
}

static int report_verify(int argc, char **argv)
{
	enum { R_REPORT = 256, R_VCEK, R_CA, R_ALLOW, R_MEASUREMENT, R_QUIET };
	static const struct option opts[] = {
		{ "report", required_argument, NULL, R_REPORT }, { "vcek", required_argument, NULL, R_VCEK },
		{ "vlek", required_argument, NULL, R_VCEK },
		{ "ca", required_argument, NULL, R_CA }, { "allow-unknown-ark", no_argument, NULL, R_ALLOW },
		{ "measurement", required_argument, NULL, R_MEASUREMENT }, { "quiet", no_argument, NULL, R_QUIET },
		{ NULL, 0, NULL, 0 },
	};
	const char *report_path = NULL, *vcek_path = NULL, *ca_path = NULL, *want_hex = NULL;
	struct cloak_err err = { "" };
	struct snp_ca ca = { 0 };
	struct snp_report r;
	uint8_t want[48];
	bool allow_unknown = false, quiet = false;
	X509 *vcek = NULL;
	FILE *out;
	int c, rc = EXIT_BAD_INPUT, v;

	optind = 1;
	opterr = 0;
	while ((c = getopt_long(argc, argv, ":q", opts, NULL)) != -1) {
		switch (c) {
		case R_REPORT: report_path = optarg; break;
		case R_VCEK: vcek_path = optarg; break;
		case R_CA: ca_path = optarg; break;
		case R_ALLOW: allow_unknown = true; break;
		case R_MEASUREMENT: want_hex = optarg; break;
		case 'q':
		case R_QUIET: quiet = true; break;
		case ':': err_set(&err, "%s needs a value", argv[optind - 1]); goto out;
		default: err_set(&err, "unknown option %s", argv[optind - 1]); goto out;
		}
	}
	out = quiet ? NULL : stdout;
	if (optind < argc) {
		err_set(&err, "unexpected argument '%s'", argv[optind]);
		goto out;
	}
	if (!ca_path) {
		err_set(&err, "--ca PEM is needed: the ASK and ARK as AMD's KDS serves them "
			      "(https://kdsintf.amd.com/vcek/v1/PRODUCT/cert_chain)");
		goto out;
	}
	/* Without --vcek, the VCEK may come in the --ca bundle (VCEK, ASK, ARK), as some tools save them. */
	if (report_path && !vcek_path && (snp_ca_load(ca_path, &ca, &err) < 0 || !ca.leaf)) {
		err_set(&err, "--report needs --vcek DER: the chip's VCEK for the report's reported_tcb, from AMD's KDS "
			      "(or --vlek DER for a VLEK-signed report)");
		goto out;
	}
	if (want_hex && !report_path) {
		err_set(&err, "--measurement needs --report");
		goto out;
	}
	if (want_hex && hex_exact(want_hex, "--measurement", want, sizeof(want), &err) < 0)
		goto out;
	if (report_path && read_report(report_path, &r, &err) < 0)
		goto out;
	if (report_path && snp_report_signing_key(&r) != SNP_SIGNING_KEY_VCEK &&
	    snp_report_signing_key(&r) != SNP_SIGNING_KEY_VLEK) {
		err_set(&err, "--report %s has SIGNING_KEY %u: %s, so there is no signature to check", report_path,
			snp_report_signing_key(&r), snp_report_signing_key(&r) == SNP_SIGNING_KEY_NONE ?
			"the firmware signed it with no key" : "a reserved value");
		goto out;
	}
	if (!ca.ark && snp_ca_load(ca_path, &ca, &err) < 0)
		goto out;
	if (vcek_path && !(vcek = read_cert(vcek_path, "--vcek", &err)))
		goto out;
	/* A bundle of VCEK, ASK and ARK (as some tools save them) gives the VCEK too. */
	if (!vcek && ca.leaf) {
		vcek = ca.leaf;
		ca.leaf = NULL;
	}
	rc = EXIT_INVALID;
	if (snp_ca_verify(&ca, out, &err))
		goto out;
	if (!ca.product && !allow_unknown) {
		err_set(&err, "the ARK in --ca %s is not one of AMD's published roots (Milan, Genoa, Turin), so anyone "
			      "could have made this chain; --allow-unknown-ark accepts it for test chains", ca_path);
		goto out;
	}
	if (vcek && snp_vcek_verify(&ca, vcek, out, &err))
		goto out;
	if (report_path) {
		v = snp_vcek_matches_report(vcek, &r, out, &err);
		if (v < 0)
			rc = EXIT_BAD_INPUT;
		if (v)
			goto out;
		v = snp_report_verify_sig(&r, X509_get0_pubkey(vcek), &err);
		if (out)
			fprintf(out, "%-22s %s\n", snp_cert_is_vlek(vcek) ? "VLEK signs report" : "VCEK signs report",
				v == 0 ? "ok" : "INVALID");
		if (v < 0)
			rc = EXIT_BAD_INPUT;
		if (v) {
			if (v > 0)
				err_set(&err, "the report's signature by the %s does not verify: the report was altered or "
					      "another key signed it", snp_cert_is_vlek(vcek) ? "VLEK" : "VCEK");
			goto out;
		}
		if (v == 0 && out && snp_report_product(&r) && ca.product && strcmp(snp_report_product(&r), ca.product))
			fprintf(out, "%-22s note: the report's CPUID says %s, the chain is %s's\n", "product",
				snp_report_product(&r), ca.product);
		if (want_hex && memcmp(want, r.measurement, sizeof(want))) {
			char got[97];

			sev_hex(r.measurement, sizeof(r.measurement), got);
			err_set(&err, "the report's measurement %s is not the expected %s", got, want_hex);
			goto out;
		}
		if (out && want_hex)
			fprintf(out, "%-22s ok\n", "measurement matches");
	}
	if (out)
		printf("%s\n", report_path ? (snp_cert_is_vlek(vcek)
						       ? "the report is valid: signed by a VLEK that AMD's chain vouches for"
						       : "the report is valid: signed by a VCEK that AMD's chain vouches for")
				: vcek ? (snp_cert_is_vlek(vcek) ? "the VLEK chain is valid" : "the VCEK chain is valid")
				: "the ASK/ARK chain is valid");
	rc = 0;
out:
	if (rc == EXIT_BAD_INPUT)
		fprintf(stderr, "cloak-owner: report verify: %s\n", err.msg);
	else if (rc == EXIT_INVALID)
		fprintf(stderr, "cloak-owner: report verify: NOT valid: %s\n", err.msg);
	X509_free(vcek);
	snp_ca_free(&ca);
	return rc;
}

static int report_show(int argc, char **argv)
{
	static const struct option opts[] = { { "report", required_argument, NULL, 'r' }, { NULL, 0, NULL, 0 } };
	struct cloak_err err = { "" };
	const char *path = NULL;
	struct snp_report r;
	int c;

	optind = 1;
	opterr = 0;
	while ((c = getopt_long(argc, argv, ":", opts, NULL)) != -1) {
		if (c == 'r') {
			path = optarg;
		} else {
			err_set(&err, c == ':' ? "%s needs a value" : "unknown option %s", argv[optind - 1]);
			goto fail;
		}
	}
	if (optind < argc) {
		err_set(&err, "unexpected argument '%s'", argv[optind]);
		goto fail;
	}
	if (!path) {
		err_set(&err, "--report FILE is needed");
		goto fail;
	}
	if (read_report(path, &r, &err) < 0)
		goto fail;
	snp_report_print(&r, stdout);
	return 0;
fail:
	fprintf(stderr, "cloak-owner: report show: %s\n", err.msg);
	return EXIT_BAD_INPUT;
}

int cmd_report(int argc, char **argv)
{
	if (argc >= 2 && !strcmp(argv[1], "verify"))
		return report_verify(argc - 1, argv + 1);
	if (argc >= 2 && !strcmp(argv[1], "show"))
		return report_show(argc - 1, argv + 1);
	fprintf(stderr, "cloak-owner: report: give verify or show; see `cloak-owner --help`\n");
	return EXIT_BAD_INPUT;
}

static EVP_PKEY *load_key(const char *path, const char *what, struct cloak_err *err)
{
	FILE *f = fopen(path, "re");
	EVP_PKEY *k;

	if (!f) {
		if (errno == ENOENT)
			err_set(err, "%s %s does not exist; check the path", what, path);
		else
			err_errno(err, "cannot open %s %s", what, path);
		return NULL;
	}
	k = PEM_read_PrivateKey(f, NULL, NULL, NULL);
	fclose(f);
	if (!k)
		err_set(err, "%s %s is not a PEM private key (make one with `openssl ecparam -name secp384r1 -genkey "
			     "-noout -out FILE`)", what, path);
	return k;
}

int cmd_id_block(int argc, char **argv)
{
	enum { I_DIGEST = 256, I_ID_KEY, I_AUTHOR_KEY, I_POLICY, I_FAMILY, I_IMAGE, I_SVN };
	static const struct option opts[] = {
		{ "launch-digest", required_argument, NULL, I_DIGEST }, { "id-key", required_argument, NULL, I_ID_KEY },
		{ "author-key", required_argument, NULL, I_AUTHOR_KEY }, { "policy", required_argument, NULL, I_POLICY },
		{ "family-id", required_argument, NULL, I_FAMILY }, { "image-id", required_argument, NULL, I_IMAGE },
		{ "guest-svn", required_argument, NULL, I_SVN }, { NULL, 0, NULL, 0 },
	};
	const char *digest = NULL, *id_path = NULL, *author_path = NULL;
	struct snp_id_inputs in;
	struct snp_id_outputs *res = NULL;
	struct cloak_err err = { "" };
	char *b64, hex[97];
	char *end;
	int c, rc = EXIT_BAD_INPUT;

	memset(&in, 0, sizeof(in));
	in.policy = SNP_POLICY_DEFAULT;
	if (argc < 2 || strcmp(argv[1], "build")) {
		err_set(&err, "the subcommand is build");
		goto out;
	}
	argc--;
	argv++;
	optind = 1;
	opterr = 0;
	while ((c = getopt_long(argc, argv, ":", opts, NULL)) != -1) {
		switch (c) {
		case I_DIGEST: digest = optarg; break;
		case I_ID_KEY: id_path = optarg; break;
		case I_AUTHOR_KEY: author_path = optarg; break;
		case I_POLICY:
			/* The launch's policy, checked by the same rules as `cloak run --sev-mode snp --policy`. */
			if (snp_policy_parse(optarg, &in.policy, "--policy", &err) < 0)
				goto out;
			break;
		case I_FAMILY:
			if (hex_exact(optarg, "--family-id", in.family_id, 16, &err) < 0)
				goto out;
			break;
		case I_IMAGE:
			if (hex_exact(optarg, "--image-id", in.image_id, 16, &err) < 0)
				goto out;
			break;
		case I_SVN: {
			unsigned long v;

			errno = 0;
			v = strtoul(optarg, &end, 0);
			if (!*optarg || *end || errno || *optarg == '-' || v > UINT32_MAX) {
				err_set(&err, "--guest-svn: '%s' is not a number from 0 to %u", optarg, UINT32_MAX);
				goto out;
			}
			in.guest_svn = (uint32_t)v;
			break;
		}
		case ':': err_set(&err, "%s needs a value", argv[optind - 1]); goto out;
		default: err_set(&err, "unknown option %s", argv[optind - 1]); goto out;
		}
	}
	if (optind < argc) {
		err_set(&err, "unexpected argument '%s'", argv[optind]);
		goto out;
	}
	if (!digest || !id_path) {
		err_set(&err, "--launch-digest HEX and --id-key PEM are needed (the digest `cloak-owner measure --mode snp` "
			      "prints)");
		goto out;
	}
	if (hex_exact(digest, "--launch-digest", in.launch_digest, 48, &err) < 0)
		goto out;
	if (!(in.id_key = load_key(id_path, "--id-key", &err)))
		goto out;
	if (author_path && !(in.author_key = load_key(author_path, "--author-key", &err)))
		goto out;
	res = calloc(1, sizeof(*res));
	if (!res) {
		err_set(&err, "out of memory");
		goto out;
	}
	if (snp_id_block_build(&in, res, &err) < 0)
		goto out;
	b64 = sev_b64_encode(res->id_block, sizeof(res->id_block));
	printf("id-block=%s\n", b64 ? b64 : "");
	free(b64);
	b64 = sev_b64_encode(res->id_auth, sizeof(res->id_auth));
	printf("id-auth=%s\n", b64 ? b64 : "");
	free(b64);
	sev_hex(res->id_key_digest, 48, hex);
	printf("id-key-digest=%s\n", hex);
	if (in.author_key) {
		sev_hex(res->author_key_digest, 48, hex);
		printf("author-key-digest=%s\n", hex);
	}
	fprintf(stderr, "cloak-owner: id-block: give QEMU's sev-snp-guest object id-block=... and id-auth=...%s; "
			"reports then show these digests\n", in.author_key ? " and author-key-enabled=on" : "");
	rc = 0;
out:
	if (rc)
		fprintf(stderr, "cloak-owner: id-block: %s\n", err.msg);
	EVP_PKEY_free(in.id_key);
	EVP_PKEY_free(in.author_key);
	free(res);
	return rc;
}
