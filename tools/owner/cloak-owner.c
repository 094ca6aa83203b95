/* cloak-owner.c: the guest owner's tool: session, measurement, secret (sevctl's shape); measure, verify, report, id-block. */
#include "owner.h"
#include "owner_cmds.h"

#include <errno.h>
#include <getopt.h>
#include <openssl/crypto.h>
#include <openssl/rand.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <limits.h>
#include <string.h>

/* Exit statuses: 0 done (verify: match), 1 verify: no match, 2 bad input or failure. */
#define OWNER_MISMATCH 1
#define OWNER_ERROR 2

static int fail(struct cloak_err *err)
{
	fprintf(stderr, "cloak-owner: %s\n", err->msg);
	return OWNER_ERROR;
}

static int __attribute__((format(printf, 1, 2))) usage_error(const char *fmt, ...)
{
	va_list ap;

	fprintf(stderr, "cloak-owner: ");
	va_start(ap, fmt);
	vfprintf(stderr, fmt, ap);
	va_end(ap);
	fprintf(stderr, "; see `cloak-owner --help`\n");
	return OWNER_ERROR;
}

static void usage(FILE *out)
{
	fprintf(out,
		"usage: cloak-owner COMMAND ...   (the command-line shapes of sevctl and sev-snp-measure)\n"
		"\n"
		"  session --name NAME PDH_CERT POLICY\n"
		"      opens a session to the platform whose PDH certificate is given (binary or base64,\n"
		"      from `cloak sev-export` or `sevctl export`); POLICY is hex. Writes NAME_godh.b64 and\n"
		"      NAME_session.b64 (for cloak run --dh-cert-file/--session-file or QEMU) and the new\n"
		"      keys NAME_tek.bin, NAME_tik.bin. The PDH's certificate chain is not verified here.\n"
		"\n"
		"  measurement build --api-major N --api-minor N --build-id N --policy HEX --tik FILE\n"
		"        (--nonce B64 | --launch-measure-blob B64)\n"
		"        (--launch-digest B64\n"
		"         | --firmware FILE [--kernel F --initrd F --cmdline S] [--num-cpus N --vmsa-cpu0 F --vmsa-cpu1 F]\n"
		"         | --cpu-generation GEN [--vcpu-sig N [--guest-features N] [--kvm-sev-init init2|legacy]]\n"
		"           --cloak-plan CLOAK-RUN-ARGS...)\n"
		"      prints base64 of MEASURE | MNONCE. --firmware follows QEMU + OVMF (the image, then the\n"
		"      kernel-hashes table when --kernel is given; then the VMSAs for SEV-ES). --cloak-plan\n"
		"      takes the rest of the line as `cloak run` arguments and runs cloak's own plan code\n"
		"      (always as under --sev, so with its --measured-boot: verifier unless full is given);\n"
		"      --cpu-generation names the platform's CPU (naples, rome: C-bit 47; milan, genoa,\n"
		"      turin: 51; sim, sim-snp: cloak's simulated PSP under --sev-mode sev|es and snp),\n"
		"      which fixes the C-bit in cloak's page tables;\n"
		"      --cbit takes the same names or 47 or 51 and nothing else: never the host's word\n"
		"      (CLOAK_SEV_CBIT). With a policy with bit 2 (SEV-ES), --cloak-plan measures the plan's\n"
		"      VMSAs too: --vcpu-sig, --guest-features and --kvm-sev-init as the timeline's\n"
		"      owner_command of `cloak run --sev-mode es` names them. --verbose prints\n"
		"      the launch digest (and for --cloak-plan each measured region) on stderr.\n"
		"\n"
		"  measurement verify ... --launch-measure-blob B64\n"
		"      the same inputs; exits 0 only when the blob's MEASURE matches, 1 when it does not.\n"
		"\n"
		"  secret build --tik F --tek F --launch-measure-blob B64 --secret GUID:FILE [--secret ...]\n"
		"        [--iv B64] [--api-major N --api-minor N] HEADER_OUT PAYLOAD_OUT\n"
		"      packages the files as an OVMF secrets table, encrypted and MACed for LAUNCH_SECRET:\n"
		"      HEADER_OUT gets the 52-byte header, PAYLOAD_OUT the encrypted table.\n"
		"\n"
		"  measure --mode sev|seves|snp|snp:ovmf-hash --ovmf FILE [--vcpus N]\n"
		"        [--vcpu-type NAME | --vcpu-sig N | --vcpu-family N --vcpu-model N --vcpu-stepping N]\n"
		"        [--vmm-type QEMU|ec2|gce] [--kernel F [--initrd F] [--append S]] [--guest-features N]\n"
		"        [--snp-ovmf-hash HEX] [--output-format hex|base64] [--dump-vmsa] [-v|--verbose]\n"
		"  measure --mode sev|seves --cpu-generation GEN [seves: the vCPU as above, --guest-features N,\n"
		"        --kvm-sev-init init2|legacy, --vcpus N] --cloak-plan CLOAK-RUN-ARGS...\n"
		"      prints the launch digest as sev-snp-measure does (same options, same output): SHA-256 for\n"
		"      sev and seves, the SNP PAGE_INFO digest (SHA-384) for snp, the OVMF pages' SNP digest for\n"
		"      snp:ovmf-hash. seves and snp need --vcpus and, under QEMU, the vCPU's signature; NAME is\n"
		"      one of QEMU's EPYC models (EPYC, EPYC-v1..v4, EPYC-IBPB, EPYC-Rome[-v1..v3],\n"
		"      EPYC-Milan[-v1,-v2], EPYC-Genoa[-v1], EPYC-Turin). --guest-features is the SNP VMSAs'\n"
		"      SEV_FEATURES (default 0x1). --dump-vmsa writes the measured VMSAs to vmsaN.bin here.\n"
		"      --cloak-plan gives the SEV or SEV-ES digest of cloak's own launch plan (SNP: not yet);\n"
		"      for seves, --guest-features is INIT2's VMSA features (default 0) and --kvm-sev-init how\n"
		"      KVM started the guest (default init2; legacy: KVM_SEV_ES_INIT), as the timeline's\n"
		"      owner_command of `cloak run --sev-mode es` gives them.\n"
		"\n"
		"  verify --ark F --ask F --cek F --oca F --pek F --pdh F [-q|--quiet]\n"
		"      checks an SEV platform's chain as `sevctl verify` does: ARK (self-signed) -> ASK -> CEK\n"
		"      -> PEK <- OCA (self-signed), PEK -> PDH, in AMD's formats (RSA-PSS or ECDSA as each\n"
		"      certificate says). Prints each link; exits 0 only when all hold, 1 when one does not.\n"
		"      Names AMD's Naples, Rome, Milan, Genoa and Turin ARKs; AMD's ask_ark_<product>.cert\n"
		"      (ASK then ARK) is taken for --ark and --ask alike.\n"
		"\n"
		"  report verify --ca PEM [--vcek|--vlek DER [--report FILE [--measurement HEX]]]\n"
		"        [--allow-unknown-ark] [-q|--quiet]\n"
		"      checks an SNP attestation report (binary, 1184 bytes, or hex; versions 2 to 5): the ASK\n"
		"      (or, for VLEKs, the ASVK) and the ARK in --ca (PEM, as AMD's KDS serves cert_chain; an\n"
		"      ASK+ARK+ASVK bundle or a VCEK+ASK+ARK bundle is taken too, the latter without --vcek),\n"
		"      the VCEK signed by the ASK or the VLEK by the ASVK, the VCEK's chip ID (skipped under\n"
		"      MASK_CHIP_KEY and for VLEKs) and TCB against the report, the report's SIGNING_KEY, its\n"
		"      ECDSA P-384 signature, and optionally its measurement. The ARK must be one of AMD's\n"
		"      published Milan, Genoa or Turin roots unless --allow-unknown-ark (for test chains).\n"
		"      Without --report it checks the chain only. Exits 0 when valid, 1 when not.\n"
		"\n"
		"  report show --report FILE\n"
		"      prints every field of a report: policy and platform bits, measurement, TCBs (Turin's\n"
		"      with FMC), report and host data, ID-key and author-key digests, CPUID (version 3+),\n"
		"      chip ID, mitigation vectors (version 5), signature.\n"
		"\n"
		"  id-block build --launch-digest HEX --id-key PEM [--author-key PEM] [--policy HEX]\n"
		"        [--family-id HEX --image-id HEX --guest-svn N]\n"
		"      prints id-block=B64 and id-auth=B64 for SNP_LAUNCH_FINISH (QEMU's sev-snp-guest id-block\n"
		"      and id-auth), and the ID-key and author-key digests (SHA-384 of each public key in AMD's\n"
		"      format) that reports show. Keys are P-384 PEM private keys; --policy (default 0x30000)\n"
		"      must be the launch's.\n"
		"\n"
		"Exit status: 0 done, 1 a verify found no match or an invalid chain or report, 2 bad input or failure.\n");
}

