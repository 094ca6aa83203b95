/* test_launch.c: cloak's launch steps on guest memory with the simulated PSP (no KVM), and their helpers. */
#include "sev_tests.h"

#include "owner_harness.h"

#include "machine.h"
#include "sev/sev.h"

#include <errno.h>
#include <fcntl.h>
#include <stdio.h>
#include <stdlib.h>
#include <sys/stat.h>
#include <unistd.h>

static void write_file(const char *name, const void *data, size_t len)
{
	struct cloak_err err = { "" };
	char p[128];

	test_path(p, sizeof(p), name);
	ck_assert_msg(sev_file_write(p, name, data, len, 0700, &err) == 0, "%s", err.msg);
}

/* The guest owner's session with the simulated platform whose key lives in test_dir/platform.pem. */
static void owner_prepare(struct vm_config *cfg, uint32_t policy)
{
	static char key[128], godh_path[128], session_path[128];
	struct cloak_err err = { "" };
	uint8_t pdh[SEV_CERT_LEN], godh[SEV_CERT_LEN], session[SEV_SESSION_LEN];
	struct sev_keys k;
	struct psp *psp;
	char *b;

	config_defaults(cfg);
	cfg->sev = true;
	cfg->sev_backend = SEV_BACKEND_SIM;
	cfg->mem_size = 32 * MiB;
	cfg->sev_policy = policy;
	test_path(key, sizeof(key), "platform.pem");
	cfg->sev_sim_key = key;
	psp = psp_open(cfg, true, &err);
	ck_assert_msg(psp != NULL, "%s", err.msg);
	ck_assert_int_eq(psp_pdh_export(psp, pdh, &err), 0);
	psp_close(psp);
	memset(k.tek, 0x61, 16);
	memset(k.tik, 0x62, 16);
	ck_assert_int_eq(sev_session_create(pdh, policy, &k, godh, session, &err), 0);
	write_file("tek.bin", k.tek, 16);
	write_file("tik.bin", k.tik, 16);
	b = sev_b64_encode(godh, sizeof(godh));
	write_file("godh.b64", b, strlen(b));
	free(b);
	b = sev_b64_encode(session, sizeof(session));
	write_file("session.b64", b, strlen(b));
	free(b);
	test_path(godh_path, sizeof(godh_path), "godh.b64");
	test_path(session_path, sizeof(session_path), "session.b64");
	cfg->sev_dh_cert_path = godh_path;
	cfg->sev_session_path = session_path;
	write_file("secret.txt", "the owner's secret", 18);
}

/* cloak-owner, which meson names in the environment: the attest command's own environment is minimal. */
static const char *owner_path(void)
{
	const char *p = getenv("CLOAK_OWNER");

	ck_assert_msg(p != NULL, "CLOAK_OWNER is not set (meson sets it)");
	return p;
}

/* An attest command that verifies with cloak-owner and answers with a secret for 0x30000. */
static const char *attest_script(const char *tik_name)
{
	static char cmd[256];
	char script[2048], p[128];

	snprintf(script, sizeof(script),
		 "#!/bin/sh\nset -e\nD=%s\nCLOAK_OWNER=%s\n"
		 "\"$CLOAK_OWNER\" measurement verify --api-major \"$CLOAK_SEV_API_MAJOR\" --api-minor \"$CLOAK_SEV_API_MINOR\" "
		 "--build-id \"$CLOAK_SEV_BUILD\" --policy \"$CLOAK_SEV_POLICY\" --tik $D/%s "
		 "--launch-measure-blob \"$CLOAK_SEV_MEASUREMENT\" --cpu-generation sim --cloak-plan --mem 32M >&2\n"
		 "\"$CLOAK_OWNER\" secret build --tik $D/tik.bin --tek $D/tek.bin --launch-measure-blob "
		 "\"$CLOAK_SEV_MEASUREMENT\" --secret 736869e5-84f0-4973-92ec-06879ce3da0b:$D/secret.txt $D/hdr $D/payload\n"
		 "echo \"SECRET_HEADER=$(base64 -w0 $D/hdr)\"\necho \"SECRET_PAYLOAD=$(base64 -w0 $D/payload)\"\n"
		 "echo SECRET_GPA=0x30000\n", test_dir, owner_path(), tik_name);
	write_file("attest.sh", script, strlen(script));
	test_path(p, sizeof(p), "attest.sh");
	snprintf(cmd, sizeof(cmd), "%s", p);
	return cmd;
}

