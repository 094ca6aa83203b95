/* owner_measure.c: `cloak-owner measure`, the launch digest of an SEV, SEV-ES or SNP guest (sev-snp-measure's CLI). */
#include "owner_cmds.h"

#include "owner.h"
#include "snp_digest.h"

#include <errno.h>
#include <getopt.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

struct measure_opts {
	const char *mode, *ovmf, *kernel, *initrd, *append, *ovmf_hash, *vmm, *vcpu_type, *format;
	unsigned long vcpus, family, model, stepping;
	int cbit;
	uint64_t features, sig;
	bool have_vcpus, have_family, have_model, have_stepping, have_sig, have_cbit, have_features, dump_vmsa, verbose;
	const char *kvm_sev_init;
	int plan_argc;
	char **plan_argv;
};

enum {
	O_MODE = 256, O_VCPUS, O_VCPU_TYPE, O_VCPU_SIG, O_FAMILY, O_MODEL, O_STEPPING, O_VMM, O_OVMF, O_KERNEL,
	O_INITRD, O_APPEND, O_FEATURES, O_FORMAT, O_OVMF_HASH, O_DUMP, O_CBIT, O_CPUGEN, O_VERBOSE, O_KVM_SEV_INIT,
};

static int number(const char *s, const char *what, uint64_t max, uint64_t *out, struct cloak_err *err)
{
	unsigned long long v;
	char *end;

	errno = 0;
	v = strtoull(s, &end, 0);
	if (!*s || *end || errno || *s == '-' || v > max)
		return err_set(err, "%s: '%s' is not a number from 0 to %llu", what, s, (unsigned long long)max);
	*out = v;
	return 0;
}

