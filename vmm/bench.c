/* bench.c: `cloak bench`: N launches of one guest under several variants, interleaved, summarised and drawn. */
#include "bench.h"

#include "config.h"
#include "devices.h"

#include <errno.h>
#include <fcntl.h>
#include <getopt.h>
#include <jansson.h>
#include <spawn.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <sys/wait.h>
#include <time.h>
#include <unistd.h>

extern char **environ;

#define BENCH_MAX_VARIANTS 8
#define BENCH_MAX_ARGS 128
#define BENCH_MAX_RUNS 1000
#define BENCH_MAX_METRICS 96

/* The phases drawn, in launch order: what a reader compares first. */
static const char *const drawn_phases[] = {
	"kvm_open", "vm_create", "memory_map_and_lock", "load", "vcpu_create", "sandbox_sealed", "first_guest_exit", "guest_exit",
	"teardown",
};

struct bench_metric {
	char name[64];
	double *v;  /* one value per run that reported it */
	unsigned n;
};

struct bench_variant {
	char name[32];
	char *argbuf;                     /* the variant's options, split in place */
	char *argv[BENCH_MAX_ARGS];
	unsigned argc;
	enum variant_kind {
		VARIANT_CLOAK,            /* cloak run with the variant's options */
		VARIANT_QEMU,             /* QEMU microvm: wall time only */
		VARIANT_QEMU_LOCKED,      /* the same with -overcommit mem-lock=on */
		VARIANT_FLOOR,            /* cloak-floor, the least a KVM loader does: wall time only */
		VARIANT_FLOOR_PINNED,     /* cloak-floor --pin */
	} kind;
	unsigned ok, failed;
	struct bench_metric metric[BENCH_MAX_METRICS];
	unsigned nmetric;
};

struct bench {
	unsigned runs;
	const char *out;
	char **base;                      /* the `cloak run` options shared by every variant */
	int nbase;
	struct bench_variant var[BENCH_MAX_VARIANTS];
	unsigned nvar;
	const char *self;
	const char *draw;                 /* --draw DIR: only draw an earlier run's results */
	struct vm_config cfg;             /* the base options parsed, for --compare-qemu and --compare-floor */
	char floor[4096];                 /* the cloak-floor executable */
};

static void bench_usage(FILE *out)
{
	fprintf(out,
		"usage: cloak bench [--runs N] [--out DIR] [--variant NAME[=OPTIONS]]... [--compare-qemu]\n"
		"                   [--compare-floor[=PATH]] [-- RUN-OPTIONS...]\n"
		"\n"
		"Boots one guest configuration N times under each variant, the variants' runs interleaved\n"
		"(a, b, a, b, ...) so that a drifting machine weighs on all of them alike, and writes to DIR:\n"
		"  results.json  per variant and metric: median, p10, p90 and the number of runs\n"
		"  results.csv   the same, one line per variant and metric\n"
		"  results.png, results.svg  the median time to each launch phase per variant, p10-p90 bars\n"
		"  io.png, io.svg  with an I/O benchmark guest: each test's median MB/s per variant, p10-p90 bars\n"
		"  runs/         each run's timeline JSON and output\n"
		"Metrics: wall_us (the whole process, spawn to exit), before_main_us, phase.* (from --timeline), exits.*,\n"
		"exits_total, vmm_rss_kib (cloak's memory beside guest RAM), measured_bytes, under --sev\n"
		"psp_modelled_us (what a PSP would take to measure them: a model, see README \"Launch timeline\"); a guest\n"
		"that prints lines `iobench: test=NAME ... mbps=X iops=N p50_ns=N p90_ns=N p99_ns=N` (firmware/bench/iobench.c)\n"
		"adds io.NAME.mbps, io.NAME.iops, io.NAME.p50_ns and so on.\n"
		"\n"
		"  --runs N           launches per variant (default 10, at most %d)\n"
		"  --out DIR          where the results go (default bench-results; created)\n"
		"  --variant NAME=OPTIONS\n"
		"                     a variant: `cloak run` options added after RUN-OPTIONS, split on spaces\n"
		"                     except inside single quotes (a later option of the same name wins),\n"
		"                     e.g. plain= or sev=\"--sev --sev-backend sim\" or\n"
		"                     bounce=\"--cmdline 'console=ttyS0 swiotlb=force'\".\n"
		"                     Without --variant: plain and sev (--sev --sev-backend sim).\n"
		"  --draw DIR         only draw DIR's results again (results.png, results.svg) with gnuplot:\n"
		"                     for a run made where gnuplot is not installed\n"
		"  --compare-qemu     adds qemu-microvm and qemu-microvm-locked (-overcommit mem-lock=on): the\n"
		"                     same --kernel, --initrd, --cmdline, --mem and --cpus on qemu-system-x86_64\n"
		"                     -M microvm -accel kvm (wall time only); needs QEMU and a kernel QEMU\n"
		"                     boots (a bzImage or an ELF with a PVH note)\n"
		"  --compare-floor[=PATH]\n"
		"                     adds floor and floor-pinned: cloak-floor (PATH, else beside cloak, in\n"
		"                     ../tools/bench or on PATH), a static loader that only runs the PVH --kernel\n"
		"                     with 1 vCPU and 64 MiB (needs --mem 64M), unlocked and locked; every\n"
		"                     variant's wall time is then also given as a ratio to both\n"
		"  RUN-OPTIONS        `cloak run` options of the guest (default: the built-in demo guest)\n"
		"\n"
		"Figures are only good as ratios measured in one run on one machine. Exit status: 0 when every\n"
		"launch ended as its guest asked, 1 when some did not (they are left out and counted), 2 on bad\n"
		"input.\n",
		BENCH_MAX_RUNS);
}