struct launch {
	struct sev_launch sl;
	struct plan_inputs in;
	struct launch_plan plan;
	struct guest_mem mem;
};

/* Set by a test: the launch's simulator stands for a KVM that offers KVM_X86_SEV_VM. */
static bool sim_sev_vm_type;

static int launch_run(struct launch *l, const struct vm_config *cfg, struct cloak_err *err)
{
	int cbit = -1;

	memset(l, 0, sizeof(*l));
	if (sev_launch_open(&l->sl, cfg, &cbit, err) < 0)
		return -1;
	if (sim_sev_vm_type) {
		struct psp_sim_params p;

		psp_sim_default_params(&p);
		p.pdh_key_path = cfg->sev_sim_key;
		p.sev_vm_type = true;
		psp_close(l->sl.psp);
		l->sl.psp = psp_sim_open(&p, err);
		ck_assert_msg(l->sl.psp != NULL, "%s", err->msg);
	}
	ck_assert_int_eq(cbit, PSP_SIM_CBIT);
	ck_assert_int_eq(plan_inputs_open(&l->in, cfg, err), 0);
	l->in.cbit = cbit;
	ck_assert_msg(plan_build(&l->in, &l->plan, err) == 0, "%s", err->msg);
	ck_assert_msg(guestmem_map(&l->mem, &l->plan, false, err) == 0, "%s", err->msg);
	/* No KVM here: a made-up VM fd, which only the simulator sees. */
	if (sev_launch_start(&l->sl, -1, 42, &l->mem, err) < 0)
		return -1;
	ck_assert_int_eq(guestmem_load_plan(&l->mem, &l->plan, err), 0);
	if (sev_launch_update(&l->sl, &l->plan, &l->mem, err) < 0)
		return -1;
	return sev_launch_finish(&l->sl, &l->plan, &l->mem, err);
}

static void launch_close(struct launch *l)
{
	sev_launch_close(&l->sl);
	guestmem_unmap(&l->mem);
	plan_free(&l->plan);
	plan_inputs_close(&l->in);
}

START_TEST(launch_measures_the_plan_verifies_and_injects)
{
	struct sev_measure_input in = { .api_major = 1, .api_minor = 55, .build = 21, .policy = 1 };
	struct cloak_err err = { "" };
	struct kvm_sev_guest_status st;
	struct vm_config cfg;
	struct launch l;
	uint8_t tik[16], want[32], *secret;
	char mpath[128], *text;
	size_t n;
	uint64_t bytes;

	ck_assert_msg(getenv("CLOAK_OWNER") != NULL, "CLOAK_OWNER (the cloak-owner binary) is not set");
	owner_prepare(&cfg, 1);
	cfg.sev_attest_cmd = attest_script("tik.bin");
	test_path(mpath, sizeof(mpath), "measurement.b64");
	cfg.sev_measurement_out = mpath;
	ck_assert_msg(launch_run(&l, &cfg, &err) == 0, "%s", err.msg);

	/* What cloak measured is what the owner computes from the plan alone. */
	ck_assert_int_eq(sev_plan_digest(&l.plan, in.digest, &bytes, &err), 0);
	ck_assert_uint_eq(bytes, l.sl.measured_bytes);
	ck_assert_uint_eq(bytes, sev_plan_measured(&l.plan, NULL, NULL));
	memset(tik, 0x62, 16);
	memcpy(in.mnonce, l.sl.blob + 32, 16);
	ck_assert_int_eq(sev_measure_compute(tik, &in, want), 0);
	ck_assert_mem_eq(l.sl.blob, want, 32);
	ck_assert_int_eq(sev_file_read(mpath, "measurement", 4096, (uint8_t **)&text, &n, &err), 0);
	ck_assert_int_eq(sev_b64_decode(text, n, &secret, &n), 0);
	ck_assert_uint_eq(n, 48);
	ck_assert_mem_eq(secret, l.sl.blob, 48);
	free(secret);
	free(text);

	/* The secret table landed at 0x30000, decrypted by the (simulated) firmware. */
	secret = gpa_range(&l.mem, 0x30000, 64);
	ck_assert_ptr_nonnull(secret);
	ck_assert_uint_eq(secret[16], 20 + 20 + 18);
	ck_assert_mem_eq(secret + 40, "the owner's secret", 18);
	ck_assert_int_eq(psp_vm(l.sl.psp, 42, KVM_SEV_GUEST_STATUS, &st, NULL, &err), 0);
	ck_assert_uint_eq(st.state, SEV_GSTATE_RUNNING);
	launch_close(&l);
}
END_TEST

