/* sandbox_gen.c: build-time generator of every role's seccomp BPF program (and the syscall names) as C arrays. */
#include "sandbox_filters.h"
#include "sandbox_rules.h"

#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

/*
 * Why at build time: libseccomp compiles a filter in user space, about a
 * millisecond of CPU per role on a fast host and far more under emulation,
 * on the path to the guest's first instruction. The programs depend only on
 * the allowlists, the architecture and the build variant, except for the pid
 * tgkill may name, which cloak patches in (vmm/sandbox.c). So cloak neither
 * links libseccomp nor compiles anything at run time.
 */

static const char *const variant_names[2] = { "plain", "sanitized" };
static const char *const mode_names[2] = { "trap", "log" };
static const char *const role_names[SANDBOX_NROLES] = {
	[SANDBOX_MAIN] = "main", [SANDBOX_VCPU] = "vcpu", [SANDBOX_DEVICE_IO] = "device_io",
	[SANDBOX_DISK] = "disk", [SANDBOX_CONSOLE_READER] = "console_reader", [SANDBOX_SIGNAL] = "signal",
};

static struct sock_filter prog[SANDBOX_FILTER_MAX_INSNS], other[SANDBOX_FILTER_MAX_INSNS];


static void die(const char *what, enum sandbox_role role, int variant, int mode)
{
	fprintf(stderr, "sandbox_gen: %s for the %s filter of the %s thread (%s build): %s\n", what,
		mode_names[mode], role_names[role], variant_names[variant], strerror(errno));
	exit(1);
}

static long build(enum sandbox_role role, int variant, int mode, uint32_t pid, struct sock_filter *out)
{
	const char *what = "?";
	scmp_filter_ctx ctx = sandbox_rules_build(role, mode == 1, variant == 1, pid, &what);
	long len;

	if (!ctx)
		die(what, role, variant, mode);
	len = sandbox_rules_export(ctx, out, SANDBOX_FILTER_MAX_INSNS);
	seccomp_release(ctx);
	if (len <= 0)
		die("seccomp_export_bpf", role, variant, mode);
	return len;
}

/* The index of the one instruction that compares with the marker pid, or -1. */
static int find_pid(enum sandbox_role role, int variant, int mode, long len)
{
	int at = -1;

	errno = EPROTO;
	for (long i = 0; i < len; i++)
		if (prog[i].k == SANDBOX_PID_MARKER) {
			if (at >= 0 || prog[i].code != (BPF_JMP | BPF_JEQ | BPF_K))
				die("the marker pid is not one comparison", role, variant, mode);
			at = (int)i;
		}
	return at;
}

/*
 * libseccomp merges identical instruction blocks, so its program for a pid
 * equal to another constant of the filter (socket's AF_UNIX is 1: cloak as
 * pid 1 in a container) can be shorter than the patched one. Such pids are
 * found here by building the filter for each constant of the program (and a
 * few ordinary pids): where the patched program is not exactly libseccomp's,
 * the generator emits libseccomp's for that pid as well.
 */
#define MAX_EXCEPTIONS 64
static struct exception {
	uint32_t pid;
	int mode, role;
	long len;
	struct sock_filter insns[SANDBOX_FILTER_MAX_INSNS];
} exceptions[MAX_EXCEPTIONS];
static unsigned nexceptions;

/* Pids are below pid_max, at most 2^22 (PID_MAX_LIMIT on 64-bit). */
#define PID_LIMIT 4194304u

static void find_exceptions(enum sandbox_role role, int variant, int mode, long len, int pid_at)
{
	static const uint32_t ordinary[] = { 2, 4242, PID_LIMIT - 1 };
	uint32_t candidates[SANDBOX_FILTER_MAX_INSNS + ARRAY_SIZE(ordinary)];
	size_t n = 0;

	if (pid_at < 0)
		return;
	for (long i = 0; i < len; i++)
		if (prog[i].k >= 1 && prog[i].k < PID_LIMIT)
			candidates[n++] = prog[i].k;
	for (size_t i = 0; i < ARRAY_SIZE(ordinary); i++)
		candidates[n++] = ordinary[i];
	for (size_t c = 0; c < n; c++) {
		long olen = build(role, variant, mode, candidates[c], other);
		bool same = olen == len;

		for (long i = 0; same && i < len; i++)
			same = i == pid_at ? other[i].code == prog[i].code && other[i].jt == prog[i].jt &&
						     other[i].jf == prog[i].jf && other[i].k == candidates[c]
					   : !memcmp(&other[i], &prog[i], sizeof(prog[i]));
		if (same)
			continue;
		for (unsigned e = 0; e < nexceptions; e++)
			if (exceptions[e].pid == candidates[c] && exceptions[e].mode == mode && exceptions[e].role == (int)role)
				same = true;
		if (same)
			continue;
		errno = ENOSPC;
		if (nexceptions == MAX_EXCEPTIONS)
			die("too many pids that change the program", role, variant, mode);
		exceptions[nexceptions] = (struct exception){ candidates[c], mode, role, olen, { { 0 } } };
		memcpy(exceptions[nexceptions].insns, other, (size_t)olen * sizeof(*other));
		nexceptions++;
	}
}