static int variant_add(struct bench *b, const char *spec, enum variant_kind kind, struct cloak_err *err)
{
	struct bench_variant *v;
	const char *eq = strchr(spec, '=');
	size_t nlen = eq ? (size_t)(eq - spec) : strlen(spec);

	if (b->nvar == BENCH_MAX_VARIANTS)
		return err_set(err, "--variant: at most %d variants", BENCH_MAX_VARIANTS);
	if (nlen == 0 || nlen >= sizeof(v->name) || strcspn(spec, " /\t") < nlen)
		return err_set(err, "--variant: '%s' needs a name of 1 to %zu characters without spaces or '/' "
				    "before '=' (e.g. sev=\"--sev --sev-backend sim\")", spec, sizeof(v->name) - 1);
	v = &b->var[b->nvar];
	memcpy(v->name, spec, nlen);
	v->name[nlen] = 0;
	for (unsigned i = 0; i < b->nvar; i++)
		if (!strcmp(b->var[i].name, v->name))
			return err_set(err, "--variant: the name '%s' is given twice", v->name);
	v->kind = kind;
	v->argbuf = strdup(eq ? eq + 1 : "");
	if (!v->argbuf)
		return err_set(err, "out of memory");
	/* Split on spaces and tabs, except inside single quotes (a --cmdline of several words); in place. */
	for (char *in = v->argbuf, *out = v->argbuf; *in;) {
		bool quoted = false;

		while (*in == ' ' || *in == '\t')
			in++;
		if (!*in)
			break;
		if (v->argc == BENCH_MAX_ARGS)
			return err_set(err, "--variant %s: more than %d options", v->name, BENCH_MAX_ARGS);
		v->argv[v->argc++] = out;
		for (; *in && (quoted || (*in != ' ' && *in != '\t')); in++)
			if (*in == '\'')
				quoted = !quoted;
			else
				*out++ = *in;
		if (quoted)
			return err_set(err, "--variant %s: a ' is not closed", v->name);
		if (*in)
			in++;
		*out++ = 0;
	}
	b->nvar++;
	return 0;
}

/*
 * The cloak-floor executable: the path given, else beside cloak (as the test payloads put it), else where
 * meson builds it (build/tools/bench beside build/vmm), else on PATH.
 */
static int floor_find(struct bench *b, const char *given, struct cloak_err *err)
{
	char self[2048], *slash;
	ssize_t n;

	if (given) {
		if (access(given, X_OK) != 0)
			return err_errno(err, "--compare-floor=%s: not an executable", given);
		snprintf(b->floor, sizeof(b->floor), "%s", given);
		return 0;
	}
	n = readlink("/proc/self/exe", self, sizeof(self) - 1);
	if (n > 0) {
		self[n] = 0;
		if ((slash = strrchr(self, '/')))
			*slash = 0;
		snprintf(b->floor, sizeof(b->floor), "%s/cloak-floor", self);
		if (access(b->floor, X_OK) == 0)
			return 0;
		snprintf(b->floor, sizeof(b->floor), "%s/../tools/bench/cloak-floor", self);
		if (access(b->floor, X_OK) == 0)
			return 0;
	}
	/* posix_spawnp searches PATH; say so now rather than at the first launch. */
	snprintf(b->floor, sizeof(b->floor), "cloak-floor");
	for (const char *p = getenv("PATH"); p && *p;) {
		size_t len = strcspn(p, ":");
		char cand[4096];

		snprintf(cand, sizeof(cand), "%.*s/cloak-floor", (int)len, p);
		if (access(cand, X_OK) == 0)
			return 0;
		p += len + (p[len] == ':');
	}
	return err_set(err, "--compare-floor: no cloak-floor beside cloak, in ../tools/bench or on PATH; build it "
			    "(ninja -C build tools/bench/cloak-floor) or give --compare-floor=PATH");
}