static int read_key(const char *path, const char *what, uint8_t key[SEV_KEY_LEN], struct cloak_err *err)
{
	uint8_t *d;
	size_t n;

	if (sev_file_read(path, what, 4096, &d, &n, err) < 0)
		return -1;
	if (n != SEV_KEY_LEN) {
		free(d);
		return err_set(err, "%s %s is %zu bytes; a key file holds exactly %d", what, path, n, SEV_KEY_LEN);
	}
	memcpy(key, d, SEV_KEY_LEN);
	OPENSSL_cleanse(d, n);
	free(d);
	return 0;
}

static int b64_exact(const char *s, const char *what, uint8_t *out, size_t want, struct cloak_err *err)
{
	uint8_t *d;
	size_t n;

	if (sev_b64_decode(s, strlen(s), &d, &n) < 0) {
		free(d);
		return err_set(err, "%s: '%s' is not base64", what, s);
	}
	if (n != want) {
		free(d);
		return err_set(err, "%s decodes to %zu bytes; it must be %zu", what, n, want);
	}
	memcpy(out, d, want);
	free(d);
	return 0;
}

static int parse_uint(const char *s, const char *what, unsigned long max, unsigned long *out, struct cloak_err *err)
{
	char *end;

	errno = 0;
	*out = strtoul(s, &end, 0);
	if (!*s || *end || errno || *s == '-' || *out > max)
		return err_set(err, "%s: '%s' is not a number from 0 to %lu", what, s, max);
	return 0;
}