START_TEST(a_refused_measurement_aborts_before_finish)
{
	static const uint8_t other_tik[16] = { 1 };
	struct cloak_err err = { "" };
	struct kvm_sev_guest_status st;
	struct vm_config cfg;
	struct launch l;

	ck_assert_msg(getenv("CLOAK_OWNER") != NULL, "CLOAK_OWNER (the cloak-owner binary) is not set");
	owner_prepare(&cfg, 1);
	write_file("other-tik.bin", other_tik, 16);
	cfg.sev_attest_cmd = attest_script("other-tik.bin");
	ck_assert_int_eq(launch_run(&l, &cfg, &err), -1);
	ck_assert_msg_has(err.msg, "--attest-cmd exited with status 1");
	ck_assert_msg_has(err.msg, "never ran");
	/* No LAUNCH_SECRET, no LAUNCH_FINISH: the guest is still waiting for its secret. */
	ck_assert_int_eq(psp_vm(l.sl.psp, 42, KVM_SEV_GUEST_STATUS, &st, NULL, &err), 0);
	ck_assert_uint_eq(st.state, SEV_GSTATE_LSECRET);
	launch_close(&l);
}
END_TEST

START_TEST(a_session_for_another_policy_fails_at_launch_start)
{
	struct cloak_err err = { "" };
	struct vm_config cfg;
	struct launch l;

	owner_prepare(&cfg, 1);
	cfg.sev_policy = 3;
	ck_assert_int_eq(launch_run(&l, &cfg, &err), -1);
	ck_assert_msg_has(err.msg, "KVM_SEV_LAUNCH_START");
	ck_assert_msg_has(err.msg, "BAD_MEASUREMENT");
	launch_close(&l);
}
END_TEST

START_TEST(bad_owner_files_are_named)
{
	struct cloak_err err = { "" };
	struct sev_launch sl;
	struct vm_config cfg;
	int cbit;

	owner_prepare(&cfg, 1);
	write_file("godh.b64", "AAAA", 4);
	ck_assert_int_eq(sev_launch_open(&sl, &cfg, &cbit, &err), -1);
	ck_assert_msg_has(err.msg, "--dh-cert-file");
	ck_assert_msg_has(err.msg, "2084");
	write_file("godh.b64", "not base64!", 11);
	ck_assert_int_eq(sev_launch_open(&sl, &cfg, &cbit, &err), -1);
	ck_assert_msg_has(err.msg, "not base64");
}
END_TEST

START_TEST(attest_output_parsing)
{
	struct sev_attest_reply r;
	struct cloak_err err = { "" };
	char hdr[80], *h;
	uint8_t raw[52] = { 0 };
	char buf[512];

	ck_assert_int_eq(sev_attest_parse("", 0, &r, &err), 0);
	ck_assert(!r.has_secret);
	ck_assert_int_eq(sev_attest_parse("\n  \n# nothing to send\n", 22, &r, &err), 0);
	ck_assert(!r.has_secret);
	h = sev_b64_encode(raw, sizeof(raw));
	snprintf(hdr, sizeof(hdr), "%s", h);
	free(h);
	snprintf(buf, sizeof(buf), "SECRET_HEADER=%s\nSECRET_PAYLOAD=AAAAAAAAAAAAAAAAAAAAAA==\nSECRET_GPA=0x30000\n", hdr);
	ck_assert_int_eq(sev_attest_parse(buf, strlen(buf), &r, &err), 0);
	ck_assert(r.has_secret);
	ck_assert_uint_eq(r.payload_len, 16);
	ck_assert_uint_eq(r.gpa, 0x30000);
	sev_attest_reply_free(&r);
	snprintf(buf, sizeof(buf), "SECRET_HEADER=%s\nSECRET_GPA=0x30000\n", hdr);
	ck_assert_int_eq(sev_attest_parse(buf, strlen(buf), &r, &err), -1);
	ck_assert_msg_has(err.msg, "lacks SECRET_PAYLOAD");
	ck_assert_int_eq(sev_attest_parse("OK\n", 3, &r, &err), -1);
	ck_assert_msg_has(err.msg, "line 1");
	ck_assert_int_eq(sev_attest_parse("SECRET_HEADER=AAAA\n", 19, &r, &err), -1);
	ck_assert_msg_has(err.msg, "52-byte");
	/* Not base64 at all: the parser must not free what the decoder never set (found by fuzzing). */
	ck_assert_int_eq(sev_attest_parse("SECRET_HEADER=AAA\n", 18, &r, &err), -1);
	ck_assert_msg_has(err.msg, "52-byte");
	ck_assert_int_eq(sev_attest_parse("SECRET_PAYLOAD=AAA\n", 19, &r, &err), -1);
	ck_assert_msg_has(err.msg, "SECRET_PAYLOAD");
	snprintf(buf, sizeof(buf), "SECRET_PAYLOAD=AAAAAAAAAAAAAAAAAAAA\n");  /* 15 bytes */
	ck_assert_int_eq(sev_attest_parse(buf, strlen(buf), &r, &err), -1);
	ck_assert_msg_has(err.msg, "multiple of 16");
	ck_assert_int_eq(sev_attest_parse("SECRET_GPA=zz\n", 14, &r, &err), -1);

	/* The secret's limit is KVM's 16 KiB blob limit, below the firmware's 0x5000. */
	{
		static uint8_t big[16 * 1024 + 16];
		char *b64, *line;

		for (size_t len = 16 * 1024; len <= sizeof(big); len += 16) {
			b64 = sev_b64_encode(big, len);
			ck_assert_ptr_nonnull(b64);
			line = malloc(strlen(b64) + 32);
			ck_assert_ptr_nonnull(line);
			snprintf(line, strlen(b64) + 32, "SECRET_PAYLOAD=%s\n", b64);
			if (len == 16 * 1024) {
				/* Accepted as far as the payload goes; the reply then lacks its other lines. */
				ck_assert_int_eq(sev_attest_parse(line, strlen(line), &r, &err), -1);
				ck_assert_msg_has(err.msg, "lacks SECRET_HEADER");
			} else {
				ck_assert_int_eq(sev_attest_parse(line, strlen(line), &r, &err), -1);
				ck_assert_msg_has(err.msg, "at most 16384");
			}
			free(line);
			free(b64);
		}
	}
}
END_TEST