static int bench_parse(int argc, char **argv, struct bench *b, struct cloak_err *err)
{
	enum { O_RUNS = 256, O_OUT, O_VARIANT, O_QEMU, O_HELP, O_DRAW, O_FLOOR };
	static const struct option opts[] = {
		{ "runs", required_argument, NULL, O_RUNS }, { "out", required_argument, NULL, O_OUT },
		{ "variant", required_argument, NULL, O_VARIANT }, { "compare-qemu", no_argument, NULL, O_QEMU },
		{ "help", no_argument, NULL, O_HELP }, { "draw", required_argument, NULL, O_DRAW },
		{ "compare-floor", optional_argument, NULL, O_FLOOR }, { NULL, 0, NULL, 0 },
	};
	bool qemu = false, floor = false;
	const char *floor_path = NULL;
	char *end;
	int c, rc;

	b->runs = 10;
	b->out = "bench-results";
	optind = 1;
	opterr = 0;
	while ((c = getopt_long(argc, argv, "+:h", opts, NULL)) != -1) {
		switch (c) {
		case O_RUNS: {
			unsigned long n;

			errno = 0;
			n = strtoul(optarg, &end, 10);
			if (!*optarg || *end || errno || *optarg == '-' || n == 0 || n > BENCH_MAX_RUNS)
				return err_set(err, "--runs: '%s' is not a number of launches from 1 to %d", optarg,
					       BENCH_MAX_RUNS);
			b->runs = (unsigned)n;
			break;
		}
		case O_OUT: b->out = optarg; break;
		case O_VARIANT:
			if (variant_add(b, optarg, VARIANT_CLOAK, err) < 0)
				return -1;
			break;
		case O_QEMU: qemu = true; break;
		case O_FLOOR:
			floor = true;
			floor_path = optarg;
			break;
		case O_DRAW:
			if (argc != 3)
				return err_set(err, "--draw DIR takes nothing else");
			b->draw = optarg;
			return 0;
		case 'h':
		case O_HELP: return 1;
		case ':': return err_set(err, "%s needs a value; see `cloak bench --help`", argv[optind - 1]);
		default: return err_set(err, "unknown option %s; see `cloak bench --help`", argv[optind - 1]);
		}
	}
	if (optind < argc && strcmp(argv[optind - 1], "--"))
		return err_set(err, "'%s': give the guest's `cloak run` options after --", argv[optind]);
	b->base = argv + optind;
	b->nbase = argc - optind;
	if (b->nvar == 0 && (variant_add(b, "plain=", VARIANT_CLOAK, err) < 0 ||
			     variant_add(b, "sev=--sev --sev-backend sim", VARIANT_CLOAK, err) < 0))
		return -1;
	/* The base options are checked once here, with cloak run's own rules, before anything runs. */
	{
		char *av[BENCH_MAX_ARGS + 2] = { "run" };

		if (b->nbase > BENCH_MAX_ARGS)
			return err_set(err, "more than %d `cloak run` options", BENCH_MAX_ARGS);
		memcpy(av + 1, b->base, (size_t)b->nbase * sizeof(char *));
		config_defaults(&b->cfg);
		rc = config_parse_run(b->nbase + 1, av, &b->cfg, err);
		if (rc == 1)
			return err_set(err, "--help after --: see `cloak run --help` for the guest's options");
		if (rc < 0 || devices_check_options(&b->cfg, false, err) < 0)
			return err_prefix(err, "the guest's options: ");
	}
	if (qemu) {
		if (!b->cfg.kernel_path)
			return err_set(err, "--compare-qemu needs --kernel after --: QEMU cannot boot cloak's built-in "
					    "demo guest (give a bzImage or an ELF with a PVH note)");
		if (variant_add(b, "qemu-microvm=", VARIANT_QEMU, err) < 0 ||
		    variant_add(b, "qemu-microvm-locked=", VARIANT_QEMU_LOCKED, err) < 0)
			return -1;
	}
	if (floor) {
		if (!b->cfg.kernel_path || b->cfg.mem_size != 64 * MiB || b->cfg.cpus != 1 || b->cfg.initrd_path)
			return err_set(err, "--compare-floor runs cloak-floor, which boots only a PVH ELF with 1 vCPU and "
					    "64 MiB: give --kernel FILE --mem 64M and no --initrd after -- (e.g. --kernel "
					    "build/firmware/bench/null.elf)");
		if (floor_find(b, floor_path, err) < 0 ||
		    variant_add(b, "floor=", VARIANT_FLOOR, err) < 0 ||
		    variant_add(b, "floor-pinned=", VARIANT_FLOOR_PINNED, err) < 0)
			return -1;
	}
	return 0;
}

static uint64_t now_us(void)
{
	struct timespec ts;

	clock_gettime(CLOCK_MONOTONIC, &ts);
	return (uint64_t)ts.tv_sec * 1000000 + (uint64_t)ts.tv_nsec / 1000;
}

static void metric_add(struct bench_variant *v, const char *name, double value, unsigned runs)
{
	struct bench_metric *m = NULL;

	for (unsigned i = 0; i < v->nmetric; i++)
		if (!strcmp(v->metric[i].name, name))
			m = &v->metric[i];
	if (!m) {
		if (v->nmetric == BENCH_MAX_METRICS)
			return;
		m = &v->metric[v->nmetric++];
		snprintf(m->name, sizeof(m->name), "%s", name);
		m->v = calloc(runs, sizeof(double));
		if (!m->v) {
			v->nmetric--;
			return;
		}
	}
	if (m->n < runs)
		m->v[m->n++] = value;
}

/* The numbers a harness compares, from one run's --timeline. */
static int timeline_collect(struct bench_variant *v, const char *path, unsigned runs)
{
	json_error_t jerr;
	json_t *root = json_load_file(path, 0, &jerr), *obj, *val;
	const char *key;
	char name[64];
	double total = 0;

	if (!root)
		return -1;
	if ((obj = json_object_get(root, "phases_us")))
		json_object_foreach(obj, key, val) {
			snprintf(name, sizeof(name), "phase.%s", key);
			metric_add(v, name, json_number_value(val), runs);
		}
	if ((obj = json_object_get(root, "exits")))
		json_object_foreach(obj, key, val) {
			snprintf(name, sizeof(name), "exits.%s", key);
			metric_add(v, name, json_number_value(val), runs);
			total += json_number_value(val);
		}
	metric_add(v, "exits_total", total, runs);
	if ((obj = json_object_get(root, "memory_kib")) && (val = json_object_get(obj, "vmm_rss")))
		metric_add(v, "vmm_rss_kib", json_number_value(val), runs);
	if ((val = json_object_get(root, "measured_bytes")))
		metric_add(v, "measured_bytes", json_number_value(val), runs);
	if ((val = json_object_get(root, "psp_modelled_us")))
		metric_add(v, "psp_modelled_us", json_number_value(val), runs);
	if ((val = json_object_get(root, "before_main_us")))
		metric_add(v, "before_main_us", json_number_value(val), runs);
	json_decref(root);
	return 0;
}