/* ---- session ---- */

/*
 * The session's POLICY: any the firmware accepts, SEV-ES (bit 2) included,
 * since `cloak run --sev-mode es` launches with the ES bit set and
 * LAUNCH_START checks the policy against this session's MAC.
 */
static int session_policy_parse(const char *s, uint32_t *policy, struct cloak_err *err)
{
	uint64_t v;

	if (!parse_hex_u64(s, UINT32_MAX, &v))
		return err_set(err, "POLICY: '%s' is not a 32-bit hex number; write it like 0x1 (NODBG) or 0x5 "
				    "(NODBG, SEV-ES)", s);
	*policy = (uint32_t)v;
	return sev_policy_check(*policy & ~SEV_POLICY_ES, "POLICY", err);
}

static int cmd_session(int argc, char **argv)
{
	static const struct option opts[] = { { "name", required_argument, NULL, 'n' }, { NULL, 0, NULL, 0 } };
	struct cloak_err err = { "" };
	uint8_t godh[SEV_CERT_LEN], session[SEV_SESSION_LEN], *pdh = NULL;
	struct sev_keys keys;
	const char *name = NULL;
	char path[4096], *b64;
	uint32_t policy = 0;
	size_t n;
	int c, rc = OWNER_ERROR;

	optind = 1;
	opterr = 0;
	while ((c = getopt_long(argc, argv, "", opts, NULL)) != -1) {
		if (c == 'n')
			name = optarg;
		else
			return usage_error("session: bad option %s", argv[optind - 1]);
	}
	if (!name || !*name)
		return usage_error("session: --name NAME is needed");
	if (argc - optind != 2)
		return usage_error("session: give PDH_CERT and POLICY after the options");
	if (session_policy_parse(argv[optind + 1], &policy, &err) < 0)
		return fail(&err);
	if (sev_file_read(argv[optind], "PDH certificate", 4 * SEV_CERT_LEN, &pdh, &n, &err) < 0)
		return fail(&err);
	if (n != SEV_CERT_LEN) {
		uint8_t *dec;
		size_t dn;

		if (sev_b64_decode((const char *)pdh, n, &dec, &dn) < 0 || dn != SEV_CERT_LEN) {
			free(dec);
			free(pdh);
			err_set(&err, "PDH certificate %s is neither %d bytes nor base64 of them; give the PDH "
				      "`cloak sev-export` or `sevctl export` wrote", argv[optind], SEV_CERT_LEN);
			return fail(&err);
		}
		free(pdh);
		pdh = dec;
	}
	if (RAND_bytes(keys.tek, sizeof(keys.tek)) != 1 || RAND_bytes(keys.tik, sizeof(keys.tik)) != 1) {
		err_set(&err, "no random bytes for the keys (OpenSSL RAND_bytes)");
		goto out;
	}
	if (sev_session_create(pdh, policy, &keys, godh, session, &err) < 0) {
		err_prefix(&err, "PDH certificate %s: ", argv[optind]);
		goto out;
	}
	b64 = sev_b64_encode(godh, sizeof(godh));
	snprintf(path, sizeof(path), "%s_godh.b64", name);
	if (!b64 || sev_file_write(path, "GODH certificate", b64, strlen(b64), 0644, &err) < 0) {
		free(b64);
		goto out;
	}
	free(b64);
	b64 = sev_b64_encode(session, sizeof(session));
	snprintf(path, sizeof(path), "%s_session.b64", name);
	if (!b64 || sev_file_write(path, "session blob", b64, strlen(b64), 0644, &err) < 0) {
		free(b64);
		goto out;
	}
	free(b64);
	snprintf(path, sizeof(path), "%s_tek.bin", name);
	if (sev_file_write(path, "TEK", keys.tek, sizeof(keys.tek), 0600, &err) < 0)
		goto out;
	snprintf(path, sizeof(path), "%s_tik.bin", name);
	if (sev_file_write(path, "TIK", keys.tik, sizeof(keys.tik), 0600, &err) < 0)
		goto out;
	rc = 0;
out:
	OPENSSL_cleanse(&keys, sizeof(keys));
	free(pdh);
	return rc ? fail(&err) : 0;
}