static int parse(int argc, char **argv, struct measure_opts *o, struct cloak_err *err)
{
	static const struct option opts[] = {
		{ "mode", required_argument, NULL, O_MODE }, { "vcpus", required_argument, NULL, O_VCPUS },
		{ "vcpu-type", required_argument, NULL, O_VCPU_TYPE }, { "vcpu-sig", required_argument, NULL, O_VCPU_SIG },
		{ "vcpu-family", required_argument, NULL, O_FAMILY }, { "vcpu-model", required_argument, NULL, O_MODEL },
		{ "vcpu-stepping", required_argument, NULL, O_STEPPING }, { "vmm-type", required_argument, NULL, O_VMM },
		{ "ovmf", required_argument, NULL, O_OVMF }, { "kernel", required_argument, NULL, O_KERNEL },
		{ "initrd", required_argument, NULL, O_INITRD }, { "append", required_argument, NULL, O_APPEND },
		{ "guest-features", required_argument, NULL, O_FEATURES },
		{ "output-format", required_argument, NULL, O_FORMAT },
		{ "snp-ovmf-hash", required_argument, NULL, O_OVMF_HASH }, { "dump-vmsa", no_argument, NULL, O_DUMP },
		{ "cbit", required_argument, NULL, O_CBIT }, { "cpu-generation", required_argument, NULL, O_CPUGEN },
		{ "verbose", no_argument, NULL, O_VERBOSE },
		{ "kvm-sev-init", required_argument, NULL, O_KVM_SEV_INIT },
		{ NULL, 0, NULL, 0 },
	};
	uint64_t v;
	int i, c;

	memset(o, 0, sizeof(*o));
	o->features = 0x1;   /* SNPActive: what sev-snp-measure assumes when none is given */
	o->vmm = "QEMU";
	o->format = "hex";
	/* Everything after --cloak-plan belongs to `cloak run`. */
	for (i = 1; i < argc; i++)
		if (!strcmp(argv[i], "--cloak-plan")) {
			o->plan_argc = argc - i;
			o->plan_argv = argv + i;  /* argv[i] stands in for "run" */
			argc = i;
			break;
		}
	optind = 1;
	opterr = 0;
	while ((c = getopt_long(argc, argv, ":v", opts, NULL)) != -1) {
		switch (c) {
		case O_MODE: o->mode = optarg; break;
		case O_VCPUS:
			if (number(optarg, "--vcpus", 512, &v, err) < 0 || v == 0)
				return err_set(err, "--vcpus: '%s' is not a vCPU count from 1 to 512", optarg);
			o->vcpus = v;
			o->have_vcpus = true;
			break;
		case O_VCPU_TYPE: o->vcpu_type = optarg; break;
		case O_VCPU_SIG:
			if (number(optarg, "--vcpu-sig", UINT32_MAX, &o->sig, err) < 0)
				return -1;
			o->have_sig = true;
			break;
		case O_FAMILY:
			if (number(optarg, "--vcpu-family", 0xff + 0xf, &v, err) < 0)
				return -1;
			o->family = v;
			o->have_family = true;
			break;
		case O_MODEL:
			if (number(optarg, "--vcpu-model", 0xff, &v, err) < 0)
				return -1;
			o->model = v;
			o->have_model = true;
			break;
		case O_STEPPING:
			if (number(optarg, "--vcpu-stepping", 0xf, &v, err) < 0)
				return -1;
			o->stepping = v;
			o->have_stepping = true;
			break;
		case O_VMM: o->vmm = optarg; break;
		case O_OVMF: o->ovmf = optarg; break;
		case O_KERNEL: o->kernel = optarg; break;
		case O_INITRD: o->initrd = optarg; break;
		case O_APPEND: o->append = optarg; break;
		case O_FEATURES:
			if (number(optarg, "--guest-features", UINT64_MAX, &o->features, err) < 0)
				return -1;
			o->have_features = true;
			break;
		case O_KVM_SEV_INIT:
			if (strcmp(optarg, "init2") && strcmp(optarg, "legacy"))
				return err_set(err, "--kvm-sev-init: '%s' is not init2 (KVM_SEV_INIT2) or legacy "
						    "(KVM_SEV_ES_INIT)", optarg);
			o->kvm_sev_init = optarg;
			break;
		case O_FORMAT: o->format = optarg; break;
		case O_OVMF_HASH: o->ovmf_hash = optarg; break;
		case O_DUMP: o->dump_vmsa = true; break;
		case O_CBIT:
		case O_CPUGEN:
			if (owner_cbit_parse(c == O_CBIT ? "--cbit" : "--cpu-generation", optarg, &o->cbit, err) < 0)
				return -1;
			o->have_cbit = true;
			break;
		case 'v':
		case O_VERBOSE: o->verbose = true; break;
		case ':': return err_set(err, "%s needs a value", argv[optind - 1]);
		default: return err_set(err, "unknown option %s", argv[optind - 1]);
		}
	}
	if (optind < argc)
		return err_set(err, "unexpected argument '%s'", argv[optind]);
	return 0;
}

static int dump_vmsa(void *ctx, unsigned index, const uint8_t page[SNP_PAGE_SIZE], struct cloak_err *err)
{
	char path[32];

	(void)ctx;
	snprintf(path, sizeof(path), "vmsa%u.bin", index);
	return sev_file_write(path, "--dump-vmsa file", page, SNP_PAGE_SIZE, 0644, err);
}

static int vcpu_signature(const struct measure_opts *o, enum sev_mode mode, enum vmm_type vmm, uint32_t *sig,
			  struct cloak_err *err)
{
	*sig = 0;
	if (mode == SEV_MODE_SEV)
		return 0;
	/* The precedence is sev-snp-measure's: family/model/stepping, then the signature, then the CPU name. */
	if (o->have_family) {
		if (!o->have_model || !o->have_stepping)
			return err_set(err, "--vcpu-family needs --vcpu-model and --vcpu-stepping too");
		*sig = cpu_sig((unsigned)o->family, (unsigned)o->model, (unsigned)o->stepping);
	} else if (o->have_model || o->have_stepping) {
		return err_set(err, "--vcpu-model and --vcpu-stepping go with --vcpu-family");
	} else if (o->have_sig) {
		*sig = (uint32_t)o->sig;
	} else if (o->vcpu_type) {
		if (!cpu_sig_of_type(o->vcpu_type, sig))
			return err_set(err, "--vcpu-type: '%s' is not one of %s", o->vcpu_type, cpu_type_names());
	} else if (vmm == VMM_QEMU) {
		return err_set(err, "missing --vcpu-type, --vcpu-sig or --vcpu-family in guest mode '%s': the VMSA "
				    "holds the vCPU's signature", o->mode);
	}
	return 0;
}