/*
 * The figures an I/O benchmark guest printed (firmware/bench/iobench.c, or a
 * Linux guest's init in the same format), one line per test:
 *   iobench: test=NAME ... mbps=X iops=N p50_ns=N p90_ns=N p99_ns=N
 * become the metrics io.NAME.mbps, io.NAME.iops and io.NAME.p50_ns and so on.
 * Returns how many lines were read.
 */
static unsigned iobench_collect(struct bench_variant *v, const char *log, unsigned runs)
{
	static const char *const keys[] = { "mbps", "iops", "p50_ns", "p90_ns", "p99_ns" };
	FILE *f = fopen(log, "r");
	char line[1024];
	unsigned lines = 0;

	if (!f)
		return 0;
	while (fgets(line, sizeof(line), f)) {
		char *p = strstr(line, "iobench: test="), *save = NULL, *tok, test[32] = "";
		double val[ARRAY_SIZE(keys)];
		bool have[ARRAY_SIZE(keys)] = { false };

		if (!p)
			continue;
		for (tok = strtok_r(p + strlen("iobench: "), " \t\r\n", &save); tok; tok = strtok_r(NULL, " \t\r\n", &save)) {
			char *eq = strchr(tok, '='), *end;

			if (!eq)
				continue;
			*eq = 0;
			if (!strcmp(tok, "test")) {
				if (strlen(eq + 1) < sizeof(test) && !strchr(eq + 1, ','))
					snprintf(test, sizeof(test), "%s", eq + 1);
				continue;
			}
			for (unsigned k = 0; k < ARRAY_SIZE(keys); k++)
				if (!strcmp(tok, keys[k])) {
					val[k] = strtod(eq + 1, &end);
					have[k] = end != eq + 1 && !*end;
				}
		}
		if (!test[0])
			continue;
		lines++;
		for (unsigned k = 0; k < ARRAY_SIZE(keys); k++)
			if (have[k]) {
				char name[64];

				snprintf(name, sizeof(name), "io.%s.%s", test, keys[k]);
				metric_add(v, name, val[k], runs);
			}
	}
	fclose(f);
	return lines;
}

/* Runs argv with stdout and stderr into `log`; returns its wait status, or -1 when it could not start. */
static int spawn_wait(char *const argv[], const char *cwd, const char *log, uint64_t *wall_us)
{
	posix_spawn_file_actions_t fa;
	uint64_t t0;
	pid_t pid;
	int status, rc;

	posix_spawn_file_actions_init(&fa);
	if (cwd)
		posix_spawn_file_actions_addchdir_np(&fa, cwd);
	posix_spawn_file_actions_addopen(&fa, STDIN_FILENO, "/dev/null", O_RDONLY, 0);
	posix_spawn_file_actions_addopen(&fa, STDOUT_FILENO, log, O_WRONLY | O_CREAT | O_TRUNC, 0644);
	posix_spawn_file_actions_adddup2(&fa, STDOUT_FILENO, STDERR_FILENO);
	t0 = now_us();
	rc = posix_spawnp(&pid, argv[0], &fa, NULL, argv, environ);
	posix_spawn_file_actions_destroy(&fa);
	if (rc) {
		errno = rc;
		return -1;
	}
	while (waitpid(pid, &status, 0) < 0)
		if (errno != EINTR)
			return -1;
	*wall_us = now_us() - t0;
	return status;
}

/* A launch counts when it ended the way its guest asked: powered off, or an odd exit-port status. */
static bool launch_ok(int status)
{
	int code;

	if (status < 0 || !WIFEXITED(status))
		return false;
	code = WEXITSTATUS(status);
	return code == 0 || (code & 1);
}