/* Reads test_dir/NAME whole into buf. */
static void read_back(const char *name, char *buf, size_t len)
{
	char p[128];
	FILE *f;
	size_t n;

	test_path(p, sizeof(p), name);
	f = fopen(p, "r");
	ck_assert_msg(f != NULL, "the attest command wrote no %s", p);
	n = fread(buf, 1, len - 1, f);
	buf[n] = 0;
	fclose(f);
}

START_TEST(attest_command_runs_without_privileges)
{
	struct cloak_err err = { "" };
	struct psp psp = { .name = "sim", .cbit = PSP_SIM_CBIT };
	struct sev_launch sl = { .psp = &psp, .handle = 7 };
	struct vm_config cfg;
	char cmd[512], leak[128], status[2048], fds[4096], env[4096], *out = NULL, *line, *save;
	size_t outlen;
	int fd;

	config_defaults(&cfg);
	snprintf(cmd, sizeof(cmd),
		 "grep -E '^(CapInh|CapPrm|CapEff|CapBnd|CapAmb|NoNewPrivs):' /proc/self/status >%s/status; "
		 "ls -l /proc/self/fd >%s/fds; env >%s/env; echo '# done'", test_dir, test_dir, test_dir);
	cfg.sev_attest_cmd = cmd;
	sl.cfg = &cfg;
	/* What cloak might have inherited: a descriptor without CLOEXEC and a variable of its own. */
	test_path(leak, sizeof(leak), "leaked-fd");
	fd = open(leak, O_CREAT | O_WRONLY, 0600);
	ck_assert_int_ge(fd, 3);
	setenv("CLOAK_TEST_INHERITED", "1", 1);
	ck_assert_msg(sev_attest_run(&sl, "bWVhc3VyZW1lbnQ=", &out, &outlen, &err) == 0, "%s", err.msg);
	unsetenv("CLOAK_TEST_INHERITED");
	close(fd);
	ck_assert_str_eq(out, "# done\n");
	free(out);

	read_back("status", status, sizeof(status));
	ck_assert_msg_has(status, "CapInh:\t0000000000000000");
	ck_assert_msg_has(status, "CapPrm:\t0000000000000000");
	ck_assert_msg_has(status, "CapEff:\t0000000000000000");
	ck_assert_msg_has(status, "NoNewPrivs:\t1");
	if (strstr(status, "CapAmb:"))
		ck_assert_msg_has(status, "CapAmb:\t0000000000000000");
	if (geteuid() == 0)  /* shrinking the bounding set needs CAP_SETPCAP */
		ck_assert_msg_has(status, "CapBnd:\t0000000000000000");

	read_back("fds", fds, sizeof(fds));
	ck_assert_msg(strstr(fds, "leaked-fd") == NULL, "an inherited descriptor reached the command:\n%s", fds);
	ck_assert_msg_has(fds, " 0 -> /dev/null");

	read_back("env", env, sizeof(env));
	ck_assert_msg_has(env, "PATH=/usr/bin:/bin\n");
	ck_assert_msg_has(env, "CLOAK_SEV_MEASUREMENT=bWVhc3VyZW1lbnQ=\n");
	ck_assert_msg_has(env, "CLOAK_SEV_HANDLE=7\n");
	for (line = strtok_r(env, "\n", &save); line; line = strtok_r(NULL, "\n", &save)) {
		/* Only the protocol's variables, PATH, and what the shell sets itself. */
		ck_assert_msg(!strncmp(line, "CLOAK_SEV_", 10) || !strncmp(line, "PATH=", 5) ||
				      !strncmp(line, "PWD=", 4) || !strncmp(line, "SHLVL=", 6) ||
				      !strncmp(line, "OLDPWD=", 7) || !strncmp(line, "_=", 2),
			      "the attest command's environment has %s", line);
	}
}
END_TEST