static int hex_decode(const char *s, uint8_t *out, size_t want)
{
	size_t i;

	if (strlen(s) != 2 * want)
		return -1;
	for (i = 0; i < want; i++) {
		unsigned v;

		if (sscanf(s + 2 * i, "%2x", &v) != 1 || !strchr("0123456789abcdefABCDEF", s[2 * i]) ||
		    !strchr("0123456789abcdefABCDEF", s[2 * i + 1]))
			return -1;
		out[i] = (uint8_t)v;
	}
	return 0;
}

static void print_digest(const uint8_t *d, int len, const struct measure_opts *o, const char *mode_name)
{
	char hex[2 * SNP_LD_LEN + 1], *text, *b64 = NULL;

	sev_hex(d, (size_t)len, hex);
	text = hex;
	if (!strcmp(o->format, "base64") && (b64 = sev_b64_encode(d, (size_t)len)))
		text = b64;
	if (o->verbose)
		printf("Calculated %s guest measurement: %s\n", mode_name, text);
	else
		printf("%s\n", text);
	free(b64);
}

static int measure(const struct measure_opts *o, struct cloak_err *err)
{
	uint8_t *fw = NULL, *kernel = NULL, *initrd = NULL, seed[SNP_LD_LEN], digest[SNP_LD_LEN];
	struct guest_launch l;
	struct ovmf_info info;
	char hex[2 * SNP_LD_LEN + 1];
	bool ovmf_hash_only = false;
	size_t fwlen;
	int vmm, len = -1;

	memset(&l, 0, sizeof(l));
	if (!o->mode)
		return err_set(err, "--mode is needed: sev, seves, snp or snp:ovmf-hash");
	if (!strcmp(o->mode, "sev"))
		l.mode = SEV_MODE_SEV;
	else if (!strcmp(o->mode, "seves"))
		l.mode = SEV_MODE_ES;
	else if (!strcmp(o->mode, "snp"))
		l.mode = SEV_MODE_SNP;
	else if (!strcmp(o->mode, "snp:ovmf-hash"))
		ovmf_hash_only = true;
	else
		return err_set(err, "--mode: '%s' is not one of sev, seves, snp, snp:ovmf-hash", o->mode);
	if (strcmp(o->format, "hex") && strcmp(o->format, "base64"))
		return err_set(err, "--output-format: '%s' is not hex or base64", o->format);
	vmm = vmm_type_parse(o->vmm);
	if (vmm < 0)
		return err_set(err, "--vmm-type: unknown VMM type '%s'; give QEMU, ec2 or gce", o->vmm);
	if (o->plan_argv) {
		struct owner_plan_es es = { .features = o->have_features ? o->features : 0,
					    .init2 = !o->kvm_sev_init || !strcmp(o->kvm_sev_init, "init2"),
					    .vcpus = o->have_vcpus ? (unsigned)o->vcpus : 0 };

		if (ovmf_hash_only)
			return err_set(err, "--cloak-plan measures cloak's own launch: --mode snp:ovmf-hash is OVMF's");
		if (!o->have_cbit)
			return err_set(err, "--cloak-plan needs --cpu-generation GEN (or --cbit) before it: the C-bit is "
					    "in the page tables cloak measures, and the platform's CPU generation fixes it");
		if (o->ovmf || o->kernel || o->initrd || o->append)
			return err_set(err, "--ovmf, --kernel, --initrd and --append describe an OVMF launch; with "
					    "--cloak-plan give `cloak run` arguments after it");
		if (l.mode == SEV_MODE_SEV && (o->kvm_sev_init || o->have_features))
			return err_set(err, "--kvm-sev-init and --guest-features shape the VMSAs of --mode seves; a "
					    "plain SEV launch measures none");
		if (l.mode != SEV_MODE_SEV && (vcpu_signature(o, l.mode, VMM_QEMU, &es.vcpu_sig, err) < 0))
			return -1;
		if (l.mode == SEV_MODE_SNP) {
			if (owner_plan_snp_digest(o->plan_argc, o->plan_argv, o->cbit, &es, o->verbose, digest, err) < 0)
				return -1;
			print_digest(digest, SNP_LD_LEN, o, sev_mode_name(l.mode));
			return 0;
		}
		if (owner_plan_digest(o->plan_argc, o->plan_argv, o->cbit, l.mode == SEV_MODE_ES ? &es : NULL,
				      o->verbose, digest, err) < 0)
			return -1;
		print_digest(digest, 32, o, sev_mode_name(l.mode));
		return 0;
	}
	if (o->kvm_sev_init)
		return err_set(err, "--kvm-sev-init goes with --cloak-plan: QEMU's VMSAs do not depend on it");
	if (o->have_cbit)
		return err_set(err, "--cpu-generation and --cbit go with --cloak-plan");
	if (!o->ovmf)
		return err_set(err, "--ovmf is needed (or --cloak-plan for cloak's own launch)");
	if (o->initrd && !o->kernel)
		return err_set(err, "--initrd needs --kernel: QEMU measures it only with a kernel");
	if (o->append && !o->kernel)
		return err_set(err, "--append needs --kernel: QEMU measures it only with a kernel");
	if (!ovmf_hash_only && l.mode != SEV_MODE_SEV && !o->have_vcpus)
		return err_set(err, "missing --vcpus N in guest mode '%s': each vCPU's VMSA is measured", o->mode);
	if (o->dump_vmsa && (ovmf_hash_only || l.mode == SEV_MODE_SEV))
		return err_set(err, "--dump-vmsa needs --mode seves or snp: only they measure VMSAs");
	if (o->ovmf_hash && l.mode != SEV_MODE_SNP)
		return err_set(err, "--snp-ovmf-hash works only with --mode snp");
	if (o->ovmf_hash && hex_decode(o->ovmf_hash, seed, sizeof(seed)) < 0)
		return err_set(err, "--snp-ovmf-hash: '%s' is not 96 hex digits (a SHA-384 digest)", o->ovmf_hash);
	if (!ovmf_hash_only && vcpu_signature(o, l.mode, (enum vmm_type)vmm, &l.vcpu_sig, err) < 0)
		return -1;
	if (sev_file_read(o->ovmf, "--ovmf", 64 * MiB, &fw, &fwlen, err) < 0)
		return -1;
	if (ovmf_info_parse(fw, fwlen, &info, err) < 0) {
		err_prefix(err, "--ovmf %s: ", o->ovmf);
		goto out;
	}
	if (ovmf_hash_only) {
		/* sev-snp-measure prints this one in hex whatever the output format. */
		if (snp_ovmf_digest(&info, digest, err) < 0)
			goto out;
		sev_hex(digest, SNP_LD_LEN, hex);
		printf("%s\n", hex);
		len = 0;
		goto out;
	}
	if (o->kernel && sev_file_read(o->kernel, "--kernel", 1 * GiB, &kernel, &l.kernel_len, err) < 0)
		goto out;
	if (o->initrd && sev_file_read(o->initrd, "--initrd", 4 * GiB, &initrd, &l.initrd_len, err) < 0)
		goto out;
	l.ovmf = &info;
	l.kernel = kernel;
	l.initrd = initrd;
	l.cmdline = o->append;
	l.vcpus = (unsigned)o->vcpus;
	l.guest_features = o->features;
	l.vmm = (enum vmm_type)vmm;
	l.ovmf_seed = o->ovmf_hash ? seed : NULL;
	if (o->dump_vmsa)
		l.vmsa_out = dump_vmsa;
	len = guest_launch_digest(&l, digest, err);
	if (len > 0)
		print_digest(digest, len, o, sev_mode_name(l.mode));
out:
	free(fw);
	free(kernel);
	free(initrd);
	return len < 0 ? -1 : 0;
}

int cmd_measure(int argc, char **argv)
{
	struct cloak_err err = { "" };
	struct measure_opts o;

	if (parse(argc, argv, &o, &err) < 0 || measure(&o, &err) < 0) {
		fprintf(stderr, "cloak-owner: measure: %s\n", err.msg);
		return 2;
	}
	return 0;
}