static int run_one(struct bench *b, struct bench_variant *v, unsigned r, struct cloak_err *err)
{
	char *argv[2 * BENCH_MAX_ARGS + 32];
	char tl[4096], log[4096], mem[32], cpus[16];
	unsigned n = 0;
	uint64_t wall = 0;
	int status;

	snprintf(tl, sizeof(tl), "%s/runs/%s-%03u.json", b->out, v->name, r);
	snprintf(log, sizeof(log), "%s/runs/%s-%03u.log", b->out, v->name, r);
	if (v->kind == VARIANT_FLOOR || v->kind == VARIANT_FLOOR_PINNED) {
		argv[n++] = b->floor;
		if (v->kind == VARIANT_FLOOR_PINNED)
			argv[n++] = "--pin";
		argv[n++] = (char *)b->cfg.kernel_path;
	} else if (v->kind == VARIANT_QEMU || v->kind == VARIANT_QEMU_LOCKED) {
		const struct vm_config *c = &b->cfg;

		snprintf(mem, sizeof(mem), "%lluM", (unsigned long long)(c->mem_size / MiB));
		snprintf(cpus, sizeof(cpus), "%u", c->cpus);
		argv[n++] = "qemu-system-x86_64";
		argv[n++] = "-M";
		argv[n++] = "microvm";
		argv[n++] = "-accel";
		argv[n++] = "kvm";
		argv[n++] = "-m";
		argv[n++] = mem;
		argv[n++] = "-smp";
		argv[n++] = cpus;
		argv[n++] = "-nographic";
		argv[n++] = "-nodefaults";
		argv[n++] = "-no-user-config";
		argv[n++] = "-no-reboot";
		if (v->kind == VARIANT_QEMU_LOCKED) {
			argv[n++] = "-overcommit";
			argv[n++] = "mem-lock=on";
		}
		argv[n++] = "-serial";
		argv[n++] = "stdio";
		/* cloak's exit port, so a guest ends both VMMs the same way. */
		argv[n++] = "-device";
		argv[n++] = "isa-debug-exit,iobase=0xf4,iosize=0x04";
		argv[n++] = "-kernel";
		argv[n++] = (char *)c->kernel_path;
		if (c->initrd_path) {
			argv[n++] = "-initrd";
			argv[n++] = (char *)c->initrd_path;
		}
		if (c->cmdline) {
			argv[n++] = "-append";
			argv[n++] = (char *)c->cmdline;
		}
	} else {
		argv[n++] = (char *)b->self;
		argv[n++] = "run";
		for (int i = 0; i < b->nbase; i++)
			argv[n++] = b->base[i];
		for (unsigned i = 0; i < v->argc; i++)
			argv[n++] = v->argv[i];
		argv[n++] = "--timeline";
		argv[n++] = tl;
	}
	argv[n] = NULL;
	errno = 0;
	status = spawn_wait(argv, NULL, log, &wall);
	if (status == -1 && errno)
		return err_errno(err, "cannot start %s (posix_spawnp)%s", argv[0],
				 v->kind != VARIANT_CLOAK && errno == ENOENT ?
					 (v->kind == VARIANT_QEMU || v->kind == VARIANT_QEMU_LOCKED ?
						  "; install qemu-system-x86 or drop --compare-qemu" :
						  "; build cloak-floor or drop --compare-floor") : "");
	if (!launch_ok(status)) {
		v->failed++;
		return 0;
	}
	v->ok++;
	metric_add(v, "wall_us", (double)wall, b->runs);
	if (v->kind == VARIANT_CLOAK && timeline_collect(v, tl, b->runs) < 0)
		return err_set(err, "run %u of %s wrote no readable timeline %s", r, v->name, tl);
	iobench_collect(v, log, b->runs);
	return 0;
}

static int cmp_double(const void *a, const void *b)
{
	double x = *(const double *)a, y = *(const double *)b;

	return x < y ? -1 : x > y;
}

/* The nearest-rank percentile of n sorted values. */
static double percentile(const double *v, unsigned n, unsigned pct)
{
	unsigned rank = (pct * n + 99) / 100;

	return v[rank ? rank - 1 : 0];
}

void bench_summary(double *v, unsigned n, struct bench_stats *st)
{
	qsort(v, n, sizeof(*v), cmp_double);
	st->n = n;
	st->median = n ? (n % 2 ? v[n / 2] : (v[n / 2 - 1] + v[n / 2]) / 2) : 0;
	st->p10 = n ? percentile(v, n, 10) : 0;
	st->p90 = n ? percentile(v, n, 90) : 0;
}

static const struct bench_metric *metric_find(const struct bench_variant *v, const char *name);

/* The median wall time of the first variant of `kind`, or 0 when there is none (or no run succeeded). */
static double kind_wall_median(const struct bench *b, enum variant_kind kind)
{
	for (unsigned i = 0; i < b->nvar; i++)
		if (b->var[i].kind == kind) {
			const struct bench_metric *m = metric_find(&b->var[i], "wall_us");
			struct bench_stats st = { 0 };

			if (m && m->n)
				bench_summary(m->v, m->n, &st);
			return st.median;
		}
	return 0;
}