/* ---- measurement build / verify ---- */

struct measure_args {
	bool have_major, have_minor, have_build, have_policy;
	unsigned long major, minor, build;
	uint32_t policy;
	const char *tik, *nonce, *blob, *digest, *firmware, *kernel, *initrd, *cmdline, *vmsa0, *vmsa1;
	unsigned long ncpus;
	int cbit;
	bool have_cbit, verbose;
	int plan_argc;
	char **plan_argv;   /* the `cloak run` arguments after --cloak-plan, or NULL */
	/* An ES policy with --cloak-plan: what the host chose for the VMSAs (the timeline's owner_command). */
	struct owner_plan_es es;
	bool have_sig, have_features, have_init;
};

enum {
	M_MAJOR = 256, M_MINOR, M_BUILD, M_POLICY, M_TIK, M_NONCE, M_BLOB, M_DIGEST, M_FIRMWARE, M_KERNEL,
	M_INITRD, M_CMDLINE, M_NCPUS, M_VMSA0, M_VMSA1, M_CBIT, M_CPUGEN, M_VERBOSE, M_VCPU_SIG, M_FEATURES,
	M_KVM_INIT,
};

static int measure_parse(int argc, char **argv, struct measure_args *a, struct cloak_err *err)
{
	static const struct option opts[] = {
		{ "api-major", required_argument, NULL, M_MAJOR }, { "api-minor", required_argument, NULL, M_MINOR },
		{ "build-id", required_argument, NULL, M_BUILD }, { "policy", required_argument, NULL, M_POLICY },
		{ "tik", required_argument, NULL, M_TIK }, { "nonce", required_argument, NULL, M_NONCE },
		{ "launch-measure-blob", required_argument, NULL, M_BLOB },
		{ "launch-digest", required_argument, NULL, M_DIGEST }, { "firmware", required_argument, NULL, M_FIRMWARE },
		{ "kernel", required_argument, NULL, M_KERNEL }, { "initrd", required_argument, NULL, M_INITRD },
		{ "cmdline", required_argument, NULL, M_CMDLINE }, { "num-cpus", required_argument, NULL, M_NCPUS },
		{ "vmsa-cpu0", required_argument, NULL, M_VMSA0 }, { "vmsa-cpu1", required_argument, NULL, M_VMSA1 },
		{ "cbit", required_argument, NULL, M_CBIT }, { "cpu-generation", required_argument, NULL, M_CPUGEN },
		{ "verbose", no_argument, NULL, M_VERBOSE }, { "vcpu-sig", required_argument, NULL, M_VCPU_SIG },
		{ "guest-features", required_argument, NULL, M_FEATURES },
		{ "kvm-sev-init", required_argument, NULL, M_KVM_INIT }, { NULL, 0, NULL, 0 },
	};
	unsigned long n;
	int i, c, nsrc;

	memset(a, 0, sizeof(*a));
	/* Everything after --cloak-plan belongs to `cloak run`, not to us. */
	for (i = 1; i < argc; i++)
		if (!strcmp(argv[i], "--cloak-plan")) {
			a->plan_argc = argc - i;
			a->plan_argv = argv + i;  /* argv[i] stands in for "run" */
			argc = i;
			break;
		}
	optind = 1;
	opterr = 0;
	while ((c = getopt_long(argc, argv, ":", opts, NULL)) != -1) {
		switch (c) {
		case M_MAJOR:
			if (parse_uint(optarg, "--api-major", 255, &a->major, err) < 0)
				return -1;
			a->have_major = true;
			break;
		case M_MINOR:
			if (parse_uint(optarg, "--api-minor", 255, &a->minor, err) < 0)
				return -1;
			a->have_minor = true;
			break;
		case M_BUILD:
			if (parse_uint(optarg, "--build-id", 255, &a->build, err) < 0)
				return -1;
			a->have_build = true;
			break;
		case M_POLICY: {
			uint64_t v;

			/* The owner may check any policy, SEV-ES included: no refusal here, only the format. */
			if (!parse_hex_u64(optarg, UINT32_MAX, &v))
				return err_set(err, "--policy: '%s' is not a 32-bit hex number (like 0x1)", optarg);
			a->policy = (uint32_t)v;
			a->have_policy = true;
			break;
		}
		case M_TIK: a->tik = optarg; break;
		case M_NONCE: a->nonce = optarg; break;
		case M_BLOB: a->blob = optarg; break;
		case M_DIGEST: a->digest = optarg; break;
		case M_FIRMWARE: a->firmware = optarg; break;
		case M_KERNEL: a->kernel = optarg; break;
		case M_INITRD: a->initrd = optarg; break;
		case M_CMDLINE: a->cmdline = optarg; break;
		case M_NCPUS:
			if (parse_uint(optarg, "--num-cpus", 4096, &a->ncpus, err) < 0 || a->ncpus == 0)
				return err_set(err, "--num-cpus: '%s' is not a vCPU count from 1 to 4096", optarg);
			break;
		case M_VMSA0: a->vmsa0 = optarg; break;
		case M_VMSA1: a->vmsa1 = optarg; break;
		case M_CBIT:
		case M_CPUGEN:
			if (owner_cbit_parse(c == M_CBIT ? "--cbit" : "--cpu-generation", optarg, &a->cbit, err) < 0)
				return -1;
			a->have_cbit = true;
			break;
		case M_VERBOSE: a->verbose = true; break;
		case M_VCPU_SIG:
			if (parse_uint(optarg, "--vcpu-sig", UINT32_MAX, &n, err) < 0)
				return -1;
			a->es.vcpu_sig = (uint32_t)n;
			a->have_sig = true;
			break;
		case M_FEATURES:
			if (parse_uint(optarg, "--guest-features", ULONG_MAX, &n, err) < 0)
				return -1;
			a->es.features = n;
			a->have_features = true;
			break;
		case M_KVM_INIT:
			if (strcmp(optarg, "init2") && strcmp(optarg, "legacy"))
				return err_set(err, "--kvm-sev-init: '%s' is not init2 (KVM_SEV_INIT2) or legacy "
						    "(KVM_SEV_ES_INIT)", optarg);
			a->es.init2 = !strcmp(optarg, "init2");
			a->have_init = true;
			break;
		case ':': return err_set(err, "%s needs a value", argv[optind - 1]);
		default: return err_set(err, "unknown option %s", argv[optind - 1]);
		}
	}
	if (optind < argc)
		return err_set(err, "unexpected argument '%s'", argv[optind]);
	if (!a->have_major || !a->have_minor || !a->have_build || !a->have_policy || !a->tik)
		return err_set(err, "--api-major, --api-minor, --build-id, --policy and --tik are all needed: the "
				    "firmware MACs them into the measurement");
	if (!a->have_init)
		a->es.init2 = true;
	if ((a->have_sig || a->have_features || a->have_init) && (!a->plan_argv || !(a->policy & SEV_POLICY_ES)))
		return err_set(err, "--vcpu-sig, --guest-features and --kvm-sev-init describe the VMSAs of an SEV-ES "
				    "launch: they go with --cloak-plan and a policy with bit 2 (ES)");
	if (a->plan_argv && (a->policy & SEV_POLICY_ES) && !a->have_sig)
		return err_set(err, "--policy 0x%x is SEV-ES: its digest covers each vCPU's VMSA, which holds the vCPU "
				    "signature; give --vcpu-sig (and --guest-features, --kvm-sev-init as the timeline's "
				    "owner_command names them)", a->policy);
	nsrc = !!a->digest + !!a->firmware + !!a->plan_argv;
	if (nsrc != 1)
		return err_set(err, "give exactly one of --launch-digest, --firmware or --cloak-plan");
	if (!a->firmware && (a->kernel || a->initrd || a->cmdline || a->ncpus || a->vmsa0 || a->vmsa1))
		return err_set(err, "--kernel, --initrd, --cmdline, --num-cpus and --vmsa-cpu0/1 go with --firmware "
				    "(with --cloak-plan, give them as `cloak run` arguments after it)");
	if ((a->initrd || a->cmdline) && !a->kernel)
		return err_set(err, "--initrd and --cmdline need --kernel: QEMU measures them only with a kernel");
	if (a->ncpus && !a->vmsa0)
		return err_set(err, "--num-cpus needs --vmsa-cpu0 (and --vmsa-cpu1 for more than one vCPU)");
	if (a->vmsa0 && !a->ncpus)
		a->ncpus = 1;
	if (a->ncpus > 1 && !a->vmsa1)
		return err_set(err, "--num-cpus %lu needs --vmsa-cpu1 for the other vCPUs", a->ncpus);
	if (a->plan_argv && !a->have_cbit)
		return err_set(err, "--cloak-plan needs --cpu-generation GEN (or --cbit) before it: the C-bit is in "
				    "the page tables cloak measures, and the platform's CPU generation fixes it");
	return 0;
}