START_TEST(secret_targets_are_checked)
{
	struct cloak_err err = { "" };
	struct plan_inputs in;
	struct launch_plan plan;
	struct vm_config cfg;

	config_defaults(&cfg);
	cfg.mem_size = 32 * MiB;
	ck_assert_int_eq(plan_inputs_open(&in, &cfg, &err), 0);
	in.cbit = PSP_SIM_CBIT;
	ck_assert_int_eq(plan_build(&in, &plan, &err), 0);
	ck_assert_int_eq(sev_secret_target_check(&plan, false, 0x30000, 4096, &err), 0);
	ck_assert_int_eq(sev_secret_target_check(&plan, false, 0x30008, 16, &err), -1);
	ck_assert_msg_has(err.msg, "16-byte");
	ck_assert_int_eq(sev_secret_target_check(&plan, false, 0x30010, 4096, &err), -1);
	ck_assert_msg_has(err.msg, "page boundary");
	ck_assert_int_eq(sev_secret_target_check(&plan, true, 0x30010, 4096, &err), 0);
	ck_assert_int_eq(sev_secret_target_check(&plan, false, PLAN_PT_GPA, 64, &err), -1);
	ck_assert_msg_has(err.msg, "page tables");
	ck_assert_int_eq(sev_secret_target_check(&plan, false, 64 * MiB, 64, &err), -1);
	ck_assert_msg_has(err.msg, "not inside guest RAM");
	/* The shared DMA window: the host reads it. */
	ck_assert_uint_ne(plan.dma_size, 0);
	ck_assert_int_eq(sev_secret_target_check(&plan, false, plan.dma_gpa + 0x1000, 64, &err), -1);
	ck_assert_msg_has(err.msg, "shared DMA window");
	/* The boot stack: the guest's first calls overwrite it. */
	ck_assert_int_eq(sev_secret_target_check(&plan, false, PLAN_STACK_TOP - 0x100, 64, &err), -1);
	ck_assert_msg_has(err.msg, "boot stack");
	ck_assert_int_eq(sev_secret_target_check(&plan, false, PLAN_STACK_BOTTOM, 16, &err), -1);
	ck_assert_msg_has(err.msg, "boot stack");
	/* Under the verifier (the default): its shared staging area, and where it copies the kernel to. */
	ck_assert(plan.verifier);
	ck_assert_int_eq(sev_secret_target_check(&plan, false, plan.staging_gpa + 0x100, 64, &err), -1);
	ck_assert_msg_has(err.msg, "the verifier's shared staging area");
	ck_assert_int_eq(sev_secret_target_check(&plan, false, 0x100000, 64, &err), -1);
	ck_assert_msg_has(err.msg, "the place the verifier copies a staged item to");
	plan_free(&plan);
	plan_inputs_close(&in);

	/* RAM above 4 GiB is outside the identity map the guest starts on. */
	cfg.mem_size = 5 * GiB;
	ck_assert_int_eq(plan_inputs_open(&in, &cfg, &err), 0);
	in.cbit = PSP_SIM_CBIT;
	ck_assert_int_eq(plan_build(&in, &plan, &err), 0);
	ck_assert(plan_in_ram(&plan, PLAN_HIGH_RAM_GPA + 0x10000, 64));
	ck_assert_int_eq(sev_secret_target_check(&plan, false, PLAN_HIGH_RAM_GPA + 0x10000, 64, &err), -1);
	ck_assert_msg_has(err.msg, "identity map");
	plan_free(&plan);
	plan_inputs_close(&in);
}
END_TEST