static int write_results(struct bench *b, struct cloak_err *err)
{
	double floor_us = kind_wall_median(b, VARIANT_FLOOR), floor_pinned_us = kind_wall_median(b, VARIANT_FLOOR_PINNED);

	json_t *root = json_object(), *vars = json_array(), *base = json_array();
	char path[4096];
	FILE *csv;

	snprintf(path, sizeof(path), "%s/results.csv", b->out);
	csv = fopen(path, "w");
	if (!csv || !root || !vars || !base)
		return err_errno(err, "cannot write %s", path);
	fprintf(csv, "variant,metric,median,p10,p90,runs\n");
	for (int i = 0; i < b->nbase; i++)
		json_array_append_new(base, json_string(b->base[i]));
	json_object_set_new(root, "runs", json_integer(b->runs));
	json_object_set_new(root, "run_options", base);
	for (unsigned i = 0; i < b->nvar; i++) {
		struct bench_variant *v = &b->var[i];
		json_t *jv = json_object(), *opts = json_array(), *metrics = json_object();

		for (unsigned j = 0; j < v->argc; j++)
			json_array_append_new(opts, json_string(v->argv[j]));
		json_object_set_new(jv, "name", json_string(v->name));
		json_object_set_new(jv, "options", opts);
		json_object_set_new(jv, "runs_ok", json_integer(v->ok));
		json_object_set_new(jv, "runs_failed", json_integer(v->failed));
		for (unsigned k = 0; k < v->nmetric; k++) {
			struct bench_metric *m = &v->metric[k];
			struct bench_stats st;
			json_t *jm = json_object();

			bench_summary(m->v, m->n, &st);
			json_object_set_new(jm, "median", json_real(st.median));
			json_object_set_new(jm, "p10", json_real(st.p10));
			json_object_set_new(jm, "p90", json_real(st.p90));
			json_object_set_new(jm, "runs", json_integer(st.n));
			json_object_set_new(metrics, m->name, jm);
			fprintf(csv, "%s,%s,%.1f,%.1f,%.1f,%u\n", v->name, m->name, st.median, st.p10, st.p90, st.n);
		}
		json_object_set_new(jv, "metrics", metrics);
		/* The figures the launch-speed goals are stated in: this variant's whole process against the floor. */
		if (floor_us > 0 || floor_pinned_us > 0) {
			const struct bench_metric *w = metric_find(v, "wall_us");
			struct bench_stats st = { 0 };

			if (w && w->n)
				bench_summary(w->v, w->n, &st);
			if (st.n && floor_us > 0)
				json_object_set_new(jv, "wall_vs_floor", json_real(st.median / floor_us));
			if (st.n && floor_pinned_us > 0)
				json_object_set_new(jv, "wall_vs_floor_pinned", json_real(st.median / floor_pinned_us));
		}
		json_array_append_new(vars, jv);
	}
	json_object_set_new(root, "variants", vars);
	if (fclose(csv) != 0)
		return err_errno(err, "cannot write %s", path);
	snprintf(path, sizeof(path), "%s/results.json", b->out);
	if (json_dump_file(root, path, JSON_INDENT(2) | JSON_SORT_KEYS) < 0) {
		json_decref(root);
		return err_set(err, "cannot write %s", path);
	}
	json_decref(root);
	return 0;
}

static const struct bench_metric *metric_find(const struct bench_variant *v, const char *name)
{
	for (unsigned i = 0; i < v->nmetric; i++)
		if (!strcmp(v->metric[i].name, name))
			return &v->metric[i];
	return NULL;
}

/*
 * The picture a person looks at first, drawn by gnuplot: for each launch
 * phase, and the whole process, the median milliseconds per variant with the
 * p10-p90 range as error bars. (The metrics were sorted by write_results.)
 */
/*
 * The I/O tests to draw: every NAME of an io.NAME.mbps metric of any variant, in order of first sight,
 * except round trips (NAME ending in -rtt), whose MB/s says nothing (their latency is in results.csv).
 * Returns how many (at most BENCH_MAX_IO_TESTS).
 */
#define BENCH_MAX_IO_TESTS 16
static unsigned io_plot_tests(const struct bench *b, char tests[][40])
{
	unsigned n = 0;

	for (unsigned i = 0; i < b->nvar; i++)
		for (unsigned k = 0; k < b->var[i].nmetric; k++) {
			const char *name = b->var[i].metric[k].name;
			size_t len = strlen(name);
			unsigned t;

			if (strncmp(name, "io.", 3) || len < 9 || len - 8 >= 40 || strcmp(name + len - 5, ".mbps") ||
			    (len - 8 >= 4 && !strncmp(name + len - 9, "-rtt", 4)))
				continue;
			for (t = 0; t < n; t++)
				if (strlen(tests[t]) == len - 8 && !strncmp(tests[t], name + 3, len - 8))
					break;
			if (t == n && n < BENCH_MAX_IO_TESTS)
				snprintf(tests[n++], 40, "%.*s", (int)(len - 8), name + 3);
		}
	return n;
}

/* Writes plot.dat (and io.dat) and plot.gp into the results directory; gnuplot then runs there (draw_plot). */
/* One row of a gnuplot data file: the label, then each variant's median, p10 and p90 of `metric` divided by
 * `scale` (NaN where a variant has none, which gnuplot leaves out). */
static void write_plot_row(FILE *f, const struct bench *b, const char *label, const char *metric, double scale)
{
	fprintf(f, "\"%s\"", label);
	for (unsigned i = 0; i < b->nvar; i++) {
		const struct bench_metric *m = metric_find(&b->var[i], metric);
		struct bench_stats st = { 0 };

		if (m && m->n)
			bench_summary(m->v, m->n, &st);
		if (st.n)
			fprintf(f, " %.3f %.3f %.3f", st.median / scale, st.p10 / scale, st.p90 / scale);
		else
			fprintf(f, " NaN NaN NaN");
	}
	fprintf(f, "\n");
}