static int read_exact_file(const char *path, const char *what, size_t want, uint8_t **out, struct cloak_err *err)
{
	size_t n;

	if (sev_file_read(path, what, want, out, &n, err) < 0)
		return -1;
	if (n != want) {
		free(*out);
		return err_set(err, "%s %s is %zu bytes; a VMSA page is %zu", what, path, n, want);
	}
	return 0;
}

static int digest_of_firmware(const struct measure_args *a, uint8_t digest[32], struct cloak_err *err)
{
	struct ovmf_inputs in = { .cmdline = a->cmdline, .ncpus = (unsigned)a->ncpus };
	uint8_t *fw = NULL, *k = NULL, *i = NULL, *v0 = NULL, *v1 = NULL;
	int rc = -1;

	if (sev_file_read(a->firmware, "--firmware", 256 * MiB, &fw, &in.fwlen, err) < 0)
		return -1;
	in.fw = fw;
	if (a->kernel && sev_file_read(a->kernel, "--kernel", 1 * GiB, &k, &in.klen, err) < 0)
		goto out;
	if (a->initrd && sev_file_read(a->initrd, "--initrd", 4 * GiB, &i, &in.ilen, err) < 0)
		goto out;
	if (a->vmsa0 && read_exact_file(a->vmsa0, "--vmsa-cpu0", 4096, &v0, err) < 0)
		goto out;
	if (a->vmsa1 && read_exact_file(a->vmsa1, "--vmsa-cpu1", 4096, &v1, err) < 0)
		goto out;
	in.kernel = k;
	in.initrd = i;
	in.vmsa0 = v0;
	in.vmsa1 = v1;
	rc = ovmf_launch_digest(&in, digest, err);
out:
	free(fw);
	free(k);
	free(i);
	free(v0);
	free(v1);
	return rc;
}