START_TEST(page_tables_carry_the_cbit)
{
	struct cloak_err err = { "" };
	struct plan_inputs in;
	struct launch_plan plan;
	struct vm_config cfg;
	unsigned i;

	config_defaults(&cfg);
	ck_assert_int_eq(plan_inputs_open(&in, &cfg, &err), 0);
	in.cbit = 51;
	ck_assert_int_eq(plan_build(&in, &plan, &err), 0);
	for (i = 0; i < plan.nregions; i++)
		if (!strcmp(plan.regions[i].name, "page tables")) {
			const uint64_t *pml4 = (const uint64_t *)plan.regions[i].data;
			const uint64_t *pd0 = pml4 + 2 * 512;

			ck_assert(pml4[0] & (1ull << 51));
			ck_assert(pd0[0] & (1ull << 51));
			break;
		}
	ck_assert_uint_lt(i, plan.nregions);
	plan_free(&plan);
	plan_inputs_close(&in);
}
END_TEST

START_TEST(guest_cpuid_leaf)
{
	struct kvm_cpuid2 *c = calloc(1, sizeof(*c) + 3 * sizeof(c->entries[0]));

	c->nent = 2;
	c->entries[0].function = 0x80000000;
	c->entries[0].eax = 0x80000008;
	c->entries[1].function = 1;
	sev_cpuid_leaf(c, 3, 51);
	ck_assert_uint_eq(c->nent, 3);
	ck_assert_uint_eq(c->entries[0].eax, 0x8000001f);
	ck_assert_uint_eq(c->entries[2].function, 0x8000001f);
	ck_assert_uint_eq(c->entries[2].eax, 2);
	ck_assert_uint_eq(c->entries[2].ebx, 51 | 1 << 6);
	sev_cpuid_leaf(c, 3, PSP_SIM_CBIT);  /* the existing leaf is reused */
	ck_assert_uint_eq(c->nent, 3);
	ck_assert_uint_eq(c->entries[2].eax, 2);
	ck_assert_uint_eq(c->entries[2].ebx & 0x3f, PSP_SIM_CBIT);
	free(c);
}
END_TEST

static int parse(struct vm_config *cfg, struct cloak_err *err, char **argv)
{
	int argc = 0;

	while (argv[argc])
		argc++;
	config_defaults(cfg);
	return config_parse_run(argc, argv, cfg, err);
}

START_TEST(sev_options)
{
	struct cloak_err err = { "" };
	struct vm_config cfg;

	ck_assert_int_eq(parse(&cfg, &err, (char *[]){ "run", "--sev", "--policy", "0x3", "--sev-backend", "sim", NULL }), 0);
	ck_assert(cfg.sev);
	ck_assert_uint_eq(cfg.sev_policy, 3);
	ck_assert_int_eq(cfg.sev_backend, SEV_BACKEND_SIM);
	ck_assert_int_eq(parse(&cfg, &err, (char *[]){ "run", "--sev", NULL }), 0);
	ck_assert_uint_eq(cfg.sev_policy, SEV_POLICY_DEFAULT);
	ck_assert_int_eq(parse(&cfg, &err, (char *[]){ "run", "--policy", "1", NULL }), -1);
	ck_assert_msg_has(err.msg, "--policy needs --sev");
	ck_assert_int_eq(parse(&cfg, &err, (char *[]){ "run", "--sev", "--policy", "0x1000", NULL }), -1);
	ck_assert_msg_has(err.msg, "reserved");
	ck_assert_int_eq(parse(&cfg, &err, (char *[]){ "run", "--sev", "--policy", "0x5", NULL }), -1);
	ck_assert_msg_has(err.msg, "SEV-ES");
	ck_assert_int_eq(parse(&cfg, &err, (char *[]){ "run", "--sev", "--policy", "xyz", NULL }), -1);
	ck_assert_msg_has(err.msg, "hex");
	ck_assert_int_eq(parse(&cfg, &err, (char *[]){ "run", "--sev", "--dh-cert-file", "a", NULL }), -1);
	ck_assert_msg_has(err.msg, "--session-file");
	ck_assert_int_eq(parse(&cfg, &err, (char *[]){ "run", "--sev", "--no-pin", NULL }), -1);
	ck_assert_msg_has(err.msg, "pinned");
	ck_assert_int_eq(parse(&cfg, &err, (char *[]){ "run", "--sev", "--sev-backend", "fake", NULL }), -1);
	ck_assert_msg_has(err.msg, "real");
	ck_assert_int_eq(parse(&cfg, &err, (char *[]){ "run", "--sev", "--sev-sim-key", "k", NULL }), -1);
	ck_assert_msg_has(err.msg, "--sev-backend sim");
}
END_TEST