static int write_plot(struct bench *b, struct cloak_err *err)
{
	char dat[4096], gp[4096], tests[BENCH_MAX_IO_TESTS][40];
	unsigned ntests;
	FILE *f;

	snprintf(dat, sizeof(dat), "%s/plot.dat", b->out);
	snprintf(gp, sizeof(gp), "%s/plot.gp", b->out);
	f = fopen(dat, "w");
	if (!f)
		return err_errno(err, "cannot write %s", dat);
	for (unsigned p = 0; p <= ARRAY_SIZE(drawn_phases); p++) {
		char name[64];

		snprintf(name, sizeof(name), p < ARRAY_SIZE(drawn_phases) ? "phase.%s" : "wall_us",
			 p < ARRAY_SIZE(drawn_phases) ? drawn_phases[p] : "");
		write_plot_row(f, b, p < ARRAY_SIZE(drawn_phases) ? drawn_phases[p] : "whole process", name, 1000);
	}
	fclose(f);
	/* With an I/O benchmark guest, io.dat: each test's MB/s per variant (io_plot_tests says which tests). */
	ntests = io_plot_tests(b, tests);
	if (ntests) {
		snprintf(dat, sizeof(dat), "%s/io.dat", b->out);
		f = fopen(dat, "w");
		if (!f)
			return err_errno(err, "cannot write %s", dat);
		for (unsigned t = 0; t < ntests; t++) {
			char name[64];

			snprintf(name, sizeof(name), "io.%.39s.mbps", tests[t]);
			write_plot_row(f, b, tests[t], name, 1);
		}
		fclose(f);
	}
	f = fopen(gp, "w");
	if (!f)
		return err_errno(err, "cannot write %s", gp);
	/* Names relative to the directory, so the results can be drawn again wherever they are copied. */
	fprintf(f, "set title \"cloak bench: median time from process start (ms), p10-p90 bars, %u runs\"\n",
		b->runs);
	fprintf(f, "set style data histograms\nset style histogram errorbars gap 2 lw 1\n"
		   "set style fill solid 0.6 border -1\nset boxwidth 0.9\nset xtics rotate by -30 nomirror\n"
		   "set ylabel \"ms\"\nset grid ytics\nset key top left\nset yrange [0:*]\n");
	for (unsigned t = 0; t < 2; t++) {
		fprintf(f, t == 0 ? "set terminal pngcairo size 1200,700\nset output \"results.png\"\n" :
				    "set terminal svg size 1200,700 dynamic\nset output \"results.svg\"\n");
		fprintf(f, "plot ");
		for (unsigned i = 0; i < b->nvar; i++)
			fprintf(f, "%s\"plot.dat\" using %u:%u:%u%s title \"%s\"", i ? ", " : "", 2 + 3 * i, 3 + 3 * i,
				4 + 3 * i, i ? "" : ":xtic(1)", b->var[i].name);
		fprintf(f, "\n");
	}
	if (ntests) {
		/* Disk and network figures lie orders of magnitude apart: a log scale shows both. */
		fprintf(f, "set title \"cloak bench: I/O benchmark guest, median MB/s, p10-p90 bars, %u runs\"\n"
			   "set ylabel \"MB/s\"\nset logscale y\nset yrange [*:*]\n", b->runs);
		for (unsigned t = 0; t < 2; t++) {
			fprintf(f, t == 0 ? "set terminal pngcairo size 1200,700\nset output \"io.png\"\n" :
					    "set terminal svg size 1200,700 dynamic\nset output \"io.svg\"\n");
			fprintf(f, "plot ");
			for (unsigned i = 0; i < b->nvar; i++)
				fprintf(f, "%s\"io.dat\" using %u:%u:%u%s title \"%s\"", i ? ", " : "", 2 + 3 * i,
					3 + 3 * i, 4 + 3 * i, i ? "" : ":xtic(1)", b->var[i].name);
			fprintf(f, "\n");
		}
	}
	fclose(f);
	return 0;
}

/*
 * The picture a person looks at first, drawn by gnuplot from plot.gp in DIR:
 * for each launch phase and the whole process, the median milliseconds per
 * variant with the p10-p90 range as error bars. Returns 1 when gnuplot is not
 * installed (the figures are written all the same).
 */
static int draw_plot(const char *dir, struct cloak_err *err)
{
	char log[4096];
	char *argv[] = { "gnuplot", "plot.gp", NULL };
	uint64_t wall;
	int status;

	snprintf(log, sizeof(log), "%s/plot.log", dir);
	errno = 0;
	status = spawn_wait(argv, dir, log, &wall);
	if (status == -1 && errno == ENOENT)
		return 1;
	if (status == -1)
		return err_errno(err, "cannot run gnuplot in %s (posix_spawnp)", dir);
	if (!WIFEXITED(status) || WEXITSTATUS(status) == 127)
		return WIFEXITED(status) ? 1 : err_set(err, "gnuplot could not draw the results; see %s", log);
	if (WEXITSTATUS(status) != 0)
		return err_set(err, "gnuplot could not draw the results; see %s", log);
	return 0;
}

static int make_dir(const char *path, struct cloak_err *err)
{
	struct stat st;

	if (mkdir(path, 0755) == 0 || (errno == EEXIST && stat(path, &st) == 0 && S_ISDIR(st.st_mode)))
		return 0;
	return err_errno(err, "--out: cannot create the directory %s", path);
}