static void emit_program(FILE *out, const char *name, const struct sock_filter *insns, long len)
{
	fprintf(out, "static const struct sock_filter %s[%ld] = {\n", name, len);
	for (long i = 0; i < len; i++)
		fprintf(out, "\t{ 0x%04x, %u, %u, 0x%08x },\n", insns[i].code, insns[i].jt, insns[i].jf, insns[i].k);
	fprintf(out, "};\n");
}

static void emit_variant(FILE *out, int variant)
{
	int pid_at[2][SANDBOX_NROLES];
	long len[2][SANDBOX_NROLES];
	char name[64];

	nexceptions = 0;
	for (int mode = 0; mode < 2; mode++) {
		for (int role = 0; role < SANDBOX_NROLES; role++) {
			len[mode][role] = build(role, variant, mode, SANDBOX_PID_MARKER, prog);
			pid_at[mode][role] = find_pid(role, variant, mode, len[mode][role]);
			snprintf(name, sizeof(name), "%s_%s_%s", variant_names[variant], mode_names[mode], role_names[role]);
			emit_program(out, name, prog, len[mode][role]);
			find_exceptions(role, variant, mode, len[mode][role], pid_at[mode][role]);
		}
	}
	fprintf(out, "const struct sandbox_filter sandbox_filters[2][SANDBOX_NROLES] = {\n");
	for (int mode = 0; mode < 2; mode++) {
		fprintf(out, "\t{\n");
		for (int role = 0; role < SANDBOX_NROLES; role++)
			fprintf(out, "\t\t[%d] = { %s_%s_%s, %ld, %d },\n", role, variant_names[variant], mode_names[mode],
				role_names[role], len[mode][role], pid_at[mode][role]);
		fprintf(out, "\t},\n");
	}
	fprintf(out, "};\n");
	for (unsigned e = 0; e < nexceptions; e++) {
		snprintf(name, sizeof(name), "%s_%s_%s_pid%u", variant_names[variant], mode_names[exceptions[e].mode],
			 role_names[exceptions[e].role], exceptions[e].pid);
		emit_program(out, name, exceptions[e].insns, exceptions[e].len);
	}
	fprintf(out, "const struct sandbox_pid_filter sandbox_pid_filters[] = {\n");
	for (unsigned e = 0; e < nexceptions; e++)
		fprintf(out, "\t{ %u, %d, %d, { %s_%s_%s_pid%u, %ld, -1 } },\n", exceptions[e].pid, exceptions[e].mode,
			exceptions[e].role, variant_names[variant], mode_names[exceptions[e].mode],
			role_names[exceptions[e].role], exceptions[e].pid, exceptions[e].len);
	fprintf(out, "\t{ 0, 0, 0, { 0, 0, -1 } },\n};\n");
}

int main(int argc, char **argv)
{
	FILE *out;

	if (argc != 2) {
		fprintf(stderr, "usage: sandbox_gen OUTPUT.c\n");
		return 2;
	}
	out = fopen(argv[1], "w");
	if (!out) {
		fprintf(stderr, "sandbox_gen: cannot write %s: %s\n", argv[1], strerror(errno));
		return 1;
	}
	fprintf(out, "/* sandbox_filters.c: generated by vmm/sandbox_gen.c from vmm/sandbox_rules.c; do not edit. */\n"
		     "#include \"sandbox_filters.h\"\n\n#ifdef CLOAK_SANITIZED\n");
	emit_variant(out, 1);
	fprintf(out, "#else\n");
	emit_variant(out, 0);
	fprintf(out, "#endif\n\nconst char *const sandbox_syscall_names[SANDBOX_SYSCALL_NAMES] = {\n");
	for (int nr = 0; nr < SANDBOX_SYSCALL_NAMES; nr++) {
		char *name = seccomp_syscall_resolve_num_arch(SCMP_ARCH_NATIVE, nr);

		if (name)
			fprintf(out, "\t[%d] = \"%s\",\n", nr, name);
		free(name);
	}
	fprintf(out, "};\n");
	if (fclose(out) != 0) {
		fprintf(stderr, "sandbox_gen: cannot write %s: %s\n", argv[1], strerror(errno));
		return 1;
	}
	return 0;
}