static void good_facts(struct sev_host_facts *f)
{
	memset(f, 0, sizeof(*f));
	strcpy(f->vendor, "AuthenticAMD");
	f->cpuid_amd = f->leaf_present = true;
	f->eax = 0x1b;  /* SME, SEV, SEV-ES, SNP */
	f->ebx = 51 | 1 << 6;
	f->ecx = 509;
	f->edx = 100;
	f->kvm_amd_loaded = true;
	strcpy(f->kvm_amd_sev, "Y");
	strcpy(f->kvm_amd_sev_es, "Y");
	strcpy(f->kvm_amd_sev_snp, "N");
	f->dev_sev_exists = f->dev_sev_rw = f->status_ok = f->kvm_exists = true;
	f->status.api_major = 1;
	f->status.api_minor = 55;
	f->status.flags = SEV_STATUS_FLAGS_CONFIG_ES;
	f->vm_types = 1 << 2 | 1;
	f->memlock_cur = f->memlock_max = 8 * MiB;
	f->cap_ipc_lock = true;
}

static bool has_missing(const struct sev_verdict *v, const char *needle)
{
	unsigned i;

	for (i = 0; i < v->nmissing_sev; i++)
		if (strstr(v->missing_sev[i], needle))
			return true;
	return false;
}

START_TEST(host_verdicts)
{
	struct sev_host_facts f;
	struct sev_verdict v;
	uint64_t pin = sev_host_pin_estimate(128 * MiB);

	good_facts(&f);
	sev_host_verdict(&f, 128 * MiB, pin, &v);
	ck_assert(v.sev_ok);
	ck_assert(!v.sev_es_ok);  /* cloak does not launch SEV-ES, and says so */

	good_facts(&f);
	f.eax = 0;
	f.dev_sev_exists = false;
	strcpy(f.kvm_amd_sev, "N");
	sev_host_verdict(&f, 128 * MiB, pin, &v);
	ck_assert(!v.sev_ok);
	ck_assert(has_missing(&v, "EAX bit 1"));
	ck_assert(has_missing(&v, "/dev/sev does not exist"));
	ck_assert(has_missing(&v, "sev=1"));

	good_facts(&f);
	f.cap_ipc_lock = false;
	sev_host_verdict(&f, 128 * MiB, pin, &v);
	ck_assert(!v.sev_ok);
	ck_assert(has_missing(&v, "RLIMIT_MEMLOCK"));
	f.memlock_max = (uint64_t)-1;  /* unlimited hard limit: cloak raises the soft one */
	sev_host_verdict(&f, 128 * MiB, pin, &v);
	ck_assert(v.sev_ok);

	good_facts(&f);
	f.dev_sev_open_errno = EACCES;
	sev_host_verdict(&f, 128 * MiB, pin, &v);
	ck_assert(has_missing(&v, "read-write"));
	good_facts(&f);
	f.ecx = 0;
	sev_host_verdict(&f, 128 * MiB, pin, &v);
	ck_assert(has_missing(&v, "no SEV ASIDs"));

	/* Every ASID given to SEV-ES/SNP: KVM answers INIT with ENOTTY; host-check names the split. */
	good_facts(&f);
	f.edx = 100;
	f.ecx = 99;
	sev_host_verdict(&f, 128 * MiB, pin, &v);
	ck_assert(!v.sev_ok);
	ck_assert(has_missing(&v, "every ASID went to SEV-ES/SNP"));
	ck_assert(has_missing(&v, "ENOTTY"));
}
END_TEST