int bench_main(int argc, char **argv)
{
	static struct bench b;
	struct cloak_err err = { "" };
	char runs[4096];
	unsigned failed = 0;
	double floor_us, floor_pinned_us;
	int rc;

	rc = bench_parse(argc, argv, &b, &err);
	if (rc == 1) {
		bench_usage(stdout);
		return 0;
	}
	if (rc < 0) {
		fprintf(stderr, "cloak bench: %s\n", err.msg);
		return 2;
	}
	if (b.draw) {
		char gp[4096];

		snprintf(gp, sizeof(gp), "%s/plot.gp", b.draw);
		if (access(gp, R_OK) != 0) {
			fprintf(stderr, "cloak bench: --draw: %s has no readable plot.gp (%s); give the --out directory "
					"of an earlier cloak bench\n", b.draw, strerror(errno));
			return 2;
		}
		rc = draw_plot(b.draw, &err);
		if (rc == 0)
			printf("results: %s/results.png, results.svg\n", b.draw);
		else
			fprintf(stderr, "cloak bench: %s\n", rc == 1 ? "--draw needs gnuplot (Debian: gnuplot-nox)" : err.msg);
		return rc == 0 ? 0 : 2;
	}
	b.self = "/proc/self/exe";
	snprintf(runs, sizeof(runs), "%s/runs", b.out);
	if (make_dir(b.out, &err) < 0 || make_dir(runs, &err) < 0) {
		fprintf(stderr, "cloak bench: %s\n", err.msg);
		return 2;
	}
	fprintf(stderr, "cloak bench: %u runs of %u variants into %s\n", b.runs, b.nvar, b.out);
	for (unsigned r = 1; r <= b.runs; r++)
		for (unsigned i = 0; i < b.nvar; i++)
			if (run_one(&b, &b.var[i], r, &err) < 0) {
				fprintf(stderr, "cloak bench: %s\n", err.msg);
				return 2;
			}
	for (unsigned i = 0; i < b.nvar; i++) {
		failed += b.var[i].failed;
		if (b.var[i].failed)
			fprintf(stderr, "cloak bench: %u of %u runs of %s failed; their output is in %s/%s-*.log\n",
				b.var[i].failed, b.runs, b.var[i].name, runs, b.var[i].name);
	}
	if (write_results(&b, &err) < 0) {
		fprintf(stderr, "cloak bench: %s\n", err.msg);
		return 2;
	}
	if (failed == b.runs * b.nvar) {
		/* Nothing to draw: say why the first launch failed, in its own words. */
		char log[4096 + 64], line[512] = "";
		FILE *f;

		snprintf(log, sizeof(log), "%s/%s-001.log", runs, b.var[0].name);
		f = fopen(log, "r");
		while (f && fgets(line, sizeof(line), f))
			if (strstr(line, "cloak:"))
				break;
		if (f)
			fclose(f);
		fprintf(stderr, "cloak bench: no launch succeeded, so nothing is drawn; the first said: %s", line);
		return 1;
	}
	if (write_plot(&b, &err) < 0 || (rc = draw_plot(b.out, &err)) < 0) {
		fprintf(stderr, "cloak bench: %s\n", err.msg);
		return 2;
	}
	floor_us = kind_wall_median(&b, VARIANT_FLOOR);
	floor_pinned_us = kind_wall_median(&b, VARIANT_FLOOR_PINNED);
	if (rc == 1)
		fprintf(stderr, "cloak bench: gnuplot is not installed here, so nothing is drawn; draw later with "
				"`cloak bench --draw %s` where it is (Debian: gnuplot-nox)\n", b.out);
	for (unsigned i = 0; i < b.nvar; i++) {
		const struct bench_metric *w = metric_find(&b.var[i], "wall_us");
		const struct bench_metric *g = metric_find(&b.var[i], "phase.guest_exit");
		struct bench_stats ws = { 0 }, gs = { 0 };

		if (w)
			bench_summary(w->v, w->n, &ws);
		if (g)
			bench_summary(g->v, g->n, &gs);
		printf("%-20s wall %8.1f ms (p10 %.1f, p90 %.1f)   guest exit %8.1f ms   %u/%u runs", b.var[i].name,
		       ws.median / 1000, ws.p10 / 1000, ws.p90 / 1000, gs.median / 1000, b.var[i].ok, b.runs);
		if (floor_us > 0 && ws.n)
			printf("   x%.2f floor", ws.median / floor_us);
		if (floor_pinned_us > 0 && ws.n)
			printf("   x%.2f floor-pinned", ws.median / floor_pinned_us);
		printf("\n");
	}
	/* What the I/O benchmark guest measured, per variant: throughput and median latency per test. */
	for (unsigned i = 0; i < b.nvar; i++)
		for (unsigned k = 0; k < b.var[i].nmetric; k++) {
			const struct bench_metric *m = &b.var[i].metric[k], *lat;
			char test[40], name[96];
			struct bench_stats ms = { 0 }, ls = { 0 };
			size_t len = strlen(m->name);

			if (strncmp(m->name, "io.", 3) || len < 8 || strcmp(m->name + len - 5, ".mbps"))
				continue;
			snprintf(test, sizeof(test), "%.*s", (int)(len - 8), m->name + 3);
			snprintf(name, sizeof(name), "io.%s.p50_ns", test);
			lat = metric_find(&b.var[i], name);
			bench_summary(m->v, m->n, &ms);
			if (lat)
				bench_summary(lat->v, lat->n, &ls);
			printf("%-20s %-16s %10.2f MB/s", b.var[i].name, test, ms.median);
			if (lat)
				printf("   p50 latency %10.1f us", ls.median / 1000);
			printf("\n");
		}
	{
		char tests[BENCH_MAX_IO_TESTS][40];
		bool io = io_plot_tests(&b, tests) > 0;

		printf("results: %s/results.json, results.csv%s%s\n", b.out, rc == 1 ? "" : ", results.png, results.svg",
		       rc != 1 && io ? ", io.png, io.svg" : "");
	}
	return failed ? 1 : 0;
}