static int cmd_measurement(int argc, char **argv)
{
	struct cloak_err err = { "" };
	struct sev_measure_input in;
	struct measure_args a;
	uint8_t tik[SEV_KEY_LEN], blob[SEV_MEASURE_BLOB_LEN], got[SEV_MEASURE_BLOB_LEN];
	bool verify;
	char *b64, hex[65];
	int rc;

	if (argc < 2 || (strcmp(argv[1], "build") && strcmp(argv[1], "verify")))
		return usage_error("measurement: give build or verify");
	verify = !strcmp(argv[1], "verify");
	if (measure_parse(argc - 1, argv + 1, &a, &err) < 0)
		return fail(&err);
	if (verify && !a.blob) {
		err_set(&err, "measurement verify needs --launch-measure-blob: the measurement to check");
		return fail(&err);
	}
	if (!verify && !!a.nonce == !!a.blob) {
		err_set(&err, "give exactly one of --nonce and --launch-measure-blob (which carries the MNONCE)");
		return fail(&err);
	}
	if (verify && a.nonce) {
		err_set(&err, "measurement verify takes the MNONCE from --launch-measure-blob; drop --nonce");
		return fail(&err);
	}
	memset(&in, 0, sizeof(in));
	if (a.blob) {
		if (b64_exact(a.blob, "--launch-measure-blob", got, sizeof(got), &err) < 0)
			return fail(&err);
		memcpy(in.mnonce, got + SEV_MEASURE_LEN, SEV_MNONCE_LEN);
	} else if (b64_exact(a.nonce, "--nonce", in.mnonce, SEV_MNONCE_LEN, &err) < 0) {
		return fail(&err);
	}
	if (read_key(a.tik, "--tik", tik, &err) < 0)
		return fail(&err);
	if (a.digest)
		rc = b64_exact(a.digest, "--launch-digest", in.digest, 32, &err);
	else if (a.firmware)
		rc = digest_of_firmware(&a, in.digest, &err);
	else
		rc = owner_plan_digest(a.plan_argc, a.plan_argv, a.cbit, (a.policy & SEV_POLICY_ES) ? &a.es : NULL,
				       a.verbose, in.digest, &err);
	if (rc < 0)
		return fail(&err);
	in.api_major = (uint8_t)a.major;
	in.api_minor = (uint8_t)a.minor;
	in.build = (uint8_t)a.build;
	in.policy = a.policy;
	if (a.verbose) {
		sev_hex(in.digest, 32, hex);
		fprintf(stderr, "cloak-owner: launch digest %s\n", hex);
	}
	if (sev_measure_compute(tik, &in, blob) < 0) {
		err_set(&err, "cannot compute the measurement (OpenSSL)");
		return fail(&err);
	}
	OPENSSL_cleanse(tik, sizeof(tik));
	memcpy(blob + SEV_MEASURE_LEN, in.mnonce, SEV_MNONCE_LEN);
	b64 = sev_b64_encode(blob, sizeof(blob));
	if (!b64) {
		err_set(&err, "out of memory");
		return fail(&err);
	}
	if (!verify) {
		printf("%s\n", b64);
		free(b64);
		return 0;
	}
	if (CRYPTO_memcmp(blob, got, SEV_MEASURE_LEN)) {
		fprintf(stderr, "cloak-owner: measurement does NOT match: the platform reported %s, these inputs give "
				"%s (another image, command line, policy, TIK or firmware version?)\n", a.blob, b64);
		free(b64);
		return OWNER_MISMATCH;
	}
	fprintf(stderr, "cloak-owner: measurement matches\n");
	free(b64);
	return 0;
}