/* host-check's memory-lock estimate is what the launch pins: guest memory + the largest measured region + a page. */
START_TEST(host_check_estimates_the_launch_pin)
{
	struct cloak_err err = { "" };
	struct sev_host_facts f;
	struct sev_verdict v;
	struct plan_inputs in;
	struct launch_plan plan;
	struct vm_config cfg;
	uint64_t pin = sev_host_pin_estimate(128 * MiB), largest = 0;
	unsigned i;

	config_defaults(&cfg);
	cfg.sev = true;
	cfg.mem_size = 128 * MiB;
	ck_assert_int_eq(plan_inputs_open(&in, &cfg, &err), 0);
	in.cbit = PSP_SIM_CBIT;
	ck_assert_int_eq(plan_build(&in, &plan, &err), 0);
	for (i = 0; i < plan.nregions; i++) {
		uint64_t g, len;

		if (!(plan.regions[i].flags & PLAN_MEASURED))
			continue;
		sev_region_span(&plan.regions[i], &g, &len);
		if (len > largest)
			largest = len;
	}
	ck_assert_uint_eq(sev_pin_bytes(&plan), 128 * MiB + ALIGN_UP(largest, PAGE_SIZE) + PAGE_SIZE);
	ck_assert_uint_eq(pin, sev_pin_bytes(&plan));
	plan_free(&plan);
	plan_inputs_close(&in);

	good_facts(&f);
	f.cap_ipc_lock = false;
	f.memlock_max = pin;
	sev_host_verdict(&f, 128 * MiB, pin, &v);
	ck_assert_msg(v.sev_ok, "a memlock limit of exactly the launch's pin is enough");
	f.memlock_max = pin - 1;
	sev_host_verdict(&f, 128 * MiB, pin, &v);
	ck_assert(has_missing(&v, "RLIMIT_MEMLOCK"));
}
END_TEST

START_TEST(enotty_at_init_names_both_causes)
{
	struct cloak_err err = { "" };

	psp_describe_failure(&err, "KVM_SEV_INIT2 (KVM_MEMORY_ENCRYPT_OP)", -ENOTTY, 0);
	ck_assert_msg_has(err.msg, "sev=1");
	ck_assert_msg_has(err.msg, "every ASID went to SEV-ES/SNP");
	ck_assert_msg_has(err.msg, "cloak host-check");
	psp_describe_failure(&err, "KVM_SEV_INIT (KVM_MEMORY_ENCRYPT_OP)", -ENOTTY, 0);
	ck_assert_msg_has(err.msg, "SEV-ES ASID space limit");
}
END_TEST

/* The simulator as a 6.10+ KVM with KVM_X86_SEV_VM: the launch takes INIT2 (legacy INIT would get EINVAL). */
START_TEST(launch_takes_init2_when_kvm_offers_the_sev_vm_type)
{
	struct sev_measure_input in = { .api_major = 1, .api_minor = 55, .build = 21, .policy = 1 };
	struct cloak_err err = { "" };
	struct vm_config cfg;
	struct launch l;
	uint8_t tik[16], want[32];

	owner_prepare(&cfg, 1);
	sim_sev_vm_type = true;
	ck_assert_msg(launch_run(&l, &cfg, &err) == 0, "%s", err.msg);
	sim_sev_vm_type = false;
	ck_assert(l.sl.psp->sim_sev_vm_type);
	ck_assert_int_eq(sev_plan_digest(&l.plan, in.digest, NULL, &err), 0);
	memset(tik, 0x62, 16);
	memcpy(in.mnonce, l.sl.blob + 32, 16);
	ck_assert_int_eq(sev_measure_compute(tik, &in, want), 0);
	ck_assert_mem_eq(l.sl.blob, want, 32);
	launch_close(&l);
}
END_TEST

Suite *launch_suite(void)
{
	Suite *s = suite_create("sev_launch");
	TCase *t = tcase_create("launch");

	tcase_add_checked_fixture(t, test_dir_setup, test_dir_teardown);
	tcase_set_timeout(t, 60);
	tcase_add_test(t, launch_measures_the_plan_verifies_and_injects);
	tcase_add_test(t, a_refused_measurement_aborts_before_finish);
	tcase_add_test(t, a_session_for_another_policy_fails_at_launch_start);
	tcase_add_test(t, bad_owner_files_are_named);
	tcase_add_test(t, attest_output_parsing);
	tcase_add_test(t, attest_command_runs_without_privileges);
	tcase_add_test(t, secret_targets_are_checked);
	tcase_add_test(t, page_tables_carry_the_cbit);
	tcase_add_test(t, guest_cpuid_leaf);
	tcase_add_test(t, sev_options);
	tcase_add_test(t, host_verdicts);
	tcase_add_test(t, host_check_estimates_the_launch_pin);
	tcase_add_test(t, enotty_at_init_names_both_causes);
	tcase_add_test(t, launch_takes_init2_when_kvm_offers_the_sev_vm_type);
	suite_add_tcase(s, t);
	return s;
}