/* ---- secret build ---- */

#define MAX_SECRETS 32

static int cmd_secret(int argc, char **argv)
{
	enum { S_TIK = 256, S_TEK, S_BLOB, S_SECRET, S_IV, S_MAJOR, S_MINOR };
	static const struct option opts[] = {
		{ "tik", required_argument, NULL, S_TIK }, { "tek", required_argument, NULL, S_TEK },
		{ "launch-measure-blob", required_argument, NULL, S_BLOB }, { "secret", required_argument, NULL, S_SECRET },
		{ "iv", required_argument, NULL, S_IV }, { "api-major", required_argument, NULL, S_MAJOR },
		{ "api-minor", required_argument, NULL, S_MINOR }, { NULL, 0, NULL, 0 },
	};
	struct sev_secret_entry e[MAX_SECRETS];
	uint8_t *files[MAX_SECRETS] = { NULL };
	const char *tik = NULL, *tek = NULL, *blob = NULL, *iv_b64 = NULL;
	unsigned long major = 1, minor = 0;
	uint8_t blobbuf[SEV_MEASURE_BLOB_LEN], iv[16], hdr[SEV_SECRET_HDR_LEN], *table = NULL, *trans = NULL;
	struct cloak_err err = { "" };
	struct sev_keys keys;
	unsigned n = 0, i;
	size_t tlen;
	int c, rc = OWNER_ERROR;

	if (argc < 2 || strcmp(argv[1], "build"))
		return usage_error("secret: the subcommand is build");
	argc--;
	argv++;
	optind = 1;
	opterr = 0;
	while ((c = getopt_long(argc, argv, ":", opts, NULL)) != -1) {
		switch (c) {
		case S_TIK: tik = optarg; break;
		case S_TEK: tek = optarg; break;
		case S_BLOB: blob = optarg; break;
		case S_IV: iv_b64 = optarg; break;
		case S_MAJOR:
			if (parse_uint(optarg, "--api-major", 255, &major, &err) < 0)
				goto out;
			break;
		case S_MINOR:
			if (parse_uint(optarg, "--api-minor", 255, &minor, &err) < 0)
				goto out;
			break;
		case S_SECRET: {
			const char *colon = strchr(optarg, ':');
			char guid[40];

			if (n == MAX_SECRETS) {
				err_set(&err, "--secret: at most %d secrets", MAX_SECRETS);
				goto out;
			}
			if (!colon || colon - optarg != 36) {
				err_set(&err, "--secret '%s' is not GUID:FILE (like 736869e5-84f0-4973-92ec-06879ce3da0b:key.bin)",
					optarg);
				goto out;
			}
			memcpy(guid, optarg, 36);
			guid[36] = 0;
			if (sev_guid_parse(guid, e[n].guid) < 0) {
				err_set(&err, "--secret: '%s' is not a GUID", guid);
				goto out;
			}
			if (sev_file_read(colon + 1, "--secret file", SEV_SECRET_MAX, &files[n], &e[n].len, &err) < 0)
				goto out;
			e[n].data = files[n];
			n++;
			break;
		}
		case ':':
			err_set(&err, "%s needs a value", argv[optind - 1]);
			goto out;
		default:
			err_set(&err, "unknown option %s", argv[optind - 1]);
			goto out;
		}
	}
	if (!tik || !tek || !blob || n == 0) {
		err_set(&err, "secret build needs --tik, --tek, --launch-measure-blob and at least one --secret");
		goto out;
	}
	if (argc - optind != 2) {
		err_set(&err, "secret build: give HEADER_OUT and PAYLOAD_OUT after the options");
		goto out;
	}
	if (read_key(tik, "--tik", keys.tik, &err) < 0 || read_key(tek, "--tek", keys.tek, &err) < 0 ||
	    b64_exact(blob, "--launch-measure-blob", blobbuf, sizeof(blobbuf), &err) < 0)
		goto out;
	if (iv_b64) {
		if (b64_exact(iv_b64, "--iv", iv, sizeof(iv), &err) < 0)
			goto out;
	} else if (RAND_bytes(iv, sizeof(iv)) != 1) {
		err_set(&err, "no random bytes for the IV (OpenSSL RAND_bytes)");
		goto out;
	}
	if (sev_secret_table_build(e, n, &table, &tlen, &err) < 0)
		goto out;
	trans = malloc(tlen);
	if (!trans) {
		err_set(&err, "out of memory");
		goto out;
	}
	if (sev_secret_wrap(&keys, blobbuf, sev_api_has_measure_prefix((uint8_t)major, (uint8_t)minor), iv, table, tlen,
			    hdr, trans, &err) < 0 ||
	    sev_file_write(argv[optind], "HEADER_OUT", hdr, sizeof(hdr), 0644, &err) < 0 ||
	    sev_file_write(argv[optind + 1], "PAYLOAD_OUT", trans, tlen, 0644, &err) < 0)
		goto out;
	rc = 0;
out:
	OPENSSL_cleanse(&keys, sizeof(keys));
	if (table)
		OPENSSL_cleanse(table, tlen);
	free(table);
	free(trans);
	for (i = 0; i < n; i++)
		free(files[i]);
	return rc ? fail(&err) : 0;
}

int main(int argc, char **argv)
{
	if (argc < 2) {
		usage(stderr);
		return OWNER_ERROR;
	}
	if (!strcmp(argv[1], "--help") || !strcmp(argv[1], "-h") || !strcmp(argv[1], "help")) {
		usage(stdout);
		return 0;
	}
	if (!strcmp(argv[1], "session"))
		return cmd_session(argc - 1, argv + 1);
	if (!strcmp(argv[1], "measurement"))
		return cmd_measurement(argc - 1, argv + 1);
	if (!strcmp(argv[1], "secret"))
		return cmd_secret(argc - 1, argv + 1);
	if (!strcmp(argv[1], "measure"))
		return cmd_measure(argc - 1, argv + 1);
	if (!strcmp(argv[1], "verify"))
		return cmd_verify(argc - 1, argv + 1);
	if (!strcmp(argv[1], "report"))
		return cmd_report(argc - 1, argv + 1);
	if (!strcmp(argv[1], "id-block"))
		return cmd_id_block(argc - 1, argv + 1);
	return usage_error("unknown command '%s'", argv[1]);
}
